package net.alknet.config;

/**
 * A repository-name glob of {@code git_access} ({@code *} within a segment, {@code **} across
 * segments, {@code **}{@code /} zero or more whole segments, {@code ?} one character other than
 * {@code /}), matched in linear time: the pattern's positions are simulated as a set of states over
 * the name, one step a character, so no pattern a rule writes can make a name a peer sends cost
 * more than (pattern length × name length) steps. (As a regex, {@code *a*a*a*a*b} against a long
 * run of {@code a} backtracks exponentially.)
 */
final class Glob {

  private static final byte LITERAL = 0;
  private static final byte ONE = 1; // ?
  private static final byte STAR = 2; // *
  private static final byte ANY = 3; // ** not followed by /
  private static final byte SEGMENTS = 4; // **/

  private final byte[] kinds;
  private final char[] literals;

  private Glob(byte[] kinds, char[] literals) {
    this.kinds = kinds;
    this.literals = literals;
  }

  /** Compiles a glob (already syntax-checked); a {@code .git} suffix is not part of it. */
  static Glob compile(String pattern) {
    String g = pattern.endsWith(".git") ? pattern.substring(0, pattern.length() - 4) : pattern;
    byte[] kinds = new byte[g.length()];
    char[] literals = new char[g.length()];
    int n = 0;
    for (int i = 0; i < g.length(); i++) {
      char c = g.charAt(i);
      if (c == '*') {
        if (i + 1 < g.length() && g.charAt(i + 1) == '*') {
          i++;
          if (i + 1 < g.length() && g.charAt(i + 1) == '/') {
            i++;
            kinds[n++] = SEGMENTS;
          } else {
            kinds[n++] = ANY;
          }
        } else {
          kinds[n++] = STAR;
        }
      } else if (c == '?') {
        kinds[n++] = ONE;
      } else {
        kinds[n] = LITERAL;
        literals[n++] = c;
      }
    }
    return new Glob(java.util.Arrays.copyOf(kinds, n), java.util.Arrays.copyOf(literals, n));
  }

  /**
   * Whether the whole of {@code name} matches. States: {@code 2i} is "at token i"; {@code 2i+1} is
   * "inside the {@code **}{@code /} at token i, past at least one character" (which may end only
   * after a {@code /}); {@code 2m} accepts.
   */
  boolean matches(String name) {
    int m = kinds.length;
    boolean[] now = new boolean[2 * m + 2];
    boolean[] next = new boolean[2 * m + 2];
    enter(now, 0);
    for (int p = 0; p < name.length(); p++) {
      char c = name.charAt(p);
      java.util.Arrays.fill(next, false);
      boolean any = false;
      for (int s = 0; s < 2 * m; s++) {
        if (!now[s]) {
          continue;
        }
        int i = s >> 1;
        switch (kinds[i]) {
          case LITERAL -> {
            if (c == literals[i]) {
              any |= enter(next, 2 * (i + 1));
            }
          }
          case ONE -> {
            if (c != '/') {
              any |= enter(next, 2 * (i + 1));
            }
          }
          case STAR -> {
            if (c != '/') {
              any |= enter(next, 2 * i);
            }
          }
          case ANY -> any |= enter(next, 2 * i);
          default -> { // SEGMENTS, at its start or inside
            any |= enter(next, 2 * i + 1);
            if (c == '/') {
              any |= enter(next, 2 * (i + 1));
            }
          }
        }
      }
      if (!any) {
        return false;
      }
      boolean[] t = now;
      now = next;
      next = t;
    }
    return now[2 * m];
  }

  /** Marks state {@code s} and what it reaches without a character; true. */
  private boolean enter(boolean[] set, int s) {
    while (!set[s]) {
      set[s] = true;
      int i = s >> 1;
      boolean even = (s & 1) == 0;
      if (!even || i >= kinds.length) {
        break;
      }
      byte k = kinds[i];
      if (k != STAR && k != ANY && k != SEGMENTS) {
        break;
      }
      s = 2 * (i + 1); // each of these may match nothing
    }
    return true;
  }
}

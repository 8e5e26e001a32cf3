package net.alknet.git;

import java.util.regex.Pattern;

/**
 * A validated repository name (GIT-2): one or more segments of {@code [A-Za-z0-9._-]} joined by
 * {@code /}, kept without a trailing {@code .git}. The repository lives in {@code
 * <data-dir>/git/<name>.git}.
 *
 * <p>Refused, each with its own message: control characters, backslashes, absolute paths (after the
 * one leading {@code /} a URL path carries), empty segments ({@code a//b}, trailing {@code /}),
 * segments starting with {@code .} (so {@code ..}, {@code .} and hidden names), inner segments
 * ending in {@code .git} (a repository inside another's directory), any other character, more than
 * {@value #MAX_LENGTH} characters or {@value #MAX_DEPTH} segments.
 */
public final class RepoName {

  public static final int MAX_LENGTH = 200;
  public static final int MAX_DEPTH = 8;
  private static final String SUFFIX = ".git";
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

  private final String name;

  private RepoName(String name) {
    this.name = name;
  }

  /** The canonical name, e.g. {@code team/app}. */
  public String name() {
    return name;
  }

  /** The directory name relative to the git root: {@code <name>.git}. */
  public String dirName() {
    return name + SUFFIX;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RepoName r && r.name.equals(name);
  }

  @Override
  public int hashCode() {
    return name.hashCode();
  }

  @Override
  public String toString() {
    return name;
  }

  /**
   * Validates a name as a peer sent it ({@code /team/app.git}, {@code team/app}, ...).
   *
   * @throws GitRequestException of kind {@link GitRequestException.Kind#BAD_NAME} with a message
   *     for the peer
   */
  public static RepoName parse(String raw) throws GitRequestException {
    if (raw == null || raw.isEmpty()) {
      throw bad("empty repository name");
    }
    if (raw.length() > MAX_LENGTH + 1 + SUFFIX.length()) {
      throw bad("repository name too long (max " + MAX_LENGTH + " characters)");
    }
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw bad("repository name contains a control character");
      }
      if (c == '\\') {
        throw bad("repository name contains a backslash");
      }
    }
    String s = raw.startsWith("/") ? raw.substring(1) : raw;
    if (s.startsWith("/") || s.startsWith("~") || (s.length() > 1 && s.charAt(1) == ':')) {
      throw bad("absolute paths are not allowed as repository names");
    }
    if (s.isEmpty()) {
      throw bad("empty repository name");
    }
    String[] segments = s.split("/", -1);
    if (segments.length > MAX_DEPTH) {
      throw bad("repository name has more than " + MAX_DEPTH + " segments");
    }
    for (int i = 0; i < segments.length; i++) {
      String seg = segments[i];
      boolean last = i == segments.length - 1;
      if (seg.equals("..") || seg.equals(".")) {
        throw bad("'" + seg + "' is not allowed in repository names");
      }
      if (seg.isEmpty()) {
        throw bad("empty segment in repository name");
      }
      if (seg.startsWith(".")) {
        throw bad("repository name segments must not start with '.'");
      }
      if (!SEGMENT.matcher(seg).matches()) {
        throw bad("repository names may contain only letters, digits, '.', '_', '-' and '/'");
      }
      if (!last && seg.endsWith(SUFFIX)) {
        throw bad("only the last segment of a repository name may end in .git");
      }
    }
    String name = s.endsWith(SUFFIX) ? s.substring(0, s.length() - SUFFIX.length()) : s;
    if (name.isEmpty() || name.endsWith("/")) {
      throw bad("empty repository name");
    }
    if (name.length() > MAX_LENGTH) {
      throw bad("repository name too long (max " + MAX_LENGTH + " characters)");
    }
    return new RepoName(name);
  }

  private static GitRequestException bad(String m) {
    return new GitRequestException(GitRequestException.Kind.BAD_NAME, m);
  }
}

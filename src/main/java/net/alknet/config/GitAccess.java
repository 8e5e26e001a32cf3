package net.alknet.config;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import net.alknet.auth.ConfigFormatException;
import net.alknet.auth.Scopes;

/**
 * The {@code git_access} dynamic-config file: which scopes may read, write and create which git
 * repositories, and per-repository push settings (GIT-2, GIT-4, AUTH-5). Part of the {@link
 * DynamicConfig} snapshot. See {@code docs/git.md} for the user-facing description.
 *
 * <pre>
 * # pattern  [option ...]          first matching line wins
 * team/*     read=git:read:team write=git:write:team create=git:create:team
 * releases   deny-non-fast-forward deny-deletes require-signed-push
 * **
 * </pre>
 *
 * <ul>
 *   <li>A pattern is a glob over the repository name without {@code .git}: {@code *} matches any
 *       characters except {@code /}, {@code **} matches anything including {@code /}, {@code ?}
 *       matches one character other than {@code /}.
 *   <li>{@code read=}, {@code write=}, {@code create=} take a comma-separated scope list; an
 *       identity needs any one of them ({@link Scopes#grants}, so {@code git:read} also grants
 *       {@code git:read:team}). An empty list ({@code write=}) grants nobody. Omitted, they default
 *       to {@code git:read}, {@code git:write}, {@code git:create}.
 *   <li>Flags: {@code deny-non-fast-forward}, {@code deny-deletes}, {@code require-signed-push}.
 *   <li>A file with no rules (missing, empty, only comments) means one implicit rule {@code **}
 *       with the defaults: the plain scopes work for every repository. Once there is a rule, a
 *       repository no rule matches is denied to everybody (deny by default).
 * </ul>
 *
 * <p>Limits: {@value #MAX_FILE} characters, {@value #MAX_LINE} characters per line, {@value
 * #MAX_RULES} rules. Immutable and thread-safe.
 */
public final class GitAccess {

  /** File name in the dynamic-config directory. */
  public static final String FILE = "git_access";

  public static final int MAX_FILE = 1024 * 1024;
  public static final int MAX_LINE = 4096;
  public static final int MAX_RULES = 10_000;
  static final int MAX_PATTERN = 256;

  private static final Pattern PATTERN_SYNTAX = Pattern.compile("[A-Za-z0-9._/*?-]+");

  /** The scopes every rule falls back to. */
  public static final Set<String> DEFAULT_READ = Set.of(Scopes.GIT_READ);

  public static final Set<String> DEFAULT_WRITE = Set.of(Scopes.GIT_WRITE);
  public static final Set<String> DEFAULT_CREATE = Set.of(Scopes.GIT_CREATE);

  /**
   * One line of the file.
   *
   * @param pattern the glob as written
   * @param read scopes of which one is needed to clone/fetch
   * @param write scopes of which one is needed to push to an existing repository
   * @param create scopes of which one is needed to create the repository by pushing to it
   * @param denyNonFastForward refuse ref updates that are not fast-forwards (force pushes)
   * @param denyDeletes refuse ref deletions
   * @param requireSignedPush refuse pushes without a valid push certificate from the pusher's key
   * @param line the 1-based line number (0 for the implicit default rule)
   */
  public record Rule(
      String pattern,
      Set<String> read,
      Set<String> write,
      Set<String> create,
      boolean denyNonFastForward,
      boolean denyDeletes,
      boolean requireSignedPush,
      int line) {

    public Rule {
      read = Set.copyOf(read);
      write = Set.copyOf(write);
      create = Set.copyOf(create);
    }

    /** Whether {@code held} grants one of {@code anyOf}. */
    public static boolean allows(Set<String> held, Set<String> anyOf) {
      for (String s : anyOf) {
        if (Scopes.grants(held, s)) {
          return true;
        }
      }
      return false;
    }
  }

  private record Compiled(Rule rule, Glob glob) {}

  /** No file: the plain scopes for every repository. */
  public static final GitAccess DEFAULT = new GitAccess(List.of());

  private static final Rule IMPLICIT =
      new Rule("**", DEFAULT_READ, DEFAULT_WRITE, DEFAULT_CREATE, false, false, false, 0);

  private final List<Compiled> rules;

  private GitAccess(List<Compiled> rules) {
    this.rules = List.copyOf(rules);
  }

  /** The rules as written (empty when the file has none). */
  public List<Rule> rules() {
    return rules.stream().map(Compiled::rule).toList();
  }

  /**
   * The rule for a repository: the first matching line; with no rules at all, the implicit default
   * rule; empty when there are rules and none matches (deny).
   *
   * @param name a validated repository name without {@code .git}
   */
  public Optional<Rule> ruleFor(String name) {
    if (rules.isEmpty()) {
      return Optional.of(IMPLICIT);
    }
    for (Compiled c : rules) {
      if (c.glob().matches(name)) {
        return Optional.of(c.rule());
      }
    }
    return Optional.empty();
  }

  /**
   * Parses the file.
   *
   * @throws ConfigFormatException for the first bad line, e.g. {@code git_access:3: unknown option
   *     'foo'}
   */
  public static GitAccess parse(String content) throws ConfigFormatException {
    if (content.length() > MAX_FILE) {
      throw new ConfigFormatException(FILE, 0, "file too large (max " + MAX_FILE + " characters)");
    }
    List<Compiled> out = new ArrayList<>();
    int lineNo = 0;
    for (String line : (Iterable<String>) content.lines()::iterator) {
      lineNo++;
      if (line.length() > MAX_LINE) {
        throw new ConfigFormatException(
            FILE, lineNo, "line too long (" + line.length() + " characters, max " + MAX_LINE + ")");
      }
      String s = line.strip();
      int hash = s.indexOf('#');
      if (hash >= 0) {
        s = s.substring(0, hash).strip();
      }
      if (s.isEmpty()) {
        continue;
      }
      if (out.size() == MAX_RULES) {
        throw new ConfigFormatException(FILE, lineNo, "too many rules (max " + MAX_RULES + ")");
      }
      try {
        Rule r = parseLine(s, lineNo);
        out.add(new Compiled(r, Glob.compile(r.pattern())));
      } catch (IllegalArgumentException e) {
        throw new ConfigFormatException(FILE, lineNo, e.getMessage());
      }
    }
    return new GitAccess(out);
  }

  private static Rule parseLine(String s, int lineNo) {
    String[] fields = s.split("[ \t]+");
    String pattern = fields[0];
    checkPattern(pattern);
    Set<String> read = DEFAULT_READ;
    Set<String> write = DEFAULT_WRITE;
    Set<String> create = DEFAULT_CREATE;
    boolean denyNff = false;
    boolean denyDeletes = false;
    boolean signed = false;
    Set<String> seen = new LinkedHashSet<>();
    for (int i = 1; i < fields.length; i++) {
      String f = fields[i];
      int eq = f.indexOf('=');
      String name = eq < 0 ? f : f.substring(0, eq);
      if (!seen.add(name)) {
        throw new IllegalArgumentException("option '" + shorten(name) + "' given twice");
      }
      switch (name) {
        case "read" -> read = scopes(f, eq);
        case "write" -> write = scopes(f, eq);
        case "create" -> create = scopes(f, eq);
        case "deny-non-fast-forward" -> denyNff = flag(f, eq);
        case "deny-deletes" -> denyDeletes = flag(f, eq);
        case "require-signed-push" -> signed = flag(f, eq);
        default -> throw new IllegalArgumentException("unknown option '" + shorten(name) + "'");
      }
    }
    return new Rule(pattern, read, write, create, denyNff, denyDeletes, signed, lineNo);
  }

  private static Set<String> scopes(String f, int eq) {
    if (eq < 0) {
      throw new IllegalArgumentException(
          "option '" + f + "' needs a scope list, e.g. " + f + "=git:read");
    }
    return Scopes.parseList(f.substring(eq + 1));
  }

  private static boolean flag(String f, int eq) {
    if (eq >= 0) {
      throw new IllegalArgumentException(
          "option '" + shorten(f.substring(0, eq)) + "' takes no value");
    }
    return true;
  }

  private static void checkPattern(String p) {
    if (p.length() > MAX_PATTERN) {
      throw new IllegalArgumentException("pattern too long (max " + MAX_PATTERN + " characters)");
    }
    if (p.contains("=")) {
      throw new IllegalArgumentException("a line starts with a repository pattern, not an option");
    }
    if (!PATTERN_SYNTAX.matcher(p).matches()) {
      throw new IllegalArgumentException(
          "bad pattern '" + shorten(p) + "' (allowed: letters, digits, . _ - / * ?)");
    }
    if (p.startsWith("/") || p.endsWith("/") || p.contains("//")) {
      throw new IllegalArgumentException(
          "bad pattern '" + shorten(p) + "' (no leading, trailing or double '/')");
    }
    for (String seg : p.split("/")) {
      if (seg.equals("..") || seg.equals(".")) {
        throw new IllegalArgumentException("bad pattern '" + shorten(p) + "' ('" + seg + "')");
      }
    }
    if (p.contains("***")) {
      throw new IllegalArgumentException("bad pattern '" + shorten(p) + "' ('***')");
    }
  }

  private static String shorten(String s) {
    String t = s.length() <= 40 ? s : s.substring(0, 40) + "...";
    StringBuilder b = new StringBuilder(t.length());
    t.codePoints().forEach(c -> b.appendCodePoint(c < 0x20 || c == 0x7f ? '?' : c));
    return b.toString();
  }
}

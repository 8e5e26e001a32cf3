package net.alknet.ssh;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import net.alknet.auth.ConfigFormatException;
import net.alknet.auth.Identity;

/**
 * The forwarding rules of SSH-2: which identities (by scope) may have the node connect where
 * ({@code ssh -L}) and listen where ({@code ssh -R}), for TCP ports and Unix sockets. Rules only
 * allow; what no rule allows is denied. Immutable and thread-safe.
 *
 * <p>The dynamic-config file {@code forwarding} holds one rule a line:
 *
 * <pre>
 * # KIND        PATTERN[,PATTERN...]            scopes=SCOPE[,SCOPE...]
 * connect       db.internal:5432,[::1]:8000-8099 scopes=team-db
 * listen        8000-8099                       scopes=ssh:forward
 * connect-unix  /run/app/*.sock                 scopes=ssh:forward
 * listen-unix   /tmp/alknet-*.sock              scopes=ops
 * </pre>
 *
 * An identity is allowed if it holds one of a matching rule's scopes ({@link Identity#hasScope}, so
 * {@code ssh} grants {@code ssh:forward} and {@code *} grants all). The static settings {@code
 * alknet.ssh.forward.*} are rules for scope {@code ssh:forward} ({@link #fromSettings}).
 */
public final class ForwardingRules {

  /** The dynamic-config file name. */
  public static final String FILE = "forwarding";

  /** Largest accepted file, in characters. */
  public static final int MAX_FILE = 1 << 20;

  /** Longest Unix socket path (Linux {@code sun_path} holds 108 bytes with the terminator). */
  static final int MAX_SOCKET_PATH = 107;

  private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "::1");

  /** No rules: everything is denied. */
  public static final ForwardingRules NONE = new ForwardingRules(List.of());

  /** What a rule allows. */
  enum Kind {
    CONNECT("connect"),
    LISTEN("listen"),
    CONNECT_UNIX("connect-unix"),
    LISTEN_UNIX("listen-unix");

    final String word;

    Kind(String word) {
      this.word = word;
    }

    static Kind of(String word) {
      for (Kind k : values()) {
        if (k.word.equals(word)) {
          return k;
        }
      }
      return null;
    }
  }

  /** One rule: a kind, its patterns and the scopes that may use it. */
  record Rule(Kind kind, List<Object> patterns, List<String> scopes, String source) {
    boolean appliesTo(Identity who) {
      for (String s : scopes) {
        if (who.hasScope(s)) {
          return true;
        }
      }
      return false;
    }
  }

  private final List<Rule> rules;

  private ForwardingRules(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** The number of rules. */
  public int size() {
    return rules.size();
  }

  /** These rules and then {@code more}. */
  public ForwardingRules plus(ForwardingRules more) {
    if (more.rules.isEmpty()) {
      return this;
    }
    if (rules.isEmpty()) {
      return more;
    }
    List<Rule> all = new ArrayList<>(rules);
    all.addAll(more.rules);
    return new ForwardingRules(all);
  }

  /**
   * The rules the static settings stand for, all for scope {@code ssh:forward}.
   *
   * @param destinations {@code host:port} patterns for {@code ssh -L}; {@code none} or empty for
   *     none
   * @param remotePorts port patterns for {@code ssh -R} on loopback; {@code none} or empty for none
   * @throws IllegalArgumentException naming the first bad entry
   */
  public static ForwardingRules fromSettings(List<String> destinations, List<String> remotePorts) {
    List<Rule> rules = new ArrayList<>();
    List<String> scope = List.of(net.alknet.auth.Scopes.SSH_FORWARD);
    List<Object> d = new ArrayList<>();
    for (String s : destinations) {
      if (!isNone(s)) {
        d.add(HostPortPattern.parse(s));
      }
    }
    if (!d.isEmpty()) {
      rules.add(new Rule(Kind.CONNECT, d, scope, "alknet.ssh.forward.allow-destinations"));
    }
    List<Object> r = new ArrayList<>();
    for (String s : remotePorts) {
      if (!isNone(s)) {
        r.add(new ListenPattern(ListenPattern.LOOPBACK, PortRange.parse(s)));
      }
    }
    if (!r.isEmpty()) {
      rules.add(new Rule(Kind.LISTEN, r, scope, "alknet.ssh.forward.allow-remote-ports"));
    }
    return new ForwardingRules(rules);
  }

  private static boolean isNone(String s) {
    return s.isBlank() || s.strip().equalsIgnoreCase("none");
  }

  /**
   * Parses the {@code forwarding} file.
   *
   * @throws ConfigFormatException naming the first bad line
   */
  public static ForwardingRules parse(String text) throws ConfigFormatException {
    if (text.length() > MAX_FILE) {
      throw new ConfigFormatException(FILE, 0, "file too large (max " + MAX_FILE + " characters)");
    }
    List<Rule> rules = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      try {
        rules.add(parseLine(line, FILE + ":" + (i + 1)));
      } catch (IllegalArgumentException e) {
        throw new ConfigFormatException(FILE, i + 1, e.getMessage());
      }
    }
    return new ForwardingRules(rules);
  }

  private static Rule parseLine(String line, String source) {
    String[] words = line.split("\\s+");
    if (words.length != 3) {
      throw new IllegalArgumentException(
          "expected: KIND PATTERN[,PATTERN...] scopes=SCOPE[,SCOPE...]");
    }
    Kind kind = Kind.of(words[0]);
    if (kind == null) {
      throw new IllegalArgumentException(
          "unknown kind '"
              + SshDenials.sanitize(words[0])
              + "' (connect, listen, connect-unix, listen-unix)");
    }
    if (!words[2].startsWith("scopes=") || words[2].length() == "scopes=".length()) {
      throw new IllegalArgumentException("the third field must be scopes=SCOPE[,SCOPE...]");
    }
    List<String> scopes = new ArrayList<>();
    for (String s : words[2].substring("scopes=".length()).split(",", -1)) {
      if (s.isEmpty() || s.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
        throw new IllegalArgumentException("empty or invalid scope in " + words[2]);
      }
      scopes.add(s);
    }
    List<Object> patterns = new ArrayList<>();
    for (String p : words[1].split(",", -1)) {
      if (p.isEmpty()) {
        throw new IllegalArgumentException("empty pattern in '" + words[1] + "'");
      }
      patterns.add(
          switch (kind) {
            case CONNECT -> HostPortPattern.parse(p);
            case LISTEN -> ListenPattern.parse(p);
            case CONNECT_UNIX, LISTEN_UNIX -> SocketPattern.parse(p);
          });
    }
    return new Rule(kind, patterns, scopes, source);
  }

  // ---- decisions ----

  ForwardingPolicy.Decision connect(Identity who, String host, int port) {
    return decide(
        Kind.CONNECT, who, "connect to " + host + ":" + port, p -> matchesHost(p, host, port));
  }

  ForwardingPolicy.Decision listen(Identity who, String bindHost, int port) {
    return decide(
        Kind.LISTEN,
        who,
        "listen on " + bindHost + ":" + port,
        p -> ((ListenPattern) p).matches(bindHost, port));
  }

  ForwardingPolicy.Decision connectUnix(Identity who, String path) {
    return decideSocket(Kind.CONNECT_UNIX, who, "connect to ", path);
  }

  ForwardingPolicy.Decision listenUnix(Identity who, String path) {
    return decideSocket(Kind.LISTEN_UNIX, who, "listen on ", path);
  }

  private ForwardingPolicy.Decision decideSocket(
      Kind kind, Identity who, String verb, String path) {
    String bad = SocketPattern.problem(path);
    if (bad != null) {
      return ForwardingPolicy.Decision.deny("socket path " + bad);
    }
    return decide(kind, who, verb + path, p -> ((SocketPattern) p).matches(path));
  }

  private static boolean matchesHost(Object p, String host, int port) {
    return ((HostPortPattern) p).matches(host, port);
  }

  private ForwardingPolicy.Decision decide(
      Kind kind, Identity who, String what, java.util.function.Predicate<Object> match) {
    boolean scoped = false;
    java.util.Set<String> ruleScopes = new java.util.TreeSet<>();
    for (Rule r : rules) {
      if (r.kind() != kind) {
        continue;
      }
      ruleScopes.addAll(r.scopes());
      if (!r.appliesTo(who)) {
        continue;
      }
      scoped = true;
      for (Object p : r.patterns()) {
        if (match.test(p)) {
          return ForwardingPolicy.Decision.allow();
        }
      }
    }
    if (scoped) {
      return ForwardingPolicy.Decision.deny(
          "no " + kind.word + " rule for the identity's scopes matches (" + what + ")");
    }
    return ForwardingPolicy.Decision.deny(
        ruleScopes.isEmpty()
            ? "no " + kind.word + " rules are configured"
            : kind.word + " needs one of the scopes " + ruleScopes + " (" + what + ")");
  }

  @Override
  public String toString() {
    if (rules.isEmpty()) {
      return "no forwarding rules";
    }
    StringBuilder b = new StringBuilder();
    for (Rule r : rules) {
      if (b.length() > 0) {
        b.append("; ");
      }
      b.append(r.kind().word).append(' ').append(r.patterns()).append(" for ").append(r.scopes());
    }
    return b.toString();
  }

  // ---- patterns ----

  /**
   * Where {@code ssh -R} may listen: a port range on loopback ({@code 8000-8099}), or on an
   * explicit bind address ({@code 10.0.0.5:8080}, {@code [::]:80}), or on any address ({@code
   * *:8080}, which includes all interfaces).
   */
  record ListenPattern(String host, PortRange ports) {
    static final String LOOPBACK = "loopback";

    static ListenPattern parse(String s) {
      int colon = s.lastIndexOf(':');
      if (colon < 0) {
        return new ListenPattern(LOOPBACK, PortRange.parse(s));
      }
      HostPortPattern hp = HostPortPattern.parse(s);
      return new ListenPattern(hp.host(), hp.ports());
    }

    boolean matches(String bindHost, int port) {
      if (port == 0 ? !ports.equals(PortRange.ANY) : !ports.contains(port)) {
        return false;
      }
      String h = bindHost == null ? "" : bindHost.toLowerCase(Locale.ROOT);
      if (host.equals("*")) {
        return true;
      }
      if (host.equals(LOOPBACK)) {
        return LOOPBACK_NAMES.contains(h);
      }
      return host.equals(h);
    }

    private static final Set<String> LOOPBACK_NAMES = ForwardingRules.LOOPBACK;

    @Override
    public String toString() {
      return host.equals(LOOPBACK) ? ports.toString() : new HostPortPattern(host, ports).toString();
    }
  }

  /**
   * A Unix socket path pattern: absolute, a glob where {@code *} and {@code ?} stay within one path
   * segment ({@code /run/app/*.sock}).
   */
  record SocketPattern(String glob, PathMatcher matcher) {

    static SocketPattern parse(String s) {
      String bad = problem(s.replace('*', 'x').replace('?', 'x'));
      if (bad != null) {
        throw new IllegalArgumentException("bad socket pattern '" + s + "': " + bad);
      }
      if (s.contains("**") || s.contains("[") || s.contains("{") || s.contains("\\")) {
        throw new IllegalArgumentException(
            "bad socket pattern '" + s + "': only * and ? are wildcards");
      }
      return new SocketPattern(s, FileSystems.getDefault().getPathMatcher("glob:" + s));
    }

    boolean matches(String path) {
      return matcher.matches(Path.of(path));
    }

    /** Why {@code path} is not an acceptable socket path, or null if it is. */
    static String problem(String path) {
      if (path == null || path.isEmpty()) {
        return "is empty";
      }
      if (path.length() > MAX_SOCKET_PATH) {
        return "is longer than " + MAX_SOCKET_PATH + " characters";
      }
      if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        return "contains control characters";
      }
      if (!path.startsWith("/")) {
        return "is not absolute";
      }
      for (String seg : path.substring(1).split("/", -1)) {
        if (seg.isEmpty() || seg.equals(".") || seg.equals("..")) {
          return "is not normalized (empty, . or .. segment)";
        }
      }
      try {
        Path.of(path);
      } catch (java.nio.file.InvalidPathException e) {
        // e.g. non-ASCII under a node started with LANG=C: the JVM cannot name such a file.
        return "cannot be a file name on this node (" + e.getReason() + ")";
      }
      return null;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof SocketPattern p && p.glob.equals(glob);
    }

    @Override
    public int hashCode() {
      return Objects.hash(glob);
    }

    @Override
    public String toString() {
      return glob;
    }
  }
}

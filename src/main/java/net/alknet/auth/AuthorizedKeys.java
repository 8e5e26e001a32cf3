package net.alknet.auth;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The {@code authorized_keys} file, OpenSSH format.
 *
 * <pre>
 * # comment
 * [options] ssh-ed25519 AAAA... [comment]
 * </pre>
 *
 * <ul>
 *   <li>Blank lines and lines starting with {@code #} are ignored.
 *   <li>Options: comma-separated {@code name} or {@code name="value"} (values may contain commas,
 *       spaces and {@code \"}). alknet reads {@code scopes="a,b"}; every other option ({@code
 *       no-pty}, {@code from="..."}, ...) is accepted and ignored (not kept by {@link #format}).
 *   <li>No {@code scopes} option means no scopes (deny by default); {@code scopes="*"} means all.
 *   <li>Only {@code ssh-ed25519} keys are accepted; other types are an error naming the line.
 *   <li>A key listed twice is an error.
 * </ul>
 *
 * <p>Limits: lines of at most {@value #MAX_LINE} characters, files of at most {@value #MAX_FILE}
 * characters. Stateless and thread-safe.
 */
public final class AuthorizedKeys {
  /** Longest line accepted. */
  public static final int MAX_LINE = 8192;

  /** Largest file accepted, in characters. */
  public static final int MAX_FILE = 4 * 1024 * 1024;

  static final String FILE = "authorized_keys";
  private static final Pattern KEY_TYPE = Pattern.compile("(ssh|ecdsa|sk|rsa)-[A-Za-z0-9@._-]+");
  private static final Pattern OPTION_NAME = Pattern.compile("[A-Za-z0-9_-]+");

  private AuthorizedKeys() {}

  /**
   * Parses the file content.
   *
   * @throws ConfigFormatException for the first bad line, e.g. {@code authorized_keys:3:
   *     unsupported key type ssh-rsa (only ssh-ed25519 is accepted)}
   */
  public static List<AuthorizedKey> parse(String content) throws ConfigFormatException {
    if (content.length() > MAX_FILE) {
      throw new ConfigFormatException(FILE, 0, "file too large (max " + MAX_FILE + " characters)");
    }
    List<AuthorizedKey> out = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    int lineNo = 0;
    for (String line : (Iterable<String>) content.lines()::iterator) {
      lineNo++;
      if (line.length() > MAX_LINE) {
        throw new ConfigFormatException(
            FILE, lineNo, "line too long (" + line.length() + " characters, max " + MAX_LINE + ")");
      }
      String s = line.strip();
      if (s.isEmpty() || s.startsWith("#")) {
        continue;
      }
      AuthorizedKey k;
      try {
        k = parseLine(s);
      } catch (IllegalArgumentException e) {
        throw new ConfigFormatException(FILE, lineNo, e.getMessage());
      }
      Integer prev = seen.putIfAbsent(k.fingerprint(), lineNo);
      if (prev != null) {
        throw new ConfigFormatException(
            FILE, lineNo, "duplicate key " + k.fingerprint() + " (first on line " + prev + ")");
      }
      out.add(k);
    }
    return List.copyOf(out);
  }

  /** Parses one non-blank, non-comment line. */
  static AuthorizedKey parseLine(String s) {
    int end = fieldEnd(s, 0);
    String first = s.substring(0, end);
    String options = "";
    String rest = s.substring(end).stripLeading();
    if (!KEY_TYPE.matcher(first).matches()) {
      if (first.startsWith("AAAA")) {
        throw new IllegalArgumentException(
            "missing key type before the key data (expected ssh-ed25519 AAAA...)");
      }
      options = first;
      int e = fieldEnd(rest, 0);
      first = rest.substring(0, e);
      rest = rest.substring(e).stripLeading();
    }
    Set<String> scopes = scopesFromOptions(options);
    if (first.isEmpty()) {
      throw new IllegalArgumentException("missing key type after options");
    }
    Ed25519Keys.checkType(first);
    String[] blobAndComment = rest.split("\\s+", 2);
    if (blobAndComment[0].isEmpty()) {
      throw new IllegalArgumentException("missing key data after " + first);
    }
    PublicKey key = Ed25519Keys.publicFromBlob(first, blobAndComment[0]);
    String comment = blobAndComment.length > 1 ? blobAndComment[1].strip() : "";
    return AuthorizedKey.of(key, scopes, comment);
  }

  /** Returns the index after a field that ends at unquoted whitespace. */
  private static int fieldEnd(String s, int from) {
    boolean quoted = false;
    for (int i = from; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quoted && c == '\\' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
        i++;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && (c == ' ' || c == '\t')) {
        return i;
      }
    }
    if (quoted) {
      throw new IllegalArgumentException("unterminated quote in options");
    }
    return s.length();
  }

  /** Reads the options field; returns the scopes, ignoring every other option. */
  static Set<String> scopesFromOptions(String options) {
    Set<String> scopes = null;
    int i = 0;
    while (i < options.length()) {
      int nameEnd = i;
      while (nameEnd < options.length()
          && options.charAt(nameEnd) != '='
          && options.charAt(nameEnd) != ',') {
        nameEnd++;
      }
      String name = options.substring(i, nameEnd);
      if (!OPTION_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "invalid options field (or unknown key type) near '" + Scopes.shorten(name) + "'");
      }
      String value = null;
      i = nameEnd;
      if (i < options.length() && options.charAt(i) == '=') {
        StringBuilder v = new StringBuilder();
        i = readValue(options, i + 1, v);
        value = v.toString();
      }
      if (i < options.length()) {
        if (options.charAt(i) != ',') {
          throw new IllegalArgumentException("expected ',' between options");
        }
        i++;
      }
      if (name.toLowerCase(Locale.ROOT).equals("scopes")) {
        if (scopes != null) {
          throw new IllegalArgumentException("scopes option given twice");
        }
        if (value == null) {
          throw new IllegalArgumentException("scopes option needs a value: scopes=\"a,b\"");
        }
        scopes = Scopes.parseList(value);
      }
    }
    return scopes == null ? Set.of() : scopes;
  }

  /** Reads a quoted or bare option value starting at {@code i}; returns the index after it. */
  private static int readValue(String s, int i, StringBuilder out) {
    if (i < s.length() && s.charAt(i) == '"') {
      for (int j = i + 1; j < s.length(); j++) {
        char c = s.charAt(j);
        if (c == '\\' && j + 1 < s.length() && s.charAt(j + 1) == '"') {
          out.append('"');
          j++;
        } else if (c == '"') {
          return j + 1;
        } else {
          out.append(c);
        }
      }
      throw new IllegalArgumentException("unterminated quote in options");
    }
    int j = i;
    while (j < s.length() && s.charAt(j) != ',') {
      out.append(s.charAt(j++));
    }
    return j;
  }

  /**
   * Formats an entry as one line (no trailing newline): {@code scopes="..." ssh-ed25519 AAAA...
   * comment}, without the options field when there are no scopes.
   */
  public static String format(AuthorizedKey k) {
    String line = Ed25519Keys.sshPublicKeyLine(k.key(), k.comment());
    if (k.scopes().isEmpty()) {
      return line;
    }
    return "scopes=\"" + Scopes.formatList(new TreeSet<>(k.scopes())) + "\" " + line;
  }
}

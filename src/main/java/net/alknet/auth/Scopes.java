package net.alknet.auth;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The single place where scope matching is decided. See {@code docs/scopes.md} for every scope
 * name.
 *
 * <p>Rule: a held scope grants a required scope when
 *
 * <ul>
 *   <li>the held scope is {@code *} (grants everything), or
 *   <li>both are equal, or
 *   <li>the required scope starts with the held scope followed by {@code :} (so {@code git} grants
 *       {@code git:read} and {@code call} grants {@code call:demo:x}, but {@code git} does NOT
 *       grant {@code gitx:read} and {@code call:demo} does NOT grant {@code call:demox}).
 * </ul>
 *
 * Anything else is denied (deny by default): a null or empty required scope is never granted, and a
 * more specific held scope never grants a broader one ({@code git:read} does not grant {@code
 * git}).
 *
 * <p>Scope syntax: {@code *}, or one or more segments of {@code [A-Za-z0-9._-]} joined by {@code
 * :}, at most {@value #MAX_LENGTH} characters. Stateless and thread-safe.
 */
public final class Scopes {
  /** Grants every scope. */
  public static final String ALL = "*";

  /** Held by the anonymous identity; protocols that serve unauthenticated peers require it. */
  public static final String ANONYMOUS = "anonymous";

  /** Remote calls to any namespace; {@code call:<namespace>} for one namespace. */
  public static final String CALL = "call";

  /** Clone and fetch git repositories. */
  public static final String GIT_READ = "git:read";

  /** Push to existing git repositories. */
  public static final String GIT_WRITE = "git:write";

  /** Create git repositories. */
  public static final String GIT_CREATE = "git:create";

  /** SSH port forwarding. */
  public static final String SSH_FORWARD = "ssh:forward";

  /** SSH interactive shell and exec. */
  public static final String SSH_SHELL = "ssh:shell";

  /** SFTP file access. */
  public static final String SFTP = "sftp";

  /** DNS queries (DNS-over-QUIC/HTTPS/TLS). */
  public static final String DNS = "dns";

  /** Messaging (publish/subscribe). */
  public static final String MSG = "msg";

  /** Node administration. */
  public static final String ADMIN = "admin";

  /** Maximum length of one scope name. */
  public static final int MAX_LENGTH = 128;

  /** Maximum number of scopes in one list. */
  public static final int MAX_COUNT = 64;

  private static final Pattern SYNTAX = Pattern.compile("[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)*");

  private Scopes() {}

  /**
   * Decides whether {@code held} grants {@code required}, by the rule in the class comment.
   *
   * @param held scopes an identity holds; null is treated as empty
   * @param required the scope an operation needs; null or empty is never granted
   * @return true only if granted
   */
  public static boolean grants(Set<String> held, String required) {
    if (held == null || required == null || required.isEmpty()) {
      return false;
    }
    for (String h : held) {
      if (h == null || h.isEmpty()) {
        continue;
      }
      if (h.equals(ALL) || h.equals(required)) {
        return true;
      }
      if (required.length() > h.length()
          && required.startsWith(h)
          && required.charAt(h.length()) == ':') {
        return true;
      }
    }
    return false;
  }

  /** Returns {@code call:<namespace>}. */
  public static String call(String namespace) {
    String s = CALL + ":" + namespace;
    if (!isValid(s)) {
      throw new IllegalArgumentException("invalid call namespace");
    }
    return s;
  }

  /** Returns whether {@code scope} is syntactically valid (see class comment). */
  public static boolean isValid(String scope) {
    return scope != null
        && scope.length() <= MAX_LENGTH
        && (scope.equals(ALL) || SYNTAX.matcher(scope).matches());
  }

  /**
   * Parses a comma-separated scope list such as {@code call,git:read}. Whitespace around entries is
   * ignored, empty entries are skipped, so an empty string gives the empty set.
   *
   * @return an unmodifiable set in input order
   * @throws IllegalArgumentException naming the invalid entry (entries are config, not secrets)
   */
  public static Set<String> parseList(String csv) {
    Set<String> out = new LinkedHashSet<>();
    for (String part : csv.split(",", -1)) {
      String s = part.strip();
      if (s.isEmpty()) {
        continue;
      }
      if (!isValid(s)) {
        throw new IllegalArgumentException("invalid scope '" + shorten(s) + "'");
      }
      out.add(s);
      if (out.size() > MAX_COUNT) {
        throw new IllegalArgumentException("too many scopes (max " + MAX_COUNT + ")");
      }
    }
    return Collections.unmodifiableSet(out);
  }

  /** Formats a scope set as a comma-separated list, the inverse of {@link #parseList}. */
  public static String formatList(Set<String> scopes) {
    return String.join(",", scopes);
  }

  /** Shortens config text quoted in an error message and masks control characters. */
  static String shorten(String s) {
    String t = s.length() <= 40 ? s : s.substring(0, 40) + "...";
    StringBuilder b = new StringBuilder(t.length());
    t.codePoints().forEach(c -> b.appendCodePoint(c < 0x20 || c == 0x7f ? '?' : c));
    return b.toString();
  }
}

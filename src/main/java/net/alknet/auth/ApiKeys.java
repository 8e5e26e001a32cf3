package net.alknet.auth;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * API keys and the {@code api_keys} file.
 *
 * <p>Key: {@code alk_} followed by the base64url (no padding) of 32 SecureRandom bytes, 47
 * characters in all. Only {@code sha256:<lowercase hex>} of the UTF-8 key string (prefix included)
 * is stored.
 *
 * <p>File format, one entry per line; blank lines and lines starting with {@code #} are ignored:
 *
 * <pre>
 * &lt;name&gt; sha256:&lt;64 hex&gt; [scopes=a,b,c] [expires=2027-01-01T00:00:00Z]
 * </pre>
 *
 * Names match {@code [A-Za-z0-9._-]{1,64}}; duplicated names or hashes are errors. Limits: lines of
 * at most {@value #MAX_LINE} characters, files of at most {@value #MAX_FILE} characters. Stateless
 * and thread-safe.
 */
public final class ApiKeys {
  /** Prefix of every API key. */
  public static final String PREFIX = "alk_";

  /** Prefix of a stored hash. */
  public static final String HASH_PREFIX = "sha256:";

  /** Prefix of identity ids of API keys. */
  public static final String ID_PREFIX = "apikey:";

  /** Length of a key: prefix plus 43 base64url characters. */
  public static final int KEY_LENGTH = PREFIX.length() + 43;

  /** Longest line accepted in the file. */
  public static final int MAX_LINE = 4096;

  /** Largest file accepted, in characters. */
  public static final int MAX_FILE = 4 * 1024 * 1024;

  static final String FILE = "api_keys";
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiKeys() {}

  /** Generates a new key and its hash. */
  public static NewApiKey generate() {
    byte[] b = new byte[32];
    RANDOM.nextBytes(b);
    String key = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    java.util.Arrays.fill(b, (byte) 0);
    return new NewApiKey(key, hash(key));
  }

  /** Returns {@code sha256:<lowercase hex>} of the key's UTF-8 bytes. */
  public static String hash(String key) {
    return HASH_PREFIX + HexFormat.of().formatHex(digest(key));
  }

  /** Returns the raw 32-byte SHA-256 of the key's UTF-8 bytes. */
  public static byte[] digest(String key) {
    return Fingerprints.sha256Digest(key.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Returns whether {@code s} has the shape of an API key (length, prefix, alphabet). Checks the
   * length first, so it is cheap on huge input.
   */
  public static boolean isWellFormed(String s) {
    if (s == null || s.length() != KEY_LENGTH || !s.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < KEY_LENGTH; i++) {
      char c = s.charAt(i);
      if (!((c >= 'A' && c <= 'Z')
          || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_')) {
        return false;
      }
    }
    return true;
  }

  /**
   * Parses {@code sha256:<64 hex>} (hex in either case) into 32 bytes.
   *
   * @throws IllegalArgumentException if not of that form
   */
  public static byte[] parseHash(String s) {
    if (s == null || s.length() != HASH_PREFIX.length() + 64 || !s.startsWith(HASH_PREFIX)) {
      throw new IllegalArgumentException("hash must be sha256:<64 hex digits>");
    }
    try {
      return HexFormat.of().parseHex(s, HASH_PREFIX.length(), s.length());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("hash must be sha256:<64 hex digits>");
    }
  }

  /**
   * Parses the {@code api_keys} file content.
   *
   * @throws ConfigFormatException naming the line ({@code api_keys:3: ...}) of the first error
   */
  public static List<ApiKeyEntry> parse(String content) throws ConfigFormatException {
    if (content.length() > MAX_FILE) {
      throw new ConfigFormatException(FILE, 0, "file too large (max " + MAX_FILE + " characters)");
    }
    List<ApiKeyEntry> out = new ArrayList<>();
    Map<String, Integer> names = new HashMap<>();
    Map<String, Integer> hashes = new HashMap<>();
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
      ApiKeyEntry e;
      try {
        e = parseLine(s);
      } catch (IllegalArgumentException ex) {
        throw new ConfigFormatException(FILE, lineNo, ex.getMessage());
      }
      Integer prev = names.putIfAbsent(e.name(), lineNo);
      if (prev != null) {
        throw new ConfigFormatException(
            FILE, lineNo, "duplicate name " + e.name() + " (first on line " + prev + ")");
      }
      prev = hashes.putIfAbsent(e.hashString(), lineNo);
      if (prev != null) {
        throw new ConfigFormatException(
            FILE, lineNo, "duplicate hash (first on line " + prev + ")");
      }
      out.add(e);
    }
    return List.copyOf(out);
  }

  private static ApiKeyEntry parseLine(String s) {
    String[] f = s.split("\\s+");
    if (f.length < 2) {
      throw new IllegalArgumentException("expected: <name> sha256:<hex> [scopes=..] [expires=..]");
    }
    if (!ApiKeyEntry.isValidName(f[0])) {
      throw new IllegalArgumentException("invalid name (allowed: [A-Za-z0-9._-]{1,64})");
    }
    byte[] hash = parseHash(f[1]);
    Set<String> scopes = null;
    Optional<Instant> expires = null;
    for (int i = 2; i < f.length; i++) {
      if (f[i].startsWith("scopes=") && scopes == null) {
        scopes = Scopes.parseList(f[i].substring("scopes=".length()));
      } else if (f[i].startsWith("expires=") && expires == null) {
        expires = Optional.of(parseInstant(f[i].substring("expires=".length())));
      } else if (f[i].startsWith("scopes=") || f[i].startsWith("expires=")) {
        throw new IllegalArgumentException(
            "repeated field " + f[i].substring(0, f[i].indexOf('=')));
      } else {
        throw new IllegalArgumentException(
            "unknown field '" + Scopes.shorten(f[i]) + "' (expected scopes= or expires=)");
      }
    }
    return new ApiKeyEntry(
        f[0],
        hash,
        scopes == null ? Set.of() : scopes,
        expires == null ? Optional.empty() : expires);
  }

  private static Instant parseInstant(String s) {
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "invalid expires (expected ISO-8601 UTC like 2027-01-01T00:00:00Z)");
    }
  }

  /** Formats an entry as one line of the {@code api_keys} file (no trailing newline). */
  public static String formatEntry(ApiKeyEntry e) {
    StringBuilder b = new StringBuilder(e.name()).append(' ').append(e.hashString());
    if (!e.scopes().isEmpty()) {
      b.append(" scopes=").append(Scopes.formatList(new java.util.TreeSet<>(e.scopes())));
    }
    e.expires().ifPresent(x -> b.append(" expires=").append(x));
    return b.toString();
  }

  /** Formats a line for a key hash (from {@link NewApiKey#hash()}), validating every part. */
  public static String formatEntry(
      String name, String hash, Set<String> scopes, Optional<Instant> expires) {
    return formatEntry(new ApiKeyEntry(name, parseHash(hash), scopes, expires));
  }
}

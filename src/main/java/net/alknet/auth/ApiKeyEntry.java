package net.alknet.auth;

import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One configured API key: only its SHA-256 hash is known, never the key. Immutable; the hash array
 * is copied in and out.
 *
 * @param name unique name, {@code [A-Za-z0-9._-]{1,64}}; the identity id is {@code apikey:<name>}
 * @param sha256 32-byte SHA-256 of the full key string (UTF-8, including {@code alk_})
 * @param scopes scopes granted, see {@link Scopes}
 * @param expires the key is rejected from this instant on; empty = never expires
 */
public record ApiKeyEntry(
    String name, byte[] sha256, Set<String> scopes, Optional<Instant> expires) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /** Validates and copies the components. */
  public ApiKeyEntry {
    Objects.requireNonNull(name, "name");
    if (!isValidName(name)) {
      throw new IllegalArgumentException("invalid API key name (allowed: [A-Za-z0-9._-]{1,64})");
    }
    if (sha256 == null || sha256.length != 32) {
      throw new IllegalArgumentException("API key hash must be 32 bytes");
    }
    sha256 = sha256.clone();
    scopes = Set.copyOf(Objects.requireNonNull(scopes, "scopes"));
    for (String s : scopes) {
      if (!Scopes.isValid(s)) {
        throw new IllegalArgumentException("invalid scope '" + Scopes.shorten(s) + "'");
      }
    }
    Objects.requireNonNull(expires, "expires");
  }

  /** Returns whether {@code name} is a valid API key name. */
  public static boolean isValidName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  @Override
  public byte[] sha256() {
    return sha256.clone();
  }

  /** Returns the hash as written in config, {@code sha256:<lowercase hex>}. */
  public String hashString() {
    return ApiKeys.HASH_PREFIX + HexFormat.of().formatHex(sha256);
  }

  /** Returns whether the key is expired at {@code now} (expiry instant included). */
  public boolean isExpiredAt(Instant now) {
    return expires.isPresent() && !now.isBefore(expires.get());
  }

  /** Returns the identity this key authenticates as, with proof API_KEY. */
  public Identity identity() {
    return new Identity(ApiKeys.ID_PREFIX + name, name, scopes, Identity.Proof.API_KEY);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ApiKeyEntry e
        && name.equals(e.name)
        && Arrays.equals(sha256, e.sha256)
        && scopes.equals(e.scopes)
        && expires.equals(e.expires);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, Arrays.hashCode(sha256), scopes, expires);
  }

  @Override
  public String toString() {
    return "ApiKeyEntry[name=" + name + ", scopes=" + scopes + ", expires=" + expires + "]";
  }
}

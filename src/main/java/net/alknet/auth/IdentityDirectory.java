package net.alknet.auth;

import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Immutable snapshot of every known credential: authorized keys and API key hashes, indexed for
 * O(1) lookup by fingerprint, by raw 32-byte public key and by API key hash. Thread-safe. A config
 * reload builds a new instance and publishes it through the {@code Supplier} given to {@link
 * ConfigIdentityProvider}.
 */
public final class IdentityDirectory {
  /** A directory that knows nobody: every credential is rejected. */
  public static final IdentityDirectory EMPTY = new IdentityDirectory(List.of(), List.of());

  private final List<AuthorizedKey> keys;
  private final List<ApiKeyEntry> apiKeys;
  private final Map<String, AuthorizedKey> byFingerprint = new HashMap<>();
  private final Map<String, AuthorizedKey> byRawKey = new HashMap<>();
  private final Map<String, ApiKeyEntry> byHash = new HashMap<>();

  private IdentityDirectory(List<AuthorizedKey> keys, List<ApiKeyEntry> apiKeys) {
    this.keys = List.copyOf(keys);
    this.apiKeys = List.copyOf(apiKeys);
    for (AuthorizedKey k : this.keys) {
      if (byFingerprint.putIfAbsent(k.fingerprint(), k) != null) {
        throw new IllegalArgumentException("duplicate key " + k.fingerprint());
      }
      byRawKey.put(hex(Ed25519Keys.rawPublic(k.key())), k);
    }
    Map<String, ApiKeyEntry> names = new HashMap<>();
    for (ApiKeyEntry e : this.apiKeys) {
      if (names.putIfAbsent(e.name(), e) != null) {
        throw new IllegalArgumentException("duplicate API key name " + e.name());
      }
      if (byHash.putIfAbsent(hex(e.sha256()), e) != null) {
        throw new IllegalArgumentException("duplicate API key hash for " + e.name());
      }
    }
  }

  /**
   * Builds a directory from parsed files.
   *
   * @throws IllegalArgumentException on duplicate keys, API key names or hashes
   */
  public static IdentityDirectory of(List<AuthorizedKey> keys, List<ApiKeyEntry> apiKeys) {
    return new IdentityDirectory(keys, apiKeys);
  }

  /** Returns the authorized keys in file order. */
  public List<AuthorizedKey> keys() {
    return keys;
  }

  /** Returns the API key entries in file order. */
  public List<ApiKeyEntry> apiKeys() {
    return apiKeys;
  }

  /** Looks up a key by its {@code SHA256:...} fingerprint; null gives empty. */
  public Optional<AuthorizedKey> byFingerprint(String fingerprint) {
    return fingerprint == null
        ? Optional.empty()
        : Optional.ofNullable(byFingerprint.get(fingerprint));
  }

  /** Looks up a key by its raw 32-byte encoding; other lengths give empty. */
  public Optional<AuthorizedKey> byRawKey(byte[] raw) {
    if (raw == null || raw.length != Ed25519Keys.KEY_LENGTH) {
      return Optional.empty();
    }
    return Optional.ofNullable(byRawKey.get(hex(raw)));
  }

  /**
   * Looks up an API key by the 32-byte SHA-256 of the presented key. The map lookup's timing
   * depends only on that hash, which reveals nothing usable about stored keys; callers still
   * confirm with {@link java.security.MessageDigest#isEqual}.
   */
  public Optional<ApiKeyEntry> byApiKeyHash(byte[] sha256) {
    if (sha256 == null || sha256.length != 32) {
      return Optional.empty();
    }
    return Optional.ofNullable(byHash.get(hex(sha256)));
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  @Override
  public String toString() {
    return "IdentityDirectory[" + keys.size() + " keys, " + apiKeys.size() + " API keys]";
  }
}

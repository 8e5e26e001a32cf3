package net.alknet.auth;

import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@link IdentityProvider} backed by the {@code authorized_keys} and {@code api_keys} files.
 *
 * <p>Each call reads {@code directory.get()} once, so a reloaded snapshot takes effect on the next
 * call. The supplier MUST be cheap, non-blocking and thread-safe (typically a volatile field or an
 * {@code AtomicReference::get}); if it returns null, everything is denied. Thread-safe; does no
 * I/O.
 *
 * <p>{@link #resolveFromToken} dispatch: a string of exactly {@link AuthToken#ENCODED_LENGTH}
 * characters is an auth token (even if it happens to start with {@code alk_}), otherwise a string
 * starting with {@code alk_} is an API key, otherwise it is treated as a malformed token.
 */
public final class ConfigIdentityProvider implements IdentityProvider {
  private final Supplier<IdentityDirectory> directory;
  private final Clock clock;
  private final TokenPolicy policy;

  /**
   * Creates the provider.
   *
   * @param directory current snapshot, read on every call
   * @param clock time source for token age and API key expiry
   * @param policy token max age and skew
   */
  public ConfigIdentityProvider(
      Supplier<IdentityDirectory> directory, Clock clock, TokenPolicy policy) {
    this.directory = Objects.requireNonNull(directory, "directory");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  private IdentityDirectory dir() {
    IdentityDirectory d = directory.get();
    return d == null ? IdentityDirectory.EMPTY : d;
  }

  @Override
  public Optional<Identity> resolveFromFingerprint(String fingerprint) {
    return dir().byFingerprint(fingerprint).map(AuthorizedKey::identity);
  }

  @Override
  public Optional<Identity> resolveFromPublicKey(PublicKey key) {
    if (!Ed25519Keys.isEd25519(key)) {
      return Optional.empty();
    }
    return dir().byRawKey(Ed25519Keys.rawPublic(key)).map(AuthorizedKey::identity);
  }

  @Override
  public AuthResult resolveFromToken(String presented) {
    if (presented == null || presented.isEmpty()) {
      return fail(AuthResult.Reason.MALFORMED, "empty credential");
    }
    if (presented.length() != AuthToken.ENCODED_LENGTH && presented.startsWith(ApiKeys.PREFIX)) {
      return resolveApiKey(presented);
    }
    AuthToken.Parsed token;
    try {
      token = AuthToken.parse(presented);
    } catch (MalformedTokenException e) {
      return fail(AuthResult.Reason.MALFORMED, e.getMessage());
    }
    Optional<AuthorizedKey> key = dir().byRawKey(token.keyId());
    if (key.isEmpty()) {
      return fail(AuthResult.Reason.UNKNOWN_KEY, "token for unknown key " + token.fingerprint());
    }
    Optional<AuthResult.Failure> bad =
        AuthToken.verify(token, key.get().key(), clock.instant(), policy);
    if (bad.isPresent()) {
      return bad.get();
    }
    return new AuthResult.Success(key.get().identity().withProof(Identity.Proof.AUTH_TOKEN));
  }

  private AuthResult resolveApiKey(String presented) {
    if (!ApiKeys.isWellFormed(presented)) {
      return fail(
          AuthResult.Reason.MALFORMED,
          presented.length() != ApiKeys.KEY_LENGTH
              ? "api key length " + presented.length() + " (expected " + ApiKeys.KEY_LENGTH + ")"
              : "api key has characters outside base64url");
    }
    byte[] hash = ApiKeys.digest(presented);
    Optional<ApiKeyEntry> entry = dir().byApiKeyHash(hash);
    if (entry.isEmpty() || !MessageDigest.isEqual(entry.get().sha256(), hash)) {
      return fail(
          AuthResult.Reason.UNKNOWN_API_KEY,
          "unknown api key (hash prefix " + HexFormat.of().formatHex(hash, 0, 4) + ")");
    }
    ApiKeyEntry e = entry.get();
    Instant now = clock.instant();
    if (e.isExpiredAt(now)) {
      return fail(
          AuthResult.Reason.API_KEY_EXPIRED,
          "api key " + e.name() + " expired at " + e.expires().orElseThrow());
    }
    return new AuthResult.Success(e.identity());
  }

  private static AuthResult.Failure fail(AuthResult.Reason reason, String detail) {
    return new AuthResult.Failure(reason, detail);
  }
}

package net.alknet.auth;

import java.security.PublicKey;
import java.util.Optional;

/**
 * Resolves credentials to {@link Identity identities}. One provider serves every protocol (SSH,
 * TLS/QUIC client certificates, HTTP bearer tokens, ...).
 *
 * <p>Implementations MUST be thread-safe and non-blocking (no I/O per call), MUST deny by default
 * and MUST NOT throw for bad input: unknown or malformed input gives an empty Optional or a {@link
 * AuthResult.Failure}.
 */
public interface IdentityProvider {

  /**
   * Looks up an authorized key by its OpenSSH fingerprint ({@code SHA256:<base64 no padding>}).
   *
   * <p>Callers MUST have verified possession of the private key themselves (SSH signature, TLS
   * handshake) before trusting the result.
   *
   * @return the identity with proof {@link Identity.Proof#PUBLIC_KEY}, or empty if unknown or null
   */
  Optional<Identity> resolveFromFingerprint(String fingerprint);

  /**
   * Looks up an authorized Ed25519 key. Same contract as {@link #resolveFromFingerprint}; keys of
   * other algorithms give empty.
   */
  Optional<Identity> resolveFromPublicKey(PublicKey key);

  /**
   * Checks a bearer credential: an {@link AuthToken} or an {@code alk_} API key (dispatched on the
   * prefix). The input may be anything a peer sent, including null, empty or huge strings.
   *
   * @return success with proof {@link Identity.Proof#AUTH_TOKEN} or {@link Identity.Proof#API_KEY},
   *     or a failure whose reason is for logs only
   */
  AuthResult resolveFromToken(String presented);
}

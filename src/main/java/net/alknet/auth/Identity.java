package net.alknet.auth;

import java.util.Objects;
import java.util.Set;

/**
 * Who a peer is, the scopes it holds and how it proved it. Immutable and thread-safe.
 *
 * <p>Identity ids: the OpenSSH fingerprint {@code SHA256:...} for keys (whatever the proof: public
 * key, client certificate or auth token), {@code apikey:<name>} for API keys and {@code anonymous}
 * for unauthenticated peers.
 *
 * @param id stable identifier, used in logs and ACLs
 * @param displayName human-readable name (key comment or API key name); for display only, MUST NOT
 *     be used for authorization decisions
 * @param scopes scopes held, see {@link Scopes}; stored as an unmodifiable copy
 * @param proof how the identity was established
 */
public record Identity(String id, String displayName, Set<String> scopes, Proof proof) {

  /** How the peer proved its identity. */
  public enum Proof {
    /** Public-key authentication (SSH user auth, or a key looked up by fingerprint). */
    PUBLIC_KEY,
    /** TLS/QUIC client certificate carrying an Ed25519 key. */
    CLIENT_CERTIFICATE,
    /** An {@link AuthToken} signed by the key. */
    AUTH_TOKEN,
    /** An {@code alk_} API key. */
    API_KEY,
    /** No proof at all. */
    ANONYMOUS
  }

  /** The id of the anonymous identity. */
  public static final String ANONYMOUS_ID = "anonymous";

  private static final Identity ANONYMOUS =
      new Identity(ANONYMOUS_ID, ANONYMOUS_ID, Set.of(Scopes.ANONYMOUS), Proof.ANONYMOUS);

  /** Validates and copies the components; all are required. */
  public Identity {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(displayName, "displayName");
    Objects.requireNonNull(proof, "proof");
    if (id.isBlank()) {
      throw new IllegalArgumentException("identity id must not be blank");
    }
    scopes = Set.copyOf(Objects.requireNonNull(scopes, "scopes"));
  }

  /** Returns the anonymous identity: id {@code anonymous}, scopes {@code {anonymous}}. */
  public static Identity anonymous() {
    return ANONYMOUS;
  }

  /** Returns whether this is the anonymous identity. */
  public boolean isAnonymous() {
    return proof == Proof.ANONYMOUS;
  }

  /** Returns whether this identity's scopes grant {@code required}, see {@link Scopes#grants}. */
  public boolean hasScope(String required) {
    return Scopes.grants(scopes, required);
  }

  /** Returns a copy with another proof, e.g. {@link Proof#CLIENT_CERTIFICATE}. */
  public Identity withProof(Proof newProof) {
    return newProof == proof ? this : new Identity(id, displayName, scopes, newProof);
  }
}

package net.alknet.auth;

import java.util.Objects;

/**
 * Outcome of checking a presented credential: {@link Success} or {@link Failure}.
 *
 * <p>The {@link Reason} and {@link Failure#logDetail()} are for the node's logs only. They MUST NOT
 * be sent to the peer; the peer only ever learns {@link #PEER_MESSAGE}.
 */
public sealed interface AuthResult permits AuthResult.Success, AuthResult.Failure {

  /** The only thing a rejected peer is told. */
  String PEER_MESSAGE = "unauthenticated";

  /** Why a credential was rejected. */
  enum Reason {
    /** Not decodable: bad base64, wrong length, truncated, garbage, empty, oversized. */
    MALFORMED,
    /** Well-formed token signed by a key that is not in authorized_keys. */
    UNKNOWN_KEY,
    /** Token whose signature does not verify. */
    BAD_SIGNATURE,
    /** Token older than the maximum age. */
    EXPIRED,
    /** Token dated further in the future than the allowed clock skew. */
    FROM_FUTURE,
    /** Well-formed API key that is not configured. */
    UNKNOWN_API_KEY,
    /** Configured API key past its expiry. */
    API_KEY_EXPIRED
  }

  /** Returns whether this is a {@link Success}. */
  default boolean isSuccess() {
    return this instanceof Success;
  }

  /**
   * The credential was accepted.
   *
   * @param identity the authenticated identity
   */
  record Success(Identity identity) implements AuthResult {
    /** Requires a non-null identity. */
    public Success {
      Objects.requireNonNull(identity, "identity");
    }
  }

  /**
   * The credential was rejected.
   *
   * @param reason why, for logs and metrics
   * @param logDetail extra context for logs (fingerprint, API key name, time difference); never
   *     contains the presented secret
   */
  record Failure(Reason reason, String logDetail) implements AuthResult {
    /** Requires a reason; a null detail becomes empty. */
    public Failure {
      Objects.requireNonNull(reason, "reason");
      logDetail = logDetail == null ? "" : logDetail;
    }
  }
}

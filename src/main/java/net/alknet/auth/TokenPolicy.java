package net.alknet.auth;

import java.time.Duration;
import java.util.Objects;

/**
 * How long an {@link AuthToken} stays valid.
 *
 * @param maxAge a token older than this (now - timestamp &gt; maxAge) is {@link
 *     AuthResult.Reason#EXPIRED}; MUST be positive
 * @param maxSkew a token dated up to this far in the future is still accepted, beyond it is {@link
 *     AuthResult.Reason#FROM_FUTURE}; MUST NOT be negative
 */
public record TokenPolicy(Duration maxAge, Duration maxSkew) {
  /** 5 minutes maximum age, 30 seconds clock skew. */
  public static final TokenPolicy DEFAULT =
      new TokenPolicy(Duration.ofMinutes(5), Duration.ofSeconds(30));

  /** Validates the durations. */
  public TokenPolicy {
    Objects.requireNonNull(maxAge, "maxAge");
    Objects.requireNonNull(maxSkew, "maxSkew");
    if (maxAge.isNegative() || maxAge.isZero()) {
      throw new IllegalArgumentException("maxAge must be positive");
    }
    if (maxSkew.isNegative()) {
      throw new IllegalArgumentException("maxSkew must not be negative");
    }
  }
}

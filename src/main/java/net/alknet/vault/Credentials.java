package net.alknet.vault;

import java.util.Optional;
import java.util.Set;

/**
 * The capability a handler gets for outbound credentials (VAULT-1): look up a secret by name, and
 * nothing else. It never exposes the seed, the passphrase or other keys; a view made with {@link
 * Vault#credentials(Set)} serves only the names it was granted.
 *
 * <p>Thread-safe. Each call returns a fresh copy that the caller MUST wipe after use ({@link
 * Secrets#wipe(byte[]...)}).
 */
@FunctionalInterface
public interface Credentials {

  /** Grants nothing. */
  Credentials NONE = name -> Optional.empty();

  /**
   * The secret stored under {@code name}, or empty when this capability does not hold it.
   *
   * @throws IllegalStateException if the secret cannot be decrypted (damaged vault)
   */
  Optional<byte[]> secret(String name);
}

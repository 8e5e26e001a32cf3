package net.alknet.auth;

/**
 * A key (public key line, key blob or private key file) could not be parsed.
 *
 * <p>The message says what is wrong in plain words (for example {@code truncated key data} or
 * {@code encrypted OpenSSH private keys are not supported yet}). It MUST NOT and does not contain
 * key material, stack traces or the offending input itself.
 */
public final class KeyFormatException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what is wrong, without secret material
   */
  public KeyFormatException(String message) {
    super(message);
  }
}

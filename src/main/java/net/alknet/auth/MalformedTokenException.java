package net.alknet.auth;

/**
 * A presented {@link AuthToken} could not be decoded. The message describes the defect (length,
 * alphabet) and never contains the token itself.
 */
public final class MalformedTokenException extends Exception {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message the defect, without the token
   */
  public MalformedTokenException(String message) {
    super(message);
  }
}

package net.alknet.vault;

/**
 * A vault operation failed for a reason the user can act on (wrong passphrase, damaged file,
 * invalid mnemonic, unknown credential...). The message is one clear line that never contains
 * secret material.
 */
public class VaultException extends Exception {
  private static final long serialVersionUID = 1L;

  public VaultException(String message) {
    super(message);
  }

  public VaultException(String message, Throwable cause) {
    super(message, cause);
  }

  /** The passphrase does not open this vault. */
  public static final class WrongPassphrase extends VaultException {
    private static final long serialVersionUID = 1L;

    public WrongPassphrase(String message) {
      super(message);
    }
  }

  /** The vault file is malformed, truncated, oversized or fails authentication. */
  public static final class Damaged extends VaultException {
    private static final long serialVersionUID = 1L;

    public Damaged(String message) {
      super(message);
    }
  }

  /** A mnemonic phrase is not a valid BIP39 English mnemonic. */
  public static final class InvalidMnemonic extends VaultException {
    private static final long serialVersionUID = 1L;

    public InvalidMnemonic(String message) {
      super(message);
    }
  }
}

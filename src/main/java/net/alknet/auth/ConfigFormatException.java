package net.alknet.auth;

/**
 * A dynamic-config file ({@code authorized_keys}, {@code api_keys}) has an error.
 *
 * <p>{@link #getMessage()} reads like a compiler error, {@code authorized_keys:3: unsupported key
 * type ssh-rsa}, or {@code api_keys: file too large ...} when the problem is not tied to one line
 * ({@link #line()} is then 0). Messages never contain secret material. The exception is checked so
 * that reloading code has to decide what to do with a bad file (typically: keep the previous
 * snapshot and log the message).
 */
public final class ConfigFormatException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final int line;
  private final String detail;

  /**
   * Creates the exception.
   *
   * @param file file name as shown to the operator, e.g. {@code authorized_keys}
   * @param line 1-based line number, or 0 if the error concerns the whole file
   * @param message what is wrong on that line
   */
  public ConfigFormatException(String file, int line, String message) {
    super(line > 0 ? file + ":" + line + ": " + message : file + ": " + message);
    this.file = file;
    this.line = line;
    this.detail = message;
  }

  /** Returns the file name given at construction. */
  public String file() {
    return file;
  }

  /** Returns the 1-based line number, or 0 if the error concerns the whole file. */
  public int line() {
    return line;
  }

  /** Returns the message without the {@code file:line: } prefix. */
  public String detail() {
    return detail;
  }
}

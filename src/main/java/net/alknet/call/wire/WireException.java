package net.alknet.call.wire;

import java.io.IOException;

/** A frame or envelope the receiver cannot accept; {@link #code()} is the wire error code. */
public final class WireException extends IOException {

  private final String code;

  public WireException(String code, String message) {
    super(message);
    this.code = code;
  }

  public String code() {
    return code;
  }
}

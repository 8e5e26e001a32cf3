package net.alknet.call.wire;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A failure that maps to a {@code call.error} on the wire. Operations throw it with a declared
 * domain code; the engine throws it with standard codes. Anything else an operation throws is
 * reported to the peer as {@link ErrorCodes#INTERNAL} with a generic message.
 */
public class CallException extends RuntimeException {

  private final transient CallError error;

  public CallException(String code, String message) {
    this(new CallError(code, message, null));
  }

  public CallException(String code, String message, JsonNode details) {
    this(new CallError(code, message, details));
  }

  public CallException(CallError error) {
    super(error.code() + ": " + error.message(), null, false, false);
    this.error = error;
  }

  public CallError error() {
    return error;
  }

  public String code() {
    return error.code();
  }
}

package net.alknet.call.wire;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The {@code error} object of a {@code call.error} envelope.
 *
 * @param code a standard code ({@link ErrorCodes}) or an operation's declared domain code
 * @param message one human-readable line; never a stack trace or internal detail
 * @param details optional structured data (e.g. the failing input path), or {@code null}
 */
public record CallError(String code, String message, JsonNode details) {

  public CallError {
    if (code == null || code.isEmpty()) {
      throw new IllegalArgumentException("error code is required");
    }
    message = message == null ? "" : message;
  }

  public static CallError of(String code, String message) {
    return new CallError(code, message, null);
  }
}

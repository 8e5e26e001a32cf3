package net.alknet.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;

/**
 * An error answered over HTTP (HTTP-2): a status and the JSON body {@code {code, message,
 * details}}, the same fields as a call-protocol error. Never carries internals.
 */
final class HttpProblem extends RuntimeException {

  /** Non-standard but widely used: the client closed the request (nginx). */
  static final int CLIENT_CLOSED_REQUEST = 499;

  final int status;
  final CallError error;

  HttpProblem(int status, String code, String message) {
    this(status, CallError.of(code, message));
  }

  HttpProblem(int status, CallError error) {
    super(error.message(), null, false, false);
    this.status = status;
    this.error = error;
  }

  static HttpProblem of(CallError error) {
    return new HttpProblem(status(error.code()), error);
  }

  /** The HTTP status of a call error code. Application-declared codes are 422. */
  static int status(String code) {
    return switch (code) {
      case ErrorCodes.INVALID_INPUT, ErrorCodes.BAD_FRAME -> 400;
      case ErrorCodes.UNAUTHENTICATED -> 401;
      case ErrorCodes.FORBIDDEN -> 403;
      case ErrorCodes.NOT_FOUND -> 404;
      case ErrorCodes.FRAME_TOO_LARGE -> 413;
      case ErrorCodes.ABORTED -> CLIENT_CLOSED_REQUEST;
      case ErrorCodes.INTERNAL -> 500;
      case ErrorCodes.OVERFLOW, ErrorCodes.UNAVAILABLE -> 503;
      case ErrorCodes.DEADLINE_EXCEEDED -> 504;
      default -> 422;
    };
  }

  /** The JSON body: {@code {code, message, details}}. */
  static ObjectNode body(CallError error) {
    ObjectNode o = EnvelopeCodec.json().createObjectNode();
    o.put("code", error.code());
    o.put("message", error.message());
    JsonNode details = error.details();
    if (details != null && !details.isNull()) {
      o.set("details", details);
    } else {
      o.putObject("details");
    }
    return o;
  }

  /** Sends this problem unless a response was already sent. */
  void send(HttpServerResponse response) {
    send(response, status, error);
  }

  static void send(HttpServerResponse response, int status, CallError error) {
    if (response.ended() || response.closed() || response.headWritten()) {
      return;
    }
    response.setStatusCode(status);
    if (status == 401) {
      response.putHeader("WWW-Authenticate", "Bearer realm=\"alknet\"");
    }
    response
        .putHeader("Content-Type", "application/json")
        .putHeader("Cache-Control", "no-store")
        .end(Buffer.buffer(body(error).toString()))
        .onFailure(e -> {}); // the client left meanwhile; nothing to tell it
  }
}

package net.alknet.call.session;

import com.fasterxml.jackson.databind.JsonNode;
import net.alknet.call.wire.CallError;

/**
 * Where an invocation's results go: frames on a stream for calls from the wire, a Uni/Multi for
 * nested calls, an HTTP response or SSE stream. Exactly one terminal method is called, last.
 */
public interface Sink {
  void responded(JsonNode output);

  /** One event; may block while the receiver is slow (the caller is never an event loop). */
  void event(JsonNode event);

  void completed();

  void error(CallError error);
}

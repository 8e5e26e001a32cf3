package net.alknet.call.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Implements an operation this client registered with the node (CALL-7). Runs on the client's small
 * executor, never on a reader thread. Throw a {@link net.alknet.call.wire.CallException} to answer
 * with that error; any other exception is answered as {@code INTERNAL} with a generic message. When
 * the node aborts the call (or its deadline passes), the thread is interrupted.
 */
@FunctionalInterface
public interface LocalHandler {
  JsonNode handle(LocalCall call) throws Exception;
}

package net.alknet.call.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.CompletableFuture;

/**
 * A query or mutation in flight: its id, its result, and a way to abort it.
 *
 * <p>{@link #result()} completes with the output, or exceptionally with a {@link
 * net.alknet.call.wire.CallException} carrying the wire error. Cancelling the result future aborts
 * the call too (and completes it with a {@link java.util.concurrent.CancellationException} at
 * once).
 */
public final class PendingCall {

  private final String id;
  private final CompletableFuture<JsonNode> result;
  private final CallClient client;

  PendingCall(String id, CompletableFuture<JsonNode> result, CallClient client) {
    this.id = id;
    this.result = result;
    this.client = client;
  }

  /** The call's id on the wire (this client's id space). */
  public String id() {
    return id;
  }

  /** Completes with the call's output ({@code NullNode} for a {@code null} output). */
  public CompletableFuture<JsonNode> result() {
    return result;
  }

  /**
   * Sends {@code call.aborted}. The result then fails with {@code ABORTED} when the node confirms,
   * or locally after {@link CallClient.Options#abortGrace()} if it does not answer. Aborting an
   * ended call does nothing.
   */
  public void abort() {
    client.abort(id);
  }
}

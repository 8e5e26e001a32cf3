package net.alknet.call.client;

import java.util.concurrent.CompletableFuture;

/**
 * A subscription in flight. Events go to the consumer given to {@link CallClient#subscribe}, in
 * order, on the stream's reader thread (so a consumer must not block on other calls of the same
 * client); then {@link #done()} completes on {@code call.completed}, or exceptionally with a {@link
 * net.alknet.call.wire.CallException} on {@code call.error} or connection loss. If the consumer
 * throws, the subscription is aborted and {@code done()} fails with that exception.
 */
public final class Subscription {

  private final String id;
  private final CompletableFuture<Void> done;
  private final CallClient client;

  Subscription(String id, CompletableFuture<Void> done, CallClient client) {
    this.id = id;
    this.done = done;
    this.client = client;
  }

  /** The call's id on the wire. */
  public String id() {
    return id;
  }

  /**
   * Completes when the subscription ends. Cancelling it aborts the subscription (without waiting
   * for the node's confirmation).
   */
  public CompletableFuture<Void> done() {
    return done;
  }

  /**
   * Sends {@code call.aborted}; {@link #done()} then fails with {@code ABORTED} when the node
   * confirms (or after {@link CallClient.Options#abortGrace()}).
   */
  public void abort() {
    client.abort(id);
  }
}

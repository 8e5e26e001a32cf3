package net.alknet.call.session;

import com.fasterxml.jackson.databind.JsonNode;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiSubscriber;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.function.Function;
import net.alknet.call.op.Operation;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.ErrorCodes;

/**
 * Delivers a subscription's events to its sink through a bounded queue (CALL-5). The operation may
 * produce as fast as it likes; at most {@code queue} undelivered events are kept, then the
 * operation's overflow policy applies: drop the oldest, or end the call with {@code OVERFLOW}. One
 * drain task at a time writes events (it may block on a slow subscriber); it runs on the worker
 * executor, never on an event loop.
 */
final class SubscriptionPump implements MultiSubscriber<JsonNode> {

  private final Invocation inv;
  private final Executor workers;
  private final Function<Throwable, CallError> errors;
  private final int capacity;
  private final Operation.Overflow policy;
  private final ArrayDeque<JsonNode> queue = new ArrayDeque<>();
  private Flow.Subscription upstream;
  private boolean upstreamDone;
  private CallError upstreamError;
  private boolean draining;
  private long dropped;

  SubscriptionPump(Invocation inv, Executor workers, Function<Throwable, CallError> errors) {
    this.inv = inv;
    this.workers = workers;
    this.errors = errors;
    this.capacity = inv.spec.queue();
    this.policy = inv.spec.overflow();
  }

  void start(Multi<JsonNode> events) {
    events.subscribe().withSubscriber(this);
  }

  /** Events dropped under {@link Operation.Overflow#DROP_OLDEST} (for tests and logs). */
  synchronized long dropped() {
    return dropped;
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    synchronized (this) {
      upstream = s;
    }
    inv.onAbort(
        () -> {
          s.cancel();
          synchronized (this) {
            queue.clear();
          }
        });
    s.request(Long.MAX_VALUE);
  }

  @Override
  public void onItem(JsonNode item) {
    synchronized (this) {
      if (upstreamDone || upstreamError != null) {
        return;
      }
      if (queue.size() >= capacity) {
        if (policy == Operation.Overflow.DROP_OLDEST) {
          queue.poll();
          dropped++;
        } else {
          upstreamError =
              CallError.of(
                  ErrorCodes.OVERFLOW,
                  "subscriber fell " + capacity + " events behind " + inv.spec.name());
          queue.clear();
          upstream.cancel();
          scheduleDrain();
          return;
        }
      }
      queue.add(item);
      scheduleDrain();
    }
  }

  @Override
  public void onFailure(Throwable failure) {
    synchronized (this) {
      upstreamError = errors.apply(failure);
      scheduleDrain();
    }
  }

  @Override
  public void onCompletion() {
    synchronized (this) {
      upstreamDone = true;
      scheduleDrain();
    }
  }

  private void scheduleDrain() {
    if (!draining) {
      draining = true;
      try {
        workers.execute(this::drain);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        draining = false;
        upstream.cancel();
        inv.fail(CallError.of(ErrorCodes.UNAVAILABLE, "node busy"));
      }
    }
  }

  private void drain() {
    while (true) {
      JsonNode next;
      CallError error = null;
      boolean complete = false;
      synchronized (this) {
        next = queue.poll();
        if (next == null) {
          draining = false;
          if (upstreamError != null) {
            error = upstreamError;
          } else if (upstreamDone) {
            complete = true;
          } else {
            return;
          }
        }
      }
      if (error != null) {
        inv.fail(error);
        return;
      }
      if (complete) {
        inv.complete();
        return;
      }
      if (inv.isFinished()) {
        return;
      }
      inv.emit(next);
    }
  }
}

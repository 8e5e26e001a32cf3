package net.alknet.call.session;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import net.alknet.call.op.AbortSignal;
import net.alknet.call.op.OperationSpec;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.CallException;

/**
 * One running call: its terminal state (exactly one terminal frame, CALL-4), its abort state and
 * the calls made on its behalf (CALL-6: an abort cascades to every child unless the child's
 * operation opted out). Thread-safe.
 */
final class Invocation implements AbortSignal {

  final String id;
  final OperationSpec spec;
  private final Sink sink;
  private final Runnable onFinish;
  private final Set<Invocation> children = ConcurrentHashMap.newKeySet();
  private final List<Runnable> abortActions = new CopyOnWriteArrayList<>();
  private final CompletableFuture<CallError> abortedWith = new CompletableFuture<>();
  private final AtomicBoolean finished = new AtomicBoolean();

  Invocation(String id, OperationSpec spec, Sink sink, Runnable onFinish) {
    this.id = id;
    this.spec = spec;
    this.sink = sink;
    this.onFinish = onFinish;
  }

  /** Registers a child; if this call is already aborted, the child is aborted at once. */
  void adopt(Invocation child) {
    children.add(child);
    if (isAborted() && !child.spec.continueOnParentAbort()) {
      child.abort(abortedWith.getNow(null));
    }
  }

  void release(Invocation child) {
    children.remove(child);
  }

  boolean isFinished() {
    return finished.get();
  }

  // ---- terminal outcomes (first one wins) ----

  void respond(JsonNode output) {
    if (finished.compareAndSet(false, true)) {
      onFinish.run();
      try {
        sink.responded(output);
      } finally {
        done();
      }
    }
  }

  void complete() {
    if (finished.compareAndSet(false, true)) {
      onFinish.run();
      try {
        sink.completed();
      } finally {
        done();
      }
    }
  }

  void fail(CallError error) {
    if (finished.compareAndSet(false, true)) {
      onFinish.run();
      try {
        sink.error(error);
      } finally {
        done();
      }
    }
  }

  /** Sends one event unless the call has ended. */
  void emit(JsonNode event) {
    if (!finished.get()) {
      sink.event(event);
    }
  }

  // The bookkeeping (onFinish) runs before the terminal frame goes out, so a peer that has seen
  // the frame never finds the call still counted in flight or its id still taken.
  private void done() {
    // A finished call's children are no longer needed (e.g. a forgotten nested call).
    for (Invocation c : children) {
      if (!c.spec.continueOnParentAbort()) {
        c.abort(CallError.of(net.alknet.call.wire.ErrorCodes.ABORTED, "parent call ended"));
      }
    }
  }

  /**
   * Aborts this call (no-op once it has ended or was aborted): runs abort actions, cascades to the
   * children, and ends the call with {@code reason}.
   */
  void abort(CallError reason) {
    if (reason == null || finished.get() || !abortedWith.complete(reason)) {
      return;
    }
    for (Runnable r : abortActions) {
      try {
        r.run();
      } catch (RuntimeException e) {
        // an operation's abort hook failing must not stop the cascade
      }
    }
    for (Invocation c : children) {
      if (!c.spec.continueOnParentAbort()) {
        c.abort(CallError.of(reason.code(), "parent call " + id + " was aborted"));
      }
    }
    fail(reason);
  }

  // ---- AbortSignal ----

  @Override
  public boolean isAborted() {
    return abortedWith.isDone();
  }

  @Override
  public Optional<CallError> reason() {
    return Optional.ofNullable(abortedWith.getNow(null));
  }

  @Override
  public void onAbort(Runnable action) {
    abortActions.add(action);
    if (isAborted() && abortActions.remove(action)) {
      action.run();
    }
  }

  @Override
  public CompletionStage<CallError> whenAborted() {
    return abortedWith.minimalCompletionStage();
  }

  @Override
  public void throwIfAborted() {
    CallError e = abortedWith.getNow(null);
    if (e != null) {
      throw new CallException(e);
    }
  }
}

package net.alknet.call.op;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import net.alknet.call.wire.CallError;

/**
 * Tells an operation that its call was aborted (CALL-6): by the caller, by the abort of the call it
 * was made on behalf of, by a passed deadline, or by the loss of the connection.
 */
public interface AbortSignal {

  boolean isAborted();

  /** Why ({@code ABORTED} or {@code DEADLINE_EXCEEDED}), once aborted. */
  Optional<CallError> reason();

  /** Runs the action once when the call is aborted (at once if it already is). */
  void onAbort(Runnable action);

  /** Completes with the reason when the call is aborted; never if it ends normally. */
  CompletionStage<CallError> whenAborted();

  /** Throws the abort as a {@link net.alknet.call.wire.CallException} if aborted. */
  void throwIfAborted();
}

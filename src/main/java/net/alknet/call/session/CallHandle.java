package net.alknet.call.session;

import net.alknet.call.wire.CallError;

/** A running call started with {@link CallSession#invoke}. */
@FunctionalInterface
public interface CallHandle {

  /** Aborts the call (and, by cascade, its children); a no-op once it has ended. */
  void abort(CallError reason);
}

package net.alknet.call.op;

import com.fasterxml.jackson.databind.JsonNode;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import net.alknet.auth.Identity;

/**
 * What an operation knows about its call: who called, whether it was aborted, its deadline, and a
 * way to make nested calls whose parent is this call (aborting this call aborts them, CALL-6).
 */
public interface CallContext {

  /** The call id (in the caller's id space). */
  String callId();

  /** The authenticated caller. */
  Identity identity();

  AbortSignal abortSignal();

  Optional<Instant> deadline();

  Map<String, String> meta();

  /** Calls an operation (local, imported, or one the session's client registered) as a child. */
  Uni<JsonNode> call(String op, Object input);

  /** A typed nested call. */
  <T> Uni<T> call(String op, Object input, Class<T> outputType);

  /** Subscribes to an operation as a child. */
  Multi<JsonNode> subscribe(String op, Object input);
}

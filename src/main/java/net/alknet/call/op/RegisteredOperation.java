package net.alknet.call.op;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;

/**
 * An operation ready to run: its spec, its compiled input validator and the code behind it.
 *
 * @param source where it came from (a bean method, an import), for errors and logs
 */
public record RegisteredOperation(
    OperationSpec spec, JsonSchema inputValidator, Impl impl, String source) {

  /** Runs the operation. */
  @FunctionalInterface
  public interface Impl {
    /**
     * Starts the operation on the calling (worker) thread.
     *
     * @return a {@code Uni<JsonNode>} for queries and mutations, a {@code Multi<JsonNode>} for
     *     subscriptions
     */
    Object start(JsonNode input, CallContext ctx) throws Exception;
  }

  public String name() {
    return spec.name();
  }
}

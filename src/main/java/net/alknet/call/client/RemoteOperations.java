package net.alknet.call.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;

/**
 * {@code from_call} support (CALL-12): describes a remote node's operations ({@code sys/describe})
 * and forwards calls to them over a connected {@link CallClient}, so the local registry can expose
 * them under a namespace and a call can hop node to node.
 *
 * <p>Registering the operations locally is the caller's job. A local operation that forwards should
 * keep the forwarded call's handle and abort it when the local call is aborted (CALL-6 cascade):
 * cancel the future from {@link #forward}, or call {@link PendingCall#abort()} on the handle from
 * {@link #start}, or {@link Subscription#abort()}.
 */
public final class RemoteOperations {

  /**
   * One operation as the remote node describes it (CALL-8). Absent fields are {@code null} (for
   * schemas and strings) or empty (for lists).
   *
   * @param name {@code namespace/name} on the remote node
   * @param kind {@code query}, {@code mutation} or {@code subscription}
   * @param overflow a subscription's overflow policy ({@code drop-oldest} or {@code error}), or
   *     {@code null}
   * @param errors the operation's declared domain error codes
   * @param raw the whole entry as the node sent it (for fields added later)
   */
  public record RemoteOperation(
      String name,
      String kind,
      String description,
      List<String> tags,
      List<String> scopes,
      List<String> errors,
      JsonNode inputSchema,
      JsonNode outputSchema,
      JsonNode eventSchema,
      String overflow,
      JsonNode raw) {

    public RemoteOperation {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(kind, "kind");
      description = description == null ? "" : description;
      tags = tags == null ? List.of() : List.copyOf(tags);
      scopes = scopes == null ? List.of() : List.copyOf(scopes);
      errors = errors == null ? List.of() : List.copyOf(errors);
    }

    public boolean isSubscription() {
      return "subscription".equals(kind);
    }

    /** The part after the first {@code /}, e.g. {@code echo} for {@code demo/echo}. */
    public String localPart() {
      return name.substring(name.indexOf('/') + 1);
    }
  }

  private final CallClient client;

  public RemoteOperations(CallClient client) {
    this.client = Objects.requireNonNull(client, "client");
  }

  /** The client the calls are forwarded over. */
  public CallClient client() {
    return client;
  }

  /**
   * Calls {@code sys/describe} on the remote node and returns every operation the session may call
   * (including the remote's own {@code sys/…} operations; filter them if they should not be
   * imported).
   */
  public CompletableFuture<List<RemoteOperation>> describe() {
    return client
        .call("sys/describe", JsonNodeFactory.instance.objectNode(), CallOptions.DEFAULT)
        .thenApply(RemoteOperations::parse);
  }

  /**
   * Reads a {@code sys/describe} output. Entries without a valid name or kind are skipped.
   *
   * @throws CallException {@code BAD_FRAME} if the output has no {@code operations} array
   */
  public static List<RemoteOperation> parse(JsonNode describeOutput) {
    JsonNode ops = describeOutput == null ? null : describeOutput.get("operations");
    if (ops == null || !ops.isArray()) {
      throw new CallException(
          ErrorCodes.BAD_FRAME, "sys/describe output has no \"operations\" array");
    }
    List<RemoteOperation> out = new ArrayList<>();
    for (JsonNode op : ops) {
      String name = text(op, "name");
      String kind = text(op, "kind");
      if (name == null || !EnvelopeCodec.OP_NAME.matcher(name).matches() || kind == null) {
        continue;
      }
      out.add(
          new RemoteOperation(
              name,
              kind,
              text(op, "description"),
              strings(op.get("tags")),
              strings(op.get("scopes")),
              errorCodes(op.get("errors")),
              schema(op, "inputSchema"),
              schema(op, "outputSchema"),
              schema(op, "eventSchema"),
              text(op, "overflow"),
              op));
    }
    return List.copyOf(out);
  }

  /**
   * Forwards a query or mutation. Cancelling the returned future aborts the remote call; errors
   * from the remote keep their code, message and details; losing the connection fails it with
   * {@code UNAVAILABLE}.
   *
   * @param options deadline and meta travel on; a {@code parent} is dropped (parent ids only mean
   *     something on the connection they came from)
   */
  public CompletableFuture<JsonNode> forward(
      String remoteName, JsonNode input, CallOptions options) {
    return start(remoteName, input, options).result();
  }

  /** Like {@link #forward} but returns the handle, for {@link PendingCall#abort()}. */
  public PendingCall start(String remoteName, JsonNode input, CallOptions options) {
    return client.start(remoteName, input, strip(options));
  }

  /**
   * Forwards a subscription; events go to {@code onEvent} in order. {@link Subscription#abort()}
   * (or cancelling {@link Subscription#done()}) aborts the remote subscription.
   */
  public Subscription forwardSubscription(
      String remoteName, JsonNode input, Consumer<JsonNode> onEvent, CallOptions options) {
    return client.subscribe(remoteName, input, onEvent, strip(options));
  }

  private static CallOptions strip(CallOptions options) {
    CallOptions o = options == null ? CallOptions.DEFAULT : options;
    return o.parent() == null ? o : o.withParent(null);
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v != null && v.isTextual() ? v.asText() : null;
  }

  private static JsonNode schema(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v;
  }

  private static List<String> strings(JsonNode arr) {
    List<String> out = new ArrayList<>();
    if (arr != null && arr.isArray()) {
      arr.forEach(
          x -> {
            if (x.isTextual()) {
              out.add(x.asText());
            }
          });
    }
    return out;
  }

  /** {@code errors}: a list of codes, or of objects with a {@code code}. */
  private static List<String> errorCodes(JsonNode arr) {
    List<String> out = new ArrayList<>();
    if (arr != null && arr.isArray()) {
      for (JsonNode x : arr) {
        if (x.isTextual()) {
          out.add(x.asText());
        } else if (x.isObject() && x.path("code").isTextual()) {
          out.add(x.get("code").asText());
        }
      }
    }
    return out;
  }
}

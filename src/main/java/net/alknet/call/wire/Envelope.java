package net.alknet.call.wire;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * One frame's JSON object (CALL-2). Which fields are set depends on {@link #type()}; the rest are
 * {@code null}. See docs/call-protocol.md for the field table.
 *
 * @param type one of the {@code TYPE_*} constants
 * @param id the call id (unique per sender per connection), or the ping/pong id
 * @param op {@code namespace/name} ({@code call.requested})
 * @param input operation input ({@code call.requested})
 * @param output operation output ({@code call.responded})
 * @param event one event ({@code call.event})
 * @param error the error ({@code call.error})
 * @param parent id of the call this one is made on behalf of ({@code call.requested})
 * @param deadlineMs time budget in milliseconds from receipt ({@code call.requested})
 * @param meta free string map (tracing and the like)
 * @param auth AuthToken or API key ({@code hello})
 * @param client client name/version ({@code hello})
 * @param identity who the node authenticated ({@code welcome})
 * @param node the node's name ({@code welcome})
 * @param protocol protocol version, 1 ({@code hello}, {@code welcome})
 * @param reason a short reason ({@code call.aborted}), optional
 */
public record Envelope(
    String type,
    String id,
    String op,
    JsonNode input,
    JsonNode output,
    JsonNode event,
    CallError error,
    String parent,
    Long deadlineMs,
    Map<String, String> meta,
    String auth,
    String client,
    JsonNode identity,
    String node,
    Integer protocol,
    String reason) {

  public static final String HELLO = "hello";
  public static final String WELCOME = "welcome";
  public static final String REQUESTED = "call.requested";
  public static final String RESPONDED = "call.responded";
  public static final String ERROR = "call.error";
  public static final String EVENT = "call.event";
  public static final String COMPLETED = "call.completed";
  public static final String ABORTED = "call.aborted";
  public static final String PING = "ping";
  public static final String PONG = "pong";

  /** The protocol version this implementation speaks. */
  public static final int PROTOCOL = 1;

  private static Envelope of(String type, String id) {
    return new Envelope(
        type, id, null, null, null, null, null, null, null, null, null, null, null, null, null,
        null);
  }

  public static Envelope hello(String auth, String client) {
    return new Envelope(
        HELLO, null, null, null, null, null, null, null, null, null, auth, client, null, null,
        PROTOCOL, null);
  }

  public static Envelope welcome(JsonNode identity, String node) {
    return new Envelope(
        WELCOME, null, null, null, null, null, null, null, null, null, null, null, identity, node,
        PROTOCOL, null);
  }

  public static Envelope requested(
      String id,
      String op,
      JsonNode input,
      String parent,
      Long deadlineMs,
      Map<String, String> meta) {
    return new Envelope(
        REQUESTED,
        id,
        op,
        input,
        null,
        null,
        null,
        parent,
        deadlineMs,
        meta,
        null,
        null,
        null,
        null,
        null,
        null);
  }

  public static Envelope responded(String id, JsonNode output) {
    return new Envelope(
        RESPONDED, id, null, null, output, null, null, null, null, null, null, null, null, null,
        null, null);
  }

  public static Envelope error(String id, CallError error) {
    return new Envelope(
        ERROR, id, null, null, null, null, error, null, null, null, null, null, null, null, null,
        null);
  }

  public static Envelope event(String id, JsonNode event) {
    return new Envelope(
        EVENT, id, null, null, null, event, null, null, null, null, null, null, null, null, null,
        null);
  }

  public static Envelope completed(String id) {
    return of(COMPLETED, id);
  }

  public static Envelope aborted(String id, String reason) {
    return new Envelope(
        ABORTED, id, null, null, null, null, null, null, null, null, null, null, null, null, null,
        reason);
  }

  public static Envelope ping(String id) {
    return of(PING, id);
  }

  public static Envelope pong(String id) {
    return of(PONG, id);
  }

  /** Whether this envelope ends its call ({@code call.responded} or {@code call.error}...). */
  public boolean isTerminal() {
    return type.equals(RESPONDED) || type.equals(ERROR) || type.equals(COMPLETED);
  }
}

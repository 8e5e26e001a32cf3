package net.alknet.call.wire;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * JSON ⇄ {@link Envelope} (CALL-2). Decoding is strict where it matters and lenient where the
 * protocol asks for it: invalid UTF-8, non-object JSON, duplicate keys, a missing or mistyped
 * required field, or nesting deeper than 64 levels is {@link ErrorCodes#BAD_FRAME}; unknown fields
 * are ignored. Thread-safe.
 */
public final class EnvelopeCodec {

  /** {@code namespace/name}: lower-case letters, digits, '-', '_', '.'; a namespace may nest. */
  public static final Pattern OP_NAME =
      Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}(/[a-z0-9][a-z0-9._-]{0,63}){1,3}");

  private static final int MAX_ID = 128;
  private static final int MAX_META_ENTRIES = 64;

  private static final ObjectMapper JSON = mapper();

  private EnvelopeCodec() {}

  static ObjectMapper mapper() {
    JsonFactory factory =
        JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
            .build();
    ObjectMapper m = new ObjectMapper(factory);
    m.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    // Optional, java.time, parameter names: the modules Quarkus ships (jdk8, jsr310, ...).
    m.findAndRegisterModules();
    m.setSerializationInclusion(JsonInclude.Include.NON_NULL);
    return m;
  }

  /** The shared mapper (configured with the protocol's limits) for operation payloads. */
  public static ObjectMapper json() {
    return JSON;
  }

  /** Encodes an envelope; {@code null} fields are left out. */
  public static byte[] encode(Envelope e) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("type", e.type());
    putIfSet(o, "id", e.id());
    putIfSet(o, "op", e.op());
    if (e.input() != null) {
      o.set("input", e.input());
    }
    if (e.output() != null) {
      o.set("output", e.output());
    } else if (e.type().equals(Envelope.RESPONDED)) {
      o.putNull("output");
    }
    if (e.event() != null) {
      o.set("event", e.event());
    }
    if (e.error() != null) {
      ObjectNode err = o.putObject("error");
      err.put("code", e.error().code());
      err.put("message", e.error().message());
      if (e.error().details() != null) {
        err.set("details", e.error().details());
      }
    }
    putIfSet(o, "parent", e.parent());
    if (e.deadlineMs() != null) {
      o.put("deadlineMs", e.deadlineMs());
    }
    if (e.meta() != null && !e.meta().isEmpty()) {
      ObjectNode meta = o.putObject("meta");
      e.meta().forEach(meta::put);
    }
    putIfSet(o, "auth", e.auth());
    putIfSet(o, "client", e.client());
    if (e.identity() != null) {
      o.set("identity", e.identity());
    }
    putIfSet(o, "node", e.node());
    if (e.protocol() != null) {
      o.put("protocol", e.protocol());
    }
    putIfSet(o, "reason", e.reason());
    try {
      return JSON.writeValueAsBytes(o);
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException("cannot encode envelope: " + ex.getMessage(), ex);
    }
  }

  private static void putIfSet(ObjectNode o, String k, String v) {
    if (v != null) {
      o.put(k, v);
    }
  }

  /** Decodes one frame body. */
  public static Envelope decode(byte[] frame) throws WireException {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(frame))
              .toString();
    } catch (CharacterCodingException e) {
      throw bad("frame is not valid UTF-8");
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      String why = e.getOriginalMessage();
      throw bad("frame is not valid JSON: " + (why.length() > 120 ? why.substring(0, 120) : why));
    }
    if (node == null || !node.isObject()) {
      throw bad("frame is not a JSON object");
    }
    String type = text(node, "type", true);
    String id = text(node, "id", false);
    if (id != null && (id.isEmpty() || id.length() > MAX_ID)) {
      throw bad("\"id\" must be 1.." + MAX_ID + " characters");
    }
    switch (type) {
      case Envelope.HELLO, Envelope.WELCOME -> {}
      case Envelope.REQUESTED,
          Envelope.RESPONDED,
          Envelope.EVENT,
          Envelope.COMPLETED,
          Envelope.ABORTED,
          Envelope.PING,
          Envelope.PONG ->
          require(id, type);
      case Envelope.ERROR -> {}
      default -> throw bad("unknown envelope type \"" + abbreviate(type) + "\"");
    }
    String op = text(node, "op", false);
    if (type.equals(Envelope.REQUESTED)) {
      if (op == null) {
        throw bad("call.requested needs \"op\"");
      }
      if (!OP_NAME.matcher(op).matches()) {
        throw bad("\"op\" must look like namespace/name, got \"" + abbreviate(op) + "\"");
      }
    }
    CallError error = null;
    if (type.equals(Envelope.ERROR)) {
      JsonNode err = node.get("error");
      if (err == null || !err.isObject()) {
        throw bad("call.error needs an \"error\" object");
      }
      String code = text(err, "code", true);
      JsonNode msg = err.get("message");
      if (msg != null && !msg.isTextual() && !msg.isNull()) {
        throw bad("\"error.message\" must be a string");
      }
      JsonNode details = err.get("details");
      error =
          new CallError(
              code,
              msg == null || msg.isNull() ? "" : msg.asText(),
              details == null || details.isNull() ? null : details);
    }
    Long deadline = null;
    JsonNode d = node.get("deadlineMs");
    if (d != null && !d.isNull()) {
      if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() <= 0) {
        throw bad("\"deadlineMs\" must be a positive integer");
      }
      deadline = d.asLong();
    }
    Map<String, String> meta = null;
    JsonNode m = node.get("meta");
    if (m != null && !m.isNull()) {
      if (!m.isObject() || m.size() > MAX_META_ENTRIES) {
        throw bad("\"meta\" must be an object of at most " + MAX_META_ENTRIES + " strings");
      }
      meta = new LinkedHashMap<>();
      var it = m.fields();
      while (it.hasNext()) {
        var f = it.next();
        if (!f.getValue().isTextual()) {
          throw bad("\"meta." + abbreviate(f.getKey()) + "\" must be a string");
        }
        meta.put(f.getKey(), f.getValue().asText());
      }
    }
    Integer protocol = null;
    JsonNode p = node.get("protocol");
    if (p != null && !p.isNull()) {
      if (!p.isInt()) {
        throw bad("\"protocol\" must be an integer");
      }
      protocol = p.asInt();
    }
    JsonNode identity = node.get("identity");
    return new Envelope(
        type,
        id,
        op,
        nullIfMissing(node.get("input")),
        nullIfMissing(node.get("output")),
        nullIfMissing(node.get("event")),
        error,
        text(node, "parent", false),
        deadline,
        meta,
        text(node, "auth", false),
        text(node, "client", false),
        identity == null || identity.isNull() ? null : identity,
        text(node, "node", false),
        protocol,
        text(node, "reason", false));
  }

  private static JsonNode nullIfMissing(JsonNode n) {
    return n == null ? null : n;
  }

  private static void require(String id, String type) throws WireException {
    if (id == null) {
      throw bad(type + " needs \"id\"");
    }
  }

  private static String text(JsonNode node, String field, boolean required) throws WireException {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw bad("missing \"" + field + "\"");
      }
      return null;
    }
    if (!v.isTextual()) {
      throw bad("\"" + field + "\" must be a string");
    }
    return v.asText();
  }

  private static String abbreviate(String s) {
    String clean = s.replaceAll("[\\p{Cntrl}]", "?");
    return clean.length() > 64 ? clean.substring(0, 64) + "…" : clean;
  }

  private static WireException bad(String message) {
    return new WireException(ErrorCodes.BAD_FRAME, message);
  }
}

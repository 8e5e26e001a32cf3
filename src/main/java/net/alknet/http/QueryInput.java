package net.alknet.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;

/**
 * Query parameters → an operation's JSON input (HTTP-2 {@code GET}), typed by the input schema: an
 * {@code integer}, {@code number} or {@code boolean} property is parsed as such, an {@code array}
 * takes every occurrence of the parameter, an {@code object} is JSON text, anything else is a
 * string. The result is validated like any call input, so an unknown parameter is the same {@code
 * INVALID_INPUT} a call would get.
 */
final class QueryInput {

  private static final int MAX_PARAMS = 256;

  private QueryInput() {}

  /**
   * @param schema the operation's input schema, or null if the operation is unknown (the call then
   *     fails with NOT_FOUND anyway)
   */
  static ObjectNode from(MultiMap params, JsonNode schema) {
    ObjectNode input = JsonNodeFactory.instance.objectNode();
    if (params.size() > MAX_PARAMS) {
      throw bad("too many query parameters (at most " + MAX_PARAMS + ")");
    }
    JsonNode properties = resolve(schema, schema).path("properties");
    for (String name : params.names()) {
      List<String> values = params.getAll(name);
      JsonNode prop = resolve(schema, properties.path(name));
      String type = type(prop);
      if (type.equals("array")) {
        ArrayNode a = input.putArray(name);
        String itemType = type(resolve(schema, prop.path("items")));
        for (String v : values) {
          a.add(value(name, v, itemType));
        }
      } else {
        if (values.size() > 1) {
          throw bad("query parameter " + name + " is given " + values.size() + " times");
        }
        input.set(name, value(name, values.get(0), type));
      }
    }
    return input;
  }

  /**
   * The schema that decides a property's type: follows local {@code $ref}s ({@code #/$defs/X}) and,
   * in an {@code anyOf}/{@code oneOf} (e.g. an optional value: {@code null} or X), the first branch
   * that is not {@code null}.
   */
  private static JsonNode resolve(JsonNode root, JsonNode node) {
    if (root == null || node == null) {
      return JsonNodeFactory.instance.objectNode();
    }
    JsonNode n = node;
    for (int depth = 0; depth < 8; depth++) {
      JsonNode ref = n.get("$ref");
      if (ref != null && ref.isTextual() && ref.asText().startsWith("#/")) {
        n = root.at(ref.asText().substring(1));
        continue;
      }
      JsonNode branches = n.has("anyOf") ? n.get("anyOf") : n.get("oneOf");
      if (branches != null && branches.isArray()) {
        JsonNode next = null;
        for (JsonNode b : branches) {
          if (!b.path("type").asText().equals("null")) {
            next = b;
            break;
          }
        }
        if (next != null) {
          n = next;
          continue;
        }
      }
      return n;
    }
    return n;
  }

  private static String type(JsonNode prop) {
    JsonNode t = prop.path("type");
    if (t.isTextual()) {
      return t.asText();
    }
    if (t.isArray()) { // e.g. ["integer", "null"]
      for (JsonNode x : t) {
        if (!x.asText().equals("null")) {
          return x.asText();
        }
      }
    }
    return "string";
  }

  private static JsonNode value(String name, String raw, String type) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    switch (type) {
      case "integer" -> {
        try {
          return f.numberNode(new BigDecimal(raw.trim()).toBigIntegerExact());
        } catch (NumberFormatException | ArithmeticException e) {
          throw bad("query parameter " + name + " must be an integer, got '" + clip(raw) + "'");
        }
      }
      case "number" -> {
        try {
          return f.numberNode(new BigDecimal(raw.trim()));
        } catch (NumberFormatException e) {
          throw bad("query parameter " + name + " must be a number, got '" + clip(raw) + "'");
        }
      }
      case "boolean" -> {
        String v = raw.trim().toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
          return f.booleanNode(v.equals("true"));
        }
        throw bad("query parameter " + name + " must be true or false, got '" + clip(raw) + "'");
      }
      case "object" -> {
        try {
          return EnvelopeCodec.json().readTree(raw);
        } catch (JsonProcessingException e) {
          throw bad("query parameter " + name + " must be a JSON object");
        }
      }
      default -> {
        return f.textNode(raw);
      }
    }
  }

  private static String clip(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }

  private static HttpProblem bad(String message) {
    return new HttpProblem(400, ErrorCodes.INVALID_INPUT, message);
  }
}

package net.alknet.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationSpec;
import net.alknet.call.wire.EnvelopeCodec;

/**
 * {@code to_openapi} (HTTP-4): an OpenAPI 3.1 document projected from operation specs, with the
 * same JSON Schemas (2020-12, which OpenAPI 3.1 uses as is). Each operation's schema and its {@code
 * $defs} move to {@code components/schemas} under the operation's name, and their {@code $ref}s are
 * rewritten to match. The fixed routes ({@code /v1/schema}, {@code /openapi}, health, metrics) are
 * described too.
 */
public final class OpenApiProjection {

  private OpenApiProjection() {}

  /** The document for these operations. */
  public static ObjectNode document(String title, String version, List<OperationSpec> ops) {
    ObjectNode doc = object();
    doc.put("openapi", "3.1.0");
    ObjectNode info = doc.putObject("info");
    info.put("title", title);
    info.put("version", version);
    info.put(
        "description",
        "Operations of an alknet node, mapped to HTTP: POST /v1/{namespace}/{op} with a JSON"
            + " body, GET with query parameters for queries, GET with Accept: text/event-stream"
            + " for subscriptions (Server-Sent Events). Errors are {code, message, details}.");
    doc.putArray("servers").addObject().put("url", "/");
    doc.putArray("security").addObject().putArray("bearer");
    ObjectNode components = doc.putObject("components");
    ObjectNode schemas = components.putObject("schemas");
    ObjectNode error = schemas.putObject("Error");
    error.put("type", "object");
    error.putArray("required").add("code").add("message");
    ObjectNode errorProps = error.putObject("properties");
    errorProps
        .putObject("code")
        .put("type", "string")
        .put("description", "INVALID_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, ...");
    errorProps.putObject("message").put("type", "string");
    errorProps
        .putObject("details")
        .put("type", "object")
        .put("description", "structured data, e.g. the failing input paths");
    ObjectNode bearer = components.putObject("securitySchemes").putObject("bearer");
    bearer.put("type", "http");
    bearer.put("scheme", "bearer");
    bearer.put("description", "An alknet AuthToken (alknet token) or API key (alk_...)");
    ObjectNode responses = components.putObject("responses");
    for (Map.Entry<String, String> e : standardErrors().entrySet()) {
      ObjectNode r = responses.putObject(e.getKey());
      r.put("description", e.getValue());
      jsonContent(r, ref("Error"));
    }
    ObjectNode paths = doc.putObject("paths");
    fixedRoutes(paths);
    for (OperationSpec op : ops) {
      project(op, paths, schemas);
    }
    return doc;
  }

  private static Map<String, String> standardErrors() {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("InvalidInput", "INVALID_INPUT: the input does not match the schema");
    m.put("Unauthenticated", "UNAUTHENTICATED: no or a bad bearer credential");
    m.put("Forbidden", "FORBIDDEN: the credential lacks the operation's scope");
    m.put("NotFound", "NOT_FOUND: no such operation");
    m.put("Unavailable", "UNAVAILABLE: the node is busy or shutting down");
    m.put("DeadlineExceeded", "DEADLINE_EXCEEDED: X-Alknet-Deadline-Ms passed");
    m.put("Internal", "INTERNAL: the operation failed (no internals are shown)");
    return m;
  }

  private static void fixedRoutes(ObjectNode paths) {
    ObjectNode schema =
        fixedGet(paths, "/v1/schema", "sys.schema", "The operations the caller may call");
    jsonContent(
        schema.putObject("200").put("description", "the operation list (sys/describe output)"),
        object().put("type", "object"));
    errorRefs(schema, false);

    ObjectNode openapi = fixedGet(paths, "/openapi", "sys.openapi", "This document");
    jsonContent(
        openapi.putObject("200").put("description", "an OpenAPI 3.1 document"),
        object().put("type", "object"));
    errorRefs(openapi, false);

    for (String[] p :
        new String[][] {
          {"/healthz", "sys.liveness", "Liveness: up while the process serves requests"},
          {"/readyz", "sys.readiness", "Readiness: up while the endpoint accepts connections"}
        }) {
      ObjectNode r = fixedGet(paths, p[0], p[1], p[2]);
      ((ObjectNode) paths.get(p[0]).get("get")).putArray("security").addObject(); // public
      jsonContent(r.putObject("200").put("description", "UP"), object().put("type", "object"));
      jsonContent(r.putObject("503").put("description", "DOWN"), object().put("type", "object"));
    }

    ObjectNode metrics =
        fixedGet(paths, "/metrics", "sys.metrics", "Prometheus metrics (scope admin:metrics)");
    metrics
        .putObject("200")
        .put("description", "Prometheus text format")
        .putObject("content")
        .putObject("text/plain")
        .putObject("schema")
        .put("type", "string");
    errorRefs(metrics, false);
  }

  /** A fixed {@code GET} route tagged {@code sys}; returns its {@code responses} object. */
  private static ObjectNode fixedGet(ObjectNode paths, String path, String id, String summary) {
    ObjectNode get = paths.putObject(path).putObject("get");
    get.put("operationId", id);
    get.put("summary", summary);
    get.putArray("tags").add("sys");
    return get.putObject("responses");
  }

  private static void project(OperationSpec op, ObjectNode paths, ObjectNode schemas) {
    String base = op.name().replace('/', '.');
    JsonNode input = lift(op.inputSchema(), base + ".input", schemas);
    JsonNode result =
        op.kind() == Operation.Kind.SUBSCRIPTION
            ? lift(op.eventSchema(), base + ".event", schemas)
            : lift(op.outputSchema(), base + ".output", schemas);
    ObjectNode path = paths.putObject("/v1/" + op.name());

    ObjectNode post = path.putObject("post");
    describe(post, op, base + ".post");
    ObjectNode body = post.putObject("requestBody");
    body.put("required", false);
    jsonContent(body, input);
    responses(post, op, result);

    if (op.kind() != Operation.Kind.MUTATION) {
      ObjectNode get = path.putObject("get");
      describe(get, op, base + ".get");
      JsonNode in = schemas.get(base + ".input");
      JsonNode props = in == null ? null : in.get("properties");
      if (props != null && props.size() > 0) {
        ArrayNode params = get.putArray("parameters");
        TreeSet<String> required = new TreeSet<>();
        in.path("required").forEach(r -> required.add(r.asText()));
        for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> p = it.next();
          ObjectNode param = params.addObject();
          param.put("name", p.getKey());
          param.put("in", "query");
          param.put("required", required.contains(p.getKey()));
          if (p.getValue().path("type").asText().equals("array")) {
            param.put("style", "form").put("explode", true);
          }
          param.set("schema", p.getValue());
        }
      }
      responses(get, op, result);
    }
  }

  private static void describe(ObjectNode o, OperationSpec op, String id) {
    o.put("operationId", id);
    o.put("summary", op.description().isEmpty() ? op.name() : op.description());
    ArrayNode tags = o.putArray("tags");
    if (op.tags().isEmpty()) {
      tags.add(op.namespace());
    } else {
      op.tags().forEach(tags::add);
    }
    if (!op.open() || !op.scopes().isEmpty()) {
      o.put(
          "description",
          op.kind().wire()
              + "; scope "
              + String.join(
                  " or ", op.scopes().isEmpty() ? List.of("call:" + op.namespace()) : op.scopes()));
    } else {
      o.put("description", op.kind().wire());
    }
  }

  private static void responses(ObjectNode o, OperationSpec op, JsonNode result) {
    ObjectNode r = o.putObject("responses");
    ObjectNode ok = r.putObject("200");
    if (op.kind() == Operation.Kind.SUBSCRIPTION) {
      ok.put(
          "description",
          "Server-Sent Events: one unnamed event per call event (data = the event JSON), then"
              + " 'completed', or 'error' with {code, message, details}");
      ObjectNode sse = ok.putObject("content").putObject("text/event-stream");
      sse.putObject("schema").put("type", "string");
      if (result != null) {
        ok.putObject("x-alknet-event-schema").setAll((ObjectNode) result);
      }
      r.putObject("406")
          .put("description", "a subscription needs Accept: text/event-stream")
          .set("content", errorContent());
    } else {
      ok.put("description", "the operation's output");
      jsonContent(ok, result == null ? object() : result);
    }
    errorRefs(r, true);
  }

  private static ObjectNode errorContent() {
    ObjectNode c = object();
    c.putObject("application/json").set("schema", ref("Error"));
    return c;
  }

  private static void errorRefs(ObjectNode r, boolean call) {
    if (call) {
      r.putObject("400").put("$ref", "#/components/responses/InvalidInput");
    }
    r.putObject("401").put("$ref", "#/components/responses/Unauthenticated");
    r.putObject("403").put("$ref", "#/components/responses/Forbidden");
    if (call) {
      r.putObject("404").put("$ref", "#/components/responses/NotFound");
      r.putObject("503").put("$ref", "#/components/responses/Unavailable");
      r.putObject("504").put("$ref", "#/components/responses/DeadlineExceeded");
      r.putObject("500").put("$ref", "#/components/responses/Internal");
    }
  }

  /**
   * Moves a schema and its {@code $defs} into {@code components/schemas}; returns a {@code $ref} to
   * it (or null for no schema).
   */
  private static JsonNode lift(JsonNode schema, String name, ObjectNode schemas) {
    if (schema == null || schema.isNull()) {
      return null;
    }
    ObjectNode copy = schema.deepCopy();
    JsonNode defs = copy.remove("$defs");
    copy.remove("$schema");
    String prefix = name + ".";
    if (defs != null) {
      for (Iterator<Map.Entry<String, JsonNode>> it = defs.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> d = it.next();
        schemas.set(prefix + safe(d.getKey()), rewrite(d.getValue().deepCopy(), prefix));
      }
    }
    schemas.set(name, rewrite(copy, prefix));
    return ref(name);
  }

  private static JsonNode rewrite(JsonNode node, String prefix) {
    if (node instanceof ObjectNode o) {
      JsonNode ref = o.get("$ref");
      if (ref != null && ref.isTextual() && ref.asText().startsWith("#/$defs/")) {
        o.put(
            "$ref",
            "#/components/schemas/" + prefix + safe(ref.asText().substring("#/$defs/".length())));
      }
      o.fields().forEachRemaining(e -> rewrite(e.getValue(), prefix));
    } else if (node instanceof ArrayNode a) {
      a.forEach(x -> rewrite(x, prefix));
    }
    return node;
  }

  private static String safe(String s) {
    return s.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  private static ObjectNode ref(String schema) {
    return object().put("$ref", "#/components/schemas/" + schema);
  }

  private static void jsonContent(ObjectNode o, JsonNode schema) {
    o.putObject("content").putObject("application/json").set("schema", schema);
  }

  private static ObjectNode object() {
    return EnvelopeCodec.json().createObjectNode();
  }
}

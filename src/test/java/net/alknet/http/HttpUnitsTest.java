package net.alknet.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.MultiMap;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationSpec;
import net.alknet.call.op.Schemas;
import net.alknet.call.wire.ErrorCodes;
import org.junit.jupiter.api.Test;

/** The HTTP layer's pure parts: status mapping, query typing, the OpenAPI projection. */
class HttpUnitsTest {

  record Nested(String label) {}

  record Input(
      String name,
      int count,
      double ratio,
      boolean loud,
      List<Integer> ids,
      Optional<Nested> extra) {}

  static final JsonNode SCHEMA = Schemas.of(Input.class);

  static MultiMap params(String... kv) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < kv.length; i += 2) {
      m.add(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void everyStandardCodeHasItsStatus() {
    assertEquals(400, HttpProblem.status(ErrorCodes.INVALID_INPUT));
    assertEquals(400, HttpProblem.status(ErrorCodes.BAD_FRAME));
    assertEquals(401, HttpProblem.status(ErrorCodes.UNAUTHENTICATED));
    assertEquals(403, HttpProblem.status(ErrorCodes.FORBIDDEN));
    assertEquals(404, HttpProblem.status(ErrorCodes.NOT_FOUND));
    assertEquals(413, HttpProblem.status(ErrorCodes.FRAME_TOO_LARGE));
    assertEquals(499, HttpProblem.status(ErrorCodes.ABORTED));
    assertEquals(500, HttpProblem.status(ErrorCodes.INTERNAL));
    assertEquals(503, HttpProblem.status(ErrorCodes.UNAVAILABLE));
    assertEquals(503, HttpProblem.status(ErrorCodes.OVERFLOW));
    assertEquals(504, HttpProblem.status(ErrorCodes.DEADLINE_EXCEEDED));
    assertEquals(422, HttpProblem.status("QUOTA_USED_UP")); // an operation's declared error
    for (String code : ErrorCodes.STANDARD) {
      assertTrue(HttpProblem.status(code) != 422, code + " must have a specific status");
    }
  }

  @Test
  void queryParametersAreTypedByTheSchema() {
    ObjectNode in =
        QueryInput.from(
            params(
                "name",
                "n",
                "count",
                "7",
                "ratio",
                "0.5",
                "loud",
                "TRUE",
                "ids",
                "1",
                "ids",
                "2",
                "extra",
                "{\"label\":\"x\"}"),
            SCHEMA);
    assertEquals("n", in.get("name").asText());
    assertTrue(in.get("count").isIntegralNumber());
    assertEquals(7, in.get("count").asInt());
    assertEquals(0.5, in.get("ratio").asDouble());
    assertTrue(in.get("loud").asBoolean());
    assertEquals(2, in.get("ids").size());
    assertEquals("x", in.get("extra").get("label").asText());
    assertTrue(Schemas.validate(Schemas.validator(SCHEMA), in).isEmpty(), in.toString());
  }

  @Test
  void badQueryParametersAreClear400s() {
    for (String[] bad :
        new String[][] {
          {"count", "seven"},
          {"count", "1.5"},
          {"count", "9".repeat(400) + "x"},
          {"ratio", "NaN?"},
          {"loud", "yes"},
          {"ids", "one"},
          {"extra", "{not json"},
        }) {
      HttpProblem p =
          assertThrows(HttpProblem.class, () -> QueryInput.from(params(bad), SCHEMA), bad[0]);
      assertEquals(400, p.status);
      assertTrue(p.error.message().contains(bad[0]), p.error.message());
      assertTrue(p.error.message().length() < 200, "the message quotes at most a clip");
    }
    HttpProblem twice =
        assertThrows(
            HttpProblem.class, () -> QueryInput.from(params("name", "a", "name", "b"), SCHEMA));
    assertTrue(twice.error.message().contains("2 times"));
    MultiMap many = MultiMap.caseInsensitiveMultiMap();
    for (int i = 0; i < 300; i++) {
      many.add("p" + i, "v");
    }
    assertThrows(HttpProblem.class, () -> QueryInput.from(many, SCHEMA));
  }

  @Test
  void unknownParametersStayStringsAndFailValidation() {
    ObjectNode in = QueryInput.from(params("nmae", "typo"), SCHEMA);
    assertEquals("typo", in.get("nmae").asText());
    assertFalse(Schemas.validate(Schemas.validator(SCHEMA), in).isEmpty());
    // no schema (unknown operation): strings, the call then fails NOT_FOUND
    assertEquals("1", QueryInput.from(params("a", "1"), null).get("a").asText());
  }

  static OperationSpec spec(String name, Operation.Kind kind) {
    return new OperationSpec(
        name,
        kind,
        "does " + name,
        List.of(),
        Set.of(),
        false,
        Operation.Visibility.EXTERNAL,
        List.of(),
        Operation.Overflow.DROP_OLDEST,
        16,
        false,
        SCHEMA,
        kind == Operation.Kind.SUBSCRIPTION ? null : Schemas.of(Nested.class),
        kind == Operation.Kind.SUBSCRIPTION ? Schemas.of(Nested.class) : null);
  }

  @Test
  void openapiMovesDefsToComponentsAndRewritesRefs() {
    ObjectNode doc =
        OpenApiProjection.document(
            "t",
            "1",
            List.of(
                spec("a/query", Operation.Kind.QUERY),
                spec("a/change", Operation.Kind.MUTATION),
                spec("a/stream", Operation.Kind.SUBSCRIPTION)));
    assertEquals("3.1.0", doc.get("openapi").asText());
    JsonNode paths = doc.get("paths");
    assertTrue(paths.get("/v1/a/query").has("get"));
    assertTrue(paths.get("/v1/a/query").has("post"));
    assertFalse(paths.get("/v1/a/change").has("get"));
    assertTrue(
        paths
            .get("/v1/a/stream")
            .get("get")
            .get("responses")
            .get("200")
            .get("content")
            .has("text/event-stream"));
    assertEquals(
        "scope call:a",
        paths.get("/v1/a/query").get("get").get("description").asText().substring(7));
    JsonNode schemas = doc.get("components").get("schemas");
    assertTrue(schemas.has("a.query.input"));
    String text = doc.toString();
    assertFalse(text.contains("#/$defs/"), "every $ref points into components");
    // every $ref resolves inside the document
    doc.findValues("$ref")
        .forEach(
            ref ->
                assertFalse(
                    doc.at(ref.asText().substring(1)).isMissingNode(), "dangling " + ref.asText()));
  }
}

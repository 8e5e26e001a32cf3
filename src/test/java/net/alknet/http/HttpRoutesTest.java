package net.alknet.http;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import net.alknet.auth.ApiKeys;
import net.alknet.auth.NewApiKey;
import net.alknet.node.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * REST Assured contract of every HTTP route and every error status (HTTP-2..4, HTTP-7), through the
 * endpoint's port (TLS/TCP; REST Assured offers no ALPN, so it gets the default http/1.1).
 */
@QuarkusTest
@Timeout(60)
class HttpRoutesTest {

  static final NewApiKey FULL = ApiKeys.generate();
  static final NewApiKey GIT_ONLY = ApiKeys.generate();

  @Inject Node node;
  String base;

  @BeforeEach
  void start() throws Exception {
    Path dir = Files.createTempDirectory("alknet-http");
    Files.writeString(
        dir.resolve("api_keys"),
        "full "
            + FULL.hash()
            + " scopes=call,admin:metrics\n"
            + "gitonly "
            + GIT_ONLY.hash()
            + " scopes=git:read\n");
    node.start(new Node.Overrides(Optional.of(dir), OptionalInt.of(0), Optional.of("127.0.0.1")));
    base = "https://127.0.0.1:" + node.endpoint().orElseThrow().port();
    RestAssured.useRelaxedHTTPSValidation();
  }

  @AfterEach
  void stop() {
    node.stop();
  }

  RequestSpecification as(NewApiKey key) {
    return given().baseUri(base).header("Authorization", "Bearer " + key.key());
  }

  RequestSpecification anonymous() {
    return given().baseUri(base);
  }

  // ---------------------------------------------------------------- success

  @Test
  void postCallsAnOperationWithTheJsonBody() {
    as(FULL)
        .contentType("application/json")
        .body("{\"text\":\"hello\"}")
        .post("/v1/demo/echo")
        .then()
        .statusCode(200)
        .contentType("application/json")
        .body("text", equalTo("hello"));
  }

  @Test
  void getCallsAQueryWithTypedQueryParameters() {
    as(FULL).get("/v1/demo/echo?text=q").then().statusCode(200).body("text", equalTo("q"));
    // an integer parameter is parsed as a number: the schema accepts it
    as(FULL)
        .header("Accept", "text/event-stream")
        .get("/v1/demo/ticks?count=2&intervalMs=5")
        .then()
        .statusCode(200)
        .contentType(startsWith("text/event-stream"))
        .body(containsString("id: 1\ndata: {\"n\":1,"))
        .body(containsString("id: 2\ndata: {\"n\":2,"))
        .body(containsString("event: completed\ndata: {}\n\n"));
  }

  @Test
  void postCallsAMutation() {
    as(FULL)
        .body("{\"ms\":1}")
        .post("/v1/demo/sleep")
        .then()
        .statusCode(200)
        .body("requestedMs", equalTo(1))
        .body("aborted", equalTo(false));
  }

  @Test
  void schemaListsWhatTheCallerMayCall() {
    as(FULL)
        .get("/v1/schema")
        .then()
        .statusCode(200)
        .body("operations.name", hasItem("demo/echo"))
        .body("operations.name", hasItem("demo/whoami"))
        .body("operations.name", not(hasItem("sys/register")));
    as(GIT_ONLY)
        .get("/v1/schema")
        .then()
        .statusCode(200)
        .body("operations.name", hasItem("demo/echo")) // open
        .body("operations.name", not(hasItem("demo/whoami"))); // needs call:demo
  }

  @Test
  void openapiIsProjectedFromTheRegistry() {
    as(FULL)
        .get("/openapi")
        .then()
        .statusCode(200)
        .body("openapi", equalTo("3.1.0"))
        .body("paths.'/v1/demo/echo'.post.operationId", equalTo("demo.echo.post"))
        .body("paths.'/v1/demo/echo'.get.parameters[0].name", equalTo("text"))
        .body("paths.'/v1/demo/sleep'.get", equalTo(null)) // a mutation: POST only
        .body("paths.'/v1/demo/ticks'.get.responses.'200'.content", hasKey("text/event-stream"))
        .body("components.schemas.'demo.echo.input'.properties.text.type", equalTo("string"))
        .body("components.securitySchemes.bearer.scheme", equalTo("bearer"));
    anonymous().get("/openapi").then().statusCode(401);
  }

  @io.quarkus.test.common.http.TestHTTPResource(value = "openapi", management = true)
  java.net.URL smallryeOpenapi;

  @Test
  void smallryeRouteCarriesTheSameProjection() {
    given()
        .get(smallryeOpenapi + "?format=json")
        .then()
        .statusCode(200)
        .body("openapi", startsWith("3.1"))
        .body("paths.'/v1/schema'.get", org.hamcrest.Matchers.notNullValue()) // JAX-RS, scanned
        .body("paths.'/v1/demo/echo'.post.operationId", equalTo("demo.echo.post")) // registry
        .body("components.schemas.'demo.echo.input'.properties.text.type", equalTo("string"))
        .body("components.securitySchemes.bearer.scheme", equalTo("bearer"));
  }

  static org.hamcrest.Matcher<java.util.Map<? extends String, ?>> hasKey(String k) {
    return org.hamcrest.Matchers.hasKey(k);
  }

  @Test
  void healthNeedsNoCredential() {
    anonymous().get("/healthz").then().statusCode(200).body("status", equalTo("UP"));
    anonymous()
        .get("/readyz")
        .then()
        .statusCode(200)
        .body("status", equalTo("UP"))
        .body("checks.name", hasItem("alknet-endpoint"));
  }

  @Test
  void metricsNeedScopeAdminMetrics() {
    as(FULL)
        .get("/metrics")
        .then()
        .statusCode(200)
        .contentType(startsWith("text/plain"))
        .body(containsString("alknet_connections_accepted_total{alpn=\"http/1.1\""));
    as(GIT_ONLY).get("/metrics").then().statusCode(403).body("code", equalTo("FORBIDDEN"));
    anonymous().get("/metrics").then().statusCode(401);
  }

  // ---------------------------------------------------------------- errors

  @Test
  void invalidInputIs400WithThePath() {
    as(FULL)
        .body("{\"txt\":\"typo\"}")
        .post("/v1/demo/echo")
        .then()
        .statusCode(400)
        .body("code", equalTo("INVALID_INPUT"))
        .body("details.errors.path", hasItem("$"));
  }

  @Test
  void malformedInputIs400() {
    as(FULL)
        .body("{\"text\":")
        .post("/v1/demo/echo")
        .then()
        .statusCode(400)
        .body("code", equalTo("INVALID_INPUT"))
        .body("message", containsString("not JSON"));
    as(FULL)
        .header("Accept", "text/event-stream")
        .get("/v1/demo/ticks?count=many&intervalMs=5")
        .then()
        .statusCode(400)
        .body("message", containsString("count must be an integer"));
    as(FULL)
        .header(OperationRoutes.DEADLINE_HEADER, "soon")
        .get("/v1/demo/echo?text=x")
        .then()
        .statusCode(400)
        .body("message", containsString(OperationRoutes.DEADLINE_HEADER));
  }

  @Test
  void missingOrInvalidCredentialIs401WithWwwAuthenticate() {
    anonymous()
        .get("/v1/demo/echo?text=x")
        .then()
        .statusCode(401)
        .header("WWW-Authenticate", startsWith("Bearer"))
        .body("code", equalTo("UNAUTHENTICATED"));
    given()
        .baseUri(base)
        .header("Authorization", "Bearer alk_not-a-real-key")
        .get("/v1/demo/echo?text=x")
        .then()
        .statusCode(401)
        .header("WWW-Authenticate", startsWith("Bearer"))
        .body("message", equalTo("unauthenticated"));
    given()
        .baseUri(base)
        .header("Authorization", "Basic dXNlcjpwYXNz")
        .get("/v1/schema")
        .then()
        .statusCode(401)
        .header("WWW-Authenticate", startsWith("Bearer"));
  }

  @Test
  void missingScopeIs403() {
    as(GIT_ONLY)
        .get("/v1/demo/whoami")
        .then()
        .statusCode(403)
        .body("code", equalTo("FORBIDDEN"))
        .body("message", containsString("call:demo"));
  }

  @Test
  void unknownOperationIs404Json() {
    as(FULL)
        .get("/v1/demo/nope")
        .then()
        .statusCode(404)
        .contentType("application/json")
        .body("code", equalTo("NOT_FOUND"));
    // the session-only builtin is not reachable over HTTP
    as(FULL).post("/v1/sys/register").then().statusCode(404);
  }

  @Test
  void wrongMethodIs405WithAllow() {
    as(FULL)
        .delete("/v1/demo/echo")
        .then()
        .statusCode(405)
        .header("Allow", "GET, POST")
        .body("code", equalTo("INVALID_INPUT"));
    as(FULL).get("/v1/demo/sleep?ms=1").then().statusCode(405).header("Allow", "POST");
  }

  @Test
  void subscriptionWithoutEventStreamIs406() {
    as(FULL)
        .get("/v1/demo/ticks?count=1&intervalMs=5")
        .then()
        .statusCode(406)
        .body("message", containsString("text/event-stream"));
  }

  @Test
  void oversizedBodyIs413() {
    String big = "{\"text\":\"" + "x".repeat(1_100_000) + "\"}";
    as(FULL)
        .body(big)
        .post("/v1/demo/echo")
        .then()
        .statusCode(413)
        .body("code", equalTo("FRAME_TOO_LARGE"));
  }

  @Test
  void inputTheOperationRejectsIs400() {
    // demo/ticks rejects a count out of range with INVALID_INPUT from the operation itself
    as(FULL)
        .header("Accept", "text/event-stream")
        .get("/v1/demo/ticks?count=0&intervalMs=5")
        .then()
        .statusCode(400)
        .body("details.errors.path", hasItem("$.count"));
  }

  @Test
  void unexpectedFailureIs500WithoutInternals() {
    as(FULL)
        .get("/v1/demo/fail?text=secret")
        .then()
        .statusCode(500)
        .body("code", equalTo("INTERNAL"))
        .body("message", equalTo("internal error"))
        .body(not(containsString("secret")))
        .body(not(containsString("Exception")));
  }

  @Test
  void deadlineIs504() {
    as(FULL)
        .header(OperationRoutes.DEADLINE_HEADER, "100")
        .body("{\"ms\":10000}")
        .post("/v1/demo/sleep")
        .then()
        .statusCode(504)
        .body("code", equalTo("DEADLINE_EXCEEDED"));
  }
}

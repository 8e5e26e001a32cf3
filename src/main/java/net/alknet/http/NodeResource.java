package net.alknet.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.smallrye.health.SmallRyeHealth;
import io.smallrye.health.SmallRyeHealthReporter;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.inject.Instance;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import net.alknet.auth.Identity;
import net.alknet.call.CallHandler;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationSpec;
import net.alknet.call.op.RegisteredOperation;
import net.alknet.call.session.CallSession;
import net.alknet.call.session.Sink;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.config.AlknetConfig;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The fixed HTTP routes (RESTEasy Reactive): {@code GET /v1/schema} (the operations the caller may
 * call), {@code GET /openapi} (HTTP-4), {@code /healthz} and {@code /readyz} (HTTP-7, no
 * credential) and {@code /metrics} (Prometheus, scope {@code admin:metrics}).
 */
@Path("/")
public class NodeResource {

  /** The scope that lets a credential read {@code /metrics} through the public port. */
  public static final String METRICS_SCOPE = "admin:metrics";

  private final CallHandler calls;
  private final HttpAuth auth;
  private final AlknetConfig config;
  private final SmallRyeHealthReporter health;
  private final Instance<PrometheusMeterRegistry> prometheus;
  private final String version;

  public NodeResource(
      CallHandler calls,
      HttpAuth auth,
      AlknetConfig config,
      SmallRyeHealthReporter health,
      Instance<PrometheusMeterRegistry> prometheus,
      @ConfigProperty(name = "quarkus.application.version", defaultValue = "dev") String version) {
    this.calls = calls;
    this.auth = auth;
    this.config = config;
    this.health = health;
    this.prometheus = prometheus;
    this.version = version;
  }

  @GET
  @Path("v1/schema")
  @Produces(MediaType.APPLICATION_JSON)
  public Uni<Response> schema(@Context HttpServerRequest request) {
    Identity who;
    try {
      who = auth.authenticate(request);
    } catch (HttpProblem p) {
      return Uni.createFrom().item(problem(p));
    }
    CallSession session = calls.requestSession("http-schema", who, auth.identities(request));
    CompletableFuture<Response> result = new CompletableFuture<>();
    session.invoke(
        "sys/describe",
        null,
        null,
        Map.of(),
        new Sink() {
          @Override
          public void responded(JsonNode output) {
            ObjectNode out = (ObjectNode) output;
            ArrayNode ops = (ArrayNode) out.get("operations");
            for (int i = ops.size() - 1; i >= 0; i--) {
              if (ops.get(i).path("name").asText().equals("sys/register")) {
                ops.remove(i); // a session-only builtin: not callable over HTTP
              }
            }
            result.complete(Response.ok(out.toString(), MediaType.APPLICATION_JSON).build());
          }

          @Override
          public void event(JsonNode event) {}

          @Override
          public void completed() {}

          @Override
          public void error(CallError error) {
            result.complete(problem(HttpProblem.of(error)));
          }
        });
    return Uni.createFrom().completionStage(result);
  }

  @GET
  @Path("openapi")
  @Produces(MediaType.APPLICATION_JSON)
  public Response openapi(@Context HttpServerRequest request) {
    Identity who = null;
    if (!config.http().publicOpenapi()) {
      try {
        who = auth.authenticate(request);
      } catch (HttpProblem p) {
        return problem(p);
      }
    }
    Identity caller = who;
    List<OperationSpec> ops =
        calls.registry().all().stream()
            .map(RegisteredOperation::spec)
            .filter(s -> s.visibility() == Operation.Visibility.EXTERNAL)
            .filter(s -> caller == null || CallSession.allowed(caller, s))
            .toList();
    String title = "alknet node " + config.call().nodeName().orElse("").trim();
    return Response.ok(
            OpenApiProjection.document(title.trim(), version, ops).toString(),
            MediaType.APPLICATION_JSON)
        .build();
  }

  @GET
  @Path("healthz")
  @Produces(MediaType.APPLICATION_JSON)
  public Response liveness() {
    return health(health.getLiveness());
  }

  @GET
  @Path("readyz")
  @Produces(MediaType.APPLICATION_JSON)
  public Response readiness() {
    return health(health.getReadiness());
  }

  private static Response health(SmallRyeHealth h) {
    return Response.status(h.isDown() ? 503 : 200)
        .entity(h.getPayload().toString())
        .type(MediaType.APPLICATION_JSON)
        .header("Cache-Control", "no-store")
        .build();
  }

  @GET
  @Path("metrics")
  @Produces("text/plain; version=0.0.4; charset=utf-8")
  public Response metrics(@Context HttpServerRequest request) {
    try {
      Identity who = auth.authenticate(request);
      if (!who.hasScope(METRICS_SCOPE)) {
        throw new HttpProblem(
            403, ErrorCodes.FORBIDDEN, "reading metrics needs scope " + METRICS_SCOPE);
      }
    } catch (HttpProblem p) {
      return problem(p);
    }
    if (!prometheus.isResolvable()) {
      return problem(new HttpProblem(404, ErrorCodes.NOT_FOUND, "no Prometheus registry"));
    }
    return Response.ok(prometheus.get().scrape(), "text/plain; version=0.0.4; charset=utf-8")
        .build();
  }

  private static Response problem(HttpProblem p) {
    Response.ResponseBuilder b =
        Response.status(p.status)
            .entity(HttpProblem.body(p.error).toString())
            .type(MediaType.APPLICATION_JSON)
            .header("Cache-Control", "no-store");
    if (p.status == 401) {
      b.header("WWW-Authenticate", "Bearer realm=\"alknet\"");
    }
    return b.build();
  }
}

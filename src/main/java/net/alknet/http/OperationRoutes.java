package net.alknet.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import net.alknet.auth.Identity;
import net.alknet.call.CallHandler;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationSpec;
import net.alknet.call.op.RegisteredOperation;
import net.alknet.call.session.CallHandle;
import net.alknet.call.session.CallSession;
import net.alknet.call.session.Sink;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.config.AlknetConfig;

/**
 * The operation mapping (HTTP-2): {@code POST /v1/{namespace}/{op}} with a JSON body, {@code GET}
 * with query parameters for queries, {@code GET} + {@code Accept: text/event-stream} on a
 * subscription for Server-Sent Events. Every request becomes one call through {@link
 * CallSession#invoke}: the registry, validation, scopes, deadline and abort path of {@code
 * alknet/call}. A client that goes away aborts its call.
 */
@ApplicationScoped
public class OperationRoutes {

  /** Relative deadline in milliseconds, like {@code deadlineMs} of a call request. */
  public static final String DEADLINE_HEADER = "X-Alknet-Deadline-Ms";

  private static final long MAX_DEADLINE_MS = 86_400_000L;
  private static final long STREAM_OPEN_DELAY_MS = 50;
  private static final int DISCARD_FACTOR = 16;
  private static final AtomicLong REQUESTS = new AtomicLong();

  private final Vertx vertx;
  private final CallHandler calls;
  private final HttpAuth auth;
  private final AlknetConfig config;

  public OperationRoutes(CallHandler calls, HttpAuth auth, AlknetConfig config, Vertx vertx) {
    this.vertx = vertx;
    this.calls = calls;
    this.auth = auth;
    this.config = config;
  }

  void routes(@Observes Router router) {
    // At least namespace/name; /v1/schema (no slash) belongs to NodeResource.
    router.routeWithRegex("/v1/([a-z0-9][a-z0-9._-]*(?:/[^/]+){1,3})").handler(this::handle);
  }

  private void handle(RoutingContext rc) {
    HttpServerRequest request = rc.request();
    HttpServerResponse response = rc.response();
    try {
      String op = rc.pathParam("param0");
      HttpMethod method = request.method();
      if (method != HttpMethod.GET && method != HttpMethod.POST && method != HttpMethod.HEAD) {
        response.putHeader("Allow", "GET, POST");
        throw new HttpProblem(405, ErrorCodes.INVALID_INPUT, "use GET or POST");
      }
      Identity who = auth.authenticate(request);
      Optional<OperationSpec> spec = calls.registry().lookup(op).map(RegisteredOperation::spec);
      boolean sse = accepts(request, "text/event-stream");
      Long deadline = deadline(request);
      if (method == HttpMethod.POST) {
        readBody(
            request,
            body -> call(request, response, who, op, spec, parseBody(body), deadline, sse),
            response);
        return;
      }
      if (spec.isPresent() && spec.get().kind() == Operation.Kind.MUTATION) {
        response.putHeader("Allow", "POST");
        throw new HttpProblem(405, ErrorCodes.INVALID_INPUT, op + " is a mutation: use POST");
      }
      JsonNode input =
          QueryInput.from(rc.queryParams(), spec.map(OperationSpec::inputSchema).orElse(null));
      call(request, response, who, op, spec, input, deadline, sse);
    } catch (HttpProblem p) {
      p.send(response);
    }
  }

  private void call(
      HttpServerRequest request,
      HttpServerResponse response,
      Identity who,
      String op,
      Optional<OperationSpec> spec,
      JsonNode input,
      Long deadline,
      boolean sse) {
    try {
      boolean subscription = spec.isPresent() && spec.get().kind() == Operation.Kind.SUBSCRIPTION;
      if (subscription && !sse) {
        throw new HttpProblem(
            406,
            ErrorCodes.INVALID_INPUT,
            op + " is a subscription: request it with Accept: text/event-stream");
      }
      String id = "http-" + REQUESTS.incrementAndGet();
      CallSession session = calls.requestSession(id, who, auth.identities(request));
      HttpSink sink = subscription ? new SseSink(response) : new JsonSink(response);
      AtomicReference<CallHandle> handle = new AtomicReference<>();
      response.closeHandler(
          v -> {
            CallHandle h = handle.get();
            if (h != null) {
              h.abort(CallError.of(ErrorCodes.ABORTED, "the HTTP client went away"));
            }
            sink.gone();
          });
      handle.set(session.invoke(op, input, deadline, Map.of(), sink));
      if (response.closed()) {
        handle.get().abort(CallError.of(ErrorCodes.ABORTED, "the HTTP client went away"));
      }
      // An operation that refuses its input fails at once: give it a moment to get a real status
      // (400, 403, ...) before the event stream opens with 200.
      vertx.setTimer(STREAM_OPEN_DELAY_MS, t -> sink.started());
    } catch (HttpProblem p) {
      p.send(response);
    }
  }

  // ---------------------------------------------------------------- request parsing

  static boolean accepts(HttpServerRequest request, String type) {
    String accept = request.getHeader("Accept");
    return accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains(type);
  }

  private static Long deadline(HttpServerRequest request) {
    String v = request.getHeader(DEADLINE_HEADER);
    if (v == null) {
      return null;
    }
    try {
      long ms = Long.parseLong(v.trim());
      if (ms > 0 && ms <= MAX_DEADLINE_MS) {
        return ms;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new HttpProblem(
        400,
        ErrorCodes.INVALID_INPUT,
        DEADLINE_HEADER + " must be a whole number of milliseconds from 1 to " + MAX_DEADLINE_MS);
  }

  /**
   * Reads the body up to {@code alknet.http.max-body-size}. A larger body gets 413 once the client
   * has sent it (read and discarded, so the client sees the answer rather than a reset), unless it
   * is beyond {@link #DISCARD_FACTOR} times the bound: then 413 at once and the connection ends.
   */
  private void readBody(
      HttpServerRequest request, java.util.function.Consumer<Buffer> then, HttpServerResponse r) {
    int max = config.http().maxBodySize();
    long discardLimit = (long) max * DISCARD_FACTOR;
    String length = request.getHeader("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > discardLimit) {
          tooLarge(request, r, max, true);
          return;
        }
      } catch (NumberFormatException e) {
        new HttpProblem(400, ErrorCodes.INVALID_INPUT, "bad Content-Length").send(r);
        return;
      }
    }
    Buffer body = Buffer.buffer();
    long[] seen = {0};
    boolean[] failed = {false};
    request.handler(
        chunk -> {
          if (failed[0]) {
            return;
          }
          seen[0] += chunk.length();
          if (seen[0] > discardLimit) {
            failed[0] = true;
            tooLarge(request, r, max, true);
          } else if (seen[0] <= max) {
            body.appendBuffer(chunk);
          }
        });
    request.exceptionHandler(e -> failed[0] = true);
    request.endHandler(
        v -> {
          if (failed[0]) {
            return;
          }
          if (seen[0] > max) {
            tooLarge(request, r, max, false);
            return;
          }
          try {
            then.accept(body);
          } catch (HttpProblem p) {
            p.send(r);
          }
        });
    request.resume();
  }

  private static void tooLarge(
      HttpServerRequest request, HttpServerResponse r, int max, boolean endConnection) {
    if (endConnection) {
      r.putHeader("Connection", "close");
    }
    new HttpProblem(
            413, ErrorCodes.FRAME_TOO_LARGE, "the request body is larger than " + max + " bytes")
        .send(r);
    if (endConnection) {
      if (request.version() == io.vertx.core.http.HttpVersion.HTTP_2) {
        r.reset();
      } else {
        request.connection().close();
      }
    }
  }

  private static JsonNode parseBody(Buffer body) {
    if (body.length() == 0) {
      return EnvelopeCodec.json().createObjectNode();
    }
    try {
      return EnvelopeCodec.json().readTree(body.getBytes());
    } catch (JsonProcessingException e) {
      throw new HttpProblem(
          400,
          ErrorCodes.INVALID_INPUT,
          "the request body is not JSON (line "
              + e.getLocation().getLineNr()
              + ", column "
              + e.getLocation().getColumnNr()
              + ")");
    } catch (java.io.IOException e) {
      throw new HttpProblem(400, ErrorCodes.INVALID_INPUT, "the request body is not JSON");
    }
  }

  // ---------------------------------------------------------------- sinks

  /** A call's outcome written to an HTTP response. */
  private abstract static class HttpSink implements Sink {
    final HttpServerResponse response;
    volatile boolean gone;

    HttpSink(HttpServerResponse response) {
      this.response = response;
    }

    /** The call started (its early errors, if any, were already answered). */
    void started() {}

    /** The client went away. */
    void gone() {
      gone = true;
      synchronized (this) {
        notifyAll();
      }
    }

    @Override
    public void error(CallError error) {
      HttpProblem.send(response, HttpProblem.status(error.code()), error);
    }
  }

  /** Queries and mutations: one JSON response. */
  private static final class JsonSink extends HttpSink {
    JsonSink(HttpServerResponse response) {
      super(response);
    }

    @Override
    public void responded(JsonNode output) {
      if (!response.ended() && !gone) {
        response
            .putHeader("Content-Type", "application/json")
            .putHeader("Cache-Control", "no-store")
            .end(Buffer.buffer(output.toString()));
      }
    }

    @Override
    public void event(JsonNode event) {}

    @Override
    public void completed() {
      if (!response.ended() && !gone) {
        response.setStatusCode(204).end();
      }
    }
  }

  /**
   * Subscriptions as Server-Sent Events: one {@code message} event per call event, then {@code
   * completed}, or {@code error} with {@code {code, message, details}}. A slow client holds the
   * subscription's pump (its bounded queue then drops or overflows, as over {@code alknet/call}).
   */
  private static final class SseSink extends HttpSink {
    private boolean headSent;
    private long seq;

    SseSink(HttpServerResponse response) {
      super(response);
    }

    private void head() {
      if (!headSent) {
        headSent = true;
        response
            .setStatusCode(200)
            .setChunked(true)
            .putHeader("Content-Type", "text/event-stream; charset=utf-8")
            .putHeader("Cache-Control", "no-store")
            .putHeader("X-Accel-Buffering", "no");
      }
    }

    @Override
    synchronized void started() {
      // Open the stream now (an early error was answered with a status already).
      if (!response.ended() && !gone) {
        head();
        response.write(": subscribed\n\n");
      }
    }

    @Override
    public void responded(JsonNode output) {
      event(output);
      completed();
    }

    @Override
    public synchronized void event(JsonNode event) {
      if (gone || response.ended()) {
        return;
      }
      head();
      response.write("id: " + (++seq) + "\ndata: " + event + "\n\n");
      while (response.writeQueueFull() && !gone && !response.closed()) {
        response.drainHandler(v -> wake());
        try {
          wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }

    private synchronized void wake() {
      notifyAll();
    }

    @Override
    public synchronized void completed() {
      if (gone || response.ended()) {
        return;
      }
      head();
      response.end("event: completed\ndata: {}\n\n");
    }

    @Override
    public synchronized void error(CallError error) {
      if (!headSent) {
        super.error(error);
        return;
      }
      if (!gone && !response.ended()) {
        response.end("event: error\ndata: " + HttpProblem.body(error) + "\n\n");
      }
    }
  }
}

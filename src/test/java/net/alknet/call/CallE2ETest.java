package net.alknet.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.alknet.auth.ApiKeys;
import net.alknet.auth.NewApiKey;
import net.alknet.call.client.CallClient;
import net.alknet.call.client.CallOptions;
import net.alknet.call.client.PendingCall;
import net.alknet.call.client.Subscription;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.EndpointServer;
import net.alknet.endpoint.Transport;
import net.alknet.endpoint.Trust;
import net.alknet.node.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The call protocol end to end through the node as Quarkus wires it, with the Java CallClient over
 * QUIC and TLS/TCP (CALL-3..CALL-11).
 */
@QuarkusTest
@Timeout(120)
class CallE2ETest {

  static final NewApiKey FULL = ApiKeys.generate();
  static final NewApiKey GIT_ONLY = ApiKeys.generate();

  @Inject Node node;
  EndpointServer server;
  EndpointClient endpoints;
  final List<CallClient> clients = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    Path dir = Files.createTempDirectory("alknet-call-e2e");
    Files.writeString(
        dir.resolve("api_keys"),
        "full "
            + FULL.hash()
            + " scopes=call\n"
            + "gitonly "
            + GIT_ONLY.hash()
            + " scopes=git:read\n");
    node.start(new Node.Overrides(Optional.of(dir), OptionalInt.of(0), Optional.of("127.0.0.1")));
    server = node.endpoint().orElseThrow();
    endpoints =
        new EndpointClient(
            null,
            Optional.empty(),
            EndpointLimits.DEFAULTS,
            new EndpointMetrics(new SimpleMeterRegistry()));
  }

  @AfterEach
  void stop() {
    clients.forEach(CallClient::close);
    endpoints.close();
    node.stop();
  }

  CallClient connect(Transport t, String auth) throws Exception {
    return connect(t, auth, CallClient.Options.DEFAULTS);
  }

  CallClient connect(Transport t, String auth, CallClient.Options options) throws Exception {
    CallClient c =
        CallClient.connect(
            endpoints,
            "127.0.0.1",
            server.port(),
            Trust.pinned(server.tlsIdentity().fingerprint()),
            t,
            auth,
            "e2e",
            options);
    clients.add(c);
    return c;
  }

  static ObjectNode obj(String k, Object v) {
    ObjectNode o = EnvelopeCodec.json().createObjectNode();
    o.set(k, EnvelopeCodec.json().valueToTree(v));
    return o;
  }

  static CallException failure(CompletableFuture<?> f) throws Exception {
    try {
      f.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return assertInstanceOf(CallException.class, e.getCause());
    }
    throw new AssertionError("call succeeded");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void thousandConcurrentCallsOnOneConnectionCompleteOutOfOrder(Transport t) throws Exception {
    CallClient c = connect(t, FULL.key());
    int n = 1000;
    List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
    List<Integer> order = Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < n; i++) {
      int k = i;
      calls.add(
          c.call("demo/sleep", obj("ms", (n - i) % 40), CallOptions.DEFAULT)
              .whenComplete((r, e) -> order.add(k)));
    }
    CompletableFuture.allOf(calls.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
    assertEquals(n, order.size());
    List<Integer> sorted = new ArrayList<>(order);
    Collections.sort(sorted);
    assertNotEquals(sorted, order, "answers came back in request order");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void echoSubscriptionAndDescribe(Transport t) throws Exception {
    CallClient c = connect(t, FULL.key());
    assertEquals(
        "hi",
        c.call("demo/echo", obj("text", "hi"), CallOptions.DEFAULT)
            .get(10, TimeUnit.SECONDS)
            .get("text")
            .asText());
    AtomicInteger events = new AtomicInteger();
    ObjectNode in = obj("count", 5);
    in.put("intervalMs", 10);
    Subscription s =
        c.subscribe("demo/ticks", in, e -> events.incrementAndGet(), CallOptions.DEFAULT);
    s.done().get(10, TimeUnit.SECONDS);
    assertEquals(5, events.get());
    JsonNode d =
        c.call("sys/describe", EnvelopeCodec.json().createObjectNode(), CallOptions.DEFAULT)
            .get(10, TimeUnit.SECONDS);
    assertTrue(d.toString().contains("\"demo/nested\""), d.toString());
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void slowSubscriberStaysBoundedAndCompletes(Transport t) throws Exception {
    CallClient c = connect(t, FULL.key());
    AtomicInteger events = new AtomicInteger();
    // 2,000 events of 16 KiB (32 MB) against a consumer that takes 5 ms each: far more than the
    // transport's flow-control windows hold, so the node's bounded queue must drop the oldest.
    ObjectNode in = obj("count", 2000);
    in.put("intervalMs", 1);
    in.put("pad", 16_384);
    Subscription s =
        c.subscribe(
            "demo/ticks",
            in,
            e -> {
              events.incrementAndGet();
              try {
                Thread.sleep(5); // slower than the producer: the node drops the oldest
              } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
              }
            },
            CallOptions.DEFAULT);
    s.done().get(60, TimeUnit.SECONDS);
    assertTrue(events.get() < 2000, "no event dropped: " + events.get());
    assertTrue(events.get() > 0);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void abortOfNestedAbortsTheChild(Transport t) throws Exception {
    CallClient c = connect(t, FULL.key());
    long tag = 29_000 + (t == Transport.QUIC ? 1 : 2);
    PendingCall p = c.start("demo/nested", obj("ms", tag), CallOptions.DEFAULT);
    awaitRunningSleep(c, tag);
    p.abort();
    assertEquals(ErrorCodes.ABORTED, failure(p.result()).code());
    awaitAbortedSleep(c, tag);
  }

  /** Waits until a demo/sleep of exactly {@code requestedMs} is running on the node. */
  private static void awaitRunningSleep(CallClient c, long requestedMs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      JsonNode recent =
          c.call("demo/sleeps", EnvelopeCodec.json().createObjectNode(), CallOptions.DEFAULT)
              .get(10, TimeUnit.SECONDS)
              .get("recent");
      for (JsonNode s : recent) {
        if (s.get("requestedMs").asLong() == requestedMs && s.get("running").asBoolean()) {
          return;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no running demo/sleep of " + requestedMs + " ms");
  }

  private static void awaitAbortedSleep(CallClient c, long requestedMs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      JsonNode recent =
          c.call("demo/sleeps", EnvelopeCodec.json().createObjectNode(), CallOptions.DEFAULT)
              .get(10, TimeUnit.SECONDS)
              .get("recent");
      for (JsonNode s : recent) {
        if (s.get("requestedMs").asLong() == requestedMs && !s.get("running").asBoolean()) {
          assertTrue(s.get("aborted").asBoolean(), s.toString());
          assertTrue(s.get("sleptMs").asLong() < requestedMs, s.toString());
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no aborted demo/sleep of " + requestedMs + " ms");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void deadlineAndConnectionDropAbort(Transport t) throws Exception {
    CallClient c = connect(t, FULL.key());
    CompletableFuture<JsonNode> late =
        c.call("demo/sleep", obj("ms", 20_000), CallOptions.deadline(Duration.ofMillis(200)));
    assertEquals(ErrorCodes.DEADLINE_EXCEEDED, failure(late).code());

    CallClient doomed = connect(t, FULL.key());
    long tag = 28_000 + (t == Transport.QUIC ? 1 : 2);
    doomed.start("demo/nested", obj("ms", tag), CallOptions.DEFAULT);
    awaitRunningSleep(c, tag);
    doomed.close(); // the connection goes away with the call in flight
    awaitAbortedSleep(c, tag);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void authScopesAndInputErrors(Transport t) throws Exception {
    CallException bad =
        org.junit.jupiter.api.Assertions.assertThrows(
            CallException.class, () -> connect(t, "alk_" + "B".repeat(43)));
    assertEquals(ErrorCodes.UNAUTHENTICATED, bad.code());

    CallClient limited = connect(t, GIT_ONLY.key());
    CallException forbidden =
        failure(
            limited.call(
                "demo/whoami", EnvelopeCodec.json().createObjectNode(), CallOptions.DEFAULT));
    assertEquals(ErrorCodes.FORBIDDEN, forbidden.code());

    CallClient full = connect(t, FULL.key());
    assertEquals(
        "apikey:full",
        full.call("demo/whoami", EnvelopeCodec.json().createObjectNode(), CallOptions.DEFAULT)
            .get(10, TimeUnit.SECONDS)
            .get("id")
            .asText());
    CallException invalid =
        failure(full.call("demo/sleep", obj("ms", "later"), CallOptions.DEFAULT));
    assertEquals(ErrorCodes.INVALID_INPUT, invalid.code());
    assertTrue(invalid.getMessage().contains("$.ms"), invalid.getMessage());
    CallException missing = failure(full.call("demo/missing", obj("x", 1), CallOptions.DEFAULT));
    assertEquals(ErrorCodes.NOT_FOUND, missing.code());
  }

  /** CALL-4: over QUIC, calls spread over extra streams of one connection are all answered. */
  @org.junit.jupiter.api.Test
  void quicCallsOnExtraStreams() throws Exception {
    CallClient c = connect(Transport.QUIC, FULL.key(), CallClient.Options.DEFAULTS.streams(4));
    List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(c.call("demo/echo", obj("text", "s" + i), CallOptions.DEFAULT));
    }
    for (int i = 0; i < 200; i++) {
      assertEquals("s" + i, calls.get(i).get(20, TimeUnit.SECONDS).get("text").asText());
    }
    assertEquals(4, c.streamCount());
  }

  /** CALL-7: the node calls an operation the client registered for its session. */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void nodeCallsBackTheClient(Transport t) throws Exception {
    CallClient c = connect(t, FULL.key());
    c.registerLocal("client/greet", "query", in -> obj("text", "hello " + in.get("text").asText()))
        .get(10, TimeUnit.SECONDS);
    JsonNode out =
        c.call("demo/callback", obj("text", "bob"), CallOptions.DEFAULT).get(10, TimeUnit.SECONDS);
    assertEquals("hello bob", out.get("text").asText());
  }
}

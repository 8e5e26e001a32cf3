package net.alknet.call.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.alknet.auth.ApiKeys;
import net.alknet.auth.ConfigIdentityProvider;
import net.alknet.auth.IdentityDirectory;
import net.alknet.auth.NewApiKey;
import net.alknet.auth.TokenPolicy;
import net.alknet.call.demo.DemoOperations;
import net.alknet.call.op.OperationBinder;
import net.alknet.call.op.OperationRegistry;
import net.alknet.call.op.RegisteredOperation;
import net.alknet.call.wire.Envelope;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.call.wire.FrameCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The call engine on in-memory streams (CALL-3..CALL-7, CALL-11). */
@Timeout(30)
class CallSessionTest {

  static final NewApiKey FULL = ApiKeys.generate();
  static final NewApiKey LIMITED = ApiKeys.generate();
  static final IdentityDirectory DIRECTORY = directory();

  static IdentityDirectory directory() {
    try {
      return IdentityDirectory.of(
          List.of(),
          ApiKeys.parse(
              "full "
                  + FULL.hash()
                  + " scopes=call\nlimited "
                  + LIMITED.hash()
                  + " scopes=git:read\n"));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  final DemoOperations demo = new DemoOperations();
  final ExecutorService workers = Executors.newFixedThreadPool(8);
  final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
  OperationRegistry registry;
  CallSession session;
  Thread server;
  Peer peer;

  /** The client end: raw frames in and out. */
  static final class Peer {
    final OutputStream out;
    final BlockingQueue<Envelope> received = new LinkedBlockingQueue<>();
    volatile boolean ended;

    Peer(InputStream in, OutputStream out) {
      this.out = out;
      Thread t =
          new Thread(
              () -> {
                try {
                  byte[] f;
                  while ((f = FrameCodec.read(in, 1 << 20)) != null) {
                    received.add(EnvelopeCodec.decode(f));
                  }
                } catch (IOException e) {
                  // session ended
                } finally {
                  ended = true;
                }
              });
      t.setDaemon(true);
      t.start();
    }

    void send(Envelope e) throws IOException {
      FrameCodec.write(out, EnvelopeCodec.encode(e));
    }

    void sendRaw(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    Envelope next() throws InterruptedException {
      Envelope e = received.poll(10, TimeUnit.SECONDS);
      assertNotNull(e, "no frame within 10 s");
      return e;
    }

    /** Next frame about call {@code id}, skipping others (kept in order for later). */
    Envelope nextFor(String id) throws InterruptedException {
      while (true) {
        Envelope e = next();
        if (id.equals(e.id())) {
          return e;
        }
      }
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    List<RegisteredOperation> ops = new ArrayList<>();
    ops.addAll(OperationBinder.bind(demo, DemoOperations.class));
    ops.addAll(OperationBinder.bind(new TestOps(), TestOps.class));
    registry = OperationRegistry.of(ops);
  }

  void start(boolean anonymous) throws IOException {
    PipedInputStream serverIn = new PipedInputStream(64 * 1024);
    PipedOutputStream clientOut = new PipedOutputStream(serverIn);
    PipedInputStream clientIn = new PipedInputStream(4 * 1024);
    PipedOutputStream serverOut = new PipedOutputStream(clientIn);
    session =
        new CallSession(
            "c-test",
            () -> registry,
            new ConfigIdentityProvider(() -> DIRECTORY, Clock.systemUTC(), TokenPolicy.DEFAULT),
            workers,
            timers,
            new CallSession.Settings(1 << 20, 4096, anonymous, "test-node"));
    server =
        new Thread(() -> session.serveSession(serverIn, serverOut, Optional.empty()), "session");
    server.setDaemon(true);
    server.start();
    peer = new Peer(clientIn, clientOut);
  }

  void login(NewApiKey key) throws Exception {
    start(false);
    peer.send(Envelope.hello(key.key(), "test"));
    Envelope w = peer.next();
    assertEquals(Envelope.WELCOME, w.type(), String.valueOf(w.error()));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (peer != null) {
      peer.out.close();
    }
    if (server != null) {
      server.join(5000);
    }
    workers.shutdownNow();
    timers.shutdownNow();
  }

  static ObjectNode obj(String k, Object v) {
    ObjectNode o = EnvelopeCodec.json().createObjectNode();
    o.set(k, EnvelopeCodec.json().valueToTree(v));
    return o;
  }

  static Envelope call(String id, String op, JsonNode input) {
    return Envelope.requested(id, op, input, null, null, null);
  }

  @Test
  void helloWithApiKeyIsWelcomedWithTheIdentity() throws Exception {
    start(false);
    peer.send(Envelope.hello(FULL.key(), "test"));
    Envelope w = peer.next();
    assertEquals(Envelope.WELCOME, w.type());
    assertEquals("apikey:full", w.identity().get("id").asText());
    assertEquals("call", w.identity().get("scopes").get(0).asText());
    assertEquals(1, w.protocol());
    assertEquals("test-node", w.node());
  }

  @Test
  void badCredentialMissingHelloAndAnonymousAreUnauthenticated() throws Exception {
    start(false);
    peer.send(Envelope.hello("alk_" + "A".repeat(43), "test"));
    Envelope e = peer.next();
    assertEquals(ErrorCodes.UNAUTHENTICATED, e.error().code());
    assertEquals("unauthenticated", e.error().message());
    assertNull(e.id());
    tearDown();

    start(false);
    peer.send(call("1", "demo/echo", obj("text", "x")));
    assertEquals(ErrorCodes.UNAUTHENTICATED, peer.next().error().code());
    tearDown();

    start(false);
    peer.send(Envelope.hello(null, "anon"));
    assertEquals(ErrorCodes.UNAUTHENTICATED, peer.next().error().code());
  }

  @Test
  void anonymousSessionsWhenAllowedHoldOnlyTheAnonymousScope() throws Exception {
    start(true);
    peer.send(Envelope.hello(null, "anon"));
    Envelope w = peer.next();
    assertEquals("anonymous", w.identity().get("id").asText());
    peer.send(call("1", "demo/echo", obj("text", "hi")));
    assertEquals("hi", peer.nextFor("1").output().get("text").asText());
    peer.send(call("2", "admin/reset", obj("text", "hi")));
    assertEquals(ErrorCodes.FORBIDDEN, peer.nextFor("2").error().code());
  }

  @Test
  void echoAndPing() throws Exception {
    login(FULL);
    peer.send(call("1", "demo/echo", obj("text", "héllo")));
    Envelope r = peer.nextFor("1");
    assertEquals(Envelope.RESPONDED, r.type());
    assertEquals("héllo", r.output().get("text").asText());
    peer.send(Envelope.ping("p1"));
    assertEquals(Envelope.pong("p1"), peer.nextFor("p1"));
  }

  @Test
  void thousandConcurrentCallsCompleteOutOfOrder() throws Exception {
    login(FULL);
    int n = 1000;
    for (int i = 0; i < n; i++) {
      long ms = (n - i) % 50; // later requests tend to finish first
      peer.send(call("c" + i, "demo/sleep", obj("ms", ms)));
    }
    Set<String> seen = new HashSet<>();
    List<String> order = new ArrayList<>();
    while (seen.size() < n) {
      Envelope e = peer.next();
      assertEquals(Envelope.RESPONDED, e.type(), String.valueOf(e.error()));
      assertTrue(seen.add(e.id()), "two terminal frames for " + e.id());
      order.add(e.id());
    }
    List<String> sorted = new ArrayList<>(order);
    sorted.sort(
        (a, b) ->
            Integer.compare(Integer.parseInt(a.substring(1)), Integer.parseInt(b.substring(1))));
    assertNotEquals(sorted, order, "responses came back in request order");
    assertEquals(0, session.inFlight());
  }

  @Test
  void errorsAreTypedAndLeakNothing() throws Exception {
    login(FULL);
    peer.send(call("1", "demo/nope", obj("text", "x")));
    assertEquals(ErrorCodes.NOT_FOUND, peer.nextFor("1").error().code());
    peer.send(call("2", "test/internal", obj("text", "x")));
    assertEquals(ErrorCodes.NOT_FOUND, peer.nextFor("2").error().code());
    peer.send(call("3", "demo/sleep", obj("ms", "soon")));
    Envelope bad = peer.nextFor("3");
    assertEquals(ErrorCodes.INVALID_INPUT, bad.error().code());
    assertTrue(bad.error().message().contains("$.ms"), bad.error().message());
    assertEquals("$.ms", bad.error().details().get("errors").get(0).get("path").asText());
    peer.send(call("4", "demo/echo", obj("txt", "typo")));
    assertEquals(ErrorCodes.INVALID_INPUT, peer.nextFor("4").error().code());
    peer.send(call("5", "test/boom", obj("text", "x")));
    Envelope boom = peer.nextFor("5");
    assertEquals(ErrorCodes.INTERNAL, boom.error().code());
    assertEquals("internal error", boom.error().message());
    assertNull(boom.error().details());
    peer.send(call("6", "test/declared", obj("text", "apples")));
    Envelope declared = peer.nextFor("6");
    assertEquals("OUT_OF_STOCK", declared.error().code());
    assertEquals("no apples left", declared.error().message());
    peer.send(call("7", "admin/reset", obj("text", "x")));
    Envelope forbidden = peer.nextFor("7");
    assertEquals(ErrorCodes.FORBIDDEN, forbidden.error().code());
    assertTrue(forbidden.error().message().contains("admin"), forbidden.error().message());
  }

  @Test
  void limitedIdentityIsForbiddenFromNamespaceScopedOperations() throws Exception {
    login(LIMITED);
    peer.send(call("1", "test/declared", obj("text", "x")));
    Envelope e = peer.nextFor("1");
    assertEquals(ErrorCodes.FORBIDDEN, e.error().code());
    assertTrue(e.error().message().contains("call:test"), e.error().message());
  }

  @Test
  void abortOfNestedAbortsItsChildObservedFromTheChild() throws Exception {
    login(FULL);
    peer.send(call("n1", "demo/nested", obj("ms", 20_000)));
    awaitChildRunning("n1.");
    peer.send(Envelope.aborted("n1", "user"));
    Envelope e = peer.nextFor("n1");
    assertEquals(ErrorCodes.ABORTED, e.error().code());
    awaitChildAborted("n1.");
  }

  /** Waits until a child sleep with this call-id prefix is running (started on the node). */
  private void awaitChildRunning(String childPrefix) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      for (DemoOperations.Slept s : demo.sleeps().recent()) {
        if (s.callId().startsWith(childPrefix) && s.running()) {
          return;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("child " + childPrefix + "* never started: " + demo.sleeps());
  }

  private void awaitChildAborted(String childPrefix) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (System.nanoTime() < deadline) {
      for (DemoOperations.Slept s : demo.sleeps().recent()) {
        if (s.callId().startsWith(childPrefix) && !s.running()) {
          assertTrue(s.aborted(), s.toString());
          assertTrue(s.sleptMs() < 5000, s.toString());
          return;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("child sleep " + childPrefix + "* not aborted: " + demo.sleeps());
  }

  @Test
  void deadlineExceeded() throws Exception {
    login(FULL);
    // Long enough for the child to have started (under load), short against its 20 s sleep.
    peer.send(Envelope.requested("d1", "demo/nested", obj("ms", 20_000), null, 1000L, Map.of()));
    awaitChildRunning("d1.");
    Envelope e = peer.nextFor("d1");
    assertEquals(ErrorCodes.DEADLINE_EXCEEDED, e.error().code());
    awaitChildAborted("d1.");
  }

  @Test
  void connectionLossAbortsEveryCall() throws Exception {
    login(FULL);
    peer.send(call("lost", "demo/nested", obj("ms", 20_000)));
    awaitChildRunning("lost.");
    peer.out.close(); // the peer goes away
    server.join(5000);
    assertFalse(server.isAlive());
    awaitChildAborted("lost.");
  }

  @Test
  void subscriptionStreamsEventsThenCompletes() throws Exception {
    login(FULL);
    peer.send(call("t", "demo/ticks", mapOf("count", 3, "intervalMs", 10)));
    for (int i = 1; i <= 3; i++) {
      Envelope ev = peer.nextFor("t");
      assertEquals(Envelope.EVENT, ev.type());
      assertEquals(i, ev.event().get("n").asInt());
    }
    assertEquals(Envelope.COMPLETED, peer.nextFor("t").type());
  }

  static ObjectNode mapOf(String k1, Object v1, String k2, Object v2) {
    ObjectNode o = obj(k1, v1);
    o.set(k2, EnvelopeCodec.json().valueToTree(v2));
    return o;
  }

  @Test
  void slowSubscriberDropsOldestWithinTheQueueBound() throws Exception {
    login(FULL);
    // The client reads nothing for a while: the 4 KiB pipe fills, the pump blocks, the queue of 16
    // fills and the oldest events are dropped instead of buffering 200k events.
    peer.send(call("f", "test/firehose", obj("n", 200_000)));
    Thread.sleep(1500);
    int events = 0;
    Envelope e;
    while ((e = peer.nextFor("f")).type().equals(Envelope.EVENT)) {
      events++;
    }
    assertEquals(Envelope.COMPLETED, e.type());
    assertTrue(events < 200_000, "nothing was dropped: " + events);
    assertTrue(events > 0);
  }

  @Test
  void slowSubscriberOfAStrictOperationGetsOverflow() throws Exception {
    login(FULL);
    peer.send(call("s", "test/strict-firehose", obj("n", 200_000)));
    Thread.sleep(1500);
    Envelope e;
    while ((e = peer.nextFor("s")).type().equals(Envelope.EVENT)) {
      // drain
    }
    assertEquals(Envelope.ERROR, e.type());
    assertEquals(ErrorCodes.OVERFLOW, e.error().code());
  }

  @Test
  void nodeCallsBackAnOperationTheClientRegistered() throws Exception {
    login(FULL);
    ObjectNode reg = EnvelopeCodec.json().createObjectNode();
    reg.putArray("operations").addObject().put("name", "client/greet").put("kind", "query");
    peer.send(call("r", "sys/register", reg));
    assertEquals(Envelope.RESPONDED, peer.nextFor("r").type());
    peer.send(call("cb", "test/callback", obj("text", "bob")));
    Envelope back = peer.next();
    assertEquals(Envelope.REQUESTED, back.type());
    assertEquals("client/greet", back.op());
    assertEquals("cb", back.parent());
    peer.send(Envelope.responded(back.id(), obj("text", "hello bob")));
    assertEquals("hello bob", peer.nextFor("cb").output().get("text").asText());
  }

  @Test
  void describeListsWhatTheCallerMayCallWithSchemas() throws Exception {
    login(LIMITED);
    peer.send(call("d", "sys/describe", EnvelopeCodec.json().createObjectNode()));
    JsonNode ops = peer.nextFor("d").output().get("operations");
    Set<String> names = new HashSet<>();
    for (JsonNode o : ops) {
      names.add(o.get("name").asText());
      assertNotNull(o.get("inputSchema"), o.toString());
    }
    assertTrue(names.contains("demo/echo"), names.toString());
    assertFalse(names.contains("admin/reset"), "forbidden op listed");
    assertFalse(names.contains("test/internal"), "internal op listed");
    JsonNode ticks = null;
    for (JsonNode o : ops) {
      if (o.get("name").asText().equals("demo/ticks")) {
        ticks = o;
      }
    }
    assertEquals("subscription", ticks.get("kind").asText());
    assertEquals("drop-oldest", ticks.get("overflow").asText());
    assertEquals(
        "integer", ticks.get("eventSchema").get("properties").get("n").get("type").asText());
  }

  @Test
  void badFramesGetACodeAndCloseTheStream() throws Exception {
    login(FULL);
    peer.sendRaw(new byte[] {0, 0, 0, 3, 'x', 'y', 'z'});
    Envelope e = peer.next();
    assertEquals(ErrorCodes.BAD_FRAME, e.error().code());
    assertNull(e.id());
    server.join(5000);
    assertFalse(server.isAlive(), "session did not end");

    tearDown();
    setUp();
    login(FULL);
    peer.sendRaw(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
    assertEquals(ErrorCodes.FRAME_TOO_LARGE, peer.next().error().code());
  }
}

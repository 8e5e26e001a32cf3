package net.alknet.call.client;

import static net.alknet.call.client.FakeNode.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.Envelope;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.call.wire.FrameCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** CallClient against a scripted in-process node (CALL-3..7, CALL-11, CALL-12). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CallClientTest {

  private FakeNode node;

  @BeforeEach
  void start() throws IOException {
    node = new FakeNode();
  }

  @AfterEach
  void stop() throws IOException {
    node.close();
  }

  private static CallException failure(CompletableFuture<?> f) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
    return assertInstanceOf(CallException.class, e.getCause());
  }

  private static Envelope expect(FakeNode.Peer p, String type) throws IOException {
    Envelope e = p.read();
    assertNotNull(e, "stream ended, expected " + type);
    assertEquals(type, e.type());
    return e;
  }

  // ---------------------------------------------------------------- session

  @Test
  void helloCarriesAuthAndClientAndWelcomeIsExposed() throws Exception {
    try (FakeNode.Session s = node.session()) {
      assertEquals("tok", s.hello().auth());
      assertEquals("test/1", s.hello().client());
      assertEquals(1, s.hello().protocol());
      Welcome w = s.client().welcome();
      assertEquals("SHA256:abc", w.identityId());
      assertEquals("alice", w.displayName());
      assertEquals(List.of("call"), w.scopes());
      assertEquals("fake-node", w.node());
      assertTrue(s.client().isOpen());
    }
  }

  @Test
  void publicStreamConstructorDoesHelloAndWelcome() throws Exception {
    FakeNode.Peer p = node.newPeer();
    CompletableFuture<CallClient> c =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new CallClient(
                    p.client.getInputStream(), p.client.getOutputStream(), null, "t");
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    Envelope hello = expect(p, Envelope.HELLO);
    assertNull(hello.auth());
    p.send(Envelope.welcome(json("{\"id\":\"anonymous\"}"), "n"));
    try (CallClient client = c.get(10, TimeUnit.SECONDS)) {
      assertEquals("anonymous", client.welcome().identityId());
    }
  }

  @Test
  void unauthenticatedFailsTheConnectWithACallException() throws Exception {
    FakeNode.Peer p = node.newPeer();
    CompletableFuture<CallClient> c = startClient(p, CallClient.Options.DEFAULTS);
    expect(p, Envelope.HELLO);
    p.send(Envelope.error(null, CallError.of(ErrorCodes.UNAUTHENTICATED, "unauthenticated")));
    p.node.close();
    CallException e = failure(c);
    assertEquals(ErrorCodes.UNAUTHENTICATED, e.code());
    assertEquals("UNAUTHENTICATED: unauthenticated", e.getMessage());
  }

  @Test
  void noWelcomeInTimeFailsTheConnect() throws Exception {
    FakeNode.Peer p = node.newPeer();
    CompletableFuture<CallClient> c =
        startClient(p, CallClient.Options.DEFAULTS.handshakeTimeout(Duration.ofMillis(300)));
    expect(p, Envelope.HELLO);
    assertEquals(ErrorCodes.DEADLINE_EXCEEDED, failure(c).code());
    assertTrue(p.readsEof(), "the client closes the stream");
  }

  @Test
  void streamEndingBeforeWelcomeFailsTheConnect() throws Exception {
    FakeNode.Peer p = node.newPeer();
    CompletableFuture<CallClient> c = startClient(p, CallClient.Options.DEFAULTS);
    expect(p, Envelope.HELLO);
    p.node.close();
    assertEquals(ErrorCodes.UNAVAILABLE, failure(c).code());
  }

  @Test
  void somethingElseThanWelcomeFailsTheConnect() throws Exception {
    FakeNode.Peer p = node.newPeer();
    CompletableFuture<CallClient> c = startClient(p, CallClient.Options.DEFAULTS);
    expect(p, Envelope.HELLO);
    p.send(Envelope.responded("1", json("{}")));
    assertEquals(ErrorCodes.BAD_FRAME, failure(c).code());
  }

  private static CompletableFuture<CallClient> startClient(
      FakeNode.Peer p, CallClient.Options options) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return new CallClient(p.clientSide(), null, null, "tok", "test/1", options);
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        });
  }

  // ---------------------------------------------------------------- calls

  @Test
  void callAndResponse() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> f = s.client().call("demo/echo", json("{\"text\":\"hi\"}"));
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      assertEquals("demo/echo", req.op());
      assertEquals("hi", req.input().get("text").asText());
      assertNull(req.deadlineMs());
      assertNull(req.parent());
      s.peer().send(Envelope.responded(req.id(), req.input()));
      assertEquals("hi", f.get(10, TimeUnit.SECONDS).get("text").asText());
      assertEquals(0, s.client().pendingCount());
    }
  }

  @Test
  void nullInputIsSentAsEmptyObjectAndNullOutputIsNullNode() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> f = s.client().call("demo/void", null);
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      assertTrue(req.input().isObject() && req.input().isEmpty());
      s.peer().send(Envelope.responded(req.id(), null));
      assertTrue(f.get(10, TimeUnit.SECONDS).isNull());
    }
  }

  @Test
  void thousandConcurrentCallsAnsweredOutOfOrder() throws Exception {
    try (FakeNode.Session s = node.session()) {
      int n = 1000;
      CompletableFuture<Void> fake =
          CompletableFuture.runAsync(
              () -> {
                try {
                  List<Envelope> reqs = new ArrayList<>();
                  for (int i = 0; i < n; i++) {
                    reqs.add(expect(s.peer(), Envelope.REQUESTED));
                  }
                  Collections.shuffle(reqs, new Random(42));
                  for (Envelope r : reqs) {
                    s.peer().send(Envelope.responded(r.id(), r.input()));
                  }
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      List<CompletableFuture<JsonNode>> calls = new CopyOnWriteArrayList<>();
      // From several threads at once, to exercise the write lock.
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int base = t * (n / 4);
        Thread th =
            new Thread(
                () -> {
                  for (int i = base; i < base + n / 4; i++) {
                    calls.add(
                        s.client()
                            .call("demo/echo", json("{\"n\":" + i + "}"), CallOptions.DEFAULT));
                  }
                });
        threads.add(th);
        th.start();
      }
      for (Thread th : threads) {
        th.join(10_000);
      }
      fake.get(20, TimeUnit.SECONDS);
      Set<Integer> seen = new HashSet<>();
      for (CompletableFuture<JsonNode> c : calls) {
        seen.add(c.get(10, TimeUnit.SECONDS).get("n").asInt());
      }
      assertEquals(n, calls.size());
      assertEquals(n, seen.size());
      assertEquals(0, s.client().pendingCount());
    }
  }

  @Test
  void callErrorCarriesCodeMessageAndDetails() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> f = s.client().call("demo/sleep", json("{\"ms\":-1}"));
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      JsonNode details = json("{\"errors\":[{\"path\":\"$.ms\",\"message\":\"must be >= 0\"}]}");
      s.peer()
          .send(
              Envelope.error(
                  req.id(), new CallError(ErrorCodes.INVALID_INPUT, "invalid input", details)));
      CallException e = failure(f);
      assertEquals(ErrorCodes.INVALID_INPUT, e.code());
      assertEquals("invalid input", e.error().message());
      assertEquals("$.ms", e.error().details().get("errors").get(0).get("path").asText());
      assertTrue(s.client().isOpen(), "a call error does not end the session");
    }
  }

  @Test
  void deadlineParentAndMetaTravelOnTheRequest() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> f =
          s.client()
              .call(
                  "demo/slow",
                  json("{}"),
                  CallOptions.deadline(Duration.ofMillis(1500))
                      .withParent("n7")
                      .withMeta("trace", "abc"));
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      assertEquals(1500L, req.deadlineMs());
      assertEquals("n7", req.parent());
      assertEquals(Map.of("trace", "abc"), req.meta());
      s.peer()
          .send(
              Envelope.error(
                  req.id(), CallError.of(ErrorCodes.DEADLINE_EXCEEDED, "deadline exceeded")));
      assertEquals(ErrorCodes.DEADLINE_EXCEEDED, failure(f).code());
    }
  }

  @Test
  void silentNodePastTheDeadlineFailsLocallyAndAborts() throws Exception {
    try (FakeNode.Session s =
        node.session(CallClient.Options.DEFAULTS.deadlineGrace(Duration.ofMillis(100)), false)) {
      CompletableFuture<JsonNode> f =
          s.client().call("demo/slow", json("{}"), CallOptions.deadline(Duration.ofMillis(200)));
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      assertEquals(ErrorCodes.DEADLINE_EXCEEDED, failure(f).code());
      Envelope abort = expect(s.peer(), Envelope.ABORTED);
      assertEquals(req.id(), abort.id());
    }
  }

  @Test
  void typedHelperConvertsInputAndOutput() throws Exception {
    record Echo(String text, int n) {}
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<Echo> f = s.client().call("demo/echo", new Echo("hi", 3), Echo.class);
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      assertEquals(3, req.input().get("n").asInt());
      s.peer().send(Envelope.responded(req.id(), json("{\"text\":\"hi\",\"n\":3,\"extra\":1}")));
      assertEquals(new Echo("hi", 3), f.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void badOperationNameIsRefusedBeforeSending() throws Exception {
    try (FakeNode.Session s = node.session()) {
      assertThrows(IllegalArgumentException.class, () -> s.client().call("NoSlash", json("{}")));
      assertTrue(s.client().isOpen());
    }
  }

  @Test
  void oversizedRequestFailsWithoutSending() throws Exception {
    try (FakeNode.Session s = node.session(CallClient.Options.DEFAULTS.maxFrame(1024), false)) {
      String big = "x".repeat(2000);
      CompletableFuture<JsonNode> f =
          s.client().call("demo/echo", json("{\"text\":\"" + big + "\"}"));
      assertEquals(ErrorCodes.FRAME_TOO_LARGE, failure(f).code());
      CompletableFuture<JsonNode> ok = s.client().call("demo/echo", json("{}"));
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      s.peer().send(Envelope.responded(req.id(), json("{}")));
      ok.get(10, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------- subscriptions

  @Test
  void subscriptionEventsThenCompleted() throws Exception {
    try (FakeNode.Session s = node.session()) {
      List<Integer> events = new CopyOnWriteArrayList<>();
      Subscription sub =
          s.client()
              .subscribe(
                  "demo/ticks",
                  json("{\"count\":3}"),
                  e -> events.add(e.get("i").asInt()),
                  CallOptions.DEFAULT);
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      assertEquals(sub.id(), req.id());
      for (int i = 0; i < 3; i++) {
        s.peer().send(Envelope.event(req.id(), json("{\"i\":" + i + "}")));
      }
      s.peer().send(Envelope.completed(req.id()));
      sub.done().get(10, TimeUnit.SECONDS);
      assertEquals(List.of(0, 1, 2), events);
    }
  }

  @Test
  void subscriptionErrorFailsDone() throws Exception {
    try (FakeNode.Session s = node.session()) {
      Subscription sub =
          s.client().subscribe("demo/ticks", json("{}"), e -> {}, CallOptions.DEFAULT);
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      s.peer().send(Envelope.error(req.id(), CallError.of(ErrorCodes.OVERFLOW, "fell behind")));
      assertEquals(ErrorCodes.OVERFLOW, failure(sub.done()).code());
    }
  }

  @Test
  void throwingConsumerAbortsTheSubscription() throws Exception {
    try (FakeNode.Session s = node.session()) {
      Subscription sub =
          s.client()
              .subscribe(
                  "demo/ticks",
                  json("{}"),
                  e -> {
                    throw new IllegalStateException("consumer broke");
                  },
                  CallOptions.DEFAULT);
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      s.peer().send(Envelope.event(req.id(), json("{}")));
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> sub.done().get(10, TimeUnit.SECONDS));
      assertInstanceOf(IllegalStateException.class, e.getCause());
      assertEquals(req.id(), expect(s.peer(), Envelope.ABORTED).id());
    }
  }

  // ---------------------------------------------------------------- abort

  @Test
  void abortSendsCallAbortedAndFailsWithTheNodesAborted() throws Exception {
    try (FakeNode.Session s = node.session()) {
      PendingCall call = s.client().start("demo/sleep", json("{\"ms\":60000}"), null);
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      assertEquals(call.id(), req.id());
      call.abort();
      Envelope abort = expect(s.peer(), Envelope.ABORTED);
      assertEquals(req.id(), abort.id());
      assertFalse(call.result().isDone(), "waits for the node's answer");
      s.peer().send(Envelope.error(req.id(), CallError.of(ErrorCodes.ABORTED, "aborted")));
      CallException e = failure(call.result());
      assertEquals(ErrorCodes.ABORTED, e.code());
      assertFalse(s.client().abort(req.id()), "aborting an ended call does nothing");
    }
  }

  @Test
  void abortOfASubscription() throws Exception {
    try (FakeNode.Session s = node.session()) {
      Subscription sub =
          s.client().subscribe("demo/ticks", json("{}"), e -> {}, CallOptions.DEFAULT);
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      sub.abort();
      assertEquals(req.id(), expect(s.peer(), Envelope.ABORTED).id());
      s.peer().send(Envelope.error(req.id(), CallError.of(ErrorCodes.ABORTED, "aborted")));
      assertEquals(ErrorCodes.ABORTED, failure(sub.done()).code());
    }
  }

  @Test
  void unconfirmedAbortFailsLocallyAfterTheGrace() throws Exception {
    try (FakeNode.Session s =
        node.session(CallClient.Options.DEFAULTS.abortGrace(Duration.ofMillis(200)), false)) {
      PendingCall call = s.client().start("demo/sleep", json("{}"), CallOptions.DEFAULT);
      expect(s.peer(), Envelope.REQUESTED);
      call.abort();
      expect(s.peer(), Envelope.ABORTED);
      assertEquals(ErrorCodes.ABORTED, failure(call.result()).code());
    }
  }

  @Test
  void cancellingTheFutureAborts() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> f = s.client().call("demo/sleep", json("{}"));
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      f.cancel(true);
      assertEquals(req.id(), expect(s.peer(), Envelope.ABORTED).id());
      // The node's late answer is ignored.
      s.peer().send(Envelope.error(req.id(), CallError.of(ErrorCodes.ABORTED, "aborted")));
      assertEquals(0, s.client().pendingCount());
    }
  }

  // ---------------------------------------------------------------- failure

  @Test
  void connectionLossFailsPendingCallsWithUnavailable() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      Subscription b = s.client().subscribe("demo/b", json("{}"), e -> {}, CallOptions.DEFAULT);
      expect(s.peer(), Envelope.REQUESTED);
      expect(s.peer(), Envelope.REQUESTED);
      s.peer().node.close();
      CallException e = failure(a);
      assertEquals(ErrorCodes.UNAVAILABLE, e.code());
      assertEquals("connection closed", e.error().message());
      assertEquals(ErrorCodes.UNAVAILABLE, failure(b.done()).code());
      assertFalse(s.client().isOpen());
      assertEquals(ErrorCodes.UNAVAILABLE, failure(s.client().call("demo/a", json("{}"))).code());
      assertEquals(ErrorCodes.UNAVAILABLE, failure(s.client().ping()).code());
    }
  }

  @Test
  void closeFailsPendingCallsAndEndsTheStream() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      expect(s.peer(), Envelope.REQUESTED);
      s.client().close();
      assertEquals(ErrorCodes.UNAVAILABLE, failure(a).code());
      assertTrue(s.peer().readsEof());
    }
  }

  @Test
  void connectionLevelErrorFailsEverything() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      CompletableFuture<JsonNode> b = s.client().call("demo/b", json("{}"));
      expect(s.peer(), Envelope.REQUESTED);
      expect(s.peer(), Envelope.REQUESTED);
      s.peer().send(Envelope.error(null, CallError.of(ErrorCodes.BAD_FRAME, "bad frame")));
      assertEquals(ErrorCodes.BAD_FRAME, failure(a).code());
      assertEquals(ErrorCodes.BAD_FRAME, failure(b).code());
      assertFalse(s.client().isOpen());
      assertTrue(s.peer().readsEof());
    }
  }

  @Test
  void malformedJsonFromTheNodeFailsTheClientCleanly() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      expect(s.peer(), Envelope.REQUESTED);
      byte[] junk = "{not json".getBytes(StandardCharsets.UTF_8);
      s.peer().sendRaw(new byte[] {0, 0, 0, (byte) junk.length});
      s.peer().sendRaw(junk);
      CallException e = failure(a);
      assertEquals(ErrorCodes.BAD_FRAME, e.code());
      assertTrue(e.getMessage().contains("malformed frame from the node"), e.getMessage());
      Envelope goodbye = expect(s.peer(), Envelope.ERROR);
      assertNull(goodbye.id());
      assertEquals(ErrorCodes.BAD_FRAME, goodbye.error().code());
      assertTrue(s.peer().readsEof());
      assertFalse(s.client().isOpen());
    }
  }

  @Test
  void oversizedAndTruncatedFramesFromTheNodeFailTheClient() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      expect(s.peer(), Envelope.REQUESTED);
      s.peer().sendRaw(new byte[] {(byte) 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
      assertEquals(ErrorCodes.FRAME_TOO_LARGE, failure(a).code());
    }
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      expect(s.peer(), Envelope.REQUESTED);
      s.peer().sendRaw(new byte[] {0, 0, 0, 100, '{'});
      s.peer().node.shutdownOutput();
      assertEquals(ErrorCodes.BAD_FRAME, failure(a).code());
    }
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      expect(s.peer(), Envelope.REQUESTED);
      s.peer().sendRaw(new byte[] {0, 0, 0, 0});
      assertEquals(ErrorCodes.BAD_FRAME, failure(a).code());
    }
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      expect(s.peer(), Envelope.REQUESTED);
      // Valid JSON, but a call.responded without an id.
      byte[] body = "{\"type\":\"call.responded\",\"output\":1}".getBytes(StandardCharsets.UTF_8);
      ByteArrayFrame.send(s.peer(), body);
      assertEquals(ErrorCodes.BAD_FRAME, failure(a).code());
    }
  }

  @Test
  void unknownIdsAndUnknownFieldsAreIgnored() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> a = s.client().call("demo/a", json("{}"));
      Envelope req = expect(s.peer(), Envelope.REQUESTED);
      s.peer().send(Envelope.responded("999", json("{}")));
      s.peer().send(Envelope.event("998", json("{}")));
      s.peer().send(Envelope.error("997", CallError.of(ErrorCodes.INTERNAL, "x")));
      byte[] body =
          ("{\"type\":\"call.responded\",\"id\":\"" + req.id() + "\",\"output\":7,\"future\":1}")
              .getBytes(StandardCharsets.UTF_8);
      ByteArrayFrame.send(s.peer(), body);
      assertEquals(7, a.get(10, TimeUnit.SECONDS).asInt());
      assertTrue(s.client().isOpen());
    }
  }

  // ---------------------------------------------------------------- keep-alive

  @Test
  void pingsBothWays() throws Exception {
    try (FakeNode.Session s = node.session()) {
      s.peer().send(Envelope.ping("k1"));
      Envelope pong = expect(s.peer(), Envelope.PONG);
      assertEquals("k1", pong.id());
      CompletableFuture<Duration> rtt = s.client().ping();
      Envelope ping = expect(s.peer(), Envelope.PING);
      s.peer().send(Envelope.pong(ping.id()));
      assertFalse(rtt.get(10, TimeUnit.SECONDS).isNegative());
    }
  }

  // ---------------------------------------------------------------- node → client (CALL-7)

  @Test
  void registeredLocalOperationIsAnsweredOnTheSessionStream() throws Exception {
    try (FakeNode.Session s = node.session()) {
      AtomicBoolean onReader = new AtomicBoolean();
      CompletableFuture<JsonNode> reg =
          s.client()
              .registerLocal(
                  "client/greet",
                  "query",
                  in -> {
                    onReader.set(Thread.currentThread().getName().contains("reader"));
                    return json("{\"greeting\":\"hello " + in.get("name").asText() + "\"}");
                  });
      Envelope r = expect(s.peer(), Envelope.REQUESTED);
      assertEquals("sys/register", r.op());
      JsonNode spec = r.input().get("operations").get(0);
      assertEquals("client/greet", spec.get("name").asText());
      assertEquals("query", spec.get("kind").asText());
      assertTrue(spec.has("description"));
      s.peer().send(Envelope.responded(r.id(), json("{}")));
      reg.get(10, TimeUnit.SECONDS);

      s.peer()
          .send(
              Envelope.requested(
                  "n1", "client/greet", json("{\"name\":\"bob\"}"), null, null, null));
      Envelope answer = expect(s.peer(), Envelope.RESPONDED);
      assertEquals("n1", answer.id());
      assertEquals("hello bob", answer.output().get("greeting").asText());
      assertFalse(onReader.get(), "local operations never run on the reader thread");

      s.peer().send(Envelope.requested("n2", "client/nope", json("{}"), null, null, null));
      Envelope nf = expect(s.peer(), Envelope.ERROR);
      assertEquals("n2", nf.id());
      assertEquals(ErrorCodes.NOT_FOUND, nf.error().code());
    }
  }

  @Test
  void localOperationErrorsAreAnsweredWithoutInternals() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> reg =
          s.client()
              .registerLocal(
                  "client/fail",
                  "mutation",
                  "fails",
                  call -> {
                    if (call.input().has("domain")) {
                      throw new CallException("NO_SUCH_THING", "no such thing");
                    }
                    throw new IllegalStateException("secret internal detail");
                  });
      Envelope r = expect(s.peer(), Envelope.REQUESTED);
      s.peer().send(Envelope.responded(r.id(), json("{}")));
      reg.get(10, TimeUnit.SECONDS);
      s.peer().send(Envelope.requested("n1", "client/fail", json("{}"), null, null, null));
      Envelope e1 = expect(s.peer(), Envelope.ERROR);
      assertEquals(ErrorCodes.INTERNAL, e1.error().code());
      assertFalse(e1.error().message().contains("secret"));
      s.peer()
          .send(Envelope.requested("n2", "client/fail", json("{\"domain\":1}"), null, null, null));
      Envelope e2 = expect(s.peer(), Envelope.ERROR);
      assertEquals("NO_SUCH_THING", e2.error().code());
    }
  }

  @Test
  void nodeAbortInterruptsTheLocalOperation() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch interrupted = new CountDownLatch(1);
      CompletableFuture<JsonNode> reg =
          s.client()
              .registerLocal(
                  "client/block",
                  "query",
                  "",
                  call -> {
                    started.countDown();
                    try {
                      Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                      interrupted.countDown();
                      throw e;
                    }
                    return null;
                  });
      Envelope r = expect(s.peer(), Envelope.REQUESTED);
      s.peer().send(Envelope.responded(r.id(), json("{}")));
      reg.get(10, TimeUnit.SECONDS);
      s.peer().send(Envelope.requested("n1", "client/block", json("{}"), null, null, null));
      assertTrue(started.await(10, TimeUnit.SECONDS));
      s.peer().send(Envelope.aborted("n1", "caller went away"));
      Envelope answer = expect(s.peer(), Envelope.ERROR);
      assertEquals("n1", answer.id());
      assertEquals(ErrorCodes.ABORTED, answer.error().code());
      assertTrue(interrupted.await(10, TimeUnit.SECONDS));
      // Exactly one terminal frame: the next frame is the pong, not a second answer.
      s.peer().send(Envelope.ping("after"));
      assertEquals(Envelope.PONG, s.peer().read().type());
    }
  }

  @Test
  void localOperationDeadlineAndCallbackWithParent() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<JsonNode> reg =
          s.client()
              .registerLocal(
                  "client/cb",
                  "query",
                  "",
                  call -> {
                    if (call.deadline() != null) {
                      Thread.sleep(60_000);
                    }
                    // Call back into the node on behalf of the node's call.
                    return s.client()
                        .call("demo/echo", call.input(), CallOptions.DEFAULT.withParent(call.id()))
                        .get(10, TimeUnit.SECONDS);
                  });
      Envelope r = expect(s.peer(), Envelope.REQUESTED);
      s.peer().send(Envelope.responded(r.id(), json("{}")));
      reg.get(10, TimeUnit.SECONDS);

      s.peer().send(Envelope.requested("n1", "client/cb", json("{\"x\":1}"), null, null, null));
      Envelope back = expect(s.peer(), Envelope.REQUESTED);
      assertEquals("n1", back.parent());
      s.peer().send(Envelope.responded(back.id(), back.input()));
      Envelope answer = expect(s.peer(), Envelope.RESPONDED);
      assertEquals("n1", answer.id());
      assertEquals(1, answer.output().get("x").asInt());

      s.peer().send(Envelope.requested("n2", "client/cb", json("{}"), null, 200L, null));
      Envelope late = expect(s.peer(), Envelope.ERROR);
      assertEquals("n2", late.id());
      assertEquals(ErrorCodes.DEADLINE_EXCEEDED, late.error().code());
    }
  }

  @Test
  void registerLocalValidatesNameAndKind() throws Exception {
    try (FakeNode.Session s = node.session()) {
      assertThrows(
          IllegalArgumentException.class,
          () -> s.client().registerLocal("demo/x", "query", in -> in));
      assertThrows(
          IllegalArgumentException.class,
          () -> s.client().registerLocal("client/x", "subscription", in -> in));
    }
  }

  // ---------------------------------------------------------------- several streams

  @Test
  void callsAreSpreadOverExtraStreamsAndAnsweredOnTheirOwn() throws Exception {
    try (FakeNode.Session s = node.session(CallClient.Options.DEFAULTS.streams(3), true)) {
      assertEquals(3, s.client().streamCount());
      assertEquals(3, node.peers.size());
      List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
      for (int i = 0; i < 9; i++) {
        calls.add(s.client().call("demo/echo", json("{\"n\":" + i + "}")));
      }
      // Answer each stream's requests on that stream, the last stream first.
      for (int p = node.peers.size() - 1; p >= 0; p--) {
        FakeNode.Peer peer = node.peers.get(p);
        for (int k = 0; k < 3; k++) {
          Envelope req = expect(peer, Envelope.REQUESTED);
          peer.send(Envelope.responded(req.id(), req.input()));
        }
      }
      for (int i = 0; i < 9; i++) {
        assertEquals(i, calls.get(i).get(10, TimeUnit.SECONDS).get("n").asInt());
      }
      // An extra stream that ends fails only its own calls and leaves the rotation.
      List<CompletableFuture<JsonNode>> more = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        more.add(s.client().call("demo/echo", json("{\"n\":" + (100 + i) + "}")));
      }
      FakeNode.Peer extra = node.peers.get(1);
      Envelope r0 = expect(node.peers.get(0), Envelope.REQUESTED);
      Envelope r2 = expect(node.peers.get(2), Envelope.REQUESTED);
      expect(extra, Envelope.REQUESTED);
      extra.node.close();
      for (int i = 0; i < 250 && s.client().streamCount() == 3; i++) {
        Thread.sleep(20);
      }
      assertEquals(2, s.client().streamCount());
      assertTrue(s.client().isOpen());
      node.peers.get(0).send(Envelope.responded(r0.id(), r0.input()));
      node.peers.get(2).send(Envelope.responded(r2.id(), r2.input()));
      int ok = 0;
      int lost = 0;
      for (CompletableFuture<JsonNode> c : more) {
        try {
          c.get(10, TimeUnit.SECONDS);
          ok++;
        } catch (ExecutionException e) {
          assertEquals(ErrorCodes.UNAVAILABLE, ((CallException) e.getCause()).code());
          lost++;
        }
      }
      assertEquals(2, ok);
      assertEquals(1, lost);
    }
  }

  /** Raw frames that {@link Envelope} cannot express. */
  private static final class ByteArrayFrame {
    static void send(FakeNode.Peer p, byte[] body) throws IOException {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      FrameCodec.write(out, body);
      p.sendRaw(out.toByteArray());
    }
  }

  @Test
  void encodedHelloMatchesTheDocumentedExample() {
    byte[] hello = EnvelopeCodec.encode(Envelope.hello(null, "demo"));
    assertEquals(
        "{\"type\":\"hello\",\"client\":\"demo\",\"protocol\":1}",
        new String(hello, StandardCharsets.UTF_8));
    assertNotNull(JsonNodeFactory.instance);
  }
}

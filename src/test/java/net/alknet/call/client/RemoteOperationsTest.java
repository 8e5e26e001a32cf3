package net.alknet.call.client;

import static net.alknet.call.client.FakeNode.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.Envelope;
import net.alknet.call.wire.ErrorCodes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** from_call building blocks (CALL-12): describe and forward. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RemoteOperationsTest {

  private static final String DESCRIBE =
      """
      {"operations":[
        {"name":"demo/echo","kind":"query","description":"Echo","tags":["demo"],
         "scopes":["call:demo"],"errors":["NOPE",{"code":"ALSO"}],
         "inputSchema":{"type":"object"},"outputSchema":{"type":"object"}},
        {"name":"demo/ticks","kind":"subscription","description":"Ticks",
         "inputSchema":{"type":"object"},"outputSchema":{"type":"null"},
         "eventSchema":{"type":"object"},"overflow":"drop-oldest","future":true},
        {"name":"Not A Name","kind":"query"},
        {"kind":"query"}
      ]}
      """;

  private FakeNode node;

  @BeforeEach
  void start() throws IOException {
    node = new FakeNode();
  }

  @AfterEach
  void stop() throws IOException {
    node.close();
  }

  @Test
  void describeListsTheRemoteOperations() throws Exception {
    try (FakeNode.Session s = node.session()) {
      CompletableFuture<List<RemoteOperations.RemoteOperation>> f =
          new RemoteOperations(s.client()).describe();
      Envelope req = s.peer().read();
      assertEquals("sys/describe", req.op());
      s.peer().send(Envelope.responded(req.id(), json(DESCRIBE)));
      List<RemoteOperations.RemoteOperation> ops = f.get(10, TimeUnit.SECONDS);
      assertEquals(2, ops.size(), "entries without a valid name are skipped");
      RemoteOperations.RemoteOperation echo = ops.get(0);
      assertEquals("demo/echo", echo.name());
      assertEquals("echo", echo.localPart());
      assertEquals("query", echo.kind());
      assertEquals("Echo", echo.description());
      assertEquals(List.of("demo"), echo.tags());
      assertEquals(List.of("call:demo"), echo.scopes());
      assertEquals(List.of("NOPE", "ALSO"), echo.errors());
      assertEquals("object", echo.inputSchema().get("type").asText());
      assertNull(echo.eventSchema());
      RemoteOperations.RemoteOperation ticks = ops.get(1);
      assertTrue(ticks.isSubscription());
      assertEquals("object", ticks.eventSchema().get("type").asText());
      assertEquals("drop-oldest", ticks.overflow());
      assertTrue(ticks.raw().get("future").asBoolean());
    }
  }

  @Test
  void parseRefusesOutputWithoutOperations() {
    CallException e = assertThrows(CallException.class, () -> RemoteOperations.parse(json("{}")));
    assertEquals(ErrorCodes.BAD_FRAME, e.code());
  }

  @Test
  void forwardPassesDeadlineAndMetaButNotParentAndKeepsErrors() throws Exception {
    try (FakeNode.Session s = node.session()) {
      RemoteOperations remote = new RemoteOperations(s.client());
      CompletableFuture<JsonNode> f =
          remote.forward(
              "demo/echo",
              json("{\"a\":1}"),
              CallOptions.deadline(Duration.ofSeconds(3))
                  .withParent("local-17")
                  .withMeta("trace", "t1"));
      Envelope req = s.peer().read();
      assertEquals("demo/echo", req.op());
      assertEquals(3000L, req.deadlineMs());
      assertNull(req.parent());
      assertEquals("t1", req.meta().get("trace"));
      JsonNode details = json("{\"why\":\"x\"}");
      s.peer().send(Envelope.error(req.id(), new CallError("NOPE", "nope", details)));
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
      CallException ce = assertInstanceOf(CallException.class, e.getCause());
      assertEquals("NOPE", ce.code());
      assertEquals("nope", ce.error().message());
      assertEquals("x", ce.error().details().get("why").asText());
    }
  }

  @Test
  void abortingTheLocalCallAbortsTheForwardedOne() throws Exception {
    try (FakeNode.Session s = node.session()) {
      RemoteOperations remote = new RemoteOperations(s.client());
      CompletableFuture<JsonNode> f = remote.forward("demo/sleep", json("{}"), null);
      Envelope req = s.peer().read();
      f.cancel(true);
      Envelope abort = s.peer().read();
      assertEquals(Envelope.ABORTED, abort.type());
      assertEquals(req.id(), abort.id());

      PendingCall p = remote.start("demo/sleep", json("{}"), CallOptions.DEFAULT);
      Envelope req2 = s.peer().read();
      p.abort();
      assertEquals(req2.id(), s.peer().read().id());
      s.peer().send(Envelope.error(req2.id(), CallError.of(ErrorCodes.ABORTED, "aborted")));
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> p.result().get(10, TimeUnit.SECONDS));
      assertEquals(ErrorCodes.ABORTED, ((CallException) e.getCause()).code());
    }
  }

  @Test
  void forwardSubscriptionRelaysEventsAndCanBeAborted() throws Exception {
    try (FakeNode.Session s = node.session()) {
      RemoteOperations remote = new RemoteOperations(s.client());
      List<JsonNode> events = new CopyOnWriteArrayList<>();
      Subscription sub =
          remote.forwardSubscription("demo/ticks", json("{}"), events::add, CallOptions.DEFAULT);
      Envelope req = s.peer().read();
      s.peer().send(Envelope.event(req.id(), json("{\"i\":0}")));
      s.peer().send(Envelope.event(req.id(), json("{\"i\":1}")));
      for (int i = 0; i < 500 && events.size() < 2; i++) {
        Thread.sleep(10);
      }
      assertEquals(2, events.size());
      sub.done().cancel(true);
      Envelope abort = s.peer().read();
      assertEquals(Envelope.ABORTED, abort.type());
      assertEquals(req.id(), abort.id());
    }
  }
}

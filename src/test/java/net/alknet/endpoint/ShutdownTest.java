package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** EP-7: stop accepting, let in-flight work finish, then close with SHUTDOWN. */
class ShutdownTest {

  @RegisterExtension final TestNodes nodes = new TestNodes();

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  private static void within(int seconds, org.junit.jupiter.api.function.Executable e) {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(seconds), e);
  }

  /** Answers each request on the handler thread itself after about a second. */
  static final class Slow implements ProtocolHandler {
    final CountDownLatch requestSeen = new CountDownLatch(1);

    @Override
    public Set<String> alpns() {
      return Set.of("test/slow");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      Stream s;
      while ((s = connection.acceptStream()) != null) {
        try (Stream stream = s) {
          String request = TestNodes.readAll(stream.input());
          requestSeen.countDown();
          Thread.sleep(1000);
          // A big answer, so a lost tail would show.
          stream.output().write(("answer to " + request + "\n").repeat(20_000).getBytes());
        }
      }
    }
  }

  /**
   * A connection that reaches a node before it accepts (between the two listeners' binds) is
   * refused and counted as {@code starting}, not as {@code shutting_down}.
   */
  @ParameterizedTest
  @EnumSource(Transport.class)
  void aConnectionBeforeTheNodeAcceptsIsRefusedAsStarting(Transport t) {
    EndpointServer notYet =
        new EndpointServer(
            HandlerRegistry.of(TestHandlers.echo("test/echo")),
            TestNodes.TLS,
            nodes.identities,
            EndpointLimits.DEFAULTS,
            EndpointServer.Options.loopback(0),
            nodes.group,
            nodes.metrics);
    io.netty.channel.embedded.EmbeddedChannel ch = new io.netty.channel.embedded.EmbeddedChannel();
    assertFalse(notYet.admit(ch, new java.net.InetSocketAddress("127.0.0.1", 40000), t));
    String transport = t.label();
    assertEquals(
        1,
        nodes.count("alknet.connections.rejected", "reason", "starting", "transport", transport));
    assertEquals(
        0,
        nodes.count(
            "alknet.connections.rejected", "reason", "shutting_down", "transport", transport));
    ch.finishAndReleaseAll();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void inFlightWorkFinishesThenConnectionsCloseWithShutdown(Transport t) {
    within(
        40,
        () -> {
          Slow slow = new Slow();
          TestHandlers.Transform echo = TestHandlers.echo("test/echo");
          nodes.start(slow, echo);
          EndpointClient impatient = nodes.impatientClient();
          Connection c = nodes.connect(impatient, "test/slow", t);
          CompletableFuture<String> answer =
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return TestNodes.exchange(c, "q1");
                    } catch (IOException e) {
                      return "FAILED: " + e;
                    }
                  });
          assertTrue(slow.requestSeen.await(10, TimeUnit.SECONDS));
          long start = System.nanoTime();
          CompletableFuture<Void> shutdown =
              CompletableFuture.runAsync(() -> nodes.server.shutdown(Duration.ofSeconds(10)));
          assertTrue(
              TestNodes.eventually(Duration.ofSeconds(2), () -> !nodes.server.isAccepting()));

          // New connections after shutdown began are refused, over both transports: TCP finds
          // no listener; a QUIC client may see its handshake complete, but the node closes the
          // connection at once with LIMIT_EXCEEDED and no handler sees it.
          IOException e =
              assertThrows(
                  IOException.class,
                  () -> nodes.connect(impatient, "test/echo", Transport.TCP),
                  "connected over TCP during shutdown");
          assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
          try {
            Connection late = nodes.connect(impatient, "test/echo", Transport.QUIC);
            // The node's close came inside the handshake, where QUIC carries no application code
            // (RFC 9000 10.2.3), so only the prompt close is checked.
            late.closed().toCompletableFuture().get(3, TimeUnit.SECONDS);
          } catch (IOException refusedDuringHandshake) {
            // also fine
          }
          assertTrue(
              nodes.count(
                      "alknet.connections.rejected", "reason", "shutting_down", "transport", "quic")
                  >= 1);
          assertTrue(echo.connectionIds.isEmpty(), "a handler saw a connection during shutdown");

          String got = answer.get(10, TimeUnit.SECONDS);
          String expected = ("answer to q1\n").repeat(20_000);
          assertEquals(
              expected.length(),
              got.length(),
              "answer cut short: " + got.substring(Math.max(0, got.length() - 200)));
          assertEquals(expected, got);
          Connection.CloseInfo info = c.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
          if (t == Transport.QUIC) {
            assertEquals(CloseCode.SHUTDOWN, info.code(), info.toString());
          }
          shutdown.get(10, TimeUnit.SECONDS);
          long ms = (System.nanoTime() - start) / 1_000_000;
          assertTrue(ms < 5000, "shutdown took " + ms + " ms with nothing left to wait for");
          assertTrue(nodes.server.terminated().isDone());

          // Idempotent, also concurrently.
          CompletableFuture<Void> again =
              CompletableFuture.runAsync(() -> nodes.server.shutdown(Duration.ofSeconds(10)));
          nodes.server.shutdown(Duration.ofSeconds(10));
          again.get(5, TimeUnit.SECONDS);
          assertEquals(0, nodes.server.status().openConnections());
          assertFalse(nodes.server.isAccepting());
        });
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aHandlerThatNeverFinishesIsClosedAfterTheGracePeriod(Transport t) {
    within(
        30,
        () -> {
          nodes.start(new TestHandlers.NeverReturns());
          Connection c = nodes.connect("test/block", t);
          Stream s = c.openStream();
          s.output().write("x".getBytes(StandardCharsets.UTF_8));
          Thread.sleep(200);
          long start = System.nanoTime();
          nodes.server.shutdown(Duration.ofMillis(500));
          long ms = (System.nanoTime() - start) / 1_000_000;
          assertTrue(ms >= 450, "did not wait for the grace period: " + ms + " ms");
          assertTrue(ms < 4000, "shutdown took " + ms + " ms");
          Connection.CloseInfo info = c.closed().toCompletableFuture().get(5, TimeUnit.SECONDS);
          if (t == Transport.QUIC) {
            assertEquals(CloseCode.SHUTDOWN, info.code(), info.toString());
            assertEquals("node shutting down", info.reason());
          }
          assertEquals(0, nodes.server.status().openConnections());
        });
  }
}

package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** EP-6 limits and EP-5 bounded buffering, over both transports. */
class LimitsTest {

  @RegisterExtension final TestNodes nodes = new TestNodes();

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  private static void within(int seconds, org.junit.jupiter.api.function.Executable e) {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(seconds), e);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void maxConnectionsIsEnforcedAndASlotFreesUp(Transport t) {
    within(
        40,
        () -> {
          nodes.start(
              EndpointLimits.DEFAULTS.withMaxConnections(2, 100),
              EndpointServer.Options.loopback(0),
              TestHandlers.echo("test/echo"));
          EndpointClient client = nodes.impatientClient();
          Connection a = nodes.connect(client, "test/echo", t);
          Connection b = nodes.connect(client, "test/echo", t);
          assertTrue(TestNodes.eventually(Duration.ofSeconds(5), () -> openOnNode() == 2));
          assertRefused(client, t);
          assertTrue(
              nodes.count(
                      "alknet.connections.rejected",
                      "reason",
                      "max_connections",
                      "transport",
                      t.label())
                  >= 1,
              "rejection not counted");
          assertEquals("b", TestNodes.exchange(b, "b"));
          a.close(CloseCode.NO_ERROR, "");
          a.closed().toCompletableFuture().get(5, TimeUnit.SECONDS);
          assertTrue(TestNodes.eventually(Duration.ofSeconds(5), () -> openOnNode() == 1));
          Connection c = nodes.connect(client, "test/echo", t);
          assertEquals("after", TestNodes.exchange(c, "after"));
          b.close(CloseCode.NO_ERROR, "");
          c.close(CloseCode.NO_ERROR, "");
        });
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void maxConnectionsPerAddressIsEnforced(Transport t) {
    within(
        40,
        () -> {
          nodes.start(
              EndpointLimits.DEFAULTS.withMaxConnections(100, 2),
              EndpointServer.Options.loopback(0),
              TestHandlers.echo("test/echo"));
          EndpointClient client = nodes.impatientClient();
          Connection a = nodes.connect(client, "test/echo", t);
          Connection b = nodes.connect(client, "test/echo", t);
          assertTrue(TestNodes.eventually(Duration.ofSeconds(5), () -> openOnNode() == 2));
          assertRefused(client, t);
          assertTrue(
              nodes.count(
                      "alknet.connections.rejected",
                      "reason",
                      "max_connections_per_address",
                      "transport",
                      t.label())
                  >= 1,
              "rejection not counted");
          b.close(CloseCode.NO_ERROR, "");
          b.closed().toCompletableFuture().get(5, TimeUnit.SECONDS);
          assertTrue(TestNodes.eventually(Duration.ofSeconds(5), () -> openOnNode() == 1));
          Connection c = nodes.connect(client, "test/echo", t);
          assertEquals("after", TestNodes.exchange(c, "after"));
          a.close(CloseCode.NO_ERROR, "");
          c.close(CloseCode.NO_ERROR, "");
        });
  }

  private int openOnNode() {
    return nodes.server.status().openConnections();
  }

  private void assertRefused(EndpointClient client, Transport t) throws Exception {
    Connection extra;
    try {
      extra = nodes.connect(client, "test/echo", t);
    } catch (IOException refused) {
      return;
    }
    // The handshake may have looked done to the client: the node must close it, not serve it.
    try {
      String answer = TestNodes.exchange(extra, "should not be served");
      fail("the node served a connection over its limit: " + answer);
    } catch (IOException expected) {
      // closed by the node
    }
    extra.closed().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void tcpHandshakeTimeoutClosesASilentSocket() {
    within(
        20,
        () -> {
          nodes.start(
              EndpointLimits.DEFAULTS.withTimeouts(Duration.ofMillis(500), Duration.ofMinutes(5)),
              EndpointServer.Options.loopback(0),
              TestHandlers.echo("test/echo"));
          try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", nodes.server.port()), 2000);
            s.setSoTimeout(5000);
            long start = System.nanoTime();
            int r;
            try {
              r = s.getInputStream().read();
            } catch (SocketTimeoutException e) {
              fail("the node did not close a silent socket within 5 s");
              return;
            } catch (SocketException reset) {
              r = -1;
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            // The node may send an alert first; then the stream ends.
            while (r >= 0) {
              r = s.getInputStream().read();
            }
            assertTrue(ms < 3000, "closed after " + ms + " ms");
            assertTrue(ms >= 300, "closed too early: " + ms + " ms");
          }
          assertTrue(
              TestNodes.eventually(
                  Duration.ofSeconds(2),
                  () ->
                      nodes.count(
                              "alknet.handshake.failures", "reason", "timeout", "transport", "tcp")
                          == 1.0),
              "handshake timeout not counted");
        });
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void idleTimeoutClosesAnIdleConnection(Transport t) {
    within(
        20,
        () -> {
          nodes.start(
              EndpointLimits.DEFAULTS.withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(500)),
              EndpointServer.Options.loopback(0),
              TestHandlers.echo("test/echo"));
          Connection c = nodes.connect("test/echo", t);
          long start = System.nanoTime();
          Connection.CloseInfo info = c.closed().toCompletableFuture().get(5, TimeUnit.SECONDS);
          long ms = (System.nanoTime() - start) / 1_000_000;
          assertTrue(ms >= 300, "closed too early: " + ms + " ms, " + info);
          assertTrue(ms < 3000, "closed after " + ms + " ms");
          assertTrue(TestNodes.eventually(Duration.ofSeconds(3), () -> openOnNode() == 0));
        });
  }

  @Test
  void anActiveConnectionIsNotIdle() {
    within(
        20,
        () -> {
          nodes.start(
              EndpointLimits.DEFAULTS.withTimeouts(Duration.ofSeconds(5), Duration.ofMillis(800)),
              EndpointServer.Options.loopback(0),
              TestHandlers.echo("test/echo"));
          Connection c = nodes.connect("test/echo", Transport.QUIC);
          for (int i = 0; i < 8; i++) {
            assertEquals("x" + i, TestNodes.exchange(c, "x" + i));
            Thread.sleep(250);
          }
          assertTrue(c.isOpen());
          c.close(CloseCode.NO_ERROR, "");
        });
  }

  /** Accepts streams and holds them (reads nothing, answers nothing) until the test ends. */
  static final class Holder implements ProtocolHandler {
    final ConcurrentLinkedQueue<Stream> held = new ConcurrentLinkedQueue<>();
    final AtomicInteger accepted = new AtomicInteger();

    @Override
    public Set<String> alpns() {
      return Set.of("test/hold");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      Stream s;
      while ((s = connection.acceptStream()) != null) {
        held.add(s);
        accepted.incrementAndGet();
      }
    }
  }

  @Test
  void quicMaxStreamsPerConnectionIsNotExceeded() {
    within(
        40,
        () -> {
          Holder holder = new Holder();
          nodes.start(
              EndpointLimits.DEFAULTS.withStreams(2, 64 * 1024),
              EndpointServer.Options.loopback(0),
              holder);
          Connection c = nodes.connect("test/hold", Transport.QUIC);
          List<Stream> open = new ArrayList<>();
          for (int i = 0; i < 2; i++) {
            Stream s = c.openStream();
            s.output().write(("s" + i).getBytes(StandardCharsets.UTF_8));
            open.add(s);
          }
          assertTrue(TestNodes.eventually(Duration.ofSeconds(5), () -> holder.accepted.get() == 2));
          // A third concurrent stream: opening it fails, blocks, or the node never sees it.
          CompletableFuture<Object> third =
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      Stream s = c.openStream();
                      s.output().write("s2".getBytes(StandardCharsets.UTF_8));
                      return s;
                    } catch (IOException e) {
                      return e;
                    }
                  });
          Thread.sleep(1500);
          assertEquals(2, holder.accepted.get(), "the node accepted more streams than allowed");
          assertTrue(c.isOpen());
          // Finishing one stream on both sides frees a slot.
          open.get(0).output().close();
          holder.held.peek().close();
          holder.held.peek().output().close();
          Object result = third.getNow(null);
          if (result == null || result instanceof Stream) {
            assertTrue(
                TestNodes.eventually(Duration.ofSeconds(5), () -> holder.accepted.get() == 3),
                "a freed stream slot was not reused");
          }
          c.close(CloseCode.NO_ERROR, "");
          third.cancel(true);
        });
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aReaderThatNeverReadsBoundsTheNodesBuffer(Transport t) {
    within(
        40,
        () -> {
          int window = 256 * 1024;
          TestHandlers.NeverReads sink = new TestHandlers.NeverReads();
          nodes.start(
              EndpointLimits.DEFAULTS.withStreams(100, window),
              EndpointServer.Options.loopback(0),
              sink);
          Connection c = nodes.connect("test/sink", t);
          Stream s = c.openStream();
          AtomicLong written = new AtomicLong();
          CompletableFuture<Throwable> writer = new CompletableFuture<>();
          Thread w =
              new Thread(
                  () -> {
                    byte[] chunk = new byte[64 * 1024];
                    try {
                      for (int i = 0; i < 1024; i++) { // 64 MiB
                        s.output().write(chunk);
                        written.addAndGet(chunk.length);
                      }
                      writer.complete(null);
                    } catch (Throwable e) {
                      writer.complete(e);
                    }
                  },
                  "slow-reader-writer");
          w.setDaemon(true);
          w.start();
          assertTrue(TestNodes.eventually(Duration.ofSeconds(5), () -> sink.stream != null));
          Thread.sleep(2000);
          assertFalse(writer.isDone(), "64 MiB were written to a peer that reads nothing");
          NettyStream server = (NettyStream) sink.stream;
          long buffered = server.bufferedBytes();
          long sent = written.get();
          assertTrue(buffered <= 2L * window, "node buffers " + buffered + " bytes");
          assertTrue(sent < 16L << 20, "client got " + sent + " bytes out");
          Thread.sleep(500);
          assertTrue(server.bufferedBytes() <= 2L * window, "node buffers " + buffered);
          assertTrue(written.get() < 16L << 20, "client got " + written.get() + " bytes out");
          c.close(CloseCode.NO_ERROR, "");
          Throwable end = writer.get(10, TimeUnit.SECONDS);
          assertNotNull(end, "the write finished after the connection closed");
          InputStream unused = s.input();
          assertNotNull(unused);
        });
  }
}

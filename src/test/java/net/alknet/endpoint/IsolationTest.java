package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** EP-5: a handler that throws or never returns harms only its own connection. */
class IsolationTest {

  @RegisterExtension final TestNodes nodes = new TestNodes();

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  @Test
  void throwingAndBlockedHandlersDoNotDisturbEcho() {
    assertTimeout(
        () -> {
          nodes.start(
              TestHandlers.echo("test/echo"),
              new TestHandlers.Throwing(),
              new TestHandlers.NeverReturns());
          List<Connection> bad = new ArrayList<>();
          try {
            // Several blocked connections on both transports, held open during the echo traffic.
            for (int i = 0; i < 3; i++) {
              for (Transport t : Transport.values()) {
                bad.add(nodes.connect("test/block", t));
              }
            }
            // Several throwing connections on both transports.
            List<Connection> throwing = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
              for (Transport t : Transport.values()) {
                throwing.add(nodes.connect("test/throw", t));
              }
            }
            // Concurrent echo traffic over both transports.
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
              List<Future<String>> answers = new ArrayList<>();
              for (int i = 0; i < 16; i++) {
                Transport t = Transport.values()[i % 2];
                String msg = "echo " + i + " over " + t;
                answers.add(
                    pool.submit(
                        () -> {
                          Connection c = nodes.connect("test/echo", t);
                          try {
                            return TestNodes.exchange(c, msg);
                          } finally {
                            c.close(CloseCode.NO_ERROR, "");
                          }
                        }));
              }
              for (int i = 0; i < answers.size(); i++) {
                assertEquals(
                    "echo " + i + " over " + Transport.values()[i % 2],
                    answers.get(i).get(20, TimeUnit.SECONDS));
              }
            } finally {
              pool.shutdownNow();
            }

            for (Connection c : throwing) {
              Connection.CloseInfo info =
                  c.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
              assertFalse(c.isOpen());
              if (c.transport() == Transport.QUIC) {
                assertEquals(CloseCode.INTERNAL_ERROR, info.code(), info.toString());
                assertTrue(info.byPeer(), info.toString());
                assertFalse(info.reason().contains("boom"), info.reason());
                assertFalse(info.reason().contains("secret"), info.reason());
              }
            }
            assertEquals(6.0, nodes.count("alknet.handler.errors", "alpn", "test/throw"));
            assertEquals(0.0, nodes.count("alknet.handler.errors", "alpn", "test/echo"));

            // The blocked connections are still open, and the node still serves echo.
            for (Connection c : bad) {
              assertTrue(c.isOpen(), "blocked connection " + c + " was closed");
            }
            for (Transport t : Transport.values()) {
              Connection c = nodes.connect("test/echo", t);
              assertEquals("still here", TestNodes.exchange(c, "still here"));
              c.close(CloseCode.NO_ERROR, "");
            }
          } finally {
            for (Connection c : bad) {
              c.close(CloseCode.NO_ERROR, "");
            }
          }
        });
  }

  @Test
  void thePeerOfAThrowingHandlerNeverSeesTheExceptionText() {
    assertTimeout(
        () -> {
          nodes.start(new TestHandlers.Throwing());
          for (Transport t : Transport.values()) {
            Connection c = nodes.connect("test/throw", t);
            StringBuilder seen = new StringBuilder();
            try {
              Stream s = c.openStream();
              s.output().write("hello".getBytes(StandardCharsets.UTF_8));
              s.output().close();
              InputStream in = s.input();
              byte[] buf = new byte[4096];
              int n;
              while ((n = in.read(buf)) >= 0) {
                seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
              }
            } catch (IOException expected) {
              // the connection was closed under us: fine
            }
            Connection.CloseInfo info = c.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertFalse(seen.toString().contains("boom"), seen.toString());
            assertFalse(info.reason().contains("boom"), info.reason());
            assertFalse(info.reason().contains("IllegalStateException"), info.reason());
          }
          assertTrue(
              TestNodes.eventually(
                  Duration.ofSeconds(5),
                  () -> nodes.count("alknet.handler.errors", "alpn", "test/throw") == 2.0));
        });
  }

  static void assertTimeout(org.junit.jupiter.api.function.Executable e) {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(40), e);
  }
}

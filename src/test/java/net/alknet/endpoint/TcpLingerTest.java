package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A TLS/TCP connection ended by the node while the client is still sending (a git push refused at
 * its pack header, the client still writing the pack) keeps the node's answer for the client: the
 * node sends close_notify and a FIN and discards what comes in until the client closes. Closing a
 * socket with unread input sends a reset instead, which took the answer with it about every second
 * time.
 */
class TcpLingerTest {

  @RegisterExtension final TestNodes nodes = new TestNodes();

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  static final byte[] ANSWER = new byte[48 * 1024];

  static {
    Arrays.fill(ANSWER, (byte) 'a');
  }

  /** Reads one byte, answers, and returns without reading what else the client sends. */
  static final class Refuser implements ProtocolHandler {
    final Semaphore returned = new Semaphore(0);

    @Override
    public Set<String> alpns() {
      return Set.of("test/refuse");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      try {
        Stream s = connection.acceptStream();
        s.input().read();
        s.output().write(ANSWER);
        s.output().close();
      } finally {
        returned.release();
      }
    }
  }

  @Test
  void aClientStillSendingGetsTheAnswerOfAHandlerThatReturned() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () -> {
          Refuser refuser = new Refuser();
          EndpointServer node = nodes.start(refuser);
          for (int round = 0; round < 8; round++) {
            Connection c = nodes.connect("test/refuse", Transport.TCP);
            Stream s = c.openStream();
            Thread writer =
                new Thread(
                    () -> {
                      byte[] block = new byte[64 * 1024];
                      try {
                        OutputStream out = s.output();
                        for (int i = 0; i < 64; i++) { // 4 MiB, more than any buffer holds
                          out.write(block);
                        }
                        out.close();
                      } catch (IOException e) {
                        // the node closed the connection: without lingering, a reset
                      }
                    },
                    "test-writer");
            writer.start();
            // Let the node answer and close while the client's bytes still come in and the
            // answer waits unread on the client.
            assertTrue(refuser.returned.tryAcquire(30, TimeUnit.SECONDS), "handler did not return");
            Thread.sleep(300);
            byte[] got = s.input().readAllBytes();
            assertArrayEquals(ANSWER, got, "round " + round + ": the answer was cut");
            writer.join(30_000);
            c.close(CloseCode.NO_ERROR, "");
            // The client's close ends the lingering at once, not after the silence bound (5 s).
            assertTrue(
                TestNodes.eventually(
                    Duration.ofSeconds(3), () -> node.status().openConnections() == 0),
                "round " + round + ": the node lingered past the client's close");
          }
        });
  }

  /**
   * A client that reads the answer but then neither sends nor closes (a plain JDK TLS socket; the
   * alknet client closes when the node does) does not hold the connection: the node closes it after
   * five seconds of silence, as over QUIC.
   */
  @Test
  void aSilentClientIsLetGoAfterTheSilenceBound() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Refuser refuser = new Refuser();
          EndpointServer node = nodes.start(refuser);
          try (javax.net.ssl.SSLSocket socket = jdkClient(node.port())) {
            ask(socket, refuser);
            assertTrue(node.status().openConnections() == 1, "the node lingers");
            long start = System.nanoTime();
            assertTrue(
                TestNodes.eventually(
                    Duration.ofSeconds(15), () -> node.status().openConnections() == 0),
                "the node did not let the silent client go");
            assertTrue(
                System.nanoTime() - start > TimeUnit.SECONDS.toNanos(3),
                "let go before the silence bound");
          }
        });
  }

  /**
   * A client that closed its stream's output before the handler returned, then read the answer: the
   * node ends the connection as soon as the client is done, not after the silence bound, and the
   * client has the whole answer. (Whether the client's FIN reached the node before it started
   * lingering, when no event would tell it any more, or after, depends on timing; both end
   * promptly.)
   */
  @Test
  void aClientThatHalfClosedFirstIsNotWaitedFor() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Refuser refuser = new Refuser();
          EndpointServer node = nodes.start(refuser);
          Connection c = nodes.connect("test/refuse", Transport.TCP);
          Stream s = c.openStream();
          s.output().write(1);
          s.output().close();
          assertTrue(refuser.returned.tryAcquire(30, TimeUnit.SECONDS), "handler did not return");
          assertArrayEquals(ANSWER, s.input().readAllBytes());
          assertTrue(
              TestNodes.eventually(
                  Duration.ofSeconds(3), () -> node.status().openConnections() == 0),
              "the node waited for a client that had closed its side");
          c.close(CloseCode.NO_ERROR, "");
        });
  }

  /**
   * Sends the one byte the handler reads, reads the answer to the node's close_notify, and waits
   * for the handler to have returned.
   */
  static void ask(javax.net.ssl.SSLSocket socket, Refuser refuser) throws Exception {
    socket.getOutputStream().write(1);
    socket.getOutputStream().flush();
    assertArrayEquals(ANSWER, socket.getInputStream().readAllBytes());
    assertTrue(refuser.returned.tryAcquire(30, TimeUnit.SECONDS), "handler did not return");
  }

  /** A plain JDK TLS 1.3 client for ALPN test/refuse that trusts any certificate. */
  static javax.net.ssl.SSLSocket jdkClient(int port) throws Exception {
    javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
    tls.init(
        null,
        new javax.net.ssl.TrustManager[] {
          new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] c, String a) {}

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] c, String a) {}

            @Override
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
              return new java.security.cert.X509Certificate[0];
            }
          }
        },
        null);
    javax.net.ssl.SSLSocket socket =
        (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket("127.0.0.1", port);
    javax.net.ssl.SSLParameters p = socket.getSSLParameters();
    p.setApplicationProtocols(new String[] {"test/refuse"});
    socket.setSSLParameters(p);
    return socket;
  }

  /**
   * A client that half-closes (close_notify, FIN) right after its request gets the whole answer.
   * The node closed on that FIN at once when the handler had already closed its output, while the
   * answer's writes still waited in the event loop's queue: 12 to 17 of 20 such JDK clients read
   * nothing.
   */
  @Test
  void aClientThatHalfClosesRightAfterItsRequestGetsTheWholeAnswer() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () -> {
          Refuser refuser = new Refuser();
          EndpointServer node = nodes.start(refuser);
          for (int round = 0; round < 20; round++) {
            try (javax.net.ssl.SSLSocket socket = jdkClient(node.port())) {
              socket.startHandshake();
              socket.getOutputStream().write(1);
              socket.getOutputStream().flush();
              socket.shutdownOutput(); // close_notify, then FIN
              assertArrayEquals(ANSWER, socket.getInputStream().readAllBytes(), "round " + round);
            }
            assertTrue(refuser.returned.tryAcquire(30, TimeUnit.SECONDS), "handler did not return");
          }
        });
  }
}

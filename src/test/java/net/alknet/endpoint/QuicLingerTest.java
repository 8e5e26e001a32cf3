package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A QUIC connection ended by the node when its handler returns keeps the answer's tail for a reader
 * that is slow: quiche drops what is unsent, and the peer's quiche what is unread, when the
 * connection closes, so the node waits for the peer to close, or to fall silent (a fixed two-second
 * wait once lost the end of a git clone under load).
 */
class QuicLingerTest {

  @RegisterExtension final TestNodes nodes = new TestNodes();

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  static final int SIZE = 4 << 20;
  static final int TAIL = 384 * 1024; // < what the node, the windows and the client buffer hold

  /** Writes SIZE bytes (a counter pattern), finishes the stream and returns. */
  static final class Answer implements ProtocolHandler {
    final CountDownLatch returned = new CountDownLatch(1);

    @Override
    public Set<String> alpns() {
      return Set.of("test/answer");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      try (Stream s = connection.acceptStream()) {
        s.input().readAllBytes();
        byte[] block = new byte[64 * 1024];
        for (int off = 0; off < SIZE; off += block.length) {
          for (int i = 0; i < block.length; i++) {
            block[i] = (byte) ((off + i) % 251);
          }
          s.output().write(block);
        }
      } finally {
        returned.countDown(); // the node closes the connection from here on
      }
    }
  }

  /** Reads up to {@code until} bytes (or to the end), checking the pattern; returns the count. */
  private static long check(InputStream in, long got, long until) throws java.io.IOException {
    byte[] buf = new byte[16 * 1024];
    while (got < until) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, until - got));
      if (n < 0) {
        break;
      }
      for (int i = 0; i < n; i++) {
        assertEquals((byte) ((got + i) % 251), buf[i], "byte " + (got + i));
      }
      got += n;
    }
    return got;
  }

  @Test
  void aReaderThatPausesAfterTheHandlerReturnedStillGetsEverything() {
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Answer answer = new Answer();
          nodes.start(answer);
          Connection c = nodes.connect("test/answer", Transport.QUIC);
          Stream s = c.openStream();
          s.output().close();
          InputStream in = s.input();
          long got = check(in, 0, SIZE - TAIL);
          assertEquals(SIZE - TAIL, got);
          // The handler can return now, with the tail still on its way: pause for longer than
          // the old bound of the wait (2 s from the handler's return), shorter than the peer's
          // grace of silence (5 s), then read the rest.
          assertTrue(answer.returned.await(30, TimeUnit.SECONDS), "handler did not return");
          Thread.sleep(3500);
          got = check(in, got, SIZE);
          assertEquals(SIZE, got);
        });
  }
}

package net.alknet.ssh.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.util.Readable;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The I/O adapter alone, with a recording {@link IoHandler} instead of MINA's SSH layer: write
 * futures follow the transport, output is bounded, the server speaks first, and every way a session
 * ends returns the reading thread.
 */
@Timeout(30)
class StreamIoSessionTest {

  static final StreamIoSession.Limits SMALL =
      new StreamIoSession.Limits(64 * 1024, 4096, Duration.ofSeconds(2));

  /** Records what MINA would have been told. */
  static final class Recorder implements IoHandler {
    final AtomicReference<IoSession> session = new AtomicReference<>();
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    final CountDownLatch closed = new CountDownLatch(1);

    @Override
    public void sessionCreated(IoSession s) {
      session.set(s);
    }

    @Override
    public void sessionClosed(IoSession s) {
      closed.countDown();
    }

    @Override
    public void exceptionCaught(IoSession s, Throwable cause) {
      s.close(true);
    }

    @Override
    public synchronized void messageReceived(IoSession s, Readable message) {
      byte[] b = new byte[message.available()];
      message.getRawBytes(b, 0, b.length);
      received.writeBytes(b);
    }
  }

  record Running(
      StreamIoAcceptor acceptor,
      Recorder handler,
      MemoryDuplex peer,
      Thread reader,
      MemoryDuplex transport) {
    IoSession session() throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (handler.session.get() == null && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      return handler.session.get();
    }
  }

  static Running serve(int pipeCapacity) {
    return serve(pipeCapacity, true);
  }

  static Running serve(int pipeCapacity, boolean nonBlockingWrites) {
    Recorder handler = new Recorder();
    StreamIoAcceptor acceptor = new StreamIoAcceptor(handler, SMALL);
    MemoryDuplex[] ends = MemoryDuplex.pair(pipeCapacity, nonBlockingWrites);
    Thread reader =
        new Thread(
            () -> {
              try {
                acceptor.serve(ends[0], new InetSocketAddress("127.0.0.1", 1), s -> {});
              } catch (java.io.IOException e) {
                throw new RuntimeException(e);
              }
            });
    reader.start();
    return new Running(acceptor, handler, ends[1], reader, ends[0]);
  }

  static ByteArrayBuffer bytes(int n, int seed) {
    byte[] b = new byte[n];
    new java.util.Random(seed).nextBytes(b);
    return new ByteArrayBuffer(b);
  }

  @Test
  void theServerSpeaksFirstAndFuturesFollowTheTransport() throws Exception {
    Running r = serve(1024);
    IoSession s = r.session();
    ByteArrayBuffer data = bytes(16 * 1024, 1);
    byte[] expected = data.getCompactData();
    IoWriteFuture f = s.writeBuffer(data); // before the client said anything (ssh-audit waits)

    r.peer().output().write("SSH-2.0-client\r\n".getBytes());
    // 16 KiB through a 1 KiB pipe: not done until the peer has read most of it.
    Thread.sleep(100);
    assertFalse(f.isDone(), "future completed before the transport took the bytes");
    byte[] got = r.peer().input().readNBytes(expected.length);
    assertArrayEquals(expected, got);
    assertTrue(f.verify(5000).isWritten());
    assertEquals("SSH-2.0-client\r\n", r.handler().received.toString());

    r.peer().close();
    r.reader().join(5000);
    assertFalse(r.reader().isAlive());
    assertTrue(r.handler().closed.await(5, TimeUnit.SECONDS));
    assertTrue(r.acceptor().getManagedSessions().isEmpty());
  }

  @Test
  void aPeerThatDoesNotReadIsCutOffAtTheQueueLimit() throws Exception {
    Running r = serve(1024);
    IoSession s = r.session();
    r.peer().output().write(1); // spoke, then never reads
    IoWriteFuture last = null;
    for (int i = 0; i < 40 && !s.isClosing(); i++) {
      last = s.writeBuffer(bytes(8 * 1024, i));
    }
    assertTrue(s.isClosing(), "more than the limit was queued");
    assertTrue(last.isDone() && !last.isWritten(), "the write past the limit was accepted");
    r.reader().join(5000);
    assertFalse(r.reader().isAlive(), "the reading thread did not return");
    assertTrue(r.handler().closed.await(5, TimeUnit.SECONDS));
  }

  @Test
  void interruptingTheReaderClosesTheSessionAndFailsPendingWrites() throws Exception {
    Running r = serve(1024);
    IoSession s = r.session();
    IoWriteFuture pending = s.writeBuffer(bytes(16 * 1024, 3)); // the peer never reads it all
    r.reader().interrupt();
    r.reader().join(5000);
    assertFalse(r.reader().isAlive());
    assertTrue(r.handler().closed.await(5, TimeUnit.SECONDS));
    assertTrue(pending.isDone());
    assertFalse(pending.isWritten());
    // The peer sees what got through, then the end of the stream (a FIN or a reset).
    InputStream in = r.peer().input();
    int delivered = 0;
    try {
      byte[] buf = new byte[4096];
      int n;
      while ((n = in.read(buf)) > 0) {
        delivered += n;
      }
    } catch (IOException reset) {
      // the session aborted its transport: also an end
    }
    assertTrue(delivered < 16 * 1024, "the failed write was delivered whole");
  }

  @Test
  void gracefulCloseFlushesThenFinishesTheOutput() throws Exception {
    Running r = serve(64 * 1024);
    IoSession s = r.session();
    r.peer().output().write(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (r.handler().received.size() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    ByteArrayBuffer data = bytes(10_000, 4);
    byte[] expected = data.getCompactData();
    s.writeBuffer(data);
    s.close(false);
    byte[] got = r.peer().input().readAllBytes(); // up to the FIN
    assertArrayEquals(expected, got);
    r.reader().join(5000);
    assertFalse(r.reader().isAlive());
  }

  @ParameterizedTest(name = "tryWrite {0}")
  @ValueSource(booleans = {true, false})
  void bytesLeaveInTheOrderOfTheWritesWhetherWrittenDirectlyOrQueued(boolean nonBlocking)
      throws Exception {
    Running r = serve(6 * 1024, nonBlocking);
    IoSession s = r.session();
    r.peer().output().write(1);
    java.util.Random random = new java.util.Random(5);
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    List<IoWriteFuture> futures = new ArrayList<>();
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    Thread peerReader =
        new Thread(
            () -> {
              byte[] buf = new byte[3000];
              java.util.Random pace = new java.util.Random(6);
              try {
                int n;
                while ((n = r.peer().input().read(buf, 0, 1 + pace.nextInt(buf.length))) > 0) {
                  got.write(buf, 0, n);
                  if (pace.nextInt(8) == 0) {
                    Thread.sleep(1); // now and then a slow reader: writes must queue
                  }
                }
              } catch (Exception e) {
                // the end
              }
            });
    peerReader.start();
    for (int i = 0; i < 2000; i++) {
      ByteArrayBuffer b = bytes(1 + random.nextInt(2500), i);
      expected.writeBytes(b.getCompactData());
      futures.add(s.writeBuffer(b));
      if (i % 10 == 0) {
        // Let the queue drain so that later writes find it empty again.
        futures.get(i).verify(10_000);
      }
    }
    for (IoWriteFuture f : futures) {
      assertTrue(f.verify(10_000).isWritten());
    }
    s.close(false);
    peerReader.join(10_000);
    assertArrayEquals(expected.toByteArray(), got.toByteArray());
    int direct = r.transport().directWrites.get();
    if (nonBlocking) {
      assertTrue(direct > 0, "no write went straight to the transport");
      assertTrue(direct < futures.size(), "no write was queued: the test did not fill the pipe");
    } else {
      assertEquals(0, direct);
    }
  }

  @Test
  void aFailingDirectWriteClosesTheSessionAndFailsThatWrite() throws Exception {
    Running r = serve(64 * 1024);
    IoSession s = r.session();
    r.peer().output().write(1);
    r.transport().abort(); // the transport breaks under the session
    IoWriteFuture f = s.writeBuffer(bytes(100, 9));
    assertTrue(f.await(5, TimeUnit.SECONDS));
    assertTrue(f.isDone() && !f.isWritten(), "a write to a broken transport succeeded");
    assertTrue(r.handler().closed.await(5, TimeUnit.SECONDS));
    r.reader().join(5000);
    assertFalse(r.reader().isAlive());
  }
}

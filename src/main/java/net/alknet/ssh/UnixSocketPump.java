package net.alknet.ssh;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.channel.AbstractChannel;
import org.apache.sshd.common.channel.LocalWindow;
import org.jboss.logging.Logger;

/**
 * Joins an SSH channel and a connected Unix socket: one thread copies the socket to the channel
 * (blocking on the peer's window), one writes what the channel received to the socket and only then
 * gives the peer window back, so at most one window of data waits here. EOF travels both ways
 * (socket shutdown ↔ {@code SSH_MSG_CHANNEL_EOF}); when both directions ended the channel closes.
 *
 * <p>Blocking socket I/O never runs on the SSH session's reading thread.
 */
final class UnixSocketPump {

  private static final Logger LOG = Logger.getLogger(UnixSocketPump.class);
  private static final byte[] EOF = new byte[0];
  private static final int READ_CHUNK = 32 * 1024;

  /**
   * Heap a queued message costs besides its bytes (array, queue node): counted toward the bound, so
   * that a peer sending its window as one-byte messages to a socket that does not read cannot make
   * 2 MiB of window cost ~100 MiB of heap.
   */
  static final int ENTRY_COST = 64;

  private final AbstractChannel channel;
  private final SocketChannel socket;
  private final Executor threads;
  private final BlockingQueue<byte[]> toSocket = new LinkedBlockingQueue<>();
  private final AtomicLong queued = new AtomicLong(); // bytes plus ENTRY_COST per message
  private final AtomicLong bytes = new AtomicLong(); // bytes only, against the window
  private final AtomicInteger directionsDone = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile Thread reader;
  private volatile Thread writer;

  UnixSocketPump(AbstractChannel channel, SocketChannel socket, Executor threads) {
    this.channel = channel;
    this.socket = socket;
    this.threads = threads;
  }

  /**
   * Starts copying; the channel must be open (confirmation sent or received).
   *
   * @param toPeer the channel's data stream to the peer (closing it sends EOF)
   */
  void start(OutputStream toPeer) {
    threads.execute(() -> readLoop(toPeer));
    threads.execute(this::writeLoop);
  }

  /** Data the peer sent on the channel; its window is released once written to the socket. */
  void write(byte[] data, int off, long len) throws IOException {
    if (closed.get()) {
      release(len); // the socket is gone: drop, like MINA does for a closed TCP port
      return;
    }
    long limit = channel.getLocalWindow().getMaxSize();
    long cost = queued.addAndGet(len + ENTRY_COST);
    if (bytes.addAndGet(len) > limit) {
      // the peer ignored the window it was given: a protocol violation
      throw new IOException("peer sent more than its window on " + channel);
    }
    if (cost > limit + limit / 2) {
      // within its window, but in so many small messages that queueing them costs the heap far
      // more than the window: this channel ends, the session goes on
      release(len);
      LOG.debugf("%s: too many small messages queued for a socket that does not read", channel);
      close();
      channel.close(false); // tells the client (CHANNEL_CLOSE), unlike an immediate close
      return;
    }
    byte[] copy = new byte[(int) len];
    System.arraycopy(data, off, copy, 0, (int) len);
    toSocket.add(copy);
  }

  /** The peer sent EOF: shut the socket's output once queued data is written. */
  void eof() {
    toSocket.add(EOF);
  }

  /** Closes the socket and stops both threads (idempotent). */
  void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing
    }
    interrupt(reader);
    interrupt(writer);
  }

  private static void interrupt(Thread t) {
    if (t != null) {
      t.interrupt();
    }
  }

  private void readLoop(OutputStream toPeer) {
    reader = Thread.currentThread();
    ByteBuffer buf = ByteBuffer.allocate(READ_CHUNK);
    try {
      while (!closed.get()) {
        buf.clear();
        int n = socket.read(buf);
        if (n < 0) {
          break;
        }
        toPeer.write(buf.array(), 0, n);
        toPeer.flush();
      }
      toPeer.close(); // sends SSH_MSG_CHANNEL_EOF
      directionDone();
    } catch (IOException e) {
      fail("socket to channel", e);
    } finally {
      reader = null;
      Thread.interrupted();
    }
  }

  private void writeLoop() {
    writer = Thread.currentThread();
    try {
      while (!closed.get()) {
        byte[] chunk = toSocket.take();
        if (chunk == EOF) {
          socket.shutdownOutput();
          directionDone();
          return;
        }
        ByteBuffer b = ByteBuffer.wrap(chunk);
        while (b.hasRemaining()) {
          socket.write(b);
        }
        queued.addAndGet(-(chunk.length + ENTRY_COST));
        bytes.addAndGet(-chunk.length);
        release(chunk.length);
      }
    } catch (InterruptedException e) {
      // closed
    } catch (IOException e) {
      fail("channel to socket", e);
    } finally {
      writer = null;
      Thread.interrupted();
    }
  }

  private void release(long len) throws IOException {
    LocalWindow w = channel.getLocalWindow();
    if (w.isOpen()) {
      w.release(len);
    }
  }

  private void directionDone() {
    if (directionsDone.incrementAndGet() == 2) {
      channel.close(false);
    }
  }

  private void fail(String direction, IOException e) {
    if (closed.get()) {
      return; // closed on purpose (the channel is closing, or a flood): that path ends the channel
    }
    LOG.debugf("%s: %s failed: %s", channel, direction, e.toString());
    close();
    // Graceful: SSH_MSG_CHANNEL_CLOSE tells the client. An immediate close only forgets the channel
    // here, and the client's side (an ssh -L connection) would stay open.
    channel.close(false);
  }
}

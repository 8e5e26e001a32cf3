package net.alknet.ssh.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.WriteAbortedException;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.sshd.common.future.CloseFuture;
import org.apache.sshd.common.future.DefaultCloseFuture;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoService;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.common.util.closeable.AbstractCloseable;
import org.jboss.logging.Logger;

/**
 * A MINA {@link IoSession} over one {@link Duplex}: the transport of one SSH session, with no
 * socket of its own.
 *
 * <p>Threading:
 *
 * <ul>
 *   <li>Input: {@link #runReadLoop()} runs on the caller's thread (on the node, the endpoint's
 *       handler thread of the connection). It reads from the duplex, blocking, and hands each chunk
 *       to {@link IoHandler#messageReceived} one at a time, as MINA's NIO2 transport does from its
 *       completion handlers. It always reads, whatever the output is doing, so replies to the peer
 *       never wait for the peer to read them first.
 *   <li>Output: {@link #writeBuffer} never blocks. When nothing is queued and the transport has
 *       room it writes on the caller's thread ({@link Duplex#tryWrite}: non-blocking); otherwise it
 *       queues the buffer (uncopied: the {@link IoSession} contract keeps MINA's hands off it until
 *       the future is done) and the session's writer thread writes the queue in order to the
 *       duplex, blocking while the transport is full. A write future completes only once its bytes
 *       were handed to the transport; MINA's channel streams wait for that before sending their
 *       next chunk, so transport flow control reaches back to the forwarded sockets.
 * </ul>
 *
 * <p>Bounds: at most {@link Limits#maxQueuedBytes} of output may wait. More means the peer keeps
 * asking for replies but does not read them; the session is then closed.
 *
 * <p>Closing: a graceful close writes what is queued, then finishes the output (QUIC FIN, TLS
 * close_notify); an immediate one fails queued writes. Either way the duplex is then closed, which
 * ends a blocked read, and the {@link IoHandler} is told {@link IoHandler#sessionClosed}.
 */
public final class StreamIoSession extends AbstractCloseable implements IoSession {

  private static final Logger LOG = Logger.getLogger(StreamIoSession.class);
  private static final AtomicLong IDS = new AtomicLong();

  /**
   * Per-session limits.
   *
   * @param maxQueuedBytes output allowed to wait for the transport before the session is closed
   * @param readBufferSize largest chunk read from the duplex at once
   * @param closeGrace how long a session whose input ended may take to flush its last packets (e.g.
   *     a DISCONNECT) before it is closed at once
   */
  public record Limits(int maxQueuedBytes, int readBufferSize, Duration closeGrace) {
    /** 4 MiB of queued output, 32 KiB reads, 5 s to flush at the end. */
    public static final Limits DEFAULTS =
        new Limits(4 * 1024 * 1024, StreamIoService.READ_BUFFER_SIZE, Duration.ofSeconds(5));

    public Limits {
      if (maxQueuedBytes < 64 * 1024) {
        throw new IllegalArgumentException(
            "maxQueuedBytes must be at least 65536: " + maxQueuedBytes);
      }
      if (readBufferSize < 1024) {
        throw new IllegalArgumentException(
            "readBufferSize must be at least 1024: " + readBufferSize);
      }
      Objects.requireNonNull(closeGrace, "closeGrace");
    }
  }

  private final long id = IDS.incrementAndGet();
  private final StreamIoService service;
  private final IoHandler handler;
  private final Duplex duplex;
  private final SocketAddress localAddress;
  private final SocketAddress remoteAddress;
  private final SocketAddress acceptanceAddress;
  private final Limits limits;
  private final Map<Object, Object> attributes = new HashMap<>();
  private final Thread writer;

  private final ReentrantLock lock = new ReentrantLock();

  /** Signalled when the queue gains an entry, reading is resumed, or the session stops. */
  private final Condition changed = lock.newCondition();

  // Guarded by lock.
  private final ArrayDeque<StreamWriteFuture> queue = new ArrayDeque<>();
  private long queuedBytes;
  private StreamWriteFuture finish;
  private boolean writing; // a write to the duplex is under way (writer thread or direct)
  private boolean stopped;
  private boolean readSuspended;

  StreamIoSession(
      StreamIoService service,
      Duplex duplex,
      SocketAddress localAddress,
      SocketAddress remoteAddress,
      SocketAddress acceptanceAddress) {
    this.service = service;
    this.handler = service.handler();
    this.limits = service.limits();
    this.duplex = Objects.requireNonNull(duplex, "duplex");
    this.localAddress = localAddress;
    this.remoteAddress = remoteAddress;
    this.acceptanceAddress = acceptanceAddress;
    this.writer = new Thread(this::writeLoop, "alknet-ssh-out-" + id);
    this.writer.setDaemon(true);
  }

  /** Starts the writer and tells the handler about the session (which may start writing). */
  void start() throws Exception {
    writer.start();
    handler.sessionCreated(this);
  }

  @Override
  public long getId() {
    return id;
  }

  @Override
  public SocketAddress getLocalAddress() {
    return localAddress;
  }

  @Override
  public SocketAddress getRemoteAddress() {
    return remoteAddress;
  }

  @Override
  public SocketAddress getAcceptanceAddress() {
    return acceptanceAddress;
  }

  @Override
  public IoService getService() {
    return service;
  }

  @Override
  public Object getAttribute(Object key) {
    synchronized (attributes) {
      return attributes.get(key);
    }
  }

  @Override
  public Object setAttribute(Object key, Object value) {
    synchronized (attributes) {
      return attributes.put(key, value);
    }
  }

  @Override
  public Object setAttributeIfAbsent(Object key, Object value) {
    synchronized (attributes) {
      return attributes.putIfAbsent(key, value);
    }
  }

  @Override
  public Object removeAttribute(Object key) {
    synchronized (attributes) {
      return attributes.remove(key);
    }
  }

  // ---------------------------------------------------------------------------------------- input

  /**
   * Reads the duplex until the peer finishes, the stream fails, the session closes or the thread is
   * interrupted, feeding MINA; then makes sure the session is closed and its writer has ended.
   * Returns normally in every case: what went wrong is MINA's to report to the peer, and is logged
   * here at debug level only.
   */
  public void runReadLoop() {
    byte[] chunk = new byte[limits.readBufferSize()];
    InputStream in = duplex.input();
    boolean flush = false;
    try {
      while (awaitReadable()) {
        int n = in.read(chunk);
        if (n < 0) {
          LOG.debugf("%s: the peer finished its side", this);
          break;
        }
        handler.messageReceived(this, new ByteArrayBuffer(chunk, 0, n));
      }
    } catch (InterruptedException | InterruptedIOException e) {
      // The connection closed under us (the endpoint interrupts its handler thread).
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      if (!isClosing()) {
        LOG.debugf("%s: reading failed: %s", this, e.getMessage());
      }
    } catch (Throwable t) {
      // Bad input: MINA's decoder threw. Let MINA send its DISCONNECT, then close.
      if (!isClosing()) {
        LOG.debugf("%s: protocol error: %s", this, t.toString());
        try {
          handler.exceptionCaught(this, t);
          flush = true;
        } catch (Throwable e) {
          LOG.debugf("%s: reporting the error failed: %s", this, e.toString());
        }
      }
    }
    finishAfterInput(flush);
  }

  private void finishAfterInput(boolean flush) {
    boolean interrupted = Thread.interrupted();
    try {
      if (flush && !interrupted) {
        // MINA closes the session itself once its DISCONNECT is written; wait for that, bounded.
        awaitClosed(closeFuture, limits.closeGrace());
      }
      close(true);
      if (Thread.currentThread() != writer) {
        writer.join(limits.closeGrace().toMillis());
      }
    } catch (InterruptedException e) {
      interrupted = true;
      close(true);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void awaitClosed(CloseFuture future, Duration timeout)
      throws InterruptedException {
    try {
      future.await(timeout);
    } catch (InterruptedIOException e) {
      throw new InterruptedException(e.getMessage());
    } catch (IOException e) {
      // Not completed in time: the caller closes at once.
    }
  }

  /**
   * Waits while reads are suspended; false once the session is closed. Reading goes on during a
   * graceful close (as in MINA's NIO2 transport): a peer's EOF then still ends the session.
   */
  private boolean awaitReadable() throws InterruptedException {
    lock.lock();
    try {
      while (readSuspended && !stopped) {
        changed.await();
      }
      return !stopped;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void suspendRead() {
    lock.lock();
    try {
      readSuspended = true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void resumeRead() {
    lock.lock();
    try {
      readSuspended = false;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  // --------------------------------------------------------------------------------------- output

  @Override
  public IoWriteFuture writeBuffer(Buffer buffer) throws IOException {
    return enqueue(new StreamWriteFuture(this, Objects.requireNonNull(buffer, "buffer")));
  }

  @Override
  public void shutdownOutputStream() throws IOException {
    finishOutput();
  }

  /** Queues the end of the output once; returns the marker's future. */
  private StreamWriteFuture finishOutput() {
    lock.lock();
    try {
      if (finish == null) {
        finish = new StreamWriteFuture("finish-" + id, null);
        if (stopped) {
          finish.fail(new ClosedChannelException());
        } else {
          queue.addLast(finish);
          changed.signalAll();
        }
      }
      return finish;
    } finally {
      lock.unlock();
    }
  }

  private StreamWriteFuture enqueue(StreamWriteFuture write) {
    boolean overflow = false;
    boolean direct = false;
    lock.lock();
    try {
      if (stopped || finish != null || isClosing()) {
        write.fail(new ClosedChannelException());
        return write;
      }
      if (queuedBytes + write.length() > limits.maxQueuedBytes()) {
        overflow = true;
      } else if (queue.isEmpty() && !writing) {
        writing = true;
        direct = true;
      } else {
        queue.addLast(write);
        queuedBytes += write.length();
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
    if (direct) {
      writeDirect(write);
      return write;
    }
    if (overflow) {
      LOG.warnf(
          "%s: more than %d bytes of output queued, the peer is not reading; closing the session",
          this, limits.maxQueuedBytes());
      write.fail(new IOException("output queue full"));
      close(true);
    }
    return write;
  }

  /**
   * Nothing queued and no write under way: writes on the caller's thread if the transport takes the
   * bytes without blocking ({@link Duplex#tryWrite}), which spares the hand-off to the writer
   * thread for most packets of a bulk transfer; else queues them for the writer as usual.
   */
  private void writeDirect(StreamWriteFuture write) {
    boolean written;
    try {
      Buffer b = write.buffer();
      written = duplex.tryWrite(b.array(), b.rpos(), b.available());
    } catch (IOException | RuntimeException | Error e) {
      lock.lock();
      try {
        writing = false; // else the writer thread would wait for it forever
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      IOException io = e instanceof IOException x ? x : new IOException("write failed: " + e, e);
      write.fail(io);
      writeFailed(io);
      return;
    }
    boolean closed = false;
    lock.lock();
    try {
      writing = false;
      if (!written) {
        if (stopped) {
          closed = true;
        } else {
          queue.addFirst(write); // anything queued meanwhile came after it
          queuedBytes += write.length();
        }
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (written) {
      write.setWritten();
    } else if (closed) {
      write.fail(new WriteAbortedException("session closed", null));
    }
  }

  private static final java.util.concurrent.atomic.AtomicInteger LIVE_WRITERS =
      new java.util.concurrent.atomic.AtomicInteger();

  /** Writer threads of all sessions alive now, in this JVM (for leak checks and metrics). */
  public static int liveWriterThreads() {
    return LIVE_WRITERS.get();
  }

  private void writeLoop() {
    LIVE_WRITERS.incrementAndGet();
    try {
      writeQueue();
    } finally {
      LIVE_WRITERS.decrementAndGet();
    }
  }

  private void writeQueue() {
    OutputStream out = duplex.output();
    try {
      while (true) {
        StreamWriteFuture next;
        lock.lock();
        try {
          while ((queue.isEmpty() || writing) && !stopped) {
            changed.await();
          }
          if (stopped) {
            return;
          }
          next = queue.peekFirst();
          writing = true;
        } finally {
          lock.unlock();
        }
        if (next.finishesOutput()) {
          out.close();
        } else {
          Buffer b = next.buffer();
          out.write(b.array(), b.rpos(), b.available());
        }
        lock.lock();
        try {
          queue.pollFirst();
          queuedBytes -= next.length();
          writing = false;
        } finally {
          lock.unlock();
        }
        // Outside the lock: listeners run here and may write again.
        next.setWritten();
      }
    } catch (InterruptedException | InterruptedIOException e) {
      // Stopped by an immediate close.
    } catch (IOException e) {
      writeFailed(e);
    }
  }

  private void writeFailed(IOException e) {
    if (!isClosing()) {
      LOG.debugf("%s: writing failed: %s", this, e.getMessage());
    }
    duplex.abort();
    close(true);
  }

  // -------------------------------------------------------------------------------------- closing

  @Override
  protected CloseFuture doCloseGracefully() {
    DefaultCloseFuture done = new DefaultCloseFuture(toString(), null);
    finishOutput().addListener(f -> done.setClosed());
    return done;
  }

  @Override
  protected void doCloseImmediately() {
    List<StreamWriteFuture> abandoned;
    lock.lock();
    try {
      stopped = true;
      abandoned = new ArrayList<>(queue);
      queue.clear();
      queuedBytes = 0;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (Thread.currentThread() != writer) {
      writer.interrupt();
    }
    WriteAbortedException aborted = new WriteAbortedException("session closed", null);
    for (StreamWriteFuture w : abandoned) {
      w.fail(aborted);
    }
    duplex.close();
    service.sessionClosed(this);
    super.doCloseImmediately();
    try {
      handler.sessionClosed(this);
    } catch (Throwable e) {
      LOG.debugf("%s: sessionClosed failed: %s", this, e.toString());
    }
    synchronized (attributes) {
      attributes.clear();
    }
  }

  /** Bytes of output waiting for the transport (for tests). */
  long queuedBytes() {
    lock.lock();
    try {
      return queuedBytes;
    } finally {
      lock.unlock();
    }
  }

  /** Whether the writer thread has ended (for tests). */
  boolean writerEnded(long waitMillis) throws InterruptedException {
    writer.join(waitMillis);
    return !writer.isAlive();
  }

  @Override
  public String toString() {
    return "ssh-io-" + id + "[" + duplex + "]";
  }
}

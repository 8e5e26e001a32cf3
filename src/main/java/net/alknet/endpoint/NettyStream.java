package net.alknet.endpoint;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.incubator.codec.quic.DefaultQuicStreamFrame;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;

/**
 * A {@link Stream} over one Netty channel: a QUIC stream channel or a TLS/TCP socket channel. It is
 * the last handler of the channel's pipeline and bridges event-loop callbacks to blocking streams.
 *
 * <p>Writers wait while more than {@code bufferBytes} they wrote have not yet been taken by the
 * transport (QUIC stream send capacity, TCP socket), so a stalled peer holds a writer back instead
 * of growing memory.
 *
 * <p>Flow control: incoming bytes are copied into a queue bounded by {@code bufferBytes}; when the
 * queue reaches it, auto-read is switched off so the transport window stops opening, and it is
 * switched on again when the reader has drained half of it. Writers wait while the channel is not
 * writable (outbound buffer above the high watermark {@code bufferBytes}).
 */
final class NettyStream extends ChannelDuplexHandler implements Stream {

  private static final int MAX_WRITE_CHUNK = 64 * 1024;

  private final Channel channel;
  private final NettyConnection connection;
  private final long id;
  private final int high;
  private final int low;
  private final Object lock = new Object();
  private final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
  private int headOffset;
  private int queued;
  private boolean paused;
  private boolean inputFinished;
  private boolean inputDiscarded;
  private boolean outputClosed;
  private long inFlight;
  private final java.util.concurrent.atomic.AtomicInteger queuedWrites =
      new java.util.concurrent.atomic.AtomicInteger();
  private boolean closeNotifyReceived;
  private boolean tcpInputShutdown;
  private volatile boolean tcpHalfCloseAllowed;
  private IOException failure;
  private final Input input = new Input();
  private final Output output = new Output();

  NettyStream(Channel channel, NettyConnection connection, long id, int bufferBytes) {
    this.channel = channel;
    this.connection = connection;
    this.id = id;
    this.high = bufferBytes;
    this.low = bufferBytes / 2;
    channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(low, high));
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  public Connection connection() {
    return connection;
  }

  @Override
  public boolean tryWrite(byte[] b, int off, int len) throws IOException {
    if (channel.eventLoop().inEventLoop()) {
      return false; // its writes complete on this very loop: never claim room here
    }
    return output.tryWrite(b, off, len);
  }

  @Override
  public InputStream input() {
    return input;
  }

  @Override
  public OutputStream output() {
    return output;
  }

  /**
   * Whether the application finished writing but the stream is not done yet: the peer has not
   * finished its side, so it may still be reading (what it has not read yet, in netty, quiche or on
   * the way, is lost if the connection closes now).
   */
  boolean finishingOutput() {
    synchronized (lock) {
      return outputClosed && failure == null && channel.isActive();
    }
  }

  /** Written bytes not yet taken by the transport (for tests and metrics). */
  /** The event loop of this stream's channel (tests). */
  io.netty.channel.EventLoop eventLoop() {
    return channel.eventLoop();
  }

  long pendingWriteBytes() {
    synchronized (lock) {
      return inFlight;
    }
  }

  /** Unread bytes currently buffered (for tests and metrics). */
  int bufferedBytes() {
    synchronized (lock) {
      return queued;
    }
  }

  @Override
  public void abort() {
    synchronized (lock) {
      outputClosed = true;
      discardInputLocked();
      fail(new IOException("stream aborted"));
    }
    if (channel instanceof QuicStreamChannel quic) {
      quic.shutdown(CloseCode.PROTOCOL_ERROR.code()).addListener(f -> quic.close());
    } else {
      channel.close();
    }
  }

  @Override
  public void close() {
    try {
      output.close();
    } catch (IOException ignored) {
      // Already failed: the channel is closing anyway.
    }
    synchronized (lock) {
      discardInputLocked();
    }
    if (channel instanceof QuicStreamChannel quic && quic.isActive()) {
      quic.shutdownInput(CloseCode.NO_ERROR.code());
    }
  }

  // ---- event loop side ----

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof ByteBuf buf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    try {
      int n = buf.readableBytes();
      if (n == 0) {
        return;
      }
      connection.countIn(n);
      synchronized (lock) {
        if (inputDiscarded) {
          return;
        }
        byte[] copy = new byte[n];
        buf.readBytes(copy);
        inbound.add(copy);
        queued += n;
        if (queued >= high && !paused) {
          paused = true;
          channel.config().setAutoRead(false);
        }
        lock.notifyAll();
      }
    } finally {
      buf.release();
    }
  }

  /**
   * TLS/TCP only: whether a peer that sent close_notify and then a TCP FIN may still read (its
   * output is half-closed), so our output stays open until it is closed. Otherwise a FIN closes the
   * channel. A FIN without a close_notify first always closes it: the peer is gone.
   */
  void tcpHalfCloseAllowed(boolean allowed) {
    tcpHalfCloseAllowed = allowed;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslCloseCompletionEvent close && close.isSuccess() && !sslInboundDone(ctx)) {
      // netty's OpenSSL engine reports CLOSED as soon as our own close_notify is out (TLS
      // half-close), while the node goes on sending: its real close_notify is seen by
      // channelReadComplete below.
      ReferenceCountUtil.release(evt);
      return;
    }
    if (evt == ChannelInputShutdownReadComplete.INSTANCE
        || evt == ChannelInputShutdownEvent.INSTANCE
        || evt instanceof SslCloseCompletionEvent) {
      boolean close = false;
      synchronized (lock) {
        inputFinished = true;
        if (evt instanceof SslCloseCompletionEvent) {
          closeNotifyReceived = true;
        }
        if (evt == ChannelInputShutdownEvent.INSTANCE && !(channel instanceof QuicStreamChannel)) {
          // The peer's TCP FIN: without ALLOW_HALF_CLOSURE handling the channel stays open forever.
          tcpInputShutdown = true;
          close = !tcpHalfCloseAllowed || !closeNotifyReceived || outputClosed;
        }
        lock.notifyAll();
      }
      if (close) {
        // Behind the writes already handed to the event loop (a handler that answered and closed
        // its output before this FIN came has its answer queued as tasks): closing at once lost
        // that answer to a client that half-closed right after its request.
        ctx.executor().execute(ctx::close);
      }
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    boolean finished;
    synchronized (lock) {
      finished = inputFinished;
    }
    if (!finished && sslInboundDone(ctx)) {
      // The peer's close_notify, not reported by an event (see userEventTriggered).
      userEventTriggered(ctx, SslCloseCompletionEvent.SUCCESS);
    }
    ctx.fireChannelReadComplete();
  }

  /** TLS/TCP: whether the TLS engine has received the peer's close_notify. */
  private static boolean sslInboundDone(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    return ssl != null && ssl.engine().isInboundDone();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    synchronized (lock) {
      lock.notifyAll();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    synchronized (lock) {
      fail(new IOException("stream closed"));
    }
    connection.streamClosed(this);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    connection.log().debugf("[%s] stream %d failed: %s", connection.id(), id, cause.toString());
    synchronized (lock) {
      fail(new IOException("stream failed: " + cause.getClass().getSimpleName()));
    }
    ctx.close();
  }

  private void fail(IOException e) {
    if (failure == null) {
      failure = e;
    }
    lock.notifyAll();
  }

  private void discardInputLocked() {
    inputDiscarded = true;
    inbound.clear();
    queued = 0;
    resumeLocked();
    lock.notifyAll();
  }

  private void resumeLocked() {
    if (paused) {
      paused = false;
      channel.eventLoop().execute(() -> channel.config().setAutoRead(true));
    }
  }

  private void checkNotEventLoop() {
    if (channel.eventLoop().inEventLoop()) {
      throw new IllegalStateException(
          "blocking stream I/O on an event loop thread; run it on a handler or worker thread");
    }
  }

  private final class Input extends InputStream {
    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      if (len == 0) {
        return 0;
      }
      checkNotEventLoop();
      synchronized (lock) {
        while (inbound.isEmpty()) {
          if (inputDiscarded) {
            throw new IOException("stream input closed");
          }
          if (inputFinished) {
            return -1;
          }
          if (failure != null) {
            throw new IOException(failure.getMessage());
          }
          try {
            lock.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading stream " + id);
          }
        }
        int copied = 0;
        while (copied < len && !inbound.isEmpty()) {
          byte[] head = inbound.peek();
          int n = Math.min(len - copied, head.length - headOffset);
          System.arraycopy(head, headOffset, b, off + copied, n);
          copied += n;
          headOffset += n;
          if (headOffset == head.length) {
            inbound.poll();
            headOffset = 0;
          }
        }
        queued -= copied;
        if (queued <= low) {
          resumeLocked();
        }
        return copied;
      }
    }

    @Override
    public int available() {
      synchronized (lock) {
        return queued;
      }
    }

    @Override
    public void close() {
      synchronized (lock) {
        discardInputLocked();
      }
    }
  }

  private final class Output extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      checkNotEventLoop();
      while (len > 0) {
        awaitWritable();
        int n = Math.min(len, MAX_WRITE_CHUNK);
        send(b, off, n);
        off += n;
        len -= n;
      }
    }

    /** Non-blocking: writes all of it if the bytes in flight stay within the high watermark. */
    boolean tryWrite(byte[] b, int off, int len) throws IOException {
      java.util.Objects.checkFromIndexSize(off, len, b.length);
      synchronized (lock) {
        checkOpen();
        if (inFlight + len > high || !channel.isWritable()) {
          return false;
        }
      }
      // Only the writer adds to inFlight, so the room seen above is still there for every chunk.
      for (int done = 0; done < len; ) {
        int n = Math.min(len - done, MAX_WRITE_CHUNK);
        send(b, off + done, n);
        done += n;
      }
      return true;
    }

    private void send(byte[] b, int off, int n) {
      ByteBuf buf = channel.alloc().directBuffer(n);
      buf.writeBytes(b, off, n);
      connection.countOut(n);
      synchronized (lock) {
        inFlight += n;
      }
      ChannelPromise promise = channel.newPromise();
      promise.addListener(
          f -> {
            synchronized (lock) {
              inFlight -= n;
              if (!f.isSuccess()) {
                fail(new IOException("write failed: stream closed"));
              }
              lock.notifyAll();
            }
          });
      // Flush coalescing: the write runs on the event loop, and the last of a burst of queued
      // writes flushes, so frames written by several threads at once share TLS records and
      // QUIC packets, without delaying a lone write.
      queuedWrites.incrementAndGet();
      try {
        channel
            .eventLoop()
            .execute(
                () -> {
                  channel.write(buf, promise);
                  if (queuedWrites.decrementAndGet() == 0) {
                    channel.flush();
                  }
                });
      } catch (java.util.concurrent.RejectedExecutionException e) {
        queuedWrites.decrementAndGet();
        buf.release();
        promise.tryFailure(e);
      }
    }

    private void checkOpen() throws IOException {
      if (outputClosed) {
        throw new IOException("stream output closed");
      }
      if (failure != null || !channel.isActive()) {
        throw new IOException(failure != null ? failure.getMessage() : "stream closed");
      }
    }

    private void awaitWritable() throws IOException {
      synchronized (lock) {
        while (true) {
          checkOpen();
          // Bytes handed to the channel but not yet taken by the transport. netty-quic's stream
          // channels ignore the write-buffer watermark, so this count is what bounds a writer.
          if (inFlight < high && channel.isWritable()) {
            return;
          }
          try {
            // Timed wait: a writability change between the check and the wait is caught.
            lock.wait(50);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while writing stream " + id);
          }
        }
      }
    }

    @Override
    public void flush() {
      // Every write is flushed to the transport already.
    }

    @Override
    public void close() throws IOException {
      synchronized (lock) {
        if (outputClosed) {
          return;
        }
        outputClosed = true;
      }
      if (!channel.isActive()) {
        return;
      }
      if (channel instanceof QuicStreamChannel quic) {
        // Not quic.shutdownOutput(): netty hands its empty FIN frame to quiche at once, past any
        // writes still queued for want of congestion window; the peer sees a clean end after a
        // truncated body and the queued writes fail. A FIN frame written like data is queued
        // behind them.
        quic.writeAndFlush(new DefaultQuicStreamFrame(Unpooled.EMPTY_BUFFER, true));
      } else {
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        boolean peerGone;
        synchronized (lock) {
          peerGone = tcpInputShutdown;
        }
        if (ssl != null && !peerGone) {
          ssl.closeOutbound();
        } else {
          channel.close(); // both directions are done: the connection is over
        }
      }
    }
  }
}

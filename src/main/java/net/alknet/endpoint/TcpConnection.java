package net.alknet.endpoint;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/** A connection over TLS 1.3/TCP: exactly one stream, the connection itself. */
final class TcpConnection extends NettyConnection {

  private static final long LINGER_POLL_MS = 100;

  private final SocketChannel channel;
  private final NettyStream stream;
  private final boolean server;
  private final long lingerSilenceNanos; // as QUIC's: 5 s, or the idle timeout if shorter
  private final long lingerMaxNanos; // the idle timeout
  private final AtomicBoolean claimed = new AtomicBoolean();
  private final AtomicBoolean lingering = new AtomicBoolean();

  TcpConnection(
      String id,
      String alpn,
      SocketChannel channel,
      Optional<X509Certificate> peerCertificate,
      EndpointMetrics.ConnectionMeters meters,
      EndpointLimits limits,
      boolean server,
      Logger log) {
    super(id, alpn, Transport.TCP, channel.remoteAddress(), peerCertificate, meters, 1, log);
    this.channel = channel;
    this.server = server;
    this.lingerSilenceNanos =
        Math.min(QuicConnection.PEER_SILENCE_NANOS, limits.idleTimeout().toNanos());
    this.lingerMaxNanos = limits.idleTimeout().toNanos();
    this.stream = new NettyStream(channel, this, 0, limits.streamBufferBytes());
    // A node half-closes TCP only as it ends the connection (close_notify first, see close), so on
    // the client a TCP FIN means the node closed the connection; a node keeps a cleanly
    // half-closed client's output open.
    stream.tcpHalfCloseAllowed(server);
    channel.pipeline().addLast("stream", stream);
    registerStream(stream);
    if (server) {
      offerIncoming(stream);
      claimed.set(true);
    }
  }

  @Override
  public Stream openStream() throws IOException {
    if (claimed.compareAndSet(false, true)) {
      return stream;
    }
    throw new IOException("a TLS/TCP connection carries exactly one stream, already in use");
  }

  /**
   * A node ending a connection normally (its handler returned) lingers: it sends close_notify and a
   * FIN after what the handler wrote, then reads and discards whatever the peer still sends, until
   * the peer closes its side, or neither side has moved a byte for five seconds (the idle timeout,
   * if shorter), or for the idle timeout in all. Closing a TCP socket with unread input makes the
   * kernel answer with a reset instead of a FIN, and the reset can take with it what the peer had
   * received but not yet read: the handler's last words. A git push refused at its pack header (the
   * client still sending the pack) lost its "unpack error …" report to the client about every
   * second time that way. Any other close is immediate.
   */
  @Override
  public void close(CloseCode code, String reason) {
    if (server && code == CloseCode.NO_ERROR && channel.isActive()) {
      if (lingering.compareAndSet(false, true)) {
        recordLocalClose(code, reason);
        try {
          channel.eventLoop().execute(this::linger);
        } catch (java.util.concurrent.RejectedExecutionException e) {
          channel.close(); // the event loop is shutting down (the node stops): no linger
        }
      }
      return;
    }
    closeChannel(channel, code, reason);
  }

  private void linger() {
    if (!channel.isActive()) {
      return;
    }
    Drain drain = new Drain();
    // First in the pipeline: what comes in now goes neither through TLS nor to the stream.
    channel.pipeline().addFirst("linger", drain);
    channel.config().setAutoRead(true); // the stream may have paused reading
    boolean peerDone = channel.isInputShutdown(); // its FIN came before: no event will
    SslHandler ssl = channel.pipeline().get(SslHandler.class);
    // close_notify goes out after what the handler wrote; the future completes once it is written
    // (never, if the peer stopped reading: the silence bound ends that case).
    io.netty.util.concurrent.Future<?> notified =
        ssl != null ? ssl.closeOutbound() : channel.newSucceededFuture();
    notified.addListener(
        f -> {
          if (peerDone) {
            channel.close();
          } else if (channel.isActive()) {
            channel.shutdownOutput();
          }
        });
    drain.check();
  }

  /** Bytes the channel still has to write to the socket (what the peer has yet to receive). */
  private long pendingOutbound() {
    io.netty.channel.ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
    return out == null ? 0 : out.totalPendingWriteBytes();
  }

  /** Discards the peer's bytes while the node lingers, and ends the lingering. */
  private final class Drain extends ChannelInboundHandlerAdapter {
    private final long start = System.nanoTime();
    private long lastMoved = start;
    private long lastPending = -1;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ReferenceCountUtil.release(msg);
      lastMoved = System.nanoTime();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      // nothing was passed on
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        // The peer closed its side. Through the whole pipeline, so TLS still flushes what is
        // queued (bounded by its close_notify flush timeout) before the socket closes.
        ctx.channel().close();
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    void check() {
      if (!channel.isOpen()) {
        return;
      }
      long now = System.nanoTime();
      long pending = pendingOutbound();
      if (pending != lastPending) {
        lastPending = pending; // the peer is still taking the handler's last words
        lastMoved = now;
      }
      if (now - lastMoved >= lingerSilenceNanos || now - start >= lingerMaxNanos) {
        channel.close();
        return;
      }
      channel.eventLoop().schedule(this::check, LINGER_POLL_MS, TimeUnit.MILLISECONDS);
    }
  }
}

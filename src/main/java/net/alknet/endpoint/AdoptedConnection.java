package net.alknet.endpoint;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.SocketChannel;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * A TLS/TCP connection whose decrypted channel a {@link ChannelProtocolHandler} took over. It has
 * no streams; the endpoint tracks it for limits, metrics, idle timeout and shutdown.
 */
final class AdoptedConnection extends NettyConnection {

  private final SocketChannel channel;
  private final ChannelProtocolHandler handler;

  AdoptedConnection(
      String id,
      String alpn,
      SocketChannel channel,
      Optional<X509Certificate> peerCertificate,
      EndpointMetrics.ConnectionMeters meters,
      ChannelProtocolHandler handler,
      Logger log) {
    super(id, alpn, Transport.TCP, channel.remoteAddress(), peerCertificate, meters, 0, log);
    this.channel = channel;
    this.handler = handler;
  }

  /** Counts decrypted bytes in and out for the per-ALPN metrics. */
  ChannelDuplexHandler meter() {
    return new ChannelDuplexHandler() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        countIn(size(msg));
        ctx.fireChannelRead(msg);
      }

      @Override
      public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        countOut(size(msg));
        ctx.write(msg, promise);
      }
    };
  }

  private static int size(Object msg) {
    if (msg instanceof ByteBuf b) {
      return b.readableBytes();
    }
    if (msg instanceof ByteBufHolder h) {
      return h.content().readableBytes();
    }
    return 0;
  }

  @Override
  public Stream openStream() throws IOException {
    throw new IOException(alpn() + " connections carry no alknet streams");
  }

  @Override
  void stopAcceptingStreams() {
    channel
        .eventLoop()
        .execute(
            () -> {
              try {
                handler.drain(channel);
              } catch (RuntimeException e) {
                log().debugf("[%s] drain failed: %s", id(), e.toString());
              }
            });
  }

  @Override
  public void close(CloseCode code, String reason) {
    closeChannel(channel, code, reason);
  }
}

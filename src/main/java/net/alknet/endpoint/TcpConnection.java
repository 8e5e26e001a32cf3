package net.alknet.endpoint;

import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/** A connection over TLS 1.3/TCP: exactly one stream, the connection itself. */
final class TcpConnection extends NettyConnection {

  private final SocketChannel channel;
  private final NettyStream stream;
  private final AtomicBoolean claimed = new AtomicBoolean();

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
    this.stream = new NettyStream(channel, this, 0, limits.streamBufferBytes());
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

  @Override
  public void close(CloseCode code, String reason) {
    if (!channel.isOpen()) {
      return;
    }
    recordLocalClose(code, reason);
    SslHandler ssl = channel.pipeline().get(SslHandler.class);
    if (ssl != null) {
      ssl.closeOutbound().addListener(f -> channel.close());
    } else {
      channel.close();
    }
  }
}

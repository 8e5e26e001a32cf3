package net.alknet.endpoint;

import io.netty.channel.socket.SocketChannel;
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
    // A node never half-closes TCP (only TLS close_notify), so on the client a TCP FIN means the
    // node closed the connection; a node keeps a cleanly half-closed client's output open.
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

  @Override
  public void close(CloseCode code, String reason) {
    closeChannel(channel, code, reason);
  }
}

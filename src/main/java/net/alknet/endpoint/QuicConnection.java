package net.alknet.endpoint;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.incubator.codec.quic.QuicStreamType;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/** A connection over QUIC: many bidirectional streams, application close codes on the wire. */
final class QuicConnection extends NettyConnection {

  private final QuicChannel channel;
  private final int streamBufferBytes;
  private final ChannelHandler streamInitializer;

  QuicConnection(
      String id,
      String alpn,
      QuicChannel channel,
      InetSocketAddress remote,
      Optional<X509Certificate> peerCertificate,
      EndpointMetrics.ConnectionMeters meters,
      EndpointLimits limits,
      ChannelHandler streamInitializer,
      Logger log) {
    super(
        id,
        alpn,
        Transport.QUIC,
        remote,
        peerCertificate,
        meters,
        limits.maxStreamsPerConnection(),
        log);
    this.channel = channel;
    this.streamBufferBytes = limits.streamBufferBytes();
    this.streamInitializer = streamInitializer;
  }

  int streamBufferBytes() {
    return streamBufferBytes;
  }

  @Override
  public Stream openStream() throws IOException {
    if (channel.eventLoop().inEventLoop()) {
      throw new IllegalStateException("openStream blocks; call it off the event loop");
    }
    if (!isOpen()) {
      throw new IOException("connection " + id() + " is closed");
    }
    try {
      QuicStreamChannel ch =
          channel
              .createStream(QuicStreamType.BIDIRECTIONAL, streamInitializer)
              .get(30, TimeUnit.SECONDS);
      NettyStream stream = ch.pipeline().get(NettyStream.class);
      if (stream == null) {
        throw new IOException("stream " + ch.streamId() + " closed while opening");
      }
      return stream;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while opening a stream");
    } catch (ExecutionException e) {
      throw new IOException("cannot open stream: " + e.getCause().getMessage());
    } catch (TimeoutException e) {
      throw new IOException("cannot open stream: the peer allows no more streams (timed out)");
    }
  }

  @Override
  public void close(CloseCode code, String reason) {
    if (!channel.isOpen()) {
      return;
    }
    recordLocalClose(code, reason);
    byte[] text = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
    channel.close(true, code.code(), Unpooled.wrappedBuffer(text));
  }

  private volatile CloseInfo peerClose;

  void peerClose(CloseInfo info) {
    peerClose = info;
  }

  /** Why the channel closed: the peer's CONNECTION_CLOSE if one came, else local/idle. */
  CloseInfo closeInfo() {
    CloseInfo p = peerClose;
    if (p != null) {
      return p;
    }
    return localCloseOr(
        channel.isTimedOut()
            ? new CloseInfo(CloseCode.IDLE_TIMEOUT, -1, false, "idle timeout")
            : new CloseInfo(null, -1, false, ""));
  }

  QuicChannel channel() {
    return channel;
  }
}

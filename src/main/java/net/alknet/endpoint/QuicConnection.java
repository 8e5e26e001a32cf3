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
    long deadline = System.nanoTime() + LINGER_NANOS;
    channel.eventLoop().execute(() -> closeAfterLinger(code, text, deadline, -1, 0));
  }

  private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final long LINGER_POLL_MS = 10;
  // quiche delays ACKs up to 25 ms: a quiet spell shorter than that is a pause, not the end
  private static final int QUIET_POLLS = 5;

  /**
   * quiche discards every unsent stream byte when the connection closes, so a handler that wrote
   * its answer, finished the stream and returned would lose the answer's tail. Before closing, wait
   * (bounded) until streams whose output the application finished have handed everything to quiche
   * and quiche has stopped sending (no new bytes for five poll intervals).
   */
  private void closeAfterLinger(
      CloseCode code, byte[] text, long deadline, long lastSent, int quietPolls) {
    if (!channel.isOpen()) {
      return;
    }
    if (System.nanoTime() - deadline >= 0) {
      channel.close(true, code.code(), Unpooled.wrappedBuffer(text));
      return;
    }
    if (hasFinishingStreams()) {
      channel
          .eventLoop()
          .schedule(
              () -> closeAfterLinger(code, text, deadline, -1, 0),
              LINGER_POLL_MS,
              TimeUnit.MILLISECONDS);
      return;
    }
    channel
        .collectStats()
        .addListener(
            f -> {
              long sent =
                  f.isSuccess()
                      ? ((io.netty.incubator.codec.quic.QuicConnectionStats) f.getNow()).sentBytes()
                      : lastSent;
              int quiet = sent == lastSent ? quietPolls + 1 : 0;
              if (quiet >= QUIET_POLLS) {
                channel.close(true, code.code(), Unpooled.wrappedBuffer(text));
              } else {
                channel
                    .eventLoop()
                    .schedule(
                        () -> closeAfterLinger(code, text, deadline, sent, quiet),
                        LINGER_POLL_MS,
                        TimeUnit.MILLISECONDS);
              }
            });
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

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
  private final boolean server;
  private final long peerSilenceNanos;

  QuicConnection(
      String id,
      String alpn,
      QuicChannel channel,
      InetSocketAddress remote,
      Optional<X509Certificate> peerCertificate,
      EndpointMetrics.ConnectionMeters meters,
      EndpointLimits limits,
      ChannelHandler streamInitializer,
      boolean server,
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
    this.server = server;
    this.peerSilenceNanos = Math.min(PEER_SILENCE_NANOS, limits.idleTimeout().toNanos());
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
    Linger linger = new Linger(code, text, server && code == CloseCode.NO_ERROR);
    channel.eventLoop().execute(linger::poll);
  }

  /** How long a closing connection lingers with no byte moving at most. */
  static final long LINGER_STALL_NANOS = TimeUnit.SECONDS.toNanos(2);

  /** The same when the node ends a connection normally and waits for the peer to close it. */
  static final long PEER_SILENCE_NANOS = TimeUnit.SECONDS.toNanos(5);

  private static final long LINGER_POLL_MS = 10;
  // quiche delays ACKs up to 25 ms: a quiet spell shorter than that is a pause, not the end
  private static final int QUIET_POLLS = 5;

  /**
   * A close that lets the streams drain first. quiche discards every stream byte not yet sent, and
   * the peer's quiche every byte its application has not read yet, when the connection closes; so a
   * handler that wrote its answer, finished the stream and returned would lose the answer's tail to
   * a peer that reads slowly (git's index-pack behind a full pipe on a loaded machine).
   *
   * <p>A node ending a connection normally (its handler returned) therefore waits for the peer to
   * close the connection (alknet's clients do once they have read to the end), or for five seconds
   * in which no byte moved either way (a peer still reading grants flow-control credit, so bytes
   * move, except for the last window after the FIN: five seconds is its grace). Any other close
   * (errors, limits, shutdown, a client's own close after it read to the end) waits only until
   * streams whose output the application finished are done and no byte has moved for five poll
   * intervals, at most two seconds without progress. (A fixed two-second bound from the handler's
   * return lost the tail of a QUIC clone under load.)
   */
  private final class Linger {
    private final CloseCode code;
    private final byte[] text;
    private final boolean untilPeerIsSilent;
    private long lastSent = -1;
    private long lastReceived = -1;
    private long lastProgress = System.nanoTime();
    private int quietPolls;

    Linger(CloseCode code, byte[] text, boolean untilPeerIsSilent) {
      this.code = code;
      this.text = text;
      this.untilPeerIsSilent = untilPeerIsSilent;
    }

    void poll() {
      if (!channel.isOpen()) {
        return;
      }
      channel
          .collectStats()
          .addListener(
              f -> {
                if (!channel.isOpen()) {
                  return;
                }
                long now = System.nanoTime();
                boolean moved = false;
                if (f.isSuccess()) {
                  var stats = (io.netty.incubator.codec.quic.QuicConnectionStats) f.getNow();
                  moved = stats.sentBytes() != lastSent || stats.recvBytes() != lastReceived;
                  lastSent = stats.sentBytes();
                  lastReceived = stats.recvBytes();
                }
                if (moved) {
                  lastProgress = now;
                  quietPolls = 0;
                } else {
                  quietPolls++;
                }
                boolean stalled =
                    now - lastProgress
                        >= (untilPeerIsSilent ? peerSilenceNanos : LINGER_STALL_NANOS);
                boolean drained =
                    !untilPeerIsSilent && !hasFinishingStreams() && quietPolls >= QUIET_POLLS;
                if (drained || stalled) {
                  channel.close(true, code.code(), Unpooled.wrappedBuffer(text));
                } else {
                  channel.eventLoop().schedule(this::poll, LINGER_POLL_MS, TimeUnit.MILLISECONDS);
                }
              });
    }
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

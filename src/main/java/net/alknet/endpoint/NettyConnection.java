package net.alknet.endpoint;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.jboss.logging.Logger;

/** What the QUIC and TLS/TCP connections share: identity, stream queue, close bookkeeping. */
abstract class NettyConnection implements Connection {

  private final String id;
  private final String alpn;
  private final Transport transport;
  private final InetSocketAddress remote;
  private final Optional<X509Certificate> peerCertificate;
  private final EndpointMetrics.ConnectionMeters meters;
  private final Logger log;
  private final LinkedBlockingQueue<Optional<NettyStream>> incoming;
  private final Set<NettyStream> streams = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<CloseInfo> closed = new CompletableFuture<>();
  private volatile Thread handlerThread;
  private volatile CloseInfo localClose;
  private volatile boolean refuseNewStreams;

  NettyConnection(
      String id,
      String alpn,
      Transport transport,
      InetSocketAddress remote,
      Optional<X509Certificate> peerCertificate,
      EndpointMetrics.ConnectionMeters meters,
      int maxQueuedStreams,
      Logger log) {
    this.id = id;
    this.alpn = alpn;
    this.transport = transport;
    this.remote = remote;
    this.peerCertificate = peerCertificate;
    this.meters = meters;
    this.log = log;
    this.incoming = new LinkedBlockingQueue<>(maxQueuedStreams + 1);
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public String alpn() {
    return alpn;
  }

  @Override
  public Transport transport() {
    return transport;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return remote;
  }

  @Override
  public Optional<X509Certificate> peerCertificate() {
    return peerCertificate;
  }

  @Override
  public Stream acceptStream() throws IOException, InterruptedException {
    Optional<NettyStream> next = incoming.take();
    if (next.isEmpty()) {
      incoming.offer(Optional.empty()); // keep the end marker for other waiters
      return null;
    }
    return next.get();
  }

  @Override
  public boolean isOpen() {
    return !closed.isDone();
  }

  @Override
  public CompletionStage<CloseInfo> closed() {
    return closed.minimalCompletionStage();
  }

  Logger log() {
    return log;
  }

  /**
   * Registers a stream the peer opened; refused (reset) when the queue is full or shutting down.
   */
  void offerIncoming(NettyStream stream) {
    streams.add(stream);
    if (refuseNewStreams || closed.isDone() || !incoming.offer(Optional.of(stream))) {
      log.debugf("[%s] refusing stream %d", id, stream.id());
      stream.abort();
    }
  }

  void registerStream(NettyStream stream) {
    streams.add(stream);
  }

  /** Whether some stream's finished output is still on its way out (see QuicConnection#close). */
  boolean hasFinishingStreams() {
    for (NettyStream s : streams) {
      if (s.finishingOutput()) {
        return true;
      }
    }
    return false;
  }

  void streamClosed(NettyStream stream) {
    streams.remove(stream);
  }

  /**
   * During shutdown: no more peer streams; {@link #acceptStream()} ends once the queue is empty.
   */
  void stopAcceptingStreams() {
    refuseNewStreams = true;
    incoming.offer(Optional.empty());
  }

  void countIn(int n) {
    meters.bytesIn(n);
  }

  void countOut(int n) {
    meters.bytesOut(n);
  }

  /** Remembers the first code this side closed with, for {@link #closed()}. */
  void recordLocalClose(CloseCode code, String reason) {
    if (localClose == null) {
      localClose = new CloseInfo(code, code.code(), false, reason == null ? "" : reason);
    }
  }

  /**
   * Closes a TLS/TCP channel, remembering the code. SslHandler turns close() into close_notify +
   * close, bounded by its close_notify flush timeout: waiting for closeOutbound() to complete would
   * hang forever when the peer stopped reading.
   */
  void closeChannel(io.netty.channel.Channel channel, CloseCode code, String reason) {
    if (!channel.isOpen()) {
      return;
    }
    recordLocalClose(code, reason);
    channel.close();
  }

  /** The local close info if this side closed, else the given fallback. */
  CloseInfo localCloseOr(CloseInfo fallback) {
    CloseInfo l = localClose;
    return l != null ? l : fallback;
  }

  void bindHandlerThread(Thread t) {
    handlerThread = t;
  }

  /** Called once from the transport when the connection is gone. */
  void markClosed(CloseInfo info) {
    if (!closed.complete(info)) {
      return;
    }
    incoming.clear();
    incoming.offer(Optional.empty());
    Thread t = handlerThread;
    if (t != null && t != Thread.currentThread()) {
      t.interrupt();
    }
    meters.closed();
  }

  @Override
  public String toString() {
    return id + " " + alpn + " " + transport.label() + " " + remote;
  }
}

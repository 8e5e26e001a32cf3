package net.alknet.endpoint;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.incubator.codec.quic.BoringSSLContextOption;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicChannelOption;
import io.netty.incubator.codec.quic.QuicConnectionCloseEvent;
import io.netty.incubator.codec.quic.QuicServerCodecBuilder;
import io.netty.incubator.codec.quic.QuicSslContext;
import io.netty.incubator.codec.quic.QuicSslContextBuilder;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import net.alknet.auth.Identity;
import net.alknet.auth.IdentityProvider;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * The node's listening side (EP-1..EP-8): one port number, QUIC v1 on UDP and TLS 1.3 on TCP, each
 * connection routed by its negotiated ALPN to the handler in the {@link HandlerRegistry}.
 *
 * <p>Netty channels run on the given event-loop group (in a node, Vert.x's). Handlers run on their
 * own handler threads, one per connection, so a handler that blocks or throws harms only its
 * connection. {@link #shutdown(Duration)} is ordered and idempotent.
 */
public final class EndpointServer implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(EndpointServer.class);
  private static final AttributeKey<QuicConnection> QUIC_CONNECTION =
      AttributeKey.valueOf("alknet.connection");

  /**
   * Listener options.
   *
   * @param bindAddress address both listeners bind (e.g. 0.0.0.0)
   * @param port port number for UDP and TCP; 0 picks a free one (the same number for both)
   * @param quic whether to listen for QUIC
   * @param tcp whether to listen for TLS/TCP
   * @param defaultAlpn handler ALPN for TLS clients that offer no ALPN at all (EP-4)
   * @param requestClientCertificates ask TLS clients for an (optional) certificate
   */
  public record Options(
      String bindAddress,
      int port,
      boolean quic,
      boolean tcp,
      String defaultAlpn,
      boolean requestClientCertificates) {

    public static Options loopback(int port) {
      return new Options("127.0.0.1", port, true, true, "http/1.1", true);
    }

    public Options withDefaultAlpn(String alpn) {
      return new Options(bindAddress, port, quic, tcp, alpn, requestClientCertificates);
    }
  }

  /** What {@code alknet status} shows. */
  public record Status(
      List<String> listening,
      List<String> alpns,
      boolean accepting,
      int openConnections,
      java.util.Map<String, Integer> activeByAlpn) {}

  private final HandlerRegistry registry;
  private final TlsIdentity tls;
  private final IdentityProvider identities;
  private final EndpointLimits limits;
  private final Options options;
  private final EventLoopGroup group;
  private final EndpointMetrics metrics;
  private final ConnectionTracker tracker;
  private final Set<NettyConnection> connections = ConcurrentHashMap.newKeySet();
  private final ExecutorService handlerThreads;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean shutdown = new AtomicBoolean();
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();
  private volatile boolean accepting;
  private SSLContext tcpTls;
  private Channel tcpChannel;
  private Channel udpChannel;
  private int port;

  public EndpointServer(
      HandlerRegistry registry,
      TlsIdentity tls,
      IdentityProvider identities,
      EndpointLimits limits,
      Options options,
      EventLoopGroup group,
      EndpointMetrics metrics) {
    this.registry = registry;
    this.tls = tls;
    this.identities = identities;
    this.limits = limits;
    this.options = options;
    this.group = group;
    this.metrics = metrics;
    this.tracker =
        new ConnectionTracker(limits.maxConnections(), limits.maxConnectionsPerAddress());
    AtomicInteger n = new AtomicInteger();
    // One thread per open connection at most; connections are capped by maxConnections.
    this.handlerThreads =
        new ThreadPoolExecutor(
            0,
            limits.maxConnections() + 16,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "alknet-handler-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** Binds both listeners; fails with the address in the message if the port is taken. */
  public synchronized void start() throws IOException {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("endpoint already started");
    }
    if (registry.alpns().isEmpty()) {
      throw new IllegalStateException("no protocol handler is enabled; nothing to serve");
    }
    tcpTls = TlsContexts.serverContext(tls);
    // Everything slow (BoringSSL and quiche loading, the QUIC TLS context) happens before the
    // first listener binds, so the two listeners open within moments of each other: a connection
    // that arrives in between is refused (tagged "starting"), not served half-started.
    QuicSslContext quicTls = options.quic() ? quicTlsContext() : null;
    InetAddress bind = InetAddress.getByName(options.bindAddress());
    IOException last = null;
    for (int attempt = 0; attempt < (options.port() == 0 ? 10 : 1); attempt++) {
      try {
        bindBoth(bind, options.port(), quicTls);
        last = null;
        break;
      } catch (IOException e) {
        last = e;
        closeListeners();
      }
    }
    if (last != null) {
      throw last;
    }
    accepting = true;
    LOG.infof(
        "alknet endpoint listening on %s port %d (%s, %s) for ALPNs %s",
        options.bindAddress(),
        port,
        (options.quic() ? "quic" : "")
            + (options.quic() && options.tcp() ? "+" : "")
            + (options.tcp() ? "tcp" : ""),
        NettyTransport.of(group).name().toLowerCase(java.util.Locale.ROOT),
        registry.alpns());
  }

  private void bindBoth(InetAddress bind, int requested, QuicSslContext quicTls)
      throws IOException {
    int p = requested;
    if (options.tcp()) {
      tcpChannel = bindTcp(new InetSocketAddress(bind, p));
      p = ((InetSocketAddress) tcpChannel.localAddress()).getPort();
    }
    if (options.quic()) {
      udpChannel = bindQuic(new InetSocketAddress(bind, p), quicTls);
      p = ((InetSocketAddress) udpChannel.localAddress()).getPort();
    }
    port = p;
  }

  private Channel bindTcp(InetSocketAddress address) throws IOException {
    ServerBootstrap b =
        new ServerBootstrap()
            .group(group)
            .channel(NettyTransport.of(group).serverSocketChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    initTcp(ch);
                  }
                });
    try {
      return b.bind(address).sync().channel();
    } catch (Exception e) {
      throw new IOException("cannot listen on TCP " + address + ": " + e.getMessage(), e);
    }
  }

  private QuicSslContext quicTlsContext() {
    // netty's default key manager only offers RSA/EC keys to BoringSSL, never an Ed25519 one (the
    // vault-derived node key): hand such a key over with our own single-key manager.
    String keyAlgorithm = tls.privateKey().getAlgorithm();
    QuicSslContextBuilder builder =
        keyAlgorithm.equals("EdDSA") || keyAlgorithm.equals("Ed25519")
            ? QuicSslContextBuilder.forServer(
                new TlsContexts.SingleKeyManager(tls.privateKey(), tls.chain()), null)
            : QuicSslContextBuilder.forServer(
                tls.privateKey(), null, tls.chain().toArray(new X509Certificate[0]));
    return builder
        .trustManager(new TlsContexts.AnyClientCertificate())
        .clientAuth(options.requestClientCertificates() ? ClientAuth.OPTIONAL : ClientAuth.NONE)
        .applicationProtocols(registry.alpns(Transport.QUIC).toArray(new String[0]))
        .earlyData(false)
        .option(BoringSSLContextOption.SIGNATURE_ALGORITHMS, TlsContexts.QUIC_SIGNATURE_ALGORITHMS)
        .build();
  }

  private Channel bindQuic(InetSocketAddress address, QuicSslContext ssl) throws IOException {
    long window = limits.streamBufferBytes();
    NettyTransport transport = NettyTransport.of(group);
    ChannelHandler codec =
        NettyTransport.quicPackets(new QuicServerCodecBuilder())
            .option(
                QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
                transport.quicSendAllocator())
            .sslContext(ssl)
            .maxIdleTimeout(limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .initialMaxData(Math.min(window * limits.maxStreamsPerConnection(), 16L << 20))
            .initialMaxStreamDataBidirectionalLocal(window)
            .initialMaxStreamDataBidirectionalRemote(window)
            .initialMaxStreamsBidirectional(limits.maxStreamsPerConnection())
            .initialMaxStreamsUnidirectional(0)
            .tokenHandler(null) // no Retry round trip; address validation is a later hardening step
            .streamOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .handler(
                new ChannelInitializer<QuicChannel>() {
                  @Override
                  protected void initChannel(QuicChannel ch) {
                    initQuic(ch);
                  }
                })
            .streamHandler(
                new ChannelInitializer<QuicStreamChannel>() {
                  @Override
                  protected void initChannel(QuicStreamChannel ch) {
                    QuicConnection conn = quicConnection(ch.parent());
                    if (conn == null) {
                      ch.close();
                      return;
                    }
                    NettyStream stream =
                        new NettyStream(ch, conn, ch.streamId(), limits.streamBufferBytes());
                    ch.pipeline().addLast(stream);
                    conn.offerIncoming(stream);
                  }
                })
            .build();
    try {
      Channel ch =
          transport
              .udp(new Bootstrap().group(group))
              .option(ChannelOption.SO_RCVBUF, UDP_BUFFER_BYTES)
              .option(ChannelOption.SO_SNDBUF, UDP_BUFFER_BYTES)
              .handler(codec)
              .bind(address)
              .sync()
              .channel();
      udpBufferWarning(ch.config().getOption(ChannelOption.SO_RCVBUF), UDP_BUFFER_BYTES)
          .ifPresent(LOG::warn);
      return ch;
    } catch (Exception e) {
      throw new IOException("cannot listen on UDP " + address + ": " + e.getMessage(), e);
    }
  }

  /** The UDP socket buffers the node asks for: room for bursts of a few fast QUIC senders. */
  static final int UDP_BUFFER_BYTES = 4 << 20;

  /**
   * A warning when the kernel gave the UDP socket a smaller receive buffer than asked for. Linux
   * caps it at {@code net.core.rmem_max} (208 KiB on many distributions) without an error, and a
   * QUIC socket with that little room drops packets whenever the node falls a few milliseconds
   * behind a fast sender. Linux doubles the size it grants (room for its bookkeeping) and reports
   * the doubled value.
   *
   * @param reported what the socket reports for SO_RCVBUF (null: unknown, no warning)
   */
  static java.util.Optional<String> udpBufferWarning(Integer reported, int requested) {
    if (reported == null || reported >= 2L * requested) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(
        String.format(
            "the UDP receive buffer is %d KiB, not the %d KiB asked for (the kernel's"
                + " net.core.rmem_max caps it): QUIC may drop packets under load; raise the cap with"
                + " `sysctl -w net.core.rmem_max=%d` (docs/endpoint.md)",
            reported / 2 / 1024, requested / 1024, requested));
  }

  // ---- TLS over TCP ----

  private void initTcp(SocketChannel ch) {
    InetSocketAddress remote = ch.remoteAddress();
    if (!admit(ch, remote, Transport.TCP)) {
      ch.close();
      return;
    }
    SSLEngine engine = tcpTls.createSSLEngine();
    engine.setUseClientMode(false);
    SSLParameters params = engine.getSSLParameters();
    params.setProtocols(TlsContexts.TLS13);
    params.setWantClientAuth(options.requestClientCertificates());
    engine.setSSLParameters(params);
    // No overlap -> null -> the handshake fails with the no_application_protocol alert (EP-4).
    engine.setHandshakeApplicationProtocolSelector(
        (e, offered) -> {
          for (String alpn : offered) {
            if (registry
                .lookup(alpn)
                .filter(h -> h.transports().contains(Transport.TCP))
                .isPresent()) {
              return alpn;
            }
          }
          return null;
        });
    SslHandler ssl = new SslHandler(engine);
    ssl.setHandshakeTimeoutMillis(limits.handshakeTimeout().toMillis());
    long idle = limits.idleTimeout().toMillis();
    ch.pipeline()
        .addLast("tls", ssl)
        .addLast("idle", new IdleStateHandler(0, 0, idle, TimeUnit.MILLISECONDS))
        .addLast("setup", new TcpSetup(engine));
  }

  private final class TcpSetup extends ChannelInboundHandlerAdapter {
    private final SSLEngine engine;
    private NettyConnection connection;

    TcpSetup(SSLEngine engine) {
      this.engine = engine;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof SslHandshakeCompletionEvent done) {
        if (!done.isSuccess()) {
          handshakeFailed(ctx.channel(), done.cause(), Transport.TCP);
          ctx.close();
          return;
        }
        String alpn = engine.getApplicationProtocol();
        if (alpn == null || alpn.isEmpty()) {
          alpn = options.defaultAlpn();
        }
        Optional<X509Certificate> cert = peerCertificate(engine);
        if (registry.lookup(alpn).orElse(null) instanceof ChannelProtocolHandler adopter) {
          adopt(ctx, adopter, alpn, cert);
          ctx.fireUserEventTriggered(evt);
          return;
        }
        connection =
            new TcpConnection(
                newId(),
                alpn,
                (SocketChannel) ctx.channel(),
                cert,
                metrics.opened(alpn, Transport.TCP),
                limits,
                true,
                LOG);
        NettyConnection conn = connection;
        ctx.channel()
            .closeFuture()
            .addListener(
                f -> closed(conn, conn.localCloseOr(new Connection.CloseInfo(null, -1, true, ""))));
        dispatch(conn);
        ctx.fireUserEventTriggered(evt);
        return;
      }
      if (evt instanceof IdleStateEvent) {
        LOG.infof("[%s] idle timeout; closing", connection == null ? "tcp" : connection.id());
        if (connection != null) {
          connection.close(CloseCode.IDLE_TIMEOUT, "idle timeout");
        } else {
          ctx.close();
        }
        return;
      }
      ctx.fireUserEventTriggered(evt);
    }

    /** Hands the decrypted channel to a handler that serves it on the event loop (HTTP). */
    private void adopt(
        ChannelHandlerContext ctx,
        ChannelProtocolHandler adopter,
        String alpn,
        Optional<X509Certificate> cert) {
      SocketChannel ch = (SocketChannel) ctx.channel();
      AdoptedConnection conn =
          new AdoptedConnection(
              newId(), alpn, ch, cert, metrics.opened(alpn, Transport.TCP), adopter, LOG);
      connection = conn;
      connections.add(conn);
      ch.closeFuture()
          .addListener(
              f -> closed(conn, conn.localCloseOr(new Connection.CloseInfo(null, -1, true, ""))));
      ch.pipeline().addAfter("tls", "meter", conn.meter());
      // The stream transport keeps a half-closed TCP connection open (EP-5); an adopted protocol
      // (HTTP) has no half-close, so a peer's FIN must end the connection (else CLOSE-WAIT).
      ch.config().setAllowHalfClosure(false);
      AuthContext auth = authContext(conn);
      LOG.debugf(
          "[%s] adopted alpn=%s peer=%s identity=%s",
          conn.id(), alpn, conn.remoteAddress(), auth.identity().map(Identity::id).orElse("-"));
      try {
        adopter.adopt(ch, auth);
      } catch (RuntimeException e) {
        metrics.handlerError(alpn);
        LOG.errorf(e, "[%s] handler %s failed; closing the connection", conn.id(), adopter.name());
        conn.close(CloseCode.INTERNAL_ERROR, "internal error");
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Handshake failures are reported by the completion event; anything else is one line.
      if (connection != null) {
        LOG.debugf("[%s] transport error: %s", connection.id(), cause.toString());
      }
      ctx.close();
    }
  }

  // ---- QUIC ----

  private void initQuic(QuicChannel ch) {
    InetSocketAddress remote = (InetSocketAddress) ch.remoteSocketAddress();
    if (!admit(ch, remote, Transport.QUIC)) {
      ch.pipeline().addLast(new RefusedQuic());
      // Closed from initChannel, before quiche has read the client's Initial, nothing reaches the
      // client, which retransmits until its handshake timeout. Closed a moment later, quiche
      // answers with a CONNECTION_CLOSE and the client's connect fails at once.
      ch.eventLoop()
          .execute(
              () ->
                  ch.close(
                      true,
                      CloseCode.LIMIT_EXCEEDED.code(),
                      io.netty.buffer.Unpooled.EMPTY_BUFFER));
      return;
    }
    ch.eventLoop()
        .schedule(
            () -> {
              if (ch.isOpen() && !ch.isActive()) {
                metrics.handshakeFailed("timeout", Transport.QUIC);
                LOG.debugf("QUIC handshake from %s timed out", remote);
                ch.close();
              }
            },
            limits.handshakeTimeout().toMillis(),
            TimeUnit.MILLISECONDS);
    ch.pipeline().addLast(new QuicSetup());
  }

  /** The refused connection's handshake ends with an expected crypto error: not worth a log. */
  private static final class RefusedQuic extends ChannelInboundHandlerAdapter {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  private final class QuicSetup extends ChannelInboundHandlerAdapter {

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      QuicConnection conn = quicConnection((QuicChannel) ctx.channel());
      if (conn != null) {
        dispatch(conn);
      } else {
        ctx.close();
      }
      ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof QuicConnectionCloseEvent close) {
        QuicConnection conn = ctx.channel().attr(QUIC_CONNECTION).get();
        if (conn != null) {
          conn.peerClose(
              new Connection.CloseInfo(
                  close.isApplicationClose() ? CloseCode.of(close.error()) : null,
                  close.error(),
                  true,
                  new String(close.reason(), StandardCharsets.UTF_8)));
        }
      } else if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
        handshakeFailed(ctx.channel(), done.cause(), Transport.QUIC);
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof javax.net.ssl.SSLHandshakeException) {
        handshakeFailed(ctx.channel(), cause, Transport.QUIC);
        // Closing while quiche is still processing the packet loses its TLS alert (the client
        // waited for its handshake timeout); a moment later quiche sends it.
        ctx.channel().eventLoop().execute(ctx::close);
        return;
      } else {
        LOG.debugf(
            "QUIC connection error from %s: %s",
            ((QuicChannel) ctx.channel()).remoteSocketAddress(), cause.toString());
      }
      ctx.close();
    }
  }

  /** The connection object of a QUIC channel, created on first need once the ALPN is known. */
  private QuicConnection quicConnection(QuicChannel ch) {
    QuicConnection existing = ch.attr(QUIC_CONNECTION).get();
    if (existing != null) {
      return existing;
    }
    SSLEngine engine = ch.sslEngine();
    String alpn = engine == null ? null : engine.getApplicationProtocol();
    if (alpn == null || alpn.isEmpty()) {
      return null;
    }
    QuicConnection conn =
        new QuicConnection(
            newId(),
            alpn,
            ch,
            (InetSocketAddress) ch.remoteSocketAddress(),
            peerCertificate(engine),
            metrics.opened(alpn, Transport.QUIC),
            limits,
            streamInitializer(),
            true,
            LOG);
    ch.attr(QUIC_CONNECTION).set(conn);
    ch.closeFuture().addListener(f -> closed(conn, conn.closeInfo()));
    return conn;
  }

  private ChannelHandler streamInitializer() {
    return new ChannelInitializer<QuicStreamChannel>() {
      @Override
      protected void initChannel(QuicStreamChannel ch) {
        QuicConnection conn = ch.parent().attr(QUIC_CONNECTION).get();
        NettyStream stream = new NettyStream(ch, conn, ch.streamId(), limits.streamBufferBytes());
        ch.pipeline().addLast(stream);
        conn.registerStream(stream);
      }
    };
  }

  // ---- shared ----

  boolean admit(Channel ch, InetSocketAddress remote, Transport transport) {
    if (!accepting) {
      metrics.rejected(shutdown.get() ? "shutting_down" : "starting", transport);
      return false;
    }
    ConnectionTracker.Refusal refusal = tracker.tryAcquire(remote.getAddress());
    if (refusal != null) {
      metrics.rejected(refusal.tag, transport);
      LOG.warnf("refused %s connection from %s: %s", transport.label(), remote, refusal.tag);
      return false;
    }
    ch.closeFuture().addListener(f -> tracker.release(remote.getAddress()));
    return true;
  }

  private void handshakeFailed(Channel ch, Throwable cause, Transport transport) {
    String reason;
    if (cause instanceof SslHandshakeTimeoutException) {
      reason = "timeout";
    } else if (String.valueOf(cause.getMessage()).toLowerCase().contains("application protocol")
        // the JDK's SSLEngine: "No matching application layer protocol values"
        || String.valueOf(cause.getMessage()).contains("application layer protocol")
        || String.valueOf(cause.getMessage()).contains("NO_APPLICATION_PROTOCOL")) {
      reason = "no_application_protocol";
    } else {
      reason = "tls";
    }
    metrics.handshakeFailed(reason, transport);
    LOG.debugf("%s handshake failed (%s): %s", transport.label(), reason, cause.getMessage());
  }

  private static Optional<X509Certificate> peerCertificate(SSLEngine engine) {
    try {
      Certificate[] certs = engine.getSession().getPeerCertificates();
      if (certs.length > 0 && certs[0] instanceof X509Certificate x) {
        return Optional.of(x);
      }
    } catch (SSLPeerUnverifiedException | RuntimeException e) {
      // No client certificate: the common case.
    }
    return Optional.empty();
  }

  private static String newId() {
    return String.format("c-%08x", ThreadLocalRandom.current().nextInt());
  }

  private void dispatch(NettyConnection conn) {
    connections.add(conn);
    Optional<ProtocolHandler> handler = registry.lookup(conn.alpn());
    if (handler.isEmpty()) {
      metrics.rejected("no_handler", conn.transport());
      LOG.warnf(
          "[%s] no handler for ALPN %s (%s from %s); closing",
          conn.id(), conn.alpn(), conn.transport().label(), conn.remoteAddress());
      conn.close(CloseCode.NO_HANDLER, "no handler for " + conn.alpn());
      return;
    }
    AuthContext auth = authContext(conn);
    Optional<Identity> identity = auth.identity();
    String who =
        identity.map(Identity::id).orElse(auth.clientKey().isPresent() ? "unknown-key" : "-");
    LOG.infof(
        "[%s] accepted alpn=%s transport=%s peer=%s identity=%s",
        conn.id(), conn.alpn(), conn.transport().label(), conn.remoteAddress(), who);
    try {
      handlerThreads.execute(() -> runHandler(handler.get(), conn, auth, who));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      LOG.warnf("[%s] no handler thread available; closing", conn.id());
      conn.close(CloseCode.LIMIT_EXCEEDED, "busy");
    }
  }

  /** What the transport proved about the peer: its client certificate key and identity. */
  private AuthContext authContext(NettyConnection conn) {
    Optional<PublicKey> clientKey =
        conn.peerCertificate()
            .map(X509Certificate::getPublicKey)
            .filter(k -> k.getAlgorithm().equals("EdDSA") || k.getAlgorithm().equals("Ed25519"));
    Optional<Identity> identity =
        clientKey.flatMap(
            k -> {
              try {
                return identities
                    .resolveFromPublicKey(k)
                    .map(i -> i.withProof(Identity.Proof.CLIENT_CERTIFICATE));
              } catch (RuntimeException e) {
                LOG.warnf("[%s] identity lookup failed: %s", conn.id(), e.toString());
                return Optional.empty();
              }
            });
    return new AuthContext(
        conn.id(),
        conn.alpn(),
        conn.transport(),
        conn.remoteAddress(),
        clientKey,
        identity,
        identities);
  }

  private void runHandler(
      ProtocolHandler handler, NettyConnection conn, AuthContext auth, String who) {
    conn.bindHandlerThread(Thread.currentThread());
    MDC.put("conn", conn.id());
    MDC.put("alpn", conn.alpn());
    MDC.put("identity", who);
    try {
      if (conn.isOpen()) {
        handler.handle(conn, auth);
      }
      conn.close(
          shutdown.get() ? CloseCode.SHUTDOWN : CloseCode.NO_ERROR,
          shutdown.get() ? "node shutting down" : "");
    } catch (Throwable t) {
      if (conn.isOpen()) {
        metrics.handlerError(conn.alpn());
        LOG.errorf(t, "[%s] handler %s failed; closing the connection", conn.id(), handler.name());
        conn.close(CloseCode.INTERNAL_ERROR, "internal error");
      } else {
        LOG.debugf("[%s] handler ended after close: %s", conn.id(), t.toString());
      }
    } finally {
      conn.bindHandlerThread(null);
      Thread.interrupted(); // clear an interrupt from the close before the thread is reused
      MDC.clear();
    }
  }

  private void closed(NettyConnection conn, Connection.CloseInfo info) {
    // Mark first: shutdown() stops the handler threads once `connections` is empty, and a
    // handler interrupted by that must already see its connection closed (not a handler error).
    conn.markClosed(info);
    connections.remove(conn);
    LOG.debugf("[%s] closed", conn.id());
  }

  /** The port number both listeners are bound to. */
  public int port() {
    return port;
  }

  public HandlerRegistry registry() {
    return registry;
  }

  public TlsIdentity tlsIdentity() {
    return tls;
  }

  public boolean isAccepting() {
    return accepting;
  }

  public Status status() {
    List<String> listening = new ArrayList<>();
    if (tcpChannel != null) {
      listening.add("tcp " + tcpChannel.localAddress());
    }
    if (udpChannel != null) {
      listening.add("quic " + udpChannel.localAddress());
    }
    return new Status(
        listening, registry.alpns(), accepting, connections.size(), metrics.activeByAlpn());
  }

  /** Completes when {@link #shutdown} has finished. */
  public CompletableFuture<Void> terminated() {
    return terminated;
  }

  /**
   * Graceful shutdown (EP-7), idempotent:
   *
   * <ol>
   *   <li>stop accepting: close the TCP listener, refuse new QUIC connections and new streams;
   *   <li>tell every handler ({@link ProtocolHandler#shutdown()});
   *   <li>wait up to {@code grace} for connections to finish their in-flight work;
   *   <li>close the rest with {@link CloseCode#SHUTDOWN};
   *   <li>close the UDP socket and stop the handler threads.
   * </ol>
   */
  public void shutdown(Duration grace) {
    if (!shutdown.compareAndSet(false, true)) {
      terminated.join();
      return;
    }
    accepting = false;
    if (tcpChannel != null) {
      tcpChannel.close().awaitUninterruptibly();
    }
    for (NettyConnection c : connections) {
      c.stopAcceptingStreams();
    }
    for (ProtocolHandler h : registry.handlers()) {
      try {
        h.shutdown();
      } catch (RuntimeException e) {
        LOG.warnf("handler %s failed to shut down: %s", h.name(), e.toString());
      }
    }
    long deadline = System.nanoTime() + grace.toNanos();
    while (!connections.isEmpty() && System.nanoTime() < deadline) {
      sleep(20);
    }
    if (!connections.isEmpty()) {
      LOG.infof("closing %d connection(s) still open after the grace period", connections.size());
    }
    for (NettyConnection c : connections) {
      c.close(CloseCode.SHUTDOWN, "node shutting down");
    }
    long closeDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (!connections.isEmpty() && System.nanoTime() < closeDeadline) {
      sleep(20);
    }
    closeListeners();
    handlerThreads.shutdownNow();
    LOG.info("alknet endpoint stopped");
    terminated.complete(null);
  }

  private void closeListeners() {
    if (tcpChannel != null) {
      tcpChannel.close().awaitUninterruptibly();
      tcpChannel = null;
    }
    if (udpChannel != null) {
      // Give the QUIC close frames a moment to leave before the socket goes: quiche writes the
      // CONNECTION_CLOSE after the channel closed, and a closed socket would drop it.
      if (started.get() && shutdown.get()) {
        sleep(100);
      }
      udpChannel.close().awaitUninterruptibly();
      udpChannel = null;
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    shutdown(Duration.ofSeconds(5));
  }
}

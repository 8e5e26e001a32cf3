package net.alknet.endpoint;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.incubator.codec.quic.BoringSSLContextOption;
import io.netty.incubator.codec.quic.Quic;
import io.netty.incubator.codec.quic.QuicChannel;
import io.netty.incubator.codec.quic.QuicChannelOption;
import io.netty.incubator.codec.quic.QuicClientCodecBuilder;
import io.netty.incubator.codec.quic.QuicConnectionCloseEvent;
import io.netty.incubator.codec.quic.QuicSslContext;
import io.netty.incubator.codec.quic.QuicSslContextBuilder;
import io.netty.incubator.codec.quic.QuicStreamChannel;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLEngine;
import org.jboss.logging.Logger;

/**
 * The client side of the endpoint (EP-9): {@code connect(host, port, alpn, trust, transport)}
 * returns a {@link Connection} with the same stream API handlers use.
 *
 * <p>With a client key, the client presents a self-signed certificate for that Ed25519 key so the
 * node can resolve it to an identity (mutual TLS). Trust in the node is decided by a {@link Trust}
 * policy (pinned fingerprint, known_nodes, or CAs); a refusal is reported with the policy's
 * message.
 *
 * <p>Blocking: {@link #connect} waits for the handshake and MUST NOT be called on an event loop.
 */
public final class EndpointClient implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(EndpointClient.class);
  private static final AttributeKey<QuicConnection> CONNECTION =
      AttributeKey.valueOf("alknet.client.connection");

  private final EventLoopGroup group;
  private final boolean ownsGroup;
  private final Optional<TlsContexts.SingleKeyManager> clientCertificate;
  private final EndpointLimits limits;
  private final EndpointMetrics metrics;

  /**
   * The TLS/TCP provider; null: {@link ClientTls#current()}, looked up on the first TCP connect, so
   * a QUIC-only client never loads netty-tcnative's library.
   */
  private ClientTls tls;

  /** {@code host:port} of nodes that refused a BoringSSL handshake: the JDK's TLS from then on. */
  private final Set<String> jdkTlsTargets = ConcurrentHashMap.newKeySet();

  /**
   * @param group event loops to use, or {@code null} to create (and own) a one-thread group
   * @param clientKey Ed25519 key to authenticate with, if any
   */
  public EndpointClient(
      EventLoopGroup group,
      Optional<KeyPair> clientKey,
      EndpointLimits limits,
      EndpointMetrics metrics) {
    this.ownsGroup = group == null;
    this.group = group == null ? NettyTransport.newGroup(1) : group;
    this.clientCertificate = clientKey.map(TlsContexts::clientCertificate);
    this.limits = limits;
    this.metrics = metrics;
  }

  /**
   * Loads and initialises what a connect over {@code transport} needs before it is asked for: the
   * epoll transport, and quiche (QUIC) or the TLS provider (TLS/TCP) with their native libraries. A
   * short-lived client calls this on a second thread while the first loads its key, so the two run
   * side by side; a connect that comes first waits for the classes being initialised. A failure is
   * left for the connect to report.
   */
  public static void preload(Transport transport) {
    try {
      NettyTransport.epollAvailable();
      if (transport == Transport.QUIC) {
        Quic.isAvailable();
      } else {
        ClientTls.current();
      }
    } catch (RuntimeException | LinkageError e) {
      LOG.debugf("preloading %s failed (the connect reports it): %s", transport, e);
    }
  }

  /** Uses this TLS provider for TLS/TCP instead of {@link ClientTls#current()} (tests). */
  EndpointClient tls(ClientTls provider) {
    this.tls = provider;
    return this;
  }

  /** Connects over the given transport and waits for the TLS handshake. */
  public Connection connect(String host, int port, String alpn, Trust trust, Transport transport)
      throws IOException {
    if (group.next().inEventLoop()) {
      throw new IllegalStateException("connect blocks; call it off the event loop");
    }
    String target = host + ":" + port;
    TlsContexts.TrustAdapter trustAdapter = new TlsContexts.TrustAdapter(trust, target);
    try {
      if (transport == Transport.QUIC) {
        return connectQuic(host, port, alpn, trustAdapter);
      }
      ClientTls provider = tls != null ? tls : ClientTls.current();
      if (provider == ClientTls.OPENSSL && !jdkTlsTargets.contains(target)) {
        try {
          return connectTcp(host, port, alpn, trustAdapter, provider);
        } catch (IOException e) {
          if (trustAdapter.refusal.get() != null || !ClientTls.maybeEd25519Node(e)) {
            throw e;
          }
          // A node with an Ed25519 certificate (a vault-derived key): BoringSSL cannot offer
          // ed25519 through netty-tcnative, so that node refused the handshake. The JDK can.
          LOG.debugf("%s refused the BoringSSL handshake; again with the JDK's TLS", target);
          jdkTlsTargets.add(target);
        }
      }
      return connectTcp(host, port, alpn, trustAdapter, ClientTls.JDK);
    } catch (IOException e) {
      CertificateException refusal = trustAdapter.refusal.get();
      if (refusal != null) {
        throw new IOException(refusal.getMessage(), e);
      }
      throw e;
    }
  }

  private Connection connectQuic(String host, int port, String alpn, TlsContexts.TrustAdapter trust)
      throws IOException {
    QuicSslContextBuilder sslBuilder =
        QuicSslContextBuilder.forClient()
            .trustManager(trust)
            .applicationProtocols(alpn)
            .earlyData(false)
            .option(
                BoringSSLContextOption.SIGNATURE_ALGORITHMS, TlsContexts.QUIC_SIGNATURE_ALGORITHMS);
    // Our own key manager: netty's default one offers a key only for the RSA/EC key types the
    // node asks for, never an Ed25519 key, so no client certificate was sent.
    clientCertificate.ifPresent(km -> sslBuilder.keyManager(km, null));
    QuicSslContext ssl = sslBuilder.build();
    long window = limits.streamBufferBytes();
    NettyTransport transport = NettyTransport.of(group);
    ChannelHandler codec =
        NettyTransport.quicPackets(new QuicClientCodecBuilder())
            .sslContext(ssl)
            .maxIdleTimeout(limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .initialMaxData(Math.min(window * limits.maxStreamsPerConnection(), 16L << 20))
            .initialMaxStreamDataBidirectionalLocal(window)
            .initialMaxStreamDataBidirectionalRemote(window)
            .initialMaxStreamsBidirectional(limits.maxStreamsPerConnection())
            .build();
    Channel udp;
    try {
      udp =
          transport
              .udp(new Bootstrap().group(group))
              .option(ChannelOption.SO_RCVBUF, 4 << 20)
              .option(ChannelOption.SO_SNDBUF, 4 << 20)
              .handler(codec)
              .bind(0)
              .sync()
              .channel();
    } catch (Exception e) {
      throw new IOException("cannot open a UDP socket: " + e.getMessage(), e);
    }
    InetSocketAddress remote = new InetSocketAddress(host, port);
    if (remote.isUnresolved()) {
      udp.close();
      throw new IOException("cannot resolve host " + host);
    }
    ChannelHandler streams =
        new ChannelInitializer<QuicStreamChannel>() {
          @Override
          protected void initChannel(QuicStreamChannel ch) {
            QuicConnection conn = ch.parent().attr(CONNECTION).get();
            if (conn == null) {
              ch.close();
              return;
            }
            NettyStream stream =
                new NettyStream(ch, conn, ch.streamId(), limits.streamBufferBytes());
            ch.pipeline().addLast(stream);
            conn.offerIncoming(stream);
          }
        };
    Future<QuicChannel> f =
        QuicChannel.newBootstrap(udp)
            .handler(new ClientQuicEvents())
            .option(
                QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
                transport.quicSendAllocator())
            .streamHandler(streams)
            .streamOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .remoteAddress(remote)
            .connect();
    QuicChannel quic;
    try {
      quic = await(f, "quic", host, port);
    } catch (IOException e) {
      udp.close();
      throw e;
    }
    ChannelHandler localStreams =
        new ChannelInitializer<QuicStreamChannel>() {
          @Override
          protected void initChannel(QuicStreamChannel ch) {
            QuicConnection conn = ch.parent().attr(CONNECTION).get();
            NettyStream stream =
                new NettyStream(ch, conn, ch.streamId(), limits.streamBufferBytes());
            ch.pipeline().addLast(stream);
            conn.registerStream(stream);
          }
        };
    QuicConnection conn =
        new QuicConnection(
            newId(),
            alpn,
            quic,
            remote,
            peerCertificate(quic.sslEngine()),
            metrics.opened(alpn, Transport.QUIC),
            limits,
            localStreams,
            false,
            LOG);
    quic.attr(CONNECTION).set(conn);
    quic.closeFuture()
        .addListener(
            x -> {
              conn.markClosed(conn.closeInfo());
              udp.close();
            });
    return conn;
  }

  /** Records the node's CONNECTION_CLOSE (code and reason) for {@link Connection#closed()}. */
  private static final class ClientQuicEvents extends ChannelInboundHandlerAdapter {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof QuicConnectionCloseEvent close) {
        QuicConnection conn = ctx.channel().attr(CONNECTION).get();
        if (conn != null) {
          conn.peerClose(
              new Connection.CloseInfo(
                  close.isApplicationClose() ? CloseCode.of(close.error()) : null,
                  close.error(),
                  true,
                  new String(close.reason(), StandardCharsets.UTF_8)));
        }
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debugf("QUIC client error: %s", cause.toString());
    }
  }

  private static final String HANDSHAKE = "handshake-errors";

  /**
   * At the tail of a TLS/TCP pipeline until the handshake succeeds: a failed handshake (the node
   * refusing the ALPN, say) is reported by {@link #connect} as one line, so the exception netty
   * also fires down the pipeline is only logged at DEBUG here, not as a WARN with a stack trace by
   * the pipeline's tail.
   */
  private static final class HandshakeErrors extends ChannelInboundHandlerAdapter {
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debugf("TLS client error during the handshake: %s", cause.toString());
    }

    /**
     * The node closed its side before the handshake finished (it refused us: limits, starting or
     * stopping). With half-closure allowed the channel would stay open and the handshake wait for
     * its timeout: close it, which fails the handshake at once.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        ctx.close();
      }
      ctx.fireUserEventTriggered(evt);
    }
  }

  private Connection connectTcp(
      String host, int port, String alpn, TlsContexts.TrustAdapter trust, ClientTls provider)
      throws IOException {
    SslHandler ssl = provider.handler(clientCertificate.orElse(null), trust, alpn, host, port);
    SSLEngine engine = ssl.engine();
    ssl.setHandshakeTimeoutMillis(limits.handshakeTimeout().toMillis());
    // The connection (and its stream handler) is created in the handshake listener, on the event
    // loop, before SslHandler fires the application data that follows the handshake: a node that
    // speaks first (an SSH banner) must not lose its first bytes. The listener is added in
    // initChannel, before the handshake can finish; added later from this thread, it could run
    // after a fast handshake's first bytes had already gone to the end of the pipeline.
    java.util.concurrent.CompletableFuture<TcpConnection> ready =
        new java.util.concurrent.CompletableFuture<>();
    SocketChannel ch;
    try {
      ch =
          (SocketChannel)
              new Bootstrap()
                  .group(group)
                  .channel(NettyTransport.of(group).socketChannel())
                  .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                  .option(ChannelOption.TCP_NODELAY, true)
                  .option(
                      ChannelOption.CONNECT_TIMEOUT_MILLIS,
                      (int) limits.handshakeTimeout().toMillis())
                  .handler(
                      new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                          c.pipeline()
                              .addLast("tls", ssl)
                              .addLast(HANDSHAKE, new HandshakeErrors());
                          ssl.handshakeFuture()
                              .addListener(
                                  f -> {
                                    if (f.isSuccess()) {
                                      handshaken(c, engine, alpn, host, port, ready);
                                    }
                                    // a failure is reported through await() below
                                  });
                        }
                      })
                  .connect(host, port)
                  .sync()
                  .channel();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while connecting");
    } catch (Exception e) {
      throw new IOException(
          "cannot connect to " + host + ":" + port + " over tcp: " + e.getMessage(), e);
    }
    TcpConnection conn;
    try {
      await(ssl.handshakeFuture(), "tcp", host, port);
      conn = ready.get(limits.handshakeTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      ch.close();
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while connecting");
    } catch (ExecutionException e) {
      ch.close();
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      ch.close();
      throw new IOException("connecting to " + host + ":" + port + " timed out");
    } catch (IOException e) {
      ch.close();
      throw e;
    }
    ch.closeFuture()
        .addListener(
            x -> conn.markClosed(conn.localCloseOr(new Connection.CloseInfo(null, -1, true, ""))));
    return conn;
  }

  /** On the event loop, when the TLS handshake of a TCP connection succeeded. */
  private void handshaken(
      SocketChannel ch,
      SSLEngine engine,
      String alpn,
      String host,
      int port,
      java.util.concurrent.CompletableFuture<TcpConnection> ready) {
    String negotiated = engine.getApplicationProtocol();
    if (!alpn.equals(negotiated)) {
      ready.completeExceptionally(
          new IOException("node " + host + ":" + port + " did not accept ALPN " + alpn));
      return;
    }
    try {
      if (ch.pipeline().get(HANDSHAKE) != null) {
        ch.pipeline().remove(HANDSHAKE);
      }
      ready.complete(
          new TcpConnection(
              newId(),
              alpn,
              ch,
              peerCertificate(engine),
              metrics.opened(alpn, Transport.TCP),
              limits,
              false,
              LOG));
    } catch (RuntimeException e) {
      ready.completeExceptionally(e);
    }
  }

  private <T> T await(Future<T> f, String transport, String host, int port) throws IOException {
    try {
      return f.get(limits.handshakeTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while connecting");
    } catch (ExecutionException e) {
      throw new IOException(
          "cannot connect to "
              + host
              + ":"
              + port
              + " over "
              + transport
              + ": "
              + describe(e.getCause()),
          e.getCause());
    } catch (TimeoutException e) {
      // Not f.cancel(): the caller closes the channel, which fails f; a cancelled QUIC connect
      // promise makes netty's bootstrap log an IllegalStateException when the channel closes.
      throw new IOException(
          "cannot connect to "
              + host
              + ":"
              + port
              + " over "
              + transport
              + ": handshake timed out");
    }
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    if (m != null
        && (m.contains("NO_APPLICATION_PROTOCOL") || m.contains("no_application_protocol"))) {
      return "the node does not serve that ALPN (no_application_protocol)";
    }
    if (t instanceof io.netty.incubator.codec.quic.QuicClosedChannelException) {
      // quiche reports the peer's CONNECTION_CLOSE during the handshake only as a closed channel.
      return "the node closed the connection during the handshake (it does not serve that ALPN,"
          + " refused the client, or is at its connection limit)";
    }
    if (t instanceof java.nio.channels.ClosedChannelException
        || (m != null && m.contains("closed while SSL/TLS handshake"))) {
      // TLS/TCP: the node closed the connection without an alert (SslHandler's wording).
      return "the node closed the connection during the handshake (it refused the client, is at"
          + " its connection limit, or is starting or stopping)";
    }
    return m == null ? t.getClass().getSimpleName() : m;
  }

  private static Optional<X509Certificate> peerCertificate(SSLEngine engine) {
    try {
      Certificate[] certs = engine.getSession().getPeerCertificates();
      return certs.length > 0 && certs[0] instanceof X509Certificate x
          ? Optional.of(x)
          : Optional.empty();
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  private static String newId() {
    return String.format("c-%08x", ThreadLocalRandom.current().nextInt());
  }

  @Override
  public void close() {
    if (ownsGroup) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }
}

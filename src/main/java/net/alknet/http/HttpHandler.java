package net.alknet.http;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.AttributeKey;
import io.quarkus.vertx.http.runtime.VertxHttpRecorder;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.Http2ServerConnection;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.core.net.impl.SslChannelProvider;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import net.alknet.config.AlknetConfig;
import net.alknet.endpoint.AuthContext;
import net.alknet.endpoint.ChannelProtocolHandler;

/**
 * ALPNs {@code h2} and {@code http/1.1} (HTTP-1): the node's HTTP surface on the endpoint's port.
 * The endpoint terminates TLS; this handler puts Vert.x's HTTP/1.1 or HTTP/2 codec on the decrypted
 * channel, on the channel's own event loop, and hands every request to Quarkus's router — so
 * RESTEasy Reactive resources, the operation routes ({@link OperationRoutes}), health, metrics and
 * OpenAPI all answer on the one port. No socket, no second TLS, no copy.
 */
@ApplicationScoped
public class HttpHandler implements ChannelProtocolHandler {

  /** What the endpoint proved about the connection (client certificate identity). */
  static final AttributeKey<AuthContext> AUTH = AttributeKey.valueOf("alknet.http.auth");

  private static final AttributeKey<HttpConnection> CONNECTION =
      AttributeKey.valueOf("alknet.http.connection");

  /** Set on a connection once graceful shutdown began. */
  private static final AttributeKey<Boolean> DRAINING =
      AttributeKey.valueOf("alknet.http.draining");

  private final Vertx vertx;
  private final AlknetConfig config;
  private final Map<EventLoop, BiConsumer<Channel, SslChannelProvider>> configurers =
      new ConcurrentHashMap<>();
  private volatile PortHttpServer server;

  public HttpHandler(Vertx vertx, AlknetConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  @Override
  public Set<String> alpns() {
    return Set.of("h2", "http/1.1");
  }

  @Override
  public String name() {
    return "http";
  }

  /** The transport facts of the connection a request came on, if it came through the endpoint. */
  static Optional<AuthContext> authOf(HttpServerRequest request) {
    if (request.connection() instanceof ConnectionBase c) {
      return Optional.ofNullable(c.channel().attr(AUTH).get());
    }
    return Optional.empty();
  }

  @Override
  public void adopt(SocketChannel channel, AuthContext auth) {
    channel.attr(AUTH).set(auth);
    configurer(channel).accept(channel, null);
  }

  private BiConsumer<Channel, SslChannelProvider> configurer(SocketChannel channel) {
    return configurers.computeIfAbsent(
        channel.eventLoop(),
        loop -> {
          VertxInternal vx = (VertxInternal) vertx;
          ContextInternal context =
              vx.createEventLoopContext(
                  loop, vx.getWorkerPool(), HttpHandler.class.getClassLoader());
          InetSocketAddress local = channel.localAddress();
          return server()
              .channelConfigurer(
                  context, SocketAddress.inetSocketAddress(local.getPort(), "localhost"));
        });
  }

  private PortHttpServer server() {
    PortHttpServer s = server;
    if (s == null) {
      synchronized (this) {
        if (server == null) {
          server = create();
        }
        s = server;
      }
    }
    return s;
  }

  private PortHttpServer create() {
    AlknetConfig.Http http = config.http();
    HttpServerOptions options =
        new HttpServerOptions()
            .setSsl(false) // the endpoint terminated TLS already
            .setHttp2ClearTextEnabled(true) // h2 is recognised by its connection preface
            .setMaxHeaderSize(http.maxHeaderSize())
            .setMaxInitialLineLength(8192)
            .setDecompressionSupported(false)
            .setCompressionSupported(false);
    options.getInitialSettings().setMaxConcurrentStreams(http.maxConcurrentStreams());
    PortHttpServer s = new PortHttpServer((VertxInternal) vertx, options);
    Handler<HttpServerRequest> root = VertxHttpRecorder.getRootHandler();
    if (root == null) {
      throw new IllegalStateException("Quarkus's HTTP router is not initialised");
    }
    s.requestHandler(
        request -> {
          Channel ch = channelOf(request);
          if (ch != null
              && ch.hasAttr(DRAINING)
              && request.version() != io.vertx.core.http.HttpVersion.HTTP_2) {
            request.response().putHeader("Connection", "close");
          }
          root.handle(request);
        });
    s.connectionHandler(
        c -> {
          if (c instanceof ConnectionBase base) {
            base.channel().attr(CONNECTION).set(c);
          }
        });
    return s;
  }

  private static Channel channelOf(HttpServerRequest request) {
    return request.connection() instanceof ConnectionBase c ? c.channel() : null;
  }

  /**
   * Graceful shutdown: HTTP/2 GOAWAY (streams in progress finish); HTTP/1.1 closes now if idle,
   * else after the request in progress.
   */
  @Override
  public void drain(SocketChannel channel) {
    channel.attr(DRAINING).set(Boolean.TRUE);
    HttpConnection c = channel.attr(CONNECTION).get();
    if (c instanceof Http2ServerConnection) {
      c.shutdown(config.endpoint().shutdownGrace().toMillis(), TimeUnit.MILLISECONDS);
    } else {
      closeWhenIdle(channel, c);
    }
  }

  /** HTTP/1.1 has no GOAWAY: close the connection once no request is in progress on it. */
  private static void closeWhenIdle(SocketChannel channel, HttpConnection c) {
    if (!channel.isOpen()) {
      return;
    }
    if (c == null || !Http1Probe.busy(c)) {
      channel.close();
    } else {
      channel.eventLoop().schedule(() -> closeWhenIdle(channel, c), 20, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Whether an HTTP/1.1 connection has a request or response in progress. Vert.x 4.5 keeps this in
   * private fields of {@code Http1xServerConnection} (and cannot shut an HTTP/1.x connection down
   * itself); if they are not found the connection counts as busy and the endpoint closes it when
   * the grace period ends.
   */
  static final class Http1Probe {
    private static final java.lang.reflect.Field REQUEST = field("requestInProgress");
    private static final java.lang.reflect.Field RESPONSE = field("responseInProgress");

    private static java.lang.reflect.Field field(String name) {
      try {
        java.lang.reflect.Field f =
            io.vertx.core.http.impl.Http1xServerConnection.class.getDeclaredField(name);
        f.setAccessible(true);
        return f;
      } catch (ReflectiveOperationException | RuntimeException e) {
        return null;
      }
    }

    static boolean busy(HttpConnection c) {
      if (REQUEST == null || RESPONSE == null) {
        return true;
      }
      try {
        return REQUEST.get(c) != null || RESPONSE.get(c) != null;
      } catch (ReflectiveOperationException | RuntimeException e) {
        return true;
      }
    }
  }
}

package net.alknet.http;

import io.netty.channel.Channel;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.HttpServerImpl;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.SslChannelProvider;
import java.util.function.BiConsumer;

/**
 * A Vert.x HTTP server that never binds a socket: it only configures channels the endpoint hands it
 * (TLS already terminated by the endpoint), with Vert.x's own HTTP/1.1 and HTTP/2 pipeline. This
 * leans on Vert.x 4.5 internals ({@code HttpServerImpl#childHandler}); {@code HttpEndToEndTest}
 * fails if a Vert.x upgrade changes them.
 */
final class PortHttpServer extends HttpServerImpl {

  PortHttpServer(VertxInternal vertx, HttpServerOptions options) {
    super(vertx, options);
  }

  /**
   * What configures a fresh channel for HTTP on one event loop: it sniffs the HTTP/2 connection
   * preface and otherwise speaks HTTP/1.1.
   */
  BiConsumer<Channel, SslChannelProvider> channelConfigurer(
      ContextInternal eventLoopContext, SocketAddress local) {
    return childHandler(eventLoopContext, local, null);
  }
}

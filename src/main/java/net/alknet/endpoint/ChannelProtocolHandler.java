package net.alknet.endpoint;

import io.netty.channel.socket.SocketChannel;
import java.util.Set;

/**
 * A handler that takes over a TLS/TCP connection's decrypted Netty channel instead of serving
 * blocking streams on a handler thread: for protocols whose server already lives on the event loop
 * (HTTP/1.1 and h2 through Vert.x, HTTP-1). Served over TLS/TCP only; its ALPNs are not advertised
 * over QUIC.
 *
 * <p>The endpoint keeps owning the connection: admission limits, the handshake, the idle timeout,
 * per-ALPN metrics and graceful shutdown apply as for every other handler.
 */
public interface ChannelProtocolHandler extends ProtocolHandler {

  /**
   * Adopts a connection. Called on the channel's event loop right after the TLS handshake; the
   * pipeline holds the endpoint's TLS and idle handlers, and the handler adds its own after them.
   * Must not block.
   */
  void adopt(SocketChannel channel, AuthContext auth);

  /** Over QUIC an adopting handler is never chosen. */
  @Override
  default Set<Transport> transports() {
    return Set.of(Transport.TCP);
  }

  /** Not called: the endpoint adopts TLS/TCP connections through {@link #adopt}. */
  @Override
  default void handle(Connection connection, AuthContext auth) {
    throw new IllegalStateException(name() + " serves adopted TLS/TCP channels only");
  }

  /**
   * Asks an adopted connection to finish its in-flight work and close (HTTP/2 GOAWAY, HTTP/1.1
   * {@code Connection: close}); called during graceful shutdown. Must not block. Default: nothing,
   * the endpoint closes the connection when the grace period ends.
   */
  default void drain(SocketChannel channel) {}
}

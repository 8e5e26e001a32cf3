package net.alknet.endpoint;

import java.util.Set;

/**
 * The one SPI of the endpoint (EP-2): a protocol served on the node's port, chosen by the ALPN
 * negotiated in the TLS handshake.
 *
 * <p>Implementations are {@code @ApplicationScoped} CDI beans; the node builds an immutable {@link
 * HandlerRegistry} from all of them once at startup. Two handlers claiming the same ALPN is a
 * startup error.
 *
 * <p>Threading and ownership:
 *
 * <ul>
 *   <li>{@link #handle} is called once per connection on its own handler thread, never on an event
 *       loop, so it may block (streams are blocking). It returns when the handler is done with the
 *       connection; the endpoint then closes the connection with {@link CloseCode#NO_ERROR}. An
 *       asynchronous handler waits on {@link Connection#closed()} before returning.
 *   <li>If {@link #handle} throws, the failure is logged with the connection id and the connection
 *       is closed with {@link CloseCode#INTERNAL_ERROR}; the peer sees no details and no other
 *       connection is affected.
 *   <li>When the connection closes for any other reason (peer, idle timeout, shutdown) the handler
 *       thread is interrupted and blocked stream operations fail.
 * </ul>
 */
public interface ProtocolHandler {

  /** The ALPN ids this handler serves; read once at startup, must not be empty. */
  Set<String> alpns();

  /** The transports this handler is offered on; its ALPNs are advertised only there. */
  default Set<Transport> transports() {
    return Set.of(Transport.QUIC, Transport.TCP);
  }

  /** Short name used in config ({@code alknet.handlers.disabled}) and logs. */
  default String name() {
    String simple = getClass().getSimpleName();
    int proxy = simple.indexOf('_');
    return proxy > 0 ? simple.substring(0, proxy) : simple;
  }

  /**
   * Serves one connection.
   *
   * @param connection the connection, already past its TLS handshake
   * @param auth what the transport proved about the peer
   */
  void handle(Connection connection, AuthContext auth) throws Exception;

  /**
   * The node's endpoint is listening: a handler may prepare what its first connection would
   * otherwise wait for. Called once per start, on the starting thread. Must not block: start
   * background work instead. Default: nothing.
   */
  default void started() {}

  /**
   * The node is shutting down: stop starting new work. Called once, before the grace period in
   * which open connections may finish. Must not block. Default: nothing.
   */
  default void shutdown() {}
}

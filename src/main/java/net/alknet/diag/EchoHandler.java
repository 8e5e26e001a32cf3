package net.alknet.diag;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import net.alknet.endpoint.AuthContext;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.ProtocolHandler;
import net.alknet.endpoint.Stream;
import org.jboss.logging.Logger;

/**
 * ALPN {@code alknet/echo}: every stream gets back exactly the bytes it sends, until it finishes
 * (like the RFC 862 echo service). For checking reachability ({@code alknet bridge --alpn
 * alknet/echo host:port}) and for measuring raw stream throughput through the endpoint. Open to
 * anyone; disable it with {@code alknet.handlers.disabled=echo}.
 *
 * <p>Threading: each stream is copied on its own thread from a pool shared by all echo connections;
 * the number of streams is bounded by the endpoint's connection and stream limits.
 */
@ApplicationScoped
public class EchoHandler implements ProtocolHandler {

  public static final String ALPN = "alknet/echo";
  private static final Logger LOG = Logger.getLogger(EchoHandler.class);

  private final ExecutorService streams =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "alknet-echo");
            t.setDaemon(true);
            return t;
          });

  @Override
  public Set<String> alpns() {
    return Set.of(ALPN);
  }

  @Override
  public String name() {
    return "echo";
  }

  @Override
  public void handle(Connection connection, AuthContext auth) throws Exception {
    Stream s;
    while ((s = connection.acceptStream()) != null) {
      Stream stream = s;
      streams.execute(() -> echo(stream));
    }
  }

  private static void echo(Stream stream) {
    try {
      stream.input().transferTo(stream.output());
      stream.close();
    } catch (IOException e) {
      // Reset rather than finish: a clean end would tell the peer it got everything.
      stream.abort();
      LOG.debugf(
          "[%s] echo stream %d ended: %s", stream.connection().id(), stream.id(), e.getMessage());
    }
  }
}

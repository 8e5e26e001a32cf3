package net.alknet.node;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import net.alknet.config.DynamicConfigStore;
import net.alknet.endpoint.EndpointServer;
import org.jboss.logging.Logger;

/**
 * The local control channel of a running node: a Unix domain socket {@code <data-dir>/control.sock}
 * (owner-only, like the data directory) used by {@code alknet status} and {@code alknet reload}.
 * Nothing of it is reachable from the network.
 *
 * <p>Protocol: the client sends one command line ({@code status} or {@code reload}, at most 64
 * bytes); the node answers with one JSON object and closes. One daemon thread serves requests one
 * at a time.
 */
final class ControlServer implements AutoCloseable {

  static final String SOCKET = "control.sock";
  private static final Logger LOG = Logger.getLogger(ControlServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final Node node;
  private ServerSocketChannel server;
  private Thread thread;

  ControlServer(Path path, Node node) {
    this.path = path;
    this.node = node;
  }

  void start() throws IOException {
    if (Files.exists(path)) {
      try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
        throw new IOException(
            "another alknet node is running with data directory " + path.getParent());
      } catch (IOException e) {
        if (e.getMessage() != null && e.getMessage().startsWith("another alknet node")) {
          throw e;
        }
        Files.deleteIfExists(path); // stale socket of a node that died
      }
    }
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    try {
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException ignored) {
      // non-POSIX file system
    }
    thread = new Thread(this::serve, "alknet-control");
    thread.setDaemon(true);
    thread.start();
  }

  private void serve() {
    while (server.isOpen()) {
      try (SocketChannel client = server.accept()) {
        client.configureBlocking(true);
        String command = readLine(client);
        ObjectNode answer = answer(command);
        client.write(
            ByteBuffer.wrap(
                (JSON.writeValueAsString(answer) + "\n").getBytes(StandardCharsets.UTF_8)));
      } catch (IOException e) {
        if (server.isOpen()) {
          LOG.debugf("control request failed: %s", e.toString());
        }
      }
    }
  }

  private static String readLine(SocketChannel ch) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(64);
    while (buf.hasRemaining()) {
      int n = ch.read(buf);
      if (n < 0) {
        break;
      }
      byte[] a = buf.array();
      for (int i = 0; i < buf.position(); i++) {
        if (a[i] == '\n') {
          return new String(a, 0, i, StandardCharsets.UTF_8).strip();
        }
      }
    }
    return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
  }

  ObjectNode answer(String command) {
    ObjectNode o = JSON.createObjectNode();
    switch (command) {
      case "status" -> {
        o.put("ok", true);
        EndpointServer server = node.endpoint().orElse(null);
        if (server != null) {
          EndpointServer.Status s = server.status();
          o.put("dataDir", String.valueOf(node.runningDataDir().orElse(null)));
          o.put("port", server.port());
          o.put("certificate", server.tlsIdentity().fingerprint());
          o.put("accepting", s.accepting());
          o.set("listening", JSON.valueToTree(s.listening()));
          o.set("alpns", JSON.valueToTree(s.alpns()));
          o.put("openConnections", s.openConnections());
          o.set("activeByAlpn", JSON.valueToTree(s.activeByAlpn()));
        }
        node.dynamicConfig()
            .ifPresent(
                d -> {
                  ObjectNode dyn = o.putObject("dynamicConfig");
                  dyn.put("dir", d.dir().toString());
                  dyn.put("generation", d.current().generation());
                  dyn.put("loadedAt", d.current().loadedAt().toString());
                  dyn.put("authorizedKeys", d.current().identities().keys().size());
                  dyn.put("apiKeys", d.current().identities().apiKeys().size());
                });
      }
      case "reload" -> {
        DynamicConfigStore store = node.dynamicConfig().orElse(null);
        if (store == null) {
          o.put("ok", false).put("message", "node is not serving");
        } else {
          DynamicConfigStore.ReloadResult r = store.reload();
          o.put("ok", r.ok());
          o.put("changed", r.changed());
          o.put("generation", r.generation());
          o.put("message", r.message());
        }
      }
      default -> o.put("ok", false).put("message", "unknown command; expected status or reload");
    }
    return o;
  }

  @Override
  public void close() {
    try {
      if (server != null) {
        server.close();
      }
      Files.deleteIfExists(path);
    } catch (IOException e) {
      LOG.debugf("closing control socket: %s", e.toString());
    }
  }
}

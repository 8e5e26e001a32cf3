package net.alknet.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Optional;
import java.util.concurrent.Callable;
import net.alknet.endpoint.CloseCode;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.Stream;
import net.alknet.endpoint.Trust;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code alknet bridge}: stdin/stdout ↔ one stream of a new connection (SSH-3, GIT-3). */
@Command(
    name = "bridge",
    mixinStandardHelpOptions = true,
    description = {
      "Connect to a node with one ALPN and join stdin/stdout to one stream, e.g. as an OpenSSH"
          + " ProxyCommand or a git ext:: transport.",
      "Authenticates with <data-dir>/id_ed25519 as a TLS client certificate when that key exists."
          + " The node's certificate is pinned in <data-dir>/known_nodes on first contact; a"
          + " changed certificate is refused.",
      "Exits 0 when the node finishes the stream, 1 on errors."
    })
public class BridgeCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Option(
      names = "--alpn",
      required = true,
      paramLabel = "ALPN",
      description = "Protocol to speak, e.g. alknet/ssh.")
  String alpn;

  @Mixin ConnectOptions connect;

  @Parameters(paramLabel = "HOST:PORT", description = "The node (port defaults to 4433).")
  String target;

  @Override
  public Integer call() throws Exception {
    HostPort hp = HostPort.parse(target);
    Path dir = dataDir.resolve();
    Optional<KeyPair> clientKey = connect.clientKey(dir);
    Trust trust = connect.trust(dir);
    try (EndpointClient client =
        new EndpointClient(null, clientKey, EndpointLimits.DEFAULTS, EndpointMetrics.none())) {
      Connection c = client.connect(hp.host(), hp.port(), alpn, trust, connect.transport());
      try {
        Stream stream = c.openStream();
        Thread up = new Thread(() -> pumpUp(stream), "bridge-stdin");
        up.setDaemon(true);
        up.start();
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        byte[] buf = new byte[64 * 1024];
        InputStream in = stream.input();
        int n;
        while ((n = in.read(buf)) >= 0) {
          try {
            stdout.write(buf, 0, n);
            stdout.flush();
          } catch (IOException gone) {
            // Whoever read our output has gone (ssh exited, `| head` had enough): like a Unix
            // filter on SIGPIPE, stop without a word; the connection closes below.
            return 0;
          }
        }
        return 0;
      } catch (IOException e) {
        Connection.CloseInfo info = c.closed().toCompletableFuture().getNow(null);
        if (info != null && info.code() != null && info.code() != CloseCode.NO_ERROR) {
          throw new CliSupport.CliException(
              "connection closed by the node: "
                  + info.code()
                  + (info.reason().isEmpty() ? "" : " (" + info.reason() + ")"));
        }
        throw new CliSupport.CliException("bridge to " + target + " failed: " + e.getMessage());
      } finally {
        c.close(CloseCode.NO_ERROR, "");
      }
    }
  }

  private static void pumpUp(Stream stream) {
    try (InputStream stdin = System.in;
        OutputStream out = stream.output()) {
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = stdin.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
    } catch (IOException e) {
      // The stream closed under us: the reading side reports it.
    }
  }

  /** {@code host:port}, {@code [v6]:port} or a bare host. */
  record HostPort(String host, int port) {
    static HostPort parse(String s) {
      String host;
      String port = null;
      if (s.startsWith("[")) {
        int end = s.indexOf(']');
        if (end < 0) {
          throw new CliSupport.CliException("bad address '" + s + "': missing ']'");
        }
        host = s.substring(1, end);
        if (end + 1 < s.length()) {
          if (s.charAt(end + 1) != ':') {
            throw new CliSupport.CliException("bad address '" + s + "'");
          }
          port = s.substring(end + 2);
        }
      } else {
        int colon = s.lastIndexOf(':');
        host = colon >= 0 ? s.substring(0, colon) : s;
        port = colon >= 0 ? s.substring(colon + 1) : null;
      }
      int p = 4433;
      if (port != null) {
        try {
          p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
          p = -1;
        }
        if (p < 1 || p > 65535) {
          throw new CliSupport.CliException("bad port in '" + s + "'");
        }
      }
      if (host.isEmpty()) {
        throw new CliSupport.CliException("bad address '" + s + "': no host");
      }
      return new HostPort(host, p);
    }
  }
}

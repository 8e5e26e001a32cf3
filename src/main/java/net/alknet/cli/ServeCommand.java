package net.alknet.cli;

import io.quarkus.runtime.Quarkus;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import net.alknet.node.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code alknet serve}: run a node. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run a node: listen on one port number for QUIC (UDP) and TLS 1.3 (TCP) and serve every"
          + " enabled protocol, chosen by ALPN.",
      "Stops gracefully on SIGTERM/SIGINT; SIGHUP reloads the dynamic config."
    })
public class ServeCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "Port number for UDP and TCP (default: 4433).")
  Integer port;

  @Option(
      names = "--bind",
      paramLabel = "ADDRESS",
      description = "Address to bind (default: 0.0.0.0).")
  String bind;

  private final Node node;

  public ServeCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() throws Exception {
    if (port != null && (port < 0 || port > 65535)) {
      throw new CliSupport.CliException("--port must be between 0 and 65535, was " + port);
    }
    node.start(
        new Node.Overrides(
            dataDir.value(),
            port == null ? OptionalInt.empty() : OptionalInt.of(port),
            Optional.ofNullable(bind)));
    Quarkus.waitForExit();
    return 0;
  }
}

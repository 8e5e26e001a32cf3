package net.alknet.cli;

import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.Trust;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code alknet agent}: connects to nodes for git helpers, warm (docs/cli.md, "alknet agent"). */
@Command(
    name = "agent",
    mixinStandardHelpOptions = true,
    description = {
      "Run a client agent: `git-remote` (git's alknet:// helper) hands its connection to it"
          + " through <data-dir>/agent.sock instead of starting netty, TLS and QUIC cold in a new"
          + " JVM for every git command (about 0.2 s less per command). Every session is a"
          + " connection of its own, with the key and known_nodes of <data-dir>.",
      "Runs in the foreground (start it with `&`, from a login script or as a systemd user"
          + " service); stops after --idle without a session, or on SIGTERM/Ctrl-C.",
      "Only the user running it can use it: the socket's mode is 0600 and peers of other users"
          + " are refused."
    })
public class AgentCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Option(
      names = "--idle",
      paramLabel = "DURATION",
      defaultValue = "1h",
      description =
          "Stop after this long without a session, e.g. 30m, 8h; 0: never (default: ${DEFAULT-VALUE}).")
  String idle;

  @Option(
      names = "--no-key",
      description = "Connect without a client certificate (anonymous sessions only).")
  boolean noKey;

  @Override
  public Integer call() throws Exception {
    Duration stopAfter = CliConventions.parseDuration("--idle", idle, true);
    Path dir = dataDir.resolve();
    ConnectOptions options = new ConnectOptions();
    options.noKey = noKey;
    Optional<KeyPair> key = options.clientKey(dir);
    Trust trust = options.trust(dir);
    try (EndpointClient client =
            new EndpointClient(null, key, EndpointLimits.DEFAULTS, EndpointMetrics.none());
        Agent agent =
            new Agent(
                Agent.socketOf(dir),
                Agent.Connector.of(
                    (host, port, alpn, transport) ->
                        client.connect(host, port, alpn, trust, transport)),
                stopAfter)) {
      agent.bind();
      Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "agent-stop"));
      System.err.println(
          "alknet agent on "
              + agent.socket()
              + (key.isPresent() ? " with key " + options.keyFile(dir) : " without a key")
              + (stopAfter.isZero() ? "" : "; stops after " + Agent.describe(stopAfter) + " idle"));
      agent.serve();
      return 0;
    }
  }
}

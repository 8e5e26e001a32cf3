package net.alknet.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.concurrent.Callable;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.Trust;
import net.alknet.node.Node;
import net.alknet.socks.SocksServer;
import net.alknet.ssh.SshTunnel;
import net.alknet.ssh.io.Duplex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code alknet socks}: a local SOCKS5 server tunnelling through a node's SSH gateway (SSH-3). */
@Command(
    name = "socks",
    mixinStandardHelpOptions = true,
    description = {
      "Run a local SOCKS5 server (RFC 1928: CONNECT to IPv4, IPv6 or a host name; no"
          + " authentication, so it listens on loopback only). Each connection is tunnelled"
          + " through the node's SSH gateway (ALPN alknet/ssh) as a direct-tcpip channel and is"
          + " subject to the node's forwarding policy; a denied destination gets SOCKS reply 2.",
      "Authenticates with <data-dir>/id_ed25519 (or --key), which must be in the node's"
          + " authorized_keys with scope ssh:forward. Runs until interrupted."
    })
public class SocksCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Option(
      names = "--listen",
      paramLabel = "ADDR:PORT",
      defaultValue = "127.0.0.1:1080",
      description = "Loopback address to listen on (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(
      names = "--max-connections",
      defaultValue = "256",
      description = "SOCKS connections at once (default: ${DEFAULT-VALUE}).")
  int maxConnections;

  @Mixin ConnectOptions connect;

  @Parameters(paramLabel = "HOST:PORT", description = "The node (port defaults to 4433).")
  String target;

  private final Node node;

  public SocksCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() throws Exception {
    BridgeCommand.HostPort nodeAddr = BridgeCommand.HostPort.parse(target);
    BridgeCommand.HostPort listenAddr = BridgeCommand.HostPort.parse(listen);
    InetAddress bind = InetAddress.getByName(listenAddr.host());
    if (!bind.isLoopbackAddress()) {
      throw new CliSupport.CliException(
          "--listen must be a loopback address: this SOCKS server has no authentication");
    }
    if (maxConnections < 1 || maxConnections > 10_000) {
      throw new CliSupport.CliException("--max-connections must be between 1 and 10000");
    }
    Path dir = node.dataDir(dataDir.value());
    KeyPair key =
        connect
            .clientKey(dir)
            .orElseThrow(
                () ->
                    new CliSupport.CliException(
                        "no client key: create one with `alknet keygen` or pass --key"));
    Trust trust = connect.trust(dir);
    Duration timeout = Duration.ofSeconds(20);
    try (EndpointClient endpoints =
            new EndpointClient(
                null,
                connect.noKey ? java.util.Optional.empty() : java.util.Optional.of(key),
                EndpointLimits.DEFAULTS,
                EndpointMetrics.none());
        SshTunnel tunnel =
            SshTunnel.connect(
                t -> {
                  Connection c =
                      endpoints.connect(
                          nodeAddr.host(),
                          nodeAddr.port(),
                          "alknet/ssh",
                          trust,
                          connect.transport());
                  return Duplex.ofConnection(c, c.openStream());
                },
                key,
                timeout);
        SocksServer socks =
            new SocksServer(
                new InetSocketAddress(bind, listenAddr.port()),
                tunnel,
                maxConnections,
                Duration.ofSeconds(10))) {
      System.err.printf(
          "alknet socks: listening on %s, tunnelling through %s:%d (%s)%n",
          socks.address(), nodeAddr.host(), nodeAddr.port(), connect.transport().label());
      Runtime.getRuntime().addShutdownHook(new Thread(socks::close, "socks-stop"));
      socks.serve();
    }
    return 0;
  }
}

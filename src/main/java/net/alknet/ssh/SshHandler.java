package net.alknet.ssh;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Set;
import net.alknet.config.AlknetConfig;
import net.alknet.endpoint.AuthContext;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.ProtocolHandler;
import net.alknet.endpoint.Stream;
import net.alknet.node.Node;
import net.alknet.ssh.io.Duplex;
import net.alknet.ssh.io.StreamIoSession;
import org.jboss.logging.Logger;

/**
 * ALPN {@code alknet/ssh}: an SSH server on the node's port (SPEC §8). Each connection carries one
 * SSH session on its first stream (the only one over TLS/TCP; the client's first over QUIC), run by
 * MINA SSHD directly on that stream: no loopback listener, no extra hop. Stock OpenSSH reaches it
 * through {@code alknet bridge --alpn alknet/ssh} as a ProxyCommand (docs/ssh.md).
 *
 * <p>The session runs on the connection's handler thread (reading) plus one writer thread of its
 * own; {@link #handle} returns when the session ends, or when the connection closes (the endpoint
 * interrupts the handler thread, which ends the session).
 *
 * <p>The MINA server is built on first use from the running node's data directory (host key) and
 * static config, and rebuilt if the node restarts with another data directory.
 */
@ApplicationScoped
public class SshHandler implements ProtocolHandler {

  public static final String ALPN = "alknet/ssh";
  private static final Logger LOG = Logger.getLogger(SshHandler.class);

  private final AlknetConfig config;
  private final Node node;
  private final SshDenials denials;
  private final ForwardingPolicy policy;
  private volatile Gateway gateway; // written under this

  /** The running gateway and the data directory its host key came from. */
  private record Gateway(Path dataDir, SshGateway server) {}

  public SshHandler(AlknetConfig config, Node node, MeterRegistry meters) {
    this.config = config;
    this.node = node;
    this.denials = new SshDenials(meters);
    io.micrometer.core.instrument.Gauge.builder("alknet.ssh.sessions", this, SshHandler::sessions)
        .description("SSH sessions open on the gateway")
        .register(meters);
    io.micrometer.core.instrument.Gauge.builder("alknet.ssh.threads", this, SshHandler::threads)
        .description(
            "threads of the SSH gateway: one writer per session, two per Unix socket channel,"
                + " one per Unix socket listener")
        .register(meters);
    AlknetConfig.Forward f = config.ssh().forward();
    this.policy =
        new RulesForwardingPolicy(
            ForwardingRules.fromSettings(
                f.allowDestinations(), f.allowRemotePorts().orElse(List.of())),
            () ->
                node.dynamicConfig()
                    .map(store -> store.current().forwarding())
                    .orElse(ForwardingRules.NONE));
  }

  @Override
  public Set<String> alpns() {
    return Set.of(ALPN);
  }

  @Override
  public String name() {
    return "ssh";
  }

  @Override
  public void handle(Connection connection, AuthContext auth) throws Exception {
    Stream stream = connection.acceptStream();
    if (stream == null) {
      return;
    }
    SshGateway server;
    try {
      server = gateway();
    } catch (IOException e) {
      stream.abort();
      throw e;
    }
    server.serve(
        Duplex.of(stream),
        connection.remoteAddress(),
        new SshPeer(connection.id(), auth.identities()));
  }

  /**
   * Builds the gateway in the background (host key, MINA server: a second or two of class loading
   * and set-up), so the node's first SSH connection does not wait for it.
   */
  @Override
  public void started() {
    Thread t =
        new Thread(
            () -> {
              try {
                gateway();
              } catch (IOException | RuntimeException e) {
                // The first connection builds it again and reports what fails.
                LOG.debugf("preparing the ssh gateway failed: %s", e.toString());
              }
            },
            "alknet-ssh-prepare");
    t.setDaemon(true);
    t.start();
  }

  /** The gateway for the running node, built (or rebuilt for a new data directory) on demand. */
  synchronized SshGateway gateway() throws IOException {
    Path dir = node.runningDataDir().orElseThrow(() -> new IOException("the node is not running"));
    if (gateway != null && gateway.dataDir().equals(dir)) {
      return gateway.server();
    }
    if (gateway != null) {
      gateway.server().close();
      gateway = null;
    }
    AlknetConfig.Ssh ssh = config.ssh();
    Path keyFile = ssh.hostKey().orElse(dir.resolve(SshHostKey.FILE));
    KeyPair hostKey = SshHostKey.loadOrGenerate(keyFile, ssh.hostKey().isEmpty());
    SshGateway.Settings settings =
        new SshGateway.Settings(
            hostKey,
            policy,
            ssh.exec(),
            ssh.authTimeout(),
            ssh.clientAliveInterval(),
            ssh.clientAliveCountMax(),
            StreamIoSession.Limits.DEFAULTS,
            config.endpoint().port(),
            ssh.maxChannels());
    gateway = new Gateway(dir, SshGateway.start(settings, denials));
    LOG.infof("ssh gateway ready: forwarding %s; exec %s", policy, ssh.exec() ? "on" : "off");
    return gateway.server();
  }

  private double sessions() {
    Gateway g = gateway;
    return g == null ? 0 : g.server().activeSessions();
  }

  private double threads() {
    Gateway g = gateway;
    return StreamIoSession.liveWriterThreads() + (g == null ? 0 : g.server().unixForwardThreads());
  }

  /** The node is stopping: every session gets a DISCONNECT saying so, then ends. */
  @Override
  public void shutdown() {
    Gateway g = gateway;
    if (g != null) {
      g.server().disconnectAll("the node is shutting down");
    }
  }

  @PreDestroy
  synchronized void stop() {
    if (gateway != null) {
      gateway.server().close();
      gateway = null;
    }
  }
}

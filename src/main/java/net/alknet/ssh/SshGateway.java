package net.alknet.ssh;

import java.io.IOException;
import java.net.SocketAddress;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import net.alknet.ssh.io.Duplex;
import net.alknet.ssh.io.StreamIoAcceptor;
import net.alknet.ssh.io.StreamIoServiceFactory;
import net.alknet.ssh.io.StreamIoServiceFactoryFactory;
import net.alknet.ssh.io.StreamIoSession;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.helpers.AbstractSession;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.jboss.logging.Logger;

/**
 * One MINA {@link SshServer}, configured for alknet and listening on nothing: sessions are handed
 * to it one {@link Duplex} at a time through {@link #serve}. Independent of CDI and the endpoint,
 * so tests drive it over in-memory pipes.
 *
 * <p>Configured explicitly, never from MINA's defaults: the algorithms of {@link SshAlgorithms};
 * public-key authentication only ({@link KeyAuthenticator}; no password, keyboard-interactive,
 * host-based or GSSAPI); forwarding through a {@link ForwardingPolicy}; exec and shell through
 * {@link ShellAccess}.
 *
 * <p>Thread-safe. MINA's own threads (timers, the NIO2 sockets of forwards) belong to the server
 * and stop with {@link #close()}.
 */
public final class SshGateway implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(SshGateway.class);

  /**
   * Everything the gateway is built from.
   *
   * @param hostKey the Ed25519 host key
   * @param policy forwarding decisions
   * @param exec whether exec and shell may run at all (then only with scope ssh:shell)
   * @param authTimeout time a client has to authenticate
   * @param clientAliveInterval time between keepalive requests to a client; 0 for none
   * @param clientAliveCountMax unanswered keepalives that end a session
   * @param limits per-session I/O limits
   * @param nominalPort the port MINA's server reports as bound (the endpoint's); nothing binds it
   */
  public record Settings(
      KeyPair hostKey,
      ForwardingPolicy policy,
      boolean exec,
      Duration authTimeout,
      Duration clientAliveInterval,
      int clientAliveCountMax,
      StreamIoSession.Limits limits,
      int nominalPort,
      int maxChannels) {
    public Settings {
      if (maxChannels < 1) {
        throw new IllegalArgumentException(
            "alknet.ssh.max-channels must be at least 1, not " + maxChannels);
      }
      Objects.requireNonNull(clientAliveInterval, "clientAliveInterval");
      Objects.requireNonNull(hostKey, "hostKey");
      Objects.requireNonNull(policy, "policy");
      Objects.requireNonNull(authTimeout, "authTimeout");
      Objects.requireNonNull(limits, "limits");
    }
  }

  /** Most authentication attempts one session may make (OpenSSH's MaxAuthTries). */
  static final int MAX_AUTH_REQUESTS = 6;

  private final SshServer server;
  private final StreamIoAcceptor acceptor;
  private final UnixForwarding unix;
  private final ClientAlive alive;

  private SshGateway(
      SshServer server, StreamIoAcceptor acceptor, UnixForwarding unix, Settings settings) {
    this.server = server;
    this.acceptor = acceptor;
    this.unix = unix;
    this.alive =
        new ClientAlive(
            settings.clientAliveInterval(),
            settings.clientAliveCountMax(),
            () -> acceptor.getManagedSessions().values());
  }

  /**
   * Builds and starts the server.
   *
   * @throws IOException if MINA refuses the configuration
   */
  static SshGateway start(Settings settings, SshDenials denials) throws IOException {
    return start(settings, denials, UnixForwarding.MAX_THREADS_PER_IDENTITY);
  }

  /**
   * As {@link #start(Settings, SshDenials)}, with another Unix-forwarding thread budget (tests).
   */
  static SshGateway start(Settings settings, SshDenials denials, int unixThreadsPerIdentity)
      throws IOException {
    MinaSecurity.ensure();
    ServerBuilder builder =
        ServerBuilder.builder()
            .keyExchangeFactories(SshAlgorithms.keyExchanges())
            .cipherFactories(SshAlgorithms.ciphers())
            .macFactories(SshAlgorithms.macs())
            .signatureFactories(SshAlgorithms.signatures())
            .compressionFactories(SshAlgorithms.compressions())
            .publickeyAuthenticator(new KeyAuthenticator())
            .interactiveAuthenticator(null)
            .forwardingFilter(new PolicyForwardingFilter(settings.policy(), denials));
    UnixForwarding unix = new UnixForwarding(settings.policy(), denials, unixThreadsPerIdentity);
    List<ChannelFactory> channels = new ArrayList<>(ServerBuilder.DEFAULT_CHANNEL_FACTORIES);
    channels.add(unix.channelFactory());
    List<RequestHandler<ConnectionService>> global =
        new ArrayList<>(ServerBuilder.DEFAULT_GLOBAL_REQUEST_HANDLERS);
    global.add(unix.requestHandler());
    builder.channelFactories(channels).globalRequestHandlers(global);

    SshServer server = builder.build();
    // MINA allows Integer.MAX_VALUE channels per session: any authenticated key could open
    // channels (each with its buffers, a forward's socket or a Unix forward's threads) until the
    // node runs out.
    server.setServiceFactories(
        List.of(
            org.apache.sshd.server.session.ServerUserAuthServiceFactory.INSTANCE,
            new ChannelLimit(settings.maxChannels(), denials)));
    server.setIoServiceFactoryFactory(StreamIoServiceFactoryFactory.forServer(settings.limits()));
    try {
      server.setKeyPairProvider(KeyPairProvider.wrap(MinaKeys.toMina(settings.hostKey())));
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("unusable SSH host key: " + e.getMessage(), e);
    }
    server.setUserAuthFactories(List.of(new UserAuthPublicKeyFactory(SshAlgorithms.signatures())));
    server.setPasswordAuthenticator(null);
    server.setKeyboardInteractiveAuthenticator(null);
    server.setGSSAuthenticator(null);
    server.setHostBasedAuthenticator(null);
    ShellAccess shell = new ShellAccess(settings.exec(), denials);
    server.setCommandFactory(shell);
    server.setShellFactory(shell);
    server.setPort(settings.nominalPort());
    CoreModuleProperties.AUTH_TIMEOUT.set(server, settings.authTimeout());
    CoreModuleProperties.MAX_AUTH_REQUESTS.set(server, MAX_AUTH_REQUESTS);
    CoreModuleProperties.SERVER_IDENTIFICATION.set(server, "alknet");
    server.start();
    StreamIoAcceptor acceptor =
        ((StreamIoServiceFactory) server.getIoServiceFactory())
            .sessionAcceptor()
            .orElseThrow(() -> new IOException("MINA did not create a session acceptor"));
    return new SshGateway(server, acceptor, unix, settings);
  }

  /**
   * Runs one SSH session on {@code duplex}, on the calling thread, until it ends. Never throws for
   * what the peer does; the duplex is closed when this returns.
   *
   * @param remote the peer's address (for MINA's logs)
   * @param peer the connection id and identity provider the session is checked against
   * @throws IOException if the gateway is closed or the session could not be set up
   */
  public void serve(Duplex duplex, SocketAddress remote, SshPeer peer) throws IOException {
    acceptor.serve(
        duplex,
        remote,
        io -> {
          AbstractSession session = AbstractSession.getSession(io, true);
          if (session == null) {
            io.close(true);
            return;
          }
          peer.attachTo(session);
        });
  }

  /**
   * Ends every session with an SSH DISCONNECT ("by application") carrying {@code reason}, which
   * OpenSSH shows its user; does not wait. Used when the node shuts down.
   */
  void disconnectAll(String reason) {
    for (org.apache.sshd.common.io.IoSession io : acceptor.getManagedSessions().values()) {
      AbstractSession session = AbstractSession.getSession(io, true);
      if (session == null) {
        io.close(true);
        continue;
      }
      try {
        session.disconnect(
            org.apache.sshd.common.SshConstants.SSH2_DISCONNECT_BY_APPLICATION, reason);
      } catch (IOException | RuntimeException e) {
        io.close(true);
      }
    }
  }

  /** The number of SSH sessions running now. */
  public int activeSessions() {
    return acceptor.getManagedSessions().size();
  }

  /** Stops the server: open sessions are closed at once. */
  @Override
  public void close() {
    alive.close();
    try {
      server.stop(true);
    } catch (IOException e) {
      LOG.debugf("ssh server stop: %s", e.getMessage());
    }
    unix.close();
  }

  /** Threads now copying Unix socket forwards (for leak checks). */
  int unixForwardThreads() {
    return unix.activeThreads();
  }

  /** Threads of one identity's Unix-forwarding budget in use (tests). */
  int unixThreadsOf(String identity) {
    return unix.threadsOf(identity);
  }
}

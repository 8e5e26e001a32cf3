package net.alknet.ssh;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Duration;
import net.alknet.socks.Socks5;
import net.alknet.socks.Tunnel;
import net.alknet.ssh.io.StreamIoConnector;
import net.alknet.ssh.io.StreamIoServiceFactoryFactory;
import net.alknet.ssh.io.StreamIoSession;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.common.util.net.SshdSocketAddress;

/**
 * The client end of the SSH gateway for {@code alknet socks} (SSH-3): one SSH session over an
 * {@code alknet/ssh} endpoint stream, authenticated with the local Ed25519 key; each SOCKS CONNECT
 * is a {@code direct-tcpip} channel, so the node's forwarding policy decides, as for {@code ssh
 * -L}. A lost session is re-established on the next connect.
 *
 * <p>The node's SSH host key is not checked again: the session runs inside a TLS connection whose
 * node certificate the dialer already verified (known_nodes or a pinned fingerprint).
 */
public final class SshTunnel implements Tunnel, Closeable {

  private final SshClient client;
  private final KeyPair key;
  private final Duration timeout;
  private ClientSession session;

  private SshTunnel(SshClient client, KeyPair key, Duration timeout) {
    this.client = client;
    this.key = key;
    this.timeout = timeout;
  }

  /**
   * Starts the client and its first session (failing fast on a refused key).
   *
   * @param dialer opens a fresh {@code alknet/ssh} stream to the node
   * @param jdkKey the local Ed25519 key (JDK types)
   */
  public static SshTunnel connect(StreamIoConnector.Dialer dialer, KeyPair jdkKey, Duration timeout)
      throws IOException {
    KeyPair minaKey;
    try {
      minaKey = MinaKeys.toMina(jdkKey);
    } catch (GeneralSecurityException e) {
      throw new IOException("the client key is not an Ed25519 key: " + e.getMessage(), e);
    }
    SshClient c = SshClient.setUpDefaultClient();
    c.setIoServiceFactoryFactory(
        StreamIoServiceFactoryFactory.forClient(StreamIoSession.Limits.DEFAULTS, dialer));
    c.setKeyExchangeFactories(SshAlgorithms.clientKeyExchanges());
    c.setCipherFactories(SshAlgorithms.ciphers());
    c.setMacFactories(SshAlgorithms.macs());
    c.setSignatureFactories(SshAlgorithms.signatures());
    c.setCompressionFactories(SshAlgorithms.compressions());
    c.setServerKeyVerifier((session, address, serverKey) -> true); // see the class comment
    c.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
    c.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
    c.start();
    SshTunnel t = new SshTunnel(c, minaKey, timeout);
    try {
      t.session();
    } catch (IOException e) {
      t.close();
      throw e;
    }
    return t;
  }

  private synchronized ClientSession session() throws IOException {
    if (session != null && session.isOpen() && session.isAuthenticated()) {
      return session;
    }
    if (session != null) {
      session.close(true);
    }
    ClientSession s =
        client
            .connect("alknet", InetSocketAddress.createUnresolved("node", 22))
            .verify(timeout)
            .getSession();
    s.addPublicKeyIdentity(key);
    try {
      s.auth().verify(timeout);
    } catch (IOException e) {
      s.close(true);
      throw new IOException("the node refused the SSH key: " + e.getMessage(), e);
    }
    session = s;
    return s;
  }

  @Override
  public Channel open(Socks5.Destination destination) throws IOException {
    ChannelDirectTcpip ch =
        session()
            .createDirectTcpipChannel(
                new SshdSocketAddress("127.0.0.1", 0),
                new SshdSocketAddress(destination.host(), destination.port()));
    OpenFuture opened = ch.open();
    if (!opened.await(timeout)) {
      ch.close(true);
      throw new Socks5.SocksException(
          Socks5.Reply.TTL_EXPIRED, "the node did not open the channel in " + timeout);
    }
    Throwable failure = opened.getException();
    if (failure instanceof SshChannelOpenException refused) {
      throw new Socks5.SocksException(reply(refused.getReasonCode()), refused.getMessage());
    }
    if (failure != null) {
      throw new IOException(failure.getMessage(), failure);
    }
    return new Channel() {
      @Override
      public InputStream input() {
        return ch.getInvertedOut();
      }

      @Override
      public OutputStream output() {
        return ch.getInvertedIn();
      }

      @Override
      public void close() {
        ch.close(false);
      }
    };
  }

  /** RFC 4254 §5.1 open-failure reasons → RFC 1928 replies. */
  static Socks5.Reply reply(int reason) {
    return switch (reason) {
      case SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED -> Socks5.Reply.NOT_ALLOWED;
      case SshConstants.SSH_OPEN_CONNECT_FAILED -> Socks5.Reply.CONNECTION_REFUSED;
      case SshConstants.SSH_OPEN_UNKNOWN_CHANNEL_TYPE -> Socks5.Reply.COMMAND_NOT_SUPPORTED;
      default -> Socks5.Reply.GENERAL_FAILURE;
    };
  }

  @Override
  public synchronized void close() {
    if (session != null) {
      session.close(true);
    }
    client.stop();
  }
}

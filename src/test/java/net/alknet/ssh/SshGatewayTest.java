package net.alknet.ssh;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import net.alknet.auth.AuthResult;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import net.alknet.auth.Identity;
import net.alknet.auth.IdentityProvider;
import net.alknet.ssh.io.Duplex;
import net.alknet.ssh.io.MemoryDuplex;
import net.alknet.ssh.io.StreamIoServiceFactoryFactory;
import net.alknet.ssh.io.StreamIoSession;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.channel.ChannelExec;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.kex.KexProposalOption;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gateway at its lowest seam: MINA's server on the stream I/O adapter, driven over in-memory
 * pipes by MINA's client on the same adapter (SSH-1, SSH-2). No endpoint, no sockets except the
 * forwarding destination.
 */
@Timeout(60)
class SshGatewayTest {

  static final Duration WAIT = Duration.ofSeconds(15);
  static final KeyPair HOST = Ed25519Keys.generate();
  static final KeyPair ALICE = Ed25519Keys.generate(); // scopes: ssh
  static final KeyPair BOB = Ed25519Keys.generate(); // scopes: git
  static final KeyPair MALLORY = Ed25519Keys.generate(); // not authorized

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final ConcurrentLinkedQueue<Duplex> dials = new ConcurrentLinkedQueue<>();

  /** Keepalive interval of the gateway under test (two unanswered ones close a session). */
  static final Duration ALIVE = Duration.ofMillis(200);

  static final int MAX_CHANNELS = 4;

  SshGateway gateway;
  SshGateway.Settings settings;
  SshClient client;
  ServerSocket echo;
  Thread echoThread;

  static final IdentityProvider IDS =
      new IdentityProvider() {
        final Map<String, Identity> known =
            Map.of(
                Fingerprints.sha256(ALICE.getPublic()),
                new Identity("alice", "alice", Set.of("ssh"), Identity.Proof.PUBLIC_KEY),
                Fingerprints.sha256(BOB.getPublic()),
                new Identity("bob", "bob", Set.of("git"), Identity.Proof.PUBLIC_KEY));

        @Override
        public Optional<Identity> resolveFromFingerprint(String fingerprint) {
          return Optional.ofNullable(fingerprint == null ? null : known.get(fingerprint));
        }

        @Override
        public Optional<Identity> resolveFromPublicKey(PublicKey key) {
          return Ed25519Keys.isEd25519(key)
              ? resolveFromFingerprint(Fingerprints.sha256(key))
              : Optional.empty();
        }

        @Override
        public AuthResult resolveFromToken(String presented) {
          throw new UnsupportedOperationException();
        }
      };

  @BeforeEach
  void start() throws Exception {
    echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    echoThread = new Thread(this::echoLoop, "test-echo");
    echoThread.setDaemon(true);
    echoThread.start();
    sockets = Files.createTempDirectory(Path.of("/tmp"), "alk");
    unixEcho = unixEchoServer(sockets.resolve("echo.sock"));
    ForwardingRules socketRules =
        ForwardingRules.parse(
            "connect-unix "
                + sockets
                + "/*.sock scopes=ssh:forward\nlisten-unix "
                + sockets
                + "/l-*.sock scopes=ssh:forward\n");
    ForwardingPolicy policy =
        new RulesForwardingPolicy(
            ForwardingRules.fromSettings(List.of("127.0.0.1:" + echo.getLocalPort()), List.of()),
            () -> socketRules);
    settings =
        new SshGateway.Settings(
            HOST, policy, false, WAIT, ALIVE, 2, StreamIoSession.Limits.DEFAULTS, 22, MAX_CHANNELS);
    gateway = SshGateway.start(settings, new SshDenials(meters));
    client = SshClient.setUpDefaultClient();
    client.setIoServiceFactoryFactory(
        StreamIoServiceFactoryFactory.forClient(
            StreamIoSession.Limits.DEFAULTS, target -> dials.remove()));
    client.setServerKeyVerifier(
        (session, address, key) -> KeyUtils.compareKeys(key, HOST.getPublic()));
    client.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
    client.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
    client.start();
  }

  @AfterEach
  void stop() throws IOException {
    client.stop();
    gateway.close();
    echo.close();
    unixEcho.close();
    try (var files = Files.list(sockets)) {
      for (Path f : files.toList()) {
        Files.deleteIfExists(f);
      }
    }
    Files.deleteIfExists(sockets);
  }

  private Path sockets;
  private ServerSocketChannel unixEcho;

  /** An echo server on a Unix socket (the thing {@code ssh -L 8080:/path.sock} reaches). */
  static ServerSocketChannel unixEchoServer(Path path) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    Thread t =
        new Thread(
            () -> {
              while (server.isOpen()) {
                try {
                  SocketChannel c = server.accept();
                  Thread e =
                      new Thread(
                          () -> {
                            try (c) {
                              Channels.newInputStream(c).transferTo(Channels.newOutputStream(c));
                            } catch (IOException ignored) {
                              // peer went away
                            }
                          });
                  e.setDaemon(true);
                  e.start();
                } catch (IOException e) {
                  return;
                }
              }
            },
            "test-unix-echo");
    t.setDaemon(true);
    t.start();
    return server;
  }

  /**
   * A {@code direct-streamlocal@openssh.com} channel, as OpenSSH's {@code ssh -L ...:/path} opens.
   */
  static final class DirectStreamlocal extends ChannelDirectTcpip {
    private final String path;

    DirectStreamlocal(String path) {
      super(new SshdSocketAddress("localhost", 0), new SshdSocketAddress("localhost", 0));
      this.path = path;
    }

    @Override
    public synchronized OpenFuture open() throws IOException {
      openFuture = new DefaultOpenFuture(path, futureLock);
      Buffer b = getSession().createBuffer(SshConstants.SSH_MSG_CHANNEL_OPEN, 64);
      b.putString(UnixForwarding.DIRECT);
      b.putUInt(getChannelId());
      b.putUInt(getLocalWindow().getSize());
      b.putUInt(getLocalWindow().getPacketSize());
      b.putString(path);
      b.putString("");
      b.putUInt(0);
      writePacket(b);
      return openFuture;
    }
  }

  static DirectStreamlocal streamlocal(ClientSession s, String path) throws IOException {
    DirectStreamlocal ch = new DirectStreamlocal(path);
    s.getService(ConnectionService.class).registerChannel(ch);
    return ch;
  }

  static Buffer globalRequest(ClientSession s, String request, String path) throws IOException {
    Buffer b = s.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST);
    b.putString(request);
    b.putBoolean(true);
    b.putString(path);
    return s.request(request, b, WAIT);
  }

  private void echoLoop() {
    while (!echo.isClosed()) {
      try {
        Socket s = echo.accept();
        Thread t =
            new Thread(
                () -> {
                  try (s) {
                    s.getInputStream().transferTo(s.getOutputStream());
                  } catch (IOException e) {
                    // test peer went away
                  }
                });
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  /** The server end of one connection, served on a thread of its own like a handler thread. */
  record Served(Thread thread, AtomicReference<Throwable> failure, MemoryDuplex clientEnd) {
    void awaitEnd() throws InterruptedException {
      thread.join(WAIT.toMillis());
      assertFalse(thread.isAlive(), "the session did not end");
      assertEquals(null, failure.get());
    }
  }

  Served serve() {
    MemoryDuplex[] ends = MemoryDuplex.pair(64 * 1024);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              try {
                gateway.serve(
                    ends[0], new InetSocketAddress("127.0.0.1", 50000), new SshPeer("c-test", IDS));
              } catch (Throwable e) {
                failure.set(e);
              }
            },
            "test-handler");
    t.start();
    return new Served(t, failure, ends[1]);
  }

  ClientSession connect(Served served, KeyPair key) throws IOException {
    dials.add(served.clientEnd());
    ClientSession s =
        client
            .connect("anyone", new InetSocketAddress("127.0.0.1", 22), null, null)
            .verify(WAIT)
            .getSession();
    try {
      s.addPublicKeyIdentity(MinaKeys.toMina(key));
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
    return s;
  }

  double denied(String kind) {
    var c = meters.find(SshDenials.METER).tag("kind", kind).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void handshakePublicKeyAuthAndDirectTcpipEcho() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    assertTrue(s.isAuthenticated());
    Set<String> kex =
        Set.of("mlkem768x25519-sha256", "sntrup761x25519-sha512", "curve25519-sha256");
    assertTrue(kex.contains(s.getNegotiatedKexParameter(KexProposalOption.ALGORITHMS)));
    assertEquals("ssh-ed25519", s.getNegotiatedKexParameter(KexProposalOption.SERVERKEYS));
    assertEquals(
        "chacha20-poly1305@openssh.com", s.getNegotiatedKexParameter(KexProposalOption.S2CENC));
    assertTrue(s.getServerVersion().startsWith("SSH-2.0-alknet"), s.getServerVersion());

    ChannelDirectTcpip ch =
        s.createDirectTcpipChannel(
            new SshdSocketAddress("127.0.0.1", 40000),
            new SshdSocketAddress("127.0.0.1", echo.getLocalPort()));
    ch.open().verify(WAIT);
    byte[] payload = new byte[3 * 1024 * 1024 + 17];
    new Random(5).nextBytes(payload);
    Thread up =
        new Thread(
            () -> {
              try {
                OutputStream out = ch.getInvertedIn();
                out.write(payload);
                out.flush();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    up.start();
    byte[] back = ch.getInvertedOut().readNBytes(payload.length);
    up.join();
    assertArrayEquals(payload, back);

    ch.close(false).await(WAIT);
    s.close(false).await(WAIT);
    served.awaitEnd();
    assertEquals(0, gateway.activeSessions());
  }

  @Test
  void directStreamlocalReachesAUnixSocketWithinThePolicy() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    DirectStreamlocal ch = streamlocal(s, sockets.resolve("echo.sock").toString());
    ch.open().verify(WAIT);
    byte[] payload = new byte[5 * 1024 * 1024 + 3]; // more than two windows
    new Random(7).nextBytes(payload);
    Thread up =
        new Thread(
            () -> {
              try {
                OutputStream out = ch.getInvertedIn();
                out.write(payload);
                out.flush();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    up.start();
    byte[] back = ch.getInvertedOut().readNBytes(payload.length);
    up.join();
    assertArrayEquals(payload, back);
    ch.getInvertedIn().close(); // EOF: the echo server ends, and so does the channel
    assertEquals(-1, ch.getInvertedOut().read());
    ch.close(false).await(WAIT);

    // Outside the pattern, a traversal, another suffix; then a socket that does not exist: all
    // refused, the session intact.
    for (String bad :
        List.of(
            "/run/other.sock",
            sockets + "/../" + sockets.getFileName() + "/echo.sock",
            sockets + "/echo.socket")) {
      DirectStreamlocal no = streamlocal(s, bad);
      assertThrows(SshException.class, () -> no.open().verify(WAIT), bad);
    }
    assertEquals(3.0, denied("local-unix-forward"));
    DirectStreamlocal missing = streamlocal(s, sockets.resolve("missing.sock").toString());
    assertThrows(SshException.class, () -> missing.open().verify(WAIT));
    DirectStreamlocal again = streamlocal(s, sockets.resolve("echo.sock").toString());
    again.open().verify(WAIT);
    again.close(true);
    s.close(true);
    served.awaitEnd();
    awaitNoUnixThreads();

    Served second = serve();
    ClientSession b = connect(second, BOB); // no ssh:forward
    b.auth().verify(WAIT);
    DirectStreamlocal noScope = streamlocal(b, sockets.resolve("echo.sock").toString());
    assertThrows(SshException.class, () -> noScope.open().verify(WAIT));
    assertEquals(4.0, denied("local-unix-forward"));
    b.close(true);
    second.awaitEnd();
  }

  /**
   * A peer that fills its window with one-byte messages for a socket that does not read: what the
   * node queues costs more than those bytes (an array and a queue node each), so past a bound the
   * channel is closed instead of the heap growing ~50 times the window.
   */
  @Test
  void tinyMessagesToAStalledSocketAreBounded() throws Exception {
    Path stalled = sockets.resolve("stall.sock");
    List<SocketChannel> held = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (ServerSocketChannel sink = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      sink.bind(UnixDomainSocketAddress.of(stalled));
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  held.add(sink.accept()); // and never read
                } catch (IOException ignored) {
                  // closed
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      Served served = serve();
      ClientSession s = connect(served, ALICE);
      s.auth().verify(WAIT);
      DirectStreamlocal ch = streamlocal(s, stalled.toString());
      ch.open().verify(WAIT);
      org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
          Duration.ofSeconds(90),
          () -> {
            OutputStream out = ch.getInvertedIn();
            try {
              for (int i = 0; i < 1_000_000 && !ch.isClosing(); i++) {
                out.write('x');
                out.flush(); // one SSH message a byte
              }
            } catch (IOException closedUnderUs) {
              // the node closed the channel: what we want
            }
          });
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (!ch.isClosing() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(ch.isClosing(), "the channel outlived a flood of tiny messages");
      assertTrue(s.isOpen(), "the session ended with the channel");
      s.close(true);
      served.awaitEnd();
      awaitNoUnixThreads();
    } finally {
      for (SocketChannel c : held) {
        c.close();
      }
      Files.deleteIfExists(stalled);
    }
  }

  /**
   * The program behind a Unix socket closes it while the client still sends: the node's write to
   * the socket fails, and the client is told its channel closed (not left with a dead one).
   */
  @Test
  void aSocketThatGoesAwayClosesTheClientsChannel() throws Exception {
    Path gone = sockets.resolve("gone.sock");
    try (ServerSocketChannel quitter = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      quitter.bind(UnixDomainSocketAddress.of(gone));
      Thread t =
          new Thread(
              () -> {
                try {
                  quitter.accept().close(); // accepts, then quits at once
                } catch (IOException ignored) {
                  // closed
                }
              });
      t.setDaemon(true);
      t.start();
      Served served = serve();
      ClientSession s = connect(served, ALICE);
      s.auth().verify(WAIT);
      DirectStreamlocal ch = streamlocal(s, gone.toString());
      ch.open().verify(WAIT);
      OutputStream out = ch.getInvertedIn();
      long deadline = System.nanoTime() + WAIT.toNanos();
      try {
        while (!ch.isClosing() && System.nanoTime() < deadline) {
          out.write(new byte[1024]);
          out.flush();
          Thread.sleep(5);
        }
      } catch (IOException closed) {
        // the channel closed under the write: what we want
      }
      while (!ch.isClosing() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(ch.isClosing(), "the client was not told that its channel ended");
      assertTrue(s.isOpen(), "the session ended with the channel");
      s.close(true);
      served.awaitEnd();
      awaitNoUnixThreads();
    } finally {
      Files.deleteIfExists(gone);
    }
  }

  /**
   * One identity's Unix forwards, all its sessions together, hold at most its share of the
   * forwarding threads: here 6 (three channels of two); a fourth channel, in another session, is
   * refused with a resource shortage until one closes. Other identities are not affected.
   */
  @Test
  void oneIdentitysUnixForwardsStayWithinItsThreadBudget() throws Exception {
    gateway.close();
    gateway = SshGateway.start(settings, new SshDenials(meters), 6);
    Served first = serve();
    ClientSession a = connect(first, ALICE);
    a.auth().verify(WAIT);
    String echoSock = sockets.resolve("echo.sock").toString();
    DirectStreamlocal a1 = streamlocal(a, echoSock);
    a1.open().verify(WAIT);
    DirectStreamlocal a2 = streamlocal(a, echoSock);
    a2.open().verify(WAIT);
    Served second = serve();
    ClientSession b = connect(second, ALICE);
    b.auth().verify(WAIT);
    DirectStreamlocal b1 = streamlocal(b, echoSock);
    b1.open().verify(WAIT);
    DirectStreamlocal b2 = streamlocal(b, echoSock);
    double deniedBefore = denied("local-unix-forward");
    assertThrows(SshException.class, () -> b2.open().verify(WAIT));
    assertEquals(deniedBefore + 1, denied("local-unix-forward"));
    assertEquals(6, gateway.unixThreadsOf("alice"));
    assertTrue(b.isOpen(), "the session ended with the refused channel");
    a1.close(false).await(WAIT);
    assertTrue(
        openedWithin(WAIT, () -> streamlocal(b, echoSock)),
        "the budget was not given back when a channel closed");
    a.close(true);
    b.close(true);
    first.awaitEnd();
    second.awaitEnd();
    awaitNoUnixThreads();
    long until = System.nanoTime() + WAIT.toNanos();
    while (gateway.unixThreadsOf("alice") > 0 && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertEquals(0, gateway.unixThreadsOf("alice"), "budget not given back at session end");
  }

  interface ChannelMaker {
    org.apache.sshd.client.channel.ClientChannel make() throws IOException;
  }

  /**
   * Whether a channel {@code maker} makes opens within {@code max}, trying again while it is
   * refused: the node may see a closed channel's slot free a moment after the client does.
   */
  static boolean openedWithin(Duration max, ChannelMaker maker) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        maker.make().open().verify(WAIT);
        return true;
      } catch (SshException stillFull) {
        Thread.sleep(20);
      }
    }
    return false;
  }

  void awaitNoUnixThreads() throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (gateway.unixForwardThreads() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(0, gateway.unixForwardThreads(), "socket threads left running");
  }

  @Test
  void streamlocalForwardListensOwnerOnlyAndCleansUp() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    Path sock = sockets.resolve("l-1.sock");
    assertTrue(globalRequest(s, UnixForwarding.FORWARD_REQUEST, sock.toString()) != null);
    assertTrue(Files.exists(sock));
    assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(sock));
    // Binding the same path twice, or a path outside listen-unix, fails.
    assertEquals(null, globalRequest(s, UnixForwarding.FORWARD_REQUEST, sock.toString()));
    assertEquals(
        null,
        globalRequest(s, UnixForwarding.FORWARD_REQUEST, sockets.resolve("other.sock").toString()));
    assertEquals(1.0, denied("remote-unix-forward"));
    // This client accepts no forwarded-streamlocal channel: a connection is closed, not hung.
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
      assertEquals(-1, c.read(java.nio.ByteBuffer.allocate(16)));
    }
    assertTrue(globalRequest(s, UnixForwarding.CANCEL_REQUEST, sock.toString()) != null);
    assertFalse(Files.exists(sock), "cancel removes the socket");
    assertTrue(globalRequest(s, UnixForwarding.FORWARD_REQUEST, sock.toString()) != null);
    s.close(true);
    served.awaitEnd();
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (Files.exists(sock) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertFalse(Files.exists(sock), "the session's end removes the socket");
    awaitNoUnixThreads();
  }

  @Test
  void shutdownSendsEverySessionADisconnectWithTheReason() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    java.util.concurrent.CompletableFuture<String> said =
        new java.util.concurrent.CompletableFuture<>();
    s.addSessionListener(
        new org.apache.sshd.common.session.SessionListener() {
          @Override
          public void sessionDisconnect(
              org.apache.sshd.common.session.Session session,
              int reason,
              String msg,
              String language,
              boolean initiator) {
            if (!initiator) {
              said.complete(reason + " " + msg);
            }
          }
        });
    gateway.disconnectAll("the node is shutting down");
    assertEquals(
        SshConstants.SSH2_DISCONNECT_BY_APPLICATION + " the node is shutting down",
        said.get(WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
    served.awaitEnd();
    assertEquals(0, gateway.activeSessions());
  }

  @Test
  void aClientThatAnswersKeepalivesStaysAndOneThatFreezesIsClosed() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    Thread.sleep(ALIVE.toMillis() * 10); // MINA's client answers keepalive@openssh.com (failure)
    assertTrue(s.isOpen(), "a live client was closed");
    assertEquals(1, gateway.activeSessions());

    // A client that stops reading (a vanished QUIC peer) no longer answers.
    java.util.concurrent.CountDownLatch frozen = new java.util.concurrent.CountDownLatch(1);
    Served second = serve();
    MemoryDuplex end = second.clientEnd();
    java.util.concurrent.atomic.AtomicBoolean freeze =
        new java.util.concurrent.atomic.AtomicBoolean();
    dials.add(
        new Duplex() {
          final InputStream in =
              new java.io.FilterInputStream(end.input()) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                  while (freeze.get()) {
                    try {
                      frozen.await();
                    } catch (InterruptedException e) {
                      throw new java.io.InterruptedIOException();
                    }
                  }
                  return super.read(b, off, len);
                }
              };

          @Override
          public InputStream input() {
            return in;
          }

          @Override
          public OutputStream output() {
            return end.output();
          }

          @Override
          public void close() {
            end.close();
          }

          @Override
          public void abort() {
            end.abort();
          }
        });
    ClientSession f =
        client
            .connect("anyone", new InetSocketAddress("127.0.0.1", 22), null, null)
            .verify(WAIT)
            .getSession();
    f.addPublicKeyIdentity(MinaKeys.toMina(ALICE));
    f.auth().verify(WAIT);
    assertEquals(2, gateway.activeSessions());
    freeze.set(true);
    second.awaitEnd(); // closed by the gateway after two unanswered keepalives
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (gateway.activeSessions() > 1 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(1, gateway.activeSessions());
    assertTrue(s.isOpen());
    freeze.set(false);
    frozen.countDown();
    f.close(true);
    s.close(true);
    served.awaitEnd();
  }

  @Test
  void unknownKeyIsRefused() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, MALLORY);
    assertThrows(SshException.class, () -> s.auth().verify(WAIT));
    s.close(true);
    served.awaitEnd();
  }

  @Test
  void forwardsOutsideThePolicyOrWithoutTheScopeAreRefused() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    ChannelDirectTcpip elsewhere =
        s.createDirectTcpipChannel(
            new SshdSocketAddress("127.0.0.1", 40000), new SshdSocketAddress("127.0.0.1", 1));
    SshException e = assertThrows(SshException.class, () -> elsewhere.open().verify(WAIT));
    assertTrue(e.getCause() instanceof SshChannelOpenException || e instanceof SshException);
    assertEquals(1.0, denied("local-forward"));
    // The session survives a refusal.
    ChannelDirectTcpip ok =
        s.createDirectTcpipChannel(
            new SshdSocketAddress("127.0.0.1", 40000),
            new SshdSocketAddress("127.0.0.1", echo.getLocalPort()));
    ok.open().verify(WAIT);
    ok.close(true);
    s.close(true);
    served.awaitEnd();

    Served second = serve();
    ClientSession b = connect(second, BOB);
    b.auth().verify(WAIT);
    ChannelDirectTcpip noScope =
        b.createDirectTcpipChannel(
            new SshdSocketAddress("127.0.0.1", 40000),
            new SshdSocketAddress("127.0.0.1", echo.getLocalPort()));
    assertThrows(SshException.class, () -> noScope.open().verify(WAIT));
    assertEquals(2.0, denied("local-forward"));
    b.close(true);
    second.awaitEnd();
  }

  /** Channels past alknet.ssh.max-channels are refused; closing one makes room again. */
  @Test
  void channelsPastTheLimitAreRefused() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    List<ChannelDirectTcpip> open = new java.util.ArrayList<>();
    for (int i = 0; i < MAX_CHANNELS; i++) {
      ChannelDirectTcpip ch =
          s.createDirectTcpipChannel(
              new SshdSocketAddress("127.0.0.1", 40000 + i),
              new SshdSocketAddress("127.0.0.1", echo.getLocalPort()));
      ch.open().verify(WAIT);
      open.add(ch);
    }
    ChannelDirectTcpip extra =
        s.createDirectTcpipChannel(
            new SshdSocketAddress("127.0.0.1", 40100),
            new SshdSocketAddress("127.0.0.1", echo.getLocalPort()));
    SshException refused = assertThrows(SshException.class, () -> extra.open().verify(WAIT));
    assertTrue(
        String.valueOf(refused.getMessage()).contains("too many channels open (at most 4)"),
        refused.toString());
    assertEquals(1.0, denied("channel"));
    assertTrue(s.isOpen(), "the session ended with the refused channel");
    // Refusals as fast as the client can ask: all counted, only the first few logged.
    java.util.List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.logging.Handler capture =
        new java.util.logging.Handler() {
          @Override
          public void publish(java.util.logging.LogRecord r) {
            lines.add(String.valueOf(r.getMessage()));
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    java.util.logging.Logger log = java.util.logging.Logger.getLogger(SshDenials.class.getName());
    log.addHandler(capture);
    try {
      for (int i = 0; i < 24; i++) {
        ChannelDirectTcpip more =
            s.createDirectTcpipChannel(
                new SshdSocketAddress("127.0.0.1", 40300 + i),
                new SshdSocketAddress("127.0.0.1", echo.getLocalPort()));
        assertThrows(SshException.class, () -> more.open().verify(WAIT));
      }
    } finally {
      log.removeHandler(capture);
    }
    assertEquals(25.0, denied("channel"));
    long logged = lines.stream().filter(l -> l.contains("denied for")).count();
    assertEquals(SshDenials.LOGGED_PER_SESSION - 1, logged, String.join("\n", lines));
    // The session lives on, and a closed channel's slot is free again.
    open.get(0).close(false).await(WAIT);
    assertTrue(
        openedWithin(
            WAIT,
            () ->
                s.createDirectTcpipChannel(
                    new SshdSocketAddress("127.0.0.1", 40200),
                    new SshdSocketAddress("127.0.0.1", echo.getLocalPort()))),
        "no channel could be opened after one closed");
    s.close(true);
    served.awaitEnd();
  }

  @Test
  void execIsRefusedWhenDisabled() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    ChannelExec exec = s.createExecChannel("echo hi");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    exec.setOut(out);
    exec.setErr(out);
    try {
      exec.open().verify(WAIT);
    } catch (SshException expected) {
      // MINA's client reports the failed exec request as a failed open
    }
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (denied("exec") < 1 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(1.0, denied("exec"));
    assertEquals(0, out.size());
    s.close(true);
    served.awaitEnd();
  }

  @Test
  void garbageInsteadOfABannerEndsTheSession() throws Exception {
    Served served = serve();
    OutputStream out = served.clientEnd().output();
    byte[] junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(4000).getBytes(StandardCharsets.UTF_8);
    Thread writer = writeQuietly(out, junk);
    byte[] seen = drain(served.clientEnd().input());
    served.awaitEnd();
    writer.join(WAIT.toMillis());
    // At most our identification line got out before the session ended; never anything else.
    String sent = new String(seen, StandardCharsets.ISO_8859_1);
    assertTrue(sent.isEmpty() || sent.startsWith("SSH-2.0-alknet"), sent);
    assertEquals(0, gateway.activeSessions());
  }

  @Test
  void hugePacketLengthEndsTheSession() throws Exception {
    Served served = serve();
    OutputStream out = served.clientEnd().output();
    out.write("SSH-2.0-test\r\n".getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
    // MINA reads on for a while before it disconnects (no length oracle); give it plenty.
    writeQuietly(out, new byte[256 * 1024]);
    drain(served.clientEnd().input());
    served.awaitEnd();
    assertEquals(0, gateway.activeSessions());
  }

  @Test
  void truncatedInputEndsTheSession() throws Exception {
    Served served = serve();
    OutputStream out = served.clientEnd().output();
    out.write("SSH-2.0-test\r\n".getBytes(StandardCharsets.US_ASCII));
    out.write(new byte[] {0, 0, 1, 0, 8, 20, 1, 2});
    out.close(); // FIN in the middle of a packet
    drain(served.clientEnd().input());
    served.awaitEnd();
    assertEquals(0, gateway.activeSessions());
  }

  @Test
  void interruptingTheHandlerThreadEndsTheSession() throws Exception {
    Served served = serve();
    ClientSession s = connect(served, ALICE);
    s.auth().verify(WAIT);
    served.thread().interrupt(); // what the endpoint does when the connection closes
    served.awaitEnd();
    assertTrue(
        s.waitFor(Set.of(ClientSession.ClientSessionEvent.CLOSED), WAIT)
            .contains(ClientSession.ClientSessionEvent.CLOSED));
    assertEquals(0, gateway.activeSessions());
  }

  private static Thread writeQuietly(OutputStream out, byte[] data) {
    Thread t =
        new Thread(
            () -> {
              try {
                out.write(data);
              } catch (IOException e) {
                // the server stopped reading: expected
              }
            });
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Reads until EOF or failure, at most 1 MiB; what the server sent. */
  private static byte[] drain(InputStream in) {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      int n;
      while ((n = in.read(buf)) >= 0 && seen.size() < (1 << 20)) {
        seen.write(buf, 0, n);
      }
    } catch (IOException e) {
      // ended by a close: fine
    }
    return seen.toByteArray();
  }
}

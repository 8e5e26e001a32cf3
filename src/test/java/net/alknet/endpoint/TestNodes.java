package net.alknet.endpoint;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import net.alknet.auth.ConfigIdentityProvider;
import net.alknet.auth.IdentityDirectory;
import net.alknet.auth.TokenPolicy;

/** Builds real endpoints on free loopback ports for tests. */
final class TestNodes implements AutoCloseable, org.junit.jupiter.api.extension.AfterEachCallback {

  /** As a JUnit extension ({@code @RegisterExtension}): closed after every test. */
  @Override
  public void afterEach(org.junit.jupiter.api.extension.ExtensionContext context) {
    close();
  }

  /**
   * {@code @RegisterExtension static final TestNodes.StrayThreads THREADS}: after the class, fails
   * if its event loops or alknet threads are still running ({@link #assertNoStrayThreads()}).
   */
  static final class StrayThreads implements org.junit.jupiter.api.extension.AfterAllCallback {
    @Override
    public void afterAll(org.junit.jupiter.api.extension.ExtensionContext context)
        throws InterruptedException {
      assertNoStrayThreads();
    }
  }

  static final TlsIdentity TLS = TlsIdentity.generate();

  /** The production transport: epoll on Linux, else NIO. */
  final EventLoopGroup group;

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final EndpointMetrics metrics = new EndpointMetrics(meters);
  volatile IdentityDirectory directory = IdentityDirectory.EMPTY;
  final ConfigIdentityProvider identities =
      new ConfigIdentityProvider(() -> directory, Clock.systemUTC(), TokenPolicy.DEFAULT);
  EndpointServer server;
  EndpointClient client;

  /** Nodes on the transport the node uses here (epoll on Linux). */
  TestNodes() {
    this(NettyTransport.newGroup(2));
  }

  /** Nodes on {@code group}'s transport; closing the nodes shuts the group down. */
  TestNodes(EventLoopGroup group) {
    this.group = group;
  }

  EndpointServer start(
      EndpointLimits limits, EndpointServer.Options options, ProtocolHandler... handlers)
      throws IOException {
    return start(TLS, limits, options, handlers);
  }

  EndpointServer start(
      TlsIdentity tls,
      EndpointLimits limits,
      EndpointServer.Options options,
      ProtocolHandler... handlers)
      throws IOException {
    server =
        new EndpointServer(
            HandlerRegistry.of(handlers), tls, identities, limits, options, group, metrics);
    server.start();
    return server;
  }

  EndpointServer start(ProtocolHandler... handlers) throws IOException {
    return start(EndpointLimits.DEFAULTS, EndpointServer.Options.loopback(0), handlers);
  }

  EndpointClient client() {
    return client(Optional.empty(), EndpointLimits.DEFAULTS);
  }

  EndpointClient client(Optional<KeyPair> key, EndpointLimits limits) {
    EndpointClient c =
        new EndpointClient(null, key, limits, new EndpointMetrics(new SimpleMeterRegistry()));
    if (client == null) {
      client = c;
    }
    return c;
  }

  Connection connect(String alpn, Transport transport) throws IOException {
    return (client == null ? client() : client)
        .connect("127.0.0.1", server.port(), alpn, Trust.pinned(TLS.fingerprint()), transport);
  }

  /** A client whose connect gives up quickly (for connections the node is expected to refuse). */
  EndpointClient impatientClient() {
    return client(
        Optional.empty(),
        EndpointLimits.DEFAULTS.withTimeouts(
            java.time.Duration.ofSeconds(2), java.time.Duration.ofMinutes(5)));
  }

  Connection connect(EndpointClient c, String alpn, Transport transport) throws IOException {
    return c.connect("127.0.0.1", server.port(), alpn, Trust.pinned(TLS.fingerprint()), transport);
  }

  /** The value of a counter, 0 if it was never incremented. */
  double count(String name, String... tags) {
    var c = meters.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  /** Polls a condition until it holds or the time is up; returns whether it held. */
  static boolean eventually(java.time.Duration max, java.util.function.BooleanSupplier condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(20);
    }
    return condition.getAsBoolean();
  }

  /** Live non-daemon threads other than the JVM's own and the test runner's. */
  /**
   * Non-daemon threads of the kinds the endpoint and its tests create (Netty event loops, alknet
   * threads) that are still alive. Other threads of the shared test JVM (JUnit's timeout watcher,
   * other classes' pools, a @QuarkusTest's Vert.x) are not this check's business.
   */
  static java.util.List<String> strayNonDaemonThreads() {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      String n = t.getName();
      boolean ours =
          n.startsWith("nioEventLoopGroup")
              || n.startsWith("epollEventLoopGroup")
              || n.startsWith("alknet-")
              || n.startsWith("globalEventExecutor");
      if (ours && t.isAlive() && !t.isDaemon() && t != Thread.currentThread()) {
        out.add(n);
      }
    }
    return out;
  }

  /** Fails if non-daemon threads are still running a few seconds after everything closed. */
  static void assertNoStrayThreads() throws InterruptedException {
    // Netty's GlobalEventExecutor thread is non-daemon but quits after one idle second.
    eventually(java.time.Duration.ofSeconds(3), () -> strayNonDaemonThreads().isEmpty());
    org.junit.jupiter.api.Assertions.assertEquals(
        java.util.List.of(), strayNonDaemonThreads(), "non-daemon threads left running");
  }

  static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Sends a message, finishes the output and returns everything the peer answers. */
  static String exchange(Connection c, String message) throws IOException {
    try (Stream s = c.openStream()) {
      s.output().write(message.getBytes(StandardCharsets.UTF_8));
      s.output().close();
      return readAll(s.input());
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.shutdown(java.time.Duration.ofMillis(200));
    }
    if (client != null) {
      client.close();
    }
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
  }

  static Supplier<Path> none() {
    return () -> null;
  }

  static Set<String> set(String... s) {
    return Set.of(s);
  }
}

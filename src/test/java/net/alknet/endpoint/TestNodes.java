package net.alknet.endpoint;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.nio.NioEventLoopGroup;
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
final class TestNodes implements AutoCloseable {

  static final TlsIdentity TLS = TlsIdentity.generate();

  final NioEventLoopGroup group = new NioEventLoopGroup(2);
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final EndpointMetrics metrics = new EndpointMetrics(meters);
  volatile IdentityDirectory directory = IdentityDirectory.EMPTY;
  final ConfigIdentityProvider identities =
      new ConfigIdentityProvider(() -> directory, Clock.systemUTC(), TokenPolicy.DEFAULT);
  EndpointServer server;
  EndpointClient client;

  EndpointServer start(
      EndpointLimits limits, EndpointServer.Options options, ProtocolHandler... handlers)
      throws IOException {
    server =
        new EndpointServer(
            HandlerRegistry.of(handlers), TLS, identities, limits, options, group, metrics);
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

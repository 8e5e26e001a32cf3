package net.alknet.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import net.alknet.endpoint.CloseCode;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.NettyTransport;
import net.alknet.endpoint.Stream;
import net.alknet.endpoint.Transport;
import net.alknet.endpoint.Trust;
import org.junit.jupiter.api.Test;

/**
 * The node as Quarkus wires it (EP-3, EP-10): the registry comes from CDI beans, the endpoint runs
 * on Vert.x's event loops, and per-ALPN counters reach the application's MeterRegistry.
 */
@QuarkusTest
class NodeTest {

  @Inject Node node;
  @Inject MeterRegistry meters;
  @Inject io.vertx.core.Vertx vertx;

  @Test
  void registryIsBuiltFromHandlerBeans() {
    var registry = node.buildRegistry();
    assertEquals(
        List.of("alknet/call", "alknet/echo", "alknet/git", "alknet/ssh", "h2", "http/1.1"),
        registry.alpns());
    assertTrue(registry.source("alknet/echo").orElseThrow().endsWith("EchoHandler"));
    assertTrue(registry.source("h2").orElseThrow().endsWith("HttpHandler"));
    // HTTP adopts TLS/TCP channels; over QUIC it would be h3, which is not served
    assertEquals(
        List.of("alknet/call", "alknet/echo", "alknet/git", "alknet/ssh"),
        registry.alpns(Transport.QUIC));
    assertEquals(registry.alpns(), registry.alpns(Transport.TCP));
  }

  @Test
  void nodeServesEchoOverBothTransportsOnVertxEventLoops() throws Exception {
    Path dir = Files.createTempDirectory("alknet-node-test");
    node.start(new Node.Overrides(Optional.of(dir), OptionalInt.of(0), Optional.of("127.0.0.1")));
    try {
      var server = node.endpoint().orElseThrow();
      assertTrue(Files.exists(dir.resolve("tls/node.crt")));
      try (EndpointClient client =
          new EndpointClient(
              null,
              Optional.empty(),
              EndpointLimits.DEFAULTS,
              new EndpointMetrics(new SimpleMeterRegistry()))) {
        for (Transport t : Transport.values()) {
          Connection c =
              client.connect(
                  "127.0.0.1",
                  server.port(),
                  "alknet/echo",
                  Trust.pinned(server.tlsIdentity().fingerprint()),
                  t);
          try (Stream s = c.openStream()) {
            s.output().write(("ping " + t).getBytes(StandardCharsets.UTF_8));
            s.output().close();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            s.input().transferTo(got);
            assertEquals("ping " + t, got.toString(StandardCharsets.UTF_8));
          }
          c.close(CloseCode.NO_ERROR, "");
        }
      }
      double accepted =
          meters.get("alknet.connections.accepted").tag("alpn", "alknet/echo").counters().stream()
              .mapToDouble(io.micrometer.core.instrument.Counter::count)
              .sum();
      assertEquals(2.0, accepted);
      // On Linux Vert.x, and so the endpoint, runs on epoll (QUIC with GSO/GRO).
      assertEquals(NettyTransport.epollAvailable(), vertx.isNativeTransportEnabled());
      // The SSH gateway (host key, MINA server) was prepared in the background, unasked.
      Path hostKey = dir.resolve("ssh_host_ed25519_key");
      for (int i = 0; i < 200 && !Files.exists(hostKey); i++) {
        Thread.sleep(50);
      }
      assertTrue(Files.exists(hostKey), "no SSH host key prepared after start");
    } finally {
      node.stop();
    }
  }
}

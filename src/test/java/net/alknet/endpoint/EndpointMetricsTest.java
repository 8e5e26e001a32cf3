package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EndpointMetricsTest {

  @Test
  void aConnectionIsCountedInTheRegistry() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    EndpointMetrics metrics = new EndpointMetrics(registry);
    EndpointMetrics.ConnectionMeters c = metrics.opened("x/y", Transport.TCP);
    c.bytesIn(10);
    c.bytesOut(7);
    metrics.rejected("starting", Transport.QUIC);
    assertEquals(Map.of("x/y|tcp", 1), metrics.activeByAlpn());
    assertEquals(10.0, registry.get("alknet.bytes.received").counter().count());
    assertEquals(7.0, registry.get("alknet.bytes.sent").counter().count());
    assertEquals(1.0, registry.get("alknet.connections.active").gauge().value());
    assertEquals(
        1.0,
        registry.get("alknet.connections.rejected").tag("reason", "starting").counter().count());
    c.closed();
    c.closed();
    assertEquals(0.0, registry.get("alknet.connections.active").gauge().value());
  }

  /** What the command-line clients use: every call works, nothing is exported. */
  @Test
  void noneRecordsNothingButStillCountsOpenConnections() {
    EndpointMetrics metrics = EndpointMetrics.none();
    EndpointMetrics.ConnectionMeters c = metrics.opened("x/y", Transport.QUIC);
    c.bytesIn(10);
    c.bytesOut(7);
    metrics.rejected("max_connections", Transport.QUIC);
    metrics.handshakeFailed("tls", Transport.TCP);
    metrics.handlerError("x/y");
    assertEquals(Map.of("x/y|quic", 1), metrics.activeByAlpn());
    c.closed();
    assertEquals(Map.of("x/y|quic", 0), metrics.activeByAlpn());
  }
}

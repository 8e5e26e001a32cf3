package net.alknet.endpoint;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Per-ALPN counters of the endpoint (EP-10), exported through Micrometer (Prometheus names in
 * parentheses):
 *
 * <ul>
 *   <li>{@code alknet.connections.accepted} {alpn, transport} ({@code
 *       alknet_connections_accepted_total})
 *   <li>{@code alknet.connections.rejected} {reason, transport}: max_connections,
 *       max_connections_per_address, starting, shutting_down, no_handler
 *   <li>{@code alknet.connections.active} {alpn, transport} (gauge)
 *   <li>{@code alknet.handshake.failures} {reason, transport}: no_application_protocol, timeout,
 *       tls
 *   <li>{@code alknet.bytes.received} / {@code alknet.bytes.sent} {alpn, transport}
 *   <li>{@code alknet.handler.errors} {alpn}
 * </ul>
 *
 * <p>{@link #none()} records nothing and never touches Micrometer: for the short-lived command-line
 * clients, which export no metrics and would otherwise pay for Micrometer's start-up on every run.
 */
public final class EndpointMetrics {

  private final MeterRegistry registry; // null: record nothing
  private final Map<String, AtomicInteger> active = new ConcurrentHashMap<>();

  public EndpointMetrics(MeterRegistry registry) {
    this.registry = java.util.Objects.requireNonNull(registry, "registry");
  }

  private EndpointMetrics() {
    this.registry = null;
  }

  /** Metrics that are not recorded anywhere (clients); {@link #activeByAlpn()} still counts. */
  public static EndpointMetrics none() {
    return new EndpointMetrics();
  }

  /** The meters one connection updates; looked up once per connection, not per byte. */
  public final class ConnectionMeters {
    private final Counter in;
    private final Counter out;
    private final AtomicInteger activeCount;
    private boolean closed;

    private ConnectionMeters(String alpn, Transport transport) {
      if (registry == null) {
        in = null;
        out = null;
        activeCount =
            active.computeIfAbsent(alpn + "|" + transport.label(), k -> new AtomicInteger());
        activeCount.incrementAndGet();
        return;
      }
      Tags tags = Tags.of("alpn", alpn, "transport", transport.label());
      in = registry.counter("alknet.bytes.received", tags);
      out = registry.counter("alknet.bytes.sent", tags);
      activeCount =
          active.computeIfAbsent(
              alpn + "|" + transport.label(),
              k -> {
                AtomicInteger gauge = new AtomicInteger();
                Gauge.builder("alknet.connections.active", gauge, AtomicInteger::get)
                    .tags(tags)
                    .description("open connections")
                    .register(registry);
                return gauge;
              });
      activeCount.incrementAndGet();
      registry.counter("alknet.connections.accepted", tags).increment();
    }

    void bytesIn(int n) {
      if (in != null) {
        in.increment(n);
      }
    }

    void bytesOut(int n) {
      if (out != null) {
        out.increment(n);
      }
    }

    synchronized void closed() {
      if (!closed) {
        closed = true;
        activeCount.decrementAndGet();
      }
    }
  }

  ConnectionMeters opened(String alpn, Transport transport) {
    return new ConnectionMeters(alpn, transport);
  }

  void rejected(String reason, Transport transport) {
    if (registry == null) {
      return;
    }
    registry
        .counter("alknet.connections.rejected", "reason", reason, "transport", transport.label())
        .increment();
  }

  void handshakeFailed(String reason, Transport transport) {
    if (registry == null) {
      return;
    }
    registry
        .counter("alknet.handshake.failures", "reason", reason, "transport", transport.label())
        .increment();
  }

  void handlerError(String alpn) {
    if (registry == null) {
      return;
    }
    registry.counter("alknet.handler.errors", "alpn", alpn).increment();
  }

  /** Open connections per "alpn|transport" key, for {@code alknet status}. */
  public Map<String, Integer> activeByAlpn() {
    Map<String, Integer> snapshot = new java.util.TreeMap<>();
    active.forEach((k, v) -> snapshot.put(k, v.get()));
    return snapshot;
  }
}

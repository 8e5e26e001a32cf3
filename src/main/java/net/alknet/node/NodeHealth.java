package net.alknet.node;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness (HTTP-7): up while the endpoint is listening and accepting connections; down before
 * {@code serve} has bound its port and from the moment graceful shutdown begins, so a load balancer
 * stops sending new connections first.
 */
@Readiness
@ApplicationScoped
public class NodeHealth implements HealthCheck {

  private final Node node;

  public NodeHealth(Node node) {
    this.node = node;
  }

  @Override
  public HealthCheckResponse call() {
    var builder = HealthCheckResponse.named("alknet-endpoint");
    var server = node.endpoint().orElse(null);
    if (server == null) {
      return builder.down().withData("reason", "endpoint not started").build();
    }
    return builder
        .status(server.isAccepting())
        .withData("port", server.port())
        .withData("alpns", String.join(",", server.registry().alpns()))
        .withData("openConnections", server.status().openConnections())
        .build();
  }
}

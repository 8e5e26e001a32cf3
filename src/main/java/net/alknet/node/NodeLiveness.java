package net.alknet.node;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Liveness: the process answers and its endpoint has not terminated on its own. A node that is
 * draining for shutdown is still live (readiness reports the drain).
 */
@Liveness
@ApplicationScoped
public class NodeLiveness implements HealthCheck {

  private final Node node;

  public NodeLiveness(Node node) {
    this.node = node;
  }

  @Override
  public HealthCheckResponse call() {
    boolean terminated = node.endpoint().map(s -> s.terminated().isDone()).orElse(false);
    return HealthCheckResponse.named("alknet-process").status(!terminated).build();
  }
}

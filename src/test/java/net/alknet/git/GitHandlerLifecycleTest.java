package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import net.alknet.node.Node;
import org.junit.jupiter.api.Test;

/**
 * The git handler across the node's lifecycle: requests served in the shutdown grace period start
 * no maintenance (nothing would stop its threads), and the next start brings it back.
 */
@QuarkusTest
class GitHandlerLifecycleTest {

  @Inject Node node;
  @Inject GitHandler git;

  @Test
  void noMaintenanceAfterShutdownUntilTheNextStart() throws Exception {
    Path dir = Files.createTempDirectory("alknet-git-lifecycle");
    Node.Overrides overrides =
        new Node.Overrides(Optional.of(dir), OptionalInt.of(0), Optional.of("127.0.0.1"));
    node.start(overrides);
    try {
      assertTrue(git.maintenanceEnabled(), "maintenance while the node runs");
      git.shutdown();
      assertFalse(git.maintenanceEnabled(), "maintenance for a request in the grace period");
    } finally {
      node.stop();
    }
    node.start(overrides);
    try {
      assertTrue(git.maintenanceEnabled(), "maintenance after the next start");
    } finally {
      node.stop();
    }
  }
}

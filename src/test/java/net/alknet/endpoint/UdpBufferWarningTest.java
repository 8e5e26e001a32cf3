package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The node's warning when the kernel caps its UDP receive buffer (net.core.rmem_max). */
class UdpBufferWarningTest {

  static final int ASKED = 4 << 20;

  @Test
  void aCappedBufferIsNamedWithTheSysctlThatLiftsIt() {
    // Debian's default rmem_max is 212992; Linux reports twice what it granted.
    Optional<String> w = EndpointServer.udpBufferWarning(2 * 212992, ASKED);
    assertTrue(w.isPresent());
    assertTrue(w.get().startsWith("the UDP receive buffer is 208 KiB, not the 4096 KiB"), w.get());
    assertTrue(w.get().contains("sysctl -w net.core.rmem_max=4194304"), w.get());
    assertTrue(EndpointServer.udpBufferWarning(2 * ASKED - 1, ASKED).isPresent());
  }

  @Test
  void aBufferAsLargeAsAskedOrUnknownGivesNoWarning() {
    assertEquals(Optional.empty(), EndpointServer.udpBufferWarning(2 * ASKED, ASKED));
    assertEquals(Optional.empty(), EndpointServer.udpBufferWarning(null, ASKED));
  }
}

package net.alknet.ssh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import net.alknet.auth.Identity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The forwarding policy called directly: allow/deny matrix and config parsing (SSH-2). */
class StaticForwardingPolicyTest {

  static Identity with(String... scopes) {
    return new Identity("SHA256:x", "x", Set.of(scopes), Identity.Proof.PUBLIC_KEY);
  }

  static final Identity FORWARDER = with("ssh:forward");
  static final StaticForwardingPolicy DEFAULTS =
      StaticForwardingPolicy.of(List.of("localhost:*", "127.0.0.1:*", "[::1]:*"), List.of());

  @ParameterizedTest
  @CsvSource({
    // host, port, allowed by the default (loopback) destinations
    "127.0.0.1, 22, true",
    "localhost, 8080, true",
    "LOCALHOST, 8080, true",
    "::1, 5432, true",
    "127.1, 22, false", // literal matching: another spelling is not the pattern
    "127.0.0.2, 22, false",
    "10.0.0.1, 22, false",
    "example.com, 443, false",
    "'', 22, false",
  })
  void defaultDestinationsAreLoopbackOnly(String host, int port, boolean allowed) {
    assertEquals(allowed, DEFAULTS.connect(FORWARDER, host, port).allowed(), host + ":" + port);
  }

  @Test
  void everyForwardNeedsTheScope() {
    for (Identity who : List.of(with(), with("git"), with("ssh:shell"), Identity.anonymous())) {
      ForwardingPolicy.Decision d = DEFAULTS.connect(who, "127.0.0.1", 22);
      assertFalse(d.allowed());
      assertTrue(d.reason().contains("ssh:forward"), d.reason());
    }
    assertTrue(DEFAULTS.connect(with("ssh"), "127.0.0.1", 22).allowed());
    assertTrue(DEFAULTS.connect(with("*"), "127.0.0.1", 22).allowed());
  }

  @Test
  void portsAndRangesAndWildcardHosts() {
    StaticForwardingPolicy p =
        StaticForwardingPolicy.of(List.of("db.internal:5432", "*:8000-8099"), List.of());
    assertTrue(p.connect(FORWARDER, "db.internal", 5432).allowed());
    assertFalse(p.connect(FORWARDER, "db.internal", 5433).allowed());
    assertTrue(p.connect(FORWARDER, "anything", 8000).allowed());
    assertTrue(p.connect(FORWARDER, "anything", 8099).allowed());
    assertFalse(p.connect(FORWARDER, "anything", 8100).allowed());
    assertFalse(p.connect(FORWARDER, "127.0.0.1", 22).allowed());
  }

  @Test
  void noneRefusesEveryLocalForward() {
    StaticForwardingPolicy p = StaticForwardingPolicy.of(List.of("none"), List.of());
    assertFalse(p.connect(FORWARDER, "127.0.0.1", 22).allowed());
  }

  @Test
  void remoteForwardsAreDeniedByDefault() {
    assertFalse(DEFAULTS.listen(FORWARDER, "localhost", 8080).allowed());
    assertFalse(DEFAULTS.listen(FORWARDER, "localhost", 0).allowed());
  }

  @Test
  void remoteForwardsListenOnLoopbackAndAllowedPortsOnly() {
    StaticForwardingPolicy p = StaticForwardingPolicy.of(List.of("none"), List.of("9000-9009"));
    assertTrue(p.listen(FORWARDER, "localhost", 9000).allowed());
    assertTrue(p.listen(FORWARDER, "127.0.0.1", 9009).allowed());
    assertTrue(p.listen(FORWARDER, "::1", 9005).allowed());
    assertFalse(p.listen(FORWARDER, "localhost", 9010).allowed());
    assertFalse(p.listen(FORWARDER, "", 9000).allowed(), "all interfaces");
    assertFalse(p.listen(FORWARDER, "0.0.0.0", 9000).allowed());
    assertFalse(p.listen(FORWARDER, "*", 9000).allowed());
    assertFalse(p.listen(FORWARDER, "localhost", 0).allowed(), "node-picked port needs *");
    assertFalse(p.listen(with("git"), "localhost", 9000).allowed());
    StaticForwardingPolicy any = StaticForwardingPolicy.of(List.of(), List.of("*"));
    assertTrue(any.listen(FORWARDER, "localhost", 0).allowed());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost",
        "localhost:",
        ":22",
        "::1:22",
        "[::1]22",
        "[::1",
        "host:0",
        "host:65536",
        "host:22-21",
        "host:abc",
        "host:-5",
        "ho st:22"
      })
  void badDestinationsFailNamingTheValue(String bad) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> StaticForwardingPolicy.of(List.of(bad), List.of()));
    assertTrue(e.getMessage().contains(bad.strip()), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "70000", "x", "10-5", "1-2-3", ""})
  void badRemotePortsFail(String bad) {
    if (bad.isEmpty()) {
      // an empty entry is skipped, like "none"
      assertFalse(
          StaticForwardingPolicy.of(List.of(), List.of(bad))
              .listen(FORWARDER, "localhost", 1)
              .allowed());
      return;
    }
    assertThrows(
        IllegalArgumentException.class, () -> StaticForwardingPolicy.of(List.of(), List.of(bad)));
  }
}

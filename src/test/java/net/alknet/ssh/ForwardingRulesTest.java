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

/**
 * The forwarding policy called directly: allow/deny matrix, the static settings, the dynamic {@code
 * forwarding} file and its parser (SSH-2).
 */
class ForwardingRulesTest {

  static Identity with(String... scopes) {
    return new Identity("SHA256:x", "x", Set.of(scopes), Identity.Proof.PUBLIC_KEY);
  }

  static final Identity FORWARDER = with("ssh:forward");

  /** The policy of the static settings alone (no forwarding file). */
  static ForwardingPolicy settings(List<String> destinations, List<String> remotePorts) {
    return new RulesForwardingPolicy(
        ForwardingRules.fromSettings(destinations, remotePorts), () -> ForwardingRules.NONE);
  }

  static final ForwardingPolicy DEFAULTS =
      settings(List.of("localhost:*", "127.0.0.1:*", "[::1]:*"), List.of());

  @ParameterizedTest
  @CsvSource({
    // host, port, allowed by the default (loopback) destinations
    "127.0.0.1, 22, true",
    "localhost, 8080, true",
    "LOCALHOST, 8080, true",
    "::1, 5432, true",
    "0:0:0:0:0:0:0:1, 5432, true", // how Java prints ::1 (alknet socks passes it on so)
    "0000:0000::0001, 5432, true",
    "::ffff:127.0.0.1, 22, true", // IPv4-mapped: the same address
    "::2, 22, false",
    "::ffff:127.0.0.2, 22, false",
    "127.1, 22, false", // literal matching: another spelling is not the pattern
    "127.0.0.2, 22, false",
    "10.0.0.1, 22, false",
    "example.com, 443, false",
    "'', 22, false",
  })
  void defaultDestinationsAreLoopbackOnly(String host, int port, boolean allowed) {
    assertEquals(allowed, DEFAULTS.connect(FORWARDER, host, port).allowed(), host + ":" + port);
  }

  @ParameterizedTest
  @CsvSource({
    "::1, ::1",
    "0:0:0:0:0:0:0:1, ::1",
    "::, ::",
    "2001:DB8:0:0:1:0:0:1, 2001:db8::1:0:0:1", // the first of two equal runs
    "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1", // one zero group stays
    "fe80:0:0:0:0:0:0:1%eth0, fe80:0:0:0:0:0:0:1%eth0", // scoped: as written
    "1:2:3:4:5:6:7, 1:2:3:4:5:6:7", // not an address: as written, no lookup
    ".:1, .:1", // nor are these (the JDK would have looked them up as names unbracketed)
    "..:, ..:",
    "１::1, １::1", // a fullwidth digit is no hex digit
    "Example.COM, example.com",
  })
  void ipv6LiteralsHaveOneSpelling(String in, String expected) {
    assertEquals(expected, HostPortPattern.normalize(in));
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
    ForwardingPolicy p = settings(List.of("db.internal:5432", "*:8000-8099"), List.of());
    assertTrue(p.connect(FORWARDER, "db.internal", 5432).allowed());
    assertFalse(p.connect(FORWARDER, "db.internal", 5433).allowed());
    assertTrue(p.connect(FORWARDER, "anything", 8000).allowed());
    assertTrue(p.connect(FORWARDER, "anything", 8099).allowed());
    assertFalse(p.connect(FORWARDER, "anything", 8100).allowed());
    assertFalse(p.connect(FORWARDER, "127.0.0.1", 22).allowed());
  }

  @Test
  void noneRefusesEveryLocalForward() {
    ForwardingPolicy p = settings(List.of("none"), List.of());
    assertFalse(p.connect(FORWARDER, "127.0.0.1", 22).allowed());
  }

  @Test
  void remoteForwardsAreDeniedByDefault() {
    assertFalse(DEFAULTS.listen(FORWARDER, "localhost", 8080).allowed());
    assertFalse(DEFAULTS.listen(FORWARDER, "localhost", 0).allowed());
  }

  @Test
  void remoteForwardsListenOnLoopbackAndAllowedPortsOnly() {
    ForwardingPolicy p = settings(List.of("none"), List.of("9000-9009"));
    assertTrue(p.listen(FORWARDER, "localhost", 9000).allowed());
    assertTrue(p.listen(FORWARDER, "127.0.0.1", 9009).allowed());
    assertTrue(p.listen(FORWARDER, "::1", 9005).allowed());
    assertFalse(p.listen(FORWARDER, "localhost", 9010).allowed());
    assertFalse(p.listen(FORWARDER, "", 9000).allowed(), "all interfaces");
    assertFalse(p.listen(FORWARDER, "0.0.0.0", 9000).allowed());
    assertFalse(p.listen(FORWARDER, "*", 9000).allowed());
    assertFalse(p.listen(FORWARDER, "localhost", 0).allowed(), "node-picked port needs *");
    assertFalse(p.listen(with("git"), "localhost", 9000).allowed());
    ForwardingPolicy any = settings(List.of(), List.of("*"));
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
        assertThrows(IllegalArgumentException.class, () -> settings(List.of(bad), List.of()));
    assertTrue(e.getMessage().contains(bad.strip()), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "70000", "x", "10-5", "1-2-3", ""})
  void badRemotePortsFail(String bad) {
    if (bad.isEmpty()) {
      // an empty entry is skipped, like "none"
      assertFalse(settings(List.of(), List.of(bad)).listen(FORWARDER, "localhost", 1).allowed());
      return;
    }
    assertThrows(IllegalArgumentException.class, () -> settings(List.of(), List.of(bad)));
  }

  // ---- the dynamic forwarding file ----

  static final String FILE =
      String.join(
          "\n",
          "# forwarding rules",
          "",
          "connect       db.internal:5432,[::1]:8000-8099   scopes=team-db",
          "listen        9100-9199                          scopes=team-db,ops",
          "listen        *:9200                             scopes=ops",
          "connect-unix  /run/app/*.sock,/run/db.sock       scopes=team-db",
          "listen-unix   /tmp/alknet-?.sock                 scopes=ops",
          "");

  static ForwardingPolicy file(String text) throws Exception {
    return new RulesForwardingPolicy(ForwardingRules.NONE, () -> parse(text));
  }

  static ForwardingRules parse(String text) {
    try {
      return ForwardingRules.parse(text);
    } catch (net.alknet.auth.ConfigFormatException e) {
      throw new AssertionError(e.getMessage());
    }
  }

  @Test
  void fileRulesAllowPerScope() throws Exception {
    ForwardingPolicy p = file(FILE);
    Identity team = with("team-db");
    Identity ops = with("ops");
    assertTrue(p.connect(team, "db.internal", 5432).allowed());
    assertTrue(p.connect(team, "::1", 8050).allowed());
    assertFalse(p.connect(team, "db.internal", 5433).allowed());
    assertFalse(p.connect(ops, "db.internal", 5432).allowed());
    assertFalse(p.connect(FORWARDER, "db.internal", 5432).allowed(), "ssh:forward is no wildcard");
    assertTrue(p.connect(with("*"), "db.internal", 5432).allowed());

    assertTrue(p.listen(team, "localhost", 9100).allowed());
    assertFalse(p.listen(team, "", 9100).allowed(), "loopback only without a host");
    assertTrue(p.listen(ops, "127.0.0.1", 9199).allowed());
    assertTrue(p.listen(ops, "", 9200).allowed(), "*: all interfaces");
    assertTrue(p.listen(ops, "0.0.0.0", 9200).allowed());
    assertFalse(p.listen(team, "", 9200).allowed());

    assertTrue(p.connectUnix(team, "/run/app/api.sock").allowed());
    assertTrue(p.connectUnix(team, "/run/db.sock").allowed());
    assertFalse(p.connectUnix(team, "/run/app/sub/api.sock").allowed(), "* stays in a segment");
    assertFalse(p.connectUnix(team, "/run/app/../../etc/x.sock").allowed());
    assertFalse(p.connectUnix(team, "/run/app//api.sock").allowed());
    assertFalse(p.connectUnix(team, "run/app/api.sock").allowed());
    assertFalse(p.connectUnix(team, "/run/app/a\u0000.sock").allowed());
    // A name the JVM cannot turn into a file name (here an unpaired surrogate; non-ASCII under
    // LANG=C) is refused, not thrown out of the policy (which ended the session).
    var unnameable = p.connectUnix(team, "/run/app/\ud800.sock");
    assertFalse(unnameable.allowed());
    assertTrue(unnameable.reason().contains("cannot be a file name"), unnameable.reason());
    assertFalse(p.listenUnix(team, "/run/app/\ud800.sock").allowed());
    assertFalse(p.connectUnix(team, "/run/app/" + "x".repeat(200) + ".sock").allowed());
    assertFalse(p.connectUnix(ops, "/run/app/api.sock").allowed());
    assertFalse(p.listenUnix(team, "/run/app/api.sock").allowed(), "connect-unix is not listen");
    assertTrue(p.listenUnix(ops, "/tmp/alknet-a.sock").allowed());
    assertFalse(p.listenUnix(ops, "/tmp/alknet-ab.sock").allowed());
  }

  @Test
  void denialsSayWhichScopesWouldDo() throws Exception {
    ForwardingPolicy.Decision d = file(FILE).connect(with("git"), "db.internal", 5432);
    assertFalse(d.allowed());
    assertTrue(d.reason().contains("[team-db]"), d.reason());
    d = file(FILE).connect(with("team-db"), "db.internal", 1);
    assertTrue(d.reason().contains("db.internal:1"), d.reason());
    d = file("").connectUnix(FORWARDER, "/run/x.sock");
    assertTrue(d.reason().contains("no connect-unix rules"), d.reason());
    d = DEFAULTS.connectUnix(FORWARDER, "relative.sock");
    assertTrue(d.reason().contains("not absolute"), d.reason());
  }

  @Test
  void settingsAndFileAddUp() {
    java.util.concurrent.atomic.AtomicReference<ForwardingRules> current =
        new java.util.concurrent.atomic.AtomicReference<>(ForwardingRules.NONE);
    ForwardingPolicy p =
        new RulesForwardingPolicy(
            ForwardingRules.fromSettings(List.of("127.0.0.1:*"), List.of()), current::get);
    assertTrue(p.connect(FORWARDER, "127.0.0.1", 80).allowed());
    assertFalse(p.connect(FORWARDER, "10.1.1.1", 80).allowed());
    current.set(parse("connect 10.1.1.1:80 scopes=ssh:forward"));
    assertTrue(p.connect(FORWARDER, "10.1.1.1", 80).allowed(), "a reload applies at once");
    assertTrue(p.connect(FORWARDER, "127.0.0.1", 80).allowed());
    current.set(ForwardingRules.NONE);
    assertFalse(p.connect(FORWARDER, "10.1.1.1", 80).allowed());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "connect",
        "connect 127.0.0.1:22",
        "connect 127.0.0.1:22 scope=x",
        "connect 127.0.0.1:22 scopes=",
        "connect 127.0.0.1:22 scopes=a,,b",
        "connect 127.0.0.1:22 scopes=a extra",
        "connect 127.0.0.1:22, scopes=a",
        "connect 127.0.0.1 scopes=a",
        "connec 127.0.0.1:22 scopes=a",
        "listen 0 scopes=a",
        "listen host:70000 scopes=a",
        "connect-unix relative.sock scopes=a",
        "connect-unix /run/../x.sock scopes=a",
        "connect-unix /run/**/x.sock scopes=a",
        "connect-unix /run/[ab].sock scopes=a",
        "listen-unix /run/{a,b}.sock scopes=a",
        "connect \u0000:22 scopes=a",
      })
  void badLinesNameTheLine(String bad) {
    net.alknet.auth.ConfigFormatException e =
        assertThrows(
            net.alknet.auth.ConfigFormatException.class,
            () -> ForwardingRules.parse("# ok\nconnect localhost:1 scopes=a\n" + bad + "\n"));
    assertEquals(3, e.line(), e.getMessage());
    assertTrue(e.getMessage().startsWith("forwarding:3: "), e.getMessage());
  }

  @Test
  void hostileFilesFailCleanly() {
    assertThrows(
        net.alknet.auth.ConfigFormatException.class,
        () -> ForwardingRules.parse("#".repeat(ForwardingRules.MAX_FILE + 1)));
    String many = "connect localhost:1 scopes=a\n".repeat(10_000);
    assertEquals(10_000, parse(many).size());
    assertEquals(0, parse("\n\n   \n# only comments\n").size());
  }
}

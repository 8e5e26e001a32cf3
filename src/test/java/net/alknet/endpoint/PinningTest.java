package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** EP-9: trust by pinned fingerprint and by known_nodes (trust on first use). */
class PinningTest {

  private final TestNodes nodes = new TestNodes();
  @TempDir Path dir;

  @AfterEach
  void tearDown() {
    nodes.close();
  }

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  private static void within(int seconds, org.junit.jupiter.api.function.Executable e) {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(seconds), e);
  }

  private Connection connect(Trust trust, Transport t) throws IOException {
    EndpointClient c = nodes.client == null ? nodes.impatientClient() : nodes.client;
    return c.connect("127.0.0.1", nodes.server.port(), "test/echo", trust, t);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void firstUsePinsThenAcceptsThenRefusesAChangedKey(Transport t) {
    within(
        40,
        () -> {
          nodes.start(TestHandlers.echo("test/echo"));
          int port = nodes.server.port();
          Path file = dir.resolve("sub").resolve("known_nodes");
          KnownNodes known = new KnownNodes(file);

          Connection first = connect(Trust.knownNodes(known), t);
          assertEquals("one", TestNodes.exchange(first, "one"));
          first.close(CloseCode.NO_ERROR, "");
          List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
          assertEquals(List.of("127.0.0.1:" + port + " " + TestNodes.TLS.fingerprint()), lines);

          Connection second = connect(Trust.knownNodes(known), t);
          assertEquals("two", TestNodes.exchange(second, "two"));
          second.close(CloseCode.NO_ERROR, "");
          assertEquals(lines, Files.readAllLines(file, StandardCharsets.UTF_8), "pinned twice");

          // The node restarts on the same port with a new key.
          nodes.server.shutdown(Duration.ofMillis(200));
          TlsIdentity other = TlsIdentity.generate();
          nodes.start(
              other,
              EndpointLimits.DEFAULTS,
              EndpointServer.Options.loopback(port),
              TestHandlers.echo("test/echo"));
          assertEquals(port, nodes.server.port());
          IOException e =
              assertThrows(IOException.class, () -> connect(Trust.knownNodes(known), t));
          String m = e.getMessage();
          assertTrue(m.contains("CHANGED"), m);
          assertTrue(m.contains(TestNodes.TLS.fingerprint()), m);
          assertTrue(m.contains(other.fingerprint()), m);
          assertTrue(m.contains(file.toString()), m);
          assertEquals(lines, Files.readAllLines(file, StandardCharsets.UTF_8), "pin overwritten");
          assertTrue(
              TestNodes.eventually(
                  Duration.ofSeconds(3), () -> nodes.server.status().openConnections() == 0));
        });
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aWrongPinnedFingerprintIsRefused(Transport t) {
    within(
        30,
        () -> {
          nodes.start(TestHandlers.echo("test/echo"));
          String wrong = TlsIdentity.generate().fingerprint();
          IOException e = assertThrows(IOException.class, () -> connect(Trust.pinned(wrong), t));
          assertTrue(e.getMessage().contains(wrong), e.getMessage());
          assertTrue(e.getMessage().contains(TestNodes.TLS.fingerprint()), e.getMessage());
          // the right pin works on the same node
          Connection ok = connect(Trust.pinned(TestNodes.TLS.fingerprint()), t);
          assertEquals("ok", TestNodes.exchange(ok, "ok"));
          ok.close(CloseCode.NO_ERROR, "");
        });
  }

  @Test
  void aMalformedKnownNodesLineNamesFileAndLine() {
    within(
        30,
        () -> {
          nodes.start(TestHandlers.echo("test/echo"));
          Path file = dir.resolve("known_nodes");
          Files.writeString(
              file,
              "# pins\n\nexample.org:7443 SHA256:abc\nthis-line-is-broken\n",
              StandardCharsets.UTF_8);
          KnownNodes known = new KnownNodes(file);
          IOException direct = assertThrows(IOException.class, () -> known.lookup("x:1"));
          assertTrue(direct.getMessage().contains(file + ":4"), direct.getMessage());
          for (Transport t : Transport.values()) {
            IOException e =
                assertThrows(IOException.class, () -> connect(Trust.knownNodes(known), t));
            assertTrue(e.getMessage().contains(file + ":4"), e.getMessage());
            assertTrue(e.getMessage().contains("expected"), e.getMessage());
          }
          // nothing was appended to a file we could not read
          assertFalse(Files.readString(file).contains("127.0.0.1"));
        });
  }
}

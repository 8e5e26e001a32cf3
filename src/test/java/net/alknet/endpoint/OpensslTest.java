package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** EP-4 with a stock TLS client: {@code openssl s_client}. */
class OpensslTest {

  private final TestNodes nodes = new TestNodes();

  @BeforeAll
  static void needsOpenssl() {
    boolean found = false;
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!d.isEmpty() && Files.isExecutable(new File(d, "openssl").toPath())) {
        found = true;
        break;
      }
    }
    Assumptions.assumeTrue(found, "openssl is not on PATH");
  }

  @AfterEach
  void tearDown() {
    nodes.close();
  }

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  /** A running s_client whose merged stdout/stderr is collected in the background. */
  static final class SClient implements AutoCloseable {
    final Process process;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final Thread pump;

    SClient(List<String> args) throws IOException {
      List<String> cmd = new ArrayList<>(List.of("openssl", "s_client"));
      cmd.addAll(args);
      process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      pump =
          new Thread(
              () -> {
                byte[] buf = new byte[4096];
                try (InputStream in = process.getInputStream()) {
                  int n;
                  while ((n = in.read(buf)) >= 0) {
                    synchronized (out) {
                      out.write(buf, 0, n);
                    }
                  }
                } catch (IOException ignored) {
                  // process gone
                }
              },
              "s_client-output");
      pump.setDaemon(true);
      pump.start();
    }

    String output() {
      synchronized (out) {
        return out.toString(StandardCharsets.UTF_8);
      }
    }

    boolean awaitOutput(Duration max, Predicate<String> p) throws InterruptedException {
      return TestNodes.eventually(max, () -> p.test(output()));
    }

    OutputStream stdin() {
      return process.getOutputStream();
    }

    int awaitExit(Duration max) throws InterruptedException {
      assertTrue(
          process.waitFor(max.toMillis(), TimeUnit.MILLISECONDS),
          "s_client did not exit; output:\n" + output());
      pump.join(2000);
      return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(3, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(3, TimeUnit.SECONDS);
      }
    }
  }

  private List<String> args(String... extra) {
    List<String> a =
        new ArrayList<>(
            List.of("-connect", "127.0.0.1:" + nodes.server.port(), "-tls1_3", "-ign_eof"));
    a.addAll(List.of(extra));
    return a;
  }

  private void start(String defaultAlpn) throws IOException {
    nodes.start(
        EndpointLimits.DEFAULTS,
        EndpointServer.Options.loopback(0).withDefaultAlpn(defaultAlpn),
        new TestHandlers.StreamingEcho("test/echo"),
        TestHandlers.upper("test/upper"));
  }

  @Test
  void negotiatesTheAlpnAndEchoesThroughStdinAndStdout() {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          start("test/upper");
          try (SClient s = new SClient(args("-alpn", "test/echo"))) {
            assertTrue(
                s.awaitOutput(Duration.ofSeconds(10), o -> o.contains("ALPN protocol: test/echo")),
                s.output());
            s.stdin().write("hello from openssl\n".getBytes(StandardCharsets.UTF_8));
            s.stdin().flush();
            assertTrue(
                s.awaitOutput(
                    Duration.ofSeconds(10),
                    o -> o.lines().anyMatch(l -> l.equals("hello from openssl"))),
                s.output());
          }
          assertTrue(
              TestNodes.eventually(
                  Duration.ofSeconds(5), () -> nodes.server.status().openConnections() == 0));
        });
  }

  @Test
  void anUnservedAlpnGetsTheNoApplicationProtocolAlert() {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          start("test/echo");
          try (SClient s = new SClient(args("-alpn", "bogus"))) {
            s.stdin().close();
            s.awaitExit(Duration.ofSeconds(10));
            String o = s.output();
            assertTrue(o.contains("no application protocol") || o.contains("alert number 120"), o);
          }
          assertTrue(
              TestNodes.eventually(
                  Duration.ofSeconds(3),
                  () ->
                      nodes.count(
                              "alknet.handshake.failures",
                              "reason",
                              "no_application_protocol",
                              "transport",
                              "tcp")
                          == 1.0),
              "handshake failure not counted as no_application_protocol: "
                  + nodes.meters.find("alknet.handshake.failures").counters().stream()
                      .map(c -> c.getId() + "=" + c.count())
                      .toList());
          assertEquals(0, nodes.server.status().openConnections());
        });
  }

  @Test
  void aClientOfferingNoAlpnGoesToTheDefaultHandler() {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          start("test/echo");
          try (SClient s = new SClient(args())) {
            assertTrue(
                s.awaitOutput(Duration.ofSeconds(10), o -> o.contains("No ALPN negotiated")),
                s.output());
            s.stdin().write("no alpn here\n".getBytes(StandardCharsets.UTF_8));
            s.stdin().flush();
            assertTrue(
                s.awaitOutput(
                    Duration.ofSeconds(10), o -> o.lines().anyMatch(l -> l.equals("no alpn here"))),
                s.output());
            assertEquals(
                1.0,
                nodes.count(
                    "alknet.connections.accepted", "alpn", "test/echo", "transport", "tcp"));
          }
        });
  }
}

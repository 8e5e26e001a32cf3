package net.alknet.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import net.alknet.auth.ApiKeys;
import net.alknet.auth.NewApiKey;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.node.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Stock curl against a node started by the test (HTTP-1..3): h2 and http/1.1 through the one port,
 * SSE with {@code curl -N}, and a curl killed mid-stream aborting its subscription on the node.
 */
@QuarkusTest
@Timeout(90)
class HttpCurlE2ETest {

  static final NewApiKey KEY = ApiKeys.generate();

  @Inject Node node;
  String base;
  final List<Process> processes = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    assumeTrue(
        System.getenv("ALKNET_E2E_REQUIRE") != null || onPath("curl"), "curl is not installed");
    Path dir = Files.createTempDirectory("alknet-curl");
    Files.writeString(dir.resolve("api_keys"), "curl " + KEY.hash() + " scopes=call\n");
    node.start(new Node.Overrides(Optional.of(dir), OptionalInt.of(0), Optional.of("127.0.0.1")));
    base = "https://127.0.0.1:" + node.endpoint().orElseThrow().port();
  }

  @AfterEach
  void stop() {
    processes.forEach(Process::destroyForcibly);
    node.stop();
  }

  static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }

  Process curl(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-k"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    processes.add(p);
    return p;
  }

  /** Runs curl to the end; returns stdout. */
  String run(String... args) throws Exception {
    Process p = curl(args);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return out;
  }

  String bearer() {
    return "Authorization: Bearer " + KEY.key();
  }

  @Test
  void echoOverHttp2AndHttp11WithABearerApiKey() throws Exception {
    for (String[] v : new String[][] {{"--http2", "2"}, {"--http1.1", "1.1"}}) {
      String out =
          run(
              v[0],
              "-H",
              bearer(),
              "-H",
              "Content-Type: application/json",
              "-d",
              "{\"text\":\"hi " + v[1] + "\"}",
              "-w",
              "\n%{http_code} %{http_version}",
              base + "/v1/demo/echo");
      String[] lines = out.split("\n");
      assertEquals("{\"text\":\"hi " + v[1] + "\"}", lines[0]);
      assertEquals("200 " + v[1], lines[1], "status and negotiated HTTP version");
    }
    // curl has gone: the node closed both connections rather than leaving them half-open
    var server = node.endpoint().orElseThrow();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (server.status().openConnections() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(0, server.status().openConnections(), "connections left open after curl exited");
  }

  @Test
  void streamsTicksAsServerSentEvents() throws Exception {
    String out =
        run(
            "-N",
            "--http2",
            "-H",
            bearer(),
            "-H",
            "Accept: text/event-stream",
            base + "/v1/demo/ticks?count=3&intervalMs=20");
    List<String> data = out.lines().filter(l -> l.startsWith("data: {\"n\":")).toList();
    assertEquals(3, data.size(), out);
    assertTrue(out.contains("event: completed"), out);
  }

  @Test
  void killingCurlMidStreamAbortsTheSubscription() throws Exception {
    long cancelledBefore = tickers().get("cancelled").asLong();
    Process p =
        curl(
            "-N",
            "-H",
            bearer(),
            "-H",
            "Accept: text/event-stream",
            base + "/v1/demo/ticks?count=100000&intervalMs=20");
    BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    int events = 0;
    String line;
    while (events < 3 && (line = r.readLine()) != null) {
      if (line.startsWith("data: ")) {
        events++;
      }
    }
    assertEquals(3, events);
    assertEquals(1, tickers().get("running").asLong(), "the subscription runs");
    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    JsonNode t = tickers();
    while ((t.get("running").asLong() != 0 || t.get("cancelled").asLong() == cancelledBefore)
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
      t = tickers();
    }
    assertEquals(0, t.get("running").asLong(), "the node stopped the subscription: " + t);
    assertEquals(cancelledBefore + 1, t.get("cancelled").asLong(), t.toString());
  }

  JsonNode tickers() throws Exception {
    return EnvelopeCodec.json().readTree(run("-H", bearer(), base + "/v1/demo/tickers"));
  }

  @Test
  void missingOrInvalidTokenIs401AndUnknownOperationIs404Json() throws Exception {
    String missing = run("-i", "--http2", base + "/v1/demo/echo?text=x");
    assertTrue(missing.startsWith("HTTP/2 401"), missing);
    assertTrue(missing.toLowerCase().contains("www-authenticate: bearer"), missing);
    String invalid =
        run(
            "-w",
            "\n%{http_code}",
            "-H",
            "Authorization: Bearer alk_forged",
            base + "/v1/demo/echo?text=x");
    assertTrue(invalid.endsWith("\n401"), invalid);
    String unknown = run("-w", "\n%{http_code}", "-H", bearer(), base + "/v1/demo/nope");
    String[] parts = unknown.split("\n");
    assertEquals("404", parts[1]);
    assertEquals("NOT_FOUND", EnvelopeCodec.json().readTree(parts[0]).get("code").asText());
  }
}

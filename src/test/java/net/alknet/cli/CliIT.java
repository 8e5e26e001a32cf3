package net.alknet.cli;

import static net.alknet.testing.NodeProcesses.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end through the packaged application, as a user runs it: {@code alknet serve} on a free
 * port with its own data directory, then the other commands against it (CLI-1, CFG-2, EP-7, EP-10).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CliIT {

  @TempDir static Path tmp;
  private Path data;
  private Path clientData;
  private int port;
  private int managementPort;
  private Process node;
  private Path nodeLog;

  record Result(int exit, String out, String err) {}

  Result run(byte[] stdin, String... args) throws Exception {
    List<String> cmd = jvm();
    cmd.add("-jar");
    cmd.add(runner().toString());
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(tmp, "out", ".bin");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin);
      }
    }
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", args));
    }
    return new Result(
        p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1), Files.readString(err));
  }

  /** {@code bin/alknet} of the checkout whose packaged application is under test. */
  static Path launcher() {
    return runner().getParent().getParent().getParent().resolve("bin/alknet");
  }

  /** A started {@code bin/alknet}: the process and where its stdout and stderr go. */
  record Launched(Process process, Path out, Path err, String what) {
    Result finish() throws Exception {
      if (!process.waitFor(90, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("timed out: " + what);
      }
      return new Result(
          process.exitValue(),
          Files.readString(out, StandardCharsets.ISO_8859_1),
          Files.readString(err));
    }
  }

  /**
   * Starts a launcher (so {@code bridge} and {@code git-remote} take the standalone client path)
   * with this JVM's {@code java} first on PATH, HOME in the test's directory, no ALKNET_* variables
   * of the caller's, and the given extra environment (XDG_CACHE_HOME, ALKNET_CDS, ALKNET_DATA_DIR,
   * ALKNET_JAVA_OPTS...).
   */
  Launched start(Path launcher, Map<String, String> env, byte[] stdin, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(launcher.toString()));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(tmp, "out", ".bin");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("ALKNET_"));
    pb.environment()
        .put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
    pb.environment().put("HOME", tmp.resolve("home").toString());
    pb.environment().put("XDG_CACHE_HOME", tmp.resolve("cache-default").toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin);
      }
    }
    return new Launched(p, out, err, launcher + " " + String.join(" ", args));
  }

  /** {@code bin/alknet args} to completion; see {@link #start}. */
  Result launch(Map<String, String> env, byte[] stdin, String... args) throws Exception {
    return start(launcher(), env, stdin, args).finish();
  }

  @BeforeAll
  void startNode() throws Exception {
    data = tmp.resolve("node");
    clientData = tmp.resolve("client");
    port = freePort();
    managementPort = freePort();
    // The client's key, authorized on the node before it starts.
    Result keygen = run(null, "keygen", "--data-dir", clientData.toString(), "--comment", "alice");
    assertEquals(0, keygen.exit(), keygen.err());
    assertTrue(keygen.out().startsWith("ssh-ed25519 "), keygen.out());
    Files.createDirectories(data);
    Files.writeString(data.resolve("authorized_keys"), "scopes=\"call\" " + keygen.out());

    nodeLog = tmp.resolve("node.log");
    node =
        serve(
            List.of(
                "-Dquarkus.management.port=" + managementPort,
                "-Dalknet.endpoint.shutdown-grace=2s",
                "-Dalknet.dynamic.poll-interval=500ms"),
            onLoopback(data, port),
            nodeLog,
            LISTENING,
            Duration.ofSeconds(60));
  }

  @AfterAll
  void stopNode() throws Exception {
    if (node != null && node.isAlive()) {
      node.destroyForcibly();
    }
  }

  @Test
  void helpOnEveryCommand() throws Exception {
    for (String c : List.of("serve", "keygen", "token", "apikey", "bridge", "reload", "status")) {
      Result r = run(null, c, "--help");
      assertEquals(0, r.exit(), c + ": " + r.err());
      assertTrue(r.out().contains("Usage: alknet " + c), c + ": " + r.out());
    }
    Result top = run(null, "--help");
    assertTrue(top.out().contains("bridge"), top.out());
  }

  @Test
  void usageErrorsAreOneLineAndExitTwo() throws Exception {
    Result r = run(null, "bridge", "127.0.0.1:1");
    assertEquals(2, r.exit());
    assertTrue(r.err().startsWith("alknet: Missing required option: '--alpn=ALPN'"), r.err());
    assertFalse(r.err().contains("\tat "), r.err());
  }

  @Test
  void bridgeEchoesOverQuicAndTcpAndPinsTheNode() throws Exception {
    byte[] payload = new byte[2 * 1024 * 1024 + 3];
    new Random(7).nextBytes(payload);
    for (String transport : List.of("quic", "tcp")) {
      List<String> args =
          new ArrayList<>(
              List.of("bridge", "--data-dir", clientData.toString(), "--alpn", "alknet/echo"));
      if (transport.equals("tcp")) {
        args.add("--tcp");
      }
      args.add("127.0.0.1:" + port);
      Result r = run(payload, args.toArray(new String[0]));
      assertEquals(0, r.exit(), transport + ": " + r.err());
      assertTrue(
          java.util.Arrays.equals(payload, r.out().getBytes(StandardCharsets.ISO_8859_1)),
          transport + ": echo differs, got " + r.out().length() + " bytes");
    }
    String known = Files.readString(clientData.resolve("known_nodes"));
    assertTrue(known.lines().anyMatch(l -> l.startsWith("127.0.0.1:" + port + " SHA256:")), known);
    // The node resolved the client certificate's key to alice's identity on both transports.
    String fp = fingerprint();
    String log = Files.readString(nodeLog);
    for (String transport : List.of("quic", "tcp")) {
      assertTrue(
          log.contains("alpn=alknet/echo transport=" + transport)
              && log.lines()
                  .anyMatch(
                      l -> l.contains("transport=" + transport) && l.contains("identity=" + fp)),
          transport + ": identity " + fp + " not in node log:\n" + log);
    }
  }

  @Test
  void unknownAlpnIsOneClearLine() throws Exception {
    Result r =
        run(
            "x".getBytes(),
            "bridge",
            "--data-dir",
            clientData.toString(),
            "--tcp",
            "--alpn",
            "alknet/nope",
            "127.0.0.1:" + port);
    assertEquals(1, r.exit());
    assertTrue(r.err().contains("alknet: cannot connect to 127.0.0.1:" + port), r.err());
    assertTrue(r.err().contains("does not serve that ALPN"), r.err());
  }

  @Test
  void statusReloadAndMetrics() throws Exception {
    Result s = run(null, "status", "--data-dir", data.toString());
    assertEquals(0, s.exit(), s.err());
    assertTrue(s.out().contains("alknet/echo"), s.out());
    assertTrue(s.out().contains("127.0.0.1:" + port), s.out());
    assertTrue(s.out().contains("1 authorized key(s)"), s.out());

    // A broken file: reload fails, old snapshot stays, exit 1 with the file and line.
    Path keys = data.resolve("authorized_keys");
    String good = Files.readString(keys);
    Files.writeString(keys, good + "ssh-rsa AAAAB3NzaC1yc2E bob\n");
    Result bad = run(null, "reload", "--data-dir", data.toString());
    assertEquals(1, bad.exit(), bad.out());
    assertTrue(bad.err().contains("authorized_keys:2"), bad.err());
    s = run(null, "status", "--data-dir", data.toString());
    assertTrue(s.out().contains("1 authorized key(s)"), s.out());

    // Fixed, and an API key appended by the CLI: picked up.
    Files.writeString(keys, good);
    Result key =
        run(
            null,
            "apikey",
            "create",
            "ci-bot",
            "--scopes",
            "call",
            "--append",
            "--data-dir",
            data.toString());
    assertEquals(0, key.exit(), key.err());
    assertTrue(key.out().strip().startsWith("alk_"), key.out());
    Result ok = run(null, "reload", "--data-dir", data.toString());
    assertEquals(0, ok.exit(), ok.err());
    s = run(null, "status", "--data-dir", data.toString());
    assertTrue(s.out().contains("1 API key(s)"), s.out());

    // HTTP/1.1, as a probe asks: no h2c upgrade attempt on the management port (see SshIT#metrics).
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    var ready =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + managementPort + "/q/health/ready"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, ready.statusCode(), ready.body());
    assertTrue(ready.body().contains("alknet-endpoint"), ready.body());
    var metrics =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/q/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertTrue(metrics.body().contains("alknet_config_reload_failures_total"), metrics.body());
  }

  @Test
  void tokenAndKeygenRefuseToOverwrite() throws Exception {
    Result t = run(null, "token", "--data-dir", clientData.toString());
    assertEquals(0, t.exit(), t.err());
    assertEquals(139, t.out().strip().length(), t.out());
    Result again = run(null, "keygen", "--data-dir", clientData.toString());
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("exists; use --force"), again.err());
    Result missing = run(null, "token", "--data-dir", tmp.resolve("nobody").toString());
    assertEquals(1, missing.exit());
    assertTrue(missing.err().contains("alknet keygen"), missing.err());
  }

  @Test
  void callCommandEchoesStreamsAndReportsErrors() throws Exception {
    String target = "127.0.0.1:" + port;
    String dd = clientData.toString();
    Result echo = run(null, "call", "--data-dir", dd, target, "demo/echo", "{\"text\":\"hi\"}");
    assertEquals(0, echo.exit(), echo.err());
    assertTrue(echo.out().replace(" ", "").contains("\"text\":\"hi\""), echo.out());

    Result who = run(null, "call", "--data-dir", dd, "--tcp", target, "demo/whoami");
    assertEquals(0, who.exit(), who.err());
    assertTrue(who.out().contains(fingerprint()), who.out());

    Result ticks =
        run(
            null,
            "call",
            "--data-dir",
            dd,
            "--stream",
            target,
            "demo/ticks",
            "{\"count\":3,\"intervalMs\":10}");
    assertEquals(0, ticks.exit(), ticks.err());
    assertEquals(3, ticks.out().strip().lines().count(), ticks.out());

    Result missing = run(null, "call", "--data-dir", dd, target, "demo/missing");
    assertEquals(1, missing.exit());
    assertTrue(missing.err().startsWith("alknet: NOT_FOUND: "), missing.err());
    assertFalse(missing.err().contains("\tat "), missing.err());
  }

  /**
   * CALL-12 across two real nodes: node B imports node A's operations as {@code a/...}; Ctrl-C on
   * {@code alknet call} against B aborts the call on B, which aborts the forwarded call on A, which
   * aborts its child {@code demo/sleep} there.
   */
  @Test
  void crossNodeAbortThroughAnImport() throws Exception {
    Path dataB = tmp.resolve("node-b");
    Files.createDirectories(dataB);
    Files.copy(data.resolve("authorized_keys"), dataB.resolve("authorized_keys"));
    int portB = freePort();
    String fpA =
        Files.readString(nodeLog)
            .lines()
            .filter(l -> l.contains("node certificate SHA256:"))
            .findFirst()
            .orElseThrow()
            .replaceAll(".*node certificate (SHA256:[^;]+);.*", "$1");
    Path logB = tmp.resolve("node-b.log");
    Process b =
        serve(
            List.of(
                "-Dquarkus.management.port=0",
                "-Dalknet.call.imports.a.target=127.0.0.1:" + port,
                "-Dalknet.call.imports.a.fingerprint=" + fpA,
                "-Dalknet.call.imports.a.key-file=" + clientData.resolve("id_ed25519")),
            onLoopback(dataB, portB),
            logB,
            LISTENING,
            Duration.ofSeconds(60));
    try {
      String dd = clientData.toString();
      // Through B: a/demo/echo is A's demo/echo.
      Result hop =
          run(
              null,
              "call",
              "--data-dir",
              dd,
              "127.0.0.1:" + portB,
              "a/demo/echo",
              "{\"text\":\"via b\"}");
      assertEquals(0, hop.exit(), hop.err() + "\n" + Files.readString(logB));
      assertTrue(hop.out().contains("via b"), hop.out());

      // A long nested call through B, interrupted with Ctrl-C.
      List<String> call = jvm();
      call.addAll(
          List.of(
              "-jar",
              runner().toString(),
              "call",
              "--data-dir",
              dd,
              "127.0.0.1:" + portB,
              "a/demo/nested",
              "{\"ms\":27003}"));
      Process p =
          new ProcessBuilder(call)
              .redirectErrorStream(true)
              .redirectOutput(tmp.resolve("ctrlc.log").toFile())
              .start();
      // Wait until the hop has reached A and its child sleep runs there, however loaded the
      // machine is; then Ctrl-C.
      long started = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        String running =
            run(null, "call", "--data-dir", dd, "127.0.0.1:" + port, "demo/sleeps")
                .out()
                .replace(" ", "")
                .replace("\n", "");
        if (running.contains("\"requestedMs\":27003,")
            && running.matches(
                ".*\"requestedMs\":27003,\"sleptMs\":\\d+,\"aborted\":false,\"running\":true.*")) {
          break;
        }
        if (System.nanoTime() > started || !p.isAlive()) {
          throw new AssertionError(
              "the nested call never reached A: "
                  + running
                  + "\n"
                  + Files.readString(tmp.resolve("ctrlc.log")));
        }
        Thread.sleep(200);
      }
      new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
      assertTrue(p.waitFor(20, TimeUnit.SECONDS), "alknet call did not exit on SIGINT");
      assertEquals(130, p.exitValue(), Files.readString(tmp.resolve("ctrlc.log")));

      // A's child sleep saw the abort.
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (true) {
        Result sleeps = run(null, "call", "--data-dir", dd, "127.0.0.1:" + port, "demo/sleeps");
        String compact = sleeps.out().replace(" ", "").replace("\n", "");
        if (compact.matches(
            ".*\"requestedMs\":27003,\"sleptMs\":\\d+,\"aborted\":true,\"running\":false.*")) {
          break;
        }
        if (System.nanoTime() > until) {
          throw new AssertionError("A never recorded the aborted child: " + sleeps.out());
        }
        Thread.sleep(300);
      }
    } finally {
      b.destroyForcibly();
    }
  }

  // ---- bridge and git-remote through bin/alknet: ClientMain, no Quarkus, AppCDS ----------------

  /**
   * The standalone client path prints the same help as the Quarkus top command, and nothing else.
   */
  @Test
  void clientCommandsHelpThroughTheLauncher() throws Exception {
    for (String c : List.of("bridge", "git-remote", "git-remote-alknet")) {
      Result fast = launch(Map.of(), null, c, "--help");
      assertEquals(0, fast.exit(), c + ": " + fast.err());
      String name = c.equals("git-remote-alknet") ? "git-remote" : c;
      assertTrue(fast.out().startsWith("Usage: alknet " + name + " "), c + ": " + fast.out());
      assertEquals("", fast.err(), c);
      assertEquals(run(null, c, "--help").out(), fast.out(), c);
    }
  }

  /**
   * The data directory ({@code --data-dir} over {@code -Dalknet.data-dir} over {@code
   * ALKNET_DATA_DIR}); the first contact pins the node with one log line; the node resolves the
   * client certificate (made without BouncyCastle) to alice over QUIC and TLS/TCP.
   */
  /**
   * When whatever reads the bridge's output goes away (ssh exiting, {@code | head}), the bridge
   * stops quietly, as a Unix filter does on SIGPIPE: no "failed: Broken pipe" on the terminal.
   */
  @Test
  void aBridgeWhoseReaderLeavesStopsQuietly() throws Exception {
    for (String transport : List.of("quic", "tcp")) {
      List<String> cmd = new ArrayList<>(List.of(launcher().toString(), "bridge"));
      cmd.addAll(List.of("--data-dir", clientData.toString(), "--alpn", "alknet/echo"));
      if (transport.equals("tcp")) {
        cmd.add("--tcp");
      }
      cmd.add("127.0.0.1:" + port);
      Path err = tmp.resolve("bridge-epipe-" + transport + ".err");
      Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
      Thread feed =
          new Thread(
              () -> {
                byte[] chunk = new byte[64 * 1024];
                try (OutputStream in = p.getOutputStream()) {
                  for (int i = 0; i < 160; i++) { // 10 MiB, more than the pipes hold
                    in.write(chunk);
                  }
                } catch (IOException stopped) {
                  // the bridge has gone
                }
              });
      feed.start();
      assertEquals(10, p.getInputStream().readNBytes(10).length);
      p.getInputStream().close(); // the reader leaves
      assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the bridge did not stop");
      feed.join(10_000);
      String stderr = Files.readString(err);
      assertEquals(0, p.exitValue(), stderr);
      assertFalse(stderr.contains("failed"), stderr);
    }
  }

  @Test
  void clientBridgeThroughTheLauncher() throws Exception {
    Path fromEnv = tmp.resolve("client-env");
    Path fromOption = tmp.resolve("client-option");
    Path fromProperty = tmp.resolve("client-property");
    for (Path d : List.of(fromEnv, fromOption, fromProperty)) {
      Files.createDirectories(d);
      Files.copy(clientData.resolve("id_ed25519"), d.resolve("id_ed25519"));
    }
    String target = "127.0.0.1:" + port;
    long logStart = Files.size(nodeLog);
    byte[] payload = new byte[300_000];
    new Random(11).nextBytes(payload);
    Map<String, String> env = Map.of("ALKNET_DATA_DIR", fromEnv.toString());

    Result quic = launch(env, payload, "bridge", "--alpn", "alknet/echo", target);
    assertEquals(0, quic.exit(), quic.err());
    assertTrue(java.util.Arrays.equals(payload, quic.out().getBytes(StandardCharsets.ISO_8859_1)));
    String pinned =
        "\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[n\\.a\\.e\\.KnownNodes\\] pinned node "
            + Pattern.quote(target)
            + " as SHA256:\\S+ in ";
    assertTrue(
        quic.err()
            .matches(pinned + Pattern.quote(fromEnv.resolve("known_nodes").toString()) + "\\R"),
        quic.err());

    Result tcp =
        launch(
            env,
            payload,
            "bridge",
            "--data-dir",
            fromOption.toString(),
            "--tcp",
            "--alpn",
            "alknet/echo",
            target);
    assertEquals(0, tcp.exit(), tcp.err());
    assertTrue(java.util.Arrays.equals(payload, tcp.out().getBytes(StandardCharsets.ISO_8859_1)));
    assertTrue(
        tcp.err()
            .matches(pinned + Pattern.quote(fromOption.resolve("known_nodes").toString()) + "\\R"),
        tcp.err());

    Result prop =
        launch(
            Map.of(
                "ALKNET_DATA_DIR",
                fromEnv.toString(),
                "ALKNET_JAVA_OPTS",
                "-Dalknet.data-dir=" + fromProperty),
            "x".getBytes(StandardCharsets.US_ASCII),
            "bridge",
            "--alpn",
            "alknet/echo",
            target);
    assertEquals(0, prop.exit(), prop.err());
    assertTrue(Files.exists(fromProperty.resolve("known_nodes")), prop.err());

    // Known now: nothing at all on stderr.
    Result again =
        launch(
            env,
            "y".getBytes(StandardCharsets.US_ASCII),
            "bridge",
            "--alpn",
            "alknet/echo",
            target);
    assertEquals(0, again.exit(), again.err());
    assertEquals("y", again.out());
    assertEquals("", again.err());
    String known = Files.readString(fromEnv.resolve("known_nodes"));
    assertEquals(1, known.lines().count(), known);

    String fp = fingerprint();
    String log = Files.readString(nodeLog).substring((int) logStart);
    for (String transport : List.of("quic", "tcp")) {
      assertTrue(
          log.lines()
              .anyMatch(
                  l ->
                      l.contains("alpn=alknet/echo transport=" + transport)
                          && l.contains("identity=" + fp)),
          transport + ": identity " + fp + " not in node log:\n" + log);
    }
  }

  @Test
  void clientErrorsThroughTheLauncher() throws Exception {
    Result badPort = launch(Map.of(), null, "bridge", "--alpn", "alknet/echo", "127.0.0.1:99999");
    assertEquals(1, badPort.exit());
    assertEquals("alknet: bad port in '127.0.0.1:99999'\n", badPort.err());
    Result badHost = launch(Map.of(), null, "bridge", "--alpn", "alknet/echo", "[::1:4433");
    assertEquals(1, badHost.exit());
    assertEquals("alknet: bad address '[::1:4433': missing ']'\n", badHost.err());

    Result usage = launch(Map.of(), null, "bridge", "127.0.0.1:1");
    assertEquals(2, usage.exit());
    assertEquals(
        "alknet: Missing required option: '--alpn=ALPN'\n"
            + "Try 'alknet bridge --help' for more information.\n",
        usage.err());

    Result nope =
        launch(
            Map.of("ALKNET_DATA_DIR", clientData.toString()),
            "x".getBytes(StandardCharsets.US_ASCII),
            "bridge",
            "--tcp",
            "--alpn",
            "alknet/nope",
            "127.0.0.1:" + port);
    assertEquals(1, nope.exit());
    assertEquals(1, nope.err().lines().count(), nope.err());
    assertTrue(nope.err().startsWith("alknet: cannot connect to 127.0.0.1:" + port), nope.err());
    assertTrue(nope.err().contains("does not serve that ALPN"), nope.err());

    // Nothing listening: one line over TLS/TCP (refused) and over QUIC (handshake timeout), no
    // stack trace from netty on the way.
    int closed = freePort();
    for (String transport : List.of("tcp", "quic")) {
      List<String> args =
          new ArrayList<>(List.of("bridge", "--alpn", "alknet/echo", "127.0.0.1:" + closed));
      if (transport.equals("tcp")) {
        args.add(1, "--tcp");
      }
      Result down =
          launch(
              Map.of("ALKNET_DATA_DIR", clientData.toString()),
              "x".getBytes(StandardCharsets.US_ASCII),
              args.toArray(new String[0]));
      assertEquals(1, down.exit(), transport + ": " + down.err());
      assertEquals("", down.out(), transport);
      assertEquals(1, down.err().lines().count(), transport + ": " + down.err());
      assertTrue(
          down.err()
              .startsWith("alknet: cannot connect to 127.0.0.1:" + closed + " over " + transport),
          down.err());
    }

    // git's helper connects while git and it exchange the helper commands: a failed connection
    // is one line after git's `connect` (the helper's answer to `capabilities` already given);
    // when git asks for no connection, it is never reported.
    byte[] connectCommands =
        "capabilities\nconnect git-upload-pack\n".getBytes(StandardCharsets.US_ASCII);
    Result gitDown =
        launch(
            Map.of("ALKNET_DATA_DIR", clientData.toString()),
            connectCommands,
            "git-remote",
            "origin",
            "alknet+tcp://127.0.0.1:" + closed + "/repo");
    assertEquals(1, gitDown.exit(), gitDown.err());
    assertEquals("connect\n\n", gitDown.out());
    assertEquals(1, gitDown.err().lines().count(), gitDown.err());
    assertTrue(
        gitDown.err().startsWith("alknet: cannot connect to 127.0.0.1:" + closed + " over tcp"),
        gitDown.err());
    Result gitIdle =
        launch(
            Map.of("ALKNET_DATA_DIR", clientData.toString()),
            "capabilities\n".getBytes(StandardCharsets.US_ASCII),
            "git-remote",
            "origin",
            "alknet+tcp://127.0.0.1:" + closed + "/repo");
    assertEquals(0, gitIdle.exit(), gitIdle.err());
    assertEquals("connect\n\n", gitIdle.out());
    assertEquals("", gitIdle.err());

    Result url = launch(Map.of(), null, "git-remote", "origin", "https://example.com/x");
    assertEquals(1, url.exit());
    assertEquals(
        "alknet: unsupported URL 'https://example.com/x' (expected alknet://HOST[:PORT]/REPO)\n",
        url.err());

    Path nobody = tmp.resolve("nobody");
    Result key =
        launch(
            Map.of("ALKNET_DATA_DIR", nobody.toString()),
            null,
            "bridge",
            "--key",
            nobody.resolve("k").toString(),
            "--alpn",
            "alknet/echo",
            "127.0.0.1:" + port);
    assertEquals(1, key.exit());
    assertEquals("alknet: no key at " + nobody.resolve("k") + "; run `alknet keygen`\n", key.err());
  }

  /**
   * The archives in a launcher cache directory ({@code <XDG_CACHE_HOME>/alknet}), temporary ones
   * included.
   */
  static List<Path> archives(Path cache) throws IOException {
    return cached(cache, ".jsa");
  }

  /**
   * {@code bin/alknet bridge --alpn alknet/echo} (over TLS/TCP if {@code tcp}) with "hi" on stdin:
   * the node's echo comes back on stdout, and nothing at all on stderr.
   */
  void echoQuietly(Map<String, String> env, boolean tcp) throws Exception {
    List<String> args = new ArrayList<>(List.of("bridge", "--alpn", "alknet/echo"));
    if (tcp) {
      args.add(1, "--tcp");
    }
    args.add("127.0.0.1:" + port);
    Result r = launch(env, "hi".getBytes(StandardCharsets.US_ASCII), args.toArray(new String[0]));
    assertEquals(0, r.exit(), r.err());
    assertEquals("hi", r.out());
    assertEquals("", r.err());
  }

  /** The files in a launcher cache directory whose names end with {@code suffix}. */
  static List<Path> cached(Path cache, String suffix) throws IOException {
    Path dir = cache.resolve("alknet");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (var files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
    }
  }

  /**
   * The native-library directories in a launcher cache directory, temporary ones included, each
   * checked to hold netty's libraries for epoll, BoringSSL and quiche.
   */
  static List<Path> nativeDirs(Path cache) throws IOException {
    Path dir = cache.resolve("alknet");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Path> dirs;
    try (var files = Files.list(dir)) {
      dirs = files.filter(f -> f.getFileName().toString().contains("native-")).sorted().toList();
    }
    for (Path d : dirs) {
      try (var libs = Files.list(d)) {
        List<String> names = libs.map(l -> l.getFileName().toString()).sorted().toList();
        for (String lib :
            List.of("netty_quiche", "netty_tcnative", "netty_transport_native_epoll")) {
          assertTrue(names.stream().anyMatch(n -> n.startsWith("lib" + lib)), d + ": " + names);
        }
      }
    }
    return dirs;
  }

  /**
   * The first successful run dumps the archive (help does not), later runs map it: the client's
   * classes come from it, and neither Quarkus nor BouncyCastle is loaded at all. Concurrent first
   * runs leave one complete archive; ALKNET_CDS=0 uses none.
   */
  @Test
  void cdsArchiveIsCreatedOnceAndReused() throws Exception {
    Path cache = tmp.resolve("cache-cds");
    Path classes = tmp.resolve("classes.txt");
    Map<String, String> env =
        Map.of(
            "XDG_CACHE_HOME",
            cache.toString(),
            "ALKNET_DATA_DIR",
            clientData.toString(),
            "ALKNET_JAVA_OPTS",
            "-Xlog:class+load=info:file=" + classes);
    byte[] hi = "hi".getBytes(StandardCharsets.US_ASCII);
    String target = "127.0.0.1:" + port;

    assertEquals(0, launch(env, null, "bridge", "--help").exit());
    assertEquals(List.of(), archives(cache), "help made an archive");

    echoQuietly(env, false);
    List<Path> made = archives(cache);
    assertEquals(1, made.size(), made.toString());
    assertTrue(
        made.get(0).getFileName().toString().matches("client-\\d+-\\d+\\.jsa"), made.toString());
    Object fileKey = Files.readAttributes(made.get(0), "unix:ino").get("ino");
    var modified = Files.getLastModifiedTime(made.get(0));
    // netty's native libraries, extracted once into the cache (not into a temporary file per run).
    List<Path> natives = nativeDirs(cache);
    assertEquals(1, natives.size(), natives.toString());
    assertTrue(natives.get(0).getFileName().toString().matches("native-\\d+"), natives.toString());
    Object nativesKey = Files.readAttributes(natives.get(0), "unix:ino").get("ino");
    String dumpRun = Files.readString(classes);
    Files.delete(classes);

    echoQuietly(env, true);
    assertEquals(made, archives(cache));
    assertEquals(fileKey, Files.readAttributes(made.get(0), "unix:ino").get("ino"));
    assertEquals(modified, Files.getLastModifiedTime(made.get(0)));
    assertEquals(natives, nativeDirs(cache));
    assertEquals(nativesKey, Files.readAttributes(natives.get(0), "unix:ino").get("ino"));
    String mapped = Files.readString(classes);
    for (String c : List.of("net.alknet.cli.ClientMain", "net.alknet.endpoint.EndpointClient")) {
      assertTrue(
          mapped.lines().anyMatch(l -> l.contains("] " + c + " source: shared objects file (top)")),
          c + " not from the archive");
    }
    for (String log : List.of(dumpRun, mapped)) {
      for (String pkg : List.of("io.quarkus.", "org.bouncycastle.", "org.jboss.logmanager.")) {
        assertFalse(log.contains("] " + pkg), pkg + " classes loaded by the client");
      }
    }

    // Concurrent first runs: all succeed, one archive, no temporary file left.
    Path cache2 = tmp.resolve("cache-concurrent");
    Map<String, String> env2 =
        Map.of("XDG_CACHE_HOME", cache2.toString(), "ALKNET_DATA_DIR", clientData.toString());
    List<Launched> runs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      runs.add(
          start(
              launcher(),
              env2,
              ("run " + i).getBytes(StandardCharsets.US_ASCII),
              "bridge",
              "--alpn",
              "alknet/echo",
              target));
    }
    for (int i = 0; i < runs.size(); i++) {
      Result r = runs.get(i).finish();
      assertEquals(0, r.exit(), r.err());
      assertEquals("run " + i, r.out());
      assertEquals("", r.err());
    }
    List<Path> one = archives(cache2);
    assertEquals(1, one.size(), one.toString());
    assertTrue(one.get(0).getFileName().toString().startsWith("client-"), one.toString());
    List<Path> oneNatives = nativeDirs(cache2);
    assertEquals(1, oneNatives.size(), oneNatives.toString());
    assertTrue(
        oneNatives.get(0).getFileName().toString().startsWith("native-"), oneNatives.toString());

    // A cache directory that cannot be made (XDG_CACHE_HOME is a file): the command runs all the
    // same, without an archive, and says nothing about it.
    Path notADir = Files.writeString(tmp.resolve("cache-file"), "");
    Result unwritable =
        launch(
            Map.of("XDG_CACHE_HOME", notADir.toString(), "ALKNET_DATA_DIR", clientData.toString()),
            hi,
            "bridge",
            "--alpn",
            "alknet/echo",
            target);
    assertEquals(0, unwritable.exit(), unwritable.err());
    assertEquals("hi", unwritable.out());
    assertEquals("", unwritable.err());

    // A JVM that cannot dump (no base archive mapped, here through -Xshare:off): runs without CDS.
    Path cache4 = tmp.resolve("cache-noshare");
    for (int i = 0; i < 2; i++) {
      Result noShare =
          launch(
              Map.of(
                  "XDG_CACHE_HOME",
                  cache4.toString(),
                  "ALKNET_DATA_DIR",
                  clientData.toString(),
                  "ALKNET_JAVA_OPTS",
                  "-Xshare:off"),
              hi,
              "bridge",
              "--alpn",
              "alknet/echo",
              target);
      assertEquals(0, noShare.exit(), noShare.err());
      assertEquals("hi", noShare.out());
      assertEquals("", noShare.err());
      assertTrue(
          archives(cache4).stream().noneMatch(a -> a.getFileName().toString().endsWith(".jsa")),
          archives(cache4).toString());
    }

    // ALKNET_CDS=0: no cache directory (no archive, no native libraries), classes from the jars.
    Path cache3 = tmp.resolve("cache-off");
    Result off =
        launch(
            Map.of(
                "XDG_CACHE_HOME",
                cache3.toString(),
                "ALKNET_CDS",
                "0",
                "ALKNET_DATA_DIR",
                clientData.toString(),
                "ALKNET_JAVA_OPTS",
                "-Xlog:class+load=info:file=" + classes),
            hi,
            "bridge",
            "--alpn",
            "alknet/echo",
            target);
    assertEquals(0, off.exit(), off.err());
    assertEquals("hi", off.out());
    assertFalse(Files.exists(cache3), "ALKNET_CDS=0 created " + cache3);
    assertTrue(
        Files.readString(classes)
            .lines()
            .anyMatch(l -> l.contains("] net.alknet.cli.ClientMain source: file:")),
        "ClientMain not loaded from the jar");
  }

  /**
   * A JDK 25 or later installed beside the test's one (under /usr/lib/jvm, as on the CI image), or
   * null.
   */
  static Path newerJdk() throws IOException {
    Path jvms = Path.of("/usr/lib/jvm");
    if (!Files.isDirectory(jvms)) {
      return null;
    }
    Pattern version = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)");
    try (var dirs = Files.list(jvms)) {
      for (Path d : dirs.sorted().toList()) {
        Path release = d.resolve("release");
        if (Files.isRegularFile(release) && Files.isExecutable(d.resolve("bin/java"))) {
          var m = version.matcher(Files.readString(release));
          if (m.find() && Integer.parseInt(m.group(1)) >= 25) {
            return d;
          }
        }
      }
    }
    return null;
  }

  /**
   * On JDK 25 and later the launcher keeps an AOT cache ({@code client-*.aot}) instead of a dynamic
   * archive: made by the first run without a byte on stdout or stderr, mapped by the next.
   */
  @Test
  void aotCacheOnNewerJdks() throws Exception {
    Path jdk = newerJdk();
    assumeTrue(jdk != null, "no JDK 25 or later under /usr/lib/jvm");
    Path cache = tmp.resolve("cache-aot");
    Path classes = tmp.resolve("classes-aot.txt");
    Map<String, String> env =
        Map.of(
            "PATH",
            jdk.resolve("bin") + ":" + System.getenv("PATH"),
            "XDG_CACHE_HOME",
            cache.toString(),
            "ALKNET_DATA_DIR",
            clientData.toString(),
            "ALKNET_JAVA_OPTS",
            "-Xlog:class+load=info:file=" + classes);

    echoQuietly(env, false);
    List<Path> made = cached(cache, ".aot");
    assertEquals(1, made.size(), made.toString());
    assertTrue(
        made.get(0).getFileName().toString().matches("client-\\d+-\\d+\\.aot"), made.toString());
    assertEquals(List.of(), archives(cache));
    assertEquals(1, nativeDirs(cache).size());
    Files.delete(classes);

    echoQuietly(env, true);
    assertEquals(made, cached(cache, ".aot"));
    assertTrue(
        Files.readString(classes)
            .lines()
            .anyMatch(l -> l.contains("] net.alknet.cli.ClientMain source: shared objects file")),
        "ClientMain not from the AOT cache");
  }

  /**
   * A copy of the install (launcher, application jar; the libraries linked): a rebuilt application
   * jar gets a new archive and the stale one is removed, silently; a library missing from lib/ is
   * one clear error, not a class-loading failure later.
   */
  @Test
  void rebuiltJarNewArchiveMissingJarClearError() throws Exception {
    Path install = tmp.resolve("install");
    Path real = runner().getParent();
    Path app = install.resolve("target/quarkus-app");
    Files.createDirectories(install.resolve("bin"));
    Files.copy(
        launcher(),
        install.resolve("bin/alknet"),
        java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
    Files.createDirectories(app.resolve("app"));
    Files.createSymbolicLink(app.resolve("quarkus-run.jar"), real.resolve("quarkus-run.jar"));
    try (var jars = Files.list(real.resolve("app"))) {
      for (Path j : jars.toList()) {
        Files.copy(j, app.resolve("app").resolve(j.getFileName()));
      }
    }
    for (String sub : List.of("lib/boot", "lib/main")) {
      Files.createDirectories(app.resolve(sub));
      try (var jars = Files.list(real.resolve(sub))) {
        for (Path j : jars.toList()) {
          Files.createSymbolicLink(app.resolve(sub).resolve(j.getFileName()), j);
        }
      }
    }
    Path launcher = install.resolve("bin/alknet");
    Path cache = tmp.resolve("cache-install");
    Map<String, String> env =
        Map.of("XDG_CACHE_HOME", cache.toString(), "ALKNET_DATA_DIR", clientData.toString());
    byte[] hi = "hi".getBytes(StandardCharsets.US_ASCII);
    String target = "127.0.0.1:" + port;

    Result first = start(launcher, env, hi, "bridge", "--alpn", "alknet/echo", target).finish();
    assertEquals(0, first.exit(), first.err());
    List<Path> before = archives(cache);
    assertEquals(1, before.size(), before.toString());

    Path appJar;
    try (var jars = Files.list(app.resolve("app"))) {
      appJar = jars.findFirst().orElseThrow();
    }
    Files.setLastModifiedTime(
        appJar,
        java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 3_600_000));
    Result rebuilt = start(launcher, env, hi, "bridge", "--alpn", "alknet/echo", target).finish();
    assertEquals(0, rebuilt.exit(), rebuilt.err());
    assertEquals("hi", rebuilt.out());
    assertEquals("", rebuilt.err());
    List<Path> after = archives(cache);
    assertEquals(1, after.size(), after.toString());
    assertFalse(after.equals(before), "the stale archive was kept: " + after);

    Path picocli;
    try (var jars = Files.list(app.resolve("lib/main"))) {
      picocli =
          jars.filter(j -> j.getFileName().toString().startsWith("info.picocli.picocli-"))
              .findFirst()
              .orElseThrow();
    }
    Files.delete(picocli);
    Result missing = start(launcher, env, hi, "bridge", "--alpn", "alknet/echo", target).finish();
    assertEquals(1, missing.exit());
    assertTrue(
        missing.err().startsWith("alknet: expected one main/info.picocli.picocli jar in "),
        missing.err());
    assertEquals(1, missing.err().lines().count(), missing.err());
  }

  /** EP-7: SIGTERM stops the node gracefully; it removes its control socket. Runs last. */
  @Test
  @Order(Integer.MAX_VALUE)
  void sigtermStopsTheNodeGracefully() throws Exception {
    node.destroy(); // SIGTERM
    assertTrue(node.waitFor(30, TimeUnit.SECONDS), "node did not stop");
    String log = Files.readString(nodeLog);
    assertTrue(log.contains("alknet endpoint stopped"), log);
    assertFalse(log.contains("Exception"), log);
    assertFalse(Files.exists(data.resolve("control.sock")));
    Result s = run(null, "status", "--data-dir", data.toString());
    assertEquals(1, s.exit());
    assertTrue(s.err().contains("no node is running"), s.err());
  }

  /** The OpenSSH fingerprint of the client's public key, computed by the auth package. */
  private String fingerprint() throws IOException {
    String pub = Files.readString(clientData.resolve("id_ed25519.pub")).strip();
    return net.alknet.auth.Fingerprints.sha256(net.alknet.auth.Ed25519Keys.parseSshPublicKey(pub));
  }
}

package net.alknet.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the end-to-end tests share to run the packaged application as its users do: where it is,
 * which {@code java} runs it, free loopback ports, and a node started with {@code serve}.
 */
public final class NodeProcesses {

  /** What {@code serve} logs once both of its listeners are bound. */
  public static final String LISTENING = "alknet endpoint listening";

  private NodeProcesses() {}

  /** The packaged application ({@code -Dalknet.runner}, else {@code target/quarkus-app/…}). */
  public static Path runner() {
    return Path.of(System.getProperty("alknet.runner", "target/quarkus-app/quarkus-run.jar"))
        .toAbsolutePath();
  }

  /** {@code bin/} of the checkout whose package is under test. */
  public static Path bin() {
    return runner().getParent().getParent().getParent().resolve("bin");
  }

  /** The {@code java} of this JVM. */
  public static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** A mutable command line that starts this JVM's {@code java} as {@code bin/alknet} does. */
  public static List<String> jvm() {
    return new ArrayList<>(List.of(javaBin(), "--enable-native-access=ALL-UNNAMED"));
  }

  /** A loopback port free for both TCP and UDP (a node listens on both) at the time of asking. */
  public static int freePort() throws IOException {
    for (int i = 0; i < 20; i++) {
      int p;
      try (ServerSocket s = new ServerSocket(0)) {
        p = s.getLocalPort();
      }
      try (DatagramSocket d = new DatagramSocket(p)) {
        return p;
      } catch (IOException busy) {
        // try another
      }
    }
    throw new IOException("no free port");
  }

  /** Whether an executable of that name is on PATH. */
  public static boolean onPath(String cmd) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, cmd))) {
        return true;
      }
    }
    return false;
  }

  /** {@code serve}'s arguments for {@code data} on {@code port} of 127.0.0.1. */
  public static List<String> onLoopback(Path data, int port) {
    return List.of(
        "--data-dir", data.toString(), "--port", String.valueOf(port), "--bind", "127.0.0.1");
  }

  /**
   * Starts {@code serve} and waits until its log shows {@code ready}.
   *
   * @param jvmOptions options before {@code -jar} (system properties, heap)
   * @param serveArgs what follows {@code serve}
   * @param log where the node's stdout and stderr go
   * @return the running node; the caller destroys it
   * @throws AssertionError with the log, if the node exits or is not ready in time
   */
  public static Process serve(
      List<String> jvmOptions, List<String> serveArgs, Path log, String ready, Duration timeout)
      throws IOException, InterruptedException {
    List<String> cmd = jvm();
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-jar", runner().toString(), "serve"));
    cmd.addAll(serveArgs);
    Process node =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!Files.readString(log).contains(ready)) {
      if (!node.isAlive() || System.nanoTime() > deadline) {
        node.destroyForcibly();
        throw new AssertionError("node did not start:\n" + Files.readString(log));
      }
      Thread.sleep(100);
    }
    return node;
  }
}

package net.alknet.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.alknet.call.client.CallClient;
import net.alknet.call.client.CallOptions;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.Transport;
import net.alknet.endpoint.Trust;

/**
 * Call protocol benchmark (SPEC section 16): unary round trips/s and p50/p99 latency of {@code
 * demo/echo} over QUIC and TLS 1.3/TCP, side by side with gRPC-java unary calls (Netty, TLS 1.3,
 * same JSON payload). Run by {@code bench/call.sh}, which writes docs/benchmarks.md.
 *
 * <p>Usage: {@code CallBench <results-file> [duration=8] [warmup=3] [rounds=2] [callers=1,64]
 * [systems=quic,tcp,grpc,grpcd] [jar=target/quarkus-app/quarkus-run.jar] [childjvm=...]}. Every
 * result is printed as one line {@code RESULT key value} (also written to the results file).
 *
 * <p>The node under test is the packaged application ({@code quarkus-run.jar serve}) in a child
 * JVM; the gRPC server is a child JVM too ({@code --grpc-server}); both clients run in this JVM. A
 * case keeps {@code callers} calls outstanding on one connection, closed loop: each completion
 * issues the next call (1 caller = strictly sequential calls).
 */
public final class CallBench {

  /** One system under test, seen from the client. */
  interface Target extends AutoCloseable {
    String name();

    long serverPid();

    CompletableFuture<?> call();
  }

  private static final int MAX_SAMPLES = 4_000_000;

  /** The payload: 100 ASCII characters, sent as {@code {"text": ...}}. */
  static final String TEXT =
      "alknet call benchmark payload: 0123456789 abcdefghijklmnopqrstuvwxyz"
          + " ABCDEFGHIJKLMNOPQRSTUVWXYZ 01234";

  private final BenchSupport.Results results = new BenchSupport.Results();
  private final Map<String, String> opts;

  private CallBench(Map<String, String> opts) {
    this.opts = opts;
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--grpc-server")) {
      BenchSupport.configureLogging(Path.of(args[2]));
      CallBenchGrpc.serve(Path.of(args[1]));
      return;
    }
    if (args.length < 1) {
      System.err.println(
          "usage: CallBench <results-file> [duration=8] [warmup=3] [rounds=2] [callers=1,64]");
      System.exit(2);
    }
    Path out = Path.of(args[0]).toAbsolutePath();
    Map<String, String> opts = BenchSupport.options(args, 1);
    BenchSupport.configureLogging(opts, out);
    CallBench b = new CallBench(opts);
    int code = 0;
    try {
      b.run(out);
    } catch (Exception e) {
      e.printStackTrace();
      code = 1;
    }
    b.results.write(out);
    System.exit(code);
  }

  private void record(String key, String value) {
    results.record(key, value);
  }

  private int[] callers() {
    return BenchSupport.ints(opts.getOrDefault("callers", "1,64"));
  }

  // ---------------------------------------------------------------- run

  private void run(Path out) throws Exception {
    int duration = Integer.parseInt(opts.getOrDefault("duration", "8"));
    int warmup = Integer.parseInt(opts.getOrDefault("warmup", "3"));
    int rounds = Integer.parseInt(opts.getOrDefault("rounds", "2"));
    List<String> systems = List.of(opts.getOrDefault("systems", "quic,tcp,grpc,grpcd").split(","));
    results.recordJvm();
    record("loadavg_start", BenchSupport.loadAverage());
    record("payload_bytes", Integer.toString(input().toString().length()));

    Path dir = Files.createTempDirectory("alknet-callbench");
    List<Target> targets = new ArrayList<>();
    try (Children children = new Children()) {
      NodeChild node = null;
      EndpointClient endpoints = null;
      if (systems.contains("quic") || systems.contains("tcp")) {
        node = new NodeChild(dir.resolve("node"), out.getParent());
        children.add(node.process);
        endpoints =
            new EndpointClient(
                null,
                Optional.empty(),
                EndpointLimits.DEFAULTS,
                new EndpointMetrics(new SimpleMeterRegistry()));
        for (String s : List.of("quic", "tcp")) {
          if (systems.contains(s)) {
            Transport t = s.equals("quic") ? Transport.QUIC : Transport.TCP;
            targets.add(new AlknetTarget(endpoints, node, t));
          }
        }
      }
      if (systems.contains("grpc") || systems.contains("grpcd")) {
        Path cert = dir.resolve("grpc.crt");
        Process p = startGrpcChild(cert, Path.of(opts.get("log") + ".grpc-server"));
        children.add(p);
        BufferedReader pout =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String[] ready = BenchSupport.expect(pout, "READY", "gRPC server", "gRPC server");
        if (systems.contains("grpc")) {
          targets.add(
              new CallBenchGrpc.Client(Integer.parseInt(ready[1]), cert, input(), p.pid(), false));
        }
        if (systems.contains("grpcd")) {
          targets.add(
              new CallBenchGrpc.Client(Integer.parseInt(ready[2]), cert, input(), p.pid(), true));
        }
      }
      for (Target t : targets) {
        JsonNode answer = (JsonNode) t.call().get(10, TimeUnit.SECONDS);
        if (!input().equals(answer)) {
          throw new IllegalStateException(t.name() + " answered " + answer);
        }
      }
      // Warm-up pass over every case (JIT in all three JVMs), not recorded.
      for (int c : callers()) {
        for (Target t : targets) {
          System.out.print("(warm-up) ");
          measure(t, c, 1, warmup);
        }
      }
      // Measured rounds, interleaved so that drift in the machine's load hits every system.
      Map<String, List<Sample>> all = new LinkedHashMap<>();
      for (int r = 1; r <= rounds; r++) {
        for (int c : callers()) {
          for (Target t : targets) {
            System.out.print("(round " + r + ") ");
            Sample s = measure(t, c, 1, duration);
            all.computeIfAbsent(t.name() + "_" + c, k -> new ArrayList<>()).add(s);
          }
        }
      }
      for (var e : all.entrySet()) {
        report(e.getKey(), e.getValue());
      }
      for (Target t : targets) {
        t.close();
      }
      if (endpoints != null) {
        endpoints.close();
      }
    }
    record("loadavg_end", BenchSupport.loadAverage());
  }

  static ObjectNode input() {
    ObjectNode n = JsonNodeFactory.instance.objectNode();
    n.put("text", TEXT);
    return n;
  }

  /** Result of one measured case. */
  record Sample(
      long calls,
      double seconds,
      long[] latencies,
      long errors,
      long serverCpuNanos,
      long clientCpuNanos,
      Map<String, long[]> serverThreads0,
      Map<String, long[]> serverThreads1,
      Map<String, long[]> clientThreads0,
      Map<String, long[]> clientThreads1) {}

  /** One case: {@code callers} calls outstanding, closed loop; settle, then measure. */
  private Sample measure(Target target, int callers, int settleSec, int durationSec)
      throws Exception {
    AtomicInteger phase = new AtomicInteger(); // 0 settle, 1 measure, 2 stop
    LongAdder done = new LongAdder();
    AtomicLong errors = new AtomicLong();
    long[] lat = new long[MAX_SAMPLES];
    AtomicInteger nlat = new AtomicInteger();
    CountDownLatch finished = new CountDownLatch(callers);
    Runnable[] loops = new Runnable[callers];
    for (int i = 0; i < callers; i++) {
      final int me = i;
      loops[i] =
          () -> {
            if (phase.get() == 2) {
              finished.countDown();
              return;
            }
            long start = System.nanoTime();
            CompletableFuture<?> f;
            try {
              f = target.call();
            } catch (RuntimeException e) {
              f = CompletableFuture.failedFuture(e);
            }
            f.whenComplete(
                (v, e) -> {
                  long nanos = System.nanoTime() - start;
                  if (e != null) {
                    if (errors.incrementAndGet() <= 3) {
                      System.err.println(target.name() + ": " + e);
                    }
                  } else if (phase.get() == 1) {
                    done.increment();
                    int k = nlat.getAndIncrement();
                    if (k < lat.length) {
                      lat[k] = nanos;
                    }
                  }
                  if (e != null && errors.get() > 1000) {
                    phase.set(2);
                  }
                  loops[me].run();
                });
          };
    }
    for (Runnable l : loops) {
      l.run();
    }
    Thread.sleep(settleSec * 1000L);
    long pid = target.serverPid();
    Map<String, long[]> s0 = threadCpu(pid);
    Map<String, long[]> c0 = threadCpu(BenchSupport.SELF);
    long sc0 = BenchSupport.processCpu(pid);
    long cc0 = BenchSupport.processCpu(BenchSupport.SELF);
    long t0 = System.nanoTime();
    phase.set(1);
    Thread.sleep(durationSec * 1000L);
    phase.set(2);
    long t1 = System.nanoTime();
    long sc1 = BenchSupport.processCpu(pid);
    long cc1 = BenchSupport.processCpu(BenchSupport.SELF);
    Map<String, long[]> s1 = threadCpu(pid);
    Map<String, long[]> c1 = threadCpu(BenchSupport.SELF);
    long calls = done.sum();
    if (!finished.await(30, TimeUnit.SECONDS)) {
      System.err.println(target.name() + ": calls still outstanding after 30 s");
    }
    int n = Math.min(nlat.get(), lat.length);
    long[] l = Arrays.copyOf(lat, n);
    Arrays.sort(l);
    double seconds = (t1 - t0) / 1e9;
    Sample s = new Sample(calls, seconds, l, errors.get(), sc1 - sc0, cc1 - cc0, s0, s1, c0, c1);
    System.out.printf(
        Locale.ROOT,
        "%s x%d: %.0f calls/s, p50 %.0f us, p99 %.0f us, CPU/call server %.0f us client %.0f us,"
            + " errors %d%n",
        target.name(),
        callers,
        calls / seconds,
        percentile(l, 0.50) / 1e3,
        percentile(l, 0.99) / 1e3,
        (sc1 - sc0) / 1e3 / Math.max(1, calls),
        (cc1 - cc0) / 1e3 / Math.max(1, calls),
        errors.get());
    Thread.sleep(300);
    return s;
  }

  static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** Pools the rounds of one case: total calls over total time, percentiles over all samples. */
  private void report(String key, List<Sample> rounds) {
    long calls = rounds.stream().mapToLong(Sample::calls).sum();
    double seconds = rounds.stream().mapToDouble(Sample::seconds).sum();
    long[] all =
        rounds.stream().flatMapToLong(s -> Arrays.stream(s.latencies())).sorted().toArray();
    record(key + "_calls_per_s", BenchSupport.fmt(calls / seconds));
    StringBuilder per = new StringBuilder();
    for (Sample s : rounds) {
      per.append(per.length() == 0 ? "" : ",")
          .append(String.format(Locale.ROOT, "%.0f", s.calls() / s.seconds()));
    }
    record(key + "_rounds_calls_per_s", per.toString());
    record(key + "_p50_us", String.format(Locale.ROOT, "%.0f", percentile(all, 0.50) / 1e3));
    record(key + "_p99_us", String.format(Locale.ROOT, "%.0f", percentile(all, 0.99) / 1e3));
    record(key + "_calls", Long.toString(calls));
    record(key + "_errors", Long.toString(rounds.stream().mapToLong(Sample::errors).sum()));
    long sc = rounds.stream().mapToLong(Sample::serverCpuNanos).sum();
    long cc = rounds.stream().mapToLong(Sample::clientCpuNanos).sum();
    record(key + "_server_cpu_us_per_call", BenchSupport.fmt(sc / 1e3 / Math.max(1, calls)));
    record(key + "_client_cpu_us_per_call", BenchSupport.fmt(cc / 1e3 / Math.max(1, calls)));
    Sample last = rounds.get(rounds.size() - 1);
    record(
        key + "_server_threads",
        "\"" + describeCpu(last.serverThreads0(), last.serverThreads1(), last.seconds()) + "\"");
    record(
        key + "_client_threads",
        "\"" + describeCpu(last.clientThreads0(), last.clientThreads1(), last.seconds()) + "\"");
  }

  // ---------------------------------------------------------------- alknet

  /** A {@code CallClient} session (one connection, one stream) to the node. */
  private static final class AlknetTarget implements Target {
    private final CallClient client;
    private final String name;
    private final long pid;
    private final JsonNode input = input();

    AlknetTarget(EndpointClient endpoints, NodeChild node, Transport transport) throws IOException {
      this.client =
          CallClient.connect(
              endpoints,
              "127.0.0.1",
              node.port,
              Trust.pinned(node.fingerprint),
              transport,
              node.apiKey,
              "bench");
      this.name = transport == Transport.QUIC ? "quic" : "tcp";
      this.pid = node.process.pid();
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public long serverPid() {
      return pid;
    }

    @Override
    public CompletableFuture<?> call() {
      return client.call("demo/echo", input, CallOptions.DEFAULT);
    }

    @Override
    public void close() {
      client.close();
    }
  }

  // ---------------------------------------------------------------- child processes

  /** Kills the child processes it holds on close (destroy, then destroyForcibly). */
  private static final class Children implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();

    void add(Process p) {
      processes.add(p);
    }

    @Override
    public void close() throws InterruptedException {
      for (Process p : processes) {
        try {
          p.getOutputStream().close();
        } catch (IOException e) {
          // already gone
        }
        p.destroy();
      }
      for (Process p : processes) {
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      }
    }
  }

  /** Extra JVM options for both server JVMs (e.g. a JFR recording), from {@code childjvm=}. */
  private List<String> childJvmOptions(String who) {
    String o = opts.getOrDefault("childjvm", "");
    List<String> l = new ArrayList<>();
    for (String s : o.split(" ")) {
      if (!s.isBlank()) {
        l.add(s.replace("{who}", who));
      }
    }
    return l;
  }

  /** The packaged node, started as an operator would start it. */
  private final class NodeChild {
    final Process process;
    final int port;
    final String fingerprint;
    final String apiKey;

    NodeChild(Path dataDir, Path logDir) throws IOException, InterruptedException {
      String jar = opts.getOrDefault("jar", "target/quarkus-app/quarkus-run.jar");
      Files.createDirectories(dataDir);
      List<String> base =
          List.of(
              BenchSupport.javaBinary(),
              "--enable-native-access=ALL-UNNAMED",
              "-Dquarkus.management.port=0");
      List<String> create = new ArrayList<>(base);
      create.addAll(
          List.of(
              "-jar",
              jar,
              "apikey",
              "create",
              "bench",
              "--scopes",
              "call",
              "--append",
              "--data-dir",
              dataDir.toString()));
      Process p = new ProcessBuilder(create).redirectErrorStream(false).start();
      String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      if (p.waitFor() != 0) {
        throw new IOException("apikey create failed: " + stdout + stderr);
      }
      Matcher m = Pattern.compile("(?m)^(alk_\\S+)\\s*$").matcher(stdout);
      if (!m.find()) {
        throw new IOException("no API key in the output of apikey create: " + stdout);
      }
      apiKey = m.group(1);
      port = freePort();
      List<String> serve = new ArrayList<>(base);
      serve.addAll(childJvmOptions("node"));
      serve.addAll(
          List.of(
              "-jar",
              jar,
              "serve",
              "--data-dir",
              dataDir.toString(),
              "--port",
              Integer.toString(port),
              "--bind",
              "127.0.0.1"));
      process =
          new ProcessBuilder(serve)
              .redirectErrorStream(true)
              .redirectOutput(logDir.resolve("call-node.log").toFile())
              .start();
      Path nodeLog = logDir.resolve("call-node.log");
      String fp = null;
      boolean listening = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while ((fp == null || !listening) && System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IOException("node exited: " + Files.readString(nodeLog));
        }
        String text = Files.exists(nodeLog) ? Files.readString(nodeLog) : "";
        listening = text.contains("alknet endpoint listening");
        Matcher f = Pattern.compile("node certificate (SHA256:[A-Za-z0-9+/=]+)").matcher(text);
        if (f.find()) {
          fp = f.group(1);
        }
        Thread.sleep(100);
      }
      if (fp == null || !listening) {
        process.destroyForcibly();
        throw new IOException("node did not start within 60 s: " + Files.readString(nodeLog));
      }
      fingerprint = fp;
      System.out.println("node pid " + process.pid() + " port " + port + " " + fingerprint);
    }
  }

  /** A port free for both TCP and UDP on 127.0.0.1 (the node serves QUIC and TCP on one port). */
  static int freePort() throws IOException {
    InetAddress lo = InetAddress.getByName("127.0.0.1");
    for (int i = 0; i < 50; i++) {
      try (ServerSocket s = new ServerSocket(0, 1, lo)) {
        int port = s.getLocalPort();
        try (DatagramSocket d = new DatagramSocket(port, lo)) {
          return port;
        } catch (IOException e) {
          // UDP port taken: try another
        }
      }
    }
    throw new IOException("no free port");
  }

  private Process startGrpcChild(Path cert, Path log) throws IOException {
    List<String> jvm = new ArrayList<>();
    jvm.add("--enable-native-access=ALL-UNNAMED");
    jvm.addAll(childJvmOptions("grpc"));
    return BenchSupport.startChildJvm(
        jvm, CallBench.class, "--grpc-server", cert.toString(), log.toString());
  }

  // ---------------------------------------------------------------- CPU accounting

  /** {cpu ns, waiting ns} per thread group of a process; see {@link BenchSupport#threadCpu}. */
  private static Map<String, long[]> threadCpu(long pid) {
    return BenchSupport.threadCpu(pid, CallBench::threadGroup);
  }

  /** Group of a thread other than GC and JIT: its name (15 characters in /proc) without numbers. */
  static String threadGroup(String comm) {
    String g = comm.replaceAll("-[0-9]+", "").replaceAll("[-#0-9]+$", "");
    return switch (g) {
      case "vert.x-eventloo" -> "vertx-eventloop";
      case "alknet-call-r" -> "call-reader";
      case "grpc-default-ex" -> "grpc-executor";
      case "grpc-nio-worker", "grpc-default-wo" -> "grpc-eventloop";
      default -> g;
    };
  }

  /** "group NN%" (percent of one core) for groups of at least 3%, busiest first. */
  private static String describeCpu(Map<String, long[]> a, Map<String, long[]> b, double seconds) {
    return BenchSupport.describeCpu(a, b, seconds, 3, "waiting for a CPU");
  }
}

package net.alknet.bench;

import static net.alknet.bench.BenchSupport.fmt;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import net.alknet.auth.ConfigIdentityProvider;
import net.alknet.auth.IdentityDirectory;
import net.alknet.auth.TokenPolicy;
import net.alknet.diag.EchoHandler;
import net.alknet.endpoint.CloseCode;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.EndpointServer;
import net.alknet.endpoint.HandlerRegistry;
import net.alknet.endpoint.NettyTransport;
import net.alknet.endpoint.TlsIdentity;
import net.alknet.endpoint.Transport;
import net.alknet.endpoint.Trust;

/**
 * Endpoint benchmark (SPEC section 16): raw stream echo throughput over QUIC and TLS/TCP,
 * connection setup rate, and memory per idle QUIC connection. Run by {@code bench/endpoint.sh},
 * which adds the iperf3 anchor and writes docs/benchmarks.md.
 *
 * <p>Usage: {@code EndpointBench <results-file> [duration=6] [warmup=2] [idle=1000]
 * [only=throughput,handshake,memory]}. Every result is printed as one line {@code RESULT key value}
 * (also written to the results file); everything else is commentary.
 *
 * <p>Throughput and handshakes run client and server in this JVM, each on its own one-thread event
 * loop group of the node's transport ({@link NettyTransport#newGroup}: epoll on Linux, NIO with
 * {@code -Dalknet.transport.nio=true}), like iperf3's one client and one server process. The memory
 * test runs the server in a child JVM ({@code --serve-child}) so server and client sides are
 * measured separately.
 */
public final class EndpointBench {

  private static final int CHUNK = 64 * 1024;
  private static final double MB = 1_000_000.0;

  private final BenchSupport.Results results = new BenchSupport.Results();
  private int durationSec;
  private final int warmupSec;
  private final int idleConnections;
  private final Map<String, String> opts;

  private EndpointBench(Map<String, String> opts) {
    this.opts = opts;
    this.durationSec = Integer.parseInt(opts.getOrDefault("duration", "6"));
    this.warmupSec = Integer.parseInt(opts.getOrDefault("warmup", "2"));
    this.idleConnections = Integer.parseInt(opts.getOrDefault("idle", "1000"));
  }

  private Transport[] transports() {
    String t = opts.getOrDefault("transports", "quic,tcp");
    return java.util.Arrays.stream(t.split(","))
        .map(x -> Transport.valueOf(x.toUpperCase(Locale.ROOT)))
        .toArray(Transport[]::new);
  }

  private int[] counts(String key, String def) {
    return BenchSupport.ints(opts.getOrDefault(key, def));
  }

  /** Limits for the bench: connection caps raised, everything else at the defaults. */
  EndpointLimits benchLimits() {
    EndpointLimits l =
        EndpointLimits.DEFAULTS
            .withMaxConnections(100_000, 100_000)
            .withTimeouts(Duration.ofSeconds(10), Duration.ofMinutes(10));
    if (opts.containsKey("buffer")) {
      // Diagnostic only (not used by bench/endpoint.sh): per-stream buffer / QUIC window.
      l = l.withStreams(l.maxStreamsPerConnection(), Integer.parseInt(opts.get("buffer")));
    }
    return l;
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--serve-child")) {
      BenchSupport.configureLogging(
          Path.of(args.length > 1 ? args[1] : "endpoint-bench-child.log"));
      serveChild();
      return;
    }
    if (args.length < 1) {
      System.err.println(
          "usage: EndpointBench <results-file> [duration=6] [warmup=2] [idle=1000]"
              + " [only=throughput,handshake,memory]");
      System.exit(2);
    }
    Path out = Path.of(args[0]);
    Map<String, String> opts = BenchSupport.options(args, 1);
    BenchSupport.configureLogging(opts, out);
    String only = opts.getOrDefault("only", "throughput,handshake,memory");
    EndpointBench b = new EndpointBench(opts);
    b.record("loadavg_start", BenchSupport.loadAverage());
    b.results.recordJvm();
    if (only.contains("throughput")) {
      b.throughputAll();
    }
    if (only.contains("handshake")) {
      b.handshakesAll();
    }
    if (only.contains("memory")) {
      b.idleMemory();
    }
    b.record("loadavg_end", BenchSupport.loadAverage());
    b.results.write(out);
    System.exit(0);
  }

  private void record(String key, String value) {
    results.record(key, value);
  }

  // ---------------------------------------------------------------- node

  /** A node (server) and a client in this JVM, each with its own one-thread event loop group. */
  private static final class Node implements AutoCloseable {
    static final TlsIdentity TLS = TlsIdentity.generate();
    final EventLoopGroup serverGroup =
        NettyTransport.newGroup(1, new io.netty.util.concurrent.DefaultThreadFactory("srv-loop"));
    final EventLoopGroup clientGroup =
        NettyTransport.newGroup(1, new io.netty.util.concurrent.DefaultThreadFactory("cli-loop"));
    final EndpointServer server;
    final EndpointClient client;

    Node(EndpointLimits limits) throws IOException {
      server = newServer(TLS, limits, serverGroup);
      server.start();
      client =
          new EndpointClient(
              clientGroup,
              Optional.empty(),
              limits,
              new EndpointMetrics(new SimpleMeterRegistry()));
    }

    Connection connect(Transport t) throws IOException {
      return client.connect(
          "127.0.0.1", server.port(), EchoHandler.ALPN, Trust.pinned(TLS.fingerprint()), t);
    }

    @Override
    public void close() {
      server.shutdown(Duration.ofMillis(500));
      client.close();
      serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
      clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  static EndpointServer newServer(TlsIdentity tls, EndpointLimits limits, EventLoopGroup group) {
    return new EndpointServer(
        HandlerRegistry.of(new EchoHandler()),
        tls,
        new ConfigIdentityProvider(
            () -> IdentityDirectory.EMPTY, Clock.systemUTC(), TokenPolicy.DEFAULT),
        limits,
        EndpointServer.Options.loopback(0),
        group,
        new EndpointMetrics(new SimpleMeterRegistry()));
  }

  // ---------------------------------------------------------------- (a) throughput

  private void throughputAll() throws Exception {
    try (Node node = new Node(benchLimits())) {
      // Warm-up pass over every case (JIT, pools), not recorded.
      int measure = durationSec;
      durationSec = warmupSec;
      for (Transport t : transports()) {
        for (int streams : counts("streams", "1,8")) {
          System.out.print("(warm-up) ");
          throughput(node, t, streams, false);
        }
      }
      durationSec = measure;
      for (Transport t : transports()) {
        for (int streams : counts("streams", "1,8")) {
          double mbps = throughput(node, t, streams, true);
          record("echo_" + t.name().toLowerCase(Locale.ROOT) + "_" + streams + "_MBps", fmt(mbps));
        }
      }
    }
  }

  /** Bytes written and read back on one stream; the writer stays at most a window ahead. */
  private static final class Flow {
    private long sent;
    private long received;

    synchronized void awaitRoom(long window, AtomicBoolean stop) throws InterruptedException {
      while (window > 0 && sent - received > window && !stop.get()) {
        wait(10);
      }
    }

    synchronized void sent(int n) {
      sent += n;
    }

    synchronized void received(int n) {
      received += n;
      notifyAll();
    }
  }

  /**
   * Echo throughput in MB/s (10^6 bytes) of bytes read back, summed over all streams.
   *
   * <p>Each stream has a writer and a reader thread. The writer keeps at most {@code window} bytes
   * (default 4 MiB) not yet echoed back: netty-quic stream channels ignore the write-buffer
   * watermarks, so without that cap a writer queues without bound on the event loop over QUIC (see
   * docs/benchmarks.md); {@code window=0} turns the cap off.
   */
  private double throughput(Node node, Transport transport, int streams, boolean report)
      throws Exception {
    String label = transport.name().toLowerCase(Locale.ROOT) + "_" + streams;
    long window = Long.parseLong(opts.getOrDefault("window", Integer.toString(4 << 20)));
    List<Connection> conns = new ArrayList<>();
    List<net.alknet.endpoint.Stream> ss = new ArrayList<>();
    if (transport == Transport.QUIC) {
      Connection c = node.connect(transport);
      conns.add(c);
      for (int i = 0; i < streams; i++) {
        ss.add(c.openStream());
      }
    } else {
      for (int i = 0; i < streams; i++) {
        Connection c = node.connect(transport);
        conns.add(c);
        ss.add(c.openStream());
      }
    }
    AtomicBoolean stop = new AtomicBoolean();
    LongAdder received = new LongAdder();
    AtomicLong errors = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (net.alknet.endpoint.Stream s : ss) {
      Flow flow = new Flow();
      Thread w =
          new Thread(
              () -> {
                byte[] buf = new byte[CHUNK];
                try (OutputStream out = s.output()) {
                  while (!stop.get()) {
                    flow.awaitRoom(window, stop);
                    out.write(buf);
                    flow.sent(buf.length);
                  }
                } catch (IOException | InterruptedException e) {
                  errors.incrementAndGet();
                  System.err.println("writer: " + e);
                }
              },
              "bench-writer");
      Thread r =
          new Thread(
              () -> {
                byte[] buf = new byte[CHUNK];
                try {
                  InputStream in = s.input();
                  int n;
                  while ((n = in.read(buf)) >= 0) {
                    received.add(n);
                    flow.received(n);
                  }
                } catch (IOException e) {
                  errors.incrementAndGet();
                  System.err.println("reader: " + e);
                }
              },
              "bench-reader");
      threads.add(w);
      threads.add(r);
    }
    threads.forEach(Thread::start);
    Thread.sleep(warmupSec * 1000L);
    Map<String, long[]> cpu0 = ThreadCpu.sample();
    long b0 = received.sum();
    long t0 = System.nanoTime();
    Thread.sleep(durationSec * 1000L);
    long b1 = received.sum();
    long t1 = System.nanoTime();
    Map<String, long[]> cpu1 = ThreadCpu.sample();
    stop.set(true);
    long d0 = System.nanoTime();
    boolean drained = true;
    for (Thread t : threads) {
      t.join(Math.max(1, d0 + 30_000_000_000L - System.nanoTime()) / 1_000_000);
      if (t.isAlive()) {
        drained = false;
        System.err.println("thread did not finish: " + t.getName());
        if (opts.containsKey("dump")) {
          for (var e : Thread.getAllStackTraces().entrySet()) {
            System.err.println(e.getKey() + " " + java.util.Arrays.toString(e.getValue()));
          }
        }
      }
    }
    double drainSec = (System.nanoTime() - d0) / 1e9;
    for (Thread t : threads) {
      t.interrupt();
    }
    for (Connection c : conns) {
      c.close(CloseCode.NO_ERROR, "");
    }
    double seconds = (t1 - t0) / 1e9;
    double mbps = (b1 - b0) / MB / seconds;
    String cpu = ThreadCpu.describe(cpu0, cpu1, seconds);
    System.out.printf(
        Locale.ROOT,
        "echo %s x%d: %.1f MB/s (%d bytes in %.2f s, errors %d, drain %.1f s)%n  cpu: %s%n",
        transport,
        streams,
        mbps,
        b1 - b0,
        seconds,
        errors.get(),
        drainSec,
        cpu);
    if (report) {
      record("echo_" + label + "_cpu", "\"" + cpu + "\"");
      record("echo_" + label + "_drain_s", fmt(drainSec) + (drained ? "" : "+"));
    }
    if (errors.get() > 0) {
      record("echo_" + label + "_errors", Long.toString(errors.get()));
    }
    Thread.sleep(300);
    return mbps;
  }

  /**
   * CPU time and run-queue wait per thread group of this JVM (Linux): {cpu ns, wait ns} from
   * schedstat (time on CPU, time runnable but waiting for a CPU).
   */
  static final class ThreadCpu {
    static Map<String, long[]> sample() {
      return BenchSupport.threadCpu(BenchSupport.SELF, ThreadCpu::group);
    }

    /** Thread names with numbers stripped, the rest of the JVM's threads folded into "other". */
    static String group(String comm) {
      if (comm.startsWith("bench-") || comm.startsWith("srv-") || comm.startsWith("cli-")) {
        return comm.replaceAll("[-#0-9]+$", "");
      }
      if (comm.startsWith("alknet-echo") || comm.startsWith("alknet-handle")) {
        return comm.startsWith("alknet-echo") ? "echo" : "handler";
      }
      return "other";
    }

    /**
     * "group NN%" (percent of one core on CPU) for groups above 2%, busiest first, the total, and
     * how long runnable threads waited for a CPU (a sign of a busy machine).
     */
    static String describe(Map<String, long[]> a, Map<String, long[]> b, double seconds) {
      return BenchSupport.describeCpu(a, b, seconds, 2, "runnable but waiting for a CPU");
    }
  }

  // ---------------------------------------------------------------- (b) handshakes

  private void handshakesAll() throws Exception {
    try (Node node = new Node(benchLimits())) {
      for (Transport t : transports()) {
        for (int loops : counts("loops", "1,2")) {
          double rate = handshakes(node, t, loops);
          record(
              "handshakes_" + t.name().toLowerCase(Locale.ROOT) + "_" + loops + "_per_s",
              fmt(rate));
        }
      }
    }
  }

  /** Connect + close (waiting until the client sees the connection closed), in N loops. */
  private double handshakes(Node node, Transport transport, int loops) throws Exception {
    AtomicBoolean measuring = new AtomicBoolean();
    AtomicBoolean stop = new AtomicBoolean();
    LongAdder done = new LongAdder();
    LongAdder connectNanos = new LongAdder();
    LongAdder closeNanos = new LongAdder();
    AtomicLong errors = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < loops; i++) {
      threads.add(
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    long a = System.nanoTime();
                    Connection c = node.connect(transport);
                    long b = System.nanoTime();
                    c.close(CloseCode.NO_ERROR, "");
                    c.closed().toCompletableFuture().get(5, TimeUnit.SECONDS);
                    if (measuring.get()) {
                      done.increment();
                      connectNanos.add(b - a);
                      closeNanos.add(System.nanoTime() - b);
                    }
                  } catch (Exception e) {
                    if (errors.incrementAndGet() < 5) {
                      System.err.println("handshake: " + e);
                    }
                  }
                }
              },
              "bench-connect"));
    }
    threads.forEach(Thread::start);
    Thread.sleep(Math.max(1, warmupSec) * 1000L);
    measuring.set(true);
    Map<String, long[]> cpu0 = ThreadCpu.sample();
    long t0 = System.nanoTime();
    Thread.sleep(durationSec * 1000L);
    long n = done.sum();
    long t1 = System.nanoTime();
    Map<String, long[]> cpu1 = ThreadCpu.sample();
    String cpu = ThreadCpu.describe(cpu0, cpu1, (t1 - t0) / 1e9);
    String split =
        String.format(
            Locale.ROOT,
            "connect %.1f ms + close %.1f ms",
            connectNanos.sum() / 1e6 / Math.max(1, n),
            closeNanos.sum() / 1e6 / Math.max(1, n));
    String label = transport.name().toLowerCase(Locale.ROOT) + "_" + loops;
    record("handshakes_" + label + "_split", "\"" + split + "\"");
    record("handshakes_" + label + "_cpu", "\"" + cpu + "\"");
    stop.set(true);
    for (Thread t : threads) {
      t.join(20_000);
    }
    double rate = n / ((t1 - t0) / 1e9);
    System.out.printf(
        Locale.ROOT,
        "handshakes %s x%d loops: %.1f/s (%d in %.2f s, errors %d; %s)%n  cpu: %s%n",
        transport,
        loops,
        rate,
        n,
        (t1 - t0) / 1e9,
        errors.get(),
        split,
        cpu);
    Thread.sleep(500); // let the server retire the last connections
    return rate;
  }

  // ---------------------------------------------------------------- (c) idle memory

  /** Heap used after GC and VmRSS of this process, in bytes. */
  static long[] memory() {
    for (int i = 0; i < 4; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    long rss = -1;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      // not Linux
    }
    int threads = ManagementFactory.getThreadMXBean().getThreadCount();
    return new long[] {heap, rss, threads};
  }

  /** Child JVM: a node with one event-loop thread; answers MEM and EXIT on stdin. */
  private static void serveChild() throws Exception {
    TlsIdentity tls = TlsIdentity.generate();
    NioEventLoopGroup group = new NioEventLoopGroup(1);
    EndpointServer server =
        newServer(
            tls,
            EndpointLimits.DEFAULTS
                .withMaxConnections(100_000, 100_000)
                .withTimeouts(Duration.ofSeconds(10), Duration.ofMinutes(10)),
            group);
    server.start();
    PrintStream out = System.out;
    out.println("READY " + server.port() + " " + tls.fingerprint());
    out.flush();
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.equals("MEM")) {
        long[] m = memory();
        out.println(
            "MEM " + m[0] + " " + m[1] + " " + m[2] + " " + server.status().openConnections());
        out.flush();
      } else if (line.equals("EXIT")) {
        break;
      }
    }
    server.shutdown(Duration.ofMillis(200));
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    System.exit(0);
  }

  private static final class Child implements AutoCloseable {
    final Process process;
    final BufferedReader out;
    final PrintStream in;
    final int port;
    final String fingerprint;

    Child(Path childLog) throws IOException {
      process =
          BenchSupport.startChildJvm(
              BenchSupport.ownJvmOptions(),
              EndpointBench.class,
              "--serve-child",
              childLog.toString());
      out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      in = new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8);
      String[] ready = expect("READY");
      port = Integer.parseInt(ready[1]);
      fingerprint = ready[2];
    }

    String[] expect(String prefix) throws IOException {
      return BenchSupport.expect(out, prefix, "child", "server child");
    }

    /** heap, rss, threads, open connections. */
    long[] memory() throws IOException {
      in.println("MEM");
      String[] m = expect("MEM");
      return new long[] {
        Long.parseLong(m[1]), Long.parseLong(m[2]), Long.parseLong(m[3]), Long.parseLong(m[4])
      };
    }

    @Override
    public void close() throws InterruptedException {
      in.println("EXIT");
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroy();
      }
    }
  }

  private void idleMemory() throws Exception {
    int n = idleConnections;
    EndpointLimits limits = benchLimits();
    NioEventLoopGroup clientGroup = new NioEventLoopGroup(1);
    EndpointClient client =
        new EndpointClient(
            clientGroup, Optional.empty(), limits, new EndpointMetrics(new SimpleMeterRegistry()));
    List<Connection> conns = new ArrayList<>();
    try (Child child = new Child(Path.of(opts.get("log") + ".server"))) {
      Trust trust = Trust.pinned(child.fingerprint);
      // Warm up both sides (class loading, JIT, pools) with a few connections first.
      for (int i = 0; i < 20; i++) {
        client
            .connect("127.0.0.1", child.port, EchoHandler.ALPN, trust, Transport.QUIC)
            .close(CloseCode.NO_ERROR, "");
      }
      Thread.sleep(1000);
      long[] s0 = child.memory();
      long[] c0 = memory();
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        conns.add(client.connect("127.0.0.1", child.port, EchoHandler.ALPN, trust, Transport.QUIC));
      }
      double openSec = (System.nanoTime() - t0) / 1e9;
      Thread.sleep(2000);
      long[] s1 = child.memory();
      long[] c1 = memory();
      long open = conns.stream().filter(Connection::isOpen).count();
      System.out.printf(
          Locale.ROOT,
          "idle QUIC: %d connections opened in %.1f s; %d open on the client, %d on the server%n",
          n,
          openSec,
          open,
          s1[3]);
      System.out.printf(
          Locale.ROOT,
          "  server: heap %d -> %d, RSS %d -> %d, threads %d -> %d%n",
          s0[0],
          s1[0],
          s0[1],
          s1[1],
          s0[2],
          s1[2]);
      System.out.printf(
          Locale.ROOT,
          "  client: heap %d -> %d, RSS %d -> %d, threads %d -> %d%n",
          c0[0],
          c1[0],
          c0[1],
          c1[1],
          c0[2],
          c1[2]);
      record("idle_quic_connections", Integer.toString(n));
      record("idle_quic_open_server", Long.toString(s1[3]));
      record("idle_quic_server_heap_KiB_per_conn", fmt((s1[0] - s0[0]) / 1024.0 / n));
      record("idle_quic_server_rss_KiB_per_conn", fmt((s1[1] - s0[1]) / 1024.0 / n));
      record("idle_quic_server_threads_added", Long.toString(s1[2] - s0[2]));
      record("idle_quic_client_heap_KiB_per_conn", fmt((c1[0] - c0[0]) / 1024.0 / n));
      record("idle_quic_client_rss_KiB_per_conn", fmt((c1[1] - c0[1]) / 1024.0 / n));
      record("idle_quic_client_threads_added", Long.toString(c1[2] - c0[2]));
      record("idle_quic_open_per_s", fmt(n / openSec));
      for (Connection c : conns) {
        c.close(CloseCode.NO_ERROR, "");
      }
      Thread.sleep(500);
    } finally {
      client.close();
      clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }
}

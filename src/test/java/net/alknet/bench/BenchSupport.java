package net.alknet.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * What the bench mains ({@link EndpointBench}, {@link CallBench}) share: {@code key=value} options,
 * the {@code RESULT key value} lines, logging, the load average, CPU time from /proc (Linux) and
 * child JVMs.
 */
final class BenchSupport {

  /** This JVM's process id. */
  static final long SELF = ProcessHandle.current().pid();

  private BenchSupport() {}

  // ---------------------------------------------------------------- options and results

  /** {@code key=value} arguments from {@code args[from]} on, in order; a bare {@code key} is "". */
  static Map<String, String> options(String[] args, int from) {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = from; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      opts.put(kv[0], kv.length > 1 ? kv[1] : "");
    }
    return opts;
  }

  /** Comma-separated whole numbers. */
  static int[] ints(String csv) {
    return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
  }

  /** One decimal, the way results are recorded. */
  static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /**
   * The results of a run: each printed as one line {@code RESULT key value} when recorded, and all
   * of them written to the results file at the end (bench/*.sh read that file).
   */
  static final class Results {
    private final Map<String, String> values = new LinkedHashMap<>();

    void record(String key, String value) {
      values.put(key, value);
      System.out.println("RESULT " + key + " " + value);
    }

    /** The JVM and the machine: {@code java_version} and {@code cpus}. */
    void recordJvm() {
      record("java_version", System.getProperty("java.version"));
      record("cpus", Integer.toString(Runtime.getRuntime().availableProcessors()));
    }

    void write(Path out) throws IOException {
      StringBuilder sb = new StringBuilder();
      values.forEach((k, v) -> sb.append("RESULT ").append(k).append(' ').append(v).append('\n'));
      Files.createDirectories(out.toAbsolutePath().getParent());
      Files.writeString(out, sb.toString());
      System.out.println("results written to " + out);
    }
  }

  /** "1/5/15" minute load average from /proc/loadavg, or "n/a". */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + "/" + f[1] + "/" + f[2];
    } catch (IOException e) {
      return "n/a";
    }
  }

  // ---------------------------------------------------------------- logging

  /**
   * Logs into the file given as {@code log=} (default: the results file + ".log"), and puts that
   * file back into {@code opts} as {@code log}. See {@link #configureLogging(Path)}.
   */
  static void configureLogging(Map<String, String> opts, Path results) throws IOException {
    Path log = Path.of(opts.getOrDefault("log", results + ".log"));
    configureLogging(log);
    opts.put("log", log.toString());
  }

  /**
   * Logging as the node has it by default (INFO; one line per accepted connection), into a file.
   *
   * <p>Without this, a plain JVM with Quarkus on the class path runs with Quarkus's initial logging
   * configuration: every level enabled and records queued in a delayed handler. Netty QUIC then
   * sees DEBUG enabled and turns on quiche's per-packet debug logging, which dominates the QUIC
   * profile. Must run before any Netty class is loaded.
   */
  static void configureLogging(Path file) throws IOException {
    // As in a Quarkus application: JBoss Logging and JUL go through the JBoss log manager.
    System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    org.jboss.logmanager.handlers.FileHandler handler =
        new org.jboss.logmanager.handlers.FileHandler(file.toString(), false);
    handler.setFormatter(
        new org.jboss.logmanager.formatters.PatternFormatter(
            "%d{HH:mm:ss,SSS} %-5p [%c{3.}] (%t) %s%e%n"));
    handler.setAutoFlush(false);
    io.quarkus.bootstrap.logging.InitialConfigurator.DELAYED_HANDLER.setHandlers(
        new java.util.logging.Handler[] {handler});
    org.jboss.logmanager.LogContext.getLogContext()
        .getLogger("")
        .setLevel(java.util.logging.Level.INFO);
  }

  // ---------------------------------------------------------------- CPU accounting (/proc)

  private static final long TICK_NS = 10_000_000L; // USER_HZ = 100

  /** utime + stime of a whole process (threads that ended included), in nanoseconds. */
  static long processCpu(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * TICK_NS;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /**
   * {cpu ns, runnable-but-waiting ns} per thread group, from the schedstat of a process's live
   * threads. GC threads are grouped as {@code gc}, JIT compiler threads as {@code jit}; {@code
   * group} names the group of every other thread from its name (15 characters in /proc).
   */
  static Map<String, long[]> threadCpu(long pid, UnaryOperator<String> group) {
    Map<String, long[]> m = new TreeMap<>();
    File[] tasks = new File("/proc/" + pid + "/task").listFiles();
    if (tasks == null) {
      return m;
    }
    for (File t : tasks) {
      try {
        String comm = Files.readString(t.toPath().resolve("comm")).trim();
        String[] f = Files.readString(t.toPath().resolve("schedstat")).trim().split(" ");
        long[] v = m.computeIfAbsent(jvmGroup(comm, group), k -> new long[2]);
        v[0] += Long.parseLong(f[0]);
        v[1] += Long.parseLong(f[1]);
      } catch (IOException | RuntimeException e) {
        // thread ended
      }
    }
    return m;
  }

  private static String jvmGroup(String comm, UnaryOperator<String> group) {
    if (comm.startsWith("GC ") || comm.startsWith("G1 ")) {
      return "gc";
    }
    if (comm.contains("Compiler")) {
      return "jit";
    }
    return group.apply(comm);
  }

  /**
   * "group NN%" (percent of one core on CPU) between two {@link #threadCpu} samples, for groups of
   * at least {@code minPercent}, busiest first; then the total, and how long runnable threads
   * waited for a CPU (a sign of a busy machine), introduced by {@code waitLabel}.
   */
  static String describeCpu(
      Map<String, long[]> a,
      Map<String, long[]> b,
      double seconds,
      int minPercent,
      String waitLabel) {
    Map<String, long[]> d = new HashMap<>();
    b.forEach(
        (k, v) -> {
          long[] before = a.getOrDefault(k, new long[2]);
          d.put(k, new long[] {v[0] - before[0], v[1] - before[1]});
        });
    double scale = seconds * 1e7; // ns -> percent of one core
    long total = d.values().stream().mapToLong(v -> v[0]).sum();
    long waited = d.values().stream().mapToLong(v -> v[1]).sum();
    StringBuilder sb = new StringBuilder();
    d.entrySet().stream()
        .sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0]))
        .filter(e -> e.getValue()[0] / scale >= minPercent)
        .forEach(
            e ->
                sb.append(e.getKey())
                    .append(' ')
                    .append(Math.round(e.getValue()[0] / scale))
                    .append("%, "));
    return sb.append("total ")
        .append(Math.round(total / scale))
        .append("%; ")
        .append(waitLabel)
        .append(' ')
        .append(Math.round(waited / scale))
        .append('%')
        .toString();
  }

  // ---------------------------------------------------------------- child JVMs

  /** The {@code java} launcher of this JVM. */
  static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The JVM options this JVM was started with. */
  static List<String> ownJvmOptions() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments();
  }

  /**
   * Starts {@code main} of a bench class in a child JVM with this JVM's class path; the child's
   * stderr goes to ours, its stdout is the returned process's input stream.
   */
  static Process startChildJvm(List<String> jvmOptions, Class<?> main, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(javaBinary());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  /**
   * Reads a child's output up to the first line that starts with {@code prefix} and a space, and
   * returns that line split at spaces; the lines before it are printed as {@code [tag] line}.
   *
   * @throws IOException if the output ends first ("{@code who} exited before {@code prefix}")
   */
  static String[] expect(BufferedReader out, String prefix, String tag, String who)
      throws IOException {
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith(prefix + " ")) {
        return line.split(" ");
      }
      System.out.println("[" + tag + "] " + line);
    }
    throw new IOException(who + " exited before " + prefix);
  }
}

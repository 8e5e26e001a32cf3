package net.alknet.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import net.alknet.auth.ApiKeys;
import net.alknet.auth.AuthToken;
import net.alknet.auth.LocalKeys;
import net.alknet.call.client.CallClient;
import net.alknet.call.client.CallOptions;
import net.alknet.call.client.PendingCall;
import net.alknet.call.client.Subscription;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.FrameCodec;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.Trust;
import net.alknet.node.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code alknet call HOST[:PORT] OP [JSON]}: one call over ALPN alknet/call (CLI-1, CALL-12). */
@Command(
    name = "call",
    mixinStandardHelpOptions = true,
    description = {
      "Call operation OP (namespace/name, e.g. demo/echo) on the node at HOST[:PORT] (port"
          + " defaults to 4433) with input JSON (default {}; - reads it from stdin), and print the"
          + " output as JSON on stdout.",
      "With --stream, call a subscription and print each event as one JSON line until it"
          + " completes.",
      "Authenticates with an AuthToken minted from <data-dir>/id_ed25519 (also sent as the TLS"
          + " client certificate) when that key exists, or with an API key read from"
          + " --api-key-file. The node's certificate is pinned in <data-dir>/known_nodes on first"
          + " contact.",
      "Exits 0 on success; on a call error prints 'alknet: CODE: message' on stderr and exits 1;"
          + " Ctrl-C aborts the call (call.aborted) and exits 130.",
      "Example: alknet call node.example:4433 sys/describe"
    })
public class CallCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Mixin ConnectOptions connect;

  @Option(
      names = "--token",
      negatable = true,
      description =
          "Send an AuthToken minted from the client key in hello (default when the key exists;"
              + " --no-token for none).")
  Boolean token;

  @Option(
      names = "--api-key-file",
      paramLabel = "FILE",
      description = "Authenticate with the alk_ API key in FILE (keys are never taken from argv).")
  Path apiKeyFile;

  @Option(names = "--stream", description = "OP is a subscription: print events as JSON lines.")
  boolean stream;

  @Option(
      names = "--deadline",
      paramLabel = "DURATION",
      description = "Deadline for the call, e.g. 500ms, 5s, 2m (sent as deadlineMs).")
  String deadline;

  @Parameters(index = "0", paramLabel = "HOST[:PORT]", description = "The node.")
  String target;

  @Parameters(index = "1", paramLabel = "OP", description = "Operation, namespace/name.")
  String op;

  @Parameters(
      index = "2",
      arity = "0..1",
      paramLabel = "JSON",
      description = "Input (default {}; - reads stdin).")
  String json;

  private final Node node;

  public CallCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() throws Exception {
    BridgeCommand.HostPort hp = BridgeCommand.HostPort.parse(target);
    if (!EnvelopeCodec.OP_NAME.matcher(op).matches()) {
      throw new CliSupport.CliException(
          "bad operation '" + op + "': expected namespace/name, e.g. demo/echo");
    }
    JsonNode input = readInput();
    CallOptions options =
        deadline == null ? CallOptions.DEFAULT : CallOptions.deadline(parseDuration(deadline));
    Path dir = node.dataDir(dataDir.value());
    if (apiKeyFile != null && Boolean.TRUE.equals(token)) {
      throw new CliSupport.CliException("--token and --api-key-file exclude each other");
    }
    Path k = connect.keyFile(dir);
    boolean wantKey = !connect.noKey || Boolean.TRUE.equals(token);
    KeyPair pair = wantKey && (connect.key != null || Files.exists(k)) ? LocalKeys.load(k) : null;
    if (Boolean.TRUE.equals(token) && pair == null) {
      throw new CliSupport.CliException("--token needs a key, and " + k + " does not exist");
    }
    String auth = null;
    if (apiKeyFile != null) {
      auth = readApiKey(apiKeyFile);
    } else if (pair != null && (Boolean.TRUE.equals(token) || (token == null && !connect.noKey))) {
      auth = AuthToken.mint(pair, Instant.now());
    }
    Trust trust = connect.trust(dir);
    try (EndpointClient endpoints =
        new EndpointClient(
            null,
            connect.noKey ? Optional.empty() : Optional.ofNullable(pair),
            EndpointLimits.DEFAULTS,
            EndpointMetrics.none())) {
      CallClient client;
      try {
        client =
            CallClient.connect(
                endpoints,
                hp.host(),
                hp.port(),
                trust,
                connect.transport(),
                auth,
                "alknet-cli/" + version(),
                CallClient.Options.DEFAULTS.abortGrace(Duration.ofSeconds(2)));
      } catch (IOException e) {
        throw new CliSupport.CliException(CliSupport.oneLine(e));
      } catch (CallException e) {
        return callError(e);
      }
      try (client) {
        return stream ? runSubscription(client, input, options) : runCall(client, input, options);
      }
    }
  }

  private int runCall(CallClient client, JsonNode input, CallOptions options) throws Exception {
    PendingCall pending = client.start(op, input, options);
    Interrupts interrupts = Interrupts.install(pending::abort);
    try {
      JsonNode out = await(pending.result(), pending::abort);
      PrintStream stdout = System.out;
      stdout.println(
          System.console() != null
              ? EnvelopeCodec.json().writerWithDefaultPrettyPrinter().writeValueAsString(out)
              : EnvelopeCodec.json().writeValueAsString(out));
      stdout.flush();
      return 0;
    } catch (CallException e) {
      return interrupts.count() > 0 ? aborted(e) : callError(e);
    } finally {
      interrupts.uninstall();
    }
  }

  private int runSubscription(CallClient client, JsonNode input, CallOptions options)
      throws Exception {
    PrintStream stdout = System.out;
    Subscription sub =
        client.subscribe(
            op,
            input,
            event -> {
              try {
                stdout.println(EnvelopeCodec.json().writeValueAsString(event));
                stdout.flush();
              } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
              }
            },
            options);
    Interrupts interrupts = Interrupts.install(sub::abort);
    try {
      await(sub.done(), sub::abort);
      return 0;
    } catch (CallException e) {
      return interrupts.count() > 0 ? aborted(e) : callError(e);
    } finally {
      interrupts.uninstall();
    }
  }

  /** Waits for a call; interruption of this thread aborts it too. */
  private static <T> T await(CompletableFuture<T> f, Runnable abort) throws Exception {
    while (true) {
      try {
        return f.get();
      } catch (InterruptedException e) {
        abort.run();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof CallException ce) {
          throw ce;
        }
        throw new CliSupport.CliException(CliSupport.oneLine(e.getCause()));
      }
    }
  }

  private static int callError(CallException e) {
    System.err.println("alknet: " + e.code() + ": " + oneLine(e.error().message()));
    System.err.flush();
    return 1;
  }

  private static int aborted(CallException e) {
    callError(e);
    return 130;
  }

  private static String oneLine(String s) {
    int nl = s.indexOf('\n');
    return nl >= 0 ? s.substring(0, nl) : s;
  }

  private JsonNode readInput() throws IOException {
    String text;
    if (json == null) {
      text = "{}";
    } else if (json.equals("-")) {
      InputStream in = System.in;
      byte[] data = in.readNBytes(FrameCodec.DEFAULT_MAX_FRAME + 1);
      if (data.length > FrameCodec.DEFAULT_MAX_FRAME) {
        throw new CliSupport.CliException("JSON input on stdin exceeds 1 MiB");
      }
      text = new String(data, StandardCharsets.UTF_8);
    } else {
      text = json;
    }
    try {
      JsonNode n = EnvelopeCodec.json().readTree(text);
      if (n == null || n.isMissingNode()) {
        throw new CliSupport.CliException("JSON input is empty");
      }
      return n;
    } catch (JsonProcessingException e) {
      throw new CliSupport.CliException(
          "JSON input is not valid JSON: " + oneLine(e.getOriginalMessage()));
    }
  }

  private static String readApiKey(Path file) throws IOException {
    byte[] data;
    try (InputStream in = Files.newInputStream(file)) {
      data = in.readNBytes(4097);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new CliSupport.CliException("API key file " + file + " does not exist");
    }
    String s = new String(data, StandardCharsets.UTF_8).strip();
    if (!ApiKeys.isWellFormed(s)) {
      throw new CliSupport.CliException(
          "API key file " + file + " does not hold an alknet API key (alk_…)");
    }
    return s;
  }

  static Duration parseDuration(String s) {
    return CliConventions.parseDuration("--deadline", s, false);
  }

  private static String version() {
    String v = CallCommand.class.getPackage().getImplementationVersion();
    return v == null ? "0.1.0-SNAPSHOT" : v;
  }

  /**
   * Ctrl-C handling: the first SIGINT aborts the call (the node answers ABORTED and the command
   * exits 130); a second one exits at once through the JVM's usual shutdown.
   */
  static final class Interrupts {
    private final AtomicInteger count = new AtomicInteger();
    private sun.misc.Signal signal;
    private sun.misc.SignalHandler previous;

    static Interrupts install(Runnable abort) {
      Interrupts i = new Interrupts();
      try {
        i.signal = new sun.misc.Signal("INT");
        i.previous =
            sun.misc.Signal.handle(
                i.signal,
                sig -> {
                  if (i.count.incrementAndGet() == 1) {
                    abort.run();
                  } else if (i.previous != null
                      && i.previous != sun.misc.SignalHandler.SIG_DFL
                      && i.previous != sun.misc.SignalHandler.SIG_IGN) {
                    i.previous.handle(sig);
                  } else {
                    System.exit(130);
                  }
                });
      } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
        // No signal support here: Ctrl-C ends the JVM without an abort; the node then aborts the
        // call when the connection drops (CALL-6).
        i.signal = null;
      }
      return i;
    }

    int count() {
      return count.get();
    }

    void uninstall() {
      if (signal != null && previous != null) {
        try {
          sun.misc.Signal.handle(signal, previous);
        } catch (IllegalArgumentException e) {
          // ignore
        }
      }
    }
  }
}

package net.alknet.cli;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.Transport;
import net.alknet.git.GitRequest;
import net.alknet.ssh.io.Duplex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code alknet git-remote}: the git remote helper behind {@code git-remote-alknet} (GIT-3), so
 * stock git handles {@code alknet://host:port/repo} (QUIC) and {@code alknet+tcp://host:port/repo}
 * (TLS/TCP) URLs.
 *
 * <p>It speaks git's remote-helper protocol with the {@code connect} capability: on {@code connect
 * git-upload-pack} it opens an {@code alknet/git} connection, sends the first message (the git://
 * request, with {@code version=2} when git's {@code protocol.version} is 2, the default), answers
 * git with an empty line and then joins git's pipes to the stream, so git speaks its native
 * protocol end to end. Authenticates like {@code alknet bridge}: {@code <data-dir>/id_ed25519} as
 * the TLS client certificate, the node pinned in {@code <data-dir>/known_nodes}.
 */
@Command(
    name = "git-remote",
    aliases = "git-remote-alknet",
    mixinStandardHelpOptions = true,
    description = {
      "git remote helper for alknet:// (QUIC) and alknet+tcp:// (TLS/TCP) URLs; git runs it as"
          + " git-remote-alknet (bin/), e.g. for `git clone alknet://node:4433/team/app`.",
      "Authenticates with <data-dir>/id_ed25519 as a TLS client certificate; pins the node in"
          + " <data-dir>/known_nodes. Set ALKNET_DATA_DIR to use another data directory."
    })
public class GitRemoteCommand implements Callable<Integer> {

  static final String SCHEME = "alknet://";
  static final String SCHEME_TCP = "alknet+tcp://";
  private static final int MAX_COMMAND = 1024;

  @Mixin DataDirOption dataDir;

  @Mixin ConnectOptions connect;

  @Parameters(index = "0", paramLabel = "REMOTE", description = "The remote's name (from git).")
  String remote;

  @Parameters(
      index = "1",
      arity = "0..1",
      paramLabel = "URL",
      description = "alknet://HOST[:PORT]/REPO or alknet+tcp://HOST[:PORT]/REPO (from git).")
  String url;

  /** A parsed remote URL. */
  record Target(String host, int port, String path, Transport transport) {

    /** Parses {@code alknet://h:p/repo}, {@code alknet+tcp://h:p/repo} or {@code h:p/repo}. */
    static Target parse(String url, boolean tcp) {
      String rest = url;
      Transport t = tcp ? Transport.TCP : Transport.QUIC;
      if (rest.startsWith(SCHEME_TCP)) {
        rest = rest.substring(SCHEME_TCP.length());
        t = Transport.TCP;
      } else if (rest.startsWith(SCHEME)) {
        rest = rest.substring(SCHEME.length());
      } else if (rest.contains("://")) {
        throw new CliSupport.CliException(
            "unsupported URL '" + url + "' (expected alknet://HOST[:PORT]/REPO)");
      }
      int slash = rest.indexOf('/', rest.startsWith("[") ? Math.max(rest.indexOf(']'), 0) : 0);
      if (slash <= 0 || slash == rest.length() - 1) {
        throw new CliSupport.CliException(
            "no repository in URL '" + url + "' (expected alknet://HOST[:PORT]/REPO)");
      }
      BridgeCommand.HostPort hp = BridgeCommand.HostPort.parse(rest.substring(0, slash));
      return new Target(hp.host(), hp.port(), rest.substring(slash), t);
    }

    /** {@code host:port} as sent in the request's {@code host=} field. */
    String authority() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  private Target target; // set by begin()
  private Opening opening; // set by begin()
  private FutureTask<Integer> version; // git's protocol.version, asked for by begin()
  private RuntimeException beginFailure; // thrown by call()

  /**
   * Parses the URL and starts connecting, on threads of their own: loading the key, initialising
   * netty and the handshake are most of a helper's start, and git waits for all of it. {@link
   * ClientMain} calls this first, so the connection is being made while the rest of the JVM's start
   * (logging) and the exchange of helper commands with git go on. Never throws; a failure (a bad
   * URL) is {@link #call()}'s to report. Idempotent.
   */
  void begin() {
    if (target != null || beginFailure != null) {
      return;
    }
    try {
      target = Target.parse(url != null ? url : remote, connect.tcp);
      opening = Opening.start(target, dataDir.resolve(), connect);
      // Only a fetch needs it, but git says which service it wants only after the helper's
      // start: asking now takes the `git config` child off the path to the first byte.
      version = new FutureTask<>(GitRemoteCommand::protocolVersion);
      Thread t = new Thread(version, "git-remote-config");
      t.setDaemon(true);
      t.start();
    } catch (RuntimeException e) {
      beginFailure = e;
    }
  }

  @Override
  public Integer call() throws Exception {
    begin();
    if (beginFailure != null) {
      throw beginFailure;
    }
    InputStream in = System.in;
    OutputStream out = new FileOutputStream(FileDescriptor.out);
    try (Opening o = opening) {
      while (true) {
        String line = readLine(in);
        if (line == null || line.isEmpty()) {
          return 0;
        }
        if (line.equals("capabilities")) {
          write(out, "connect\n\n");
        } else if (line.startsWith("connect ")) {
          return connect(target, line.substring("connect ".length()), o, in, out);
        } else {
          throw new CliSupport.CliException("unsupported remote-helper command '" + line + "'");
        }
      }
    }
  }

  private int connect(
      Target target, String serviceName, Opening opening, InputStream in, OutputStream out)
      throws Exception {
    GitRequest.Service service =
        switch (serviceName) {
          case "git-upload-pack" -> GitRequest.Service.UPLOAD_PACK;
          case "git-receive-pack" -> GitRequest.Service.RECEIVE_PACK;
          default -> throw new CliSupport.CliException("unsupported git service " + serviceName);
        };
    List<String> params =
        service == GitRequest.Service.UPLOAD_PACK && version.get() == 2
            ? List.of("version=2")
            : List.of();
    GitRequest request =
        new GitRequest(service, target.path(), Optional.of(target.authority()), params);
    Duplex link = opening.link();
    try {
      link.output().write(request.encode());
      write(out, "\n"); // connection established: from now on git speaks its own protocol
      Thread up = new Thread(() -> pumpUp(in, link.output()), "git-remote-stdin");
      up.setDaemon(true);
      up.start();
      byte[] buf = new byte[64 * 1024];
      InputStream from = link.input();
      int n;
      while ((n = from.read(buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
      }
      return 0;
    } catch (IOException e) {
      throw new CliSupport.CliException(
          "git over alknet to " + target.authority() + " failed: " + e.getMessage());
    } finally {
      link.close();
    }
  }

  /**
   * The {@code alknet/git} stream, opened on a thread of its own from the helper's start, so the
   * helper's start overlaps its exchange with git: through the agent if one runs for the data
   * directory ({@code alknet agent}; not with --key, --no-key or --fingerprint, whose choice the
   * agent cannot make, nor with {@code ALKNET_AGENT=0}), else on a connection of our own (a second
   * thread preloads the transport meanwhile, {@link EndpointClient#preload}). Closing it closes the
   * client.
   */
  static final class Opening implements AutoCloseable {
    private final FutureTask<Duplex> task;
    private EndpointClient client; // guarded by this
    private boolean closed; // guarded by this

    private Opening(Target target, Path dir, ConnectOptions options) {
      this.task =
          new FutureTask<>(
              () -> {
                if (useAgent(options)) {
                  Agent.Session session =
                      Agent.open(
                          dir,
                          new Agent.Request(
                              target.transport(), target.host(), target.port(), "alknet/git"));
                  if (session != null) {
                    return session;
                  }
                }
                Thread preload =
                    new Thread(() -> EndpointClient.preload(target.transport()), "git-remote-load");
                preload.setDaemon(true);
                preload.start();
                Optional<KeyPair> clientKey = options.clientKey(dir);
                EndpointClient c =
                    new EndpointClient(
                        null, clientKey, EndpointLimits.DEFAULTS, EndpointMetrics.none());
                synchronized (this) {
                  if (closed) {
                    c.close();
                    throw new CancellationException("closed before connecting");
                  }
                  client = c;
                }
                Connection conn =
                    c.connect(
                        target.host(),
                        target.port(),
                        "alknet/git",
                        options.trust(dir),
                        target.transport());
                return Duplex.ofConnection(conn, conn.openStream());
              });
    }

    /**
     * Whether to try the agent: not when the options choose a key or trust (the agent has its own),
     * nor with {@code ALKNET_AGENT=0}, nor in the run that makes the launcher's class data sharing
     * archive ({@code -Dalknet.cds.dump}), which must load the classes of a connection of its own.
     */
    static boolean useAgent(ConnectOptions options) {
      return options.key == null
          && options.fingerprint == null
          && !options.noKey
          && !"0".equals(System.getenv("ALKNET_AGENT"))
          && !Boolean.getBoolean("alknet.cds.dump");
    }

    static Opening start(Target target, Path dir, ConnectOptions options) {
      Opening o = new Opening(target, dir, options);
      Thread t = new Thread(o.task, "git-remote-connect");
      t.setDaemon(true);
      t.start();
      return o;
    }

    /** Waits for the stream; its failure (key, trust, network, agent) is rethrown as it was. */
    Duplex link() throws Exception {
      try {
        return task.get();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof Exception cause) {
          throw cause;
        }
        throw e;
      }
    }

    /** Closes the client (and with it the connection), or keeps one from being made. */
    @Override
    public void close() {
      EndpointClient c;
      synchronized (this) {
        closed = true;
        c = client;
      }
      if (c != null) {
        c.close();
      }
    }
  }

  private static void pumpUp(InputStream in, OutputStream toNode) {
    try (OutputStream out = toNode) {
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
    } catch (IOException e) {
      // The stream closed under us: the reading side reports it.
    }
  }

  /**
   * git's {@code protocol.version} (command line {@code -c}, repository and user config alike, as
   * the environment git gives its helpers carries them); 2, git's default, when unset or unknown.
   */
  static int protocolVersion() {
    try {
      Process p =
          new ProcessBuilder("git", "config", "--get", "protocol.version")
              .redirectErrorStream(true)
              .start();
      p.getOutputStream().close();
      String v = new String(p.getInputStream().readNBytes(64), StandardCharsets.UTF_8).strip();
      if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
        return v.equals("0") ? 0 : v.equals("1") ? 1 : 2;
      }
      p.destroyForcibly();
    } catch (IOException e) {
      // no git on PATH: git itself runs us, so this does not happen in practice
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 2;
  }

  /** One LF-terminated command line, read byte by byte so nothing after it is consumed. */
  static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      if (b.size() == MAX_COMMAND) {
        throw new CliSupport.CliException("remote-helper command too long");
      }
      b.write(c);
    }
    if (c < 0 && b.size() == 0) {
      return null;
    }
    return b.toString(StandardCharsets.UTF_8);
  }

  private static void write(OutputStream out, String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }
}

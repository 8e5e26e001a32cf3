package net.alknet.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;
import net.alknet.endpoint.CloseCode;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.Transport;
import net.alknet.ssh.io.Duplex;

/**
 * The client agent ({@code alknet agent}): a long-running client JVM that makes connections to
 * nodes for short-lived client commands. A git helper is a new JVM per git command, and most of its
 * time before the first byte goes to starting cold (JCA, netty, BoringSSL or quiche, the handshake
 * code); through the agent, the helper only joins git's pipes to a Unix socket, and the agent,
 * warm, connects in a few milliseconds. Like OpenSSH's ControlMaster, without sharing connections:
 * every session is a connection of its own, made with the agent's key and trust.
 *
 * <p>The socket is {@code <data-dir>/agent.sock}, mode {@code rw-------}, and the agent serves only
 * peers of its own user (SO_PEERCRED), at most {@value #MAX_SESSIONS} at once (one more is closed
 * unanswered and connects by itself). A session: the client sends one line, {@code alknet-agent 1
 * quic|tcp HOST PORT ALPN}, the agent answers {@code ok} once the connection and its stream are
 * open or {@code error MESSAGE}, both one line; then the socket carries the stream's bytes both
 * ways, a half-close on either side passing on to the other.
 */
final class Agent implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(Agent.class.getName());

  /** The socket's file name in the data directory. */
  static final String SOCKET = "agent.sock";

  static final String MAGIC = "alknet-agent 1";

  /** Longest request line, newline included. */
  static final int MAX_REQUEST = 512;

  /** Longest path the JDK can bind or connect a Unix socket to (sun_path less its NUL). */
  static final int MAX_SOCKET_PATH = 107;

  /** Sessions at once; one more is refused with {@code error}. */
  static final int MAX_SESSIONS = 64;

  /** Opens the node's side of a session: a new connection's stream ({@link #of}), or a test's. */
  interface Connector {
    Duplex open(Request request) throws IOException;

    /** Each session on a connection of its own made by {@code connect}, on its first stream. */
    static Connector of(ConnectFunction connect) {
      return r -> {
        Connection c = connect.connect(r.host(), r.port(), r.alpn(), r.transport());
        try {
          return Duplex.ofConnection(c, c.openStream());
        } catch (IOException | RuntimeException e) {
          c.close(CloseCode.NO_ERROR, "");
          throw e;
        }
      };
    }
  }

  /** {@code EndpointClient.connect} with the trust fixed. */
  interface ConnectFunction {
    Connection connect(String host, int port, String alpn, Transport transport) throws IOException;
  }

  /** A session's request. */
  record Request(Transport transport, String host, int port, String alpn) {

    String line() {
      return MAGIC
          + " "
          + (transport == Transport.TCP ? "tcp" : "quic")
          + " "
          + host
          + " "
          + port
          + " "
          + alpn
          + "\n";
    }

    /**
     * Parses a request line (without its newline).
     *
     * @throws IllegalArgumentException with the reason, for the {@code error} answer
     */
    static Request parse(String line) {
      if (!line.startsWith(MAGIC + " ")) {
        throw new IllegalArgumentException(
            "not an alknet agent request (expected '" + MAGIC + "')");
      }
      String[] f = line.substring(MAGIC.length() + 1).split(" ", -1);
      if (f.length != 4) {
        throw new IllegalArgumentException("expected: " + MAGIC + " quic|tcp HOST PORT ALPN");
      }
      Transport t =
          switch (f[0]) {
            case "quic" -> Transport.QUIC;
            case "tcp" -> Transport.TCP;
            default -> throw new IllegalArgumentException("unknown transport '" + f[0] + "'");
          };
      if (f[1].isEmpty() || f[3].isEmpty()) {
        throw new IllegalArgumentException("empty host or ALPN");
      }
      int port;
      try {
        port = Integer.parseInt(f[2]);
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("invalid port '" + f[2] + "'");
      }
      return new Request(t, f[1], port, f[3]);
    }
  }

  /** How long a client may take to send its request line before it is closed. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final Path socket;
  private final Connector connector;
  private final Duration idle;
  private final Duration requestTimeout;
  private final Semaphore sessions = new Semaphore(MAX_SESSIONS);
  private final AtomicInteger active = new AtomicInteger();
  private final AtomicLong lastEnded = new AtomicLong(System.nanoTime());
  private final ScheduledExecutorService idleCheck;
  private ServerSocketChannel server;
  private FileChannel lock; // held while the agent runs
  private java.nio.file.attribute.UserPrincipal owner; // of the socket: this agent's user
  private Object boundKey; // the socket file's key once bound: removed at close only if still ours
  private volatile boolean closed;

  /**
   * @param idle how long the agent stays without a session before it exits; zero: forever
   */
  Agent(Path socket, Connector connector, Duration idle) {
    this(socket, connector, idle, REQUEST_TIMEOUT);
  }

  /**
   * @param requestTimeout how long a client may take to send its request line; then it is closed
   */
  Agent(Path socket, Connector connector, Duration idle, Duration requestTimeout) {
    this.socket = socket.toAbsolutePath().normalize();
    this.connector = connector;
    this.idle = idle;
    this.requestTimeout = requestTimeout;
    this.idleCheck =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "agent-idle");
              t.setDaemon(true);
              return t;
            });
  }

  /** The socket of the agent for a data directory. */
  static Path socketOf(Path dataDir) {
    return dataDir.resolve(SOCKET);
  }

  /**
   * Binds the socket. A socket file nobody answers on (an agent that died) is replaced; one a live
   * agent answers on is not.
   *
   * @throws CliSupport.CliException if another agent runs there or the path cannot be bound
   */
  void bind() throws IOException {
    if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
      throw new CliSupport.CliException(
          "socket path "
              + socket
              + " is too long for a Unix socket (at most "
              + MAX_SOCKET_PATH
              + " bytes); use a shorter --data-dir");
    }
    Files.createDirectories(socket.getParent());
    // One agent per socket: it holds <socket>.lock while it runs (the OS lets go of it when the
    // process dies), so two agents starting at once cannot remove each other's socket.
    FileChannel l =
        FileChannel.open(
            socket.resolveSibling(socket.getFileName() + ".lock"),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE);
    FileLock held;
    try {
      held = l.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      held = null; // held by another agent in this JVM (tests)
    } catch (IOException | RuntimeException e) {
      l.close();
      throw e;
    }
    if (held == null) {
      l.close();
      throw new CliSupport.CliException("an agent already runs on " + socket);
    }
    ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      Files.deleteIfExists(socket); // left by an agent that died: nobody holds the lock
      s.bind(UnixDomainSocketAddress.of(socket));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
      boundKey = fileKey(socket);
      owner = Files.getOwner(socket);
    } catch (IOException | RuntimeException e) {
      s.close();
      l.close();
      throw e;
    }
    lock = l;
    server = s;
    lastEnded.set(System.nanoTime()); // the idle time counts from here
    if (!idle.isZero()) {
      long period = Math.max(100, Math.min(1000, idle.toMillis() / 4));
      idleCheck.scheduleWithFixedDelay(this::closeIfIdle, period, period, TimeUnit.MILLISECONDS);
    }
  }

  Path socket() {
    return socket;
  }

  private void closeIfIdle() {
    synchronized (active) { // no session starts meanwhile (serve)
      if (active.get() == 0 && System.nanoTime() - lastEnded.get() >= idle.toNanos()) {
        LOG.info("no session for " + describe(idle) + "; the agent stops");
        close();
      }
    }
  }

  /** Accepts sessions until {@link #close()}; each runs on threads of its own. */
  void serve() throws IOException {
    Objects.requireNonNull(server, "bind first");
    while (!closed) {
      SocketChannel peer;
      try {
        peer = server.accept();
      } catch (ClosedChannelException e) { // closed by close(), also while accepting
        return;
      } catch (IOException e) { // out of file descriptors, say: sessions go on, so do we
        LOG.warning("cannot accept a session: " + CliConventions.oneLine(e));
        try {
          Thread.sleep(100);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
        continue;
      }
      if (!ownUser(peer, owner)) {
        peer.close();
        continue;
      }
      if (!sessions.tryAcquire()) {
        // Closed without an answer: the client connects by itself (Agent.open returns null).
        LOG.warning("already " + MAX_SESSIONS + " sessions; a client connects by itself");
        peer.close();
        continue;
      }
      synchronized (active) {
        if (closed) { // stopped as this client came: it connects by itself
          sessions.release();
          peer.close();
          return;
        }
        active.incrementAndGet();
      }
      Thread t =
          new Thread(
              () -> {
                try {
                  session(peer);
                } finally {
                  lastEnded.set(System.nanoTime());
                  active.decrementAndGet();
                  sessions.release();
                }
              },
              "agent-session");
      t.setDaemon(true);
      t.start();
    }
  }

  /** Whether the peer runs as the socket's owner (compared by uid, named or not). */
  private static boolean ownUser(
      SocketChannel peer, java.nio.file.attribute.UserPrincipal socketOwner) {
    try {
      jdk.net.UnixDomainPrincipal p = peer.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
      if (p.user().equals(socketOwner)) {
        return true;
      }
      LOG.warning("refused a session from user " + p.user().getName());
      return false;
    } catch (UnsupportedOperationException e) {
      return true; // no peer credentials on this OS: the socket's mode alone guards it
    } catch (IOException e) {
      LOG.warning("refused a session whose user is unknown: " + CliConventions.oneLine(e));
      return false;
    }
  }

  /** One session: request, connection, then bytes both ways until both directions have ended. */
  private void session(SocketChannel peer) {
    Duplex c = null;
    try (peer) {
      Request r;
      // A client that sends no request line (or a byte now and then) does not keep its session.
      java.util.concurrent.Future<?> late = closeLater(peer, requestTimeout);
      try {
        r = Request.parse(readLine(peer));
      } catch (IllegalArgumentException e) {
        late.cancel(false);
        refuse(peer, e.getMessage());
        return;
      } catch (IOException e) {
        LOG.info("a client sent no request line within " + describe(requestTimeout) + ", or left");
        return;
      }
      late.cancel(false);
      try {
        c = connector.open(r);
      } catch (IOException | RuntimeException e) {
        LOG.info(
            "session to " + r.host() + ":" + r.port() + " failed: " + CliConventions.oneLine(e));
        refuse(peer, CliConventions.oneLine(e));
        return;
      }
      answer(peer, "ok");
      long start = System.nanoTime();
      Duplex s = c;
      long[] sent = {0};
      Thread up =
          new Thread(
              () -> {
                try (OutputStream out = s.output()) {
                  copy(peerInput(peer), out, false, sent);
                } catch (IOException e) {
                  s.abort(); // the client or the node went away mid-stream: ends the reading
                }
              },
              "agent-up");
      up.setDaemon(true);
      up.start();
      long[] received = {0};
      String end = "ended";
      try {
        copy(s.input(), peerOutput(peer), true, received);
        peer.shutdownOutput();
      } catch (IOException e) {
        // The client or the node went away: both ends closed, so the other direction ends too
        // (the client reads the end of its input; git reports the hang-up, and this log why).
        end = "broke off (" + CliConventions.oneLine(e) + ")";
        s.abort();
        peer.shutdownInput(); // ends the other direction's read; the client then reads our end
      }
      up.join();
      LOG.info(
          String.format(
              "session to %s:%d (%s over %s) %s: %d bytes up, %d down in %.2f s",
              r.host(),
              r.port(),
              r.alpn(),
              r.transport() == Transport.TCP ? "tcp" : "quic",
              end,
              sent[0],
              received[0],
              (System.nanoTime() - start) / 1e9));
    } catch (IOException e) {
      // the client went away before the session began
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }

  /**
   * Answers {@code error MESSAGE} and ends the session. What the client sent beyond its request
   * (the rest of an oversized line, the start of its stream) is read and dropped until it closes,
   * at most 1 MiB or 2 s: a Unix socket closed with unread input resets the peer, whose read would
   * then lose the answer.
   */
  private void refuse(SocketChannel peer, String message) throws IOException {
    answer(peer, "error " + message);
    peer.shutdownOutput();
    java.util.concurrent.Future<?> deadline = closeLater(peer, Duration.ofSeconds(2));
    try {
      ByteBuffer drop = ByteBuffer.allocate(16 * 1024);
      long left = 1 << 20;
      int n;
      while (left > 0 && (n = peer.read(drop)) >= 0) {
        left -= n;
        drop.clear();
      }
    } catch (IOException e) {
      // closed by the deadline, or the client reset
    } finally {
      deadline.cancel(false);
    }
  }

  /** Closes {@code peer} after {@code d} unless cancelled; at once if the agent stops. */
  private java.util.concurrent.Future<?> closeLater(SocketChannel peer, Duration d)
      throws IOException {
    try {
      return idleCheck.schedule(
          () -> {
            try {
              peer.close();
            } catch (IOException e) {
              // closing is all we wanted
            }
          },
          d.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      peer.close(); // the agent stops
      return java.util.concurrent.CompletableFuture.completedFuture(null);
    }
  }

  private static void copy(InputStream in, OutputStream out, boolean flush, long[] count)
      throws IOException {
    byte[] buf = new byte[64 * 1024];
    int n;
    while ((n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
      if (flush) {
        out.flush();
      }
      count[0] += n;
    }
  }

  /** The request line, read byte by byte up to its newline, at most {@link #MAX_REQUEST}. */
  static String readLine(SocketChannel ch) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (true) {
      one.clear();
      if (ch.read(one) < 0) {
        throw new IllegalArgumentException("no request line");
      }
      byte c = one.get(0);
      if (c == '\n') {
        return b.toString(StandardCharsets.UTF_8);
      }
      if (b.size() >= MAX_REQUEST - 1) {
        throw new IllegalArgumentException("request line longer than " + MAX_REQUEST + " bytes");
      }
      if (c < 0x20 || c == 0x7f) {
        throw new IllegalArgumentException("control character in the request line");
      }
      b.write(c);
    }
  }

  static void answer(SocketChannel ch, String line) throws IOException {
    ByteBuffer b =
        ByteBuffer.wrap(
            (line.replace('\n', ' ').replace('\r', ' ') + "\n").getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** The socket's input; closing it closes nothing (the session closes the socket). */
  static InputStream peerInput(SocketChannel ch) {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
          return 0;
        }
        return ch.read(ByteBuffer.wrap(b, off, len));
      }
    };
  }

  /** The socket's output; closing it half-closes the socket (the peer reads its end). */
  static OutputStream peerOutput(SocketChannel ch) {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      }

      @Override
      public void close() throws IOException {
        if (ch.isOpen()) {
          ch.shutdownOutput();
        }
      }
    };
  }

  private static Object fileKey(Path p) {
    try {
      return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Stops accepting and removes the socket (if still ours). Sessions in progress go on as long as
   * the connector does ({@link AgentCommand} stops when no session runs, or at exit).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    idleCheck.shutdownNow();
    // The socket goes first: once serve() has returned, no client finds it.
    Object key = fileKey(socket);
    if (key != null && key.equals(boundKey)) {
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        // left for the next agent, which replaces a socket nobody answers on
      }
    }
    try {
      if (server != null) {
        server.close();
      }
      if (lock != null) {
        lock.close(); // releases the lock
      }
    } catch (IOException e) {
      // closing is all we wanted
    }
  }

  /**
   * The client side: a session through the agent of {@code dataDir}, if one runs.
   *
   * @return the session, its answer read ({@code ok}); {@code null} if no agent gives a whole
   *     answer it understands (none runs, or it died, is busy or stopping), so the caller connects
   *     by itself
   * @throws IOException the agent's {@code error} answer (the node's connection failed)
   */
  static Session open(Path dataDir, Request request) throws IOException {
    Path path = socketOf(dataDir);
    if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      ch.connect(UnixDomainSocketAddress.of(path));
    } catch (IOException e) {
      ch.close();
      return null; // nobody listens: an agent that died
    }
    try {
      String reply;
      try {
        answerLine(ch, request.line());
        reply = readReply(ch);
      } catch (IOException e) {
        reply = null; // reset before a whole answer (a busy or stopping agent)
      }
      if (reply != null && reply.equals("ok")) {
        return new Session(ch);
      }
      ch.close();
      if (reply != null && reply.startsWith("error ")) {
        throw new IOException(reply.substring("error ".length()));
      }
      return null; // no answer, or one we do not understand: connect by ourselves
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static void answerLine(SocketChannel ch, String line) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  /** The agent's answer line; null at end of stream before a whole line. */
  private static String readReply(SocketChannel ch) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    ByteBuffer one = ByteBuffer.allocate(1);
    while (true) {
      one.clear();
      if (ch.read(one) < 0) {
        return null;
      }
      byte c = one.get(0);
      if (c == '\n') {
        return b.toString(StandardCharsets.UTF_8);
      }
      if (b.size() >= 4096) {
        throw new IOException("the agent's answer is too long");
      }
      b.write(c);
    }
  }

  /** A session through the agent: the stream's bytes on a Unix socket. */
  static final class Session implements Duplex, AutoCloseable {
    private final SocketChannel channel;

    Session(SocketChannel channel) {
      this.channel = channel;
    }

    @Override
    public InputStream input() {
      return peerInput(channel);
    }

    /** Closing it half-closes the session: the node's stream sees the end of its input. */
    @Override
    public OutputStream output() {
      return peerOutput(channel);
    }

    /** Ends the session (the agent then ends its connection). */
    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        // closing is all we wanted
      }
    }

    @Override
    public void abort() {
      close();
    }
  }

  /** A duration for a log line: {@code 30m}, {@code 90s}. */
  static String describe(Duration d) {
    return d.toString().substring(2).toLowerCase(Locale.ROOT);
  }

  /** Used by tests: how many sessions are running. */
  int activeSessions() {
    return active.get();
  }
}

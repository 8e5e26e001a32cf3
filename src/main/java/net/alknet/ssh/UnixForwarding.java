package net.alknet.ssh;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.alknet.auth.Identity;
import org.apache.sshd.client.channel.AbstractClientChannel;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.Closeable;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelOutputStream;
import org.apache.sshd.common.channel.RequestHandler;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.session.ConnectionService;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.helpers.AbstractConnectionServiceRequestHandler;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.jboss.logging.Logger;

/**
 * OpenSSH's Unix socket forwarding, which MINA SSHD does not implement, checked by the {@link
 * ForwardingPolicy}:
 *
 * <ul>
 *   <li>{@code direct-streamlocal@openssh.com} channels ({@code ssh -L 8080:/run/app.sock}): the
 *       node connects to the socket;
 *   <li>{@code streamlocal-forward@openssh.com} / {@code cancel-streamlocal-forward@openssh.com}
 *       global requests ({@code ssh -R /tmp/app.sock:localhost:80}): the node listens on the socket
 *       (created {@code rw-------}; an existing file is not replaced, like OpenSSH's default {@code
 *       StreamLocalBindUnlink no}) and opens a {@code forwarded-streamlocal@openssh.com} channel to
 *       the client per connection; the socket is removed when cancelled or when the session ends.
 * </ul>
 *
 * Socket I/O is blocking and runs on this class's bounded thread pool, two threads a channel and
 * one a listener; when it is exhausted new forwards are refused. One identity, all its sessions
 * together, may hold at most a quarter of the pool ({@link #MAX_THREADS_PER_IDENTITY}), so that one
 * user cannot take every other user's forwards away.
 */
final class UnixForwarding implements AutoCloseable {

  static final String DIRECT = "direct-streamlocal@openssh.com";
  static final String FORWARDED = "forwarded-streamlocal@openssh.com";
  static final String FORWARD_REQUEST = "streamlocal-forward@openssh.com";
  static final String CANCEL_REQUEST = "cancel-streamlocal-forward@openssh.com";

  /** Unix socket listeners one session may hold. */
  static final int MAX_LISTENERS_PER_SESSION = 16;

  /** Threads for socket I/O (two per channel, one per listener). */
  static final int MAX_THREADS = 512;

  /** Threads one identity's forwards may hold, all its sessions together. */
  static final int MAX_THREADS_PER_IDENTITY = MAX_THREADS / 4;

  private static final Logger LOG = Logger.getLogger(UnixForwarding.class);

  private final ForwardingPolicy policy;
  private final SshDenials denials;
  private final ThreadPoolExecutor threads;
  private final Map<Path, Listener> listeners = new ConcurrentHashMap<>();
  private final int maxThreadsPerIdentity;
  private final Map<String, AtomicInteger> threadsByIdentity = new ConcurrentHashMap<>();

  UnixForwarding(ForwardingPolicy policy, SshDenials denials) {
    this(policy, denials, MAX_THREADS_PER_IDENTITY);
  }

  UnixForwarding(ForwardingPolicy policy, SshDenials denials, int maxThreadsPerIdentity) {
    this.policy = policy;
    this.denials = denials;
    this.maxThreadsPerIdentity = maxThreadsPerIdentity;
    AtomicInteger n = new AtomicInteger();
    this.threads =
        new ThreadPoolExecutor(
            0,
            MAX_THREADS,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "ssh-unix-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Takes {@code n} threads of the session's identity's budget; returns what gives them back (once,
   * however often it runs), or null, having logged and counted the refusal, if the budget is spent.
   */
  private Runnable reserve(Session session, int n, SshDenials.Kind kind, String path) {
    String who = SshPeer.identity(session).map(Identity::id).orElse("unauthenticated");
    AtomicInteger used = threadsByIdentity.computeIfAbsent(who, k -> new AtomicInteger());
    if (used.addAndGet(n) > maxThreadsPerIdentity) {
      used.addAndGet(-n);
      denials.deny(
          session,
          kind,
          path,
          who,
          "this identity's Unix forwards hold "
              + maxThreadsPerIdentity
              + " threads already (two a channel, one a listener)");
      return null;
    }
    java.util.concurrent.atomic.AtomicBoolean given =
        new java.util.concurrent.atomic.AtomicBoolean();
    return () -> {
      if (given.compareAndSet(false, true)) {
        used.addAndGet(-n);
      }
    };
  }

  /** Threads of {@code identity}'s budget in use (tests). */
  int threadsOf(String identity) {
    AtomicInteger used = threadsByIdentity.get(identity);
    return used == null ? 0 : used.get();
  }

  /** Threads now running socket I/O (for tests and leak checks). */
  int activeThreads() {
    return threads.getActiveCount();
  }

  /** The factory of {@code direct-streamlocal@openssh.com} channels. */
  ChannelFactory channelFactory() {
    return new ChannelFactory() {
      @Override
      public String getName() {
        return DIRECT;
      }

      @Override
      public org.apache.sshd.common.channel.Channel createChannel(Session session) {
        return new DirectChannel();
      }
    };
  }

  /** The handler of {@code streamlocal-forward} and {@code cancel-streamlocal-forward}. */
  RequestHandler<ConnectionService> requestHandler() {
    return new AbstractConnectionServiceRequestHandler() {
      @Override
      public Result process(
          ConnectionService service, String request, boolean wantReply, Buffer buffer) {
        if (FORWARD_REQUEST.equals(request)) {
          return listen(service, buffer.getString());
        }
        if (CANCEL_REQUEST.equals(request)) {
          return cancel(service.getSession(), buffer.getString());
        }
        return Result.Unsupported;
      }
    };
  }

  /**
   * Asks {@code rule} about {@code path} for the session's current identity; a refusal is logged
   * and counted.
   */
  private boolean permitted(
      Session session,
      SshDenials.Kind kind,
      String path,
      java.util.function.BiFunction<Identity, String, ForwardingPolicy.Decision> rule) {
    Optional<Identity> who = SshPeer.identity(session);
    ForwardingPolicy.Decision d =
        who.isEmpty()
            ? ForwardingPolicy.Decision.deny("key no longer authorized")
            : rule.apply(who.get(), path);
    if (!d.allowed()) {
      denials.deny(
          session, kind, path, who.map(Identity::id).orElse("unauthenticated"), d.reason());
    }
    return d.allowed();
  }

  // ---- ssh -L to a socket ----

  /** A {@code direct-streamlocal@openssh.com} channel: the node connects to the socket. */
  private final class DirectChannel extends AbstractServerChannel {
    private volatile UnixSocketPump pump;
    private volatile Runnable release;

    DirectChannel() {
      super("", java.util.List.of(), null);
    }

    @Override
    protected OpenFuture doInit(Buffer buffer) {
      String path = buffer.getString(); // then a reserved string and uint32, ignored
      OpenFuture f = new DefaultOpenFuture(this, futureLock);
      if (!permitted(getSession(), SshDenials.Kind.LOCAL_UNIX_FORWARD, path, policy::connectUnix)) {
        return refuse(f, SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "Connection denied");
      }
      release = reserve(getSession(), 2, SshDenials.Kind.LOCAL_UNIX_FORWARD, path);
      if (release == null) {
        return refuse(f, SshConstants.SSH_OPEN_RESOURCE_SHORTAGE, "too many forwards");
      }
      try {
        threads.execute(() -> connect(f, path));
      } catch (RejectedExecutionException e) {
        return refuse(f, SshConstants.SSH_OPEN_RESOURCE_SHORTAGE, "too many forwards");
      }
      return f;
    }

    private OpenFuture refuse(OpenFuture f, int code, String message) {
      try {
        f.setException(new SshChannelOpenException(getChannelId(), code, message));
      } finally {
        close(true);
      }
      return f;
    }

    private void connect(OpenFuture f, String path) {
      SocketChannel socket;
      try {
        socket = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
          socket.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException | RuntimeException e) {
          socket.close();
          throw e;
        }
      } catch (IOException | RuntimeException e) {
        LOG.debugf("ssh unix forward to %s failed: %s", SshDenials.sanitize(path), e.toString());
        refuse(f, SshConstants.SSH_OPEN_CONNECT_FAILED, "connect failed");
        return;
      }
      UnixSocketPump p = new UnixSocketPump(this, socket, threads);
      ChannelOutputStream toPeer =
          new ChannelOutputStream(
              this, getRemoteWindow(), log, SshConstants.SSH_MSG_CHANNEL_DATA, true);
      pump = p;
      try {
        signalChannelOpenSuccess();
        f.setOpened(); // sends the confirmation
        p.start(toPeer);
      } catch (RuntimeException e) {
        p.close();
        close(true);
      }
    }

    @Override
    protected void doWriteData(byte[] data, int off, long len) throws IOException {
      UnixSocketPump p = pump;
      if (p == null) {
        throw new IOException("data before the channel was open");
      }
      p.write(data, off, len);
    }

    @Override
    protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
      throw new IOException("no extended data on " + DIRECT);
    }

    @Override
    public void handleEof() throws IOException {
      super.handleEof();
      UnixSocketPump p = pump;
      if (p != null) {
        p.eof();
      }
    }

    @Override
    protected Closeable getInnerCloseable() {
      UnixSocketPump p = pump;
      if (p != null) {
        p.close();
      }
      Runnable r = release;
      if (r != null) {
        r.run();
      }
      return super.getInnerCloseable();
    }
  }

  // ---- ssh -R from a socket ----

  private RequestHandler.Result listen(ConnectionService service, String path) {
    Session session = service.getSession();
    boolean full =
        listeners.values().stream().filter(l -> l.session == session).count()
            >= MAX_LISTENERS_PER_SESSION;
    if (!permitted(
        session,
        SshDenials.Kind.REMOTE_UNIX_FORWARD,
        path,
        (who, p) ->
            full
                ? ForwardingPolicy.Decision.deny(
                    "more than " + MAX_LISTENERS_PER_SESSION + " listeners")
                : policy.listenUnix(who, p))) {
      return RequestHandler.Result.ReplyFailure;
    }
    Runnable release = reserve(session, 1, SshDenials.Kind.REMOTE_UNIX_FORWARD, path);
    if (release == null) {
      return RequestHandler.Result.ReplyFailure;
    }
    Path file = Path.of(path);
    Listener l;
    try {
      l = new Listener(service, file, release);
    } catch (IOException e) {
      release.run();
      LOG.infof(
          "[%s] ssh remote-unix-forward %s failed: %s",
          SshPeer.connectionId(session), SshDenials.sanitize(path), e.toString());
      return RequestHandler.Result.ReplyFailure;
    }
    if (listeners.putIfAbsent(file, l) != null) {
      l.close(false);
      return RequestHandler.Result.ReplyFailure;
    }
    try {
      threads.execute(l::acceptLoop);
    } catch (RejectedExecutionException e) {
      l.close(true);
      return RequestHandler.Result.ReplyFailure;
    }
    service.addCloseFutureListener(f -> l.close(true));
    LOG.infof(
        "[%s] ssh listening on unix socket %s for %s",
        SshPeer.connectionId(session),
        SshDenials.sanitize(path),
        SshPeer.identity(session).map(Identity::id).orElse("?"));
    return RequestHandler.Result.ReplySuccess;
  }

  private RequestHandler.Result cancel(Session session, String path) {
    Listener l = listeners.get(Path.of(path));
    if (l == null || l.session != session) {
      return RequestHandler.Result.ReplyFailure;
    }
    l.close(true);
    return RequestHandler.Result.ReplySuccess;
  }

  /** One bound Unix socket of a session. */
  private final class Listener {
    final ConnectionService service;
    final Session session;
    final Path file;
    final ServerSocketChannel server;
    private final Runnable release;
    private boolean closed; // guarded by this

    Listener(ConnectionService service, Path file, Runnable release) throws IOException {
      this.service = service;
      this.session = service.getSession();
      this.file = file;
      this.release = release;
      ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      try {
        s.bind(UnixDomainSocketAddress.of(file));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      } catch (IOException | RuntimeException e) {
        s.close();
        throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
      }
      this.server = s;
    }

    void acceptLoop() {
      try {
        while (true) {
          SocketChannel c = server.accept();
          Runnable pumpThreads =
              reserve(session, 2, SshDenials.Kind.REMOTE_UNIX_FORWARD, file.toString());
          if (pumpThreads == null) {
            c.close(); // the connecting program sees the connection end at once
            continue;
          }
          ForwardedChannel ch = new ForwardedChannel(file.toString(), c, pumpThreads);
          try {
            service.registerChannel(ch);
            ch.open().addListener(f -> ch.opened(f.isOpened()));
          } catch (IOException | RuntimeException e) {
            c.close();
            ch.close(true);
          }
        }
      } catch (IOException e) {
        close(true); // the server socket was closed (cancel, session end) or broke
      }
    }

    void close(boolean unlink) {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
      }
      listeners.remove(file, this);
      release.run();
      try {
        server.close();
      } catch (IOException ignored) {
        // closing
      }
      if (unlink) {
        try {
          Files.deleteIfExists(file);
        } catch (IOException e) {
          LOG.debugf("cannot remove %s: %s", file, e.toString());
        }
      }
    }
  }

  /** A {@code forwarded-streamlocal@openssh.com} channel the node opens to the client. */
  private final class ForwardedChannel extends AbstractClientChannel {
    private final String path;
    private final SocketChannel socket;
    private final UnixSocketPump pump;
    private final Runnable release;
    private volatile ChannelOutputStream toPeer;

    ForwardedChannel(String path, SocketChannel socket, Runnable release) {
      super(FORWARDED);
      this.path = path;
      this.socket = socket;
      this.release = release;
      this.pump = new UnixSocketPump(this, socket, threads);
    }

    @Override
    public synchronized OpenFuture open() throws IOException {
      openFuture = new DefaultOpenFuture(path, futureLock);
      Session session = getSession();
      Buffer b = session.createBuffer(SshConstants.SSH_MSG_CHANNEL_OPEN, 64 + path.length());
      b.putString(FORWARDED);
      b.putUInt(getChannelId());
      b.putUInt(getLocalWindow().getSize());
      b.putUInt(getLocalWindow().getPacketSize());
      b.putString(path);
      b.putString(""); // reserved
      writePacket(b);
      return openFuture;
    }

    @Override
    protected void doOpen() {
      toPeer =
          new ChannelOutputStream(
              this, getRemoteWindow(), log, SshConstants.SSH_MSG_CHANNEL_DATA, true);
    }

    void opened(boolean ok) {
      if (!ok) {
        pump.close();
        close(true);
        return;
      }
      try {
        pump.start(toPeer);
      } catch (RejectedExecutionException e) {
        pump.close();
        close(true);
      }
    }

    @Override
    protected void doWriteData(byte[] data, int off, long len) throws IOException {
      pump.write(data, off, len);
    }

    @Override
    protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
      throw new IOException("no extended data on " + FORWARDED);
    }

    @Override
    public void handleEof() throws IOException {
      super.handleEof();
      pump.eof();
    }

    @Override
    protected Closeable getInnerCloseable() {
      pump.close();
      release.run();
      return super.getInnerCloseable();
    }

    @Override
    public String toString() {
      return FORWARDED + "[" + getChannelId() + " " + socket + "]";
    }
  }

  /** Stops every listener (removing its socket) and the I/O threads. */
  @Override
  public void close() {
    for (Listener l : listeners.values()) {
      l.close(true);
    }
    threads.shutdownNow();
  }
}

package net.alknet.git;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import net.alknet.auth.Identity;
import net.alknet.config.GitAccess;
import net.alknet.git.GitRequest.Service;
import net.alknet.git.GitRequestException.Kind;
import org.eclipse.jgit.internal.storage.file.FileRepository;
import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.RepositoryCache;
import org.eclipse.jgit.storage.pack.PackConfig;
import org.eclipse.jgit.transport.PreReceiveHook;
import org.eclipse.jgit.transport.ReceiveCommand;
import org.eclipse.jgit.transport.ReceivePack;
import org.eclipse.jgit.transport.TransferConfig;
import org.eclipse.jgit.transport.UploadPack;
import org.eclipse.jgit.util.FS;
import org.jboss.logging.Logger;

/**
 * The git server engine (GIT-1, GIT-2): reads the first message ({@link GitRequest}), validates the
 * repository name, decides access from the identity's scopes and the {@code git_access} rules, then
 * runs JGit's {@link UploadPack} (protocol v2 when asked, else v0/v1) or {@link ReceivePack}
 * (atomic, push options, report-status) on the given streams.
 *
 * <p>Transport-free: a QUIC stream, a TLS socket or piped streams in a test drive it alike. {@link
 * #serve} blocks (JGit's I/O is blocking) and MUST NOT run on an event loop. Refusals are written
 * to the peer as one {@code ERR} pkt-line; internal failures are logged with the connection id and
 * reach the peer as a generic message at most. Thread-safe: one engine serves every connection.
 *
 * <p>Atomicity: ReceivePack writes the incoming pack to a temporary file and updates refs only
 * after the whole pack arrived and was checked, so a push cut off mid-pack leaves every ref as it
 * was.
 *
 * <p>Repositories are opened through JGit's {@link RepositoryCache}: concurrent and consecutive
 * requests to one repository share one {@link Repository}, so its pack indexes are read once and
 * the pack data in JGit's window cache (keyed by the open pack) stays useful from one clone to the
 * next. JGit closes a cached repository an hour after its last request ended.
 */
public final class GitEngine {

  private static final Logger LOG = Logger.getLogger(GitEngine.class);
  static final String TMP = ".tmp";

  /**
   * Fixed settings.
   *
   * @param root the directory repositories live in ({@code <data-dir>/git})
   * @param packMemoryLimit bytes of delta-search window memory per pack-generation thread
   * @param maxObjectSize largest object a push may bring, in bytes (JGit checks each object's
   *     declared size before it allocates for it); 0 for no limit
   * @param maxPackObjects most objects a pushed pack may declare in its header
   * @param maxPackSize largest pack a push may send, in bytes; 0 for no limit
   * @param requestTimeout time a client has to send its first message (git daemon's {@code
   *     --init-timeout}); past it the connection gets an ERR and is closed
   * @param ioTimeout longest a single read from or write to the client may block once the service
   *     runs (JGit's timeout, git daemon's {@code --timeout}); past it the operation ends
   */
  public record Settings(
      Path root,
      long packMemoryLimit,
      long maxObjectSize,
      long maxPackObjects,
      long maxPackSize,
      java.time.Duration requestTimeout,
      java.time.Duration ioTimeout) {

    /** The defaults: objects up to 100 MiB, packs of up to 10 million objects, any pack size. */
    public static final long DEFAULT_MAX_OBJECT_SIZE = 100L << 20;

    public static final long DEFAULT_MAX_PACK_OBJECTS = 10_000_000L;

    public static final java.time.Duration DEFAULT_REQUEST_TIMEOUT =
        java.time.Duration.ofSeconds(10);

    public static final java.time.Duration DEFAULT_IO_TIMEOUT = java.time.Duration.ofMinutes(10);

    public Settings {
      if (maxObjectSize < 0 || maxPackSize < 0 || maxPackObjects < 1) {
        throw new IllegalArgumentException(
            "alknet.git.max-object-size and max-pack-size must not be negative, max-pack-objects"
                + " must be positive");
      }
      if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
        throw new IllegalArgumentException(
            "alknet.git.request-timeout must be positive, not " + requestTimeout);
      }
      if (ioTimeout == null || ioTimeout.toSeconds() < 1) {
        throw new IllegalArgumentException(
            "alknet.git.io-timeout must be at least 1s, not " + ioTimeout);
      }
    }

    /** With the default limits. */
    public Settings(Path root, long packMemoryLimit) {
      this(
          root,
          packMemoryLimit,
          DEFAULT_MAX_OBJECT_SIZE,
          DEFAULT_MAX_PACK_OBJECTS,
          0,
          DEFAULT_REQUEST_TIMEOUT,
          DEFAULT_IO_TIMEOUT);
    }
  }

  /** Told about every push that updated at least one ref; e.g. {@link GitMaintenance#pushed}. */
  @FunctionalInterface
  public interface PushListener {
    /** Does nothing. */
    PushListener NONE = (dir, name) -> {};

    /**
     * Called on the push's handler thread after its refs were updated; MUST NOT block.
     *
     * @param dir the repository's directory
     * @param name the repository's name
     */
    void pushed(Path dir, String name);
  }

  private final Settings settings;
  private final Supplier<GitAccess> access;
  private final GitDenials denials;
  private final PushListener pushes;
  private final PushMemory pushMemory;
  private final ConcurrentHashMap<String, Object> createLocks = new ConcurrentHashMap<>();

  /** Requests holding each repository, by name ({@link #hold}, {@link #release}). */
  private final ConcurrentHashMap<String, Integer> holders = new ConcurrentHashMap<>();

  public GitEngine(Settings settings, Supplier<GitAccess> access, GitDenials denials) {
    this(settings, access, denials, PushListener.NONE);
  }

  public GitEngine(
      Settings settings, Supplier<GitAccess> access, GitDenials denials, PushListener pushes) {
    this(settings, access, denials, pushes, new PushMemory(PushMemory.defaultLimit()));
  }

  /**
   * @param pushMemory what the pushes in progress may hold for their objects, all together; shared
   *     by every engine of the node
   */
  GitEngine(
      Settings settings,
      Supplier<GitAccess> access,
      GitDenials denials,
      PushListener pushes,
      PushMemory pushMemory) {
    this.settings = settings;
    this.access = access;
    this.denials = denials;
    this.pushes = pushes;
    this.pushMemory = pushMemory;
  }

  /** What {@link #decide} allows. */
  enum Action {
    UPLOAD,
    RECEIVE,
    CREATE_AND_RECEIVE
  }

  /**
   * Serves one request: first message, access check, then the git service until it ends.
   *
   * @param who the peer's identity (anonymous if it proved none)
   * @param connectionId for log lines
   */
  public void serve(InputStream in, OutputStream out, Identity who, String connectionId)
      throws IOException {
    GitRequest request;
    RepoName name;
    GitAccess.Rule rule;
    Path dir;
    boolean created;
    Repository repo;
    try {
      request = readRequest(in, out, connectionId);
      if (request == null) {
        return;
      }
      name = RepoName.parse(request.path());
      rule =
          access
              .get()
              .ruleFor(name.name())
              .orElseThrow(() -> denied(request.service(), name, who, false));
      dir = directory(name);
      created = false;
      // Twice at most: a repository seen to exist can be removed (an empty one a failed first
      // push made, removeIfEmpty) before it is held; then this request may create it again.
      for (int attempt = 0; ; attempt++) {
        Action action = decide(request.service(), name, rule, exists(dir), who);
        created = action == Action.CREATE_AND_RECEIVE && create(name, dir, connectionId);
        if (hold(name, dir)) {
          break;
        }
        if (attempt == 1) {
          throw new GitRequestException(Kind.NOT_FOUND, "repository '" + name + "' not found");
        }
      }
    } catch (GitRequestException e) {
      denials.deny(connectionId, who.id(), e);
      out.write(PktLine.error(e.getMessage()));
      out.flush();
      return;
    }
    try {
      repo = open(dir);
    } catch (GitRequestException e) {
      release(name, dir, false, connectionId);
      denials.deny(connectionId, who.id(), e);
      out.write(PktLine.error(e.getMessage()));
      out.flush();
      return;
    }
    try (repo) {
      if (request.service() == Service.UPLOAD_PACK) {
        upload(repo, name, request, in, out, connectionId);
      } else {
        receive(repo, name, rule, who, in, out, connectionId);
      }
    } finally {
      release(name, dir, created, connectionId);
    }
  }

  /**
   * Counts a request as holding the repository in {@code dir}, if it (still) exists: the check and
   * the count are one step, so {@link #release} never removes a repository under a request.
   */
  private boolean hold(RepoName name, Path dir) {
    boolean[] held = {false};
    holders.compute(
        name.name(),
        (k, n) -> {
          if (!exists(dir)) {
            return n;
          }
          held[0] = true;
          return n == null ? 1 : n + 1;
        });
    return held[0];
  }

  /**
   * Ends a request's hold on a repository. When the request created it and it is left without any
   * ref (the first push was refused, failed or cut off) and nobody else holds it, the repository is
   * removed: a push that did not happen leaves nothing behind. Under the same per-name step as
   * {@link #hold}, so no request can take it up meanwhile.
   */
  private void release(RepoName name, Path dir, boolean created, String connectionId) {
    holders.compute(
        name.name(),
        (k, n) -> {
          Integer left = n == null || n <= 1 ? null : n - 1;
          if (created && left == null) {
            removeIfEmpty(name, dir, connectionId);
          }
          return left;
        });
  }

  /** Removes the repository in {@code dir} if it has no ref; logs, never throws. */
  private void removeIfEmpty(RepoName name, Path dir, String connectionId) {
    try {
      try (Repository r = new FileRepository(dir.toFile())) {
        if (!r.getRefDatabase().getRefsByPrefix(Constants.R_REFS).isEmpty()) {
          return;
        }
      }
      // Out of sight in one rename, then deleted: nobody sees a half-deleted repository.
      Path tmpRoot = settings.root().resolve(TMP);
      Files.createDirectories(tmpRoot);
      Path gone = Files.createTempDirectory(tmpRoot, "removed-");
      Files.move(dir, gone.resolve("repo"), StandardCopyOption.ATOMIC_MOVE);
      RepositoryCache.unregister(RepositoryCache.FileKey.exact(dir.toFile(), FS.DETECTED));
      org.eclipse.jgit.util.FileUtils.delete(
          gone.toFile(), org.eclipse.jgit.util.FileUtils.RECURSIVE);
      LOG.infof(
          "[%s] removed git repository '%s' again: the push that created it changed no ref",
          connectionId, name);
    } catch (IOException | RuntimeException e) {
      LOG.warnf(
          "[%s] cannot remove the empty repository %s a failed first push created: %s",
          connectionId, dir, e.toString());
    }
  }

  /**
   * JGit's timeout in seconds: a read or write that blocks longer is interrupted (JGit starts an
   * alarm thread per operation for it). Over QUIC a client can keep a connection alive with PINGs
   * while granting no stream credit, so the endpoint's idle timeout alone would not end it.
   */
  private int ioTimeoutSeconds() {
    return (int) Math.min(Integer.MAX_VALUE, settings.ioTimeout().toSeconds());
  }

  /**
   * Closes a waiting request's input when its first message is late, or a push's when one read has
   * blocked for the io-timeout.
   */
  private static final java.util.concurrent.ScheduledExecutorService DEADLINES = deadlines();

  private static java.util.concurrent.ScheduledExecutorService deadlines() {
    java.util.concurrent.ScheduledThreadPoolExecutor e =
        new java.util.concurrent.ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "alknet-git-timeouts");
              t.setDaemon(true);
              return t;
            });
    e.setRemoveOnCancelPolicy(true); // a cancelled deadline does not stay queued
    return e;
  }

  /**
   * The first message, within {@link Settings#requestTimeout}: a client that connects and then says
   * nothing (or a byte now and then) would otherwise hold the connection's thread until the
   * endpoint's idle timeout. A late one gets an ERR; null then.
   */
  private GitRequest readRequest(InputStream in, OutputStream out, String connectionId)
      throws IOException, GitRequestException {
    // 0 waiting, 1 read in time, 2 late: whoever moves it from 0 decides, so a request read just
    // as the deadline fires is either served whole or refused, never served with a closed input.
    java.util.concurrent.atomic.AtomicInteger state =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ScheduledFuture<?> deadline =
        DEADLINES.schedule(
            () -> {
              if (state.compareAndSet(0, 2)) {
                try {
                  in.close(); // ends the blocked read
                } catch (IOException e) {
                  // closing is all we wanted
                }
              }
            },
            settings.requestTimeout().toMillis(),
            java.util.concurrent.TimeUnit.MILLISECONDS);
    try {
      GitRequest request = GitRequest.read(in);
      if (state.compareAndSet(0, 1)) {
        return request;
      }
      // read, but the deadline had passed and closed the input: refused as late
    } catch (IOException | GitRequestException e) {
      if (state.compareAndSet(0, 1)) {
        throw e; // a malformed request is reported as such by the caller
      }
    } finally {
      deadline.cancel(false);
    }
    LOG.infof(
        "[%s] no git request within %d ms; closing",
        connectionId, settings.requestTimeout().toMillis());
    out.write(
        PktLine.error(
            "no request within "
                + settings.requestTimeout().toMillis()
                + " ms (alknet.git.request-timeout)"));
    out.flush();
    return null;
  }

  /**
   * The access decision, by the rules in docs/git.md: read for upload-pack; write to push to an
   * existing repository; create to push to a missing one. Checked before existence, so a peer
   * without access learns nothing about which repositories exist.
   */
  static Action decide(
      Service service, RepoName name, GitAccess.Rule rule, boolean exists, Identity who)
      throws GitRequestException {
    java.util.Set<String> held = who.scopes();
    if (service == Service.UPLOAD_PACK) {
      if (!GitAccess.Rule.allows(held, rule.read())) {
        throw denied(service, name, who, false);
      }
      if (!exists) {
        throw new GitRequestException(Kind.NOT_FOUND, "repository '" + name + "' not found");
      }
      return Action.UPLOAD;
    }
    if (exists) {
      if (!GitAccess.Rule.allows(held, rule.write())) {
        throw denied(service, name, who, false);
      }
      return Action.RECEIVE;
    }
    if (GitAccess.Rule.allows(held, rule.create())) {
      return Action.CREATE_AND_RECEIVE;
    }
    if (GitAccess.Rule.allows(held, rule.write()) || GitAccess.Rule.allows(held, rule.read())) {
      throw new GitRequestException(
          Kind.NOT_FOUND,
          "repository '"
              + name
              + "' not found (pushing creates it only for identities allowed to create it)");
    }
    throw denied(service, name, who, true);
  }

  private static GitRequestException denied(
      Service service, RepoName name, Identity who, boolean create) {
    String verb = service == Service.UPLOAD_PACK ? "read" : create ? "create" : "push to";
    Kind kind = service == Service.UPLOAD_PACK ? Kind.READ : create ? Kind.CREATE : Kind.WRITE;
    String whom =
        who.isAnonymous()
            ? "an unauthenticated peer (no authorized client key)"
            : "identity " + who.id();
    return new GitRequestException(
        kind, "access denied: " + whom + " may not " + verb + " repository '" + name + "'");
  }

  /** {@code <root>/<name>.git}, checked to stay under the root. */
  Path directory(RepoName name) throws GitRequestException {
    Path root = settings.root().toAbsolutePath().normalize();
    Path dir = root.resolve(name.dirName()).normalize();
    if (!dir.startsWith(root) || dir.equals(root)) {
      // Unreachable for a validated name; a second line of defence.
      throw new GitRequestException(Kind.BAD_NAME, "invalid repository name");
    }
    return dir;
  }

  static boolean exists(Path dir) {
    return RepositoryCache.FileKey.isGitRepository(dir.toFile(), FS.DETECTED);
  }

  /** The shared repository in {@code dir}; the caller closes it (which only releases it). */
  private static Repository open(Path dir) throws GitRequestException {
    try {
      return RepositoryCache.open(RepositoryCache.FileKey.exact(dir.toFile(), FS.DETECTED), true);
    } catch (IOException e) {
      LOG.warnf("cannot open repository %s: %s", dir, e.toString());
      throw new GitRequestException(Kind.UNAVAILABLE, "repository unavailable");
    }
  }

  /**
   * Creates a bare repository atomically: built in {@code <root>/.tmp} and renamed into place, so
   * nobody ever sees a half-initialised one. Concurrent first pushes to one name create it once.
   *
   * @return whether this call created it (false: another request did first)
   */
  private boolean create(RepoName name, Path dir, String connectionId) throws GitRequestException {
    boolean made = false;
    Object lock = createLocks.computeIfAbsent(name.name(), k -> new Object());
    synchronized (lock) {
      try {
        if (!exists(dir)) {
          Path tmpRoot = settings.root().resolve(TMP);
          Files.createDirectories(tmpRoot);
          Path tmp = Files.createTempDirectory(tmpRoot, "new-");
          try (Repository r = new FileRepository(tmp.toFile())) {
            r.create(true);
            RefUpdate head = r.updateRef(Constants.HEAD);
            head.disableRefLog();
            head.link("refs/heads/main");
          }
          Files.createDirectories(dir.getParent());
          Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
          made = true;
          LOG.infof("[%s] created git repository '%s'", connectionId, name);
        }
      } catch (IOException e) {
        LOG.warnf("[%s] cannot create repository %s: %s", connectionId, dir, e.toString());
        throw new GitRequestException(Kind.UNAVAILABLE, "cannot create repository '" + name + "'");
      } finally {
        createLocks.remove(name.name(), lock);
      }
    }
    return made;
  }

  private PackConfig packConfig(Repository repo) {
    PackConfig pc = new PackConfig(repo);
    pc.setDeltaSearchMemoryLimit(settings.packMemoryLimit());
    pc.setDeltaCacheSize(Math.min(pc.getDeltaCacheSize(), settings.packMemoryLimit()));
    pc.setBigFileThreshold((int) Math.min(pc.getBigFileThreshold(), settings.packMemoryLimit()));
    return pc;
  }

  /**
   * The repository's transfer settings, with partial clone on: {@code uploadpack.allowFilter} (git
   * clone --filter=blob:none and the like) and {@code uploadpack.allowReachableSHA1InWant}, without
   * which the client could not fetch the objects it left out when it needs them later. An object
   * asked for by id is served only if a visible ref reaches it ({@link ReachableWants}), so nothing
   * unreachable leaks. A repository's own config may set either to false.
   */
  private static TransferConfig transferConfig(Repository repo) {
    Config config = new Config(repo.getConfig());
    for (String name : new String[] {"allowfilter", "allowreachablesha1inwant"}) {
      if (repo.getConfig().getString("uploadpack", null, name) == null) {
        config.setBoolean("uploadpack", null, name, true);
      }
    }
    return new TransferConfig(config);
  }

  private void upload(
      Repository repo,
      RepoName name,
      GitRequest request,
      InputStream in,
      OutputStream out,
      String connectionId)
      throws IOException {
    UploadPack up = new UploadPack(repo);
    up.setTimeout(ioTimeoutSeconds());
    up.setPackConfig(packConfig(repo));
    up.setTransferConfig(transferConfig(repo));
    if (up.getRequestPolicy() == UploadPack.RequestPolicy.REACHABLE_COMMIT) {
      // A walk without bitmaps asks for the maintenance that writes them (PushListener: at most
      // one run pending per repository, bounded queue).
      Path dir = repo.getDirectory().toPath();
      up.setRequestValidator(new ReachableWants(() -> pushes.pushed(dir, name.name())));
    }
    if (request.wantsV2()) {
      up.setExtraParameters(request.parameters());
    }
    try {
      up.upload(PktGuard.fetch(in), out, null);
    } catch (InterruptedIOException e) {
      LOG.debugf("[%s] upload-pack interrupted: %s", connectionId, e.toString());
    } catch (IOException | RuntimeException e) {
      // JGit already told the peer what it may know (ERR / sideband); the cause stays here.
      LOG.infof("[%s] upload-pack ended with an error: %s", connectionId, causes(e));
    }
  }

  /** An exception and its causes on one line (JGit wraps the interesting part). */
  static String causes(Throwable e) {
    StringBuilder b = new StringBuilder(e.toString());
    int depth = 0;
    for (Throwable c = e.getCause(); c != null && c != e && depth < 5; c = c.getCause(), depth++) {
      b.append(" <- ").append(c);
    }
    return b.toString();
  }

  private void receive(
      Repository repo,
      RepoName name,
      GitAccess.Rule rule,
      Identity who,
      InputStream in,
      OutputStream out,
      String connectionId)
      throws IOException {
    ReceivePack rp = new NodeReceivePack(repo);
    rp.setTimeout(ioTimeoutSeconds()); // for the pack's reads JGit waits ten times that: see below
    rp.setAtomic(true);
    rp.setAllowPushOptions(true);
    rp.setAllowNonFastForwards(!rule.denyNonFastForward());
    rp.setAllowDeletes(!rule.denyDeletes());
    rp.setRefLogIdent(new PersonIdent(who.displayName(), who.id()));
    // Sizes JGit would otherwise trust from the pack before the data arrives (PktGuard).
    if (settings.maxObjectSize() > 0) {
      rp.setMaxObjectSizeLimit(settings.maxObjectSize());
    }
    if (settings.maxPackSize() > 0) {
      rp.setMaxPackSizeLimit(settings.maxPackSize());
    }
    InputStream source = in;
    if (rule.requireSignedPush()) {
      source = PushCertificates.require(rp, in, who, connectionId);
    }
    // Timing for the log line: receiving the pack (until its last byte), indexing and checking it
    // (JGit resolves deltas once the whole pack is in), then updating the refs.
    PktGuard guarded = PktGuard.push(source, settings.maxPackObjects(), pushMemory);
    java.util.concurrent.ScheduledFuture<?> watchdog =
        readWatchdog(guarded, in, name, connectionId);
    long start = System.nanoTime();
    long[] checked = {start};
    // Logged once the push has ended well: JGit runs the post-receive hook after a failed unpack
    // too (with no ref changed), and such a push gets the failure's line instead.
    String[] outcome = {null};
    PreReceiveHook check = rp.getPreReceiveHook();
    rp.setPreReceiveHook(
        (r, commands) -> {
          checked[0] = System.nanoTime();
          check.onPreReceive(r, commands);
        });
    rp.setPostReceiveHook(
        (r, commands) -> {
          long end = System.nanoTime();
          long received = guarded.lastDataNanos();
          if (received == 0 || received - start < 0) {
            received = start;
          } else if (received - checked[0] > 0) {
            received = checked[0];
          }
          outcome[0] =
              String.format(
                  "[%s] push to '%s' by %s updated %s (pack of %d bytes received in %.2f s and"
                      + " indexed in %.2f s more, refs in %.2f s)",
                  connectionId,
                  name,
                  who.id(),
                  summary(commands, r.getAllCommands()),
                  packSize(r),
                  (received - start) / 1e9,
                  (checked[0] - received) / 1e9,
                  (end - checked[0]) / 1e9);
          pointUnbornHead(r.getRepository(), commands);
          if (commands.stream().anyMatch(c -> c.getResult() == ReceiveCommand.Result.OK)) {
            pushes.pushed(r.getRepository().getDirectory().toPath(), name.name());
          }
        });
    try {
      rp.receive(guarded, out, null);
      if (outcome[0] != null) {
        LOG.info(outcome[0]);
      }
    } catch (InterruptedIOException e) {
      LOG.infof("[%s] push to '%s' interrupted; no ref changed", connectionId, name);
    } catch (IOException | RuntimeException e) {
      LOG.infof("[%s] push to '%s' failed: %s", connectionId, name, causes(e));
    } finally {
      watchdog.cancel(false);
      guarded.release(); // JGit holds nothing of the pack any more
    }
  }

  /**
   * Ends a push whose client has left one read blocked for the io-timeout, by closing its input.
   * JGit's own timeout does that for the commands, but waits ten times as long for the pack (a
   * client may count and compress for a long time before the pack starts): a stalled push would
   * hold its thread and its {@link PushMemory} share for 100 minutes by default. A tenth of the
   * timeout for JGit instead would cut a push whose client runs a pre-push hook (git runs it
   * between the ref advertisement and the commands, the connection open) after a minute.
   */
  private java.util.concurrent.ScheduledFuture<?> readWatchdog(
      PktGuard guarded, InputStream in, RepoName name, String connectionId) {
    long limit = settings.ioTimeout().toNanos();
    long period = Math.max(250, Math.min(30_000, settings.ioTimeout().toMillis() / 4));
    java.util.concurrent.atomic.AtomicBoolean cut = new java.util.concurrent.atomic.AtomicBoolean();
    return DEADLINES.scheduleWithFixedDelay(
        () -> {
          if (guarded.blockedNanos(System.nanoTime()) > limit && cut.compareAndSet(false, true)) {
            LOG.infof(
                "[%s] push to '%s': no data from the client for %s (alknet.git.io-timeout);"
                    + " ending it",
                connectionId, name, settings.ioTimeout());
            try {
              in.close(); // ends the blocked read
            } catch (IOException e) {
              // closing is all we wanted
            }
          }
        },
        period,
        period,
        java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** Bytes of the pushed pack; 0 for a push without one (deletes only). */
  private static long packSize(ReceivePack rp) {
    try {
      return rp.getPackSize();
    } catch (IllegalStateException e) {
      return 0;
    }
  }

  /**
   * The refs a push updated ({@code refs/heads/main OK, …}), else {@code no ref} and why each
   * command was not carried out ({@code no ref (refs/heads/main REJECTED_NONFASTFORWARD)}).
   */
  static String summary(Collection<ReceiveCommand> updated, Collection<ReceiveCommand> all) {
    StringBuilder b = new StringBuilder();
    for (ReceiveCommand c : updated) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(c.getRefName()).append(' ').append(c.getResult());
    }
    if (b.length() > 0) {
      return b.toString();
    }
    b.append("no ref");
    String sep = " (";
    for (ReceiveCommand c : all) {
      b.append(sep).append(c.getRefName()).append(' ').append(c.getResult());
      if (c.getMessage() != null && !c.getMessage().isEmpty()) {
        b.append(": ").append(c.getMessage());
      }
      sep = ", ";
    }
    return sep.equals(", ") ? b.append(')').toString() : b.toString();
  }

  /**
   * After the first push into a repository whose HEAD names a branch that does not exist, points
   * HEAD at a branch that was just created ({@code main}, else {@code master}, else the first), so
   * clones check it out.
   */
  static void pointUnbornHead(Repository repo, Collection<ReceiveCommand> commands) {
    try {
      Ref head = repo.exactRef(Constants.HEAD);
      if (head != null && head.getObjectId() != null) {
        return;
      }
      Optional<String> target =
          commands.stream()
              .filter(c -> c.getResult() == ReceiveCommand.Result.OK)
              .filter(c -> c.getType() == ReceiveCommand.Type.CREATE)
              .map(ReceiveCommand::getRefName)
              .filter(n -> n.startsWith(Constants.R_HEADS))
              .sorted((a, b) -> Integer.compare(rank(a), rank(b)))
              .findFirst();
      if (target.isPresent()) {
        RefUpdate u = repo.updateRef(Constants.HEAD);
        u.disableRefLog();
        u.link(target.get());
      }
    } catch (IOException e) {
      LOG.warnf("cannot point HEAD of %s: %s", repo.getDirectory(), e.toString());
    }
  }

  private static int rank(String ref) {
    return ref.equals("refs/heads/main") ? 0 : ref.equals("refs/heads/master") ? 1 : 2;
  }
}

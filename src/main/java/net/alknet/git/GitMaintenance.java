package net.alknet.git;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.nio.file.Path;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.alknet.config.AlknetConfig;
import org.eclipse.jgit.api.errors.CanceledException;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.errors.CancelledException;
import org.eclipse.jgit.internal.storage.file.FileRepository;
import org.eclipse.jgit.internal.storage.file.GC;
import org.eclipse.jgit.internal.storage.file.Pack;
import org.eclipse.jgit.internal.storage.pack.PackExt;
import org.eclipse.jgit.lib.EmptyProgressMonitor;
import org.eclipse.jgit.lib.GcConfig;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.RepositoryCache;
import org.eclipse.jgit.storage.pack.PackConfig;
import org.eclipse.jgit.util.FS;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Background repository maintenance: after a push, when enough objects are not covered by a bitmap
 * index, JGit's GC repacks the repository into one pack with reachability bitmaps, so that
 * upload-pack finds the objects of a clone from the bitmaps instead of walking every commit and
 * tree (docs/git.md, "Maintenance").
 *
 * <p>Threading: {@link #pushed} never blocks and may be called from any thread. Runs happen on
 * {@code threads} low-priority daemon threads of this object ({@code alknet-git-maintenance-N}),
 * never on an event loop, each GC packing with one thread. Bounds: at most one run per repository
 * is pending and one running; pushes to a repository whose run is pending join it, a push while it
 * runs makes it check again afterwards (which counts as pending). At most {@code maxPending}
 * repositories wait; past that a request is dropped and counted (the next push to that repository
 * asks again). Two runs of one repository start at least {@code minInterval} apart.
 *
 * <p>Concurrent clones and pushes keep working: GC writes the new pack next to the old ones, and
 * deletes a replaced pack only once its file is older than {@code packExpire}, so a clone that
 * started before still finds the pack it reads (objects of a deleted pack that the new one lacks,
 * such as those of a push whose refs were not updated yet, are kept as loose objects). A run that
 * leaves replaced packs checks the repository again once they expired, which repacks it and deletes
 * them. The repository is the one {@link org.eclipse.jgit.lib.RepositoryCache} shares with the
 * requests, so their readers see the new pack at once.
 *
 * <p>Each run logs one line and counts in {@code alknet.git.maintenance{result}} ({@code done},
 * {@code skipped} when below the thresholds, {@code failed}, {@code dropped}, {@code cancelled}),
 * and times in {@code alknet.git.maintenance.duration} (runs that packed); {@link #pendingCount}
 * feeds the gauge {@code alknet.git.maintenance.pending}.
 */
public final class GitMaintenance implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(GitMaintenance.class);
  static final String METER = "alknet.git.maintenance";

  /**
   * Settings.
   *
   * @param enabled whether to run at all; when false {@link #pushed} does nothing
   * @param minNewObjects objects outside the newest bitmap index that make a run pack
   * @param maxNewPacks packs newer than the newest bitmap index that make a run pack
   * @param minInterval least time between the starts of two runs of one repository
   * @param packExpire age a replaced pack must have before a run deletes it
   * @param threads threads running maintenance
   * @param maxPending repositories that may wait
   * @param packMemoryLimit delta-search window memory of a run's packer, bytes
   */
  public record Settings(
      boolean enabled,
      long minNewObjects,
      int maxNewPacks,
      Duration minInterval,
      Duration packExpire,
      int threads,
      int maxPending,
      long packMemoryLimit) {

    /** Checks the bounds; the message names the offending property. */
    public Settings {
      if (minNewObjects < 1) {
        throw new IllegalArgumentException(
            "alknet.git.maintenance.min-new-objects must be at least 1, not " + minNewObjects);
      }
      if (maxNewPacks < 1) {
        throw new IllegalArgumentException(
            "alknet.git.maintenance.max-new-packs must be at least 1, not " + maxNewPacks);
      }
      if (minInterval.isNegative() || packExpire.isNegative()) {
        throw new IllegalArgumentException(
            "alknet.git.maintenance.min-interval and pack-expire must not be negative");
      }
      if (threads < 1 || threads > 64) {
        throw new IllegalArgumentException(
            "alknet.git.maintenance.threads must be from 1 to 64, not " + threads);
      }
      if (maxPending < 1) {
        throw new IllegalArgumentException(
            "alknet.git.maintenance.max-pending must be at least 1, not " + maxPending);
      }
    }

    /** These settings with maintenance switched off. */
    public Settings disabled() {
      return new Settings(
          false,
          minNewObjects,
          maxNewPacks,
          minInterval,
          packExpire,
          threads,
          maxPending,
          packMemoryLimit);
    }

    /** The settings from the node's config. */
    public static Settings from(AlknetConfig.Git git) {
      AlknetConfig.Git.Maintenance m = git.maintenance();
      return new Settings(
          m.enabled(),
          m.minNewObjects(),
          m.maxNewPacks(),
          m.minInterval(),
          m.packExpire(),
          m.threads(),
          m.maxPending(),
          git.packMemoryLimit().asLongValue());
    }
  }

  /** What a run does to a repository that needs it (JGit's GC; tests substitute failures). */
  @FunctionalInterface
  interface Packer {
    void pack(FileRepository repo, Settings settings, Cancel cancel) throws Exception;
  }

  /** JGit's progress monitor used only to cancel a running GC at its next checkpoint. */
  static final class Cancel extends EmptyProgressMonitor {
    volatile boolean cancelled;

    @Override
    public boolean isCancelled() {
      return cancelled;
    }
  }

  private enum State {
    PENDING,
    RUNNING
  }

  /** Guarded by {@code this}. */
  private static final class Entry {
    State state;

    /** A push arrived while running: run again afterwards (holds a pending slot). */
    boolean again;

    long lastStart = Long.MIN_VALUE;
    ScheduledFuture<?> future;

    /** A check once the packs the last run replaced are older than packExpire. */
    ScheduledFuture<?> expiry;
  }

  private final Settings settings;

  /** Whether this maintenance runs at all. */
  boolean enabled() {
    return settings.enabled();
  }

  private final Packer packer;
  private final ScheduledThreadPoolExecutor executor;
  private final Map<Path, Entry> entries = new HashMap<>(); // guarded by this
  private final Map<Path, Cancel> running = new ConcurrentHashMap<>();
  private int pending; // guarded by this
  private boolean closed; // guarded by this
  private final MeterRegistry meters;
  private final Timer duration;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  public GitMaintenance(Settings settings, MeterRegistry meters) {
    this(settings, meters, GitMaintenance::gc);
  }

  GitMaintenance(Settings settings, MeterRegistry meters, Packer packer) {
    this.settings = settings;
    this.packer = packer;
    this.meters = meters;
    AtomicInteger n = new AtomicInteger();
    ThreadFactory threads =
        r -> {
          // Made on the thread of the push that first needed it: drop the logging context (the
          // connection, the identity) it would inherit.
          Runnable clean =
              () -> {
                MDC.clear();
                r.run();
              };
          Thread t = new Thread(clean, "alknet-git-maintenance-" + n.incrementAndGet());
          t.setDaemon(true);
          t.setPriority(Thread.MIN_PRIORITY);
          return t;
        };
    this.executor = new ScheduledThreadPoolExecutor(settings.threads(), threads);
    executor.setRemoveOnCancelPolicy(true);
    executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.duration = Timer.builder(METER + ".duration").register(meters);
  }

  /**
   * A push into the repository in {@code dir} finished: schedules a maintenance check unless one is
   * pending already. Never blocks.
   *
   * @param name the repository's name, for log lines
   */
  public void pushed(Path dir, String name) {
    if (!settings.enabled()) {
      return;
    }
    Path key = dir.toAbsolutePath().normalize();
    synchronized (this) {
      if (closed) {
        return;
      }
      Entry e = entries.get(key);
      if (e != null && (e.state == State.PENDING || e.again)) {
        return; // joins the pending run
      }
      if (pending >= settings.maxPending()) {
        count("dropped");
        LOG.warnf(
            "git maintenance of '%s' not scheduled: %d repositories wait already", name, pending);
        return;
      }
      pending++;
      if (e != null && e.state == State.RUNNING) {
        e.again = true; // scheduled when the running one ends
        return;
      }
      if (e == null) {
        e = new Entry();
        entries.put(key, e);
      }
      schedule(key, name, e);
    }
  }

  /**
   * Guarded by this: makes {@code e} pending (its pending slot is already counted), to start no
   * sooner than minInterval after the last start.
   */
  private void schedule(Path key, String name, Entry e) {
    long now = System.nanoTime();
    long delay =
        e.lastStart == Long.MIN_VALUE
            ? 0
            : Math.max(0, e.lastStart + settings.minInterval().toNanos() - now);
    e.state = State.PENDING;
    e.again = false;
    e.future = executor.schedule(() -> run(key, name), delay, TimeUnit.NANOSECONDS);
  }

  private void run(Path key, String name) {
    Cancel cancel = new Cancel();
    synchronized (this) {
      Entry e = entries.get(key);
      if (closed || e == null || e.state != State.PENDING) {
        return;
      }
      e.state = State.RUNNING;
      e.lastStart = System.nanoTime();
      pending--;
      running.put(key, cancel);
    }
    boolean replacedLeft = false;
    try {
      replacedLeft = maintain(key, name, cancel);
    } finally {
      running.remove(key);
      synchronized (this) {
        Entry e = entries.get(key);
        if (e != null) {
          if (e.again && !closed) {
            schedule(key, name, e);
          } else {
            e.state = null;
            e.future = null;
          }
          if (replacedLeft && e.expiry == null && !closed) {
            // Delete the replaced packs once they expired, even if no push comes.
            Entry entry = e;
            e.expiry =
                executor.schedule(
                    () -> {
                      synchronized (this) {
                        entry.expiry = null;
                      }
                      pushed(key, name);
                    },
                    settings.packExpire().toMillis() + 1000,
                    TimeUnit.MILLISECONDS);
          }
        }
        forgetIdle();
      }
    }
  }

  /** Guarded by this: drops entries whose min-interval has passed, to keep the map small. */
  private void forgetIdle() {
    long now = System.nanoTime();
    long interval = settings.minInterval().toNanos();
    entries
        .values()
        .removeIf(e -> e.state == null && e.expiry == null && now - e.lastStart >= interval);
  }

  /**
   * Checks the thresholds and packs if needed.
   *
   * @return whether replaced packs younger than packExpire are left, to be deleted later
   */
  private boolean maintain(Path dir, String name, Cancel cancel) {
    long t0 = System.nanoTime();
    try (Repository r =
        RepositoryCache.open(RepositoryCache.FileKey.exact(dir.toFile(), FS.DETECTED), true)) {
      if (!(r instanceof FileRepository repo)) {
        count("skipped");
        return false;
      }
      GC.RepoStatistics before = new GC(repo).getStatistics();
      Replaced replacedBefore = replaced(repo, settings.packExpire());
      if (before.numberOfObjectsSinceBitmap < settings.minNewObjects()
          && before.numberOfPackFilesSinceBitmap < settings.maxNewPacks()
          && replacedBefore.expired() == 0) {
        count("skipped");
        LOG.debugf(
            "git maintenance of '%s' not needed: %d object(s) in %d pack(s) without bitmaps",
            name, before.numberOfObjectsSinceBitmap, before.numberOfPackFilesSinceBitmap);
        return replacedBefore.all() > 0;
      }
      packer.pack(repo, settings, cancel);
      GC.RepoStatistics after = new GC(repo).getStatistics();
      Replaced replacedAfter = replaced(repo, settings.packExpire());
      long took = System.nanoTime() - t0;
      duration.record(took, TimeUnit.NANOSECONDS);
      count("done");
      LOG.infof(
          "git maintenance of '%s' done in %.1f s: %d object(s) in %d pack(s), %d without bitmaps"
              + " -> %d pack(s) (%d replaced, kept for now), %d bitmap(s)",
          name,
          took / 1e9,
          before.numberOfPackedObjects + before.numberOfLooseObjects,
          before.numberOfPackFiles,
          before.numberOfObjectsSinceBitmap,
          after.numberOfPackFiles,
          replacedAfter.all(),
          after.numberOfBitmaps);
      return replacedAfter.all() > 0;
    } catch (Exception e) {
      if (cancel.cancelled || e instanceof CanceledException || e instanceof CancelledException) {
        count("cancelled");
        LOG.infof("git maintenance of '%s' cancelled (node shutting down)", name);
      } else {
        count("failed");
        LOG.warnf(e, "git maintenance of '%s' failed: %s", name, e.toString());
      }
      return false;
    } catch (Error e) {
      count("failed");
      LOG.errorf(e, "git maintenance of '%s' failed: %s", name, e.toString());
      throw e;
    }
  }

  /**
   * Packs a run replaced but left (younger than packExpire then): those older than the newest pack
   * with a bitmap index (which a run writes last), earlier runs' packs included, not {@code .keep}.
   *
   * @param all how many
   * @param expired how many of them are older than packExpire now
   */
  record Replaced(int all, int expired) {}

  static Replaced replaced(FileRepository repo, Duration packExpire) {
    long newestBitmap = Long.MIN_VALUE;
    List<Pack> packs = new ArrayList<>(repo.getObjectDatabase().getPacks());
    for (Pack p : packs) {
      if (p.getPackFile().create(PackExt.BITMAP_INDEX).exists()) {
        newestBitmap = Math.max(newestBitmap, p.getPackFile().lastModified());
      }
    }
    if (newestBitmap == Long.MIN_VALUE) {
      return new Replaced(0, 0);
    }
    long expiredBefore = System.currentTimeMillis() - packExpire.toMillis();
    int all = 0;
    int expired = 0;
    for (Pack p : packs) {
      long modified = p.getPackFile().lastModified();
      if (modified < newestBitmap && !p.shouldBeKept()) {
        all++;
        if (modified < expiredBefore) {
          expired++;
        }
      }
    }
    return new Replaced(all, expired);
  }

  /** JGit's GC: one pack with bitmaps, loose refs left loose, old packs kept for packExpire. */
  static void gc(FileRepository repo, Settings settings, Cancel cancel)
      throws IOException, ParseException, GitAPIException {
    GC gc = new GC(repo);
    PackConfig pc = new PackConfig(repo);
    pc.setThreads(1);
    pc.setBuildBitmaps(true);
    pc.setDeltaSearchMemoryLimit(settings.packMemoryLimit());
    pc.setDeltaCacheSize(Math.min(pc.getDeltaCacheSize(), settings.packMemoryLimit()));
    pc.setBigFileThreshold((int) Math.min(pc.getBigFileThreshold(), settings.packMemoryLimit()));
    gc.setPackConfig(pc);
    gc.setPackExpireAgeMillis(settings.packExpire().toMillis());
    gc.setProgressMonitor(cancel);
    gc.setAuto(false);
    // Packing refs would lock loose refs that a concurrent push may be updating.
    gc.setGcConfig(new GcConfig(GcConfig.PackRefsMode.FALSE));
    gc.gc().join();
  }

  /** Repositories waiting for a run. */
  synchronized int pendingCount() {
    return pending;
  }

  /** The number of runs with this result so far (tests). */
  double runs(String result) {
    Counter c = counters.get(result);
    return c == null ? 0 : c.count();
  }

  private void count(String result) {
    counters.computeIfAbsent(result, k -> meters.counter(METER, "result", k)).increment();
  }

  /**
   * Stops: no new runs, pending ones are dropped, running GCs are cancelled at their next
   * checkpoint. Does not wait. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      for (Entry e : entries.values()) {
        if (e.future != null && e.state == State.PENDING) {
          e.future.cancel(false);
        }
      }
      entries.clear();
      pending = 0;
    }
    running.values().forEach(c -> c.cancelled = true);
    // No interrupts: a GC reads packs through the repository and pack files clones share, and an
    // interrupt would close a shared pack's channel under them. JGit checks the cancel flag
    // between objects; delayed tasks (pending runs, expiry checks) are dropped by shutdown.
    executor.shutdown();
  }
}

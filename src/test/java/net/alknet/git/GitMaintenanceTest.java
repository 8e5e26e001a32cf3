package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import net.alknet.auth.Identity;
import net.alknet.config.GitAccess;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.internal.storage.file.FileRepository;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.eclipse.jgit.transport.URIish;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GitMaintenance}: pushes through the engine (JGit's git:// client on a socket, as in {@link
 * GitEngineTest}) lead to a repacked repository with a bitmap index; clones keep working while it
 * runs; the scheduling bounds (coalescing, pending limit, minimum interval) and failures.
 */
@Timeout(180)
class GitMaintenanceTest {

  @TempDir Path tmp;
  Path root;
  GitTestServer server;
  final ExecutorService pool = Executors.newCachedThreadPool();
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  GitMaintenance maintenance;
  GitEngine engine;

  static final Identity ALICE =
      new Identity(
          "SHA256:alice", "alice", java.util.Set.of("git"), Identity.Proof.CLIENT_CERTIFICATE);

  static GitMaintenance.Settings settings(long minNewObjects, Duration packExpire) {
    return new GitMaintenance.Settings(
        true, minNewObjects, 20, Duration.ZERO, packExpire, 1, 10, 16L << 20);
  }

  /** Starts an engine whose pushes feed {@code m}. */
  void start(GitMaintenance m) throws IOException {
    maintenance = m;
    root = tmp.resolve("git");
    engine =
        new GitEngine(
            new GitEngine.Settings(root, 16L << 20),
            () -> GitAccess.DEFAULT,
            new GitDenials(meters),
            m::pushed);
    server = new GitTestServer(engine, () -> ALICE, () -> {});
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
    if (maintenance != null) {
      maintenance.close();
    }
    pool.shutdownNow();
  }

  String url(String name) {
    return server.url(name);
  }

  /** A work tree with {@code commits} commits, each changing a few files. */
  Git history(String dir, int commits, int from) throws Exception {
    Path d = tmp.resolve(dir);
    Git git =
        Files.exists(d)
            ? Git.open(d.toFile())
            : Git.init().setDirectory(d.toFile()).setInitialBranch("main").call();
    for (int c = from; c < from + commits; c++) {
      for (int f = 0; f < 3; f++) {
        String name = "f" + ((c * 7 + f) % 40) + ".txt";
        Files.writeString(d.resolve(name), ("line " + c + " " + f + "\n").repeat(50 + c % 17));
        git.add().addFilepattern(name).call();
      }
      git.commit().setMessage("commit " + c).setSign(false).call();
    }
    return git;
  }

  void push(Git git, String repo) throws Exception {
    var results =
        git.push().setRemote(url(repo)).setRefSpecs(new RefSpec("refs/heads/main")).call();
    for (var r : results) {
      for (RemoteRefUpdate u : r.getRemoteUpdates()) {
        assertEquals(RemoteRefUpdate.Status.OK, u.getStatus(), u.toString());
      }
    }
  }

  /** Fetches everything of {@code repo} into a new repository; returns the fetched main. */
  ObjectId fetchAll(String repo, String dir, int protocolVersion) throws Exception {
    Path d = tmp.resolve(dir);
    try (Git g = Git.init().setDirectory(d.toFile()).setBare(true).call()) {
      g.getRepository().getConfig().setInt("protocol", null, "version", protocolVersion);
      g.getRepository().getConfig().save();
      g.remoteAdd().setName("origin").setUri(new URIish(url(repo))).call();
      g.fetch().setRemote("origin").setRefSpecs(new RefSpec("+refs/heads/*:refs/heads/*")).call();
      return g.getRepository().resolve("refs/heads/main");
    }
  }

  /** Every commit, tree and blob reachable from main is in the repository in {@code dir}. */
  static int assertComplete(Path dir, ObjectId expectedMain) throws Exception {
    try (Repository r = new FileRepository(dir.toFile());
        org.eclipse.jgit.revwalk.ObjectWalk w = new org.eclipse.jgit.revwalk.ObjectWalk(r)) {
      assertEquals(expectedMain, r.resolve("refs/heads/main"));
      w.markStart(w.parseCommit(expectedMain));
      int n = 0;
      while (w.next() != null) {
        n++;
      }
      for (var o = w.nextObject(); o != null; o = w.nextObject()) {
        r.getObjectDatabase().open(o).getSize(); // throws MissingObjectException
        n++;
      }
      return n;
    }
  }

  static List<String> packFiles(Path repo, String ext) throws IOException {
    try (Stream<Path> s = Files.list(repo.resolve("objects/pack"))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(ext)).sorted().toList();
    }
  }

  static void await(String what, BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!done.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(20);
    }
  }

  @Test
  void aPushWithEnoughNewObjectsLeadsToOnePackWithBitmapsAndClonesStillMatch() throws Exception {
    start(new GitMaintenance(settings(100, Duration.ZERO), meters));
    Git a = history("a", 60, 0);
    push(a, "r");
    Path repo = root.resolve("r.git");
    await("maintenance", () -> maintenance.runs("done") == 1);
    assertEquals(1, packFiles(repo, ".bitmap").size(), packFiles(repo, "").toString());
    assertEquals(1, packFiles(repo, ".pack").size());
    ObjectId main = a.getRepository().resolve("refs/heads/main");
    try (Repository r = new FileRepository(repo.toFile())) {
      var bitmaps = r.newObjectReader().getBitmapIndex();
      assertTrue(bitmaps != null && bitmaps.getBitmap(main) != null, "the tip has a bitmap");
    }
    int objects = assertComplete(repo, main);
    for (int v : new int[] {2, 0}) {
      assertEquals(main, fetchAll("r", "clone-v" + v, v));
      assertEquals(objects, assertComplete(tmp.resolve("clone-v" + v), main));
    }
    GitEngineTest.assertFsckClean(repo);

    // A small push stays below the threshold: checked, not packed.
    history("a", 1, 60);
    push(a, "r");
    await("check", () -> maintenance.runs("skipped") == 1);
    assertEquals(1.0, maintenance.runs("done"));
    assertEquals(2, packFiles(repo, ".pack").size());
    assertEquals(1.0, meters.get(GitMaintenance.METER).tag("result", "done").counter().count());
  }

  @Test
  void manySmallPushesAreRepackedOnceTheyMakeEnoughPacks() throws Exception {
    start(
        new GitMaintenance(
            new GitMaintenance.Settings(
                true, 1_000_000, 3, Duration.ZERO, Duration.ZERO, 1, 10, 16L << 20),
            meters));
    Git a = history("a", 1, 0);
    for (int i = 1; i <= 3; i++) {
      push(a, "r");
      history("a", 1, i);
    }
    Path repo = root.resolve("r.git");
    await("maintenance", () -> maintenance.runs("done") == 1);
    // The replaced packs are older than the zero pack-expire: deleted.
    assertEquals(1, packFiles(repo, ".pack").size(), packFiles(repo, "").toString());
    assertEquals(1, packFiles(repo, ".bitmap").size());
  }

  /**
   * Clones running in a loop while maintenance repacks a repository made of many packs, once with
   * the replaced packs kept (pack-expire in the future) and once deleted at once (pack-expire 0,
   * JGit's readers must re-find the objects in the new pack), and a repository of one pack (one
   * push), whose new pack has the same name (the same objects) and replaces the old file in place:
   * every clone completes and is whole.
   */
  @Test
  void clonesKeepWorkingWhileMaintenanceRuns() throws Exception {
    for (int variant = 0; variant < 3; variant++) {
      Duration expire = variant == 1 ? Duration.ZERO : Duration.ofHours(1);
      int pushes = variant == 2 ? 1 : 6;
      String name = "r" + variant;
      GitMaintenance off =
          new GitMaintenance(settings(Long.MAX_VALUE, expire), meters); // never packs on push
      // Its own registry: counters of one name are shared within a registry.
      GitMaintenance on = new GitMaintenance(settings(1, expire), new SimpleMeterRegistry());
      try {
        start(off);
        Git a = history("a" + name, pushes == 1 ? 140 : 40, 0);
        push(a, name);
        for (int i = 1; i < pushes; i++) {
          history("a" + name, 20, i * 100);
          push(a, name);
        }
        ObjectId main = a.getRepository().resolve("refs/heads/main");
        Path repo = root.resolve(name + ".git");
        List<String> before = packFiles(repo, ".pack");
        assertEquals(pushes, before.size());

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger clones = new AtomicInteger();
        List<Future<?>> cloners = new ArrayList<>();
        CountDownLatch first = new CountDownLatch(3);
        for (int t = 0; t < 3; t++) {
          int thread = t;
          cloners.add(
              pool.submit(
                  () -> {
                    for (int i = 0; !stop.get(); i++) {
                      String dir = "clone-" + name + "-" + thread + "-" + i;
                      assertEquals(main, fetchAll(name, dir, i % 2 == 0 ? 2 : 0));
                      assertComplete(tmp.resolve(dir), main);
                      clones.incrementAndGet();
                      first.countDown();
                    }
                    return null;
                  }));
        }
        assertTrue(first.await(60, TimeUnit.SECONDS));
        int startedAt = clones.get();
        on.pushed(repo, name);
        await("maintenance", () -> on.runs("done") == 1 || on.runs("failed") > 0);
        int duringAndAfter = clones.get();
        await("clones after", () -> clones.get() >= duringAndAfter + 3);
        stop.set(true);
        for (Future<?> f : cloners) {
          f.get(60, TimeUnit.SECONDS); // rethrows a failed clone
        }
        assertEquals(1.0, on.runs("done"));
        assertTrue(clones.get() > startedAt);
        List<String> after = packFiles(repo, ".pack");
        if (pushes == 1) {
          assertEquals(before, after, "one pack of the same objects: the same name");
        } else if (expire.isZero()) {
          assertEquals(1, after.size(), after.toString());
          assertFalse(before.contains(after.get(0)));
        } else {
          assertEquals(7, after.size(), "replaced packs younger than pack-expire stay");
        }
        assertEquals(1, packFiles(repo, ".bitmap").size());
        assertComplete(repo, main);
      } finally {
        on.close();
        off.close();
        server.close();
      }
    }
  }

  /**
   * Packs replaced by a run while younger than pack-expire stay, and a later check (no push needed)
   * deletes them once they expired.
   */
  @Test
  void replacedPacksAreDeletedOnceExpiredWithoutAnotherPush() throws Exception {
    start(
        new GitMaintenance(
            new GitMaintenance.Settings(
                true, 1_000_000, 3, Duration.ZERO, Duration.ofSeconds(5), 1, 10, 16L << 20),
            meters));
    Git a = history("a", 1, 0);
    for (int i = 1; i <= 3; i++) {
      push(a, "r");
      history("a", 1, i);
    }
    ObjectId pushed = a.getRepository().resolve("refs/heads/main~1");
    Path repo = root.resolve("r.git");
    await("maintenance", () -> maintenance.runs("done") == 1);
    assertEquals(4, packFiles(repo, ".pack").size(), "replaced packs stay while young");
    assertEquals(1, packFiles(repo, ".bitmap").size());
    await("expiry", () -> maintenance.runs("done") == 2);
    assertEquals(1, packFiles(repo, ".pack").size(), packFiles(repo, "").toString());
    assertEquals(1, packFiles(repo, ".bitmap").size());
    assertComplete(repo, pushed);
    GitEngineTest.assertFsckClean(repo);
  }

  /** A packer that waits until released, counting its runs. */
  static final class Gate implements GitMaintenance.Packer {
    final AtomicInteger runs = new AtomicInteger();
    final java.util.Set<String> threads = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final java.util.concurrent.Semaphore entered = new java.util.concurrent.Semaphore(0);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public void pack(FileRepository repo, GitMaintenance.Settings s, GitMaintenance.Cancel cancel)
        throws Exception {
      runs.incrementAndGet();
      threads.add(Thread.currentThread().getName());
      entered.release();
      while (!release.await(10, TimeUnit.MILLISECONDS)) {
        if (cancel.isCancelled()) {
          throw new org.eclipse.jgit.errors.CancelledException("cancelled");
        }
      }
    }
  }

  /** Bare repositories with one commit, made directly (no engine). */
  Path bareRepo(String name) throws Exception {
    Path dir = tmp.resolve("direct").resolve(name + ".git");
    try (Git g = Git.init().setDirectory(dir.toFile()).setBare(true).call();
        var ins = g.getRepository().newObjectInserter()) {
      ins.insert(org.eclipse.jgit.lib.Constants.OBJ_BLOB, name.getBytes());
      ins.flush();
    }
    return dir;
  }

  @Test
  void requestsForOneRepositoryCoalesceAndTheQueueIsBounded() throws Exception {
    Gate gate = new Gate();
    GitMaintenance.Settings s =
        new GitMaintenance.Settings(true, 1, 20, Duration.ZERO, Duration.ZERO, 1, 3, 16L << 20);
    try (GitMaintenance m = new GitMaintenance(s, meters, gate)) {
      maintenance = m;
      Path a = bareRepo("a");
      Path b = bareRepo("b");
      Path c = bareRepo("c");
      Path d = bareRepo("d");
      m.pushed(a, "a");
      assertTrue(gate.entered.tryAcquire(30, TimeUnit.SECONDS)); // a runs (the only thread)
      m.pushed(a, "a"); // while running: one more check afterwards (pending)
      m.pushed(a, "a"); // coalesced into that
      m.pushed(b, "b"); // pending
      m.pushed(b, "b"); // coalesced
      m.pushed(c, "c"); // pending (3 = max)
      m.pushed(d, "d"); // dropped
      m.pushed(a, "a"); // still coalesced, not dropped
      assertEquals(3, m.pendingCount());
      assertEquals(1.0, m.runs("dropped"));
      gate.release.countDown();
      await("runs", () -> m.runs("done") == 4);
      assertEquals(4, gate.runs.get()); // a, b, c, a again
      assertEquals(0, m.pendingCount());
      // On maintenance's own thread, never a caller's (an event loop or a connection's).
      assertEquals(java.util.Set.of("alknet-git-maintenance-1"), gate.threads);
    }
  }

  @Test
  void runsOfOneRepositoryStartAtLeastTheMinimumIntervalApart() throws Exception {
    List<Long> starts = java.util.Collections.synchronizedList(new ArrayList<>());
    GitMaintenance.Settings s =
        new GitMaintenance.Settings(
            true, 1, 20, Duration.ofMillis(700), Duration.ZERO, 1, 10, 16L << 20);
    try (GitMaintenance m =
        new GitMaintenance(s, meters, (repo, set, cancel) -> starts.add(System.nanoTime()))) {
      Path a = bareRepo("a");
      m.pushed(a, "a");
      await("first", () -> starts.size() == 1);
      m.pushed(a, "a");
      await("second", () -> starts.size() == 2);
      // The interval holds between run starts; the packer is called a little after its run
      // started, so allow for that.
      assertTrue(
          starts.get(1) - starts.get(0) >= TimeUnit.MILLISECONDS.toNanos(680),
          (starts.get(1) - starts.get(0)) / 1_000_000 + " ms apart");
    }
  }

  @Test
  void aFailedRunIsCountedAndLaterRunsStillHappen() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    try (GitMaintenance m =
        new GitMaintenance(
            settings(1, Duration.ZERO),
            meters,
            (repo, s, cancel) -> {
              if (calls.incrementAndGet() == 1) {
                throw new IOException("disk full");
              }
            })) {
      Path a = bareRepo("a");
      m.pushed(a, "a");
      await("failure", () -> m.runs("failed") == 1);
      m.pushed(a, "a");
      await("second run", () -> m.runs("done") == 1);
      // A repository that vanished before its run: a real failure from JGit.
      Path gone = bareRepo("gone");
      org.eclipse.jgit.util.FileUtils.delete(
          gone.toFile(), org.eclipse.jgit.util.FileUtils.RECURSIVE);
      m.pushed(gone, "gone");
      await("failure", () -> m.runs("failed") == 2);
      assertEquals(2.0, meters.get(GitMaintenance.METER).tag("result", "failed").counter().count());
    }
  }

  @Test
  void closeCancelsTheRunningRunAndIgnoresLaterPushes() throws Exception {
    Gate gate = new Gate();
    GitMaintenance m = new GitMaintenance(settings(1, Duration.ZERO), meters, gate);
    Path a = bareRepo("a");
    Path b = bareRepo("b");
    m.pushed(a, "a");
    assertTrue(gate.entered.tryAcquire(30, TimeUnit.SECONDS));
    m.pushed(b, "b");
    m.close();
    await("cancelled", () -> m.runs("cancelled") == 1);
    m.pushed(b, "b");
    Thread.sleep(200);
    assertEquals(1, gate.runs.get());
    assertEquals(0, m.pendingCount());
    m.close(); // idempotent
  }

  @Test
  void disabledDoesNothingAndBadSettingsNameTheProperty() throws Exception {
    Gate gate = new Gate();
    GitMaintenance.Settings off =
        new GitMaintenance.Settings(false, 1, 20, Duration.ZERO, Duration.ZERO, 1, 10, 1 << 20);
    try (GitMaintenance m = new GitMaintenance(off, meters, gate)) {
      m.pushed(bareRepo("a"), "a");
      Thread.sleep(200);
      assertEquals(0, gate.runs.get());
      assertEquals(0, m.pendingCount());
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new GitMaintenance.Settings(
                    true, 0, 20, Duration.ZERO, Duration.ZERO, 1, 10, 1 << 20));
    assertTrue(e.getMessage().contains("alknet.git.maintenance.min-new-objects"), e.getMessage());
  }
}

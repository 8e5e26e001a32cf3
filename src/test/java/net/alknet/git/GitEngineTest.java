package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import net.alknet.auth.Identity;
import net.alknet.config.GitAccess;
import net.alknet.git.GitRequest.Service;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.TransportException;
import org.eclipse.jgit.internal.storage.file.FileRepository;
import org.eclipse.jgit.internal.storage.pack.PackWriter;
import org.eclipse.jgit.lib.NullProgressMonitor;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.PushResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.eclipse.jgit.transport.URIish;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine under JGit's own git:// client. The engine's first message is the git:// daemon
 * request, so JGit's {@code TransportGitAnon} drives it unchanged; the socket here only carries
 * bytes to {@link GitEngine#serve}, as an endpoint stream does in the node.
 */
@Timeout(120)
class GitEngineTest {

  @TempDir Path tmp;
  Path root;
  GitTestServer server;
  final AtomicReference<Identity> who = new AtomicReference<>();
  final AtomicReference<GitAccess> access = new AtomicReference<>(GitAccess.DEFAULT);
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final java.util.concurrent.Semaphore served = new java.util.concurrent.Semaphore(0);
  GitDenials denials;
  GitEngine engine;

  static Identity identity(String name, String... scopes) {
    return new Identity("SHA256:" + name, name, Set.of(scopes), Identity.Proof.CLIENT_CERTIFICATE);
  }

  @BeforeEach
  void start() throws IOException {
    root = tmp.resolve("git");
    denials = new GitDenials(meters);
    engine = new GitEngine(new GitEngine.Settings(root, 16L << 20), access::get, denials);
    who.set(identity("alice", "git"));
    server = new GitTestServer(engine, who::get, served::release);
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
  }

  /** Settings with small limits for one test: objects up to {@code maxObjectSize}, 1000 objects. */
  GitEngine.Settings limits(long maxObjectSize, Duration requestTimeout, Duration ioTimeout) {
    return new GitEngine.Settings(
        root, 16L << 20, maxObjectSize, 1000, 0, requestTimeout, ioTimeout);
  }

  /** Serves from a new engine with {@code settings} from now on. */
  void restart(GitEngine.Settings settings) throws IOException {
    restart(settings, new PushMemory(PushMemory.defaultLimit()));
  }

  void restart(GitEngine.Settings settings, PushMemory memory) throws IOException {
    server.close();
    engine = new GitEngine(settings, access::get, denials, GitEngine.PushListener.NONE, memory);
    server = new GitTestServer(engine, who::get, served::release);
  }

  String url(String name) {
    return server.url(name);
  }

  Git newWorkTree(String dir) throws Exception {
    Git git = Git.init().setDirectory(tmp.resolve(dir).toFile()).setInitialBranch("main").call();
    return git;
  }

  static RevCommit commit(Git git, String file, String content) throws Exception {
    Path f = git.getRepository().getWorkTree().toPath().resolve(file);
    Files.writeString(f, content);
    git.add().addFilepattern(file).call();
    return git.commit().setMessage("change " + file).setSign(false).call();
  }

  static RemoteRefUpdate.Status push(Git git, String url, String refspec) throws Exception {
    Iterable<PushResult> results =
        git.push().setRemote(url).setRefSpecs(new RefSpec(refspec)).setAtomic(true).call();
    RemoteRefUpdate.Status status = null;
    for (PushResult r : results) {
      for (RemoteRefUpdate u : r.getRemoteUpdates()) {
        status = u.getStatus();
      }
    }
    return status;
  }

  Git cloneWith(String name, String dir, int protocolVersion) throws Exception {
    Path d = tmp.resolve(dir);
    // protocol.version is read from the user config; set it on a repository we init first.
    Git g = Git.init().setDirectory(d.toFile()).setInitialBranch("main").call();
    g.getRepository().getConfig().setInt("protocol", null, "version", protocolVersion);
    g.getRepository().getConfig().save();
    g.remoteAdd().setName("origin").setUri(new URIish(url(name))).call();
    g.fetch()
        .setRemote("origin")
        .setRefSpecs(new RefSpec("+refs/heads/*:refs/remotes/origin/*"))
        .call();
    return g;
  }

  @Test
  void pushCreatesTheRepositoryAndFetchWorksWithProtocolV2AndV0() throws Exception {
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "readme", "hello");
    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("team/app.git"), "refs/heads/main"));
    Path repoDir = root.resolve("team/app.git");
    assertTrue(GitEngine.exists(repoDir));
    try (Repository bare = new FileRepository(repoDir.toFile())) {
      assertTrue(bare.isBare());
      assertEquals(c1, bare.resolve("refs/heads/main"));
      assertEquals("refs/heads/main", bare.exactRef("HEAD").getTarget().getName());
    }
    for (int v : new int[] {2, 0}) {
      Git b = cloneWith("team/app", "b" + v, v);
      assertEquals(c1, b.getRepository().resolve("refs/remotes/origin/main"));
    }
  }

  @Test
  void tagsAndSecondBranchAndForcePushUnlessDenied() throws Exception {
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    a.tag().setName("v1").setAnnotated(true).setMessage("v1").setSigned(false).call();
    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("r"), "refs/tags/v1"));
    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("r"), "refs/heads/main:refs/heads/dev"));
    commit(a, "f", "2");
    push(a, url("r"), "refs/heads/main");
    a.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.HARD).setRef(c1.name()).call();
    RevCommit rewritten = commit(a, "f", "3");
    assertEquals(
        RemoteRefUpdate.Status.REJECTED_NONFASTFORWARD, push(a, url("r"), "refs/heads/main"));
    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("r"), "+refs/heads/main"));

    access.set(GitAccess.parse("r deny-non-fast-forward\n"));
    a.reset().setMode(org.eclipse.jgit.api.ResetCommand.ResetType.HARD).setRef(c1.name()).call();
    commit(a, "f", "4");
    RemoteRefUpdate.Status forced = push(a, url("r"), "+refs/heads/main");
    assertEquals(RemoteRefUpdate.Status.REJECTED_OTHER_REASON, forced);
    try (Repository bare = new FileRepository(root.resolve("r.git").toFile())) {
      assertEquals(rewritten, bare.resolve("refs/heads/main"));
      assertNotNull(bare.resolve("refs/tags/v1"));
    }
  }

  @Test
  void readOnlyIdentityFetchesButCannotPush() throws Exception {
    Git a = newWorkTree("a");
    commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    who.set(identity("reader", "git:read"));
    cloneWith("r", "b", 2);
    commit(a, "f", "2");
    TransportException e =
        assertThrows(TransportException.class, () -> push(a, url("r"), "refs/heads/main"));
    assertTrue(
        e.getMessage().contains("access denied: identity SHA256:reader may not push to"),
        e.getMessage());
    assertEquals(1.0, denials.count(GitRequestException.Kind.WRITE));
  }

  @Test
  void deniedUnknownAndHostileRequestsGetOneClearError() throws Exception {
    who.set(identity("nobody"));
    assertTrue(cloneError("r").contains("access denied: identity SHA256:nobody may not read"));
    who.set(Identity.anonymous());
    assertTrue(cloneError("r").contains("unauthenticated peer"));
    who.set(identity("reader", "git:read"));
    assertTrue(cloneError("missing").contains("repository 'missing' not found"));
    assertTrue(cloneError("a/../../etc").contains("'..' is not allowed"));
    Git a = newWorkTree("a");
    commit(a, "f", "1");
    TransportException e =
        assertThrows(TransportException.class, () -> push(a, url("new"), "refs/heads/main"));
    assertTrue(e.getMessage().contains("not found (pushing creates it only"), e.getMessage());
    assertFalse(Files.exists(root.resolve("new.git")));

    // A git_access file with rules denies what it does not mention, even to 'git'.
    who.set(identity("alice", "git"));
    access.set(GitAccess.parse("team/* \n"));
    assertTrue(cloneError("other").contains("may not read repository 'other'"));
    assertEquals(2.0, denials.count(GitRequestException.Kind.NOT_FOUND));
    assertEquals(1.0, denials.count(GitRequestException.Kind.BAD_NAME));
  }

  String cloneError(String name) {
    Exception e = assertThrows(Exception.class, () -> cloneWith(name, "x" + System.nanoTime(), 2));
    return e.getMessage() + " / " + (e.getCause() == null ? "" : e.getCause().getMessage());
  }

  @Test
  void accessDecisionTable() throws Exception {
    RepoName n = RepoName.parse("r");
    GitAccess.Rule rule = GitAccess.DEFAULT.ruleFor("r").orElseThrow();
    assertEquals(
        GitEngine.Action.UPLOAD,
        GitEngine.decide(Service.UPLOAD_PACK, n, rule, true, identity("a", "git:read")));
    assertEquals(
        GitEngine.Action.RECEIVE,
        GitEngine.decide(Service.RECEIVE_PACK, n, rule, true, identity("a", "git:write")));
    assertEquals(
        GitEngine.Action.CREATE_AND_RECEIVE,
        GitEngine.decide(Service.RECEIVE_PACK, n, rule, false, identity("a", "git:create")));
    // Access is checked before existence: no read, no "not found".
    assertEquals(
        GitRequestException.Kind.READ,
        assertThrows(
                GitRequestException.class,
                () -> GitEngine.decide(Service.UPLOAD_PACK, n, rule, false, identity("a")))
            .kind());
    assertEquals(
        GitRequestException.Kind.CREATE,
        assertThrows(
                GitRequestException.class,
                () -> GitEngine.decide(Service.RECEIVE_PACK, n, rule, false, identity("a")))
            .kind());
    assertEquals(
        GitRequestException.Kind.WRITE,
        assertThrows(
                GitRequestException.class,
                () ->
                    GitEngine.decide(
                        Service.RECEIVE_PACK, n, rule, true, identity("a", "git:create")))
            .kind());
  }

  /**
   * A push cut off in the middle of its pack changes nothing: the refs stay where they were and the
   * repository stays consistent (JGit's fsck finds no error).
   */
  @Test
  void pushCutOffMidPackLeavesTheRefsAsTheyWere() throws Exception {
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    for (int i = 0; i < 50; i++) {
      commit(a, "f" + i, ("content " + i + " ").repeat(2000) + Math.random());
    }
    RevCommit tip = a.getRepository().parseCommit(a.getRepository().resolve("HEAD"));
    ByteArrayOutputStream pack = new ByteArrayOutputStream();
    try (PackWriter pw = new PackWriter(a.getRepository())) {
      pw.preparePack(NullProgressMonitor.INSTANCE, Set.of(tip), Set.of(c1));
      pw.writePack(NullProgressMonitor.INSTANCE, NullProgressMonitor.INSTANCE, pack);
    }
    byte[] half = java.util.Arrays.copyOf(pack.toByteArray(), pack.size() / 2);

    try (Socket s = rawPush("/r", c1, tip, half)) {
      // closed: the peer is gone mid-pack
    }

    Path repoDir = root.resolve("r.git");
    // Wait (bounded by @Timeout) until the engine is done with both connections (the first push's
    // and the cut-off one).
    served.acquire(2);
    assertFalse(hasTempPack(repoDir));
    try (Repository bare = new FileRepository(repoDir.toFile())) {
      assertEquals(c1, bare.resolve("refs/heads/main"));
      assertFalse(bare.getObjectDatabase().has(tip));
    }
    assertFsckClean(repoDir);
  }

  /**
   * A hostile (or broken) client pushes a commit without its tree: the push is refused and the ref
   * stays where it was, as git's receive-pack does with its connectivity check, so the repository
   * never points at objects it does not have.
   */
  @Test
  void aPushThatLeavesObjectsOutIsRefused() throws Exception {
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    RevCommit c2 = commit(a, "g", "a file the pack leaves out");
    ByteArrayOutputStream pack = new ByteArrayOutputStream();
    try (PackWriter pw = new PackWriter(a.getRepository());
        org.eclipse.jgit.revwalk.RevWalk rw =
            new org.eclipse.jgit.revwalk.RevWalk(a.getRepository())) {
      // Only the commit object: neither its new tree nor the new blob.
      pw.preparePack(List.<org.eclipse.jgit.revwalk.RevObject>of(rw.parseCommit(c2)).iterator());
      pw.writePack(NullProgressMonitor.INSTANCE, NullProgressMonitor.INSTANCE, pack);
    }
    String report;
    try (Socket s = rawPush("/r", c1, c2, pack.toByteArray())) {
      s.shutdownOutput();
      report = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(report.contains("unpack error Missing object " + c2.getTree().name()), report);
    assertTrue(report.contains("ng refs/heads/main"), report);
    served.acquire(2);
    Path repoDir = root.resolve("r.git");
    try (Repository bare = new FileRepository(repoDir.toFile())) {
      assertEquals(c1, bare.resolve("refs/heads/main"));
    }
    assertFsckClean(repoDir);
  }

  /**
   * JGit allocates for the object count a pack declares before any object arrives: a count past
   * alknet.git.max-pack-objects is refused at the header, with an unpack error, and no ref moves.
   */
  @Test
  void aPackDeclaringTooManyObjectsIsRefusedAtItsHeader() throws Exception {
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    RevCommit c2 = commit(a, "f", "2");
    byte[] header = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0x05, (byte) 0xf5, (byte) 0xe1, 0x00};
    String report;
    try (Socket s = rawPush("/r", c1, c2, header)) {
      // No shutdownOutput: the node must answer while the client still holds the pack open.
      // And goes on sending, as git does: what follows the refused header is not looked at.
      s.getOutputStream().write(new byte[256 << 10]);
      s.getOutputStream().flush();
      report = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(report.contains("unpack error"), report);
    assertTrue(report.contains("pack of 100000000 objects refused"), report);
    try (Repository bare = new FileRepository(root.resolve("r.git").toFile())) {
      assertEquals(c1, bare.resolve("refs/heads/main"));
    }
  }

  /**
   * Pushes that declare objects and then stall hold memory until alknet.git.io-timeout; together
   * they get at most alknet.git.push-memory. A push past it is refused at its pack header with a
   * clear reason, no ref moves, and the memory comes back when the stalled push is cut off.
   */
  @Test
  void pushesInProgressTogetherHoldAtMostThePushMemory() throws Exception {
    PushMemory memory = new PushMemory(10 * PushMemory.BYTES_PER_OBJECT);
    restart(limits(1 << 20, Duration.ofSeconds(10), Duration.ofMinutes(10)), memory);
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    served.acquire();
    RevCommit c2 = commit(a, "f", "2");
    byte[] eight = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 8};
    try (Socket stalled = rawPush("/r", c1, c2, eight)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (memory.reserved() != 8 * PushMemory.BYTES_PER_OBJECT) {
        assertTrue(System.nanoTime() < deadline, "the stalled push reserved nothing");
        Thread.sleep(10);
      }
      // Three more objects do not fit beside its eight: refused for now, with the reason.
      byte[] three = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 3};
      String report;
      try (Socket s = rawPush("/r", c1, c2, three)) {
        report = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      }
      assertTrue(report.contains("unpack error pack of 3 objects refused for now"), report);
      assertTrue(report.contains("alknet.git.push-memory"), report);
      assertTrue(report.contains("try again later"), report);
      // More than the whole limit is refused for good, whatever else runs.
      byte[] eleven = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 11};
      try (Socket s = rawPush("/r", c1, c2, eleven)) {
        report = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      }
      assertTrue(report.contains("pack of 11 objects refused: it needs about"), report);
      assertEquals(2, memory.refused());
      assertEquals(8 * PushMemory.BYTES_PER_OBJECT, memory.reserved(), "refusals reserve nothing");
      assertTrue(served.tryAcquire(2, 30, TimeUnit.SECONDS), "the refused pushes did not end");
    } // the stalled client goes away mid-pack: its push fails and gives its memory back
    assertTrue(served.tryAcquire(30, TimeUnit.SECONDS), "the stalled push did not end");
    assertEquals(0, memory.reserved());
    try (Repository bare = new FileRepository(root.resolve("r.git").toFile())) {
      assertEquals(c1, bare.resolve("refs/heads/main"));
    }
    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("r"), "refs/heads/main"));
    served.acquire();
    assertEquals(0, memory.reserved(), "a push that ends gives its memory back");
  }

  /**
   * A first push that changes no ref (refused at its pack header, cut off mid-pack) leaves no empty
   * repository behind; the next push creates it as if nothing had happened.
   */
  @Test
  void aFailedFirstPushLeavesNoRepositoryBehind() throws Exception {
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    Path repoDir = root.resolve("fresh.git");
    byte[] tooMany = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0x05, (byte) 0xf5, (byte) 0xe1, 0x00};
    String report;
    try (Socket s = rawPush("/fresh", ObjectId.zeroId(), c1, tooMany)) {
      report = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(report.contains("pack of 100000000 objects refused"), report);
    served.acquire();
    assertFalse(Files.exists(repoDir), "the refused push left its repository");

    byte[] half = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3};
    try (Socket s = rawPush("/fresh", ObjectId.zeroId(), c1, half)) {
      // closed: the peer is gone mid-pack
    }
    served.acquire();
    assertFalse(Files.exists(repoDir), "the cut-off push left its repository");
    try (var left = Files.list(root.resolve(GitEngine.TMP))) {
      assertEquals(List.of(), left.toList(), "removal left files in .tmp");
    }

    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("fresh"), "refs/heads/main"));
    served.acquire();
    try (Repository bare = new FileRepository(repoDir.toFile())) {
      assertEquals(c1, bare.resolve("refs/heads/main"));
    }
    assertFsckClean(repoDir);
  }

  /**
   * The repository a failed first push created stays while another request holds it: here a fetch
   * that has its (empty) advertisement and has not ended yet.
   */
  @Test
  void aRepositoryInUseIsNotRemovedUnderItsUser() throws Exception {
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    Path repoDir = root.resolve("busy.git");
    byte[] eight = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 8};
    try (Socket stalled = rawPush("/busy", ObjectId.zeroId(), c1, eight)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!Files.exists(repoDir)) {
        assertTrue(System.nanoTime() < deadline, "the first push created no repository");
        Thread.sleep(10);
      }
      try (Socket reader = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
        reader
            .getOutputStream()
            .write(
                new GitRequest(Service.UPLOAD_PACK, "/busy", Optional.empty(), List.of()).encode());
        reader.getOutputStream().flush();
        skipAdvertisement(reader.getInputStream()); // held by the reader from here
        stalled.close(); // the first push fails
        served.acquire();
        assertTrue(Files.exists(repoDir), "removed while a fetch held it");
      }
      served.acquire();
    }
    // Its creator is gone: the reader does not remove it (it created nothing), and a push works.
    assertTrue(Files.exists(repoDir));
    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("busy"), "refs/heads/main"));
  }

  /** An object larger than alknet.git.max-object-size is refused before it is read. */
  @Test
  void anObjectOverTheSizeLimitIsRefused() throws Exception {
    restart(limits(4096, Duration.ofSeconds(10), Duration.ofMinutes(10)));
    Git a = newWorkTree("a");
    RevCommit first = commit(a, "small", "fits");
    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("r"), "refs/heads/main"));
    byte[] big = new byte[10_000];
    new java.util.Random(1).nextBytes(big); // does not deflate below the limit either
    commit(a, "big", java.util.Base64.getEncoder().encodeToString(big));
    Exception e =
        org.junit.jupiter.api.Assertions.assertThrows(
            org.eclipse.jgit.api.errors.TooLargeObjectInPackException.class,
            () -> push(a, url("r"), "refs/heads/main"));
    assertTrue(e.getMessage().contains("Max object size limit is 4,096 bytes"), e.getMessage());
    try (Repository bare = new FileRepository(root.resolve("r.git").toFile())) {
      assertEquals(first, bare.resolve("refs/heads/main"));
    }
  }

  /**
   * A client that connects and says nothing, or a byte now and then, gets an ERR once
   * alknet.git.request-timeout has passed, and the connection ends (git daemon's --init-timeout).
   */
  @Test
  void aClientThatSendsNoRequestIsCutOffAfterTheRequestTimeout() throws Exception {
    restart(limits(1 << 20, Duration.ofMillis(300), Duration.ofMinutes(10)));
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      s.setSoTimeout(30_000); // the test's own bound: far past the node's
      s.getOutputStream().write("00".getBytes(StandardCharsets.US_ASCII)); // half a length
      s.getOutputStream().flush();
      String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(reply.contains("ERR no request within 300 ms"), reply);
    }
    served.acquire(); // the engine returned: the connection's thread is free
    // A prompt client is not affected.
    Git a = newWorkTree("a");
    commit(a, "f", "1");
    assertEquals(RemoteRefUpdate.Status.OK, push(a, url("r"), "refs/heads/main"));
  }

  /**
   * A push whose client stalls mid-pack (alive, sending nothing) ends after alknet.git.io-timeout:
   * the connection's thread is freed and no ref moves. Over QUIC, PINGs would keep such a client
   * past the endpoint's idle timeout. After the io-timeout, not ten times it (JGit's own wait for
   * pack data, which held a stalled push 100 s here).
   */
  @Test
  void aClientThatStallsMidPackIsCutOffAfterTheIoTimeout() throws Exception {
    restart(limits(1 << 20, Duration.ofSeconds(10), Duration.ofSeconds(10)));
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    served.acquire();
    RevCommit c2 = commit(a, "f", "2");
    byte[] header = {'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 3};
    try (Socket s = rawPush("/r", c1, c2, header)) {
      // Nothing more, and the socket stays open: only the timeout can end the push.
      assertTrue(served.tryAcquire(30, TimeUnit.SECONDS), "the push was not cut off");
    }
    try (Repository bare = new FileRepository(root.resolve("r.git").toFile())) {
      assertEquals(c1, bare.resolve("refs/heads/main"));
    }
  }

  /**
   * git runs the pre-push hook between the ref advertisement and its commands, with the connection
   * open: a client that takes its time there (well within alknet.git.io-timeout) is served.
   */
  @Test
  void aClientThatTakesItsTimeBeforeItsCommandsIsServed() throws Exception {
    restart(limits(1 << 20, Duration.ofSeconds(10), Duration.ofSeconds(10)));
    Git a = newWorkTree("a");
    RevCommit c1 = commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    served.acquire();
    push(a, url("r"), "refs/heads/main:refs/heads/x");
    served.acquire();
    String report;
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(new GitRequest(Service.RECEIVE_PACK, "/r", Optional.empty(), List.of()).encode());
      out.flush();
      skipAdvertisement(s.getInputStream());
      Thread.sleep(2500); // a pre-push hook at work: over a tenth of the io-timeout
      String cmd = c1.name() + " " + ObjectId.zeroId().name() + " refs/heads/x\0 report-status\n";
      out.write(PktLine.of(cmd.getBytes(StandardCharsets.US_ASCII)));
      out.write("0000".getBytes(StandardCharsets.US_ASCII)); // a delete: no pack follows
      out.flush();
      report = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(report.contains("ok refs/heads/x"), report);
    try (Repository bare = new FileRepository(root.resolve("r.git").toFile())) {
      assertEquals(null, bare.exactRef("refs/heads/x"));
    }
  }

  /**
   * Wants whose ids share the 4 bytes Java hashes them by would make JGit's want set quadratic:
   * past a handful the request ends with a clear ERR.
   */
  @Test
  void wantsWithCollidingIdsEndTheFetchWithAClearError() throws Exception {
    Git a = newWorkTree("a");
    commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    String reply;
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(new GitRequest(Service.UPLOAD_PACK, "/r", Optional.empty(), List.of()).encode());
      out.flush();
      skipAdvertisement(s.getInputStream());
      for (int i = 0; i < 50; i++) {
        String id = String.format("%08x", i) + "deadbeef" + "0".repeat(24);
        String caps = i == 0 ? " multi_ack_detailed side-band-64k ofs-delta" : "";
        out.write(PktLine.of(("want " + id + caps + "\n").getBytes(StandardCharsets.US_ASCII)));
      }
      out.write("0000".getBytes(StandardCharsets.US_ASCII));
      out.write(PktLine.of("done\n".getBytes(StandardCharsets.US_ASCII)));
      out.flush();
      reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
    assertTrue(reply.contains("ERR too many wanted objects whose ids collide"), reply);
  }

  /**
   * git sends one want per ref, so a clone of a repository whose refs share a commit (tags on a
   * release) repeats that id: no collision, the fetch gets its pack.
   */
  @Test
  void repeatedWantsOfOneCommitAreServed() throws Exception {
    Git a = newWorkTree("a");
    RevCommit c = commit(a, "f", "1");
    push(a, url("r"), "refs/heads/main");
    byte[] reply;
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
      OutputStream out = s.getOutputStream();
      out.write(new GitRequest(Service.UPLOAD_PACK, "/r", Optional.empty(), List.of()).encode());
      out.flush();
      skipAdvertisement(s.getInputStream());
      for (int i = 0; i < 20; i++) {
        String caps = i == 0 ? " ofs-delta" : "";
        out.write(
            PktLine.of(("want " + c.name() + caps + "\n").getBytes(StandardCharsets.US_ASCII)));
      }
      out.write("0000".getBytes(StandardCharsets.US_ASCII));
      out.write(PktLine.of("done\n".getBytes(StandardCharsets.US_ASCII)));
      out.flush();
      reply = s.getInputStream().readAllBytes();
    }
    String text = new String(reply, StandardCharsets.ISO_8859_1);
    assertTrue(text.startsWith("0008NAK\nPACK"), text.substring(0, Math.min(200, text.length())));
  }

  /**
   * Pushes {@code pack} by hand, moving refs/heads/main from {@code from} to {@code to} with
   * report-status; returns the open connection, the node's answer still to be read.
   */
  Socket rawPush(String repo, ObjectId from, ObjectId to, byte[] pack) throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port());
    OutputStream out = s.getOutputStream();
    out.write(new GitRequest(Service.RECEIVE_PACK, repo, Optional.empty(), List.of()).encode());
    out.flush();
    skipAdvertisement(s.getInputStream());
    String cmd = from.name() + " " + to.name() + " refs/heads/main\0 report-status\n";
    out.write(PktLine.of(cmd.getBytes(StandardCharsets.US_ASCII)));
    out.write("0000".getBytes(StandardCharsets.US_ASCII));
    out.write(pack);
    out.flush();
    return s;
  }

  static boolean hasTempPack(Path repo) throws IOException {
    try (var s = Files.list(repo.resolve("objects"))) {
      return s.anyMatch(p -> p.getFileName().toString().startsWith("incoming_"));
    }
  }

  static void assertFsckClean(Path repo) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        System.getenv("ALKNET_E2E_REQUIRE") != null || onPath("git"), "stock git not installed");
    Process p =
        new ProcessBuilder("git", "--git-dir", repo.toString(), "fsck", "--full", "--strict")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
  }

  static boolean onPath(String cmd) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, cmd))) {
        return true;
      }
    }
    return false;
  }

  /** Reads pkt-lines up to and including the first flush. */
  static void skipAdvertisement(InputStream in) throws IOException {
    while (true) {
      byte[] h = in.readNBytes(4);
      int len = Integer.parseInt(new String(h, StandardCharsets.US_ASCII), 16);
      if (len == 0) {
        return;
      }
      in.readNBytes(len - 4);
    }
  }
}

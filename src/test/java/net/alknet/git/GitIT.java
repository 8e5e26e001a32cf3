package net.alknet.git;

import static net.alknet.testing.NodeProcesses.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GIT-1..GIT-3 end to end with stock git, as a user runs it: the packaged node ({@code alknet
 * serve}, heap capped at 256 MB), and {@code git} with {@code bin/} on its PATH so that {@code
 * alknet://} (QUIC) and {@code alknet+tcp://} (TLS/TCP) URLs go through the {@code
 * git-remote-alknet} helper; also git's own ext:: transport through {@code alknet bridge}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(600)
class GitIT {

  @TempDir static Path tmp;
  Path data;
  Path alice;
  Path reader;
  Path home;
  int port;
  Process node;
  Path nodeLog;

  /** One finished command: exit code and output (stdout and stderr together). */
  record Run(int exit, String out) {}

  /** A client data directory with an Ed25519 key written by ssh-keygen; returns its public line. */
  String clientKey(Path dir) throws Exception {
    Files.createDirectories(dir);
    Run r =
        run(
            dir,
            null,
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            dir.getFileName().toString(),
            "-f",
            dir.resolve("id_ed25519").toString());
    assertEquals(0, r.exit(), r.out());
    return Files.readString(dir.resolve("id_ed25519.pub")).strip();
  }

  @BeforeAll
  void startNode() throws Exception {
    boolean have = onPath("git") && onPath("ssh-keygen");
    if (System.getenv("ALKNET_E2E_REQUIRE") == null) {
      Assumptions.assumeTrue(have, "git or ssh-keygen not installed");
    }
    data = tmp.resolve("node");
    alice = tmp.resolve("alice");
    reader = tmp.resolve("reader");
    home = tmp.resolve("home");
    Files.createDirectories(home);
    Files.createDirectories(data);
    String aliceKey = clientKey(alice);
    String readerKey = clientKey(reader);
    Files.writeString(
        data.resolve("authorized_keys"),
        "scopes=\"git\" " + aliceKey + "\nscopes=\"git:read\" " + readerKey + "\n");
    Files.writeString(
        data.resolve("git_access"),
        "# test rules\nprotected-* deny-non-fast-forward\nclosed write= create=\n"
            + "signed-* require-signed-push\n**\n");
    // Empty repositories to clone, one per transport.
    for (String t : new String[] {"quic", "tcp"}) {
      Run r =
          run(
              tmp,
              null,
              "git",
              "init",
              "-q",
              "--bare",
              data.resolve("git/empty-" + t + ".git").toString());
      assertEquals(0, r.exit(), r.out());
    }
    port = freePort();
    nodeLog = tmp.resolve("node.log");
    node =
        serve(
            List.of(
                "-Xmx256m",
                "-Dquarkus.management.port=" + freePort(),
                "-Dalknet.endpoint.shutdown-grace=2s",
                "-Dalknet.limits.idle-timeout=10s",
                "-Dalknet.git.max-object-size=1M"),
            onLoopback(data, port),
            nodeLog,
            LISTENING,
            Duration.ofSeconds(90));
  }

  @AfterAll
  void stopNode() {
    if (node != null) {
      node.destroyForcibly();
    }
  }

  Map<String, String> env(Path clientData) {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", home.toString());
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_TERMINAL_PROMPT", "0");
    env.put("GIT_AUTHOR_NAME", "Alice");
    env.put("GIT_AUTHOR_EMAIL", "alice@example.com");
    env.put("GIT_COMMITTER_NAME", "Alice");
    env.put("GIT_COMMITTER_EMAIL", "alice@example.com");
    env.put("PATH", bin() + ":" + System.getenv("PATH"));
    env.put("ALKNET_DATA_DIR", clientData.toString());
    env.put("XDG_CACHE_HOME", tmp.resolve("cache").toString());
    return env;
  }

  /** Runs a command to completion; {@code clientData} picks the alknet key (null: none set). */
  Run run(Path dir, Path clientData, String... cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    if (clientData != null) {
      pb.environment().putAll(env(clientData));
    }
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      throw new AssertionError("hung: " + String.join(" ", cmd) + "\n" + out);
    }
    return new Run(p.exitValue(), out);
  }

  Run git(Path dir, Path clientData, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    return run(dir, clientData, cmd.toArray(String[]::new));
  }

  Run ok(Path dir, Path clientData, String... args) throws Exception {
    Run r = git(dir, clientData, args);
    assertEquals(0, r.exit(), "git " + String.join(" ", args) + ":\n" + r.out());
    return r;
  }

  String url(String transport, String repo) {
    return (transport.equals("tcp") ? "alknet+tcp" : "alknet")
        + "://127.0.0.1:"
        + port
        + "/"
        + repo;
  }

  String head(Path dir, String rev) throws Exception {
    return ok(dir, alice, "rev-parse", rev).out().strip();
  }

  Path server(String repo) {
    return data.resolve("git/" + repo + ".git");
  }

  String serverRef(String repo, String ref) throws Exception {
    return ok(tmp, alice, "--git-dir", server(repo).toString(), "rev-parse", ref).out().strip();
  }

  void commit(Path work, String file, String content) throws Exception {
    Files.writeString(work.resolve(file), content);
    ok(work, alice, "add", file);
    ok(work, alice, "commit", "-q", "-m", "edit " + file);
  }

  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void cloneEmptyCommitPushAndCloneAgainEverywhereTheSame(String t) throws Exception {
    Path w = tmp.resolve("w-" + t);
    Run cloned = ok(tmp, alice, "clone", url(t, "empty-" + t), w.toString());
    assertTrue(cloned.out().contains("empty repository"), cloned.out());
    // git ran the helper through bin/alknet's client path (ClientMain, not Quarkus), which keeps
    // its class data sharing archive in XDG_CACHE_HOME/alknet.
    try (var archives = Files.list(tmp.resolve("cache/alknet"))) {
      assertTrue(
          archives.anyMatch(a -> a.getFileName().toString().matches("client-\\d+-\\d+\\.jsa")),
          "no client archive: git-remote-alknet did not take the client path");
    }
    commit(w, "README", "hello " + t);
    // push -q prints nothing, as through git daemon: no "remote: Updating references" either.
    assertEquals("", ok(w, alice, "push", "-q", "origin", "HEAD:main").out());
    assertEquals(head(w, "HEAD"), serverRef("empty-" + t, "main"));

    // Push-to-create, then clone it elsewhere and compare.
    ok(w, alice, "push", "-q", url(t, "team/new-" + t + ".git"), "HEAD:main");
    Path again = tmp.resolve("again-" + t);
    ok(tmp, alice, "clone", "-q", url(t, "team/new-" + t), again.toString());
    assertEquals(head(w, "HEAD"), head(again, "HEAD"));
    ok(again, alice, "fsck", "--strict");
    ok(tmp, alice, "--git-dir", server("team/new-" + t).toString(), "fsck", "--strict");

    // Fetch with protocol v2 and v0: both see the new commit; v2 is really v2.
    commit(w, "README", "second " + t);
    ok(w, alice, "push", "-q", url(t, "team/new-" + t), "HEAD:main");
    Map<String, String> trace = Map.of("GIT_TRACE_PACKET", "1");
    Run v2 = gitWithEnv(again, trace, "-c", "protocol.version=2", "fetch", "origin");
    assertEquals(0, v2.exit(), v2.out());
    assertTrue(v2.out().contains("version 2"), v2.out());
    assertEquals(head(w, "HEAD"), head(again, "origin/main"));
    commit(w, "README", "third " + t);
    ok(w, alice, "push", "-q", url(t, "team/new-" + t), "HEAD:main");
    Run v0 = gitWithEnv(again, trace, "-c", "protocol.version=0", "fetch", "origin");
    assertEquals(0, v0.exit(), v0.out());
    assertFalse(v0.out().contains("< version 2"), v0.out());
    assertEquals(head(w, "HEAD"), head(again, "origin/main"));

    // Partial clone: the node honours --filter=blob:none; older blobs come on demand, each
    // through the helper again, and the clone checks out.
    Path partial = tmp.resolve("partial-" + t);
    Run filtered =
        ok(tmp, alice, "clone", "--filter=blob:none", url(t, "team/new-" + t), partial.toString());
    assertFalse(filtered.out().contains("filtering not recognized"), filtered.out());
    String missing = ok(partial, alice, "rev-list", "--objects", "--all", "--missing=print").out();
    assertTrue(missing.lines().anyMatch(l -> l.startsWith("?")), "nothing left out:\n" + missing);
    assertEquals("second " + t, ok(partial, alice, "show", "HEAD~1:README").out());
    assertEquals("hello " + t, ok(partial, alice, "show", "HEAD~2:README").out());
    ok(partial, alice, "fsck");

    // Shallow clone, then the rest of the history.
    Path shallow = tmp.resolve("shallow-" + t);
    ok(tmp, alice, "clone", "-q", "--depth", "1", url(t, "team/new-" + t), shallow.toString());
    assertEquals("1", ok(shallow, alice, "rev-list", "--count", "HEAD").out().strip());
    ok(shallow, alice, "fetch", "-q", "--unshallow");
    assertEquals("3", ok(shallow, alice, "rev-list", "--count", "HEAD").out().strip());
  }

  Run gitWithEnv(Path dir, Map<String, String> extra, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().putAll(env(alice));
    pb.environment().putAll(extra);
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(300, TimeUnit.SECONDS));
    return new Run(p.exitValue(), out);
  }

  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void branchesTagsAndAForcePushRefusedWhereConfigured(String t) throws Exception {
    Path w = tmp.resolve("bt-" + t);
    ok(tmp, alice, "init", "-q", "-b", "main", w.toString());
    commit(w, "a", "1");
    String repo = "protected-" + t;
    ok(w, alice, "remote", "add", "origin", url(t, repo));
    ok(w, alice, "push", "-q", "origin", "main");
    String first = head(w, "HEAD");
    ok(w, alice, "tag", "-a", "-m", "release", "v1.0");
    ok(w, alice, "push", "-q", "--atomic", "origin", "main:feature", "v1.0");
    Run refs = ok(w, alice, "ls-remote", "origin");
    assertTrue(refs.out().contains("refs/heads/feature"), refs.out());
    assertTrue(refs.out().contains("refs/tags/v1.0"), refs.out());
    assertTrue(refs.out().contains("refs/tags/v1.0^{}"), refs.out());
    // Many refs on one commit: git wants that commit once per ref (protocol v0 sends the same
    // want line a dozen times), which the node must not take for crafted colliding ids.
    for (int i = 0; i < 12; i++) {
      ok(w, alice, "tag", "light-" + i);
    }
    ok(w, alice, "push", "-q", "origin", "--tags");
    for (String v : new String[] {"0", "2"}) {
      Path c = tmp.resolve("bt-clone-" + t + "-v" + v);
      ok(tmp, alice, "-c", "protocol.version=" + v, "clone", "-q", url(t, repo), c.toString());
      assertEquals(head(w, "HEAD"), head(c, "refs/tags/light-11"));
    }

    // Rewrite history: the force push is refused, the server keeps its ref.
    ok(w, alice, "commit", "-q", "--amend", "-m", "rewritten");
    Run forced = git(w, alice, "push", "-f", "origin", "main");
    assertNotEquals(0, forced.exit(), forced.out());
    assertTrue(forced.out().contains("[remote rejected]"), forced.out());
    assertEquals(first, serverRef(repo, "main"));

    // A repository without the rule takes the same force push.
    ok(w, alice, "push", "-q", url(t, "free-" + t), first + ":refs/heads/main");
    ok(w, alice, "push", "-q", "-f", url(t, "free-" + t), "main");
    assertEquals(head(w, "HEAD"), serverRef("free-" + t, "main"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void readOnlyIdentityClonesButCannotPush(String t) throws Exception {
    Path w = tmp.resolve("ro-src-" + t);
    ok(tmp, alice, "init", "-q", "-b", "main", w.toString());
    commit(w, "a", "1");
    ok(w, alice, "push", "-q", url(t, "shared-" + t), "main");

    Path mine = tmp.resolve("ro-" + t);
    ok(tmp, reader, "clone", "-q", url(t, "shared-" + t), mine.toString());
    commit(mine, "b", "2");
    Run push = git(mine, reader, "push", "origin", "main");
    assertNotEquals(0, push.exit());
    assertTrue(
        push.out().contains("remote error: access denied: identity SHA256:")
            && push.out().contains("may not push to repository 'shared-" + t + "'"),
        push.out());
    Run create = git(mine, reader, "push", url(t, "reader-new-" + t), "main");
    assertNotEquals(0, create.exit());
    assertTrue(create.out().contains("not found (pushing creates it only"), create.out());
    assertFalse(Files.exists(server("reader-new-" + t)));
    assertFalse(create.out().contains("Exception"), create.out());
  }

  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void unknownRepositoriesAndHostileNamesGetOneClearError(String t) throws Exception {
    Run unknown =
        git(tmp, alice, "clone", url(t, "no-such-repo"), tmp.resolve("u-" + t).toString());
    assertNotEquals(0, unknown.exit());
    assertTrue(
        unknown.out().contains("fatal: remote error: repository 'no-such-repo' not found"),
        unknown.out());
    for (String hostile : new String[] {"a/../../etc", "..%2f..%2fetc", "%2e%2e/x", ".git"}) {
      Run r = git(tmp, alice, "ls-remote", url(t, hostile));
      assertNotEquals(0, r.exit(), r.out());
      assertTrue(r.out().contains("fatal: remote error: "), r.out());
      assertFalse(r.out().contains("Exception"), r.out());
    }
    // git itself may normalize some URLs; our own request goes straight through the bridge:
    Run traversal =
        git(tmp, alice, "-c", "protocol.ext.allow=always", "ls-remote", ext(t, "/../../../etc"));
    assertTrue(
        traversal.out().contains("remote error: '..' is not allowed in repository names"),
        traversal.out());
    Path w = tmp.resolve("closed-" + t);
    ok(tmp, alice, "init", "-q", "-b", "main", w.toString());
    commit(w, "a", "1");
    Run closed = git(w, alice, "push", url(t, "closed"), "main");
    assertNotEquals(0, closed.exit());
    // alice may read 'closed' (the rule leaves read alone) but not create it: told it is missing.
    assertTrue(closed.out().contains("not found (pushing creates it only"), closed.out());
    assertFalse(Files.exists(server("closed")));
    assertTrue(node.isAlive());
  }

  /**
   * A push the node refuses mid-pack (an object over alknet.git.max-object-size, 1M on this node)
   * tells stock git why, every time: git is still sending the pack when the node answers and ends
   * the connection. Over TLS/TCP the node's close once turned into a reset that took the answer
   * with it about every second push, and git said only "unexpected disconnect".
   */
  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void aPushRefusedMidPackTellsGitWhyEveryTime(String t) throws Exception {
    Path w = tmp.resolve("big-" + t);
    ok(tmp, alice, "init", "-q", "-b", "main", w.toString());
    byte[] random = new byte[3 << 20];
    new java.util.Random(7).nextBytes(random); // does not deflate: the pack carries all of it
    Files.write(w.resolve("big.bin"), random);
    ok(w, alice, "add", "big.bin");
    ok(w, alice, "commit", "-q", "-m", "big");
    for (int i = 0; i < 3; i++) {
      Run r = git(w, alice, "push", url(t, "big-" + t), "main");
      assertNotEquals(0, r.exit(), r.out());
      assertTrue(r.out().contains("rejecting the pack"), "push " + i + ":\n" + r.out());
      assertTrue(r.out().contains("Max object size limit is 1,048,576 bytes"), r.out());
      assertFalse(r.out().contains("Exception"), r.out());
    }
    assertTrue(node.isAlive());
  }

  /** git's ext:: transport running {@code alknet bridge}; git sends the git:// request (%G). */
  String ext(String t, String path) {
    return "ext::"
        + bin().resolve("alknet")
        + " bridge "
        + (t.equals("tcp") ? "--tcp " : "")
        + "--alpn alknet/git 127.0.0.1:"
        + port
        + " %G"
        + path;
  }

  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void extTransportThroughTheBridge(String t) throws Exception {
    Path w = tmp.resolve("ext-" + t);
    ok(tmp, alice, "init", "-q", "-b", "main", w.toString());
    commit(w, "a", "ext " + t);
    ok(w, alice, "-c", "protocol.ext.allow=always", "push", "-q", ext(t, "/ext-" + t), "main");
    Path c = tmp.resolve("ext-clone-" + t);
    ok(
        tmp,
        alice,
        "-c",
        "protocol.ext.allow=always",
        "clone",
        "-q",
        ext(t, "/ext-" + t),
        c.toString());
    assertEquals(head(w, "HEAD"), head(c, "HEAD"));
  }

  /**
   * With {@code alknet agent} running for the client's data directory, git's helper goes through it
   * (the agent logs each session); stopped, the agent removes its socket, and killed, it leaves one
   * nobody answers on: either way the helper connects by itself again.
   */
  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void throughTheAgentAndWithoutIt(String t) throws Exception {
    Path agentLog = tmp.resolve("agent-" + t + ".log");
    Path socket = alice.resolve("agent.sock");
    // The helper run that makes the launcher's class archive connects by itself: done here, first.
    ok(tmp, alice, "ls-remote", url(t, "empty-" + t));
    for (boolean kill : new boolean[] {false, true}) {
      ProcessBuilder pb =
          new ProcessBuilder(bin().resolve("alknet").toString(), "agent", "--idle", "5m")
              .redirectErrorStream(true)
              .redirectOutput(agentLog.toFile());
      pb.environment().putAll(env(alice));
      Process agent = pb.start();
      try {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(socket)) {
          assertTrue(agent.isAlive(), "the agent stopped:\n" + Files.readString(agentLog));
          assertTrue(
              System.nanoTime() < deadline, "no agent socket:\n" + Files.readString(agentLog));
          Thread.sleep(50);
        }
        String repo = "agent-" + t + (kill ? "-2" : "-1");
        Path w = tmp.resolve("w-" + repo);
        ok(tmp, alice, "init", "-q", "-b", "main", w.toString());
        commit(w, "a", "through the agent " + t);
        ok(w, alice, "push", "-q", url(t, repo), "main");
        Path c = tmp.resolve("c-" + repo);
        ok(tmp, alice, "clone", "-q", url(t, repo), c.toString());
        assertEquals(head(w, "HEAD"), head(c, "HEAD"));
        // The agent logs a session once both directions have ended, maybe after git has exited.
        String session = "session to 127.0.0.1:" + port + " (alknet/git over " + t + ") ended";
        String log = Files.readString(agentLog);
        while (log.lines().filter(l -> l.contains(session)).count() < 2
            && System.nanoTime() < deadline) {
          Thread.sleep(50);
          log = Files.readString(agentLog);
        }
        assertEquals(2, log.lines().filter(l -> l.contains(session)).count(), log);
      } finally {
        if (kill) {
          agent.destroyForcibly();
        } else {
          agent.destroy();
        }
        assertTrue(agent.waitFor(30, TimeUnit.SECONDS), "the agent did not stop");
      }
      assertEquals(kill, Files.exists(socket), kill ? "killed: socket left" : "socket left");
      // Without an agent (none, or a dead one's socket): the helper connects by itself.
      Path again = tmp.resolve("again-agent-" + t + kill);
      ok(tmp, alice, "clone", "-q", url(t, "agent-" + t + "-1"), again.toString());
    }
    Files.deleteIfExists(socket);
  }

  /**
   * A push whose client is killed in the middle of the pack leaves the repository exactly at its
   * previous refs, and {@code git fsck} finds nothing wrong. The client is held mid-pack (only the
   * first 300 KB of its output reach the bridge; stdbuf, because head's stdio would otherwise hold
   * back the request itself) until the node has started receiving the pack; then the whole client
   * process tree is killed.
   */
  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void pushKilledMidPackChangesNothing(String t) throws Exception {
    Path w = tmp.resolve("kill-" + t);
    ok(tmp, alice, "init", "-q", "-b", "main", w.toString());
    commit(w, "a", "base");
    String repo = "killed-" + t;
    ok(w, alice, "push", "-q", url(t, repo), "main");
    String before = serverRef(repo, "main");
    byte[] big = new byte[8 << 20];
    new java.util.Random(42).nextBytes(big);
    Files.write(w.resolve("big.bin"), big);
    ok(w, alice, "add", "big.bin");
    ok(w, alice, "commit", "-q", "-m", "big");

    String shell =
        "{ stdbuf -o0 head -c 300000; sleep 600; } | "
            + bin().resolve("alknet")
            + " bridge "
            + (t.equals("tcp") ? "--tcp " : "")
            + "--alpn alknet/git 127.0.0.1:"
            + port;
    // ext:: splits at spaces; "% " is a literal space inside one argument.
    String stall = "ext::sh -c " + shell.replace("%", "%%").replace(" ", "% ") + " %G/" + repo;
    ProcessBuilder pb =
        new ProcessBuilder("git", "-c", "protocol.ext.allow=always", "push", stall, "main")
            .directory(w.toFile())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("kill-" + t + ".log").toFile());
    pb.environment().putAll(env(alice));
    Process push = pb.start();
    Path packs = server(repo).resolve("objects"); // JGit receives into objects/incoming_*.pack
    while (!hasIncoming(packs)) {
      assertTrue(push.isAlive(), Files.readString(tmp.resolve("kill-" + t + ".log")));
      Thread.sleep(50);
    }
    push.descendants().forEach(ProcessHandle::destroyForcibly);
    push.destroyForcibly();
    push.waitFor();
    // The node notices the dead peer (TCP at once, QUIC at the idle timeout) and drops the
    // partial pack; bounded by the test timeout.
    while (hasIncoming(packs)) {
      Thread.sleep(100);
    }
    assertEquals(before, serverRef(repo, "main"));
    ok(tmp, alice, "--git-dir", server(repo).toString(), "fsck", "--full", "--strict");
    Run log = ok(tmp, alice, "--git-dir", server(repo).toString(), "rev-list", "--all");
    assertEquals(before, log.out().strip());
  }

  /**
   * GIT-4: a repository that requires signed pushes takes a push certificate signed
   * (gpg.format=ssh) with the pushing identity's own key, and refuses unsigned pushes and
   * certificates signed by another key; refused pushes move no ref.
   */
  @ParameterizedTest
  @ValueSource(strings = {"quic", "tcp"})
  void signedPushesWithTheIdentitysOwnSshKey(String t) throws Exception {
    Path w = tmp.resolve("signed-" + t);
    ok(tmp, alice, "init", "-q", "-b", "main", w.toString());
    commit(w, "a", "1");
    String repo = "signed-" + t;
    Run unsigned = git(w, alice, "push", url(t, repo), "main");
    assertNotEquals(0, unsigned.exit());
    assertTrue(unsigned.out().contains("requires signed pushes"), unsigned.out());

    String[] signWith = {"-c", "gpg.format=ssh", "-c", "user.signingkey="};
    Run wrongKey =
        git(
            w,
            alice,
            signWith[0],
            signWith[1],
            signWith[2],
            signWith[3] + reader.resolve("id_ed25519"),
            "push",
            "--signed",
            url(t, repo),
            "main");
    assertNotEquals(0, wrongKey.exit());
    assertTrue(wrongKey.out().contains("not by the pushing identity"), wrongKey.out());
    // Both refused first pushes changed no ref: the repository they created is gone again (the
    // node removes it once the request has ended, which may be just after git has exited).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (Files.exists(server(repo)) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertFalse(Files.exists(server(repo)), "a refused first push left " + server(repo));

    ok(
        w,
        alice,
        signWith[0],
        signWith[1],
        signWith[2],
        signWith[3] + alice.resolve("id_ed25519"),
        "push",
        "-q",
        "--signed",
        url(t, repo),
        "main");
    assertEquals(head(w, "HEAD"), serverRef(repo, "main"));
  }

  static boolean hasIncoming(Path packs) throws IOException {
    if (!Files.isDirectory(packs)) {
      return false;
    }
    try (var s = Files.list(packs)) {
      return s.anyMatch(p -> p.getFileName().toString().startsWith("incoming_"));
    }
  }

  /**
   * A ~50 MB repository with thousands of commits is pushed and cloned back over QUIC through a
   * node whose heap is capped at 256 MB. The push brings more new objects than maintenance's
   * threshold: the first clone runs while the node repacks the repository in the background; the
   * repository then has a bitmap index, a clone after that is whole too, and the server's
   * repository passes {@code git fsck}.
   */
  @Test
  void largeRepositoryWithBoundedNodeMemory() throws Exception {
    Path gen = tmp.resolve("large-src.git");
    Path script = bin().getParent().resolve("bench/gen-git-repo.sh");
    Run g = run(tmp, alice, "bash", script.toString(), gen.toString());
    assertEquals(0, g.exit(), g.out());
    ok(gen, alice, "push", "-q", url("quic", "large"), "main");
    Path c = tmp.resolve("large-clone");
    ok(tmp, alice, "clone", "-q", "--bare", url("quic", "large"), c.toString());
    assertEquals(
        ok(gen, alice, "rev-parse", "main").out().strip(),
        ok(c, alice, "rev-parse", "main").out().strip());
    ok(c, alice, "fsck", "--strict");

    Path packs = server("large").resolve("objects/pack");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    while (!hasBitmap(packs)) {
      assertTrue(
          System.nanoTime() < deadline,
          "no bitmap index after the push; node log:\n" + Files.readString(nodeLog));
      Thread.sleep(250);
    }
    assertTrue(Files.readString(nodeLog).contains("git maintenance of 'large' done"));
    Path c2 = tmp.resolve("large-clone-2");
    ok(tmp, alice, "clone", "-q", "--bare", url("tcp", "large"), c2.toString());
    assertEquals(
        ok(gen, alice, "rev-parse", "main").out().strip(),
        ok(c2, alice, "rev-parse", "main").out().strip());
    ok(c2, alice, "fsck", "--strict");
    ok(server("large"), alice, "fsck", "--strict", "--no-dangling");
    assertTrue(node.isAlive());
    assertFalse(Files.readString(nodeLog).contains("OutOfMemoryError"));
  }

  static boolean hasBitmap(Path packs) throws IOException {
    try (var s = Files.list(packs)) {
      return s.anyMatch(p -> p.getFileName().toString().endsWith(".bitmap"));
    }
  }
}

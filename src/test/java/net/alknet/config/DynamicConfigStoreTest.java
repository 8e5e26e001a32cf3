package net.alknet.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import net.alknet.auth.ApiKeys;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CFG-2: snapshot reloads, all-or-nothing, and the Kubernetes ConfigMap symlink swap. */
class DynamicConfigStoreTest {

  @TempDir Path dir;
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private DynamicConfigStore store;

  @AfterEach
  void close() {
    if (store != null) {
      store.close();
    }
  }

  private DynamicConfigStore store(Path d, Duration poll) {
    store = new DynamicConfigStore(d, meters, Clock.systemUTC(), poll);
    return store;
  }

  private static String keyLine(String scopes, String comment) {
    var key = Ed25519Keys.generate();
    return "scopes=\"" + scopes + "\" " + Ed25519Keys.sshPublicKeyLine(key.getPublic(), comment);
  }

  @Test
  void missingFilesMeanAnEmptyButValidConfig() {
    var r = store(dir, Duration.ofSeconds(5)).reload();
    assertTrue(r.ok());
    assertEquals(1, store.current().generation());
    assertTrue(store.get().keys().isEmpty());
  }

  @Test
  void validChangeIsPickedUpAndInvalidFileKeepsThePreviousSnapshot() throws Exception {
    Files.writeString(dir.resolve("authorized_keys"), keyLine("call", "alice") + "\n");
    store(dir, Duration.ofSeconds(5));
    assertTrue(store.reload().ok());
    assertEquals(1, store.get().keys().size());

    Files.writeString(
        dir.resolve("authorized_keys"),
        keyLine("call", "alice") + "\n" + keyLine("git:read", "bob") + "\n");
    var r = store.reload();
    assertTrue(r.ok() && r.changed(), r.message());
    assertEquals(2, store.get().keys().size());
    assertEquals(2, store.current().generation());

    // An invalid api_keys file: nothing of this reload is taken, not even the valid keys file.
    Files.writeString(dir.resolve("authorized_keys"), keyLine("*", "carol") + "\n");
    Files.writeString(dir.resolve("api_keys"), "svc sha256:nothex\n");
    r = store.reload();
    assertFalse(r.ok());
    assertTrue(r.message().contains("api_keys:1"), r.message());
    assertEquals(2, store.get().keys().size());
    assertEquals(1.0, meters.counter("alknet.config.reload.failures").count());
    // The same broken content again (the poll timer, a second SIGHUP): reported, not re-counted.
    assertFalse(store.reload().ok());
    assertEquals(1.0, meters.counter("alknet.config.reload.failures").count());

    // Fixed: taken.
    var key = ApiKeys.generate();
    Files.writeString(dir.resolve("api_keys"), "svc " + key.hash() + " scopes=call\n");
    r = store.reload();
    assertTrue(r.ok(), r.message());
    assertEquals(1, store.get().keys().size());
    assertEquals(1, store.get().apiKeys().size());
  }

  @Test
  void forwardingRulesLoadAndABrokenRuleKeepsThePreviousOnes() throws Exception {
    Files.writeString(dir.resolve("forwarding"), "connect db:5432 scopes=team\n");
    DynamicConfigStore s = store(dir, Duration.ofSeconds(5));
    assertTrue(s.reload().ok());
    assertEquals(1, s.current().forwarding().size());
    Files.writeString(
        dir.resolve("forwarding"), "connect db:5432 scopes=team\nlisten 0 scopes=team\n");
    var bad = s.reload();
    assertFalse(bad.ok());
    assertTrue(bad.message().contains("forwarding:2:"), bad.message());
    assertEquals(1, s.current().forwarding().size());
    assertEquals(1, s.current().generation());
    Files.delete(dir.resolve("forwarding"));
    assertTrue(s.reload().ok());
    assertEquals(0, s.current().forwarding().size());
  }

  @Test
  void gitAccessIsPartOfTheSnapshotAndABadOneKeepsEverythingAsItWas() throws Exception {
    Files.writeString(dir.resolve("authorized_keys"), keyLine("git", "alice") + "\n");
    store(dir, Duration.ofSeconds(5));
    assertTrue(store.reload().ok());
    assertTrue(store.current().git().rules().isEmpty());

    Files.writeString(dir.resolve("git_access"), "team/* read=git:read:team\n");
    var r = store.reload();
    assertTrue(r.ok() && r.changed(), r.message());
    assertEquals(1, store.current().git().rules().size());
    assertTrue(store.current().git().ruleFor("other").isEmpty());

    // All or nothing: a new key plus a broken git_access changes neither.
    Files.writeString(
        dir.resolve("authorized_keys"),
        keyLine("git", "alice") + "\n" + keyLine("git", "bob") + "\n");
    Files.writeString(dir.resolve("git_access"), "team/* wirte=git:write\n");
    r = store.reload();
    assertFalse(r.ok());
    assertTrue(r.message().contains("git_access:1: unknown option 'wirte'"), r.message());
    assertEquals(1, store.get().keys().size());
    assertEquals("git:read:team", store.current().git().rules().get(0).read().iterator().next());
    assertEquals(2, store.current().generation());
  }

  @Test
  void unchangedFilesDoNotBumpTheGeneration() throws Exception {
    Files.writeString(dir.resolve("authorized_keys"), keyLine("call", "alice") + "\n");
    store(dir, Duration.ofSeconds(5)).reload();
    var r = store.reload();
    assertTrue(r.ok());
    assertFalse(r.changed());
    assertEquals(1, store.current().generation());
  }

  @Test
  void oversizedAndNonUtf8FilesAreRejectedWithTheFileName() throws Exception {
    store(dir, Duration.ofSeconds(5)).reload();
    Files.write(dir.resolve("authorized_keys"), new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});
    var r = store.reload();
    assertFalse(r.ok());
    assertTrue(r.message().contains("authorized_keys: not valid UTF-8"), r.message());

    Files.write(dir.resolve("authorized_keys"), new byte[5 * 1024 * 1024]);
    r = store.reload();
    assertFalse(r.ok());
    assertTrue(r.message().contains("limit"), r.message());
    assertEquals(0, store.get().keys().size());
  }

  @Test
  void watcherPicksUpAnEditedFile() throws Exception {
    store(dir, Duration.ofSeconds(30)).reload();
    store.watch();
    Files.writeString(dir.resolve("authorized_keys"), keyLine("call", "alice") + "\n");
    await(() -> store.get().keys().size() == 1);
  }

  /**
   * A ConfigMap volume: {@code ..2026_a/authorized_keys}, {@code ..data -> ..2026_a} and {@code
   * authorized_keys -> ..data/authorized_keys}. An update writes {@code ..2026_b}, points {@code
   * ..data_tmp} at it and renames {@code ..data_tmp} over {@code ..data}.
   */
  @Test
  void kubernetesConfigMapSymlinkSwapIsPickedUp() throws Exception {
    Path first = Files.createDirectory(dir.resolve("..2026_11_23_a"));
    var alice = Ed25519Keys.generate();
    Files.writeString(
        first.resolve("authorized_keys"),
        "scopes=\"call\" " + Ed25519Keys.sshPublicKeyLine(alice.getPublic(), "alice") + "\n");
    Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
    Files.createSymbolicLink(
        dir.resolve("authorized_keys"), Path.of("..data").resolve("authorized_keys"));

    store(dir, Duration.ofSeconds(30)).reload();
    store.watch();
    assertTrue(store.get().byFingerprint(Fingerprints.sha256(alice.getPublic())).isPresent());

    Path second = Files.createDirectory(dir.resolve("..2026_11_23_b"));
    var bob = Ed25519Keys.generate();
    Files.writeString(
        second.resolve("authorized_keys"),
        "scopes=\"git:read\" " + Ed25519Keys.sshPublicKeyLine(bob.getPublic(), "bob") + "\n");
    Path tmp = Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
    Files.move(tmp, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);

    await(() -> store.get().byFingerprint(Fingerprints.sha256(bob.getPublic())).isPresent());
    assertTrue(store.get().byFingerprint(Fingerprints.sha256(alice.getPublic())).isEmpty());
  }

  @Test
  void pollingCatchesChangesWithoutEvents() throws Exception {
    store(dir, Duration.ofMillis(200)).reload();
    // No watch(): simulate an event-less file system by polling through the watcher's timer only.
    store.watch();
    Path f = dir.resolve("authorized_keys");
    Files.writeString(f, keyLine("call", "alice") + "\n");
    await(() -> store.get().keys().size() == 1);
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.sleep(20);
    }
  }
}

package net.alknet.config;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import net.alknet.auth.ApiKeyEntry;
import net.alknet.auth.ApiKeys;
import net.alknet.auth.AuthorizedKey;
import net.alknet.auth.AuthorizedKeys;
import net.alknet.auth.ConfigFormatException;
import net.alknet.auth.IdentityDirectory;
import net.alknet.ssh.ForwardingRules;
import org.jboss.logging.Logger;

/**
 * Holds the current {@link DynamicConfig} behind an atomic reference and reloads it from its
 * directory (CFG-2, AUTH-6):
 *
 * <ul>
 *   <li>files: {@code authorized_keys}, {@code api_keys}, {@code forwarding} and {@code git_access}
 *       ({@link GitAccess}); a missing file means "none";
 *   <li>triggers: a file-system event in the directory (this covers a Kubernetes ConfigMap's {@code
 *       ..data} symlink swap, which renames inside the directory), a periodic content check (file
 *       systems whose events are unreliable), {@link #reload()} ({@code alknet reload}, SIGHUP);
 *   <li>all or nothing: if any file is invalid the previous snapshot stays, the reason is logged
 *       and {@code alknet.config.reload.failures} is incremented.
 * </ul>
 *
 * <p>Readers call {@link #current()} (or use it as a {@link Supplier}) per new connection, so a
 * reload takes effect for new connections without a restart. The watcher is one daemon thread.
 */
public final class DynamicConfigStore implements Supplier<IdentityDirectory>, AutoCloseable {

  /** The outcome of a reload. */
  public record ReloadResult(boolean ok, boolean changed, long generation, String message) {}

  private static final Logger LOG = Logger.getLogger(DynamicConfigStore.class);
  public static final String AUTHORIZED_KEYS = "authorized_keys";
  public static final String API_KEYS = "api_keys";

  private final Path dir;
  private final Clock clock;
  private final Duration pollInterval;
  private final AtomicReference<DynamicConfig> current = new AtomicReference<>(DynamicConfig.EMPTY);
  private final Counter failures;
  private final Counter reloads;
  private byte[] lastDigest = new byte[0];
  private byte[] lastFailedDigest = new byte[0];
  private String lastFailure = "";
  private volatile Thread watcher;
  private volatile WatchService watchService;

  public DynamicConfigStore(Path dir, MeterRegistry meters, Clock clock, Duration pollInterval) {
    this.dir = dir;
    this.clock = clock;
    this.pollInterval = pollInterval;
    this.failures = meters.counter("alknet.config.reload.failures");
    this.reloads = meters.counter("alknet.config.reloads");
  }

  public Path dir() {
    return dir;
  }

  /** The snapshot in force. */
  public DynamicConfig current() {
    return current.get();
  }

  @Override
  public IdentityDirectory get() {
    return current.get().identities();
  }

  /**
   * Loads the files now. On the first load an invalid file is an error the caller reports (the node
   * refuses to start on a broken config); later, the previous snapshot stays.
   */
  public synchronized ReloadResult reload() {
    byte[] keysText;
    byte[] apiText;
    byte[] forwardingText;
    byte[] gitText;
    try {
      keysText = read(AUTHORIZED_KEYS, AuthorizedKeys.MAX_FILE);
      apiText = read(API_KEYS, ApiKeys.MAX_FILE);
      forwardingText = read(ForwardingRules.FILE, ForwardingRules.MAX_FILE);
      gitText = read(GitAccess.FILE, GitAccess.MAX_FILE);
    } catch (IOException e) {
      return failed(e.getMessage());
    }
    byte[] digest = digest(keysText, apiText, forwardingText, gitText);
    DynamicConfig before = current.get();
    if (before.generation() > 0 && Arrays.equals(digest, lastDigest)) {
      return new ReloadResult(true, false, before.generation(), "unchanged");
    }
    if (Arrays.equals(digest, lastFailedDigest)) {
      // Same broken content as last time: already logged and counted once.
      return new ReloadResult(false, false, before.generation(), lastFailure);
    }
    List<AuthorizedKey> keys;
    List<ApiKeyEntry> apiKeys;
    ForwardingRules forwarding;
    GitAccess git;
    try {
      keys = AuthorizedKeys.parse(decode(AUTHORIZED_KEYS, keysText));
      apiKeys = ApiKeys.parse(decode(API_KEYS, apiText));
      forwarding = ForwardingRules.parse(decode(ForwardingRules.FILE, forwardingText));
      git = GitAccess.parse(decode(GitAccess.FILE, gitText));
    } catch (ConfigFormatException | CharacterCodingException e) {
      lastFailedDigest = digest;
      return failed(e.getMessage());
    }
    DynamicConfig next =
        new DynamicConfig(
            IdentityDirectory.of(keys, apiKeys),
            forwarding,
            git,
            before.generation() + 1,
            clock.instant());
    current.set(next);
    lastDigest = digest;
    lastFailedDigest = new byte[0];
    reloads.increment();
    String message =
        String.format(
            "loaded %d authorized key(s), %d API key(s), %d forwarding rule(s) and %d git access"
                + " rule(s) from %s (generation %d)",
            keys.size(),
            apiKeys.size(),
            forwarding.size(),
            git.rules().size(),
            dir,
            next.generation());
    LOG.info(message);
    return new ReloadResult(true, true, next.generation(), message);
  }

  private ReloadResult failed(String why) {
    failures.increment();
    DynamicConfig kept = current.get();
    String message =
        "dynamic config NOT reloaded, keeping generation " + kept.generation() + ": " + why;
    LOG.warn(message);
    lastFailure = message;
    return new ReloadResult(false, false, kept.generation(), message);
  }

  private byte[] read(String name, int max) throws IOException {
    Path file = dir.resolve(name);
    try {
      long size = Files.size(file);
      if (size > max) {
        throw new IOException(name + ": file is " + size + " bytes, the limit is " + max);
      }
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length > max) {
        throw new IOException(name + ": file is larger than the limit of " + max + " bytes");
      }
      return bytes;
    } catch (NoSuchFileException e) {
      return new byte[0];
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(name)) {
        throw e;
      }
      throw new IOException(
          name + ": cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
    }
  }

  private static String decode(String name, byte[] bytes) throws CharacterCodingException {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new CharacterCodingException() {
        @Override
        public String getMessage() {
          return name + ": not valid UTF-8";
        }
      };
    }
  }

  private static byte[] digest(byte[]... files) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (byte[] f : files) {
        // Length-prefixed, so moving bytes from one file to the next changes the digest.
        md.update(java.nio.ByteBuffer.allocate(8).putLong(f.length).array());
        md.update(f);
      }
      return md.digest();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Starts the watcher thread (idempotent). */
  public synchronized void watch() throws IOException {
    if (watcher != null) {
      return;
    }
    Files.createDirectories(dir);
    WatchService ws = dir.getFileSystem().newWatchService();
    dir.register(
        ws,
        StandardWatchEventKinds.ENTRY_CREATE,
        StandardWatchEventKinds.ENTRY_MODIFY,
        StandardWatchEventKinds.ENTRY_DELETE);
    watchService = ws;
    Thread t = new Thread(() -> watchLoop(ws), "alknet-config-watch");
    t.setDaemon(true);
    watcher = t;
    t.start();
  }

  private void watchLoop(WatchService ws) {
    while (!Thread.currentThread().isInterrupted()) {
      try {
        WatchKey key = ws.poll(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
        if (key != null) {
          key.pollEvents();
          key.reset();
          // Let a burst of events (an editor's save, a ConfigMap swap) settle, then drain it.
          Thread.sleep(100);
          WatchKey more;
          while ((more = ws.poll()) != null) {
            more.pollEvents();
            more.reset();
          }
        }
        reload();
      } catch (InterruptedException | ClosedWatchServiceException e) {
        return;
      } catch (RuntimeException e) {
        LOG.warnf("dynamic config watcher: %s", e.toString());
      }
    }
  }

  @Override
  public void close() {
    Thread t = watcher;
    if (t != null) {
      t.interrupt();
    }
    WatchService ws = watchService;
    if (ws != null) {
      try {
        ws.close();
      } catch (IOException ignored) {
        // closing
      }
    }
  }
}

package net.alknet.git;

import java.util.concurrent.atomic.AtomicReference;
import net.alknet.config.AlknetConfig;
import org.eclipse.jgit.storage.file.WindowCacheConfig;
import org.jboss.logging.Logger;

/**
 * JGit's process-wide storage settings: the window cache every repository's pack data is read
 * through, and the SHA-1 implementation. JGit keeps both in static state, so they are installed
 * once per node start ({@link #install}), before the first repository is opened; installing again
 * replaces the window cache (emptying it) and is harmless otherwise.
 *
 * @param packedGitLimit bytes of pack data cached, all repositories together
 * @param windowSize bytes read and cached at a time; a power of two from 4 KiB to 1 MiB, at most
 *     {@code packedGitLimit}
 * @param deltaBaseCacheLimit bytes of inflated delta bases cached
 * @param mmap map pack files instead of reading them into the heap
 * @param sha1CollisionDetection JGit's collision-detecting SHA-1 (sha1dc) when true, the JDK's
 *     SHA-1 when false
 */
public record GitStorage(
    long packedGitLimit,
    int windowSize,
    int deltaBaseCacheLimit,
    boolean mmap,
    boolean sha1CollisionDetection) {

  private static final Logger LOG = Logger.getLogger(GitStorage.class);
  private static final long MIB = 1L << 20;

  /**
   * JGit's system property choosing the SHA-1 implementation ({@code java} or {@code jdkNative}).
   */
  static final String SHA1_PROPERTY = "org.eclipse.jgit.util.sha1.implementation";

  /** Checks the bounds; the message names the offending property and value. */
  public GitStorage {
    if (windowSize < 4096 || windowSize > (1 << 20) || Integer.bitCount(windowSize) != 1) {
      throw new IllegalArgumentException(
          "alknet.git.storage.window-size must be a power of two from 4K to 1M, not " + windowSize);
    }
    if (packedGitLimit < windowSize) {
      throw new IllegalArgumentException(
          "alknet.git.storage.packed-git-limit ("
              + packedGitLimit
              + ") must be at least the window size ("
              + windowSize
              + ")");
    }
    if (deltaBaseCacheLimit < 1) {
      throw new IllegalArgumentException(
          "alknet.git.storage.delta-base-cache-limit must be positive, not " + deltaBaseCacheLimit);
    }
  }

  /**
   * The settings from the node's config; unset sizes are derived from the maximum heap as {@link
   * AlknetConfig.Git.Storage} describes.
   *
   * @throws IllegalArgumentException for values out of bounds, naming the property
   */
  public static GitStorage from(AlknetConfig.Git git, long maxHeap) {
    AlknetConfig.Git.Storage s = git.storage();
    long limit =
        s.packedGitLimit()
            .map(m -> m.asLongValue())
            .orElse(clamp(maxHeap / 8, 10 * MIB, 256 * MIB));
    long base =
        s.deltaBaseCacheLimit()
            .map(m -> m.asLongValue())
            .orElse(clamp(maxHeap / 32, 10 * MIB, 64 * MIB));
    long window = s.windowSize().asLongValue();
    if (base > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "alknet.git.storage.delta-base-cache-limit must be below 2G, not " + base);
    }
    return new GitStorage(
        limit,
        (int) Math.min(window, Integer.MAX_VALUE),
        (int) base,
        s.mmap(),
        git.sha1CollisionDetection());
  }

  private static long clamp(long v, long min, long max) {
    return Math.max(min, Math.min(max, v));
  }

  private static final AtomicReference<GitStorage> INSTALLED = new AtomicReference<>();

  /**
   * Installs these settings for every repository of this JVM and logs them; does nothing when they
   * are installed already (a node restarted in one JVM keeps its window cache).
   */
  public void install() {
    if (equals(INSTALLED.getAndSet(this))) {
      return;
    }
    WindowCacheConfig c = new WindowCacheConfig();
    c.setPackedGitLimit(packedGitLimit);
    c.setPackedGitWindowSize(windowSize);
    c.setDeltaBaseCacheLimit(deltaBaseCacheLimit);
    c.setPackedGitMMAP(mmap);
    c.install();
    System.setProperty(SHA1_PROPERTY, sha1CollisionDetection ? "java" : "jdkNative");
    LOG.infof(
        "git storage: pack cache %d MiB in %d KiB windows%s, delta base cache %d MiB, SHA-1 %s",
        packedGitLimit / MIB,
        windowSize / 1024,
        mmap ? " (mmap)" : "",
        deltaBaseCacheLimit / MIB,
        sha1CollisionDetection ? "with collision detection" : "without collision detection (JDK)");
  }
}

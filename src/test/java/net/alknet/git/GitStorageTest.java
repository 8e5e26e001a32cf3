package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.runtime.configuration.MemorySize;
import java.math.BigInteger;
import java.util.Optional;
import net.alknet.config.AlknetConfig;
import org.eclipse.jgit.util.sha1.SHA1;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link GitStorage}: sizes derived from the heap, bounds, and the SHA-1 choice. */
class GitStorageTest {

  static final long MIB = 1L << 20;
  final String sha1Before = System.getProperty(GitStorage.SHA1_PROPERTY);

  @AfterEach
  void restore() {
    if (sha1Before == null) {
      System.clearProperty(GitStorage.SHA1_PROPERTY);
    } else {
      System.setProperty(GitStorage.SHA1_PROPERTY, sha1Before);
    }
  }

  static MemorySize size(long bytes) {
    return new MemorySize(BigInteger.valueOf(bytes));
  }

  /** The config with the given storage settings and the documented defaults otherwise. */
  static AlknetConfig.Git config(
      Optional<MemorySize> limit, long window, Optional<MemorySize> base, boolean sha1dc) {
    AlknetConfig.Git.Storage storage =
        new AlknetConfig.Git.Storage() {
          @Override
          public Optional<MemorySize> packedGitLimit() {
            return limit;
          }

          @Override
          public MemorySize windowSize() {
            return size(window);
          }

          @Override
          public Optional<MemorySize> deltaBaseCacheLimit() {
            return base;
          }

          @Override
          public boolean mmap() {
            return false;
          }
        };
    return new AlknetConfig.Git() {
      @Override
      public MemorySize packMemoryLimit() {
        return size(32 * MIB);
      }

      @Override
      public boolean sha1CollisionDetection() {
        return sha1dc;
      }

      @Override
      public MemorySize maxObjectSize() {
        return size(100 * MIB);
      }

      @Override
      public long maxPackObjects() {
        return 10_000_000;
      }

      @Override
      public Optional<MemorySize> maxPackSize() {
        return Optional.empty();
      }

      @Override
      public Optional<MemorySize> pushMemory() {
        return Optional.empty();
      }

      @Override
      public java.time.Duration requestTimeout() {
        return java.time.Duration.ofSeconds(10);
      }

      @Override
      public java.time.Duration ioTimeout() {
        return java.time.Duration.ofMinutes(10);
      }

      @Override
      public Storage storage() {
        return storage;
      }

      @Override
      public Maintenance maintenance() {
        throw new UnsupportedOperationException();
      }
    };
  }

  @Test
  void unsetSizesFollowTheHeapWithinBounds() {
    GitStorage small =
        GitStorage.from(config(Optional.empty(), 65536, Optional.empty(), true), 64 * MIB);
    assertEquals(10 * MIB, small.packedGitLimit());
    assertEquals(10 * MIB, small.deltaBaseCacheLimit());
    GitStorage mid =
        GitStorage.from(config(Optional.empty(), 65536, Optional.empty(), true), 1024 * MIB);
    assertEquals(128 * MIB, mid.packedGitLimit());
    assertEquals(32 * MIB, mid.deltaBaseCacheLimit());
    GitStorage big =
        GitStorage.from(config(Optional.empty(), 65536, Optional.empty(), true), 16384 * MIB);
    assertEquals(256 * MIB, big.packedGitLimit());
    assertEquals(64 * MIB, big.deltaBaseCacheLimit());
    GitStorage set =
        GitStorage.from(
            config(Optional.of(size(512 * MIB)), 8192, Optional.of(size(20 * MIB)), true),
            16384 * MIB);
    assertEquals(512 * MIB, set.packedGitLimit());
    assertEquals(8192, set.windowSize());
    assertEquals(20 * MIB, set.deltaBaseCacheLimit());
  }

  @Test
  void badValuesNameTheProperty() {
    for (long window : new long[] {1024, 3 * 65536, 2 * MIB}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  GitStorage.from(
                      config(Optional.empty(), window, Optional.empty(), true), 1024 * MIB));
      assertTrue(e.getMessage().contains("alknet.git.storage.window-size"), e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                GitStorage.from(
                    config(Optional.of(size(4096)), 65536, Optional.empty(), true), 1024 * MIB));
    assertTrue(e.getMessage().contains("alknet.git.storage.packed-git-limit"), e.getMessage());
  }

  @Test
  void sha1CollisionDetectionChoosesJGitsImplementation() {
    new GitStorage(64 * MIB, 65536, (int) (10 * MIB), false, false).install();
    assertEquals("jdkNative", System.getProperty(GitStorage.SHA1_PROPERTY));
    assertEquals("SHA1Native", SHA1.newInstance().getClass().getSimpleName());
    new GitStorage(64 * MIB, 65536, (int) (10 * MIB), false, true).install();
    assertEquals("java", System.getProperty(GitStorage.SHA1_PROPERTY));
    assertEquals("SHA1Java", SHA1.newInstance().getClass().getSimpleName());
    // Both compute SHA-1.
    byte[] abc = "abc".getBytes();
    SHA1 a = SHA1.newInstance();
    a.update(abc);
    System.setProperty(GitStorage.SHA1_PROPERTY, "jdkNative");
    SHA1 b = SHA1.newInstance();
    b.update(abc);
    assertEquals("a9993e364706816aba3e25717850c26c9cd0d89d", a.toObjectId().name());
    assertEquals("a9993e364706816aba3e25717850c26c9cd0d89d", b.toObjectId().name());
  }
}

package net.alknet.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.Locale;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Keeps netty's native libraries (epoll, BoringSSL, quiche) of the client commands extracted in a
 * per-user directory, so that a command loads them from there instead of extracting them again.
 *
 * <p>netty extracts each library from its jar into a temporary file on every start (for a QUIC
 * connection about 9.6 MB, inflated), unless {@code java.library.path} already has it. {@code
 * bin/alknet} points {@code java.library.path} and {@value #PROPERTY} at one directory per build
 * (its name carries the jars' state); the first run of that build fills it here, before any netty
 * class loads. The directory appears by an atomic rename, complete or not at all, so concurrent
 * first runs never load a partial library. Any failure leaves netty to extract as before.
 */
final class NativeLibraryCache {

  /** The directory to use; unset: nothing to do. */
  static final String PROPERTY = "alknet.native.cache";

  private static final String PREFIX = "META-INF/native/";

  private NativeLibraryCache() {}

  /** Fills the directory named by {@value #PROPERTY} if it does not exist yet. */
  static void prepare() {
    String dir = System.getProperty(PROPERTY, "");
    if (dir.isEmpty()) {
      return;
    }
    Path target = Path.of(dir);
    if (Files.isDirectory(target)) {
      return;
    }
    try {
      extract(System.getProperty("java.class.path", ""), target);
    } catch (IOException | RuntimeException e) {
      // netty extracts the libraries itself, as without the cache
    }
  }

  /**
   * Copies every native library at the top of {@value #PREFIX} in the jars of {@code classPath}
   * into {@code target}, created by renaming a complete temporary directory next to it.
   *
   * @return whether this call created {@code target} (false: another process did first)
   */
  static boolean extract(String classPath, Path target) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = Files.createTempDirectory(parent, ".native-");
    try {
      for (String entry : classPath.split(File.pathSeparator)) {
        if (entry.endsWith(".jar") && Files.isRegularFile(Path.of(entry))) {
          copyLibraries(Path.of(entry), tmp);
        }
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        return true;
      } catch (FileSystemException e) {
        // rename(2) onto a directory another run made first: ENOTEMPTY, reported as a plain
        // FileSystemException ("Directory not empty")
        if (Files.isDirectory(target)) {
          return false;
        }
        throw e;
      }
    } finally {
      deleteTree(tmp);
    }
  }

  private static void copyLibraries(Path jar, Path dir) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        String name = e.getName();
        if (e.isDirectory() || !name.startsWith(PREFIX) || !isLibrary(name)) {
          continue;
        }
        String file = name.substring(PREFIX.length());
        if (file.isEmpty() || file.contains("/") || file.startsWith(".")) {
          continue;
        }
        try (InputStream in = zip.getInputStream(e)) {
          Files.copy(in, dir.resolve(file));
        }
      }
    }
  }

  private static boolean isLibrary(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.endsWith(".so") || n.endsWith(".dylib") || n.endsWith(".jnilib") || n.endsWith(".dll");
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  // a leftover temporary directory; bin/alknet removes old ones
                }
              });
    } catch (IOException e) {
      // as above
    }
  }
}

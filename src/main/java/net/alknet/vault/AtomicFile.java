package net.alknet.vault;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * Crash-safe whole-file replacement: write a temporary file in the same directory (owner-only),
 * fsync it, rename it over the target (atomic on POSIX), fsync the directory. A crash at any point
 * leaves either the old file or the new one, never a mix; a leftover {@code .<name>.*.tmp} file is
 * ignored by readers.
 */
final class AtomicFile {

  /** Called between the fsync of the temporary file and the rename; tests use it to crash. */
  interface BeforeRename {
    void run(Path temporary) throws IOException;
  }

  static final BeforeRename NOTHING = t -> {};

  private static final SecureRandom RANDOM = new SecureRandom();

  private AtomicFile() {}

  /** Replaces (or creates) {@code target} with {@code content}. */
  static void write(Path target, byte[] content, BeforeRename hook) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    byte[] r = new byte[6];
    RANDOM.nextBytes(r);
    Path tmp = dir.resolve("." + target.getFileName() + "." + HexFormat.of().formatHex(r) + ".tmp");
    boolean renamed = false;
    try {
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
              ownerOnly(dir))) {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      hook.run(tmp);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      renamed = true;
      fsyncDirectory(dir);
    } finally {
      if (!renamed) {
        Files.deleteIfExists(tmp);
      }
    }
  }

  /** Creates {@code dir} (and parents) owner-only (rwx------) if it does not exist. */
  static void createPrivateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    try {
      Files.createDirectories(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException e) {
      throw new IOException(dir + " exists and is not a directory");
    } catch (UnsupportedOperationException e) {
      // A file system without POSIX permissions (not the supported Linux setup): the directory is
      // created with the platform's defaults, as the node's data directory is (Node#dataDir).
      Files.createDirectories(dir);
    }
  }

  private static FileAttribute<?>[] ownerOnly(Path dir) {
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      return new FileAttribute<?>[] {
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))
      };
    }
    return new FileAttribute<?>[0];
  }

  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Some platforms cannot open a directory for fsync; the rename itself is still atomic.
    }
  }
}

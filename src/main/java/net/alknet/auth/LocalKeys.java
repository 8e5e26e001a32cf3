package net.alknet.auth;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.Set;

/**
 * The node's own key pair on disk: an OpenSSH private key file plus {@code <file>.pub}, the same
 * layout as {@code ssh-keygen}, so both tools can read each other's files.
 *
 * <p>Error messages name the path and the problem, never key material. Files are read with a size
 * cap of {@value #MAX_FILE} bytes. Not synchronized: concurrent writers to the same path MUST be
 * prevented by the caller (e.g. only the {@code keygen} command writes).
 */
public final class LocalKeys {
  /** Largest private key file read. */
  public static final int MAX_FILE = OpenSshPrivateKey.MAX_PEM;

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> PUBLIC_READ =
      PosixFilePermissions.fromString("rw-r--r--");

  private LocalKeys() {}

  /** The private key file does not exist; the message tells the operator to run keygen. */
  public static final class MissingKeyException extends NoSuchFileException {
    private static final long serialVersionUID = 1L;

    MissingKeyException(Path file) {
      super(file.toString(), null, "no key at " + file + "; run `alknet keygen`");
    }

    @Override
    public String getMessage() {
      return getReason();
    }
  }

  /**
   * Loads a key pair from an unencrypted OpenSSH private key file.
   *
   * @throws MissingKeyException if the file does not exist
   * @throws IOException if it cannot be read, is too large or is not a valid unencrypted Ed25519
   *     OpenSSH key; the message names the path and the reason
   */
  public static KeyPair load(Path privateKeyFile) throws IOException {
    if (!Files.exists(privateKeyFile)) {
      throw new MissingKeyException(privateKeyFile);
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(privateKeyFile)) {
      bytes = in.readNBytes(MAX_FILE + 1);
    } catch (AccessDeniedException e) {
      throw new IOException("cannot read key at " + privateKeyFile + ": permission denied", e);
    } catch (IOException e) {
      throw new IOException(
          "cannot read key at " + privateKeyFile + ": " + e.getClass().getSimpleName(), e);
    }
    if (bytes.length > MAX_FILE) {
      throw new IOException("invalid key at " + privateKeyFile + ": file too large");
    }
    try {
      return Ed25519Keys.parseOpenSshPrivateKey(new String(bytes, StandardCharsets.UTF_8));
    } catch (KeyFormatException e) {
      throw new IOException("invalid key at " + privateKeyFile + ": " + e.getMessage());
    } finally {
      java.util.Arrays.fill(bytes, (byte) 0);
    }
  }

  /** Returns {@code <privateKeyFile>.pub}. */
  public static Path publicKeyFile(Path privateKeyFile) {
    return privateKeyFile.resolveSibling(privateKeyFile.getFileName() + ".pub");
  }

  /**
   * Writes the private key (mode {@code rw-------}, set atomically at creation) and {@code
   * <file>.pub} (mode {@code rw-r--r--}). Missing parent directories are created.
   *
   * @param overwrite if false, refuses (FileAlreadyExistsException) when either file exists and
   *     never replaces an existing file; if true, replaces both files atomically (write to a temp
   *     file with owner-only permissions, then rename)
   */
  public static void write(Path privateKeyFile, KeyPair pair, String comment, boolean overwrite)
      throws IOException {
    Path pub = publicKeyFile(privateKeyFile);
    String privText = Ed25519Keys.openSshPrivateKey(pair, comment);
    String pubText = Ed25519Keys.sshPublicKeyLine(pair.getPublic(), comment) + "\n";
    Path parent = privateKeyFile.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (!overwrite) {
      for (Path p : new Path[] {privateKeyFile, pub}) {
        if (Files.exists(p)) {
          throw new FileAlreadyExistsException(p.toString(), null, "refusing to overwrite");
        }
      }
      createWith(privateKeyFile, privText, OWNER_ONLY);
      createWith(pub, pubText, PUBLIC_READ);
    } else {
      replaceWith(privateKeyFile, privText, OWNER_ONLY);
      replaceWith(pub, pubText, PUBLIC_READ);
    }
  }

  /** Creates {@code file} (failing if it exists) with {@code perms}, then writes the content. */
  private static void createWith(Path file, String content, Set<PosixFilePermission> perms)
      throws IOException {
    Files.createFile(file, attrs(file, perms));
    Files.writeString(file, content, StandardCharsets.UTF_8);
  }

  private static void replaceWith(Path file, String content, Set<PosixFilePermission> perms)
      throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = dir.resolve("." + file.getFileName() + ".tmp-" + System.nanoTime());
    try {
      createWith(tmp, content, perms);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Returns the POSIX permission attribute, or none on file systems without POSIX support. */
  private static FileAttribute<?>[] attrs(Path file, Set<PosixFilePermission> perms) {
    Path dir = file.toAbsolutePath().getParent();
    boolean posix =
        dir != null && dir.getFileSystem().supportedFileAttributeViews().contains("posix");
    return posix
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(perms)}
        : new FileAttribute<?>[0];
  }
}

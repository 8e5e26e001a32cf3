package net.alknet.cli;

import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import net.alknet.vault.Secrets;

/**
 * Where the CLI reads secrets from (CFG-3): an owner-only file, the console (no echo), or stdin.
 * Never an environment variable, never a command-line argument. Every array returned is the
 * caller's to wipe.
 */
final class SecretInput {

  /** Largest secret file or stdin read. */
  static final int MAX_BYTES = 64 * 1024;

  private static final Set<PosixFilePermission> GROUP_OR_OTHERS =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

  private SecretInput() {}

  /**
   * Reads a secret file that must be owner-only (no group or other permission bits), as UTF-8 text
   * without its trailing newline.
   *
   * @param what e.g. "passphrase file", for the messages
   */
  static char[] ownerOnlyFile(Path file, String what) throws IOException {
    try {
      if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (!java.util.Collections.disjoint(perms, GROUP_OR_OTHERS)) {
          throw new CliSupport.CliException(
              what
                  + " "
                  + file
                  + " is accessible by group or others ("
                  + PosixFilePermissions.toString(perms)
                  + "); make it owner-only: chmod 600 "
                  + file);
        }
      }
      if (!Files.isRegularFile(file)) {
        throw new CliSupport.CliException(what + " " + file + " is not a regular file");
      }
      if (Files.size(file) > MAX_BYTES) {
        throw new CliSupport.CliException(what + " " + file + " is larger than 64 KiB");
      }
    } catch (NoSuchFileException e) {
      throw new CliSupport.CliException(what + " " + file + " does not exist");
    }
    byte[] bytes = Files.readAllBytes(file);
    try {
      return text(bytes, what + " " + file);
    } finally {
      Secrets.wipe(bytes);
    }
  }

  /** Reads all of stdin (at most {@link #MAX_BYTES}) as raw bytes, without a trailing newline. */
  static byte[] stdinBytes(String what) throws IOException {
    byte[] buf = new byte[MAX_BYTES + 1];
    try {
      int n = readFully(System.in, buf);
      if (n > MAX_BYTES) {
        throw new CliSupport.CliException(what + " on stdin is larger than 64 KiB");
      }
      return Arrays.copyOf(buf, stripNewline(buf, n));
    } finally {
      Secrets.wipe(buf);
    }
  }

  /** Reads stdin as UTF-8 text, without a trailing newline. */
  static char[] stdinText(String what) throws IOException {
    byte[] bytes = stdinBytes(what);
    try {
      return text(bytes, what + " on stdin");
    } finally {
      Secrets.wipe(bytes);
    }
  }

  /**
   * The console, if this process has an interactive one (on JDK 22+ {@code System.console()} also
   * exists when redirected: then {@code isTerminal()} decides).
   */
  static Console terminal() {
    Console c = System.console();
    if (c == null) {
      return null;
    }
    try {
      Object terminal = Console.class.getMethod("isTerminal").invoke(c);
      return Boolean.TRUE.equals(terminal) ? c : null;
    } catch (ReflectiveOperationException e) {
      return c; // JDK < 22: a non-null console is a terminal
    }
  }

  /**
   * The vault passphrase: from {@code file} if given (owner-only), else asked on the console
   * ({@code confirm}: twice, for a new vault). No console and no file is a clear error.
   */
  static char[] passphrase(Path file, boolean confirm) throws IOException {
    char[] p;
    if (file != null) {
      p = ownerOnlyFile(file, "passphrase file");
    } else {
      Console c = terminal();
      if (c == null) {
        throw new CliSupport.CliException(
            "no terminal to ask for the vault passphrase; use --passphrase-file FILE (owner-only)");
      }
      p = c.readPassword("Vault passphrase: ");
      if (p == null) {
        throw new CliSupport.CliException("no passphrase entered");
      }
      if (confirm) {
        char[] again = c.readPassword("Repeat the passphrase: ");
        boolean same = again != null && Arrays.equals(p, again);
        Secrets.wipe(again);
        if (!same) {
          Secrets.wipe(p);
          throw new CliSupport.CliException("the passphrases do not match");
        }
      }
    }
    if (p.length == 0) {
      throw new CliSupport.CliException("the vault passphrase must not be empty");
    }
    return p;
  }

  private static char[] text(byte[] bytes, String what) {
    int n = stripNewline(bytes, bytes.length);
    try {
      return Secrets.fromUtf8(bytes, 0, n);
    } catch (CharacterCodingException e) {
      throw new CliSupport.CliException(what + " is not UTF-8 text");
    }
  }

  /** Length without one trailing "\n" or "\r\n". */
  private static int stripNewline(byte[] b, int n) {
    if (n > 0 && b[n - 1] == '\n') {
      n--;
      if (n > 0 && b[n - 1] == '\r') {
        n--;
      }
    }
    return n;
  }

  private static int readFully(InputStream in, byte[] buf) throws IOException {
    int n = 0;
    while (n < buf.length) {
      int r = in.read(buf, n, buf.length - n);
      if (r < 0) {
        break;
      }
      n += r;
    }
    return n;
  }
}

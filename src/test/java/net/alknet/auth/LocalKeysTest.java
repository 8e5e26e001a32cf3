package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalKeysTest {
  @TempDir Path dir;

  @Test
  void writeAndLoad() throws Exception {
    KeyPair kp = Ed25519Keys.generate();
    Path key = dir.resolve("sub/node_key");
    LocalKeys.write(key, kp, "node-1", false);
    assertEquals(kp.getPublic(), LocalKeys.load(key).getPublic());
    Path pub = dir.resolve("sub/node_key.pub");
    assertEquals(pub, LocalKeys.publicKeyFile(key));
    assertEquals(
        Ed25519Keys.sshPublicKeyLine(kp.getPublic(), "node-1") + "\n", Files.readString(pub));
    assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
  }

  @Test
  void refusesToOverwriteUnlessAsked() throws Exception {
    Path key = dir.resolve("k");
    KeyPair first = Ed25519Keys.generate();
    LocalKeys.write(key, first, "", false);
    KeyPair second = Ed25519Keys.generate();
    assertThrows(FileAlreadyExistsException.class, () -> LocalKeys.write(key, second, "", false));
    assertEquals(first.getPublic(), LocalKeys.load(key).getPublic());

    Files.delete(key);
    assertThrows(FileAlreadyExistsException.class, () -> LocalKeys.write(key, second, "", false));
    assertTrue(Files.notExists(key), "nothing written when the .pub exists");

    LocalKeys.write(key, second, "", true);
    assertEquals(second.getPublic(), LocalKeys.load(key).getPublic());
    assertEquals(
        Ed25519Keys.sshPublicKeyLine(second.getPublic(), null) + "\n",
        Files.readString(LocalKeys.publicKeyFile(key)));
    assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(key)));
    try (var s = Files.list(dir)) {
      assertEquals(2, s.count(), "no temp files left behind");
    }
  }

  @Test
  void missingKeyMessage() {
    Path key = dir.resolve("absent");
    NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> LocalKeys.load(key));
    assertEquals("no key at " + key + "; run `alknet keygen`", e.getMessage());
  }

  @Test
  void invalidKeyMessages() throws Exception {
    Path key = dir.resolve("bad");
    Files.writeString(key, "not a key");
    IOException e = assertThrows(IOException.class, () -> LocalKeys.load(key));
    assertTrue(e.getMessage().startsWith("invalid key at " + key + ": "), e.getMessage());
    Files.write(key, new byte[LocalKeys.MAX_FILE + 10]);
    e = assertThrows(IOException.class, () -> LocalKeys.load(key));
    assertTrue(e.getMessage().contains("too large"), e.getMessage());
    Files.writeString(
        key, Ed25519KeysTest.mismatchedKeyFile(Ed25519Keys.generate(), Ed25519Keys.generate()));
    e = assertThrows(IOException.class, () -> LocalKeys.load(key));
    assertEquals(
        "invalid key at " + key + ": corrupt OpenSSH private key (public key does not match)",
        e.getMessage());
    Path d = dir.resolve("adir");
    Files.createDirectory(d);
    e = assertThrows(IOException.class, () -> LocalKeys.load(d));
    assertTrue(e.getMessage().startsWith("cannot read key at " + d), e.getMessage());
  }
}

package net.alknet.vault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.SCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vault file: round trip, rotation, wrong passphrase, tampering, hostile input, crashes. */
class VaultTest {

  /** Cheap scrypt for tests (the format and code paths are the same as with the default). */
  static final KdfParams FAST = new KdfParams(10, 8, 1);

  static final String MNEMONIC =
      "legal winner thank year wave sausage worth useful legal winner thank yellow";

  @TempDir Path tmp;

  private static char[] pass() {
    return "correct horse battery staple".toCharArray();
  }

  private static byte[] seed() throws Exception {
    return Bip39.seed(MNEMONIC.toCharArray(), new char[0]);
  }

  private Path newVault(String... credentials) throws Exception {
    Path f = tmp.resolve("data").resolve(Vault.FILE_NAME);
    try (Vault v = Vault.create(f, pass(), seed(), FAST)) {
      for (String c : credentials) {
        v.put(c, ("secret-of-" + c).getBytes(StandardCharsets.UTF_8));
      }
    }
    return f;
  }

  @Test
  void initAddReopenRead() throws Exception {
    Path f = newVault("github", "openapi/stripe:token");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    assertEquals(
        "rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent())));
    try (Vault v = Vault.open(f, pass())) {
      assertEquals(List.of("github", "openapi/stripe:token"), v.names());
      assertEquals("secret-of-github", new String(v.read("github"), StandardCharsets.UTF_8));
      assertEquals(0, v.keyVersion());
      assertEquals(FAST, v.kdf());
      v.put("github", "replaced".getBytes(StandardCharsets.UTF_8));
      assertTrue(v.remove("openapi/stripe:token"));
      assertFalse(v.remove("nope"));
    }
    try (Vault v = Vault.open(f, pass())) {
      assertEquals(List.of("github"), v.names());
      assertEquals("replaced", new String(v.read("github"), StandardCharsets.UTF_8));
      var missing = assertThrows(VaultException.class, () -> v.read("gitlab"));
      assertEquals("no credential named 'gitlab' in the vault", missing.getMessage());
    }
    // Nothing but the vault and its lock file is left behind.
    try (Stream<Path> files = Files.list(f.getParent())) {
      assertEquals(
          Set.of("vault", "vault.lock"),
          Set.copyOf(files.map(p -> p.getFileName().toString()).toList()));
    }
  }

  @Test
  void theNodeKeyDependsOnlyOnTheSeed() throws Exception {
    Path a = tmp.resolve("a").resolve("vault");
    Path b = tmp.resolve("b").resolve("vault");
    try (Vault va = Vault.create(a, pass(), seed(), FAST);
        Vault vb = Vault.create(b, "another passphrase".toCharArray(), seed(), FAST)) {
      assertArrayEquals(
          va.keyPair(DerivationPath.NODE_KEY).getPublic().getEncoded(),
          vb.keyPair(DerivationPath.NODE_KEY).getPublic().getEncoded());
      try (Slip10.Key k = Slip10.derive(seed(), DerivationPath.NODE_KEY)) {
        assertArrayEquals(k.publicKey(), va.publicKey(DerivationPath.NODE_KEY));
      }
      // The JCA pair really is a pair: sign with one, verify with the other.
      var pair = va.keyPair(DerivationPath.NODE_KEY);
      var sig = java.security.Signature.getInstance("Ed25519");
      sig.initSign(pair.getPrivate());
      sig.update(new byte[] {1, 2, 3});
      byte[] s = sig.sign();
      sig.initVerify(pair.getPublic());
      sig.update(new byte[] {1, 2, 3});
      assertTrue(sig.verify(s));
    }
  }

  @Test
  void rotateKeepsEverythingReadableAndRetiresTheOldKey() throws Exception {
    Path f = newVault("a", "b", "c");
    VaultFile.Sealed oldA;
    byte[] key0;
    byte[] key1;
    try (Vault v = Vault.open(f, pass())) {
      oldA = v.sealed("a");
      key0 = v.credentialKey(0);
      key1 = v.credentialKey(1);
      assertFalse(Arrays.equals(key0, key1));
      v.rotate();
      assertEquals(1, v.keyVersion());
    }
    try (Vault v = Vault.open(f, pass())) {
      assertEquals(1, v.keyVersion());
      for (String n : List.of("a", "b", "c")) {
        assertEquals("secret-of-" + n, new String(v.read(n), StandardCharsets.UTF_8));
      }
      VaultFile.Sealed newA = v.sealed("a");
      // The new ciphertext opens under key 1 only; the old one under key 0 only.
      assertEquals(
          "secret-of-a", new String(Vault.unseal(key1, 1, "a", newA), StandardCharsets.UTF_8));
      assertThrows(VaultException.Damaged.class, () -> Vault.unseal(key0, 0, "a", newA));
      assertThrows(VaultException.Damaged.class, () -> Vault.unseal(key1, 1, "a", oldA));
      assertEquals(
          "secret-of-a", new String(Vault.unseal(key0, 0, "a", oldA), StandardCharsets.UTF_8));
      // A ciphertext moved to another name does not decrypt (the name is associated data).
      assertThrows(VaultException.Damaged.class, () -> Vault.unseal(key1, 1, "b", newA));
      v.rotate();
      v.put("d", "new".getBytes(StandardCharsets.UTF_8));
    }
    try (Vault v = Vault.open(f, pass())) {
      assertEquals(2, v.keyVersion());
      assertEquals(List.of("a", "b", "c", "d"), v.names());
      assertEquals("secret-of-c", new String(v.read("c"), StandardCharsets.UTF_8));
    }
  }

  @Test
  void wrongPassphraseIsAClearErrorAndChangesNothing() throws Exception {
    Path f = newVault("a");
    byte[] before = Files.readAllBytes(f);
    var e =
        assertThrows(
            VaultException.WrongPassphrase.class, () -> Vault.open(f, "wrong".toCharArray()));
    assertTrue(e.getMessage().startsWith("wrong passphrase for "), e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(f));
    assertThrows(VaultException.WrongPassphrase.class, () -> Vault.open(f, new char[0]));
  }

  @Test
  void everyFlippedByteIsDetected() throws Exception {
    Path f = newVault("github", "other");
    byte[] good = Files.readAllBytes(f);
    Path bad = tmp.resolve("bad");
    for (int i = 0; i < good.length; i++) {
      for (int bit : new int[] {0x01, 0x80}) {
        byte[] b = good.clone();
        b[i] ^= (byte) bit;
        Files.write(bad, b);
        try (Vault v = Vault.open(bad, pass())) {
          fail("byte " + i + " flipped (" + bit + ") went unnoticed");
        } catch (VaultException expected) {
          assertNotNull(expected.getMessage());
          assertFalse(expected.getMessage().contains("secret-of"), expected.getMessage());
        }
      }
    }
  }

  @Test
  void everyTruncationIsDetected() throws Exception {
    Path f = newVault("github");
    byte[] good = Files.readAllBytes(f);
    Path bad = tmp.resolve("bad");
    for (int len = 0; len < good.length; len++) {
      Files.write(bad, Arrays.copyOf(good, len));
      int l = len;
      var e = assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()), "len " + l);
      assertNotNull(e.getMessage());
    }
    Files.write(bad, Arrays.copyOf(good, good.length + 1));
    var trailing = assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()));
    assertTrue(trailing.getMessage().contains("trailing bytes"), trailing.getMessage());
    Files.write(bad, Arrays.copyOf(good, 40));
    var truncated = assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()));
    assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
  }

  @Test
  void hostileHeadersAreRefusedBeforeAllocating() throws Exception {
    Path f = newVault("github");
    byte[] good = Files.readAllBytes(f);
    Path bad = tmp.resolve("bad");
    // scrypt asking for 2^40 iterations / gigabytes of memory.
    byte[] b = good.clone();
    b[10] = 40;
    Files.write(bad, b);
    var e = assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()));
    assertEquals("vault header: scrypt log2(N) must be 10..20, not 40", e.getMessage());
    b = good.clone();
    b[10] = 20;
    b[11] = 32;
    Files.write(bad, b);
    e = assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()));
    assertTrue(e.getMessage().contains("needs more than 256 MiB"), e.getMessage());
    // A body length of 4 GiB.
    b = good.clone();
    int lengthAt = 14 + 32 + 16 + 12;
    b[lengthAt] = b[lengthAt + 1] = b[lengthAt + 2] = b[lengthAt + 3] = (byte) 0xff;
    Files.write(bad, b);
    e = assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    // Other format versions, KDFs, salt lengths, magic.
    for (int[] patch : new int[][] {{8, 2}, {9, 7}, {13, 3}, {13, 200}, {0, 'X'}}) {
      b = good.clone();
      b[patch[0]] = (byte) patch[1];
      Files.write(bad, b);
      assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()));
    }
    // A file far too large is refused from its size alone (sparse: nothing is written).
    try (RandomAccessFile raf = new RandomAccessFile(bad.toFile(), "rw")) {
      raf.setLength(1L << 32);
    }
    e = assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()));
    assertTrue(e.getMessage().contains("more than a vault can be"), e.getMessage());
    Files.delete(bad);
    var missing = assertThrows(VaultException.class, () -> Vault.open(bad, pass()));
    assertTrue(missing.getMessage().startsWith("no vault at "), missing.getMessage());
  }

  /**
   * Reads a vault file independently, following docs/vault.md byte by byte with BouncyCastle's
   * scrypt and the JDK's AES-GCM, then re-encrypts hostile envelopes with the real key: an
   * authentic file with absurd counts or lengths is still a clear error.
   */
  @Test
  void formatIsAsDocumentedAndHostileEnvelopesAreRefused() throws Exception {
    Path f = newVault("github");
    byte[] file = Files.readAllBytes(f);
    ByteBuffer in = ByteBuffer.wrap(file);
    byte[] magic = new byte[8];
    in.get(magic);
    assertEquals("ALKVAULT", new String(magic, StandardCharsets.US_ASCII));
    assertEquals(1, in.get());
    assertEquals(1, in.get());
    int logN = in.get();
    int r = in.get();
    int p = in.get();
    assertEquals(FAST, new KdfParams(logN, r, p));
    byte[] salt = new byte[in.get()];
    assertEquals(32, salt.length);
    in.get(salt);
    in.get(new byte[16]);
    byte[] nonce = new byte[12];
    in.get(nonce);
    int bodyLength = in.getInt();
    int headerLength = in.position();
    assertEquals(file.length, headerLength + bodyLength);
    byte[] derived =
        SCrypt.generate(
            "correct horse battery staple".getBytes(StandardCharsets.UTF_8),
            salt,
            1 << logN,
            r,
            p,
            64);
    byte[] key = Arrays.copyOf(derived, 32);
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
    c.updateAAD(file, 0, headerLength);
    ByteBuffer env = ByteBuffer.wrap(c.doFinal(file, headerLength, bodyLength));
    byte[] seed = new byte[64];
    env.get(seed);
    assertArrayEquals(seed(), seed);
    assertEquals(0, env.getInt());
    assertEquals(1, env.getShort());
    byte[] name = new byte[env.get()];
    env.get(name);
    assertEquals("github", new String(name, StandardCharsets.US_ASCII));
    env.get(new byte[12]);
    assertEquals("secret-of-github".length() + 16, env.getInt());

    Map<String, byte[]> hostile =
        Map.of(
            "more than 256",
            envelope(seed, 0, 0xffff, new byte[0]),
            "is truncated",
            envelope(seed, 0, 3, new byte[] {6, 'g', 'i', 't'}),
            "invalid name",
            envelope(seed, 0, 1, concat(new byte[] {3, '.', '.', '/'}, new byte[16])),
            "invalid length",
            envelope(
                seed, 0, 1, concat(new byte[] {1, 'a'}, new byte[12], new byte[] {-1, -1, -1, -1})),
            "trailing bytes",
            envelope(seed, 0, 0, new byte[] {0}),
            "appears twice",
            envelope(
                seed,
                0,
                2,
                concat(
                    new byte[] {1, 'a'},
                    new byte[12],
                    new byte[] {0, 0, 0, 16},
                    new byte[16],
                    new byte[] {1, 'a'},
                    new byte[12],
                    new byte[] {0, 0, 0, 16},
                    new byte[16])));
    Path bad = tmp.resolve("bad");
    for (Map.Entry<String, byte[]> h : hostile.entrySet()) {
      Files.write(bad, seal(file, headerLength, key, h.getValue()));
      var e = assertThrows(VaultException.Damaged.class, () -> Vault.open(bad, pass()), h.getKey());
      assertTrue(e.getMessage().contains(h.getKey()), h.getKey() + ": " + e.getMessage());
    }
    // The independent encoder is right: a well-formed envelope opens.
    Files.write(bad, seal(file, headerLength, key, envelope(seed, 7, 0, new byte[0])));
    try (Vault v = Vault.open(bad, pass())) {
      assertEquals(7, v.keyVersion());
      assertEquals(List.of(), v.names());
    }
  }

  private static byte[] envelope(byte[] seed, int version, int count, byte[] entries) {
    return ByteBuffer.allocate(64 + 6 + entries.length)
        .put(seed)
        .putInt(version)
        .putShort((short) count)
        .put(entries)
        .array();
  }

  private static byte[] seal(byte[] file, int headerLength, byte[] key, byte[] plain)
      throws Exception {
    byte[] header = Arrays.copyOf(file, headerLength);
    ByteBuffer.wrap(header).putInt(headerLength - 4, plain.length + 16);
    byte[] nonce = Arrays.copyOfRange(header, headerLength - 16, headerLength - 4);
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
    c.updateAAD(header);
    return concat(header, c.doFinal(plain));
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }

  @Test
  void aCrashBeforeTheRenameLeavesThePreviousFileIntact() throws Exception {
    Path f = newVault("a");
    byte[] before = Files.readAllBytes(f);
    Path leftover = tmp.resolve("leftover");
    try (Vault v = Vault.open(f, pass())) {
      v.beforeRename =
          t -> {
            // What a process killed at this instant leaves on disk: the complete temp file.
            Files.copy(t, f.resolveSibling(".vault.crashed.tmp"));
            Files.copy(t, leftover);
            throw new IOException("simulated crash");
          };
      var e =
          assertThrows(IOException.class, () -> v.put("b", "b".getBytes(StandardCharsets.UTF_8)));
      assertEquals("simulated crash", e.getMessage());
      assertEquals(List.of("a"), v.names());
      assertThrows(IOException.class, v::rotate);
      assertEquals(0, v.keyVersion());
    }
    assertArrayEquals(before, Files.readAllBytes(f));
    try (Vault v = Vault.open(f, pass())) {
      assertEquals(List.of("a"), v.names());
      // With the crash point gone, the same object writes normally.
      v.put("b", "b".getBytes(StandardCharsets.UTF_8));
    }
    // The temp file was complete and valid: had the rename happened, it would have been the new
    // vault. Either way a reader sees one whole version.
    try (Vault v = Vault.open(leftover, pass())) {
      assertEquals(List.of("a", "b"), v.names());
    }
    try (Vault v = Vault.open(f, pass())) {
      assertEquals(List.of("a", "b"), v.names());
    }
  }

  @Test
  void aConcurrentChangeIsNotOverwritten() throws Exception {
    Path f = newVault("a");
    try (Vault one = Vault.open(f, pass());
        Vault two = Vault.open(f, pass())) {
      one.put("from-one", new byte[] {1});
      var e = assertThrows(VaultException.class, () -> two.put("from-two", new byte[] {2}));
      assertTrue(e.getMessage().contains("changed since it was opened"), e.getMessage());
    }
    try (Vault v = Vault.open(f, pass())) {
      assertEquals(List.of("a", "from-one"), v.names());
    }
  }

  @Test
  void createRefusesAnExistingVaultAndBadInput() throws Exception {
    Path f = newVault();
    var e = assertThrows(VaultException.class, () -> Vault.create(f, pass(), seed(), FAST));
    assertTrue(e.getMessage().contains("already has a vault"), e.getMessage());
    assertThrows(
        VaultException.class,
        () -> Vault.create(tmp.resolve("x/vault"), new char[0], seed(), FAST));
    try (Vault v = Vault.open(f, pass())) {
      for (String bad : List.of("", "-x", "a b", "é", "x".repeat(65), "../x")) {
        assertThrows(VaultException.class, () -> v.put(bad, new byte[1]), bad);
      }
      var big =
          assertThrows(
              VaultException.class, () -> v.put("big", new byte[VaultFile.MAX_SECRET + 1]));
      assertTrue(big.getMessage().contains("at most 65536 bytes"), big.getMessage());
      v.put("max", new byte[VaultFile.MAX_SECRET]);
      assertEquals(VaultFile.MAX_SECRET, v.read("max").length);
    }
  }

  @Test
  void credentialsCapabilityServesOnlyWhatWasGranted() throws Exception {
    Path f = newVault("github", "stripe");
    Credentials creds;
    try (Vault v = Vault.open(f, pass())) {
      creds = v.credentials(Set.of("github", "not-there"));
    }
    // Usable after the vault (and its seed) is closed.
    assertEquals(
        "secret-of-github",
        new String(creds.secret("github").orElseThrow(), StandardCharsets.UTF_8));
    assertTrue(creds.secret("stripe").isEmpty());
    assertTrue(creds.secret("not-there").isEmpty());
    assertTrue(Credentials.NONE.secret("github").isEmpty());
  }

  @Test
  void defaultKdfParametersWork() throws Exception {
    Path f = tmp.resolve("default").resolve("vault");
    try (Vault v = Vault.create(f, pass(), seed(), KdfParams.DEFAULT)) {
      v.put("x", new byte[] {42});
    }
    try (Vault v = Vault.open(f, pass())) {
      assertEquals(KdfParams.DEFAULT, v.kdf());
      assertEquals(128L << 20, v.kdf().memoryBytes());
      assertArrayEquals(new byte[] {42}, v.read("x"));
    }
    assertEquals(HexFormat.of().formatHex(new byte[] {0x11}), "11");
  }
}

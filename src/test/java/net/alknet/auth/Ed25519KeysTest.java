package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.EdECPublicKey;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Ed25519KeysTest {

  @Test
  void rawRoundTrip() {
    KeyPair kp = Ed25519Keys.generate();
    byte[] raw = Ed25519Keys.rawPublic(kp.getPublic());
    assertEquals(32, raw.length);
    PublicKey back = Ed25519Keys.publicFromRaw(raw);
    assertInstanceOf(EdECPublicKey.class, back);
    assertEquals(kp.getPublic(), back);
  }

  @Test
  void rfc8032TestVector1() {
    byte[] seed =
        HexFormat.of().parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    byte[] pub =
        HexFormat.of().parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    assertTrue(Ed25519Keys.isPublicKeyOf(seed, pub));
    byte[] otherPub = pub.clone();
    otherPub[31] ^= 1;
    assertFalse(Ed25519Keys.isPublicKeyOf(seed, otherPub));
    assertFalse(
        Ed25519Keys.isPublicKeyOf(seed, Ed25519Keys.rawPublic(Ed25519Keys.generate().getPublic())));
    assertFalse(Ed25519Keys.isPublicKeyOf(seed, new byte[31]), "not a key: false, no exception");
    byte[] sig = Ed25519Keys.sign(Ed25519Keys.privateFromSeed(seed), new byte[0]);
    assertEquals(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        HexFormat.of().formatHex(sig));
  }

  @Test
  void signVerify() {
    KeyPair kp = Ed25519Keys.generate();
    byte[] data = "hello".getBytes(StandardCharsets.UTF_8);
    byte[] sig = Ed25519Keys.sign(kp.getPrivate(), data);
    assertTrue(Ed25519Keys.verify(kp.getPublic(), data, sig));
    sig[5] ^= 1;
    assertFalse(Ed25519Keys.verify(kp.getPublic(), data, sig));
    assertFalse(Ed25519Keys.verify(kp.getPublic(), data, new byte[10]));
    assertFalse(Ed25519Keys.verify(null, data, sig));
    assertFalse(Ed25519Keys.verify(Ed25519Keys.generate().getPublic(), data, sig));
  }

  @Test
  void publicLineRoundTrip() {
    KeyPair kp = Ed25519Keys.generate();
    String line = Ed25519Keys.sshPublicKeyLine(kp.getPublic(), "me@host");
    assertTrue(line.startsWith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"), line);
    assertTrue(line.endsWith(" me@host"));
    assertEquals(kp.getPublic(), Ed25519Keys.parseSshPublicKey(line));
    assertEquals(kp.getPublic(), Ed25519Keys.parseSshPublicKey(line.split(" ")[1]));
    assertEquals(
        Ed25519Keys.sshPublicKeyLine(kp.getPublic(), null),
        Ed25519Keys.sshPublicKeyLine(kp.getPublic(), " "));
  }

  @Test
  void publicLineErrors() {
    KeyPair kp = Ed25519Keys.generate();
    String b64 = Ed25519Keys.sshPublicKeyLine(kp.getPublic(), null).split(" ")[1];
    assertMessage(
        "unsupported key type ssh-rsa", () -> Ed25519Keys.parseSshPublicKey("ssh-rsa " + b64));
    assertMessage("invalid base64", () -> Ed25519Keys.parseSshPublicKey("ssh-ed25519 !!!!"));
    assertMessage("truncated", () -> Ed25519Keys.parseSshPublicKey(b64.substring(0, 40)));
    assertMessage("too long", () -> Ed25519Keys.parseSshPublicKey("A".repeat(100_000)));
    assertMessage("no key data", () -> Ed25519Keys.parseSshPublicKey("  "));
    byte[] rsaBlob = new SshWire.Writer().string("ssh-rsa").string(new byte[3]).toByteArray();
    assertMessage(
        "unsupported key type ssh-rsa",
        () -> Ed25519Keys.parseSshPublicKey(Base64.getEncoder().encodeToString(rsaBlob)));
    byte[] trailing =
        new SshWire.Writer()
            .string("ssh-ed25519")
            .string(new byte[32])
            .raw(new byte[1])
            .toByteArray();
    assertMessage(
        "trailing",
        () -> Ed25519Keys.parseSshPublicKey(Base64.getEncoder().encodeToString(trailing)));
  }

  @Test
  void rejectsOtherAlgorithms() throws Exception {
    PublicKey ec = KeyPairGenerator.getInstance("EC").generateKeyPair().getPublic();
    assertThrows(IllegalArgumentException.class, () -> Ed25519Keys.rawPublic(ec));
    assertFalse(Ed25519Keys.isEd25519(ec));
    PublicKey ed448 = KeyPairGenerator.getInstance("Ed448").generateKeyPair().getPublic();
    assertFalse(Ed25519Keys.isEd25519(ed448));
  }

  @Test
  void privateKeyRoundTrip() {
    KeyPair kp = Ed25519Keys.generate();
    String pem = Ed25519Keys.openSshPrivateKey(kp, "node-1");
    assertTrue(pem.startsWith("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
    assertTrue(pem.endsWith("-----END OPENSSH PRIVATE KEY-----\n"));
    for (String line : pem.split("\n")) {
      assertTrue(line.length() <= 70, line);
    }
    KeyPair back = Ed25519Keys.parseOpenSshPrivateKey(pem);
    assertEquals(kp.getPublic(), back.getPublic());
    byte[] sig = Ed25519Keys.sign(back.getPrivate(), new byte[] {1, 2});
    assertTrue(Ed25519Keys.verify(kp.getPublic(), new byte[] {1, 2}, sig));
    assertEquals(
        Ed25519Keys.parseOpenSshPrivateKey(pem.replace("\n", "\r\n")).getPublic(), kp.getPublic());
  }

  @Test
  void privateKeyErrors() {
    assertMessage("not an OpenSSH private key", () -> Ed25519Keys.parseOpenSshPrivateKey("hello"));
    assertMessage(
        "not an OpenSSH private key",
        () -> Ed25519Keys.parseOpenSshPrivateKey("-----BEGIN PRIVATE KEY-----\nAAAA\n"));
    assertMessage("too large", () -> Ed25519Keys.parseOpenSshPrivateKey("x".repeat(1 << 20)));
    assertMessage(
        "invalid base64",
        () ->
            Ed25519Keys.parseOpenSshPrivateKey(
                OpenSshPrivateKey.BEGIN + "\n!!!\n" + OpenSshPrivateKey.END));
    String pem = Ed25519Keys.openSshPrivateKey(Ed25519Keys.generate(), "c");
    String body = pem.substring(OpenSshPrivateKey.BEGIN.length(), pem.indexOf("-----END"));
    byte[] bin = Base64.getMimeDecoder().decode(body);
    byte[] cut = java.util.Arrays.copyOf(bin, bin.length - 40);
    assertMessage("truncated", () -> Ed25519Keys.parseOpenSshPrivateKey(wrap(cut)));
    byte[] flipped = bin.clone();
    flipped[flipped.length - 60] ^= 1; // inside the 64-byte secret
    assertThrows(KeyFormatException.class, () -> Ed25519Keys.parseOpenSshPrivateKey(wrap(flipped)));
  }

  /**
   * A well-formed file whose public key (outer blob, inner copy and second half of the secret, all
   * consistent) belongs to another private key is refused.
   */
  @Test
  void privateKeyWithAnotherKeysPublicPartIsRefused() {
    String pem = mismatchedKeyFile(Ed25519Keys.generate(), Ed25519Keys.generate());
    assertMessage(
        "corrupt OpenSSH private key (public key does not match)",
        () -> Ed25519Keys.parseOpenSshPrivateKey(pem));
  }

  /**
   * An unencrypted openssh-key-v1 file with the private seed of {@code a} and the public key of b.
   */
  static String mismatchedKeyFile(KeyPair a, KeyPair b) {
    byte[] pub = Ed25519Keys.rawPublic(b.getPublic());
    byte[] secret = new byte[64];
    System.arraycopy(Ed25519Keys.seed(a.getPrivate()), 0, secret, 0, 32);
    System.arraycopy(pub, 0, secret, 32, 32);
    SshWire.Writer priv =
        new SshWire.Writer()
            .uint32(7)
            .uint32(7)
            .string(SshWire.ED25519)
            .string(pub)
            .string(secret)
            .string("mixed");
    for (int i = 1; priv.size() % 8 != 0; i++) {
      priv.raw(new byte[] {(byte) i});
    }
    return wrap(
        new SshWire.Writer()
            .raw("openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII))
            .string("none")
            .string("none")
            .string(new byte[0])
            .uint32(1)
            .string(SshWire.ed25519Blob(pub))
            .string(priv.toByteArray())
            .toByteArray());
  }

  @Test
  void encryptedPrivateKeyIsClearError() {
    byte[] bin =
        new SshWire.Writer()
            .raw("openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII))
            .string("aes256-ctr")
            .string("bcrypt")
            .string(new byte[8])
            .uint32(1)
            .toByteArray();
    assertMessage(
        "encrypted OpenSSH private keys are not supported yet",
        () -> Ed25519Keys.parseOpenSshPrivateKey(wrap(bin)));
  }

  static String wrap(byte[] bin) {
    return OpenSshPrivateKey.BEGIN
        + "\n"
        + Base64.getMimeEncoder().encodeToString(bin)
        + "\n"
        + OpenSshPrivateKey.END
        + "\n";
  }

  static void assertMessage(String expected, org.junit.jupiter.api.function.Executable e) {
    KeyFormatException ex = assertThrows(KeyFormatException.class, e);
    assertTrue(ex.getMessage().contains(expected), ex.getMessage());
  }

  @Test
  void fingerprintFormat() {
    KeyPair kp = Ed25519Keys.generate();
    String fp = Fingerprints.sha256(kp.getPublic());
    assertTrue(Fingerprints.isValid(fp), fp);
    assertEquals(fp, Fingerprints.ofRawEd25519(Ed25519Keys.rawPublic(kp.getPublic())));
    assertArrayEquals(
        Ed25519Keys.rawPublic(kp.getPublic()),
        Ed25519Keys.rawPublic(
            Ed25519Keys.parseSshPublicKey(Ed25519Keys.sshPublicKeyLine(kp.getPublic(), "x"))));
  }

  @Test
  void knownFingerprint() {
    // RFC 8032 test vector 1 public key; fingerprint as printed by `ssh-keygen -l -E sha256`.
    PublicKey k =
        Ed25519Keys.parseSshPublicKey(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea x");
    assertEquals("SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8", Fingerprints.sha256(k));
  }
}

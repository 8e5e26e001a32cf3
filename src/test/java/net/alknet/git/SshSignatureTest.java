package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SSHSIG verification (GIT-4): our own signatures, ssh-keygen's, and broken ones. */
class SshSignatureTest {

  static final byte[] MSG = "certificate version 0.1\n".getBytes(StandardCharsets.UTF_8);

  static String sign(KeyPair k, byte[] msg, String ns, String hashAlg) throws Exception {
    byte[] raw = Ed25519Keys.rawPublic(k.getPublic());
    byte[] hash =
        MessageDigest.getInstance(hashAlg.equals("sha512") ? "SHA-512" : "SHA-256").digest(msg);
    byte[] sig =
        Ed25519Keys.sign(k.getPrivate(), SshSignature.signedData(ns, new byte[0], hashAlg, hash));
    byte[] pk = blob("ssh-ed25519", raw);
    byte[] sigBlob = blob("ssh-ed25519", sig);
    ByteBuffer b = ByteBuffer.allocate(1024);
    b.put("SSHSIG".getBytes(StandardCharsets.US_ASCII)).putInt(1);
    SshSignature.putString(b, pk);
    SshSignature.putString(b, ns.getBytes(StandardCharsets.US_ASCII));
    SshSignature.putString(b, new byte[0]);
    SshSignature.putString(b, hashAlg.getBytes(StandardCharsets.US_ASCII));
    SshSignature.putString(b, sigBlob);
    byte[] all = java.util.Arrays.copyOf(b.array(), b.position());
    return SshSignature.BEGIN
        + "\n"
        + Base64.getMimeEncoder(70, "\n".getBytes()).encodeToString(all)
        + "\n"
        + SshSignature.END
        + "\n";
  }

  static byte[] blob(String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + type.length() + data.length);
    SshSignature.putString(b, type.getBytes(StandardCharsets.US_ASCII));
    SshSignature.putString(b, data);
    return b.array();
  }

  @Test
  void verifiesAndNamesTheSigner() throws Exception {
    KeyPair k = Ed25519Keys.generate();
    for (String alg : new String[] {"sha512", "sha256"}) {
      assertEquals(
          Fingerprints.sha256(k.getPublic()),
          SshSignature.verify(sign(k, MSG, "git", alg), MSG, "git"));
    }
  }

  @Test
  void refusesTamperingAndMalformedInput() throws Exception {
    KeyPair k = Ed25519Keys.generate();
    String good = sign(k, MSG, "git", "sha512");
    assertTrue(fails(good, "certificate version 0.2\n".getBytes()).contains("does not verify"));
    assertTrue(fails(sign(k, MSG, "file", "sha512"), MSG).contains("namespace"));
    assertTrue(fails(sign(k, MSG, "git", "md5"), MSG).contains("unsupported hash"));
    assertTrue(fails("hello", MSG).contains("not an SSH signature"));
    assertTrue(fails(SshSignature.BEGIN + "\n!!!\n" + SshSignature.END, MSG).contains("base64"));
    assertTrue(
        fails(SshSignature.BEGIN + "\nU1NIU0lH\n" + SshSignature.END, MSG).contains("truncated"));
    String body = good.substring(SshSignature.BEGIN.length(), good.indexOf(SshSignature.END));
    byte[] bytes = Base64.getMimeDecoder().decode(body.strip());
    byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 10);
    assertTrue(fails(armor(cut), MSG).contains("truncated"));
    bytes[bytes.length - 1] ^= 1; // flip a signature bit
    assertTrue(fails(armor(bytes), MSG).contains("does not verify"));
    assertTrue(fails("x".repeat(10_000), MSG).contains("too large"));
    // a length field claiming 2 GB
    byte[] huge = "SSHSIG\0\0\0\1\u007f\u00ff\u00ff\u00ff".getBytes(StandardCharsets.ISO_8859_1);
    assertTrue(fails(armor(huge), MSG).contains("truncated"));
  }

  static String armor(byte[] b) {
    return SshSignature.BEGIN
        + "\n"
        + Base64.getEncoder().encodeToString(b)
        + "\n"
        + SshSignature.END;
  }

  static String fails(String armored, byte[] msg) {
    return assertThrows(
            SshSignature.SignatureException.class, () -> SshSignature.verify(armored, msg, "git"))
        .getMessage();
  }

  /** Interoperability: a signature made by OpenSSH's ssh-keygen, as git makes them. */
  @Test
  void verifiesWhatSshKeygenSigns(@TempDir Path dir) throws Exception {
    boolean have = GitEngineTest.onPath("ssh-keygen");
    if (System.getenv("ALKNET_E2E_REQUIRE") == null) {
      Assumptions.assumeTrue(have, "ssh-keygen not installed");
    }
    Path key = dir.resolve("k");
    run(dir, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString());
    Path msg = dir.resolve("msg");
    Files.write(msg, MSG);
    run(dir, "ssh-keygen", "-Y", "sign", "-n", "git", "-f", key.toString(), msg.toString());
    String sig = Files.readString(dir.resolve("msg.sig"));
    String expected =
        Fingerprints.sha256(Ed25519Keys.parseSshPublicKey(Files.readString(Path.of(key + ".pub"))));
    assertEquals(expected, SshSignature.verify(sig, MSG, "git"));
    assertTrue(fails(sig, "other".getBytes()).contains("does not verify"));
  }

  static void run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
  }
}

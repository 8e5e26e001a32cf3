package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Set;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import net.alknet.auth.Identity;
import org.junit.jupiter.api.Test;

/** Push certificates taken out of receive-pack's input, and the decision on them. */
class PushCertFilterTest {

  static final String A = "0".repeat(40);
  static final String B = "1".repeat(40);

  static byte[] pkt(String s) {
    return PktLine.of(s.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] stream(String payload, String signature, String tail) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(pkt("push-cert\0report-status atomic\n"));
    for (String l : (payload + signature).split("(?<=\n)")) {
      out.write(pkt(l));
    }
    out.write(pkt("push-cert-end\n"));
    out.write("0000".getBytes(StandardCharsets.US_ASCII));
    out.write(tail.getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  static String payload(String nonce) {
    return "certificate version 0.1\npusher a <a@b> 1 +0000\npushee alknet://h/r\nnonce "
        + nonce
        + "\n\n"
        + A
        + " "
        + B
        + " refs/heads/main\n"
        + A
        + " "
        + B
        + " refs/tags/v1\n";
  }

  @Test
  void certificateBecomesPlainCommandsAndTheRestPassesThrough() throws Exception {
    KeyPair k = Ed25519Keys.generate();
    String p = payload("n1");
    String sig = SshSignatureTest.sign(k, p.getBytes(StandardCharsets.UTF_8), "git", "sha512");
    PushCertFilter f = new PushCertFilter(new ByteArrayInputStream(stream(p, sig, "PACKdata")));
    byte[] seen = f.readAllBytes();
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.write(pkt(A + " " + B + " refs/heads/main\0report-status atomic\n"));
    expected.write(pkt(A + " " + B + " refs/tags/v1\n"));
    expected.write("0000PACKdata".getBytes(StandardCharsets.US_ASCII));
    assertArrayEquals(expected.toByteArray(), seen);
    assertEquals(p, f.certificate().payload());
    assertEquals("n1", f.certificate().header("nonce"));

    Identity signer =
        new Identity(
            Fingerprints.sha256(k.getPublic()),
            "a",
            Set.of("git"),
            Identity.Proof.CLIENT_CERTIFICATE);
    assertNull(SignedPushCheck.problem(f.certificate(), "n1", signer));
    assertTrue(SignedPushCheck.problem(f.certificate(), "n2", signer).contains("nonce"));
    Identity other = new Identity("SHA256:other", "o", Set.of("git"), Identity.Proof.PUBLIC_KEY);
    assertTrue(
        SignedPushCheck.problem(f.certificate(), "n1", other)
            .contains("not by the pushing identity SHA256:other"));
    assertTrue(
        SignedPushCheck.problem(f.certificate(), "n1", Identity.anonymous()).contains("(none"));
    assertEquals(SignedPushCheck.UNSIGNED, SignedPushCheck.problem(null, "n1", signer));
  }

  @Test
  void tamperedCommandsOrPgpSignaturesAreRefused() throws Exception {
    KeyPair k = Ed25519Keys.generate();
    String p = payload("n");
    String sig = SshSignatureTest.sign(k, p.getBytes(StandardCharsets.UTF_8), "git", "sha512");
    Identity signer =
        new Identity(
            Fingerprints.sha256(k.getPublic()), "a", Set.of("git"), Identity.Proof.PUBLIC_KEY);
    String tampered = p.replace("refs/tags/v1", "refs/tags/v2");
    PushCertFilter f = new PushCertFilter(new ByteArrayInputStream(stream(tampered, sig, "")));
    f.readAllBytes();
    assertTrue(SignedPushCheck.problem(f.certificate(), "n", signer).contains("does not verify"));
    String pgp = "-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n";
    f = new PushCertFilter(new ByteArrayInputStream(stream(p, pgp, "")));
    f.readAllBytes();
    assertTrue(SignedPushCheck.problem(f.certificate(), "n", signer).contains("SSH key"));
  }

  @Test
  void unsignedPushesPassThroughUnchanged() throws Exception {
    byte[] in = pkt(A + " " + B + " refs/heads/main\0report-status\n");
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    all.write(in);
    all.write("0000PACK".getBytes(StandardCharsets.US_ASCII));
    PushCertFilter f = new PushCertFilter(new ByteArrayInputStream(all.toByteArray()));
    assertArrayEquals(all.toByteArray(), f.readAllBytes());
    assertNull(f.certificate());
    PushCertFilter empty = new PushCertFilter(new ByteArrayInputStream("0000".getBytes()));
    assertArrayEquals("0000".getBytes(), empty.readAllBytes());
  }

  @Test
  void malformedCertificatesAreClearErrors() {
    assertTrue(broken(pkt("push-cert\0caps\n")).contains("truncated"));
    byte[] noEnd =
        concat(pkt("push-cert\0caps\n"), pkt("certificate version 0.1\n"), "0000".getBytes());
    assertTrue(broken(noEnd).contains("flush inside"));
    byte[] huge = concat(pkt("push-cert\0caps\n"), "ffff".getBytes());
    assertTrue(broken(huge).contains("truncated") || broken(huge).contains("length"));
    byte[] garbage = concat(pkt("push-cert\0caps\n"), "zzzz".getBytes());
    assertTrue(broken(garbage).contains("bad pkt-line length"));
    byte[] noCommands =
        concat(
            pkt("push-cert\0caps\n"),
            pkt("certificate version 0.1\n"),
            pkt("\n"),
            pkt("push-cert-end\n"),
            "0000".getBytes());
    assertTrue(broken(noCommands).contains("without commands"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(pkt("push-cert\0caps\n"));
    for (int i = 0; i < 100; i++) {
      out.writeBytes(pkt("x".repeat(60000) + "\n"));
    }
    assertTrue(broken(out.toByteArray()).contains("too large"));
    // Empty pkt-lines ("0004") carry no payload but still cost a list entry each: they count
    // toward the limit too, so a stream of them ends with the same error, not with the heap.
    ByteArrayOutputStream empties = new ByteArrayOutputStream();
    empties.writeBytes(pkt("push-cert\0caps\n"));
    for (int i = 0; i <= PushCertFilter.MAX_CERT / 4; i++) {
      empties.writeBytes("0004".getBytes());
    }
    empties.writeBytes(pkt("push-cert-end\n"));
    empties.writeBytes("0000".getBytes());
    assertTrue(broken(empties.toByteArray()).contains("too large"));
  }

  static String broken(byte[] in) {
    PushCertFilter f = new PushCertFilter(new ByteArrayInputStream(in));
    IOException e = assertThrows(IOException.class, f::readAllBytes);
    assertTrue(e.getMessage().startsWith("malformed push certificate: "));
    return f.malformed();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}

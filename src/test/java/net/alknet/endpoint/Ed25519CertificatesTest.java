package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SignatureException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import net.alknet.auth.Ed25519Keys;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client certificate built without BouncyCastle. That the node accepts it over QUIC and TLS/TCP
 * and resolves its key is {@link MutualTlsTest} (and CliIT, end to end).
 */
class Ed25519CertificatesTest {

  @TempDir Path tmp;

  static X509Certificate reparse(X509Certificate c) throws Exception {
    return (X509Certificate)
        CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(c.getEncoded()));
  }

  @Test
  void parsesVerifiesAndHasTheRightFields() throws Exception {
    KeyPair keys = Ed25519Keys.generate();
    Instant before = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    X509Certificate c =
        reparse(Ed25519Certificates.selfSigned(keys, "alknet client", Duration.ofDays(1)));
    Instant after = Instant.now();

    c.verify(keys.getPublic()); // throws if the signature is wrong
    assertThrows(
        SignatureException.class, () -> c.verify(Ed25519Keys.generate().getPublic()), "other key");
    assertEquals(3, c.getVersion());
    assertEquals("1.3.101.112", c.getSigAlgOID());
    assertEquals("Ed25519", c.getSigAlgName());
    assertEquals(null, c.getSigAlgParams());
    assertEquals("CN=alknet client", c.getSubjectX500Principal().getName());
    assertEquals(c.getSubjectX500Principal(), c.getIssuerX500Principal());
    assertEquals(keys.getPublic(), c.getPublicKey());
    assertEquals(Certificates.fingerprint(keys.getPublic()), Certificates.fingerprint(c));
    assertTrue(c.getSerialNumber().signum() > 0);
    assertTrue(c.getSerialNumber().bitLength() <= 65, c.getSerialNumber().toString(16));
    assertEquals(null, c.getCriticalExtensionOIDs());
    assertEquals(null, c.getNonCriticalExtensionOIDs());
    assertEquals(-1, c.getBasicConstraints());
    c.checkValidity();
    Instant notBefore = c.getNotBefore().toInstant();
    Instant notAfter = c.getNotAfter().toInstant();
    assertTrue(
        !notBefore.isBefore(before.minus(Duration.ofHours(1)))
            && !notBefore.isAfter(after.minus(Duration.ofHours(1))),
        notBefore.toString());
    assertTrue(
        !notAfter.isBefore(before.plus(Duration.ofDays(1)))
            && !notAfter.isAfter(after.plus(Duration.ofDays(1))),
        notAfter.toString());
    // The CN is a UTF8String (tag 0x0c), as BouncyCastle's X500Name writes it.
    String der = HexFormat.of().formatHex(c.getEncoded());
    assertTrue(der.contains("0603550403" + "0c0d" + hex("alknet client")), der);
  }

  @Test
  void serialsDiffer() throws Exception {
    KeyPair keys = Ed25519Keys.generate();
    BigInteger a = Ed25519Certificates.selfSigned(keys, "x", Duration.ofDays(1)).getSerialNumber();
    BigInteger b = Ed25519Certificates.selfSigned(keys, "x", Duration.ofDays(1)).getSerialNumber();
    assertTrue(!a.equals(b), a + " twice");
  }

  @Test
  void datesFrom2050AreGeneralizedTime() throws Exception {
    KeyPair keys = Ed25519Keys.generate();
    Duration validity = Duration.ofDays(366L * 40);
    X509Certificate c = reparse(Ed25519Certificates.selfSigned(keys, "far", validity));
    Instant expected = Instant.now().plus(validity).truncatedTo(ChronoUnit.SECONDS);
    long drift = Math.abs(c.getNotAfter().toInstant().getEpochSecond() - expected.getEpochSecond());
    assertTrue(drift <= 5, c.getNotAfter() + " vs " + expected);
    String der = HexFormat.of().formatHex(c.getEncoded());
    // notBefore: UTCTime (tag 0x17, 13 characters); notAfter: GeneralizedTime (0x18, 15).
    assertTrue(der.contains("170d"), der);
    assertTrue(der.contains("180f"), der);
  }

  @Test
  void refusesOtherKeysAndBadArguments() throws Exception {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(256);
    KeyPair ecKeys = ec.generateKeyPair();
    assertThrows(
        IllegalArgumentException.class,
        () -> Ed25519Certificates.selfSigned(ecKeys, "x", Duration.ofDays(1)));
    KeyPair ed448 = KeyPairGenerator.getInstance("Ed448").generateKeyPair();
    assertThrows(
        IllegalArgumentException.class,
        () -> Ed25519Certificates.selfSigned(ed448, "x", Duration.ofDays(1)));
    KeyPair keys = Ed25519Keys.generate();
    assertThrows(
        IllegalArgumentException.class,
        () -> Ed25519Certificates.selfSigned(keys, "", Duration.ofDays(1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> Ed25519Certificates.selfSigned(keys, "x", Duration.ZERO));
  }

  @Test
  void derLengths() {
    assertArrayEquals(new byte[] {0x04, 0x00}, Ed25519Certificates.tlv(0x04));
    byte[] v127 = Ed25519Certificates.tlv(0x04, new byte[127]);
    assertEquals("047f", HexFormat.of().formatHex(v127, 0, 2));
    byte[] v128 = Ed25519Certificates.tlv(0x04, new byte[128]);
    assertEquals("048180", HexFormat.of().formatHex(v128, 0, 3));
    byte[] v300 = Ed25519Certificates.tlv(0x04, new byte[200], new byte[100]);
    assertEquals("0482012c", HexFormat.of().formatHex(v300, 0, 4));
    assertEquals(304, v300.length);
    byte[] v70000 = Ed25519Certificates.tlv(0x04, new byte[70000]);
    assertEquals("0483011170", HexFormat.of().formatHex(v70000, 0, 5));
  }

  /** A stock X.509 parser agrees: openssl reads the certificate and checks its self-signature. */
  @Test
  void opensslReadsIt() throws Exception {
    boolean found = false;
    for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      found |= !d.isEmpty() && Files.isExecutable(Path.of(d, "openssl"));
    }
    Assumptions.assumeTrue(found, "openssl is not on PATH");
    X509Certificate c =
        Ed25519Certificates.selfSigned(Ed25519Keys.generate(), "alknet client", Duration.ofDays(1));
    Path der = tmp.resolve("c.der");
    Files.write(der, c.getEncoded());
    Process p =
        new ProcessBuilder(
                "openssl", "x509", "-inform", "DER", "-in", der.toString(), "-noout", "-text")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("Version: 3 (0x2)"), out);
    assertTrue(out.contains("Signature Algorithm: ED25519"), out);
    assertTrue(out.contains("Subject: CN = alknet client"), out);
    Path pem = tmp.resolve("c.pem");
    Files.writeString(
        pem,
        "-----BEGIN CERTIFICATE-----\n"
            + java.util.Base64.getMimeEncoder().encodeToString(c.getEncoded())
            + "\n-----END CERTIFICATE-----\n");
    Process v =
        new ProcessBuilder(
                "openssl", "verify", "-check_ss_sig", "-CAfile", pem.toString(), pem.toString())
            .redirectErrorStream(true)
            .start();
    String verified = new String(v.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(v.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, v.exitValue(), verified);
    assertTrue(verified.contains(": OK"), verified);
  }

  private static String hex(String s) {
    return HexFormat.of().formatHex(s.getBytes(StandardCharsets.US_ASCII));
  }
}

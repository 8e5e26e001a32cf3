package net.alknet.endpoint;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;

/**
 * Self-signed X.509 v3 certificates for Ed25519 keys, DER-encoded by hand and signed with the JDK's
 * {@code Signature("Ed25519")}: the client's TLS certificate ({@link
 * TlsContexts#clientCertificate}) without BouncyCastle, whose signed jars cost about 200 ms to load
 * at every start of a client command.
 *
 * <p>The certificate (RFC 5280, RFC 8410): version 3, a random positive 64-bit serial, signature
 * algorithm {@code id-Ed25519} (1.3.101.112, no parameters) in both places, issuer = subject =
 * {@code CN=<commonName>} (UTF8String), validity from one hour ago (clock skew) to now + validity
 * (UTCTime before 2050, GeneralizedTime from then on, whole seconds), the key's own
 * SubjectPublicKeyInfo, no extensions. Stateless and thread-safe.
 */
final class Ed25519Certificates {

  /** {@code AlgorithmIdentifier ::= SEQUENCE { id-Ed25519 }}. */
  private static final byte[] ED25519_ALGORITHM = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};

  /** {@code SubjectPublicKeyInfo} of an Ed25519 key up to the 32 key bytes. */
  private static final byte[] ED25519_SPKI_PREFIX = {
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
  };

  /** {@code id-at-commonName} (2.5.4.3). */
  private static final byte[] COMMON_NAME_OID = {0x06, 0x03, 0x55, 0x04, 0x03};

  private static final int INTEGER = 0x02;
  private static final int BIT_STRING = 0x03;
  private static final int UTF8_STRING = 0x0c;
  private static final int UTC_TIME = 0x17;
  private static final int GENERALIZED_TIME = 0x18;
  private static final int SEQUENCE = 0x30;
  private static final int SET = 0x31;
  private static final int VERSION_TAG = 0xa0; // [0] EXPLICIT

  private static final DateTimeFormatter UTC_FORMAT =
      DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'");
  private static final DateTimeFormatter GENERALIZED_FORMAT =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'");
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ed25519Certificates() {}

  /**
   * A self-signed certificate for an Ed25519 key pair, as described in the class comment.
   *
   * @param commonName the subject (and issuer) CN; MUST NOT be empty
   * @param validity how long from now the certificate is valid; MUST be positive
   * @throws IllegalArgumentException if the key is not Ed25519 or an argument is out of range
   */
  static X509Certificate selfSigned(KeyPair keys, String commonName, Duration validity) {
    if (commonName == null || commonName.isEmpty()) {
      throw new IllegalArgumentException("empty common name");
    }
    if (validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException("validity must be positive: " + validity);
    }
    byte[] spki = keys.getPublic().getEncoded();
    if (spki == null
        || spki.length != ED25519_SPKI_PREFIX.length + 32
        || !Arrays.equals(
            spki,
            0,
            ED25519_SPKI_PREFIX.length,
            ED25519_SPKI_PREFIX,
            0,
            ED25519_SPKI_PREFIX.length)) {
      throw new IllegalArgumentException("not an Ed25519 key: " + keys.getPublic().getAlgorithm());
    }
    Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    byte[] name = name(commonName);
    byte[] tbs =
        tlv(
            SEQUENCE,
            tlv(VERSION_TAG, tlv(INTEGER, new byte[] {2})),
            tlv(INTEGER, new BigInteger(64, RANDOM).add(BigInteger.ONE).toByteArray()),
            ED25519_ALGORITHM,
            name,
            tlv(SEQUENCE, time(now.minus(Duration.ofHours(1))), time(now.plus(validity))),
            name,
            spki);
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(keys.getPrivate());
      signer.update(tbs);
      byte[] signature = signer.sign();
      byte[] bits = new byte[signature.length + 1]; // leading 0: no unused bits
      System.arraycopy(signature, 0, bits, 1, signature.length);
      byte[] der = tlv(SEQUENCE, tbs, ED25519_ALGORITHM, tlv(BIT_STRING, bits));
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot create a self-signed Ed25519 certificate: " + e.getMessage(), e);
    }
  }

  /** {@code Name ::= SEQUENCE { SET { SEQUENCE { id-at-commonName, UTF8String } } }}. */
  private static byte[] name(String commonName) {
    byte[] cn = commonName.getBytes(StandardCharsets.UTF_8);
    return tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, COMMON_NAME_OID, tlv(UTF8_STRING, cn))));
  }

  /** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
  private static byte[] time(Instant t) {
    ZonedDateTime utc = t.atZone(ZoneOffset.UTC);
    boolean utcTime = utc.getYear() >= 1950 && utc.getYear() < 2050;
    String s = (utcTime ? UTC_FORMAT : GENERALIZED_FORMAT).format(utc);
    return tlv(utcTime ? UTC_TIME : GENERALIZED_TIME, s.getBytes(StandardCharsets.US_ASCII));
  }

  /** One DER tag-length-value; the value is the concatenation of {@code parts}. */
  static byte[] tlv(int tag, byte[]... parts) {
    int length = 0;
    for (byte[] p : parts) {
      length += p.length;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(length + 6);
    out.write(tag);
    if (length < 0x80) {
      out.write(length);
    } else {
      int bytes = (32 - Integer.numberOfLeadingZeros(length) + 7) / 8;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(length >>> (8 * i));
      }
    }
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}

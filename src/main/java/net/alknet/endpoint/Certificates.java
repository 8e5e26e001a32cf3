package net.alknet.endpoint;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Self-signed certificates and the SPKI fingerprints used for pinning. */
public final class Certificates {

  private Certificates() {}

  /**
   * The pin of a certificate: {@code SHA256:} + unpadded base64 of the SHA-256 of its
   * SubjectPublicKeyInfo. It names the key, so a certificate renewed with the same key keeps its
   * pin, and a new key is a new pin.
   */
  public static String fingerprint(X509Certificate certificate) {
    return fingerprint(certificate.getPublicKey());
  }

  /** {@link #fingerprint(X509Certificate)} of a public key's SubjectPublicKeyInfo encoding. */
  public static String fingerprint(PublicKey key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A self-signed certificate for a key pair.
   *
   * @param keys EC (signed with SHA256withECDSA) or Ed25519 (signed with Ed25519)
   * @param commonName the subject CN
   * @param sans DNS names or IP literals for the subjectAltName extension (may be empty)
   */
  public static X509Certificate selfSigned(
      KeyPair keys, String commonName, List<String> sans, Duration validity) {
    try {
      Instant now = Instant.now();
      X500Name subject = new X500Name("CN=" + commonName);
      BigInteger serial = new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE);
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              subject,
              serial,
              Date.from(now.minus(Duration.ofHours(1))),
              Date.from(now.plus(validity)),
              subject,
              keys.getPublic());
      if (!sans.isEmpty()) {
        GeneralName[] names = new GeneralName[sans.size()];
        for (int i = 0; i < names.length; i++) {
          String s = sans.get(i);
          names[i] =
              isIpLiteral(s)
                  ? new GeneralName(GeneralName.iPAddress, s)
                  : new GeneralName(GeneralName.dNSName, s);
        }
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
      String algorithm = keys.getPrivate().getAlgorithm();
      String signature =
          algorithm.equals("EC")
              ? "SHA256withECDSA"
              : algorithm.equals("RSA") ? "SHA256withRSA" : "Ed25519";
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(new JcaContentSignerBuilder(signature).build(keys.getPrivate())));
    } catch (CertIOException | OperatorCreationException | CertificateException e) {
      throw new IllegalStateException(
          "cannot create a self-signed certificate: " + e.getMessage(), e);
    }
  }

  private static boolean isIpLiteral(String s) {
    if (s.indexOf(':') >= 0) {
      return true;
    }
    return s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  static boolean isLoopbackLiteral(String host) {
    try {
      return isIpLiteral(host) && InetAddress.getByName(host).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }
}

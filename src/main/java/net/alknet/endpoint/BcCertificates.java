package net.alknet.endpoint;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
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

/**
 * {@link Certificates#selfSigned} with BouncyCastle (node certificates: EC, RSA or Ed25519, with
 * subjectAltNames). Kept out of {@link Certificates} so that loading that class, as the client does
 * for pinning, never loads BouncyCastle: its jars are signed, which makes the first class from them
 * cost about 200 ms at every start of a client command.
 */
final class BcCertificates {

  private BcCertificates() {}

  static X509Certificate selfSigned(
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
              Certificates.isIpLiteral(s)
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
}

package net.alknet.endpoint;

import java.net.InetAddress;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * Self-signed certificates and the SPKI fingerprints used for pinning.
 *
 * <p>This class MUST NOT reference BouncyCastle itself: the client loads it for pinning and must
 * not pay for loading BouncyCastle (see {@link BcCertificates}).
 */
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
   * A self-signed certificate for a key pair (built with BouncyCastle, for node certificates; the
   * client's own certificate comes from {@link Ed25519Certificates}, without BouncyCastle).
   *
   * @param keys EC (signed with SHA256withECDSA) or Ed25519 (signed with Ed25519)
   * @param commonName the subject CN
   * @param sans DNS names or IP literals for the subjectAltName extension (may be empty)
   */
  public static X509Certificate selfSigned(
      KeyPair keys, String commonName, List<String> sans, Duration validity) {
    return BcCertificates.selfSigned(keys, commonName, sans, validity);
  }

  static boolean isIpLiteral(String s) {
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

package net.alknet.endpoint;

import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * How a client decides to trust a node's certificate (EP-9). A policy, in the style of MINA's
 * {@code ServerKeyVerifier}: one method that accepts or throws with a message for the user.
 */
@FunctionalInterface
public interface Trust {

  /**
   * Accepts the certificate chain a node presented, or throws.
   *
   * @param target the {@code host:port} the client dialled
   * @param chain the node's chain, leaf first
   * @throws CertificateException with a one-line message naming both fingerprints on a mismatch
   */
  void check(String target, X509Certificate[] chain) throws CertificateException;

  /** Trust exactly one key, by its {@code SHA256:…} fingerprint. */
  static Trust pinned(String fingerprint) {
    return (target, chain) -> {
      String presented = Certificates.fingerprint(chain[0]);
      if (!presented.equals(fingerprint)) {
        throw new CertificateException(
            "node "
                + target
                + " presented certificate "
                + presented
                + " but "
                + fingerprint
                + " is pinned");
      }
    };
  }

  /** Trust on first use, pinned in a {@code known_nodes} file, like SSH's known_hosts. */
  static Trust knownNodes(KnownNodes file) {
    return file::check;
  }

  /** Trust certificates that chain to the JDK's default CA store (for ACME/public certs). */
  static Trust systemCertificateAuthorities() {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init((KeyStore) null);
      X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
      return (target, chain) -> tm.checkServerTrusted(chain, "UNKNOWN");
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("no default trust store: " + e.getMessage(), e);
    }
  }
}

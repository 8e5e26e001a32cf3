package net.alknet.endpoint;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/** JDK TLS 1.3 contexts and the key/trust managers both transports share. */
final class TlsContexts {

  static final String[] TLS13 = {"TLSv1.3"};

  /**
   * Signature algorithms for QUIC (BoringSSL). BoringSSL leaves Ed25519 out of its defaults, so a
   * node would never let a client sign with its Ed25519 key: list it explicitly, then the usual
   * ECDSA/RSA algorithms for node certificates.
   */
  static final String[] QUIC_SIGNATURE_ALGORITHMS = {
    "ed25519",
    "ecdsa_secp256r1_sha256",
    "ecdsa_secp384r1_sha384",
    "rsa_pss_rsae_sha256",
    "rsa_pss_rsae_sha384",
    "rsa_pss_rsae_sha512",
    "rsa_pkcs1_sha256",
    "rsa_pkcs1_sha384",
    "rsa_pkcs1_sha512"
  };

  private TlsContexts() {}

  static SSLContext serverContext(TlsIdentity identity) {
    return context(
        new SingleKeyManager(identity.privateKey(), identity.chain()), new AnyClientCertificate());
  }

  static SSLContext clientContext(X509ExtendedKeyManager keys, X509ExtendedTrustManager trust) {
    return context(keys, trust);
  }

  private static SSLContext context(X509ExtendedKeyManager km, X509ExtendedTrustManager tm) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLSv1.3");
      ctx.init(
          km == null ? null : new javax.net.ssl.KeyManager[] {km},
          new javax.net.ssl.TrustManager[] {tm},
          null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("TLS 1.3 is not available: " + e.getMessage(), e);
    }
  }

  /**
   * The client certificate an alknet client presents: a self-signed certificate for its Ed25519
   * key, so the node can resolve the key to an identity (the TLS handshake proves possession).
   * Built without BouncyCastle ({@link Ed25519Certificates}), which the client never loads.
   */
  static SingleKeyManager clientCertificate(KeyPair ed25519) {
    X509Certificate cert =
        Ed25519Certificates.selfSigned(ed25519, "alknet client", Duration.ofDays(1));
    return new SingleKeyManager(ed25519.getPrivate(), List.of(cert));
  }

  /** Key manager with exactly one key and chain, whatever the peer asks for. */
  static final class SingleKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "alknet";
    private final PrivateKey key;
    private final X509Certificate[] chain;

    SingleKeyManager(PrivateKey key, List<X509Certificate> chain) {
      this.key = key;
      this.chain = chain.toArray(new X509Certificate[0]);
    }

    PrivateKey key() {
      return key;
    }

    X509Certificate[] chain() {
      return chain.clone();
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return ALIAS;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine e) {
      return ALIAS;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return new String[] {ALIAS};
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return ALIAS;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine e) {
      return ALIAS;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return chain.clone();
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return key;
    }
  }

  /**
   * Server side: accepts any client certificate. A client certificate is not trusted for what it
   * claims; its public key is looked up in the identity provider (like an SSH key), and the
   * handshake has proven the peer holds the private key.
   */
  static final class AnyClientCertificate extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("server side trust manager");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("server side trust manager");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("server side trust manager");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  /**
   * Client side: delegates to a {@link Trust} policy for one target and remembers why it refused,
   * so the connect error can say it plainly.
   */
  static final class TrustAdapter extends X509ExtendedTrustManager {
    private final Trust trust;
    private final String target;
    final AtomicReference<CertificateException> refusal = new AtomicReference<>();

    TrustAdapter(Trust trust, String target) {
      this.trust = trust;
      this.target = target;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("node presented no certificate");
      }
      try {
        trust.check(target, chain);
      } catch (CertificateException e) {
        refusal.compareAndSet(null, e);
        throw e;
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("client side trust manager");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("client side trust manager");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("client side trust manager");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}

package net.alknet.endpoint;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.util.Locale;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS 1.3 for a client's TLS/TCP connection: BoringSSL (netty-tcnative) where its native library
 * loads, else the JDK's TLS.
 *
 * <p>Why native: client commands ({@code alknet git-remote}, {@code alknet bridge}) are short-lived
 * JVMs, and the JDK's AES-GCM is only fast once C2 has compiled its intrinsics; until then a clone
 * spends most of its client CPU in {@code GHASH.blockMult}. BoringSSL encrypts at full speed from
 * the first byte, as quiche already does for QUIC. Both providers get the same key (the client's
 * Ed25519 certificate) and the same trust manager (the pinned node), so authentication is the same.
 * {@code -Dalknet.tls.provider=jdk} forces the JDK (for comparison, or where the native library
 * misbehaves).
 *
 * <p>The node keeps the JDK's TLS: it must ask clients for Ed25519 certificates, and netty-tcnative
 * has no way to add Ed25519 to the signature algorithms a BoringSSL server accepts. For the same
 * reason a BoringSSL client cannot verify a node whose own certificate is Ed25519 (a key derived
 * from a vault): such a node refuses the handshake, and {@link EndpointClient} connects again with
 * the JDK's TLS (once per node and client).
 */
public enum ClientTls {
  OPENSSL,
  JDK;

  /** The provider this process uses. */
  public static ClientTls current() {
    return Holder.CURRENT;
  }

  private static final class Holder {
    static final ClientTls CURRENT = choose();

    private static ClientTls choose() {
      String forced = System.getProperty("alknet.tls.provider", "").toLowerCase(Locale.ROOT);
      if (forced.equals("jdk")) {
        return JDK;
      }
      try {
        return OpenSsl.isAvailable() ? OPENSSL : JDK;
      } catch (LinkageError e) {
        return JDK; // netty-tcnative not on the class path
      }
    }
  }

  /**
   * Whether a failed BoringSSL handshake looks like a node refusing it for want of a signature
   * algorithm: the handshake_failure alert a JDK node sends when its certificate's key is Ed25519
   * and the client did not offer {@code ed25519} (netty-tcnative cannot make BoringSSL offer it).
   */
  static boolean maybeEd25519Node(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage();
      if (m != null && m.contains("ALERT_HANDSHAKE_FAILURE")) {
        return true;
      }
    }
    return false;
  }

  /** A client-mode TLS 1.3 handler offering exactly {@code alpn}. */
  SslHandler handler(
      TlsContexts.SingleKeyManager key,
      X509ExtendedTrustManager trust,
      String alpn,
      String host,
      int port) {
    return this == OPENSSL
        ? openSsl(key, trust, alpn, host, port)
        : jdk(key, trust, alpn, host, port);
  }

  private static SslHandler jdk(
      TlsContexts.SingleKeyManager key,
      X509ExtendedTrustManager trust,
      String alpn,
      String host,
      int port) {
    SSLContext ctx = TlsContexts.clientContext(key, trust);
    SSLEngine engine = ctx.createSSLEngine(host, port);
    engine.setUseClientMode(true);
    SSLParameters params = engine.getSSLParameters();
    params.setProtocols(TlsContexts.TLS13);
    params.setApplicationProtocols(new String[] {alpn});
    engine.setSSLParameters(params);
    return new SslHandler(engine);
  }

  private static SslHandler openSsl(
      TlsContexts.SingleKeyManager key,
      X509ExtendedTrustManager trust,
      String alpn,
      String host,
      int port) {
    SslContextBuilder b =
        SslContextBuilder.forClient()
            .sslProvider(SslProvider.OPENSSL)
            .protocols(TlsContexts.TLS13)
            .trustManager(trust)
            // The trust manager pins the node's certificate: no host name check on top.
            .endpointIdentificationAlgorithm(null)
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    // a node that picks no ALPN is refused by the caller, with a clear message
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    alpn));
    if (key != null) {
      // The key manager itself: netty's own (from a key and chain) offers a key only for the
      // RSA/EC key types, never an Ed25519 key, so no client certificate would be sent.
      b.keyManager(key);
    }
    SslContext ctx;
    try {
      ctx = b.build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up BoringSSL TLS: " + e.getMessage(), e);
    }
    return ctx.newHandler(ByteBufAllocator.DEFAULT, host, port);
  }
}

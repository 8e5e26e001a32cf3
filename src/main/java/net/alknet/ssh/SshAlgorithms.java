package net.alknet.ssh;

import java.util.List;
import java.util.stream.Stream;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.compression.BuiltinCompressions;
import org.apache.sshd.common.compression.Compression;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.kex.KeyExchangeFactory;
import org.apache.sshd.common.mac.BuiltinMacs;
import org.apache.sshd.common.mac.Mac;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.server.ServerBuilder;

/**
 * The only algorithms the gateway offers, in preference order (SSH-1); MINA's broader defaults are
 * never used. Post-quantum hybrids come first where MINA supports them on this JVM; everything else
 * is refused in the key exchange.
 */
final class SshAlgorithms {

  /** Key exchange: ML-KEM and sntrup761 hybrids with X25519, then plain curve25519. */
  static final List<BuiltinDHFactories> KEX =
      List.of(
          BuiltinDHFactories.mlkem768x25519,
          BuiltinDHFactories.sntrup761x25519,
          BuiltinDHFactories.sntrup761x25519_openssh,
          BuiltinDHFactories.curve25519);

  /** AEAD ciphers only. */
  static final List<BuiltinCiphers> CIPHERS =
      List.of(BuiltinCiphers.cc20p1305_openssh, BuiltinCiphers.aes256gcm, BuiltinCiphers.aes128gcm);

  /** Encrypt-then-MAC only (unused with AEAD ciphers, but SSH needs the list). */
  static final List<BuiltinMacs> MACS =
      List.of(BuiltinMacs.hmacsha512etm, BuiltinMacs.hmacsha256etm);

  /** Host key and user keys: Ed25519. */
  static final List<BuiltinSignatures> SIGNATURES = List.of(BuiltinSignatures.ed25519);

  private SshAlgorithms() {}

  static List<KeyExchangeFactory> keyExchanges() {
    return KEX.stream().filter(BuiltinDHFactories::isSupported).map(ServerBuilder.DH2KEX).toList();
  }

  /** The same key exchanges for the client side ({@code alknet socks}). */
  static List<KeyExchangeFactory> clientKeyExchanges() {
    return KEX.stream()
        .filter(BuiltinDHFactories::isSupported)
        .map(org.apache.sshd.client.ClientBuilder.DH2KEX)
        .toList();
  }

  static List<NamedFactory<Cipher>> ciphers() {
    return supported(CIPHERS.stream().filter(BuiltinCiphers::isSupported));
  }

  static List<NamedFactory<Mac>> macs() {
    return supported(MACS.stream().filter(BuiltinMacs::isSupported));
  }

  static List<NamedFactory<Signature>> signatures() {
    return supported(SIGNATURES.stream().filter(BuiltinSignatures::isSupported));
  }

  static List<NamedFactory<Compression>> compressions() {
    return List.of(BuiltinCompressions.none);
  }

  private static <T> List<NamedFactory<T>> supported(Stream<? extends NamedFactory<T>> s) {
    return s.<NamedFactory<T>>map(f -> f).toList();
  }
}

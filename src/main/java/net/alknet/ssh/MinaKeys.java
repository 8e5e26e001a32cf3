package net.alknet.ssh;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.util.Arrays;
import net.alknet.auth.Ed25519Keys;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * Converts between alknet's Ed25519 keys (the JDK's {@code EdEC} keys) and the key classes MINA
 * signs and verifies with (its EdDSA support, here backed by BouncyCastle), which do not accept the
 * JDK's.
 */
final class MinaKeys {

  private MinaKeys() {}

  /** A JDK Ed25519 key pair as MINA key objects. */
  static KeyPair toMina(KeyPair jdk) throws GeneralSecurityException {
    MinaSecurity.ensure();
    if (!(jdk.getPrivate() instanceof EdECPrivateKey ed)) {
      throw new GeneralSecurityException("not an Ed25519 private key");
    }
    byte[] seed = ed.getBytes().orElseThrow(() -> new GeneralSecurityException("key hidden"));
    try {
      PrivateKey priv = SecurityUtils.generateEDDSAPrivateKey(KeyPairProvider.SSH_ED25519, seed);
      PublicKey pub =
          SecurityUtils.generateEDDSAPublicKey(
              KeyPairProvider.SSH_ED25519, Ed25519Keys.rawPublic(jdk.getPublic()));
      return new KeyPair(pub, priv);
    } catch (java.io.IOException e) {
      throw new GeneralSecurityException("cannot convert the Ed25519 key", e);
    } finally {
      Arrays.fill(seed, (byte) 0);
    }
  }

  /**
   * A public key from MINA as a JDK Ed25519 key (both encode as standard X.509).
   *
   * @throws IllegalArgumentException if it is not Ed25519
   */
  static PublicKey toJdk(PublicKey mina) {
    return Ed25519Keys.publicFromRaw(Ed25519Keys.rawPublic(mina));
  }
}

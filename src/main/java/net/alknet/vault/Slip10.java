package net.alknet.vault;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.bouncycastle.crypto.digests.RIPEMD160Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.macs.HMac;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * SLIP-0010 private key derivation for Ed25519 (VAULT-2): master key from a seed with HMAC-SHA512
 * keyed by {@code "ed25519 seed"}, then hardened children only.
 *
 * <p>Every {@link Key} returned holds secret material; the caller MUST {@link Key#close() close}
 * it. Intermediate keys of a path are wiped here. Thread-safe (no shared state).
 */
public final class Slip10 {

  private static final byte[] CURVE = "ed25519 seed".getBytes(StandardCharsets.US_ASCII);

  private Slip10() {}

  /**
   * An extended private key: the 32-byte private key (an Ed25519 seed in RFC 8032 terms), its chain
   * code, and its depth and parent fingerprint (for the test vectors).
   */
  public static final class Key implements AutoCloseable {
    private final byte[] privateKey;
    private final byte[] chainCode;
    private final int depth;
    private final int parentFingerprint;

    Key(byte[] privateKey, byte[] chainCode, int depth, int parentFingerprint) {
      this.privateKey = privateKey;
      this.chainCode = chainCode;
      this.depth = depth;
      this.parentFingerprint = parentFingerprint;
    }

    /** A copy of the 32-byte private key; the caller MUST wipe it. */
    public byte[] privateKey() {
      return privateKey.clone();
    }

    /** A copy of the 32-byte chain code. */
    public byte[] chainCode() {
      return chainCode.clone();
    }

    /** The raw 32-byte Ed25519 public key (RFC 8032 encoding). */
    public byte[] publicKey() {
      return new Ed25519PrivateKeyParameters(privateKey, 0).generatePublicKey().getEncoded();
    }

    public int depth() {
      return depth;
    }

    /** First four bytes of the parent's key identifier (0 for the master key). */
    public int parentFingerprint() {
      return parentFingerprint;
    }

    /** The hardened child {@code index} ({@link DerivationPath#HARDENED} bit required). */
    public Key child(int index) {
      if ((index & DerivationPath.HARDENED) == 0) {
        throw new IllegalArgumentException("Ed25519 derivation is hardened only");
      }
      byte[] data = new byte[1 + 32 + 4];
      System.arraycopy(privateKey, 0, data, 1, 32);
      data[33] = (byte) (index >>> 24);
      data[34] = (byte) (index >>> 16);
      data[35] = (byte) (index >>> 8);
      data[36] = (byte) index;
      try {
        return split(hmac(chainCode, data), depth + 1, fingerprint(publicKey()));
      } finally {
        Secrets.wipe(data);
      }
    }

    /** Wipes the private key and chain code. */
    @Override
    public void close() {
      Secrets.wipe(privateKey, chainCode);
    }
  }

  /** The master key of a seed (16 to 64 bytes). */
  public static Key master(byte[] seed) {
    if (seed.length < 16 || seed.length > 64) {
      throw new IllegalArgumentException("a seed has 16 to 64 bytes, not " + seed.length);
    }
    return split(hmac(CURVE, seed), 0, 0);
  }

  /** The key at {@code path} below the master key of {@code seed}. */
  public static Key derive(byte[] seed, DerivationPath path) {
    Key k = master(seed);
    for (int index : path.indexes()) {
      Key next = k.child(index);
      k.close();
      k = next;
    }
    return k;
  }

  /** RIPEMD160(SHA256(0x00 ‖ public key)), first four bytes: BIP32's key fingerprint. */
  static int fingerprint(byte[] publicKey) {
    try {
      byte[] ser = new byte[33];
      System.arraycopy(publicKey, 0, ser, 1, 32);
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(ser);
      RIPEMD160Digest ripemd = new RIPEMD160Digest();
      ripemd.update(sha, 0, sha.length);
      byte[] id = new byte[20];
      ripemd.doFinal(id, 0);
      return ((id[0] & 0xff) << 24)
          | ((id[1] & 0xff) << 16)
          | ((id[2] & 0xff) << 8)
          | (id[3] & 0xff);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Key split(byte[] i, int depth, int parentFingerprint) {
    try {
      return new Key(
          Arrays.copyOfRange(i, 0, 32), Arrays.copyOfRange(i, 32, 64), depth, parentFingerprint);
    } finally {
      Secrets.wipe(i);
    }
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    HMac mac = new HMac(new SHA512Digest());
    mac.init(new KeyParameter(key));
    mac.update(data, 0, data.length);
    byte[] out = new byte[64];
    mac.doFinal(out, 0);
    mac.reset();
    return out;
  }
}

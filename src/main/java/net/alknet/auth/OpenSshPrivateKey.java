package net.alknet.auth;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * The {@code openssh-key-v1} private key format (OpenSSH PROTOCOL.key), Ed25519 and unencrypted
 * only. Package-private; use {@link Ed25519Keys}. Stateless and thread-safe.
 *
 * <pre>
 * "openssh-key-v1" 0x00
 * string ciphername   ("none")
 * string kdfname      ("none")
 * string kdfoptions   ("")
 * uint32 number of keys (1)
 * string public key blob
 * string private section:
 *     uint32 checkint, uint32 checkint (equal)
 *     string "ssh-ed25519", string pub32, string seed32||pub32, string comment
 *     padding 1, 2, 3, ... up to a multiple of 8
 * </pre>
 */
final class OpenSshPrivateKey {
  static final String BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----";
  static final String END = "-----END OPENSSH PRIVATE KEY-----";

  /** Largest PEM accepted; an Ed25519 key is about 400 characters. */
  static final int MAX_PEM = 16 * 1024;

  private static final byte[] MAGIC = "openssh-key-v1\0".getBytes(StandardCharsets.US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  private OpenSshPrivateKey() {}

  static String encode(KeyPair pair, String comment) {
    if (comment.indexOf('\n') >= 0 || comment.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("comment must not contain line breaks");
    }
    byte[] pub = Ed25519Keys.rawPublic(pair.getPublic());
    byte[] seed = Ed25519Keys.seed(pair.getPrivate());
    byte[] secret = new byte[64];
    System.arraycopy(seed, 0, secret, 0, 32);
    System.arraycopy(pub, 0, secret, 32, 32);
    int check = RANDOM.nextInt();
    SshWire.Writer priv =
        new SshWire.Writer()
            .uint32(check)
            .uint32(check)
            .string(SshWire.ED25519)
            .string(pub)
            .string(secret)
            .string(comment);
    for (int i = 1; priv.size() % 8 != 0; i++) {
      priv.raw(new byte[] {(byte) i});
    }
    byte[] privBytes = priv.toByteArray();
    byte[] all =
        new SshWire.Writer()
            .raw(MAGIC)
            .string("none")
            .string("none")
            .string(new byte[0])
            .uint32(1)
            .string(SshWire.ed25519Blob(pub))
            .string(privBytes)
            .toByteArray();
    String b64 = Base64.getMimeEncoder(70, new byte[] {'\n'}).encodeToString(all);
    Arrays.fill(seed, (byte) 0);
    Arrays.fill(secret, (byte) 0);
    Arrays.fill(privBytes, (byte) 0);
    Arrays.fill(all, (byte) 0);
    return BEGIN + "\n" + b64 + "\n" + END + "\n";
  }

  static KeyPair decode(String pem) {
    if (pem == null || pem.length() > MAX_PEM) {
      throw new KeyFormatException("not an OpenSSH private key (missing or too large)");
    }
    String s = pem.strip();
    if (!s.startsWith(BEGIN) || !s.endsWith(END)) {
      throw new KeyFormatException("not an OpenSSH private key (expected " + BEGIN + ")");
    }
    String body = s.substring(BEGIN.length(), s.length() - END.length()).replaceAll("\\s+", "");
    byte[] all;
    try {
      all = Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      throw new KeyFormatException("invalid base64 in OpenSSH private key");
    }
    try {
      return decodeBinary(all);
    } finally {
      Arrays.fill(all, (byte) 0);
    }
  }

  private static KeyPair decodeBinary(byte[] all) {
    if (all.length < MAGIC.length || !Arrays.equals(all, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new KeyFormatException("not an openssh-key-v1 private key");
    }
    SshWire.Reader r =
        new SshWire.Reader(Arrays.copyOfRange(all, MAGIC.length, all.length), "private key");
    String cipher = r.readAscii();
    String kdf = r.readAscii();
    r.readString(); // kdf options
    if (!cipher.equals("none") || !kdf.equals("none")) {
      throw new KeyFormatException(
          "encrypted OpenSSH private keys are not supported yet; remove the passphrase with"
              + " `ssh-keygen -p -N '' -f <file>`");
    }
    if (r.readUint32() != 1) {
      throw new KeyFormatException("OpenSSH private key file must contain exactly one key");
    }
    byte[] outerBlob = r.readString();
    byte[] section = r.readString();
    try {
      return decodeSection(section, outerBlob);
    } finally {
      Arrays.fill(section, (byte) 0);
    }
  }

  private static KeyPair decodeSection(byte[] section, byte[] outerBlob) {
    SshWire.Reader p = new SshWire.Reader(section, "private key");
    if (p.readUint32() != p.readUint32()) {
      throw new KeyFormatException("corrupt OpenSSH private key (check bytes differ)");
    }
    Ed25519Keys.checkType(p.readAscii());
    byte[] pub = p.readString();
    byte[] secret = p.readString();
    p.readString(); // comment
    byte[] pad = p.readRest();
    for (int i = 0; i < pad.length; i++) {
      if (pad[i] != (byte) (i + 1)) {
        throw new KeyFormatException("corrupt OpenSSH private key (bad padding)");
      }
    }
    if (pub.length != 32 || secret.length != 64) {
      throw new KeyFormatException("corrupt OpenSSH private key (bad key length)");
    }
    byte[] seed = Arrays.copyOf(secret, 32);
    try {
      if (!MessageDigest.isEqual(Arrays.copyOfRange(secret, 32, 64), pub)
          || !MessageDigest.isEqual(outerBlob, SshWire.ed25519Blob(pub))
          || !Ed25519Keys.isPublicKeyOf(seed, pub)) {
        throw new KeyFormatException("corrupt OpenSSH private key (public key does not match)");
      }
      PublicKey publicKey = Ed25519Keys.publicFromRaw(pub);
      PrivateKey privateKey = Ed25519Keys.privateFromSeed(seed);
      return new KeyPair(publicKey, privateKey);
    } finally {
      Arrays.fill(seed, (byte) 0);
      Arrays.fill(secret, (byte) 0);
    }
  }
}

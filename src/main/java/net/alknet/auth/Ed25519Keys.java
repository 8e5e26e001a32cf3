package net.alknet.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Ed25519 keys as standard JCA keys ({@link java.security.interfaces.EdECPublicKey}, {@link
 * EdECPrivateKey} from the JDK's SunEC provider), so they work with JDK TLS and X.509 certificates,
 * plus the OpenSSH encodings.
 *
 * <ul>
 *   <li>Public key line: {@code ssh-ed25519 <base64 of wire blob> [comment]} (authorized_keys,
 *       {@code .pub} files). Wire blob = {@code string "ssh-ed25519" || string raw32}.
 *   <li>Private key: OpenSSH {@code openssh-key-v1} PEM, unencrypted ({@code none} cipher) only.
 * </ul>
 *
 * <p>Stateless and thread-safe. Parse methods throw {@link KeyFormatException} with a message free
 * of key material; {@code sign}/{@code verify} never leak key material in exceptions.
 */
public final class Ed25519Keys {
  /** Length of a raw Ed25519 public key and of a private seed. */
  public static final int KEY_LENGTH = 32;

  /** Length of an Ed25519 signature. */
  public static final int SIGNATURE_LENGTH = 64;

  /** Longest public key line or blob accepted by {@link #parseSshPublicKey}. */
  public static final int MAX_PUBLIC_LINE = 8192;

  private static final String ALG = "Ed25519";
  private static final byte[] X509_PREFIX = hex("302a300506032b6570032100");
  private static final byte[] PKCS8_PREFIX = hex("302e020100300506032b657004220420");
  private static final byte[] KEY_CHECK =
      "alknet: does this public key belong to this private key?"
          .getBytes(StandardCharsets.US_ASCII);
  private static final Pattern KEY_TYPE = Pattern.compile("(ssh|ecdsa|sk|rsa)-[A-Za-z0-9@._-]+");

  private Ed25519Keys() {}

  /** Generates a new key pair from the platform's default SecureRandom. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALG).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 unavailable", e);
    }
  }

  /**
   * Returns the raw 32-byte public key (RFC 8032 encoding).
   *
   * @throws IllegalArgumentException if {@code key} is not an Ed25519 public key
   */
  public static byte[] rawPublic(PublicKey key) {
    byte[] enc = key == null ? null : key.getEncoded();
    if (enc == null
        || enc.length != X509_PREFIX.length + KEY_LENGTH
        || !Arrays.equals(enc, 0, X509_PREFIX.length, X509_PREFIX, 0, X509_PREFIX.length)) {
      throw new IllegalArgumentException("not an Ed25519 public key");
    }
    return Arrays.copyOfRange(enc, X509_PREFIX.length, enc.length);
  }

  /** Returns whether {@code key} is an Ed25519 public key usable by this class. */
  public static boolean isEd25519(PublicKey key) {
    try {
      rawPublic(key);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Builds a JCA public key from its raw 32-byte encoding.
   *
   * @throws KeyFormatException if the input is not 32 bytes or not a valid encoding
   */
  public static PublicKey publicFromRaw(byte[] raw) {
    if (raw == null || raw.length != KEY_LENGTH) {
      throw new KeyFormatException("Ed25519 public key must be 32 bytes");
    }
    byte[] enc = Arrays.copyOf(X509_PREFIX, X509_PREFIX.length + KEY_LENGTH);
    System.arraycopy(raw, 0, enc, X509_PREFIX.length, KEY_LENGTH);
    try {
      return KeyFactory.getInstance(ALG).generatePublic(new X509EncodedKeySpec(enc));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new KeyFormatException("invalid Ed25519 public key");
    }
  }

  /** Builds a JCA private key from its 32-byte seed. */
  static PrivateKey privateFromSeed(byte[] seed) {
    try {
      return KeyFactory.getInstance(ALG)
          .generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed));
    } catch (GeneralSecurityException e) {
      throw new KeyFormatException("invalid Ed25519 private key");
    }
  }

  /** Returns the 32-byte seed of an Ed25519 private key. Callers MUST wipe it after use. */
  static byte[] seed(PrivateKey key) {
    if (key instanceof EdECPrivateKey ed) {
      return ed.getBytes().orElseThrow(() -> new IllegalArgumentException("private key hidden"));
    }
    byte[] enc = key == null ? null : key.getEncoded();
    if (enc == null
        || enc.length != PKCS8_PREFIX.length + KEY_LENGTH
        || !Arrays.equals(enc, 0, PKCS8_PREFIX.length, PKCS8_PREFIX, 0, PKCS8_PREFIX.length)) {
      throw new IllegalArgumentException("not an Ed25519 private key");
    }
    byte[] out = Arrays.copyOfRange(enc, PKCS8_PREFIX.length, enc.length);
    Arrays.fill(enc, (byte) 0);
    return out;
  }

  /**
   * Whether {@code rawPublic} is the public key of the 32-byte private {@code seed}: a fixed
   * message signed with the seed must verify with that public key. JDK only (no BouncyCastle, which
   * the client commands never load): a public key that is not the seed's fails verification except
   * with negligible probability. False, never an exception, for an invalid public key encoding.
   */
  static boolean isPublicKeyOf(byte[] seed, byte[] rawPublic) {
    PublicKey pub;
    try {
      pub = publicFromRaw(rawPublic);
    } catch (KeyFormatException e) {
      return false;
    }
    return verify(pub, KEY_CHECK, sign(privateFromSeed(seed), KEY_CHECK));
  }

  /**
   * Returns an OpenSSH public key line {@code ssh-ed25519 AAAA... comment} (no trailing newline).
   *
   * @param comment optional comment; null or blank gives a line without comment. MUST NOT contain
   *     line breaks.
   */
  public static String sshPublicKeyLine(PublicKey key, String comment) {
    String b64 = Base64.getEncoder().encodeToString(SshWire.ed25519Blob(rawPublic(key)));
    String line = SshWire.ED25519 + " " + b64;
    if (comment == null || comment.isBlank()) {
      return line;
    }
    if (comment.indexOf('\n') >= 0 || comment.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("comment must not contain line breaks");
    }
    return line + " " + comment.strip();
  }

  /**
   * Parses {@code ssh-ed25519 AAAA... [comment]} or just the base64 blob {@code AAAA...}.
   *
   * @throws KeyFormatException if the input is too long, not base64, truncated, of another key type
   *     (message names the type, e.g. {@code unsupported key type ssh-rsa}) or otherwise bad
   */
  public static PublicKey parseSshPublicKey(String lineOrBlob) {
    if (lineOrBlob == null) {
      throw new KeyFormatException("no key data");
    }
    if (lineOrBlob.length() > MAX_PUBLIC_LINE) {
      throw new KeyFormatException("key line too long (max " + MAX_PUBLIC_LINE + " characters)");
    }
    String[] f = lineOrBlob.strip().split("\\s+", 3);
    if (f.length == 0 || f[0].isEmpty()) {
      throw new KeyFormatException("no key data");
    }
    if (f.length == 1) {
      return publicFromBlob(null, f[0]);
    }
    return publicFromBlob(f[0], f[1]);
  }

  /**
   * Decodes a base64 SSH public-key blob.
   *
   * @param type the key type written before the blob, or null if none was written
   */
  static PublicKey publicFromBlob(String type, String base64) {
    if (type != null) {
      checkType(type);
    }
    byte[] blob;
    try {
      blob = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new KeyFormatException("invalid base64 in key data");
    }
    SshWire.Reader r = new SshWire.Reader(blob, "key data");
    String inner = r.readAscii();
    if (!inner.equals(SshWire.ED25519)) {
      if (type != null) {
        throw new KeyFormatException("key data does not match key type " + type);
      }
      checkType(inner);
    }
    byte[] raw = r.readString();
    if (raw.length != KEY_LENGTH) {
      throw new KeyFormatException("Ed25519 public key must be 32 bytes");
    }
    if (r.remaining() != 0) {
      throw new KeyFormatException("trailing bytes after key data");
    }
    return publicFromRaw(raw);
  }

  /** Throws unless {@code type} is {@code ssh-ed25519}; the message names plausible types. */
  static void checkType(String type) {
    if (type.equals(SshWire.ED25519)) {
      return;
    }
    if (type.length() <= 64 && KEY_TYPE.matcher(type).matches()) {
      throw new KeyFormatException(
          "unsupported key type " + type + " (only ssh-ed25519 is accepted)");
    }
    throw new KeyFormatException("unknown key type (only ssh-ed25519 is accepted)");
  }

  /**
   * Returns the unencrypted OpenSSH private key file content (PEM, trailing newline), readable by
   * {@code ssh-keygen -y -f} and {@code ssh}. The content is secret: callers MUST write it with
   * owner-only permissions (see {@link LocalKeys#write}).
   */
  public static String openSshPrivateKey(KeyPair pair, String comment) {
    return OpenSshPrivateKey.encode(pair, comment == null ? "" : comment);
  }

  /**
   * Parses an OpenSSH private key ({@code -----BEGIN OPENSSH PRIVATE KEY-----}), as written by
   * {@code ssh-keygen -t ed25519 -N ''} or by {@link #openSshPrivateKey}.
   *
   * @throws KeyFormatException if not an unencrypted Ed25519 openssh-key-v1 key; a
   *     passphrase-protected key gives a message saying encrypted keys are not supported yet
   */
  public static KeyPair parseOpenSshPrivateKey(String pem) {
    return OpenSshPrivateKey.decode(pem);
  }

  /** Signs {@code data} (pure Ed25519, RFC 8032). */
  public static byte[] sign(PrivateKey key, byte[] data) {
    try {
      Signature s = Signature.getInstance(ALG);
      s.initSign(key);
      s.update(data);
      return s.sign();
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException("not an Ed25519 private key");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed");
    }
  }

  /**
   * Verifies a signature. Returns false (never throws) for a wrong key type, a signature that is
   * not 64 bytes, or any invalid input.
   */
  public static boolean verify(PublicKey key, byte[] data, byte[] sig) {
    if (key == null || data == null || sig == null || sig.length != SIGNATURE_LENGTH) {
      return false;
    }
    try {
      Signature s = Signature.getInstance(ALG);
      s.initVerify(key);
      s.update(data);
      return s.verify(sig);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  private static byte[] hex(String s) {
    return java.util.HexFormat.of().parseHex(s);
  }
}

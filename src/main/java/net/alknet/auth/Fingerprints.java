package net.alknet.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * OpenSSH-style key fingerprints: {@code SHA256:} followed by the unpadded standard base64 of the
 * SHA-256 of the SSH wire public-key blob, exactly what {@code ssh-keygen -l -E sha256} prints.
 * Stateless and thread-safe.
 */
public final class Fingerprints {
  /** Prefix of every fingerprint. */
  public static final String PREFIX = "SHA256:";

  private static final Pattern SYNTAX = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}");

  private Fingerprints() {}

  /**
   * Returns the fingerprint of an Ed25519 public key.
   *
   * @throws IllegalArgumentException if the key is not Ed25519
   */
  public static String sha256(PublicKey ed25519) {
    return ofRawEd25519(Ed25519Keys.rawPublic(ed25519));
  }

  /** Returns the fingerprint of a raw 32-byte Ed25519 public key. */
  public static String ofRawEd25519(byte[] raw) {
    if (raw == null || raw.length != Ed25519Keys.KEY_LENGTH) {
      throw new IllegalArgumentException("Ed25519 public key must be 32 bytes");
    }
    return ofBlob(SshWire.ed25519Blob(raw));
  }

  /** Returns the fingerprint of any SSH wire public-key blob. */
  public static String ofBlob(byte[] sshBlob) {
    return PREFIX + Base64.getEncoder().withoutPadding().encodeToString(sha256Digest(sshBlob));
  }

  /** Returns whether {@code s} has the syntax of a SHA-256 fingerprint. */
  public static boolean isValid(String s) {
    return s != null && s.length() == 50 && SYNTAX.matcher(s).matches();
  }

  static byte[] sha256Digest(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}

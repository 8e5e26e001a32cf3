package net.alknet.auth;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * Short-lived bearer token proving possession of an Ed25519 private key.
 *
 * <p>Byte layout (104 bytes, then base64url without padding = exactly {@value #ENCODED_LENGTH}
 * characters):
 *
 * <pre>
 * offset  length  field
 *      0      32  key id: raw Ed25519 public key
 *     32       8  timestamp: Unix epoch milliseconds, signed big-endian
 *     40      64  Ed25519 signature over
 *                 UTF-8 "alknet-auth-token-v1" || 0x00 || key id || timestamp
 * </pre>
 *
 * <p>Validity: the signature verifies with an authorized key, {@code now - timestamp <= maxAge} and
 * {@code timestamp - now <= maxSkew} (see {@link TokenPolicy}). A token can be replayed by anyone
 * who sees it until it expires: it MUST only be sent over an encrypted, server-authenticated
 * channel. Stateless and thread-safe.
 */
public final class AuthToken {
  /** Domain-separation label that starts the signed data. */
  public static final String LABEL = "alknet-auth-token-v1";

  /** Decoded length in bytes. */
  public static final int LENGTH = 32 + 8 + 64;

  /** Encoded length in characters; any other length is malformed. */
  public static final int ENCODED_LENGTH = 139;

  private static final byte[] LABEL_BYTES = (LABEL + "\0").getBytes(StandardCharsets.UTF_8);

  private AuthToken() {}

  /**
   * A decoded (not yet verified) token. Arrays are copied in and out.
   *
   * @param keyId raw 32-byte Ed25519 public key
   * @param timestamp signing time, millisecond precision
   * @param signature 64-byte signature
   */
  public record Parsed(byte[] keyId, Instant timestamp, byte[] signature) {
    /** Validates lengths and copies the arrays. */
    public Parsed {
      if (keyId.length != 32 || signature.length != 64) {
        throw new IllegalArgumentException("bad token field length");
      }
      keyId = keyId.clone();
      signature = signature.clone();
    }

    @Override
    public byte[] keyId() {
      return keyId.clone();
    }

    @Override
    public byte[] signature() {
      return signature.clone();
    }

    /** Returns the bytes the signature covers. */
    public byte[] signedData() {
      return AuthToken.signedData(keyId, timestamp.toEpochMilli());
    }

    /** Returns the OpenSSH fingerprint of the key id, for logs. */
    public String fingerprint() {
      return Fingerprints.ofRawEd25519(keyId);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Parsed p
          && Arrays.equals(keyId, p.keyId)
          && timestamp.equals(p.timestamp)
          && Arrays.equals(signature, p.signature);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(keyId) * 31 + timestamp.hashCode();
    }

    @Override
    public String toString() {
      return "AuthToken.Parsed[" + fingerprint() + " at " + timestamp + "]";
    }
  }

  /** Creates a token for {@code pair} dated {@code now} (truncated to milliseconds). */
  public static String mint(KeyPair pair, Instant now) {
    byte[] keyId = Ed25519Keys.rawPublic(pair.getPublic());
    long ts = now.toEpochMilli();
    byte[] sig = Ed25519Keys.sign(pair.getPrivate(), signedData(keyId, ts));
    ByteBuffer b = ByteBuffer.allocate(LENGTH).put(keyId).putLong(ts).put(sig);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  /**
   * Decodes a token without verifying it. The length is checked before anything is decoded, so huge
   * inputs are rejected in constant time.
   *
   * @throws MalformedTokenException for null, wrong length, characters outside the base64url
   *     alphabet or non-canonical base64
   */
  public static Parsed parse(String presented) throws MalformedTokenException {
    if (presented == null || presented.isEmpty()) {
      throw new MalformedTokenException("empty token");
    }
    if (presented.length() != ENCODED_LENGTH) {
      throw new MalformedTokenException(
          "token length " + presented.length() + " (expected " + ENCODED_LENGTH + ")");
    }
    for (int i = 0; i < ENCODED_LENGTH; i++) {
      char c = presented.charAt(i);
      boolean ok =
          (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_';
      if (!ok) {
        throw new MalformedTokenException("token has a character outside base64url at " + i);
      }
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(presented);
    } catch (IllegalArgumentException e) {
      throw new MalformedTokenException("token is not valid base64url");
    }
    if (raw.length != LENGTH
        || !Base64.getUrlEncoder().withoutPadding().encodeToString(raw).equals(presented)) {
      throw new MalformedTokenException("token is not canonical base64url");
    }
    ByteBuffer b = ByteBuffer.wrap(raw);
    byte[] keyId = new byte[32];
    byte[] sig = new byte[64];
    b.get(keyId);
    long ts = b.getLong();
    b.get(sig);
    return new Parsed(keyId, Instant.ofEpochMilli(ts), sig);
  }

  /**
   * Verifies a parsed token against the key it names. The signature is checked first, so a log
   * saying EXPIRED or FROM_FUTURE means a genuine token from that key.
   *
   * @param key the authorized key whose raw encoding equals {@link Parsed#keyId()}
   * @return empty if valid, else the failure (BAD_SIGNATURE, EXPIRED or FROM_FUTURE)
   */
  public static Optional<AuthResult.Failure> verify(
      Parsed token, PublicKey key, Instant now, TokenPolicy policy) {
    String fp = token.fingerprint();
    if (!Arrays.equals(Ed25519Keys.rawPublic(key), token.keyId)
        || !Ed25519Keys.verify(key, token.signedData(), token.signature)) {
      return Optional.of(
          new AuthResult.Failure(AuthResult.Reason.BAD_SIGNATURE, "bad token signature for " + fp));
    }
    Duration age = Duration.between(token.timestamp(), now);
    if (age.isNegative() && age.negated().compareTo(policy.maxSkew()) > 0) {
      return Optional.of(
          new AuthResult.Failure(
              AuthResult.Reason.FROM_FUTURE,
              "token for "
                  + fp
                  + " is "
                  + seconds(age.negated())
                  + " in the future (max skew "
                  + seconds(policy.maxSkew())
                  + ")"));
    }
    if (age.compareTo(policy.maxAge()) > 0) {
      return Optional.of(
          new AuthResult.Failure(
              AuthResult.Reason.EXPIRED,
              "token for "
                  + fp
                  + " is "
                  + seconds(age)
                  + " old (max age "
                  + seconds(policy.maxAge())
                  + ")"));
    }
    return Optional.empty();
  }

  /** Formats a duration as seconds with millisecond precision; never overflows. */
  private static String seconds(Duration d) {
    return String.format(
        java.util.Locale.ROOT, "%d.%03d s", d.getSeconds(), d.getNano() / 1_000_000);
  }

  static byte[] signedData(byte[] keyId, long ts) {
    return ByteBuffer.allocate(LABEL_BYTES.length + 40)
        .put(LABEL_BYTES)
        .put(keyId)
        .putLong(ts)
        .array();
  }
}

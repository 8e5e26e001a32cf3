package net.alknet.git;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;

/**
 * Verifies an OpenSSH signature ({@code ssh-keygen -Y sign}, the SSHSIG format of OpenSSH's
 * PROTOCOL.sshsig), as git makes with {@code gpg.format=ssh}. Ed25519 keys only.
 *
 * <pre>
 * -----BEGIN SSH SIGNATURE-----          base64 of:
 *   "SSHSIG" uint32(1) string(publickey) string(namespace) string(reserved)
 *   string(hash_algorithm) string(signature)
 * -----END SSH SIGNATURE-----
 * signed data = "SSHSIG" string(namespace) string(reserved) string(hash_algorithm) string(H(msg))
 * </pre>
 *
 * Stateless; every malformed input is a {@link SignatureException} with a short reason.
 */
final class SshSignature {

  static final String BEGIN = "-----BEGIN SSH SIGNATURE-----";
  static final String END = "-----END SSH SIGNATURE-----";
  static final int MAX_ARMORED = 8192;
  private static final byte[] MAGIC = "SSHSIG".getBytes(StandardCharsets.US_ASCII);

  /** The signature is malformed or does not verify. */
  static final class SignatureException extends Exception {
    private static final long serialVersionUID = 1L;

    SignatureException(String message) {
      super(message, null, false, false);
    }
  }

  private SshSignature() {}

  /**
   * Verifies {@code armored} over {@code message} in {@code namespace}.
   *
   * @return the signing key's fingerprint ({@code SHA256:…})
   */
  static String verify(String armored, byte[] message, String namespace) throws SignatureException {
    if (armored.length() > MAX_ARMORED) {
      throw new SignatureException("signature too large");
    }
    String s = armored.strip();
    if (!s.startsWith(BEGIN) || !s.endsWith(END)) {
      throw new SignatureException("not an SSH signature");
    }
    byte[] blob;
    try {
      blob =
          Base64.getDecoder()
              .decode(s.substring(BEGIN.length(), s.length() - END.length()).replaceAll("\\s", ""));
    } catch (IllegalArgumentException e) {
      throw new SignatureException("SSH signature is not valid base64");
    }
    ByteBuffer b = ByteBuffer.wrap(blob);
    byte[] magic = new byte[MAGIC.length];
    if (b.remaining() < MAGIC.length + 4) {
      throw new SignatureException("truncated SSH signature");
    }
    b.get(magic);
    if (!Arrays.equals(magic, MAGIC) || b.getInt() != 1) {
      throw new SignatureException("not an SSHSIG version 1 signature");
    }
    byte[] publicKey = string(b);
    String ns = ascii(string(b));
    byte[] reserved = string(b);
    String hashAlg = ascii(string(b));
    byte[] signature = string(b);
    if (b.hasRemaining()) {
      throw new SignatureException("trailing bytes after the SSH signature");
    }
    if (!ns.equals(namespace)) {
      throw new SignatureException("signature namespace is '" + clip(ns) + "', not " + namespace);
    }
    String digestName =
        switch (hashAlg) {
          case "sha512" -> "SHA-512";
          case "sha256" -> "SHA-256";
          default -> throw new SignatureException("unsupported hash algorithm " + clip(hashAlg));
        };
    ByteBuffer pk = ByteBuffer.wrap(publicKey);
    if (!ascii(string(pk)).equals("ssh-ed25519")) {
      throw new SignatureException("only ssh-ed25519 signing keys are accepted");
    }
    byte[] raw = string(pk);
    if (raw.length != Ed25519Keys.KEY_LENGTH || pk.hasRemaining()) {
      throw new SignatureException("malformed ssh-ed25519 public key");
    }
    ByteBuffer sig = ByteBuffer.wrap(signature);
    if (!ascii(string(sig)).equals("ssh-ed25519")) {
      throw new SignatureException("signature algorithm is not ssh-ed25519");
    }
    byte[] sigBytes = string(sig);
    if (sig.hasRemaining()) {
      throw new SignatureException("malformed ssh-ed25519 signature");
    }
    byte[] hash;
    try {
      hash = MessageDigest.getInstance(digestName).digest(message);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    byte[] signed = signedData(namespace, reserved, hashAlg, hash);
    if (!Ed25519Keys.verify(Ed25519Keys.publicFromRaw(raw), signed, sigBytes)) {
      throw new SignatureException("SSH signature does not verify");
    }
    return Fingerprints.ofBlob(publicKey);
  }

  /** The bytes an SSHSIG signature is made over. */
  static byte[] signedData(String namespace, byte[] reserved, String hashAlg, byte[] hash) {
    byte[] ns = namespace.getBytes(StandardCharsets.US_ASCII);
    byte[] alg = hashAlg.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer out =
        ByteBuffer.allocate(
            MAGIC.length + 16 + ns.length + reserved.length + alg.length + hash.length);
    out.put(MAGIC);
    putString(out, ns);
    putString(out, reserved);
    putString(out, alg);
    putString(out, hash);
    return out.array();
  }

  static void putString(ByteBuffer out, byte[] s) {
    out.putInt(s.length);
    out.put(s);
  }

  private static byte[] string(ByteBuffer b) throws SignatureException {
    if (b.remaining() < 4) {
      throw new SignatureException("truncated SSH signature");
    }
    int len = b.getInt();
    if (len < 0 || len > b.remaining()) {
      throw new SignatureException("truncated SSH signature");
    }
    byte[] out = new byte[len];
    b.get(out);
    return out;
  }

  private static String ascii(byte[] b) {
    return new String(b, StandardCharsets.US_ASCII);
  }

  private static String clip(String s) {
    return GitRequest.shorten(s);
  }
}

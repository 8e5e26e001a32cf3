package net.alknet.vault;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The byte layout of a vault file (format version 1), documented byte by byte in docs/vault.md.
 * Pure encoding and bounded decoding: no crypto here. Every length and count is checked against a
 * limit before anything is allocated, so a hostile file gives a {@link VaultException.Damaged},
 * never an out-of-memory error.
 *
 * <pre>
 * header   magic "ALKVAULT" | version u8 = 1 | kdf u8 = 1 (scrypt) | logN u8 | r u8 | p u8
 *          | salt length u8 | salt | passphrase check (16) | nonce (12) | body length u32
 * body     AES-256-GCM ciphertext + tag of the envelope; associated data = the whole header
 * envelope seed (64) | credential key version u32 | count u16
 *          | count × (name length u8 | name | nonce (12) | length u32 | ciphertext + tag)
 * </pre>
 */
final class VaultFile {

  static final byte[] MAGIC = "ALKVAULT".getBytes(StandardCharsets.US_ASCII);
  static final int FORMAT_VERSION = 1;
  static final int MIN_SALT = 16;
  static final int MAX_SALT = 64;
  static final int SALT_LENGTH = 32;
  static final int CHECK_LENGTH = 16;
  static final int NONCE_LENGTH = 12;
  static final int TAG_LENGTH = 16;
  static final int SEED_LENGTH = 64;

  /** Most credentials a vault holds. */
  static final int MAX_CREDENTIALS = 256;

  /** Longest credential secret, in bytes. */
  static final int MAX_SECRET = 64 * 1024;

  /** Largest vault file read (the most credentials of the longest secrets fit well under it). */
  static final int MAX_FILE = 20 << 20;

  /** Credential names: 1-64 of letters, digits and {@code . _ - : /}, starting alphanumeric. */
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}");

  private VaultFile() {}

  /** The readable part of a file: header fields, its exact bytes (the AAD) and the body. */
  record Parsed(
      KdfParams kdf, byte[] salt, byte[] check, byte[] nonce, byte[] headerBytes, byte[] body) {}

  /** A credential as stored: encrypted under the credential key of the envelope's version. */
  record Sealed(byte[] nonce, byte[] ciphertext) {}

  /** The decrypted envelope. The caller MUST wipe {@code seed}. */
  record Envelope(byte[] seed, int keyVersion, Map<String, Sealed> credentials) {}

  static byte[] header(KdfParams kdf, byte[] salt, byte[] check, byte[] nonce, int bodyLength) {
    Writer w = new Writer(MAGIC.length + 10 + salt.length + check.length + nonce.length);
    w.bytes(MAGIC);
    w.u8(FORMAT_VERSION);
    w.u8(KdfParams.SCRYPT);
    w.u8(kdf.logN());
    w.u8(kdf.r());
    w.u8(kdf.p());
    w.u8(salt.length);
    w.bytes(salt);
    w.bytes(check);
    w.bytes(nonce);
    w.u32(bodyLength);
    return w.toArray();
  }

  static Parsed parse(byte[] file) throws VaultException.Damaged {
    Reader r = new Reader(file, "vault file");
    byte[] magic = r.bytes(MAGIC.length);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new VaultException.Damaged("not an alknet vault file (bad magic)");
    }
    int version = r.u8();
    if (version != FORMAT_VERSION) {
      throw new VaultException.Damaged(
          "vault format version " + version + " is not supported (this alknet reads version 1)");
    }
    int kdfId = r.u8();
    if (kdfId != KdfParams.SCRYPT) {
      throw new VaultException.Damaged("unknown key derivation function " + kdfId + " in header");
    }
    int logN = r.u8();
    int cost = r.u8();
    int par = r.u8();
    KdfParams kdf;
    try {
      kdf = new KdfParams(logN, cost, par);
    } catch (IllegalArgumentException e) {
      throw new VaultException.Damaged("vault header: " + e.getMessage());
    }
    int saltLength = r.u8();
    if (saltLength < MIN_SALT || saltLength > MAX_SALT) {
      throw new VaultException.Damaged(
          "vault header: salt length " + saltLength + " is not " + MIN_SALT + ".." + MAX_SALT);
    }
    byte[] salt = r.bytes(saltLength);
    byte[] check = r.bytes(CHECK_LENGTH);
    byte[] nonce = r.bytes(NONCE_LENGTH);
    long bodyLength = r.u32();
    int headerLength = r.position();
    if (bodyLength != file.length - headerLength) {
      throw new VaultException.Damaged(
          "vault file is "
              + file.length
              + " bytes but its header announces "
              + (headerLength + bodyLength)
              + (bodyLength > file.length - headerLength ? " (truncated)" : " (trailing bytes)"));
    }
    if (bodyLength < SEED_LENGTH + 6 + TAG_LENGTH) {
      throw new VaultException.Damaged("vault body is too short (" + bodyLength + " bytes)");
    }
    return new Parsed(
        kdf,
        salt,
        check,
        nonce,
        Arrays.copyOf(file, headerLength),
        Arrays.copyOfRange(file, headerLength, file.length));
  }

  /** The envelope plaintext; the caller MUST wipe the result. */
  static byte[] envelope(byte[] seed, int keyVersion, Map<String, Sealed> credentials) {
    Writer w = new Writer(SEED_LENGTH + 6 + credentials.size() * 128);
    try {
      w.bytes(seed);
      w.u32(keyVersion);
      w.u16(credentials.size());
      for (Map.Entry<String, Sealed> e : credentials.entrySet()) {
        byte[] name = e.getKey().getBytes(StandardCharsets.US_ASCII);
        w.u8(name.length);
        w.bytes(name);
        w.bytes(e.getValue().nonce());
        w.u32(e.getValue().ciphertext().length);
        w.bytes(e.getValue().ciphertext());
      }
      return w.toArray();
    } finally {
      w.wipe();
    }
  }

  static Envelope parseEnvelope(byte[] plain) throws VaultException.Damaged {
    Reader r = new Reader(plain, "vault envelope");
    byte[] seed = r.bytes(SEED_LENGTH);
    try {
      long version = r.u32();
      if (version > Integer.MAX_VALUE) {
        throw new VaultException.Damaged("credential key version " + version + " is out of range");
      }
      int count = r.u16();
      if (count > MAX_CREDENTIALS) {
        throw new VaultException.Damaged(
            "vault holds " + count + " credentials, more than " + MAX_CREDENTIALS);
      }
      Map<String, Sealed> creds = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        int nameLength = r.u8();
        String name = new String(r.bytes(nameLength), StandardCharsets.US_ASCII);
        if (!NAME.matcher(name).matches()) {
          throw new VaultException.Damaged("credential " + (i + 1) + " has an invalid name");
        }
        byte[] nonce = r.bytes(NONCE_LENGTH);
        long length = r.u32();
        if (length < TAG_LENGTH || length > MAX_SECRET + TAG_LENGTH) {
          throw new VaultException.Damaged(
              "credential " + name + " has an invalid length " + length);
        }
        if (creds.put(name, new Sealed(nonce, r.bytes((int) length))) != null) {
          throw new VaultException.Damaged("credential " + name + " appears twice");
        }
      }
      if (r.remaining() != 0) {
        throw new VaultException.Damaged("vault envelope has " + r.remaining() + " trailing bytes");
      }
      return new Envelope(seed, (int) version, creds);
    } catch (VaultException.Damaged e) {
      Secrets.wipe(seed);
      throw e;
    }
  }

  /** Bounded big-endian reader: every read checks the remaining length first. */
  static final class Reader {
    private final byte[] data;
    private final String what;
    private int pos;

    Reader(byte[] data, String what) {
      this.data = data;
      this.what = what;
    }

    int position() {
      return pos;
    }

    int remaining() {
      return data.length - pos;
    }

    private void need(int n) throws VaultException.Damaged {
      if (n > data.length - pos) {
        throw new VaultException.Damaged(
            what + " is truncated: needs " + n + " more byte(s) at offset " + pos);
      }
    }

    int u8() throws VaultException.Damaged {
      need(1);
      return data[pos++] & 0xff;
    }

    int u16() throws VaultException.Damaged {
      need(2);
      int v = ((data[pos] & 0xff) << 8) | (data[pos + 1] & 0xff);
      pos += 2;
      return v;
    }

    long u32() throws VaultException.Damaged {
      need(4);
      long v = 0;
      for (int i = 0; i < 4; i++) {
        v = (v << 8) | (data[pos++] & 0xff);
      }
      return v;
    }

    byte[] bytes(int n) throws VaultException.Damaged {
      need(n);
      byte[] out = Arrays.copyOfRange(data, pos, pos + n);
      pos += n;
      return out;
    }
  }

  /** Growable big-endian writer whose buffer can be wiped. */
  static final class Writer {
    private byte[] buf;
    private int len;

    Writer(int capacity) {
      buf = new byte[Math.max(16, capacity)];
    }

    private void ensure(int n) {
      if (len + n > buf.length) {
        byte[] bigger = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
        Secrets.wipe(buf);
        buf = bigger;
      }
    }

    void u8(int v) {
      ensure(1);
      buf[len++] = (byte) v;
    }

    void u16(int v) {
      ensure(2);
      buf[len++] = (byte) (v >>> 8);
      buf[len++] = (byte) v;
    }

    void u32(long v) {
      ensure(4);
      for (int s = 24; s >= 0; s -= 8) {
        buf[len++] = (byte) (v >>> s);
      }
    }

    void bytes(byte[] b) {
      ensure(b.length);
      System.arraycopy(b, 0, buf, len, b.length);
      len += b.length;
    }

    byte[] toArray() {
      return Arrays.copyOf(buf, len);
    }

    void wipe() {
      Secrets.wipe(buf);
    }
  }
}

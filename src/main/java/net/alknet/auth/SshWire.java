package net.alknet.auth;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * SSH wire encoding (RFC 4251 section 5): {@code uint32} big-endian and length-prefixed {@code
 * string}. Package-private helper; not thread-safe per instance.
 */
final class SshWire {
  static final String ED25519 = "ssh-ed25519";

  private SshWire() {}

  /** Returns the SSH public-key blob {@code string "ssh-ed25519" || string raw32}. */
  static byte[] ed25519Blob(byte[] raw) {
    return new Writer().string(ED25519).string(raw).toByteArray();
  }

  /** Reads wire values; every read checks bounds and throws {@link KeyFormatException}. */
  static final class Reader {
    private final byte[] data;
    private final String what;
    private int pos;

    /**
     * @param data bytes to read
     * @param what noun used in error messages, e.g. {@code key data}
     */
    Reader(byte[] data, String what) {
      this.data = data;
      this.what = what;
    }

    int remaining() {
      return data.length - pos;
    }

    int readUint32() {
      if (remaining() < 4) {
        throw new KeyFormatException("truncated " + what);
      }
      int v =
          ((data[pos] & 0xff) << 24)
              | ((data[pos + 1] & 0xff) << 16)
              | ((data[pos + 2] & 0xff) << 8)
              | (data[pos + 3] & 0xff);
      pos += 4;
      return v;
    }

    byte[] readString() {
      long len = readUint32() & 0xffffffffL;
      if (len > remaining()) {
        throw new KeyFormatException("truncated " + what);
      }
      byte[] out = new byte[(int) len];
      System.arraycopy(data, pos, out, 0, out.length);
      pos += out.length;
      return out;
    }

    String readAscii() {
      return new String(readString(), StandardCharsets.UTF_8);
    }

    byte[] readRest() {
      byte[] out = new byte[remaining()];
      System.arraycopy(data, pos, out, 0, out.length);
      pos = data.length;
      return out;
    }
  }

  /** Builds wire values. */
  static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Writer uint32(int v) {
      out.write(v >>> 24);
      out.write(v >>> 16);
      out.write(v >>> 8);
      out.write(v);
      return this;
    }

    Writer string(byte[] b) {
      uint32(b.length);
      out.writeBytes(b);
      return this;
    }

    Writer string(String s) {
      return string(s.getBytes(StandardCharsets.UTF_8));
    }

    Writer raw(byte[] b) {
      out.writeBytes(b);
      return this;
    }

    int size() {
      return out.size();
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }
  }
}

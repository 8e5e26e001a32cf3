package net.alknet.git;

import java.nio.charset.StandardCharsets;

/** git pkt-line framing for the few lines alknet writes itself (requests and errors). */
final class PktLine {

  /** Largest pkt-line git allows (length prefix included). */
  static final int MAX = 65520;

  private PktLine() {}

  /** {@code body} prefixed with its 4-hex-digit length. */
  static byte[] of(byte[] body) {
    int len = body.length + 4;
    if (len > MAX) {
      throw new IllegalArgumentException("pkt-line too long: " + len);
    }
    byte[] out = new byte[len];
    byte[] hex = String.format("%04x", len).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(hex, 0, out, 0, 4);
    System.arraycopy(body, 0, out, 4, body.length);
    return out;
  }

  /**
   * An {@code ERR} packet, which stock git reports as {@code fatal: remote error: <message>}
   * (protocol v0, v1 and v2 alike). Control characters in {@code message} are masked.
   */
  static byte[] error(String message) {
    String m = mask(message.length() > 500 ? message.substring(0, 500) + "..." : message);
    return of(("ERR " + m + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static String mask(String s) {
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints().forEach(c -> b.appendCodePoint(c < 0x20 || c == 0x7f ? '?' : c));
    return b.toString();
  }
}

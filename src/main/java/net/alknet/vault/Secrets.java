package net.alknet.vault;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * UTF-8 conversions between {@code char[]} and {@code byte[]} that never go through a {@link
 * String}, so the caller can wipe every copy. Intermediate buffers are wiped here.
 */
public final class Secrets {
  private Secrets() {}

  /** UTF-8 encoding of {@code chars}; the caller MUST wipe the result. */
  public static byte[] utf8(char[] chars) {
    CharsetEncoder enc =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer buf = ByteBuffer.allocate(chars.length * 4);
    try {
      var r = enc.encode(CharBuffer.wrap(chars), buf, true);
      if (r.isError()) {
        throw new IllegalArgumentException("text is not valid Unicode (unpaired surrogate)");
      }
      enc.flush(buf);
      return Arrays.copyOf(buf.array(), buf.position());
    } finally {
      Arrays.fill(buf.array(), (byte) 0);
    }
  }

  /**
   * Decodes UTF-8 bytes to chars; the caller MUST wipe the result.
   *
   * @throws CharacterCodingException if {@code bytes} is not valid UTF-8
   */
  public static char[] fromUtf8(byte[] bytes, int off, int len) throws CharacterCodingException {
    CharsetDecoder dec =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    CharBuffer buf = CharBuffer.allocate(len);
    try {
      var r = dec.decode(ByteBuffer.wrap(bytes, off, len), buf, true);
      if (r.isError()) {
        r.throwException();
      }
      dec.flush(buf);
      return Arrays.copyOf(buf.array(), buf.position());
    } finally {
      Arrays.fill(buf.array(), '\0');
    }
  }

  /** Overwrites each array with zeros; null arrays are skipped. */
  public static void wipe(byte[]... arrays) {
    for (byte[] a : arrays) {
      if (a != null) {
        Arrays.fill(a, (byte) 0);
      }
    }
  }

  /** Overwrites each array with NULs; null arrays are skipped. */
  public static void wipe(char[]... arrays) {
    for (char[] a : arrays) {
      if (a != null) {
        Arrays.fill(a, '\0');
      }
    }
  }
}

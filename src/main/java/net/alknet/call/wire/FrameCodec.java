package net.alknet.call.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Call-protocol framing (CALL-1): a 4-byte unsigned big-endian length N, then N bytes. N = 0 or N
 * &gt; the maximum frame size is a protocol error. Blocking; one reader per stream.
 */
public final class FrameCodec {

  /** Default maximum frame size: 1 MiB. */
  public static final int DEFAULT_MAX_FRAME = 1 << 20;

  private FrameCodec() {}

  /**
   * Reads one frame.
   *
   * @return the frame body, or {@code null} if the stream ended cleanly before a new frame
   * @throws WireException with {@link ErrorCodes#BAD_FRAME} for a zero length or a stream that ends
   *     inside a frame, {@link ErrorCodes#FRAME_TOO_LARGE} for a length over {@code maxFrame} (the
   *     body is not read, so nothing is allocated for it)
   */
  public static byte[] read(InputStream in, int maxFrame) throws IOException {
    byte[] header = new byte[4];
    int got = readFully(in, header);
    if (got == 0) {
      return null;
    }
    if (got < 4) {
      throw new WireException(ErrorCodes.BAD_FRAME, "stream ended inside a frame header");
    }
    long length =
        ((header[0] & 0xffL) << 24)
            | ((header[1] & 0xffL) << 16)
            | ((header[2] & 0xffL) << 8)
            | (header[3] & 0xffL);
    if (length == 0) {
      throw new WireException(ErrorCodes.BAD_FRAME, "zero-length frame");
    }
    if (length > maxFrame) {
      throw new WireException(
          ErrorCodes.FRAME_TOO_LARGE,
          "frame of " + length + " bytes exceeds the maximum of " + maxFrame);
    }
    byte[] body = new byte[(int) length];
    if (readFully(in, body) < body.length) {
      throw new WireException(
          ErrorCodes.BAD_FRAME, "stream ended inside a frame of " + length + " bytes");
    }
    return body;
  }

  /** Writes one frame (header and body in one write call). */
  public static void write(OutputStream out, byte[] body) throws IOException {
    if (body.length == 0) {
      throw new IllegalArgumentException("empty frame");
    }
    byte[] frame = new byte[4 + body.length];
    frame[0] = (byte) (body.length >>> 24);
    frame[1] = (byte) (body.length >>> 16);
    frame[2] = (byte) (body.length >>> 8);
    frame[3] = (byte) body.length;
    System.arraycopy(body, 0, frame, 4, body.length);
    out.write(frame);
    out.flush();
  }

  private static int readFully(InputStream in, byte[] b) throws IOException {
    int off = 0;
    while (off < b.length) {
      int n;
      try {
        n = in.read(b, off, b.length - off);
      } catch (EOFException e) {
        n = -1;
      }
      if (n < 0) {
        return off;
      }
      off += n;
    }
    return off;
  }
}

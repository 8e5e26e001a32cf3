package net.alknet.call.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** CALL-1/CALL-2 on byte arrays: framing and envelopes, good and hostile. */
class WireCodecTest {

  private static byte[] frame(byte[] body) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    FrameCodec.write(out, body);
    return out.toByteArray();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Delivers one byte per read: every frame arrives fragmented. */
  private static InputStream trickle(byte[] data) {
    return new InputStream() {
      int pos;

      @Override
      public int read() {
        return pos < data.length ? data[pos++] & 0xff : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (pos >= data.length) {
          return -1;
        }
        b[off] = data[pos++];
        return 1;
      }
    };
  }

  @Test
  void framesRoundTripEvenWhenFragmented() throws IOException {
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    stream.write(frame(utf8("{\"type\":\"ping\",\"id\":\"1\"}")));
    stream.write(frame(utf8("{\"type\":\"pong\",\"id\":\"1\"}")));
    InputStream in = trickle(stream.toByteArray());
    assertEquals("ping", EnvelopeCodec.decode(FrameCodec.read(in, 1024)).type());
    assertEquals("pong", EnvelopeCodec.decode(FrameCodec.read(in, 1024)).type());
    assertNull(FrameCodec.read(in, 1024), "clean end of stream between frames");
  }

  @Test
  void headerIsBigEndianLength() throws IOException {
    byte[] f = frame(new byte[0x0102 + 1]);
    assertArrayEquals(new byte[] {0, 0, 0x01, 0x03}, java.util.Arrays.copyOf(f, 4));
  }

  @Test
  void zeroLengthIsBadFrame() {
    var e =
        assertThrows(
            WireException.class,
            () -> FrameCodec.read(new ByteArrayInputStream(new byte[] {0, 0, 0, 0}), 1024));
    assertEquals(ErrorCodes.BAD_FRAME, e.code());
  }

  @Test
  void oversizedFrameIsRejectedBeforeAllocating() {
    // Claims 4 GiB - 1: must fail on the header alone.
    byte[] header = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    var e =
        assertThrows(
            WireException.class,
            () -> FrameCodec.read(new ByteArrayInputStream(header), FrameCodec.DEFAULT_MAX_FRAME));
    assertEquals(ErrorCodes.FRAME_TOO_LARGE, e.code());
    assertTrue(e.getMessage().contains("4294967295"), e.getMessage());
  }

  @Test
  void truncatedHeaderAndBodyAreBadFrames() {
    var h =
        assertThrows(
            WireException.class,
            () -> FrameCodec.read(new ByteArrayInputStream(new byte[] {0, 0}), 64));
    assertEquals(ErrorCodes.BAD_FRAME, h.code());
    var b =
        assertThrows(
            WireException.class,
            () -> FrameCodec.read(new ByteArrayInputStream(new byte[] {0, 0, 0, 10, '{'}), 64));
    assertEquals(ErrorCodes.BAD_FRAME, b.code());
  }

  @Test
  void envelopesRoundTrip() throws IOException {
    var input = JsonNodeFactory.instance.objectNode().put("text", "héllo ✓");
    Envelope req = Envelope.requested("7", "demo/echo", input, "3", 1500L, Map.of("trace", "abc"));
    Envelope back = EnvelopeCodec.decode(EnvelopeCodec.encode(req));
    assertEquals(req, back);
    Envelope err = Envelope.error("7", CallError.of(ErrorCodes.NOT_FOUND, "no such operation"));
    assertEquals(err, EnvelopeCodec.decode(EnvelopeCodec.encode(err)));
    Envelope responded = Envelope.responded("7", null);
    assertTrue(
        new String(EnvelopeCodec.encode(responded), StandardCharsets.UTF_8)
            .contains("\"output\":null"));
  }

  @Test
  void unknownFieldsAreIgnored() throws IOException {
    Envelope e =
        EnvelopeCodec.decode(
            utf8("{\"type\":\"ping\",\"id\":\"1\",\"future\":{\"x\":[1,2]},\"v2\":true}"));
    assertEquals(Envelope.ping("1"), e);
  }

  private static void assertBad(String json, String messagePart) {
    var e = assertThrows(WireException.class, () -> EnvelopeCodec.decode(utf8(json)));
    assertEquals(ErrorCodes.BAD_FRAME, e.code());
    assertTrue(e.getMessage().contains(messagePart), e.getMessage());
  }

  @Test
  void malformedEnvelopesAreBadFramesWithAReason() {
    assertBad("[1,2,3]", "not a JSON object");
    assertBad("\"ping\"", "not a JSON object");
    assertBad("{\"type\":\"ping\"", "not valid JSON");
    assertBad("{}", "missing \"type\"");
    assertBad("{\"type\":42}", "\"type\" must be a string");
    assertBad("{\"type\":\"call.requested\",\"op\":\"demo/echo\"}", "needs \"id\"");
    assertBad("{\"type\":\"call.requested\",\"id\":\"1\"}", "needs \"op\"");
    assertBad("{\"type\":\"call.requested\",\"id\":\"1\",\"op\":\"../etc\"}", "namespace/name");
    assertBad("{\"type\":\"call.error\",\"id\":\"1\"}", "\"error\" object");
    assertBad(
        "{\"type\":\"call.error\",\"id\":\"1\",\"error\":{\"message\":\"x\"}}", "missing \"code\"");
    assertBad("{\"type\":\"teleport\",\"id\":\"1\"}", "unknown envelope type");
    assertBad("{\"type\":\"ping\",\"id\":\"1\",\"id\":\"2\"}", "not valid JSON");
    assertBad("{\"type\":\"ping\",\"id\":\"\"}", "\"id\" must be");
    assertBad("{\"type\":\"ping\",\"id\":\"" + "x".repeat(129) + "\"}", "\"id\" must be");
    assertBad(
        "{\"type\":\"call.requested\",\"id\":\"1\",\"op\":\"a/b\",\"deadlineMs\":-5}",
        "deadlineMs");
    assertBad(
        "{\"type\":\"call.requested\",\"id\":\"1\",\"op\":\"a/b\",\"deadlineMs\":1.5}",
        "deadlineMs");
    assertBad("{\"type\":\"ping\",\"id\":\"1\",\"meta\":{\"a\":1}}", "meta.a");
  }

  @Test
  void invalidUtf8IsBadFrame() {
    byte[] bytes = utf8("{\"type\":\"ping\",\"id\":\"1\"}");
    bytes[bytes.length - 3] = (byte) 0xc3; // a lead byte without its continuation
    var e = assertThrows(WireException.class, () -> EnvelopeCodec.decode(bytes));
    assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
  }

  @Test
  void deepNestingIsRejected() {
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    assertBad(
        "{\"type\":\"call.requested\",\"id\":\"1\",\"op\":\"a/b\",\"input\":" + deep + "}",
        "not valid JSON");
  }
}

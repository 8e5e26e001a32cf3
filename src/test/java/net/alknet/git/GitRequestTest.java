package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.alknet.git.GitRequest.Service;
import org.junit.jupiter.api.Test;

/** The first message of an {@code alknet/git} stream, decoded from bytes (no sockets). */
class GitRequestTest {

  static byte[] pkt(String body) {
    return PktLine.of(body.getBytes(StandardCharsets.ISO_8859_1));
  }

  static GitRequest read(byte[] bytes) throws Exception {
    return GitRequest.read(new ByteArrayInputStream(bytes));
  }

  static String refused(byte[] bytes) {
    GitRequestException e = assertThrows(GitRequestException.class, () -> read(bytes));
    assertEquals(GitRequestException.Kind.BAD_REQUEST, e.kind());
    return e.getMessage();
  }

  @Test
  void decodesWhatGitDaemonReceives() throws Exception {
    GitRequest r = read(pkt("git-upload-pack /team/app.git\0host=node:4433\0\0version=2\0"));
    assertEquals(Service.UPLOAD_PACK, r.service());
    assertEquals("/team/app.git", r.path());
    assertEquals(Optional.of("node:4433"), r.host());
    assertEquals(List.of("version=2"), r.parameters());
    assertTrue(r.wantsV2());
  }

  @Test
  void decodesTheMinimalFormsGitSends() throws Exception {
    // ext:: with %G and no %V: no host field; older clients: no extra parameters.
    GitRequest r = read(pkt("git-receive-pack /x\0"));
    assertEquals(Service.RECEIVE_PACK, r.service());
    assertEquals("/x", r.path());
    assertEquals(Optional.empty(), r.host());
    assertFalse(r.wantsV2());
    // git daemon also tolerates a request without any NUL, ended by LF.
    assertEquals("/y", read(pkt("git-upload-pack /y\n")).path());
    // Extra parameters without a host.
    assertTrue(read(pkt("git-upload-pack /z\0\0version=2\0")).wantsV2());
  }

  @Test
  void encodeIsTheInverseOfRead() throws Exception {
    GitRequest r =
        new GitRequest(Service.UPLOAD_PACK, "/a/b", Optional.of("h"), List.of("version=2"));
    byte[] wire = r.encode();
    assertEquals(r, read(wire));
    assertArrayEquals(pkt("git-upload-pack /a/b\0host=h\0\0version=2\0"), wire);
    GitRequest bare = new GitRequest(Service.RECEIVE_PACK, "/c", Optional.empty(), List.of());
    assertEquals(bare, read(bare.encode()));
  }

  @Test
  void readsExactlyTheFirstMessageAndLeavesTheRestForTheService() throws Exception {
    byte[] first = pkt("git-upload-pack /r\0");
    byte[] next = "0000".getBytes(StandardCharsets.US_ASCII);
    byte[] both = Arrays.copyOf(first, first.length + next.length);
    System.arraycopy(next, 0, both, first.length, next.length);
    InputStream in = new ByteArrayInputStream(both);
    GitRequest.read(in);
    assertArrayEquals(next, in.readAllBytes());
  }

  @Test
  void emptyAndTruncatedInputAreClearErrors() {
    assertTrue(refused(new byte[0]).contains("stream ended before the first message"));
    assertTrue(refused("00".getBytes(StandardCharsets.US_ASCII)).contains("truncated"));
    byte[] whole = pkt("git-upload-pack /r\0");
    assertTrue(refused(Arrays.copyOf(whole, whole.length - 3)).contains("truncated"));
  }

  @Test
  void malformedLengthsAreRefused() {
    assertTrue(refused(bytes("GET / HTTP/1.1\r\n")).contains("not a git pkt-line"));
    assertTrue(refused(bytes("0000")).contains("flush packet"));
    assertTrue(refused(bytes("0001")).contains("length 1"));
    assertTrue(refused(bytes("0004")).contains("length 4"));
    assertTrue(refused(bytes("-001xxxx")).contains("not a git pkt-line"));
    byte[] nonAscii = {(byte) 0xff, '0', '1', '0'};
    assertTrue(refused(nonAscii).contains("not a git pkt-line"));
  }

  @Test
  void oversizedMessagesAreRefusedBeforeReadingThem() {
    // Claims 65535 bytes but sends none: refused from the header alone, nothing allocated.
    String m = refused(bytes("ffff"));
    assertTrue(m.contains("too long (65535 bytes, limit 1024)"), m);
    String body = "git-upload-pack /" + "a".repeat(GitRequest.MAX_LENGTH);
    assertTrue(refused(pkt(body)).contains("too long"));
  }

  @Test
  void hostileContentIsRefused() {
    assertTrue(refused(pkt("git-upload-archive /r\0")).contains("unsupported service"));
    assertTrue(refused(pkt("rm -rf /\0")).contains("unsupported service"));
    assertTrue(refused(pkt("git-upload-pack\0")).contains("expected '<service> <repository>'"));
    assertTrue(refused(pkt("git-upload-pack /r\u0001x\0")).contains("control character"));
    assertTrue(refused(pkt("git-upload-pack /r\nmore\0")).contains("control character"));
    assertTrue(refused(pkt("git-upload-pack /r\0host=a\0\0v\u001b\0")).contains("control"));
    assertTrue(refused(pkt("git-upload-pack /r\u00e9\0")).contains("not ASCII"));
    assertTrue(refused(pkt("git-upload-pack /r\0host=a")).contains("must end with NUL"));
    assertTrue(refused(pkt("git-upload-pack /r\0evil=1\0")).contains("unexpected field"));
    StringBuilder many = new StringBuilder("git-upload-pack /r\0\0");
    for (int i = 0; i < GitRequest.MAX_PARAMS + 1; i++) {
      many.append("p").append(i).append('\0');
    }
    assertTrue(refused(pkt(many.toString())).contains("too many parameters"));
  }

  @Test
  void errorPacketIsAPktLineGitReportsAsRemoteError() {
    byte[] e = PktLine.error("access denied\u0000\u001b[31m");
    String s = new String(e, StandardCharsets.UTF_8);
    assertEquals(String.format("%04x", e.length), s.substring(0, 4));
    assertEquals("ERR access denied??[31m\n", s.substring(4));
    assertTrue(PktLine.error("x".repeat(100_000)).length < 600);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}

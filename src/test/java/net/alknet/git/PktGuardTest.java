package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.eclipse.jgit.transport.ServiceMayNotContinueException;
import org.junit.jupiter.api.Test;

/** The pkt-line guard on byte buffers: what passes unchanged, what is refused. */
class PktGuardTest {

  static byte[] pkt(String s) {
    return PktLine.of(s.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  static byte[] packHeader(long count) {
    return new byte[] {
      'P',
      'A',
      'C',
      'K',
      0,
      0,
      0,
      2,
      (byte) (count >>> 24),
      (byte) (count >>> 16),
      (byte) (count >>> 8),
      (byte) count
    };
  }

  /** Reads everything in pieces of varying size, single bytes among them. */
  static byte[] drain(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Random sizes = new Random(3);
    byte[] buf = new byte[97];
    while (true) {
      if (sizes.nextInt(4) == 0) {
        int c = in.read();
        if (c < 0) {
          return out.toByteArray();
        }
        out.write(c);
      } else {
        int n = in.read(buf, 0, 1 + sizes.nextInt(buf.length));
        if (n < 0) {
          return out.toByteArray();
        }
        out.write(buf, 0, n);
      }
    }
  }

  static String id(Random random) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      b.append(Character.forDigit(random.nextInt(16), 16));
    }
    return b.toString();
  }

  @Test
  void aPushPassesUnchangedUpToAndThroughThePack() throws Exception {
    byte[] tail = new byte[5000];
    new Random(1).nextBytes(tail);
    byte[] push =
        concat(
            pkt(
                "0000000000000000000000000000000000000000 "
                    + "1".repeat(40)
                    + " refs/heads/a\0"
                    + " report-status push-options\n"),
            pkt(""),
            "0000".getBytes(),
            pkt("ci.skip"), // push options
            "0000".getBytes(),
            packHeader(3),
            tail);
    assertArrayEquals(push, drain(PktGuard.push(new ByteArrayInputStream(push), 3)));
  }

  @Test
  void aPackDeclaringMoreObjectsThanAllowedIsRefusedAtItsHeader() {
    byte[] push =
        concat(
            pkt("0".repeat(40) + " " + "1".repeat(40) + " refs/heads/a\0 report-status\n"),
            "0000".getBytes(),
            packHeader(100_000_000L));
    IOException e =
        assertThrows(
            IOException.class,
            () -> drain(PktGuard.push(new ByteArrayInputStream(push), 10_000_000)));
    assertTrue(e.getMessage().contains("pack of 100000000 objects refused"), e.getMessage());
    assertTrue(e.getMessage().contains("alknet.git.max-pack-objects"), e.getMessage());
    // The largest count there is, too (JGit's array size would go negative).
    byte[] max = concat("0000".getBytes(), packHeader(0xffffffffL));
    assertThrows(IOException.class, () -> drain(PktGuard.push(new ByteArrayInputStream(max), 5)));
  }

  @Test
  void truncatedOrUnframedInputPassesForJGitToReport() throws Exception {
    for (byte[] in :
        new byte[][] {
          concat("0000".getBytes(), "PACK".getBytes(), new byte[] {0, 0}), // header cut short
          "zzzz then anything".getBytes(StandardCharsets.US_ASCII), // not a length
          "00".getBytes(StandardCharsets.US_ASCII), // a length cut short
          concat(pkt("abc"), "0fff".getBytes(), "short".getBytes()), // a payload cut short
          new byte[0]
        }) {
      assertArrayEquals(in, drain(PktGuard.push(new ByteArrayInputStream(in), 1)));
      assertArrayEquals(in, drain(PktGuard.fetch(new ByteArrayInputStream(in))));
    }
  }

  @Test
  void manyRealWantsPassButWantsWithOneHashCodeAreRefused() throws Exception {
    Random random = new Random(2);
    ByteArrayOutputStream v0 = new ByteArrayOutputStream();
    v0.writeBytes(pkt("want " + id(random) + " multi_ack_detailed side-band-64k ofs-delta\n"));
    for (int i = 0; i < 20_000; i++) {
      v0.writeBytes(pkt("want " + id(random) + "\n"));
    }
    v0.writeBytes("0000".getBytes());
    v0.writeBytes(pkt("have " + id(random) + "\n"));
    v0.writeBytes(pkt("done\n"));
    byte[] request = v0.toByteArray();
    assertArrayEquals(request, drain(PktGuard.fetch(new ByteArrayInputStream(request))));

    // Protocol v2: command, delimiter, arguments. Ids sharing bytes 4..7 (hex digits 8..15).
    ByteArrayOutputStream v2 = new ByteArrayOutputStream();
    v2.writeBytes(pkt("command=fetch\n"));
    v2.writeBytes("0001".getBytes());
    for (int i = 0; i <= PktGuard.MAX_SAME_HASH; i++) {
      String id = id(random);
      v2.writeBytes(pkt("want " + id.substring(0, 8) + "deadbeef" + id.substring(16) + "\n"));
    }
    v2.writeBytes("0000".getBytes());
    byte[] hostile = v2.toByteArray();
    ServiceMayNotContinueException e =
        assertThrows(
            ServiceMayNotContinueException.class,
            () -> drain(PktGuard.fetch(new ByteArrayInputStream(hostile))));
    assertTrue(e.getMessage().contains("collide"), e.getMessage());
    // One fewer passes: chance collisions of a few are no reason to refuse.
    byte[] fewer = java.util.Arrays.copyOf(hostile, hostile.length - 4 - 50);
    drain(PktGuard.fetch(new ByteArrayInputStream(concat(fewer, "0000".getBytes()))));
  }

  @Test
  void repeatedWantsAreNoCollision() throws Exception {
    // git sends one want per ref, so refs on one commit repeat an id (13 times for 13 tags in a
    // clone), and protocol v2 repeats every want in each negotiation round.
    Random random = new Random(4);
    String id = id(random);
    ByteArrayOutputStream v0 = new ByteArrayOutputStream();
    v0.writeBytes(pkt("want " + id + " multi_ack_detailed side-band-64k\n"));
    for (int i = 0; i < 40; i++) {
      v0.writeBytes(pkt("want " + id + "\n"));
    }
    v0.writeBytes("0000".getBytes());
    byte[] request = v0.toByteArray();
    assertArrayEquals(request, drain(PktGuard.fetch(new ByteArrayInputStream(request))));
    ByteArrayOutputStream v2 = new ByteArrayOutputStream();
    for (int round = 0; round < 20; round++) {
      v2.writeBytes(pkt("command=fetch\n"));
      v2.writeBytes("0001".getBytes());
      for (int i = 0; i < 5; i++) {
        v2.writeBytes(pkt("want " + id.substring(0, 39) + i + "\n"));
      }
      v2.writeBytes(pkt("have " + id(random) + "\n"));
      v2.writeBytes("0000".getBytes());
    }
    byte[] rounds = v2.toByteArray();
    assertArrayEquals(rounds, drain(PktGuard.fetch(new ByteArrayInputStream(rounds))));
    // The same id in upper case is the same id.
    byte[] upper =
        concat(pkt("want " + id + "\n"), pkt("want " + id.toUpperCase() + "\n"), "0000".getBytes());
    assertArrayEquals(upper, drain(PktGuard.fetch(new ByteArrayInputStream(upper))));
  }

  @Test
  void theTimeOfTheLastBytesIsKeptForThePushLogLine() throws Exception {
    byte[] push = concat("0000".getBytes(), packHeader(1), new byte[] {1, 2, 3});
    PktGuard in = PktGuard.push(new ByteArrayInputStream(push), 1);
    assertTrue(in.lastDataNanos() == 0, "nothing read yet");
    long before = System.nanoTime();
    byte[] buf = new byte[push.length];
    assertTrue(in.read(buf, 0, 4) == 4);
    long first = in.lastDataNanos();
    assertTrue(first - before >= 0, "stamped when bytes came");
    drain(in); // the pack passes through uninspected, and is stamped too
    long last = in.lastDataNanos();
    assertTrue(last - first >= 0);
    assertTrue(in.read(buf, 0, 1) == -1);
    assertTrue(in.lastDataNanos() == last, "the end of the stream is no data");
  }

  @Test
  void skipAndResetKeepTheFramingInStep() throws Exception {
    InputStream in = PktGuard.push(new ByteArrayInputStream(pkt("abc")), 1);
    assertTrue(in.skip(-1) == 0 && in.skip(0) == 0);
    assertTrue(!in.markSupported());
    in.mark(10);
    assertThrows(IOException.class, in::reset);
  }

  @Test
  void aPushIsNotCheckedForWantsNorAFetchForPacks() throws Exception {
    byte[] fetchWithPackBytes = concat(pkt("want " + "a".repeat(40) + "\n"), packHeader(999));
    // In a fetch, "PACK" is not framing: it is passed on as it came (JGit refuses it).
    assertArrayEquals(
        fetchWithPackBytes, drain(PktGuard.fetch(new ByteArrayInputStream(fetchWithPackBytes))));
  }
}

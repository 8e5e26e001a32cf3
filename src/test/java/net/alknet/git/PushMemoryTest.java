package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class PushMemoryTest {

  static final long PER = PushMemory.BYTES_PER_OBJECT;

  @Test
  void reservationsAddUpToTheLimitAndComeBackOnce() throws IOException {
    PushMemory m = new PushMemory(10 * PER);
    PushMemory.Reservation a = m.reserve(6);
    PushMemory.Reservation b = m.reserve(4); // exactly full
    assertEquals(10 * PER, m.reserved());
    IOException busy = assertThrows(IOException.class, () -> m.reserve(1));
    assertTrue(busy.getMessage().contains("pack of 1 objects refused for now"), busy.getMessage());
    assertTrue(busy.getMessage().contains("try again later"), busy.getMessage());
    a.close();
    a.close(); // a second close gives nothing back twice
    assertEquals(4 * PER, m.reserved());
    m.reserve(6).close();
    b.close();
    assertEquals(0, m.reserved());
    assertEquals(1, m.refused());
  }

  @Test
  void aPackLargerThanTheWholeLimitIsRefusedForGood() {
    PushMemory m = new PushMemory(4L << 20);
    IOException e = assertThrows(IOException.class, () -> m.reserve(1_000_000));
    assertTrue(
        e.getMessage().contains("pack of 1000000 objects refused: it needs about 123 MiB"),
        e.getMessage());
    assertTrue(e.getMessage().contains("(4 MiB, alknet.git.push-memory)"), e.getMessage());
    assertEquals(0, m.reserved());
    assertEquals("1 KiB", PushMemory.size(896));
    assertEquals("1024 KiB", PushMemory.size((1 << 20) - 1));
    assertEquals("2 MiB", PushMemory.size((1 << 20) + 1));
  }

  @Test
  void theLargestCountAPackHeaderCanHoldDoesNotOverflow() throws IOException {
    PushMemory m = new PushMemory(Long.MAX_VALUE);
    m.reserve(0xffffffffL);
    assertEquals(0xffffffffL * PER, m.reserved());
  }

  @Test
  void aLimitMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> new PushMemory(0));
    assertTrue(PushMemory.defaultLimit() > 0);
  }

  /** PktGuard reserves at the pack header, and gives back on release, once. */
  @Test
  void theGuardReservesForThePackItsHeaderDeclares() throws IOException {
    PushMemory m = new PushMemory(10 * PER);
    byte[] push = {'0', '0', '0', '0', 'P', 'A', 'C', 'K', 0, 0, 0, 2, 0, 0, 0, 7, 1, 2};
    PktGuard g = PktGuard.push(new ByteArrayInputStream(push), 1000, m);
    drain(g);
    assertEquals(7 * PER, m.reserved());
    // A second pack in flight that does not fit is refused at its header.
    PktGuard h = PktGuard.push(new ByteArrayInputStream(push), 1000, m);
    IOException e = assertThrows(IOException.class, () -> drain(h));
    assertTrue(e.getMessage().contains("refused for now"), e.getMessage());
    assertThrows(IOException.class, () -> drain(h), "a refusal stays: nothing more is read");
    assertEquals(1, m.refused(), "nor reserved again");
    h.release(); // nothing to give back
    g.release();
    g.release();
    assertEquals(0, m.reserved());
    // A push without a pack (deletes only) reserves nothing.
    PktGuard none = PktGuard.push(new ByteArrayInputStream("0000".getBytes()), 1000, m);
    drain(none);
    assertEquals(0, m.reserved());
    none.release();
  }

  private static void drain(InputStream in) throws IOException {
    byte[] buf = new byte[5];
    while (in.read(buf, 0, buf.length) >= 0) {
      // on
    }
  }
}

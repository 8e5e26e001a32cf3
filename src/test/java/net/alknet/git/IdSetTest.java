package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.Set;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.Test;

class IdSetTest {

  static ObjectId id(Random random) {
    byte[] raw = new byte[20];
    random.nextBytes(raw);
    return ObjectId.fromRaw(raw);
  }

  static Set<ObjectId> collect(IdSet set) {
    Set<ObjectId> out = new HashSet<>();
    for (ObjectId id : set) {
      assertTrue(out.add(id), "iterated twice: " + id.name());
    }
    return out;
  }

  @Test
  void holdsWhatWasAddedThroughGrowthAndNothingElse() {
    Random random = new Random(7);
    IdSet set = new IdSet(16);
    Set<ObjectId> expected = new HashSet<>();
    for (int i = 0; i < 50_000; i++) {
      ObjectId id = id(random);
      assertEquals(expected.add(id), set.add(id));
      if (i % 3 == 0) {
        assertFalse(set.add(id), "a second add of the same id");
      }
    }
    assertEquals(expected.size(), set.size());
    for (ObjectId id : expected) {
      assertTrue(set.contains(id), id.name());
    }
    for (int i = 0; i < 10_000; i++) {
      assertFalse(set.contains(id(random)));
    }
    assertEquals(expected, collect(set));
  }

  @Test
  void rawBytesAtAnOffsetAreTheSameId() {
    ObjectId id = ObjectId.fromString("0123456789abcdef0123456789abcdef01234567");
    byte[] entry = new byte[30];
    id.copyRawTo(entry, 7);
    IdSet set = new IdSet();
    assertTrue(set.addRaw(entry, 7));
    assertTrue(set.contains(id));
    assertFalse(set.add(id));
    assertEquals(Set.of(id), collect(set));
  }

  @Test
  void theZeroIdIsAnIdLikeAnyOther() {
    IdSet set = new IdSet();
    assertFalse(set.contains(ObjectId.zeroId()));
    assertTrue(set.add(ObjectId.zeroId()));
    assertFalse(set.addRaw(new byte[20], 0));
    assertTrue(set.contains(ObjectId.zeroId()));
    ObjectId other = ObjectId.fromString("00000000000000000000000000000000000000ff");
    assertFalse(set.contains(other));
    set.add(other);
    assertEquals(2, set.size());
    assertEquals(Set.of(ObjectId.zeroId(), other), collect(set));
  }

  @Test
  void idsThatShareMostOfTheirBytesStillSpreadAndAreAllKept() {
    // A tree may name any 20 bytes: here 20 000 ids equal but for their last word, which a hash of
    // the first word alone would put in one slot. (Compared by name: ObjectId's own hashCode is one
    // word, so a HashSet of these ids would be the slow one.)
    IdSet set = new IdSet();
    Set<String> expected = new HashSet<>();
    byte[] raw = new byte[20];
    for (int i = 0; i < 20_000; i++) {
      raw[16] = (byte) (i >>> 24);
      raw[17] = (byte) (i >>> 16);
      raw[18] = (byte) (i >>> 8);
      raw[19] = (byte) i;
      assertTrue(set.addRaw(raw, 0));
      expected.add(ObjectId.fromRaw(raw).name());
    }
    Set<String> names = new HashSet<>();
    set.forEach(id -> names.add(id.name()));
    assertEquals(expected, names);
    assertEquals(expected.size(), set.size());
    // Linear probing at most half full: a couple of slots an add. A hash of one word would make
    // it 10 000 on average here.
    assertTrue(set.probes() < 4L * expected.size(), "probes: " + set.probes());
  }

  @Test
  void idsThatDifferOnlyInTheTopBitsOfEachWordSpreadToo() {
    // 16 values per word in its top 4 bits: a hash that sums word products and keeps the low
    // bits puts all of these ids in 16 slots, whatever its keys.
    IdSet set = new IdSet();
    byte[] raw = new byte[20];
    int n = 0;
    for (int a = 0; a < 16; a++) {
      for (int b = 0; b < 16; b++) {
        for (int c = 0; c < 16; c++) {
          for (int d = 0; d < 16; d++) {
            for (int e = 0; e < 4; e++) {
              raw[0] = (byte) (a << 4);
              raw[4] = (byte) (b << 4);
              raw[8] = (byte) (c << 4);
              raw[12] = (byte) (d << 4);
              raw[16] = (byte) (e << 4);
              assertTrue(set.addRaw(raw, 0));
              n++;
            }
          }
        }
      }
    }
    assertEquals(n, set.size());
    assertTrue(set.probes() < 4L * n, "probes: " + set.probes() + " for " + n + " ids");
  }

  @Test
  void anEmptySetIteratesNothing() {
    Iterator<ObjectId> it = new IdSet().iterator();
    assertFalse(it.hasNext());
    assertThrows(NoSuchElementException.class, it::next);
  }
}

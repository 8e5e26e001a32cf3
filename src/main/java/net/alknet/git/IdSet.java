package net.alknet.git;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ThreadLocalRandom;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.util.NB;

/**
 * A set of object ids held in one {@code int[]}, five words an id, with open addressing: no object
 * per id, so adding an id read from a tree entry costs one probe into one array, not an allocation
 * and a pointer chase per comparison as {@link org.eclipse.jgit.lib.ObjectIdSubclassMap} does.
 *
 * <p>The ids come from a peer (tree entries name any 20 bytes they like), so the slot comes from a
 * universal hash of all five words with keys drawn per set (multiply-shift): without the keys, no
 * choice of ids makes them crowd a few slots, and a push cannot turn the probes quadratic.
 *
 * <p>Not thread-safe. Grows at half full; memory is 40 bytes an id or less.
 */
final class IdSet implements Iterable<ObjectId> {

  private static final int WORDS = 5;

  // Multiply-shift over the five words (Dietzfelbinger's 2-universal family): 64-bit random keys,
  // the slot from the sum's top bits. (A sum of 32-bit products with its low bits taken would let
  // ids that differ only in their words' top bits share a few slots, whatever the keys.)
  private final long[] keys = randomLongs(WORDS + 1);
  private int shift; // 64 - log2(slots)
  private final int[] words = new int[WORDS];
  private final int[] probe = new int[WORDS];
  private int[] table;
  private int mask;
  private int size;
  private long probes; // slots looked at by adds (tests)
  private boolean hasZero; // the all-zero id, which also marks an empty slot

  IdSet() {
    this(1024);
  }

  /**
   * @param expected how many ids are expected (the table starts with room for them)
   */
  IdSet(int expected) {
    int slots = Integer.highestOneBit(Math.max(16, expected) * 2 - 1) << 1;
    table = new int[slots * WORDS];
    mask = slots - 1;
    shift = 64 - Integer.numberOfTrailingZeros(slots);
  }

  /** Adds the id in {@code raw[p..p+20)}; true if it was not there yet. */
  boolean addRaw(byte[] raw, int p) {
    for (int i = 0; i < WORDS; i++) {
      words[i] = NB.decodeInt32(raw, p + 4 * i);
    }
    return addWords();
  }

  /** Adds an id; true if it was not there yet. */
  boolean add(AnyObjectId id) {
    id.copyRawTo(words, 0);
    return addWords();
  }

  boolean contains(AnyObjectId id) {
    int[] w = probe;
    id.copyRawTo(w, 0);
    if (isZero(w)) {
      return hasZero;
    }
    int[] t = table;
    for (int s = slot(w); ; s = (s + 1) & mask) {
      int o = s * WORDS;
      if (isEmpty(t, o)) {
        return false;
      }
      if (matches(t, o, w)) {
        return true;
      }
    }
  }

  int size() {
    return size;
  }

  /** Slots looked at by all adds so far: about one an add while ids spread (tests). */
  long probes() {
    return probes;
  }

  /** Every id, in no particular order; adding while iterating is not allowed. */
  @Override
  public Iterator<ObjectId> iterator() {
    int[] t = table;
    return new Iterator<>() {
      boolean zero = hasZero;
      int o = next(0);

      private int next(int from) {
        int i = from;
        while (i < t.length && isEmpty(t, i)) {
          i += WORDS;
        }
        return i;
      }

      @Override
      public boolean hasNext() {
        return zero || o < t.length;
      }

      @Override
      public ObjectId next() {
        if (zero) {
          zero = false;
          return ObjectId.zeroId();
        }
        if (o >= t.length) {
          throw new NoSuchElementException();
        }
        ObjectId id = ObjectId.fromRaw(t, o);
        o = next(o + WORDS);
        return id;
      }
    };
  }

  private boolean addWords() {
    int[] w = words;
    if (isZero(w)) {
      boolean added = !hasZero;
      hasZero = true;
      size += added ? 1 : 0;
      return added;
    }
    int[] t = table;
    int s = slot(w);
    while (true) {
      probes++;
      int o = s * WORDS;
      if (isEmpty(t, o)) {
        System.arraycopy(w, 0, t, o, WORDS);
        if (++size > (mask + 1) / 2) {
          grow();
        }
        return true;
      }
      if (matches(t, o, w)) {
        return false;
      }
      s = (s + 1) & mask;
    }
  }

  private void grow() {
    int[] old = table;
    int slots = (mask + 1) * 2;
    table = new int[slots * WORDS];
    mask = slots - 1;
    shift = 64 - Integer.numberOfTrailingZeros(slots);
    int[] w = new int[WORDS];
    for (int o = 0; o < old.length; o += WORDS) {
      if (!isEmpty(old, o)) {
        System.arraycopy(old, o, w, 0, WORDS);
        int s = slot(w);
        while (!isEmpty(table, s * WORDS)) {
          s = (s + 1) & mask;
        }
        System.arraycopy(w, 0, table, s * WORDS, WORDS);
      }
    }
  }

  private int slot(int[] w) {
    long[] k = keys;
    long h =
        k[5]
            + k[0] * (w[0] & 0xffffffffL)
            + k[1] * (w[1] & 0xffffffffL)
            + k[2] * (w[2] & 0xffffffffL)
            + k[3] * (w[3] & 0xffffffffL)
            + k[4] * (w[4] & 0xffffffffL);
    // The sum's top bits are universal, but for ids in arithmetic progression (ids that differ in
    // one word by a counter) they fall in runs that linear probing pays for; a fixed bijection
    // (MurmurHash3's 64-bit finalizer) breaks the runs and keeps distinct sums distinct.
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return (int) (h >>> shift);
  }

  private static long[] randomLongs(int n) {
    long[] k = new long[n];
    for (int i = 0; i < n; i++) {
      k[i] = ThreadLocalRandom.current().nextLong();
    }
    return k;
  }

  private static boolean isZero(int[] w) {
    return (w[0] | w[1] | w[2] | w[3] | w[4]) == 0;
  }

  private static boolean isEmpty(int[] t, int o) {
    return (t[o] | t[o + 1] | t[o + 2] | t[o + 3] | t[o + 4]) == 0;
  }

  private static boolean matches(int[] t, int o, int[] w) {
    return t[o] == w[0]
        && t[o + 1] == w[1]
        && t[o + 2] == w[2]
        && t[o + 3] == w[3]
        && t[o + 4] == w[4];
  }
}

package net.alknet.git;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.jgit.transport.ServiceMayNotContinueException;

/**
 * Checks the pkt-lines a client sends before JGit reads them, for what JGit would trust: a pushed
 * pack's declared object count, and fetch requests whose {@code want} ids collide in Java's hash
 * tables. Everything passes through unchanged; a refusal is an {@link IOException} JGit reports to
 * the client ({@code unpack error …} for a push, {@code ERR …} for a fetch).
 *
 * <ul>
 *   <li><b>Pack header.</b> JGit's pack parser allocates an array for the number of objects the
 *       12-byte pack header declares before any object arrives: a push of {@code PACK 0002 <count>}
 *       and then silence held about 390 MiB of heap for a count of 100 million. The header's count
 *       must not exceed the limit for one push, and must fit in what {@link PushMemory} leaves to
 *       all pushes together.
 *   <li><b>Colliding wants.</b> JGit keeps the ids of {@code want} lines in a {@code HashSet}; an
 *       object id's {@code hashCode} is 4 of its 20 bytes, and ids are not {@code Comparable} to
 *       the set, so ids crafted to share those bytes make each insert scan all before it (40 000
 *       such wants, 1.9 MiB, cost 80–100 s of CPU). Real ids share them by chance only (expected
 *       well under one pair among a million). More than {@link #MAX_SAME_HASH} wants with one hash
 *       code end the request.
 * </ul>
 *
 * <p>The pkt-line framing is followed until the pack starts ({@code PACK} where a length is
 * expected); from there bytes pass through uninspected. Lines are not buffered: memory is one
 * header and, for the want check, one counter per distinct hash code seen. Not thread-safe.
 */
final class PktGuard extends FilterInputStream {

  /** Wants that may share one id hash code before the request is refused. */
  static final int MAX_SAME_HASH = 8;

  private static final byte[] WANT = "want ".getBytes(StandardCharsets.US_ASCII);

  private final long maxPackObjects; // 0: no pack expected (fetch)
  private final PushMemory memory;
  private PushMemory.Reservation reservation; // the pack's, once its header came
  private final boolean checkWants;
  private final Map<Integer, Integer> wantHashes = new HashMap<>();
  private final IdSet wanted = new IdSet(); // distinct ids: git repeats wants (refs on one commit,
  // every protocol v2 negotiation round), and a repeat is no collision
  private final byte[] wantId = new byte[20];

  private final byte[] header = new byte[12];
  private int headerLen; // bytes of the current unit's header read so far
  private long payloadLeft; // bytes of the current pkt-line's payload still to pass
  private final byte[] want = new byte[WANT.length + 40];
  private int wantLen; // bytes of the current payload captured for the want check
  private boolean inPayload;
  private boolean passThrough;
  private long lastDataNanos; // System.nanoTime() of the last read that returned bytes
  private IOException refusal; // once refused, every later read fails the same way
  private volatile long readingSince; // System.nanoTime() as the read in progress began; 0: none

  private PktGuard(InputStream in, long maxPackObjects, PushMemory memory, boolean checkWants) {
    super(in);
    this.maxPackObjects = maxPackObjects;
    this.memory = memory;
    this.checkWants = checkWants;
  }

  /**
   * For receive-pack: refuses a pack that declares more than {@code maxObjects} objects, or whose
   * objects {@code memory} has no room for; the room taken is held until {@link #release()}.
   */
  static PktGuard push(InputStream in, long maxObjects, PushMemory memory) {
    return new PktGuard(in, maxObjects, memory, false);
  }

  /** As {@link #push(InputStream, long, PushMemory)}, with no bound on memory. */
  static PktGuard push(InputStream in, long maxObjects) {
    return push(in, maxObjects, new PushMemory(Long.MAX_VALUE));
  }

  /** For upload-pack: refuses wants whose ids collide in hash tables. */
  static InputStream fetch(InputStream in) {
    return new PktGuard(in, 0, null, true);
  }

  /** Gives back the memory the pack's header reserved, if any; for when the push has ended. */
  void release() {
    if (reservation != null) {
      reservation.close();
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  /**
   * When the last bytes arrived ({@link System#nanoTime()}; 0: none yet). For a push, once JGit has
   * parsed the pack, this is when its last byte came in: the log line splits a push's time there
   * between receiving and indexing.
   */
  long lastDataNanos() {
    return lastDataNanos;
  }

  /** How long the read in progress has been blocked at {@code now}; 0 with none in progress. */
  long blockedNanos(long now) {
    long since = readingSince;
    return since == 0 ? 0 : now - since;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (refusal != null) {
      throw new IOException(refusal.getMessage(), refusal); // and nothing more is inspected
    }
    int n;
    readingSince = System.nanoTime() | 1; // never 0, which means no read in progress
    try {
      n = in.read(b, off, len);
    } finally {
      readingSince = 0;
    }
    if (n > 0) {
      lastDataNanos = System.nanoTime();
    }
    if (passThrough) {
      return n;
    }
    try {
      for (int i = 0; i < n && !passThrough; i++) {
        inspect(b[off + i]);
      }
    } catch (IOException e) {
      refusal = e;
      throw e;
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    if (n <= 0) {
      return 0;
    }
    // Through read, so that nothing escapes inspection.
    byte[] buf = new byte[(int) Math.min(n, 8192)];
    int r = read(buf, 0, buf.length);
    return Math.max(r, 0);
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int readlimit) {
    // not supported: a reset would put the framing out of step
  }

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark/reset not supported");
  }

  private void inspect(byte c) throws IOException {
    if (inPayload) {
      if (checkWants && wantLen < want.length) {
        want[wantLen++] = c;
      }
      if (--payloadLeft == 0) {
        inPayload = false;
        endOfLine();
      }
      return;
    }
    header[headerLen++] = c;
    if (headerLen == 4 && isPack()) {
      return; // the pack's header: 8 more bytes
    }
    if (headerLen == 12) {
      checkPackHeader();
      passThrough = true;
      return;
    }
    if (headerLen == 4) {
      int length = pktLength();
      headerLen = 0;
      if (length < 0) {
        passThrough = true; // not pkt-line framing: JGit reports what is wrong
      } else if (length > 4) {
        payloadLeft = length - 4;
        inPayload = true;
        wantLen = 0;
      }
      // 0000 flush, 0001 delimiter, 0002 response end, 0004 empty: no payload
    }
  }

  private boolean isPack() {
    return maxPackObjects > 0
        && header[0] == 'P'
        && header[1] == 'A'
        && header[2] == 'C'
        && header[3] == 'K';
  }

  private void checkPackHeader() throws IOException {
    long count =
        ((header[8] & 0xffL) << 24)
            | ((header[9] & 0xffL) << 16)
            | ((header[10] & 0xffL) << 8)
            | (header[11] & 0xffL);
    if (count > maxPackObjects) {
      throw new IOException(
          "pack of "
              + count
              + " objects refused (at most "
              + maxPackObjects
              + ": alknet.git.max-pack-objects)");
    }
    reservation = memory.reserve(count);
  }

  /** An ASCII hex digit's value (either case, as git and JGit accept); -1 for anything else. */
  private static int hex(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** The 4 hex digits as a length; -1 if they are not hex. */
  private int pktLength() {
    int v = 0;
    for (int i = 0; i < 4; i++) {
      int d = hex(header[i]);
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  private void endOfLine() throws IOException {
    if (!checkWants || wantLen < want.length) {
      return;
    }
    for (int i = 0; i < WANT.length; i++) {
      if (want[i] != WANT[i]) {
        return;
      }
    }
    for (int i = 0; i < 20; i++) {
      int hi = hex(want[WANT.length + 2 * i]);
      int lo = hex(want[WANT.length + 2 * i + 1]);
      if (hi < 0 || lo < 0) {
        return; // not an id: JGit refuses the line itself
      }
      wantId[i] = (byte) (hi << 4 | lo);
    }
    if (!wanted.addRaw(wantId, 0)) {
      return; // wanted before
    }
    // AnyObjectId.hashCode(): the id's second 32-bit word, bytes 4..7.
    int hash =
        (wantId[4] & 0xff) << 24
            | (wantId[5] & 0xff) << 16
            | (wantId[6] & 0xff) << 8
            | (wantId[7] & 0xff);
    int seen = wantHashes.merge(hash, 1, Integer::sum);
    if (seen > MAX_SAME_HASH) {
      throw new ServiceMayNotContinueException(
          "too many wanted objects whose ids collide (" + seen + " share one hash code); refused");
    }
  }
}

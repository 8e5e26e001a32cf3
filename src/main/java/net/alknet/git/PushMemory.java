package net.alknet.git;

import java.io.IOException;

/**
 * The heap the node lets the pushes in progress hold for their objects, all of them together
 * ({@code alknet.git.push-memory}; EP-5). JGit's pack parser allocates for the object count a pack
 * declares as soon as its 12-byte header arrives, and then keeps an entry for every object until
 * the push ends, as does the push's connectivity check ({@link PushConnectivity}). {@code
 * alknet.git.max-pack-objects} bounds one push; without a bound on all of them together, pushes
 * that send only a header and then stall (each held until {@code alknet.git.io-timeout}) could fill
 * the heap.
 *
 * <p>A push reserves {@link #BYTES_PER_OBJECT} per declared object when its pack header arrives
 * ({@link PktGuard}), and gives it back when it ends. A reservation that would go past the limit is
 * refused with a clear reason, which JGit sends the client as {@code unpack error …}: for now,
 * while other pushes hold the memory, or for good, when the pack alone needs more than the whole
 * limit. Thread-safe.
 */
final class PushMemory {

  /**
   * Heap per object of a pack being received: JGit's entry ({@code PackedObjectInfo}, ~64 bytes),
   * its slot in the parser's array and object map, a pending delta's record, and the connectivity
   * check's entry for what the object names. An estimate, on the high side.
   */
  static final long BYTES_PER_OBJECT = 128;

  /** Meters: {@code .reserved} (gauge, bytes) and {@code .refused} (counter). */
  static final String METER = "alknet.git.push.memory";

  private final long limit;
  private long reserved; // guarded by this
  private long refused; // guarded by this

  /**
   * @param limitBytes the most all pushes in progress may hold together; positive
   */
  PushMemory(long limitBytes) {
    if (limitBytes <= 0) {
      throw new IllegalArgumentException("alknet.git.push-memory must be positive");
    }
    this.limit = limitBytes;
  }

  /** The default limit: a quarter of the JVM's maximum heap. */
  static long defaultLimit() {
    return Runtime.getRuntime().maxMemory() / 4;
  }

  /**
   * Reserves memory for a pack of {@code objects} objects.
   *
   * @return the reservation, to be {@linkplain Reservation#close() closed} when the push ends
   * @throws IOException with the reason for the client when the limit does not allow it
   */
  synchronized Reservation reserve(long objects) throws IOException {
    long bytes = objects * BYTES_PER_OBJECT; // objects < 2^32: no overflow
    if (bytes > limit) {
      refused++;
      throw new IOException(
          String.format(
              "pack of %d objects refused: it needs about %s of the node's memory for pushes,"
                  + " more than all of it (%s, alknet.git.push-memory)",
              objects, size(bytes), size(limit)));
    }
    if (bytes > limit - reserved) {
      refused++;
      throw new IOException(
          String.format(
              "pack of %d objects refused for now: pushes in progress hold %s of the %s the"
                  + " node keeps for pushes (alknet.git.push-memory); try again later",
              objects, size(reserved), size(limit)));
    }
    reserved += bytes;
    return new Reservation(bytes);
  }

  /** Bytes reserved by the pushes in progress. */
  synchronized long reserved() {
    return reserved;
  }

  /** Reservations refused since the node started. */
  synchronized long refused() {
    return refused;
  }

  long limit() {
    return limit;
  }

  /** {@code bytes} rounded up to KiB under a MiB, else to MiB: "896 KiB", "123 MiB". */
  static String size(long bytes) {
    if (bytes < 1 << 20) {
      return ((bytes + 1023) >> 10) + " KiB";
    }
    return ((bytes + (1 << 20) - 1) >> 20) + " MiB";
  }

  /** One push's share; closing it more than once gives it back once. */
  final class Reservation implements AutoCloseable {
    private long bytes;

    private Reservation(long bytes) {
      this.bytes = bytes;
    }

    @Override
    public void close() {
      synchronized (PushMemory.this) {
        reserved -= bytes;
        bytes = 0;
      }
    }
  }
}

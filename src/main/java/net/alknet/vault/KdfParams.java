package net.alknet.vault;

/**
 * scrypt parameters of a vault file, stored in its header: cost {@code N = 2^logN}, block size
 * {@code r}, parallelism {@code p}. scrypt needs about {@code 128 · r · N} bytes of memory, so a
 * file is refused when that exceeds {@link #MAX_MEMORY} (a hostile header cannot exhaust memory).
 *
 * @param logN log2 of the CPU/memory cost, {@value #MIN_LOG_N}..{@value #MAX_LOG_N}
 * @param r block size, 1..{@value #MAX_R}
 * @param p parallelism, 1..{@value #MAX_P}
 */
public record KdfParams(int logN, int r, int p) {

  /** scrypt, the only KDF of format version 1. */
  public static final int SCRYPT = 1;

  public static final int MIN_LOG_N = 10;
  public static final int MAX_LOG_N = 20;
  public static final int MAX_R = 32;
  public static final int MAX_P = 16;

  /** Largest scrypt memory a vault may ask for: 256 MiB. */
  public static final long MAX_MEMORY = 256L << 20;

  /** N = 2^17, r = 8, p = 1: 128 MiB and well under a second on a laptop core. */
  public static final KdfParams DEFAULT = new KdfParams(17, 8, 1);

  /**
   * @throws IllegalArgumentException naming the parameter out of range
   */
  public KdfParams {
    if (logN < MIN_LOG_N || logN > MAX_LOG_N) {
      throw new IllegalArgumentException(
          "scrypt log2(N) must be " + MIN_LOG_N + ".." + MAX_LOG_N + ", not " + logN);
    }
    if (r < 1 || r > MAX_R) {
      throw new IllegalArgumentException("scrypt r must be 1.." + MAX_R + ", not " + r);
    }
    if (p < 1 || p > MAX_P) {
      throw new IllegalArgumentException("scrypt p must be 1.." + MAX_P + ", not " + p);
    }
    if (memory(logN, r) > MAX_MEMORY) {
      throw new IllegalArgumentException(
          "scrypt N=2^" + logN + ", r=" + r + " needs more than " + (MAX_MEMORY >> 20) + " MiB");
    }
  }

  /** Bytes of memory scrypt needs for these parameters. */
  public long memoryBytes() {
    return memory(logN, r);
  }

  private static long memory(int logN, int r) {
    return 128L * r * (1L << logN);
  }
}

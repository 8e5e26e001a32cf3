package net.alknet.vault;

import java.util.Arrays;

/**
 * A SLIP-0010 derivation path of hardened indexes only (Ed25519 has no normal derivation), written
 * {@code m/74'/0'/0'} ({@code H} or {@code h} may stand for {@code '}).
 *
 * <p>alknet's paths all start with coin type {@code 74'}; see {@link #NODE_KEY} and {@link
 * #credentialKey(int)} and docs/vault.md for the purposes.
 */
public final class DerivationPath {

  /** Hardened offset: index {@code i'} is {@code i + 2^31}. */
  public static final int HARDENED = 0x80000000;

  /** Deepest path accepted. */
  public static final int MAX_DEPTH = 16;

  /** alknet's coin type, the first element of all its paths. */
  public static final int COIN_TYPE = 74;

  /** The node's identity key (TLS certificate key): {@code m/74'/0'/0'}. */
  public static final DerivationPath NODE_KEY = of(COIN_TYPE, 0, 0);

  private final int[] indexes;

  private DerivationPath(int[] indexes) {
    this.indexes = indexes;
  }

  /** A path of the given unhardened numbers, each hardened (0 ≤ n < 2^31). */
  public static DerivationPath of(int... numbers) {
    if (numbers.length > MAX_DEPTH) {
      throw new IllegalArgumentException("a derivation path has at most " + MAX_DEPTH + " levels");
    }
    int[] idx = new int[numbers.length];
    for (int i = 0; i < numbers.length; i++) {
      if (numbers[i] < 0) {
        throw new IllegalArgumentException("path index must be 0..2147483647, got " + numbers[i]);
      }
      idx[i] = numbers[i] | HARDENED;
    }
    return new DerivationPath(idx);
  }

  /** The key that encrypts credentials at key version {@code version}: {@code m/74'/1'/v'}. */
  public static DerivationPath credentialKey(int version) {
    return of(COIN_TYPE, 1, version);
  }

  /**
   * Parses {@code m/a'/b'/...}.
   *
   * @throws IllegalArgumentException naming the problem (not hardened, not a number, too deep)
   */
  public static DerivationPath parse(String text) {
    String s = text.strip();
    if (!s.equals("m") && !s.startsWith("m/")) {
      throw new IllegalArgumentException("a derivation path starts with m/, e.g. m/74'/0'/0'");
    }
    if (s.equals("m")) {
      return new DerivationPath(new int[0]);
    }
    String[] parts = s.substring(2).split("/", -1);
    if (parts.length > MAX_DEPTH) {
      throw new IllegalArgumentException("a derivation path has at most " + MAX_DEPTH + " levels");
    }
    int[] numbers = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      if (p.isEmpty()
          || !(p.endsWith("'") || p.endsWith("H") || p.endsWith("h"))
          || !p.substring(0, p.length() - 1).matches("\\d{1,10}")) {
        throw new IllegalArgumentException(
            "path element "
                + (i + 1)
                + " ('"
                + p
                + "') must be a hardened index like 0' (Ed25519 keys have only hardened"
                + " derivation)");
      }
      long n = Long.parseLong(p.substring(0, p.length() - 1));
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("path element " + (i + 1) + " is over 2147483647");
      }
      numbers[i] = (int) n;
    }
    return of(numbers);
  }

  /** The raw indexes (hardened bit set), a copy. */
  public int[] indexes() {
    return indexes.clone();
  }

  public int depth() {
    return indexes.length;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("m");
    for (int i : indexes) {
      sb.append('/').append(i & ~HARDENED).append('\'');
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DerivationPath p && Arrays.equals(indexes, p.indexes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(indexes);
  }
}

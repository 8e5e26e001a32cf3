package net.alknet.vault;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * BIP39 mnemonics with the English wordlist (VAULT-2): entropy ↔ mnemonic with checksum, and
 * mnemonic (+ optional passphrase) → 64-byte seed by PBKDF2-HMAC-SHA512, 2048 iterations, salt
 * {@code "mnemonic" + passphrase} (both NFKD-normalized, as BIP39 requires).
 *
 * <p>Mnemonics and passphrases are {@code char[]} and seeds {@code byte[]}: the caller owns every
 * returned array and MUST wipe it ({@link Secrets#wipe}). Error messages name word positions and
 * counts, never words. Thread-safe (the wordlist is immutable).
 */
public final class Bip39 {

  /** Resource holding the 2048 words of the official BIP39 English wordlist, one per line. */
  public static final String WORDLIST_RESOURCE = "bip39-english.txt";

  /** Word counts BIP39 defines (128 to 256 bits of entropy in steps of 32). */
  public static final List<Integer> WORD_COUNTS = List.of(12, 15, 18, 21, 24);

  /** Longest mnemonic text accepted (24 words of at most 8 letters plus generous whitespace). */
  public static final int MAX_MNEMONIC_CHARS = 1024;

  static final int PBKDF2_ROUNDS = 2048;
  private static final String[] WORDS = loadWordlist();

  private Bip39() {}

  /** The wordlist, in order (index = 11-bit value). */
  public static List<String> wordlist() {
    return List.of(WORDS);
  }

  /** A fresh mnemonic of {@code words} words from {@code random}. */
  public static char[] generate(int words, SecureRandom random) {
    if (!WORD_COUNTS.contains(words)) {
      throw new IllegalArgumentException("a mnemonic has 12, 15, 18, 21 or 24 words, not " + words);
    }
    byte[] entropy = new byte[words / 3 * 4];
    random.nextBytes(entropy);
    try {
      return fromEntropy(entropy);
    } finally {
      Secrets.wipe(entropy);
    }
  }

  /** The mnemonic (words separated by one space) encoding {@code entropy} (16..32 bytes, ×4). */
  public static char[] fromEntropy(byte[] entropy) {
    int ent = entropy.length * 8;
    if (entropy.length < 16 || entropy.length > 32 || entropy.length % 4 != 0) {
      throw new IllegalArgumentException(
          "entropy must be 16, 20, 24, 28 or 32 bytes, not " + entropy.length);
    }
    int cs = ent / 32;
    int words = (ent + cs) / 11;
    byte[] hash = sha256(entropy);
    byte[] bits = Arrays.copyOf(entropy, entropy.length + 1);
    bits[entropy.length] = hash[0];
    StringBuilderFree out = new StringBuilderFree(words * 9);
    try {
      for (int w = 0; w < words; w++) {
        int index = 0;
        for (int b = 0; b < 11; b++) {
          int bit = w * 11 + b;
          index = (index << 1) | ((bits[bit >>> 3] >>> (7 - (bit & 7))) & 1);
        }
        if (w > 0) {
          out.append(' ');
        }
        out.append(WORDS[index]);
      }
      return out.toArray();
    } finally {
      Secrets.wipe(bits, hash);
      out.wipe();
    }
  }

  /**
   * The entropy a mnemonic encodes, after checking word count, words and checksum. Words may be
   * separated by any whitespace and in any letter case.
   *
   * @throws VaultException.InvalidMnemonic naming what is wrong (count, word position, checksum)
   */
  public static byte[] toEntropy(char[] mnemonic) throws VaultException.InvalidMnemonic {
    int[] indexes = indexes(mnemonic);
    int words = indexes.length;
    int total = words * 11;
    int cs = total / 33;
    int ent = total - cs;
    byte[] bits = new byte[(total + 7) / 8];
    try {
      for (int w = 0; w < words; w++) {
        for (int b = 0; b < 11; b++) {
          if (((indexes[w] >>> (10 - b)) & 1) != 0) {
            int bit = w * 11 + b;
            bits[bit >>> 3] |= (byte) (1 << (7 - (bit & 7)));
          }
        }
      }
      byte[] entropy = Arrays.copyOf(bits, ent / 8);
      byte[] hash = sha256(entropy);
      int expected = (hash[0] & 0xff) >>> (8 - cs);
      int actual = (bits[ent / 8] & 0xff) >>> (8 - cs);
      Secrets.wipe(hash);
      if (expected != actual) {
        Secrets.wipe(entropy);
        throw new VaultException.InvalidMnemonic(
            "the mnemonic's checksum does not match: a word is wrong or out of order");
      }
      return entropy;
    } finally {
      Secrets.wipe(bits);
      Arrays.fill(indexes, 0);
    }
  }

  /**
   * Validates a mnemonic and returns its canonical form: lower-case words separated by one space.
   */
  public static char[] normalize(char[] mnemonic) throws VaultException.InvalidMnemonic {
    byte[] entropy = toEntropy(mnemonic);
    try {
      return fromEntropy(entropy);
    } finally {
      Secrets.wipe(entropy);
    }
  }

  /**
   * The 64-byte BIP39 seed of a valid mnemonic and a passphrase (empty for none).
   *
   * @throws VaultException.InvalidMnemonic if the mnemonic is not valid (checksum included)
   */
  public static byte[] seed(char[] mnemonic, char[] passphrase)
      throws VaultException.InvalidMnemonic {
    char[] canonical = normalize(mnemonic);
    char[] pass = nfkd(passphrase);
    byte[] password = null;
    byte[] passBytes = null;
    byte[] salt = null;
    try {
      password = Secrets.utf8(canonical);
      passBytes = Secrets.utf8(pass);
      salt = new byte[8 + passBytes.length];
      System.arraycopy("mnemonic".getBytes(StandardCharsets.US_ASCII), 0, salt, 0, 8);
      System.arraycopy(passBytes, 0, salt, 8, passBytes.length);
      PKCS5S2ParametersGenerator gen = new PKCS5S2ParametersGenerator(new SHA512Digest());
      gen.init(password, salt, PBKDF2_ROUNDS);
      return ((KeyParameter) gen.generateDerivedMacParameters(512)).getKey();
    } finally {
      Secrets.wipe(password, passBytes, salt);
      Secrets.wipe(canonical);
      if (pass != passphrase) {
        Secrets.wipe(pass);
      }
    }
  }

  /**
   * NFKD form of a passphrase. ASCII text is already NFKD and is returned as is (no copy); other
   * text goes through {@link Normalizer}, which needs a short-lived String (unavoidable in Java).
   */
  private static char[] nfkd(char[] text) {
    for (char c : text) {
      if (c > 0x7f) {
        return Normalizer.normalize(java.nio.CharBuffer.wrap(text), Normalizer.Form.NFKD)
            .toCharArray();
      }
    }
    return text;
  }

  private static int[] indexes(char[] mnemonic) throws VaultException.InvalidMnemonic {
    if (mnemonic.length > MAX_MNEMONIC_CHARS) {
      throw new VaultException.InvalidMnemonic(
          "the mnemonic is longer than " + MAX_MNEMONIC_CHARS + " characters");
    }
    List<Integer> out = new ArrayList<>(24);
    char[] word = new char[16];
    try {
      int i = 0;
      while (i < mnemonic.length) {
        while (i < mnemonic.length && Character.isWhitespace(mnemonic[i])) {
          i++;
        }
        if (i == mnemonic.length) {
          break;
        }
        int len = 0;
        boolean tooLong = false;
        while (i < mnemonic.length && !Character.isWhitespace(mnemonic[i])) {
          if (len < word.length) {
            word[len++] = Character.toLowerCase(mnemonic[i]);
          } else {
            tooLong = true;
          }
          i++;
        }
        int index = tooLong ? -1 : find(word, len);
        if (index < 0) {
          throw new VaultException.InvalidMnemonic(
              "word " + (out.size() + 1) + " of the mnemonic is not in the BIP39 English wordlist");
        }
        out.add(index);
        if (out.size() > 24) {
          break;
        }
      }
    } finally {
      Secrets.wipe(word);
    }
    if (!WORD_COUNTS.contains(out.size())) {
      throw new VaultException.InvalidMnemonic(
          "a mnemonic has 12, 15, 18, 21 or 24 words, this one has "
              + (out.size() > 24 ? "more than 24" : String.valueOf(out.size())));
    }
    int[] result = new int[out.size()];
    for (int k = 0; k < result.length; k++) {
      result[k] = out.get(k);
    }
    return result;
  }

  /** Binary search of {@code word[0..len)} in the sorted wordlist without making a String. */
  private static int find(char[] word, int len) {
    int lo = 0;
    int hi = WORDS.length - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = compare(WORDS[mid], word, len);
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -1;
  }

  private static int compare(String listed, char[] word, int len) {
    int n = Math.min(listed.length(), len);
    for (int i = 0; i < n; i++) {
      int d = listed.charAt(i) - word[i];
      if (d != 0) {
        return d;
      }
    }
    return listed.length() - len;
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String[] loadWordlist() {
    try (InputStream in = Bip39.class.getResourceAsStream(WORDLIST_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + WORDLIST_RESOURCE);
      }
      List<String> words =
          new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))
              .lines()
              .map(String::strip)
              .filter(s -> !s.isEmpty())
              .toList();
      String[] array = words.toArray(new String[0]);
      if (array.length != 2048) {
        throw new IllegalStateException(WORDLIST_RESOURCE + " has " + array.length + " words");
      }
      for (int i = 1; i < array.length; i++) {
        if (array[i - 1].compareTo(array[i]) >= 0) {
          throw new IllegalStateException(WORDLIST_RESOURCE + " is not sorted at line " + (i + 1));
        }
      }
      return array;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + WORDLIST_RESOURCE, e);
    }
  }

  /** A growable char buffer that can be wiped (unlike StringBuilder). */
  private static final class StringBuilderFree {
    private char[] buf;
    private int len;

    StringBuilderFree(int capacity) {
      buf = new char[capacity];
    }

    void append(char c) {
      ensure(1);
      buf[len++] = c;
    }

    void append(String s) {
      ensure(s.length());
      s.getChars(0, s.length(), buf, len);
      len += s.length();
    }

    private void ensure(int more) {
      if (len + more > buf.length) {
        char[] bigger = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
        Secrets.wipe(buf);
        buf = bigger;
      }
    }

    char[] toArray() {
      return Arrays.copyOf(buf, len);
    }

    void wipe() {
      Secrets.wipe(buf);
    }
  }
}

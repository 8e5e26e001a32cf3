package net.alknet.vault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** BIP39 against the official wordlist and Trezor's published vectors (VAULT-2). */
class Bip39Test {

  private static final HexFormat HEX = HexFormat.of();

  @Test
  void wordlistIsTheOfficialEnglishList() throws Exception {
    byte[] bytes;
    try (InputStream in = Bip39.class.getResourceAsStream(Bip39.WORDLIST_RESOURCE)) {
      bytes = in.readAllBytes();
    }
    assertEquals(
        "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda",
        HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    assertEquals(2048, Bip39.wordlist().size());
    assertEquals("abandon", Bip39.wordlist().get(0));
    assertEquals("zoo", Bip39.wordlist().get(2047));
  }

  @Test
  void trezorVectors() throws Exception {
    JsonNode english;
    try (InputStream in = Bip39Test.class.getResourceAsStream("/vault/bip39-vectors.json")) {
      english = new ObjectMapper().readTree(in).get("english");
    }
    assertEquals(24, english.size());
    Set<Integer> counts = new HashSet<>();
    for (JsonNode v : english) {
      byte[] entropy = HEX.parseHex(v.get(0).asText());
      String mnemonic = v.get(1).asText();
      counts.add(mnemonic.split(" ").length);
      assertEquals(mnemonic, new String(Bip39.fromEntropy(entropy)));
      assertArrayEquals(entropy, Bip39.toEntropy(mnemonic.toCharArray()), mnemonic);
      assertEquals(
          v.get(2).asText(),
          HEX.formatHex(Bip39.seed(mnemonic.toCharArray(), "TREZOR".toCharArray())),
          mnemonic);
    }
    assertEquals(Set.of(12, 18, 24), counts);
  }

  @Test
  void everyWordCountRoundTrips() throws Exception {
    SecureRandom random = new SecureRandom();
    for (int words : Bip39.WORD_COUNTS) {
      char[] m = Bip39.generate(words, random);
      assertEquals(words, new String(m).split(" ").length);
      byte[] entropy = Bip39.toEntropy(m);
      assertEquals(words / 3 * 4, entropy.length);
      assertArrayEquals(m, Bip39.fromEntropy(entropy));
    }
  }

  @Test
  void caseAndWhitespaceAreForgiven() throws Exception {
    String m = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    char[] messy =
        ("  LEGAL\twinner\n thank year wave sausage worth useful legal winner thank Yellow \n")
            .toCharArray();
    assertEquals(m, new String(Bip39.normalize(messy)));
    assertArrayEquals(Bip39.seed(m.toCharArray(), new char[0]), Bip39.seed(messy, new char[0]));
  }

  @Test
  void badMnemonicsAreClearErrors() {
    String ok =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"
            + " abandon about";
    var checksum =
        assertThrows(
            VaultException.InvalidMnemonic.class,
            () -> Bip39.toEntropy(ok.replace("about", "abandon").toCharArray()));
    assertTrue(checksum.getMessage().contains("checksum"), checksum.getMessage());
    var word =
        assertThrows(
            VaultException.InvalidMnemonic.class,
            () -> Bip39.toEntropy(ok.replace("about", "aboutt").toCharArray()));
    assertEquals("word 12 of the mnemonic is not in the BIP39 English wordlist", word.getMessage());
    var count =
        assertThrows(
            VaultException.InvalidMnemonic.class,
            () -> Bip39.toEntropy(ok.replace(" about", "").toCharArray()));
    assertTrue(count.getMessage().contains("has 11"), count.getMessage());
    assertThrows(VaultException.InvalidMnemonic.class, () -> Bip39.toEntropy(new char[0]));
    assertThrows(
        VaultException.InvalidMnemonic.class,
        () -> Bip39.toEntropy("a".repeat(100_000).toCharArray()));
    var many =
        assertThrows(
            VaultException.InvalidMnemonic.class,
            () -> Bip39.toEntropy((ok + " " + ok + " " + ok).toCharArray()));
    assertTrue(many.getMessage().contains("more than 24"), many.getMessage());
    // An error never repeats the words.
    assertFalse(word.getMessage().contains("aboutt"));
  }

  @Test
  void passphraseIsNfkdNormalized() throws Exception {
    char[] m =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
            .toCharArray();
    // U+00E9 (precomposed) and e + U+0301 (decomposed) are the same passphrase under NFKD.
    assertArrayEquals(
        Bip39.seed(m, "caf\u00e9".toCharArray()), Bip39.seed(m, "cafe\u0301".toCharArray()));
    assertFalse(
        java.util.Arrays.equals(Bip39.seed(m, "cafe".toCharArray()), Bip39.seed(m, new char[0])));
  }
}

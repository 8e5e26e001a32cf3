package net.alknet.vault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SLIP-0010 Ed25519 derivation against both published test vector sets (VAULT-2). */
class Slip10Test {

  private static final HexFormat HEX = HexFormat.of();

  @Test
  void publishedEd25519Vectors() throws Exception {
    List<String[]> rows;
    try (var r =
        new BufferedReader(
            new InputStreamReader(
                Slip10Test.class.getResourceAsStream("/vault/slip10-ed25519-vectors.tsv"),
                StandardCharsets.UTF_8))) {
      rows =
          r.lines()
              .filter(l -> !l.startsWith("#") && !l.isBlank())
              .map(l -> l.split("\t"))
              .toList();
    }
    assertEquals(12, rows.size());
    for (String[] row : rows) {
      byte[] seed = HEX.parseHex(row[0]);
      DerivationPath path = DerivationPath.parse(row[1]);
      try (Slip10.Key k = Slip10.derive(seed, path)) {
        String where = row[0].substring(0, 8) + " " + row[1];
        assertEquals(row[2], String.format("%08x", k.parentFingerprint()), where);
        assertEquals(row[3], HEX.formatHex(k.chainCode()), where);
        assertEquals(row[4], HEX.formatHex(k.privateKey()), where);
        assertEquals(row[5], "00" + HEX.formatHex(k.publicKey()), where);
        assertEquals(path.depth(), k.depth(), where);
      }
    }
  }

  @Test
  void paths() {
    assertEquals("m/74'/0'/0'", DerivationPath.parse("m/74H/0h/0'").toString());
    assertEquals(DerivationPath.NODE_KEY, DerivationPath.parse("m/74'/0'/0'"));
    assertEquals("m/74'/1'/3'", DerivationPath.credentialKey(3).toString());
    assertEquals("m", DerivationPath.parse("m").toString());
    for (String bad :
        List.of("", "74'/0'", "m/74", "m/74'/x'", "m//0'", "m/2147483648'", "m/-1'", "m/0'/")) {
      assertThrows(IllegalArgumentException.class, () -> DerivationPath.parse(bad), bad);
    }
    assertThrows(
        IllegalArgumentException.class, () -> DerivationPath.parse("m" + "/0'".repeat(17)));
  }

  @Test
  void closeWipesTheKey() {
    Slip10.Key k = Slip10.master(new byte[16]);
    k.close();
    assertEquals("00".repeat(32), HEX.formatHex(k.privateKey()));
    assertEquals("00".repeat(32), HEX.formatHex(k.chainCode()));
  }
}

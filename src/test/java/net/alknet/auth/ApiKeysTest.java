package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {
  static final String H1 = "sha256:" + "ab".repeat(32);
  static final String H2 = "sha256:" + "cd".repeat(32);

  @Test
  void generateAndHash() throws Exception {
    NewApiKey k = ApiKeys.generate();
    assertTrue(k.key().matches("alk_[A-Za-z0-9_-]{43}"), "shape");
    assertTrue(ApiKeys.isWellFormed(k.key()));
    assertTrue(k.hash().matches("sha256:[0-9a-f]{64}"));
    byte[] expected =
        MessageDigest.getInstance("SHA-256").digest(k.key().getBytes(StandardCharsets.UTF_8));
    assertEquals("sha256:" + HexFormat.of().formatHex(expected), k.hash());
    assertEquals(k.hash(), ApiKeys.hash(k.key()));
    assertArrayEquals(expected, ApiKeys.digest(k.key()));
    assertNotEquals(k.key(), ApiKeys.generate().key());
    assertFalse(k.toString().contains(k.key()));
  }

  @Test
  void parsesEntries() throws Exception {
    String file =
        "# API keys\n"
            + "\n"
            + "ci-bot "
            + H1
            + " scopes=git:read,call:demo expires=2027-01-01T00:00:00Z\n"
            + "  monitor.v2   "
            + H2.toUpperCase().replace("SHA256", "sha256")
            + "\n";
    List<ApiKeyEntry> list = ApiKeys.parse(file);
    assertEquals(2, list.size());
    ApiKeyEntry ci = list.get(0);
    assertEquals("ci-bot", ci.name());
    assertEquals(H1, ci.hashString());
    assertEquals(Set.of("git:read", "call:demo"), ci.scopes());
    assertEquals(Optional.of(Instant.parse("2027-01-01T00:00:00Z")), ci.expires());
    ApiKeyEntry mon = list.get(1);
    assertEquals(H2, mon.hashString());
    assertEquals(Set.of(), mon.scopes());
    assertEquals(Optional.empty(), mon.expires());
    assertEquals("apikey:monitor.v2", mon.identity().id());
  }

  @Test
  void formatRoundTrip() throws Exception {
    NewApiKey k = ApiKeys.generate();
    String line =
        ApiKeys.formatEntry(
            "deploy",
            k.hash(),
            Set.of("git:write", "git:read"),
            Optional.of(Instant.parse("2030-05-06T07:08:09Z")));
    assertEquals(
        "deploy " + k.hash() + " scopes=git:read,git:write expires=2030-05-06T07:08:09Z", line);
    ApiKeyEntry e = ApiKeys.parse(line).get(0);
    assertEquals(line, ApiKeys.formatEntry(e));
    assertEquals("x " + H1, ApiKeys.formatEntry("x", H1, Set.of(), Optional.empty()));
    assertThrows(
        IllegalArgumentException.class,
        () -> ApiKeys.formatEntry("bad name", H1, Set.of(), Optional.empty()));
  }

  @Test
  void entryValueSemantics() {
    ApiKeyEntry e1 = new ApiKeyEntry("a", ApiKeys.parseHash(H1), Set.of("x"), Optional.empty());
    ApiKeyEntry e2 = new ApiKeyEntry("a", ApiKeys.parseHash(H1), Set.of("x"), Optional.empty());
    assertEquals(e1, e2);
    assertEquals(e1.hashCode(), e2.hashCode());
    e1.sha256()[0] = 0;
    assertEquals(e1, e2);
    assertFalse(e1.toString().contains("abab"));
    assertFalse(e1.isExpiredAt(Instant.MAX));
  }

  @Test
  void malformedLines() {
    assertError("api_keys:1: expected: <name>", "lonely");
    assertError("api_keys:1: invalid name", "bad/name " + H1);
    assertError("api_keys:1: invalid name", "x".repeat(65) + " " + H1);
    assertError("api_keys:1: hash must be sha256:<64 hex digits>", "n sha256:abc");
    assertError("api_keys:1: hash must be sha256:<64 hex digits>", "n md5:" + "ab".repeat(32));
    assertError("api_keys:1: hash must be sha256:<64 hex digits>", "n sha256:" + "zz".repeat(32));
    assertError("api_keys:1: hash must be", "n alk_" + "A".repeat(43));
    assertError("api_keys:1: unknown field 'color=red'", "n " + H1 + " color=red");
    assertError("api_keys:1: repeated field scopes", "n " + H1 + " scopes=a scopes=b");
    assertError("api_keys:1: invalid expires", "n " + H1 + " expires=tomorrow");
    assertError("api_keys:1: invalid scope", "n " + H1 + " scopes=a,b!c");
    assertError("api_keys:1: line too long", "n " + H1 + " scopes=" + "a".repeat(5000));
  }

  @Test
  void duplicates() {
    assertError(
        "api_keys:3: duplicate name a (first on line 1)", "a " + H1 + "\nb " + H2 + "\na " + H2);
    assertError("api_keys:2: duplicate hash (first on line 1)", "a " + H1 + "\nb " + H1);
  }

  private static void assertError(String expectedPrefix, String file) {
    ConfigFormatException e =
        assertThrows(ConfigFormatException.class, () -> ApiKeys.parse(file + "\n"));
    assertTrue(e.getMessage().startsWith(expectedPrefix), e.getMessage());
  }
}

package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AuthorizedKeysTest {
  final KeyPair a = Ed25519Keys.generate();
  final KeyPair b = Ed25519Keys.generate();
  final String lineA = Ed25519Keys.sshPublicKeyLine(a.getPublic(), "alice@laptop");
  final String lineB = Ed25519Keys.sshPublicKeyLine(b.getPublic(), null);
  final String blobA = lineA.split(" ")[1];

  @Test
  void parsesOptionsCommentsAndBlankLines() throws Exception {
    String file =
        "# team keys\n"
            + "\n"
            + "   \n"
            + "scopes=\"call,git:read\" "
            + lineA
            + "\r\n"
            + "  # indented comment\n"
            + lineB
            + "\n";
    List<AuthorizedKey> keys = AuthorizedKeys.parse(file);
    assertEquals(2, keys.size());
    AuthorizedKey ka = keys.get(0);
    assertEquals(a.getPublic(), ka.key());
    assertEquals(Fingerprints.sha256(a.getPublic()), ka.fingerprint());
    assertEquals(Set.of("call", "git:read"), ka.scopes());
    assertEquals("alice@laptop", ka.comment());
    assertEquals("alice@laptop", ka.identity().displayName());
    assertEquals(ka.fingerprint(), ka.identity().id());
    AuthorizedKey kb = keys.get(1);
    assertEquals(Set.of(), kb.scopes());
    assertEquals("", kb.comment());
    assertEquals(kb.fingerprint(), kb.identity().displayName());
  }

  @Test
  void toleratesOtherOpenSshOptions() throws Exception {
    String opts =
        "no-pty,from=\"10.0.0.1,192.168.1.0/24\",command=\"echo \\\"hi, there\\\" now\","
            + "environment=\"A=b c\",SCOPES=\"*\",no-agent-forwarding,expiry-time=\"20300101\"";
    AuthorizedKey k = AuthorizedKeys.parse(opts + " " + lineA + "\n").get(0);
    assertEquals(Set.of("*"), k.scopes());
    assertTrue(k.identity().hasScope("admin"));
    assertEquals("alice@laptop", k.comment());
  }

  @Test
  void optionsWithoutScopesGiveNoScopes() throws Exception {
    AuthorizedKey k = AuthorizedKeys.parse("no-pty,restrict\t" + lineA).get(0);
    assertEquals(Set.of(), k.scopes());
  }

  @Test
  void commentWithSpacesIsKept() throws Exception {
    AuthorizedKey k =
        AuthorizedKeys.parse("ssh-ed25519 " + blobA + "   Alice's work laptop  ").get(0);
    assertEquals("Alice's work laptop", k.comment());
  }

  @Test
  void formatRoundTrip() throws Exception {
    AuthorizedKey k = AuthorizedKey.of(a.getPublic(), Set.of("git", "call:demo"), "alice");
    String line = AuthorizedKeys.format(k);
    assertTrue(line.startsWith("scopes=\"call:demo,git\" ssh-ed25519 "), line);
    assertEquals(List.of(k), AuthorizedKeys.parse(line));
    AuthorizedKey plain = AuthorizedKey.of(b.getPublic(), Set.of(), "");
    assertEquals(lineB, AuthorizedKeys.format(plain));
    assertEquals(List.of(plain), AuthorizedKeys.parse(AuthorizedKeys.format(plain)));
  }

  @Test
  void wrongKeyTypeNamesLine() {
    String file = "# c\n" + lineA + "\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ user\n";
    ConfigFormatException e =
        assertThrows(ConfigFormatException.class, () -> AuthorizedKeys.parse(file));
    assertEquals(
        "authorized_keys:3: unsupported key type ssh-rsa (only ssh-ed25519 is accepted)",
        e.getMessage());
    assertEquals(3, e.line());
    assertEquals("authorized_keys", e.file());
    assertError(
        "ecdsa-sha2-nistp256", "no-pty ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY= x");
    assertError(
        "unsupported key type sk-ssh-ed25519@openssh.com", "sk-ssh-ed25519@openssh.com AAAA x");
  }

  @Test
  void badBlobs() {
    assertError("invalid base64", "ssh-ed25519 AAAA$$$$ x");
    assertError("truncated key data", "ssh-ed25519 " + blobA.substring(0, 30) + " x");
    byte[] rsa = new SshWire.Writer().string("ssh-rsa").string(new byte[32]).toByteArray();
    assertError(
        "key data does not match key type ssh-ed25519",
        "ssh-ed25519 " + Base64.getEncoder().encodeToString(rsa));
    assertError("missing key data", "ssh-ed25519");
    assertError("missing key type", "no-pty");
    assertError("unterminated quote", "from=\"10.0.0.1 " + lineA);
    assertError("invalid scope", "scopes=\"a b\" " + lineA);
    assertError("scopes option given twice", "scopes=\"a\",scopes=\"b\" " + lineA);
  }

  @Test
  void garbageLines() {
    assertError("line too long (102400 characters, max 8192)", "x".repeat(100 * 1024));
    assertError("only ssh-ed25519", "hello world this is not a key");
    assertError("invalid options field", "@@@ ssh-ed25519 " + blobA);
    assertError("near '???'", "\u0000\u0001\u0002 binary junk");
    assertError("missing key type before the key data", blobA + " alice");
    ConfigFormatException e =
        assertThrows(
            ConfigFormatException.class,
            () -> AuthorizedKeys.parse("x".repeat(AuthorizedKeys.MAX_FILE + 1)));
    assertEquals(0, e.line());
    assertTrue(e.getMessage().startsWith("authorized_keys: file too large"));
  }

  @Test
  void duplicateKeyIsError() {
    ConfigFormatException e =
        assertThrows(
            ConfigFormatException.class,
            () -> AuthorizedKeys.parse(lineA + "\nscopes=\"git\" " + lineA + "\n"));
    assertTrue(e.getMessage().startsWith("authorized_keys:2: duplicate key SHA256:"));
    assertTrue(e.getMessage().endsWith("(first on line 1)"));
  }

  @Test
  void emptyFile() throws Exception {
    assertEquals(List.of(), AuthorizedKeys.parse(""));
    assertEquals(List.of(), AuthorizedKeys.parse("\n\n# nothing\n"));
  }

  private static void assertError(String expectedPart, String line) {
    ConfigFormatException e =
        assertThrows(ConfigFormatException.class, () -> AuthorizedKeys.parse(line + "\n"));
    assertTrue(e.getMessage().startsWith("authorized_keys:1: "), e.getMessage());
    assertTrue(e.getMessage().contains(expectedPart), e.getMessage());
    assertTrue(e.getMessage().length() < 200, e.getMessage());
  }
}

package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interop with the real OpenSSH {@code ssh-keygen}; skipped when it is not installed. */
class OpenSshInteropTest {
  private static final Path SSH_KEYGEN = Path.of("/usr/bin/ssh-keygen");

  @TempDir Path dir;

  @BeforeAll
  static void needSshKeygen() {
    assumeTrue(Files.isExecutable(SSH_KEYGEN), "ssh-keygen not installed (apt openssh-client)");
  }

  @Test
  void sshKeygenReadsOurKeys() throws Exception {
    KeyPair kp = Ed25519Keys.generate();
    Path key = dir.resolve("id_ed25519");
    LocalKeys.write(key, kp, "alknet-test", false);
    String ourFp = Fingerprints.sha256(kp.getPublic());

    String pubFp = run("-l", "-E", "sha256", "-f", key + ".pub");
    assertEquals(ourFp, pubFp.split(" ")[1], pubFp);
    assertTrue(pubFp.contains("alknet-test"), pubFp);

    String privFp = run("-l", "-E", "sha256", "-f", key.toString());
    assertEquals(ourFp, privFp.split(" ")[1], privFp);

    String derived = run("-y", "-f", key.toString()).strip();
    assertEquals(Ed25519Keys.sshPublicKeyLine(kp.getPublic(), null), strip3(derived));
  }

  @Test
  void weReadSshKeygenKeys() throws Exception {
    Path key = dir.resolve("gen_ed25519");
    run("-q", "-t", "ed25519", "-N", "", "-C", "made-by-ssh-keygen", "-f", key.toString());
    KeyPair kp = LocalKeys.load(key);
    String pubLine = Files.readString(Path.of(key + ".pub"), StandardCharsets.UTF_8).strip();
    assertEquals(pubLine, Ed25519Keys.sshPublicKeyLine(kp.getPublic(), "made-by-ssh-keygen"));
    assertEquals(kp.getPublic(), Ed25519Keys.parseSshPublicKey(pubLine));
    String fp = run("-l", "-E", "sha256", "-f", key + ".pub");
    assertEquals(fp.split(" ")[1], Fingerprints.sha256(kp.getPublic()));
    // the loaded private key signs tokens that verify with the public key from the .pub file
    String token = AuthToken.mint(kp, java.time.Instant.now());
    AuthToken.Parsed p = AuthToken.parse(token);
    assertTrue(
        AuthToken.verify(
                p,
                Ed25519Keys.parseSshPublicKey(pubLine),
                java.time.Instant.now(),
                TokenPolicy.DEFAULT)
            .isEmpty());
  }

  @Test
  void authorizedKeysLineFromSshKeygen() throws Exception {
    Path key = dir.resolve("ak");
    run("-q", "-t", "ed25519", "-N", "", "-C", "alice@laptop", "-f", key.toString());
    String pubLine = Files.readString(Path.of(key + ".pub"), StandardCharsets.UTF_8).strip();
    List<AuthorizedKey> keys =
        AuthorizedKeys.parse("no-pty,scopes=\"git:read,call\" " + pubLine + "\n");
    assertEquals(1, keys.size());
    String fp = run("-l", "-E", "sha256", "-f", key + ".pub");
    assertEquals(fp.split(" ")[1], keys.get(0).fingerprint());
    assertEquals("alice@laptop", keys.get(0).comment());
  }

  @Test
  void encryptedSshKeygenKeyIsClearError() throws Exception {
    Path key = dir.resolve("enc");
    run("-q", "-t", "ed25519", "-a", "2", "-N", "secret-pass", "-f", key.toString());
    IOException e =
        org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> LocalKeys.load(key));
    assertTrue(e.getMessage().contains("encrypted"), e.getMessage());
    assertTrue(e.getMessage().contains("not supported yet"), e.getMessage());
    assertTrue(!e.getMessage().contains("secret-pass"));
  }

  @Test
  void sshKeygenRejectsNothingFromAuthorizedKeysFormat() throws Exception {
    KeyPair kp = Ed25519Keys.generate();
    AuthorizedKey k = AuthorizedKey.of(kp.getPublic(), java.util.Set.of("git", "dns"), "bob");
    Path ak = dir.resolve("authorized_keys");
    Files.writeString(ak, AuthorizedKeys.format(k) + "\n");
    String out = run("-l", "-E", "sha256", "-f", ak.toString());
    assertEquals(k.fingerprint(), out.split(" ")[1], out);
  }

  private static String strip3(String line) {
    String[] f = line.split(" ");
    return f[0] + " " + f[1];
  }

  private static String run(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(SSH_KEYGEN.toString());
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "ssh-keygen timed out");
    String s = new String(out, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), "ssh-keygen " + String.join(" ", args) + ": " + s);
    return s;
  }
}

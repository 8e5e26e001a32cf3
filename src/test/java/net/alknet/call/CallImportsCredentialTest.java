package net.alknet.call;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Optional;
import net.alknet.auth.Ed25519Keys;
import net.alknet.config.AlknetConfig;
import net.alknet.vault.Credentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which credential a call import presents: the vault's, a file's, a minted token or none. */
class CallImportsCredentialTest {

  @TempDir Path dir;

  static AlknetConfig.Import imp(Optional<Path> file, Optional<String> vaultName) {
    return new AlknetConfig.Import() {
      @Override
      public String target() {
        return "127.0.0.1:4433";
      }

      @Override
      public Optional<String> fingerprint() {
        return Optional.empty();
      }

      @Override
      public String transport() {
        return "quic";
      }

      @Override
      public Optional<Path> apiKeyFile() {
        return file;
      }

      @Override
      public Optional<String> apiKeyVault() {
        return vaultName;
      }

      @Override
      public Optional<Path> keyFile() {
        return Optional.empty();
      }
    };
  }

  @Test
  void theVaultCredentialWinsAndIsWipedAfterUse() throws Exception {
    byte[] held = "alk_fromthevault\n".getBytes(StandardCharsets.UTF_8);
    Credentials vault = name -> name.equals("remote") ? Optional.of(held) : Optional.empty();
    Path file = Files.writeString(dir.resolve("key"), "alk_fromthefile");
    assertEquals(
        "alk_fromthevault",
        CallImports.credential(
            imp(Optional.of(file), Optional.of("remote")), vault, Optional.empty()));
    for (byte b : held) {
      assertEquals(0, b, "the secret's bytes were not wiped");
    }
  }

  @Test
  void aNameNotGrantedIsAClearError() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                CallImports.credential(
                    imp(Optional.empty(), Optional.of("remote")),
                    Credentials.NONE,
                    Optional.empty()));
    assertTrue(e.getMessage().contains("api-key-vault remote"), e.getMessage());
    assertTrue(e.getMessage().contains("--vault"), e.getMessage());
  }

  @Test
  void fileThenMintedTokenThenNothing() throws Exception {
    Path file = Files.writeString(dir.resolve("key"), "alk_fromthefile\n");
    assertEquals(
        "alk_fromthefile",
        CallImports.credential(
            imp(Optional.of(file), Optional.empty()), Credentials.NONE, Optional.empty()));
    KeyPair key = Ed25519Keys.generate();
    String token =
        CallImports.credential(
            imp(Optional.empty(), Optional.empty()), Credentials.NONE, Optional.of(key));
    assertTrue(token != null && !token.startsWith("alk_"), token);
    assertNull(
        CallImports.credential(
            imp(Optional.empty(), Optional.empty()), Credentials.NONE, Optional.empty()));
  }
}

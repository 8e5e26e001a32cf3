package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdentityDirectoryTest {

  @Test
  void lookups() {
    KeyPair kp = Ed25519Keys.generate();
    AuthorizedKey k = AuthorizedKey.of(kp.getPublic(), Set.of("dns"), "n");
    NewApiKey nk = ApiKeys.generate();
    ApiKeyEntry e = new ApiKeyEntry("e", ApiKeys.parseHash(nk.hash()), Set.of(), Optional.empty());
    IdentityDirectory d = IdentityDirectory.of(List.of(k), List.of(e));
    assertEquals(Optional.of(k), d.byFingerprint(k.fingerprint()));
    assertEquals(Optional.of(k), d.byRawKey(Ed25519Keys.rawPublic(kp.getPublic())));
    assertEquals(Optional.of(e), d.byApiKeyHash(ApiKeys.digest(nk.key())));
    assertTrue(d.byRawKey(new byte[31]).isEmpty());
    assertTrue(d.byApiKeyHash(null).isEmpty());
    assertTrue(d.byFingerprint(null).isEmpty());
    assertEquals(List.of(k), d.keys());
    assertEquals(List.of(e), d.apiKeys());
    assertTrue(IdentityDirectory.EMPTY.keys().isEmpty());
  }

  @Test
  void duplicatesRejected() {
    AuthorizedKey k = AuthorizedKey.of(Ed25519Keys.generate().getPublic(), Set.of(), "");
    assertThrows(
        IllegalArgumentException.class, () -> IdentityDirectory.of(List.of(k, k), List.of()));
    byte[] h = ApiKeys.digest("x");
    ApiKeyEntry a = new ApiKeyEntry("a", h, Set.of(), Optional.empty());
    ApiKeyEntry b = new ApiKeyEntry("b", h, Set.of(), Optional.empty());
    assertThrows(
        IllegalArgumentException.class, () -> IdentityDirectory.of(List.of(), List.of(a, b)));
  }

  @Test
  void authorizedKeyRejectsWrongFingerprint() {
    KeyPair kp = Ed25519Keys.generate();
    assertThrows(
        IllegalArgumentException.class,
        () -> new AuthorizedKey(kp.getPublic(), "SHA256:nope", Set.of(), ""));
  }
}

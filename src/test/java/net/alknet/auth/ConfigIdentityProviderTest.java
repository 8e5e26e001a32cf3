package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ConfigIdentityProviderTest {
  static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
  final KeyPair alice = Ed25519Keys.generate();
  final KeyPair stranger = Ed25519Keys.generate();
  final NewApiKey ciKey = ApiKeys.generate();
  final NewApiKey oldKey = ApiKeys.generate();
  final AtomicReference<IdentityDirectory> dir = new AtomicReference<>();
  final ConfigIdentityProvider provider =
      new ConfigIdentityProvider(dir::get, Clock.fixed(NOW, ZoneOffset.UTC), TokenPolicy.DEFAULT);

  ConfigIdentityProviderTest() {
    dir.set(
        IdentityDirectory.of(
            List.of(AuthorizedKey.of(alice.getPublic(), Set.of("git", "call:demo"), "alice")),
            List.of(
                new ApiKeyEntry(
                    "ci", ApiKeys.parseHash(ciKey.hash()), Set.of("git:read"), Optional.empty()),
                new ApiKeyEntry(
                    "old",
                    ApiKeys.parseHash(oldKey.hash()),
                    Set.of("dns"),
                    Optional.of(NOW.minusSeconds(1))))));
  }

  AuthResult.Reason reason(String presented) {
    AuthResult r = provider.resolveFromToken(presented);
    AuthResult.Failure f = assertInstanceOf(AuthResult.Failure.class, r);
    if (presented != null && presented.length() > 8) {
      assertFalse(f.logDetail().contains(presented), "detail leaks the credential");
    }
    return f.reason();
  }

  @Test
  void validToken() {
    AuthResult r = provider.resolveFromToken(AuthToken.mint(alice, NOW.minusSeconds(10)));
    Identity id = assertInstanceOf(AuthResult.Success.class, r).identity();
    assertEquals(Fingerprints.sha256(alice.getPublic()), id.id());
    assertEquals("alice", id.displayName());
    assertEquals(Identity.Proof.AUTH_TOKEN, id.proof());
    assertTrue(id.hasScope("git:write"));
    assertTrue(id.hasScope("call:demo"));
    assertFalse(id.hasScope("call:demox"));
  }

  @Test
  void tokenAgeAndSkew() {
    Duration maxAge = TokenPolicy.DEFAULT.maxAge();
    Duration skew = TokenPolicy.DEFAULT.maxSkew();
    assertTrue(provider.resolveFromToken(AuthToken.mint(alice, NOW.minus(maxAge))).isSuccess());
    assertEquals(
        AuthResult.Reason.EXPIRED, reason(AuthToken.mint(alice, NOW.minus(maxAge).minusMillis(1))));
    assertEquals(AuthResult.Reason.EXPIRED, reason(AuthToken.mint(alice, Instant.EPOCH)));
    assertTrue(provider.resolveFromToken(AuthToken.mint(alice, NOW.plusSeconds(20))).isSuccess());
    assertTrue(provider.resolveFromToken(AuthToken.mint(alice, NOW.plus(skew))).isSuccess());
    assertEquals(
        AuthResult.Reason.FROM_FUTURE, reason(AuthToken.mint(alice, NOW.plus(skew).plusMillis(1))));
    assertEquals(
        AuthResult.Reason.FROM_FUTURE, reason(AuthToken.mint(alice, NOW.plus(Duration.ofDays(9)))));
  }

  @Test
  void extremeTimestampsDoNotCrash() {
    assertEquals(
        AuthResult.Reason.EXPIRED,
        reason(AuthToken.mint(alice, Instant.ofEpochMilli(Long.MIN_VALUE))));
    assertEquals(
        AuthResult.Reason.FROM_FUTURE,
        reason(AuthToken.mint(alice, Instant.ofEpochMilli(Long.MAX_VALUE))));
  }

  @Test
  void customPolicy() {
    ConfigIdentityProvider strict =
        new ConfigIdentityProvider(
            dir::get,
            Clock.fixed(NOW, ZoneOffset.UTC),
            new TokenPolicy(Duration.ofSeconds(5), Duration.ZERO));
    assertTrue(strict.resolveFromToken(AuthToken.mint(alice, NOW.minusSeconds(5))).isSuccess());
    assertFalse(strict.resolveFromToken(AuthToken.mint(alice, NOW.minusSeconds(6))).isSuccess());
    assertFalse(strict.resolveFromToken(AuthToken.mint(alice, NOW.plusMillis(1))).isSuccess());
  }

  @Test
  void badSignature() {
    byte[] raw = Base64.getUrlDecoder().decode(AuthToken.mint(alice, NOW));
    raw[70] ^= 0x01;
    assertEquals(
        AuthResult.Reason.BAD_SIGNATURE,
        reason(Base64.getUrlEncoder().withoutPadding().encodeToString(raw)));
    // changing the timestamp invalidates the signature too
    raw = Base64.getUrlDecoder().decode(AuthToken.mint(alice, NOW.minus(Duration.ofHours(1))));
    raw[39] ^= 0x01;
    assertEquals(
        AuthResult.Reason.BAD_SIGNATURE,
        reason(Base64.getUrlEncoder().withoutPadding().encodeToString(raw)));
  }

  @Test
  void unknownKey() {
    assertEquals(AuthResult.Reason.UNKNOWN_KEY, reason(AuthToken.mint(stranger, NOW)));
  }

  @Test
  void malformedTokens() {
    String good = AuthToken.mint(alice, NOW);
    assertEquals(AuthResult.Reason.MALFORMED, reason(null));
    assertEquals(AuthResult.Reason.MALFORMED, reason(""));
    assertEquals(AuthResult.Reason.MALFORMED, reason(good.substring(0, good.length() - 1)));
    assertEquals(AuthResult.Reason.MALFORMED, reason(good.substring(0, 50)));
    assertEquals(AuthResult.Reason.MALFORMED, reason(good + "A"));
    assertEquals(AuthResult.Reason.MALFORMED, reason("garbage"));
    assertEquals(AuthResult.Reason.MALFORMED, reason("Bearer " + good));
    assertEquals(AuthResult.Reason.MALFORMED, reason("!" + good.substring(1)));
    assertEquals(AuthResult.Reason.MALFORMED, reason(good.substring(0, 138) + "="));
    assertEquals(
        AuthResult.Reason.MALFORMED,
        reason(good.replace('-', '+').replace('_', '/').substring(0, 138) + "+"));
    assertEquals(AuthResult.Reason.MALFORMED, reason("é".repeat(139)));
  }

  @Test
  void nonCanonicalBase64IsMalformed() {
    String good = AuthToken.mint(alice, NOW);
    char last = good.charAt(138);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char other = alphabet.charAt(alphabet.indexOf(last) ^ 1); // flips an unused low bit
    assertEquals(AuthResult.Reason.MALFORMED, reason(good.substring(0, 138) + other));
  }

  @Test
  void oversizedRejectedCheaply() {
    String huge = "A".repeat(1 << 20);
    String hugeApi = ApiKeys.PREFIX + huge;
    assertTimeoutPreemptively(
        Duration.ofSeconds(2),
        () -> {
          for (int i = 0; i < 10_000; i++) {
            assertFalse(provider.resolveFromToken(huge).isSuccess());
            assertFalse(provider.resolveFromToken(hugeApi).isSuccess());
          }
        });
    assertEquals(AuthResult.Reason.MALFORMED, reason(huge));
    assertEquals(AuthResult.Reason.MALFORMED, reason(hugeApi));
  }

  @Test
  void tokenStartingWithApiKeyPrefixIsStillAToken() {
    byte[] keyId = Base64.getUrlDecoder().decode("alk_AAAA"); // first 6 bytes of the key id
    byte[] raw = new byte[AuthToken.LENGTH];
    System.arraycopy(keyId, 0, raw, 0, keyId.length);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    assertTrue(token.startsWith("alk_"));
    assertEquals(AuthResult.Reason.UNKNOWN_KEY, reason(token));
  }

  @Test
  void apiKeys() {
    Identity id =
        assertInstanceOf(AuthResult.Success.class, provider.resolveFromToken(ciKey.key()))
            .identity();
    assertEquals("apikey:ci", id.id());
    assertEquals("ci", id.displayName());
    assertEquals(Identity.Proof.API_KEY, id.proof());
    assertTrue(id.hasScope("git:read"));
    assertFalse(id.hasScope("git:write"));

    assertEquals(AuthResult.Reason.UNKNOWN_API_KEY, reason(ApiKeys.generate().key()));
    assertEquals(AuthResult.Reason.API_KEY_EXPIRED, reason(oldKey.key()));
    assertEquals(AuthResult.Reason.MALFORMED, reason("alk_short"));
    assertEquals(AuthResult.Reason.MALFORMED, reason(ciKey.key() + "x"));
    assertEquals(AuthResult.Reason.MALFORMED, reason("alk_" + "*".repeat(43)));
    String wrong = ciKey.key().substring(0, 46) + (ciKey.key().endsWith("A") ? "B" : "A");
    assertEquals(AuthResult.Reason.UNKNOWN_API_KEY, reason(wrong));
  }

  @Test
  void apiKeyExpiresAtInstant() {
    NewApiKey k = ApiKeys.generate();
    dir.set(
        IdentityDirectory.of(
            List.of(),
            List.of(
                new ApiKeyEntry("t", ApiKeys.parseHash(k.hash()), Set.of(), Optional.of(NOW)))));
    assertEquals(AuthResult.Reason.API_KEY_EXPIRED, reason(k.key()));
    dir.set(
        IdentityDirectory.of(
            List.of(),
            List.of(
                new ApiKeyEntry(
                    "t", ApiKeys.parseHash(k.hash()), Set.of(), Optional.of(NOW.plusMillis(1))))));
    assertTrue(provider.resolveFromToken(k.key()).isSuccess());
  }

  @Test
  void fingerprintAndPublicKeyLookups() {
    String fp = Fingerprints.sha256(alice.getPublic());
    Identity id = provider.resolveFromFingerprint(fp).orElseThrow();
    assertEquals(Identity.Proof.PUBLIC_KEY, id.proof());
    assertEquals(fp, id.id());
    assertEquals(id, provider.resolveFromPublicKey(alice.getPublic()).orElseThrow());
    assertTrue(
        provider.resolveFromFingerprint(Fingerprints.sha256(stranger.getPublic())).isEmpty());
    assertTrue(provider.resolveFromFingerprint(null).isEmpty());
    assertTrue(provider.resolveFromFingerprint("SHA256:garbage").isEmpty());
    assertTrue(provider.resolveFromPublicKey(stranger.getPublic()).isEmpty());
    assertTrue(provider.resolveFromPublicKey(null).isEmpty());
  }

  @Test
  void reloadTakesEffectOnNextCall() {
    String token = AuthToken.mint(alice, NOW);
    assertTrue(provider.resolveFromToken(token).isSuccess());
    dir.set(IdentityDirectory.EMPTY);
    assertEquals(AuthResult.Reason.UNKNOWN_KEY, reason(token));
    assertEquals(AuthResult.Reason.UNKNOWN_API_KEY, reason(ciKey.key()));
    dir.set(null);
    assertEquals(AuthResult.Reason.UNKNOWN_KEY, reason(token));
    assertTrue(provider.resolveFromFingerprint(Fingerprints.sha256(alice.getPublic())).isEmpty());
  }

  @Test
  void keyWithoutScopesIsDeniedEverything() {
    dir.set(
        IdentityDirectory.of(
            List.of(AuthorizedKey.of(alice.getPublic(), Set.of(), "")), List.of()));
    Identity id =
        assertInstanceOf(
                AuthResult.Success.class, provider.resolveFromToken(AuthToken.mint(alice, NOW)))
            .identity();
    assertEquals(id.id(), id.displayName());
    for (String s : List.of("anonymous", "dns", "git:read", "call:demo", "admin")) {
      assertFalse(id.hasScope(s), s);
    }
  }
}

package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class AuthTokenTest {
  final KeyPair kp = Ed25519Keys.generate();

  @Test
  void layoutIsAsDocumented() throws Exception {
    Instant t = Instant.parse("2026-01-02T03:04:05.678Z");
    String token = AuthToken.mint(kp, t);
    assertEquals(AuthToken.ENCODED_LENGTH, token.length());
    byte[] raw = Base64.getUrlDecoder().decode(token);
    assertEquals(104, raw.length);
    ByteBuffer b = ByteBuffer.wrap(raw);
    byte[] keyId = new byte[32];
    b.get(keyId);
    assertArrayEquals(Ed25519Keys.rawPublic(kp.getPublic()), keyId);
    assertEquals(t.toEpochMilli(), b.getLong());
    byte[] sig = new byte[64];
    b.get(sig);
    byte[] label = "alknet-auth-token-v1".getBytes(StandardCharsets.UTF_8);
    byte[] signed =
        ByteBuffer.allocate(label.length + 1 + 40)
            .put(label)
            .put((byte) 0)
            .put(keyId)
            .putLong(t.toEpochMilli())
            .array();
    assertTrue(Ed25519Keys.verify(kp.getPublic(), signed, sig));

    AuthToken.Parsed p = AuthToken.parse(token);
    assertArrayEquals(keyId, p.keyId());
    assertEquals(t, p.timestamp());
    assertArrayEquals(sig, p.signature());
    assertArrayEquals(signed, p.signedData());
    assertEquals(Fingerprints.sha256(kp.getPublic()), p.fingerprint());
    assertEquals(p, AuthToken.parse(token));
  }

  @Test
  void parseRejectsWithDescriptiveMessages() {
    MalformedTokenException e =
        assertThrows(MalformedTokenException.class, () -> AuthToken.parse("x".repeat(1 << 20)));
    assertEquals("token length 1048576 (expected 139)", e.getMessage());
    assertThrows(MalformedTokenException.class, () -> AuthToken.parse(null));
    assertThrows(MalformedTokenException.class, () -> AuthToken.parse(""));
    assertThrows(MalformedTokenException.class, () -> AuthToken.parse(" ".repeat(139)));
  }

  @Test
  void verifyRejectsMismatchedKey() throws Exception {
    AuthToken.Parsed p = AuthToken.parse(AuthToken.mint(kp, Instant.EPOCH));
    assertEquals(
        AuthResult.Reason.BAD_SIGNATURE,
        AuthToken.verify(p, Ed25519Keys.generate().getPublic(), Instant.EPOCH, TokenPolicy.DEFAULT)
            .orElseThrow()
            .reason());
    assertTrue(AuthToken.verify(p, kp.getPublic(), Instant.EPOCH, TokenPolicy.DEFAULT).isEmpty());
  }

  @Test
  void policyValidation() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new TokenPolicy(java.time.Duration.ZERO, java.time.Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> new TokenPolicy(java.time.Duration.ofMinutes(1), java.time.Duration.ofSeconds(-1)));
    assertEquals(java.time.Duration.ofMinutes(5), TokenPolicy.DEFAULT.maxAge());
    assertEquals(java.time.Duration.ofSeconds(30), TokenPolicy.DEFAULT.maxSkew());
  }
}

package net.alknet.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdentityTest {

  @Test
  void anonymous() {
    Identity a = Identity.anonymous();
    assertEquals("anonymous", a.id());
    assertEquals(Set.of("anonymous"), a.scopes());
    assertEquals(Identity.Proof.ANONYMOUS, a.proof());
    assertTrue(a.isAnonymous());
    assertTrue(a.hasScope(Scopes.ANONYMOUS));
    assertFalse(a.hasScope(Scopes.DNS));
  }

  @Test
  void withProofAndImmutableScopes() {
    Set<String> scopes = new HashSet<>(Set.of("git"));
    Identity i = new Identity("SHA256:x", "laptop", scopes, Identity.Proof.PUBLIC_KEY);
    scopes.add("admin");
    assertFalse(i.hasScope("admin"));
    assertTrue(i.hasScope("git:read"));
    Identity c = i.withProof(Identity.Proof.CLIENT_CERTIFICATE);
    assertEquals(Identity.Proof.CLIENT_CERTIFICATE, c.proof());
    assertEquals(i.id(), c.id());
    assertThrows(UnsupportedOperationException.class, () -> i.scopes().add("x"));
    assertThrows(
        IllegalArgumentException.class,
        () -> new Identity(" ", "x", Set.of(), Identity.Proof.API_KEY));
  }
}

package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.alknet.auth.AuthorizedKey;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import net.alknet.auth.Identity;
import net.alknet.auth.IdentityDirectory;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** EP-8: an Ed25519 client certificate resolves to an identity in the AuthContext. */
class MutualTlsTest {

  @RegisterExtension final TestNodes nodes = new TestNodes();

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  private AuthContext contextOf(TestHandlers.Transform echo, Optional<KeyPair> key, Transport t)
      throws Exception {
    EndpointClient client = nodes.client(key, EndpointLimits.DEFAULTS);
    try {
      Connection c = nodes.connect(client, "test/echo", t);
      assertEquals("hi", TestNodes.exchange(c, "hi"));
      c.close(CloseCode.NO_ERROR, "");
    } finally {
      if (client != nodes.client) {
        client.close();
      }
    }
    assertEquals(1, echo.contexts.size());
    return echo.contexts.poll();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void aListedKeyIsTheIdentityAnUnlistedKeyIsOnlyAKey(Transport t) {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        Duration.ofSeconds(40),
        () -> {
          KeyPair listed = Ed25519Keys.generate();
          KeyPair unlisted = Ed25519Keys.generate();
          nodes.directory =
              IdentityDirectory.of(
                  List.of(AuthorizedKey.of(listed.getPublic(), Set.of(), "alice laptop")),
                  List.of());
          TestHandlers.Transform echo = TestHandlers.echo("test/echo");
          nodes.start(echo);

          AuthContext a = contextOf(echo, Optional.of(listed), t);
          assertEquals(t, a.transport());
          assertTrue(a.clientKey().isPresent(), "no client key over " + t);
          assertArrayEquals(
              Ed25519Keys.rawPublic(listed.getPublic()),
              Ed25519Keys.rawPublic(a.clientKey().get()));
          assertTrue(a.identity().isPresent(), "no identity over " + t);
          Identity id = a.identity().get();
          assertEquals(Fingerprints.sha256(listed.getPublic()), id.id());
          assertEquals("alice laptop", id.displayName());
          assertEquals(Identity.Proof.CLIENT_CERTIFICATE, id.proof());

          AuthContext b = contextOf(echo, Optional.of(unlisted), t);
          assertTrue(b.clientKey().isPresent(), "no client key over " + t);
          assertArrayEquals(
              Ed25519Keys.rawPublic(unlisted.getPublic()),
              Ed25519Keys.rawPublic(b.clientKey().get()));
          assertTrue(b.identity().isEmpty(), b.identity().toString());

          AuthContext c = contextOf(echo, Optional.empty(), t);
          assertTrue(c.clientKey().isEmpty());
          assertTrue(c.identity().isEmpty());
        });
  }
}

package net.alknet.ssh;

import java.security.PublicKey;
import java.util.Objects;
import java.util.Optional;
import net.alknet.auth.Identity;
import net.alknet.auth.IdentityProvider;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.session.Session;

/**
 * What alknet attaches to each MINA session: the endpoint connection it runs on and the identity
 * provider its keys are checked against; after authentication, the key that authenticated.
 *
 * <p>The identity is resolved again from the key at each decision ({@link #identity}), so a key
 * removed from {@code authorized_keys} or a scope taken away stops new forwards and commands of
 * sessions that are already open.
 *
 * @param connectionId the endpoint connection id, for log lines
 * @param identities the node's identity provider
 */
public record SshPeer(String connectionId, IdentityProvider identities) {

  private static final AttributeKey<SshPeer> PEER = new AttributeKey<>();
  private static final AttributeKey<PublicKey> KEY = new AttributeKey<>();

  public SshPeer {
    Objects.requireNonNull(connectionId, "connectionId");
    Objects.requireNonNull(identities, "identities");
  }

  /** Attaches this peer to a new session, before it reads any input. */
  void attachTo(Session session) {
    session.setAttribute(PEER, this);
  }

  /** The peer attached to {@code session}, if any. */
  static Optional<SshPeer> of(Session session) {
    return Optional.ofNullable(session.getAttribute(PEER));
  }

  /**
   * Remembers the key a public-key attempt is about. MINA checks the key before it verifies the
   * signature and only the last attempt can succeed, so once the session is authenticated this is
   * the key that proved possession.
   */
  static void offeredKey(Session session, PublicKey key) {
    session.setAttribute(KEY, key);
  }

  /**
   * The identity of an authenticated session, resolved now from its key; empty if the session is
   * not authenticated or the key is no longer authorized.
   */
  static Optional<Identity> identity(Session session) {
    PublicKey key = session.getAttribute(KEY);
    if (key == null || !session.isAuthenticated()) {
      return Optional.empty();
    }
    return of(session).flatMap(p -> p.identities().resolveFromPublicKey(key));
  }

  /** The connection id of {@code session} for log lines ({@code ?} if unknown). */
  static String connectionId(Session session) {
    return of(session).map(SshPeer::connectionId).orElse("?");
  }
}

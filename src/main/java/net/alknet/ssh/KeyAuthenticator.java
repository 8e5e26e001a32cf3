package net.alknet.ssh;

import java.security.PublicKey;
import net.alknet.auth.Ed25519Keys;
import org.apache.sshd.server.auth.pubkey.PublickeyAuthenticator;
import org.apache.sshd.server.session.ServerSession;
import org.jboss.logging.Logger;

/**
 * Public-key user authentication against the node's {@link net.alknet.auth.IdentityProvider}: a key
 * listed in {@code authorized_keys} is accepted whatever user name the client sends; its identity
 * and scopes then govern what the session may do. Only Ed25519 keys can be listed.
 *
 * <p>MINA calls this before it verifies the client's signature; it verifies the signature itself
 * and fails the attempt if it does not match.
 */
final class KeyAuthenticator implements PublickeyAuthenticator {

  private static final Logger LOG = Logger.getLogger(KeyAuthenticator.class);

  @Override
  public boolean authenticate(String username, PublicKey key, ServerSession session) {
    SshPeer peer = SshPeer.of(session).orElse(null);
    if (peer == null || key == null || !Ed25519Keys.isEd25519(key)) {
      return false;
    }
    PublicKey ed25519 = MinaKeys.toJdk(key);
    boolean known = peer.identities().resolveFromPublicKey(ed25519).isPresent();
    if (known) {
      SshPeer.offeredKey(session, ed25519);
    } else {
      LOG.debugf("[%s] ssh: key not in authorized_keys", peer.connectionId());
    }
    return known;
  }
}

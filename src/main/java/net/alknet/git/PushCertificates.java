package net.alknet.git;

import java.security.SecureRandom;
import java.util.Base64;
import net.alknet.auth.Identity;
import org.eclipse.jgit.transport.ReceiveCommand;
import org.eclipse.jgit.transport.ReceivePack;
import org.eclipse.jgit.transport.SignedPushConfig;
import org.jboss.logging.Logger;

/**
 * Signed pushes (GIT-4): for a repository with {@code require-signed-push}, ReceivePack advertises
 * {@code push-cert=<nonce>} and every push must carry a push certificate whose signature is made by
 * the pushing identity's own key; otherwise every command is rejected before any ref moves.
 *
 * <p>The nonce seed is random per node process (never configured, never leaves the node); nonces
 * are HMACs of the repository and time, so a certificate cannot be replayed elsewhere or later.
 */
public final class PushCertificates {

  private static final Logger LOG = Logger.getLogger(PushCertificates.class);

  private final SignedPushConfig config = new SignedPushConfig();

  public PushCertificates() {
    byte[] seed = new byte[32];
    new SecureRandom().nextBytes(seed);
    config.setCertNonceSeed(Base64.getEncoder().encodeToString(seed));
    config.setCertNonceSlopLimit(300);
  }

  /** Makes {@code rp} require a valid certificate from {@code who}. */
  void require(ReceivePack rp, Identity who, String connectionId) {
    rp.setSignedPushConfig(config);
    rp.setPreReceiveHook(
        (r, commands) -> {
          String problem = SignedPushCheck.problem(r.getPushCertificate(), who);
          if (problem != null) {
            LOG.infof("[%s] signed push refused for %s: %s", connectionId, who.id(), problem);
            for (ReceiveCommand c : commands) {
              if (c.getResult() == ReceiveCommand.Result.NOT_ATTEMPTED) {
                c.setResult(ReceiveCommand.Result.REJECTED_OTHER_REASON, problem);
              }
            }
          }
        });
  }
}

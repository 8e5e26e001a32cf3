package net.alknet.git;

import java.io.InputStream;
import java.security.SecureRandom;
import java.util.HexFormat;
import net.alknet.auth.Identity;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.NonceGenerator;
import org.eclipse.jgit.transport.PushCertificate.NonceStatus;
import org.eclipse.jgit.transport.ReceiveCommand;
import org.eclipse.jgit.transport.ReceivePack;
import org.eclipse.jgit.transport.SignedPushConfig;
import org.jboss.logging.Logger;

/**
 * Signed pushes (GIT-4): for a repository with {@code require-signed-push}, ReceivePack advertises
 * {@code push-cert=<nonce>} and every push must carry a push certificate signed by the pushing
 * identity's own key ({@link SignedPushCheck}); otherwise every command is rejected before any ref
 * moves.
 *
 * <p>The nonce is 128 random bits per connection: advertisement and certificate travel on the same
 * stream, so nothing has to be remembered or derived from a seed, and a certificate cannot be
 * replayed on another connection. The certificate itself is taken out of the stream by {@link
 * PushCertFilter} (JGit parses only PGP certificates).
 */
final class PushCertificates {

  private static final Logger LOG = Logger.getLogger(PushCertificates.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  private PushCertificates() {}

  /**
   * Makes {@code rp} require a valid certificate from {@code who}.
   *
   * @return the input stream to give {@code rp} instead of {@code in}
   */
  static InputStream require(ReceivePack rp, InputStream in, Identity who, String connectionId) {
    byte[] n = new byte[16];
    RANDOM.nextBytes(n);
    String nonce = HexFormat.of().formatHex(n);
    SignedPushConfig config = new SignedPushConfig();
    config.setNonceGenerator(
        new NonceGenerator() {
          @Override
          public String createNonce(Repository db, long timestamp) {
            return nonce;
          }

          @Override
          public NonceStatus verify(
              String received, String sent, Repository db, boolean allowSlop, int slop) {
            return nonce.equals(received) ? NonceStatus.OK : NonceStatus.BAD;
          }
        });
    rp.setSignedPushConfig(config);
    PushCertFilter filter = new PushCertFilter(in);
    rp.setPreReceiveHook(
        (r, commands) -> {
          String problem = SignedPushCheck.problem(filter.certificate(), nonce, who);
          if (problem == null) {
            LOG.infof("[%s] signed push by %s: certificate verified", connectionId, who.id());
            return;
          }
          LOG.infof("[%s] signed push refused for %s: %s", connectionId, who.id(), problem);
          for (ReceiveCommand c : commands) {
            if (c.getResult() == ReceiveCommand.Result.NOT_ATTEMPTED) {
              c.setResult(ReceiveCommand.Result.REJECTED_OTHER_REASON, problem);
            }
          }
        });
    return filter;
  }
}

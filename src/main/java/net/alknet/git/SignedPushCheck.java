package net.alknet.git;

import java.nio.charset.StandardCharsets;
import net.alknet.auth.Identity;

/**
 * Decides whether a push certificate authorizes a push (GIT-4): version 0.1, the nonce this
 * connection advertised, an SSH signature (namespace {@code git}) that verifies over the
 * certificate text, made by the key of the pushing identity itself.
 */
final class SignedPushCheck {

  static final String UNSIGNED =
      "this repository requires signed pushes (git push --signed, gpg.format=ssh)";

  private SignedPushCheck() {}

  /** Null if {@code cert} authorizes {@code who}'s push, else why not (for the peer). */
  static String problem(PushCertFilter.Certificate cert, String sentNonce, Identity who) {
    if (cert == null) {
      return UNSIGNED;
    }
    if (!"0.1".equals(cert.header("certificate version"))) {
      return "unsupported push certificate version";
    }
    if (sentNonce == null || !sentNonce.equals(cert.header("nonce"))) {
      return "push certificate nonce is not the one this node issued";
    }
    if (cert.signature().isEmpty()) {
      return "push certificate is not signed";
    }
    if (!cert.signature().startsWith(SshSignature.BEGIN)) {
      return "push certificate must be signed with an SSH key (gpg.format=ssh)";
    }
    String signer;
    try {
      signer =
          SshSignature.verify(
              cert.signature(), cert.payload().getBytes(StandardCharsets.UTF_8), "git");
    } catch (SshSignature.SignatureException e) {
      return "push certificate signature invalid: " + e.getMessage();
    }
    if (!signer.equals(who.id())) {
      return "push certificate is signed by "
          + signer
          + ", not by the pushing identity "
          + (who.isAnonymous() ? "(none: no authorized client key)" : who.id());
    }
    return null;
  }
}

package net.alknet.git;

import net.alknet.auth.Identity;
import org.eclipse.jgit.transport.PushCertificate;

/** Verifies a push certificate against the pushing identity (GIT-4). */
final class SignedPushCheck {

  private SignedPushCheck() {}

  /** Null if {@code cert} is a valid certificate signed by {@code who}'s key, else why not. */
  static String problem(PushCertificate cert, Identity who) {
    if (cert == null) {
      return "this repository requires signed pushes (git push --signed)";
    }
    return "push certificate signatures are not verified yet";
  }
}

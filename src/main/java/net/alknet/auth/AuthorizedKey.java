package net.alknet.auth;

import java.security.PublicKey;
import java.util.Objects;
import java.util.Set;

/**
 * One {@code authorized_keys} entry. Immutable.
 *
 * @param key the Ed25519 public key
 * @param fingerprint its OpenSSH fingerprint {@code SHA256:...}, also the identity id
 * @param scopes scopes from the {@code scopes="..."} option; empty if absent (deny by default)
 * @param comment the line's comment, used as display name; empty if absent
 */
public record AuthorizedKey(PublicKey key, String fingerprint, Set<String> scopes, String comment) {

  /** Validates and copies the components; the fingerprint MUST match the key. */
  public AuthorizedKey {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(fingerprint, "fingerprint");
    Objects.requireNonNull(comment, "comment");
    if (!fingerprint.equals(Fingerprints.sha256(key))) {
      throw new IllegalArgumentException("fingerprint does not match key");
    }
    scopes = Set.copyOf(Objects.requireNonNull(scopes, "scopes"));
    for (String s : scopes) {
      if (!Scopes.isValid(s)) {
        throw new IllegalArgumentException("invalid scope '" + Scopes.shorten(s) + "'");
      }
    }
    if (comment.indexOf('\n') >= 0 || comment.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("comment must not contain line breaks");
    }
  }

  /** Creates an entry, computing the fingerprint. */
  public static AuthorizedKey of(PublicKey key, Set<String> scopes, String comment) {
    return new AuthorizedKey(key, Fingerprints.sha256(key), scopes, comment);
  }

  /** Returns the identity for this key with proof PUBLIC_KEY; display name = comment or id. */
  public Identity identity() {
    return new Identity(
        fingerprint, comment.isBlank() ? fingerprint : comment, scopes, Identity.Proof.PUBLIC_KEY);
  }

  @Override
  public String toString() {
    return "AuthorizedKey[" + fingerprint + ", scopes=" + scopes + ", comment=" + comment + "]";
  }
}

package net.alknet.endpoint;

import java.net.InetSocketAddress;
import java.security.PublicKey;
import java.util.Optional;
import net.alknet.auth.Identity;
import net.alknet.auth.IdentityProvider;

/**
 * What the endpoint knows about a peer when it hands a connection to a handler (EP-8, AUTH-1). The
 * endpoint fills in what the transport proved (a client certificate's Ed25519 key and the identity
 * it resolves to); handlers complete authentication their own way (SSH public key, call {@code
 * hello}, HTTP bearer) through the same {@link #identities()} provider.
 *
 * @param clientKey the Ed25519 public key of the peer's TLS client certificate, if any
 * @param identity the identity that key resolves to in the current dynamic config, if any
 * @param identities the node's one identity provider, shared by every protocol
 */
public record AuthContext(
    String connectionId,
    String alpn,
    Transport transport,
    InetSocketAddress remoteAddress,
    Optional<PublicKey> clientKey,
    Optional<Identity> identity,
    IdentityProvider identities) {}

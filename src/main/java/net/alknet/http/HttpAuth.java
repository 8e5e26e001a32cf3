package net.alknet.http;

import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;
import net.alknet.auth.AuthResult;
import net.alknet.auth.Identity;
import net.alknet.auth.IdentityProvider;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.config.AlknetConfig;
import net.alknet.endpoint.AuthContext;
import net.alknet.node.Node;
import org.jboss.logging.Logger;

/**
 * Who is calling over HTTP (HTTP-3): {@code Authorization: Bearer <AuthToken or API key>}, checked
 * by the node's one identity provider. Without a header, a TLS client certificate the endpoint
 * resolved counts; then anonymous if {@code alknet.call.allow-anonymous}. Anything else is 401 with
 * {@code WWW-Authenticate: Bearer}; the reason is logged, never sent.
 */
@ApplicationScoped
public class HttpAuth {

  private static final Logger LOG = Logger.getLogger(HttpAuth.class);
  private static final int MAX_CREDENTIAL = 8192;

  private final Node node;
  private final AlknetConfig config;

  public HttpAuth(Node node, AlknetConfig config) {
    this.node = node;
    this.config = config;
  }

  /** The identity provider requests are checked against. */
  IdentityProvider identities(HttpServerRequest request) {
    return HttpHandler.authOf(request)
        .map(AuthContext::identities)
        .or(node::identities)
        .orElseThrow(() -> new HttpProblem(503, ErrorCodes.UNAVAILABLE, "the node is not running"));
  }

  /**
   * The caller's identity.
   *
   * @throws HttpProblem 401 when no acceptable credential was presented
   */
  Identity authenticate(HttpServerRequest request) {
    String header = request.getHeader("Authorization");
    if (header == null) {
      Optional<Identity> transport = HttpHandler.authOf(request).flatMap(AuthContext::identity);
      if (transport.isPresent()) {
        return transport.get();
      }
      if (config.call().allowAnonymous()) {
        return Identity.anonymous();
      }
      throw unauthenticated("a bearer credential is required");
    }
    if (header.length() > MAX_CREDENTIAL
        || header.length() < 8
        || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw unauthenticated("use Authorization: Bearer <token or API key>");
    }
    AuthResult r = identities(request).resolveFromToken(header.substring(7).trim());
    if (r instanceof AuthResult.Success s) {
      return s.identity();
    }
    AuthResult.Failure f = (AuthResult.Failure) r;
    LOG.infof(
        "HTTP %s %s from %s refused: %s (%s)",
        request.method(), request.path(), request.remoteAddress(), f.reason(), f.logDetail());
    throw unauthenticated(AuthResult.PEER_MESSAGE);
  }

  private static HttpProblem unauthenticated(String message) {
    return new HttpProblem(401, ErrorCodes.UNAUTHENTICATED, message);
  }
}

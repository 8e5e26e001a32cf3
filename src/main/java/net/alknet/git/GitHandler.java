package net.alknet.git;

import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import net.alknet.auth.Identity;
import net.alknet.config.DynamicConfigStore;
import net.alknet.config.GitAccess;
import net.alknet.endpoint.AuthContext;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.ProtocolHandler;
import net.alknet.endpoint.Stream;
import net.alknet.node.Node;

/**
 * ALPN {@code alknet/git}: a git server on the node's port (SPEC §9). Each connection carries one
 * git request on its first stream (the only one over TLS/TCP; the client's first over QUIC): the
 * git:// request line, then the service's own protocol, served by {@link GitEngine} on the handler
 * thread (JGit blocks; never on an event loop). Stock git reaches it through the {@code
 * git-remote-alknet} remote helper or {@code alknet bridge} as an ext:: transport (docs/git.md).
 *
 * <p>The peer's identity is the one its TLS client certificate proved ({@link
 * AuthContext#identity()}); without one it is anonymous. Access comes from its scopes and the
 * {@code git_access} rules of the dynamic config in force when the request arrives.
 */
@ApplicationScoped
public class GitHandler implements ProtocolHandler {

  public static final String ALPN = "alknet/git";

  /** Delta-search memory per pack-generation thread. */
  static final long PACK_MEMORY_LIMIT = 32L * 1024 * 1024;

  private final Node node;
  private final GitDenials denials;
  private Engine engine; // guarded by this

  private record Engine(Path dataDir, GitEngine engine) {}

  public GitHandler(Node node, MeterRegistry meters) {
    this.node = node;
    this.denials = new GitDenials(meters);
  }

  @Override
  public Set<String> alpns() {
    return Set.of(ALPN);
  }

  @Override
  public String name() {
    return "git";
  }

  @Override
  public void handle(Connection connection, AuthContext auth) throws Exception {
    Stream stream = connection.acceptStream();
    if (stream == null) {
      return;
    }
    try {
      Identity who = auth.identity().orElse(Identity.anonymous());
      engine().serve(stream.input(), stream.output(), who, connection.id());
    } finally {
      stream.close();
    }
  }

  /** The engine for the running node's data directory. */
  synchronized GitEngine engine() throws IOException {
    Path dir = node.runningDataDir().orElseThrow(() -> new IOException("the node is not running"));
    if (engine == null || !engine.dataDir().equals(dir)) {
      GitEngine.Settings settings = new GitEngine.Settings(dir.resolve("git"), PACK_MEMORY_LIMIT);
      GitEngine e =
          new GitEngine(
              settings,
              () ->
                  node.dynamicConfig()
                      .map(DynamicConfigStore::current)
                      .map(c -> c.git())
                      .orElse(GitAccess.DEFAULT),
              denials);
      engine = new Engine(dir, e);
    }
    return engine.engine();
  }
}

package net.alknet.git;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import net.alknet.auth.Identity;
import net.alknet.config.AlknetConfig;
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
 *
 * <p>Settings come from {@code alknet.git.*} ({@link AlknetConfig.Git}): JGit's storage settings
 * are installed when this handler is made (at startup, when the node collects its handlers), and
 * pushes feed the {@link GitMaintenance} of the engine of the running node, which {@link #shutdown}
 * stops (requests still served in the shutdown grace period start no new maintenance).
 */
@ApplicationScoped
public class GitHandler implements ProtocolHandler {

  public static final String ALPN = "alknet/git";

  private final Node node;
  private final AlknetConfig.Git config;
  private final GitStorage storage;
  private final GitMaintenance.Settings maintenanceSettings;
  private final MeterRegistry meters;
  private final GitDenials denials;
  private final PushMemory pushMemory; // node-wide, across engines
  private Engine engine; // guarded by this
  private boolean stopping; // guarded by this: shutdown() until the next start

  private record Engine(Path dataDir, GitEngine engine, GitMaintenance maintenance) {}

  /**
   * Checks the {@code alknet.git.*} settings at once, so a bad value stops the node at startup.
   *
   * @throws IllegalArgumentException for a value out of bounds, naming the property
   */
  public GitHandler(Node node, AlknetConfig config, MeterRegistry meters) {
    this.node = node;
    this.config = config.git();
    this.storage = GitStorage.from(this.config, Runtime.getRuntime().maxMemory());
    storage.install(); // before any repository is opened
    this.maintenanceSettings = GitMaintenance.Settings.from(this.config);
    settings(Path.of(".")); // the push limits and request timeout, checked now
    this.meters = meters;
    this.denials = new GitDenials(meters);
    this.pushMemory =
        new PushMemory(
            this.config.pushMemory().map(m -> m.asLongValue()).orElseGet(PushMemory::defaultLimit));
    Gauge.builder(PushMemory.METER + ".reserved", pushMemory, PushMemory::reserved)
        .description("heap reserved by the pushes in progress for their objects")
        .baseUnit("bytes")
        .register(meters);
    FunctionCounter.builder(PushMemory.METER + ".refused", pushMemory, PushMemory::refused)
        .description("pushes refused for want of alknet.git.push-memory")
        .register(meters);
    Gauge.builder(GitMaintenance.METER + ".pending", this, GitHandler::pendingMaintenance)
        .register(meters);
  }

  private GitEngine.Settings settings(Path root) {
    return new GitEngine.Settings(
        root,
        config.packMemoryLimit().asLongValue(),
        config.maxObjectSize().asLongValue(),
        config.maxPackObjects(),
        config.maxPackSize().map(m -> m.asLongValue()).orElse(0L),
        config.requestTimeout(),
        config.ioTimeout());
  }

  private synchronized double pendingMaintenance() {
    return engine == null ? 0 : engine.maintenance().pendingCount();
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

  /**
   * The node is stopping: maintenance stops (pending runs dropped, a running GC cancelled at its
   * next checkpoint; its temporary files are removed by a later run). Pushes still finishing in the
   * grace period schedule nothing; a later node start in this JVM makes a new engine.
   */
  @Override
  public synchronized void shutdown() {
    stopping = true;
    if (engine != null) {
      engine.maintenance().close();
      engine = null;
    }
  }

  /** The node (re)started: pushes feed maintenance again. */
  @Override
  public synchronized void started() {
    stopping = false;
    if (engine != null) {
      // One made during the last shutdown's grace period, without maintenance.
      engine.maintenance().close();
      engine = null;
    }
  }

  /** Whether pushes to the running node's engine lead to maintenance (tests). */
  synchronized boolean maintenanceEnabled() throws IOException {
    engine();
    return engine.maintenance().enabled();
  }

  /** The engine for the running node's data directory. */
  synchronized GitEngine engine() throws IOException {
    Path dir = node.runningDataDir().orElseThrow(() -> new IOException("the node is not running"));
    if (engine == null || !engine.dataDir().equals(dir)) {
      if (engine != null) {
        engine.maintenance().close();
      }
      storage.install(); // no-op unless something else installed other settings meanwhile
      // Absolute and normalized: repository directories are RepositoryCache keys, and maintenance
      // must open the same cached repository as the requests.
      GitEngine.Settings settings = settings(dir.resolve("git").toAbsolutePath().normalize());
      // A request in the shutdown grace period gets an engine whose pushes start no maintenance:
      // nothing would stop its threads.
      GitMaintenance maintenance =
          new GitMaintenance(
              stopping ? maintenanceSettings.disabled() : maintenanceSettings, meters);
      GitEngine e =
          new GitEngine(
              settings,
              () ->
                  node.dynamicConfig()
                      .map(DynamicConfigStore::current)
                      .map(c -> c.git())
                      .orElse(GitAccess.DEFAULT),
              denials,
              maintenance::pushed,
              pushMemory);
      engine = new Engine(dir, e, maintenance);
    }
    return engine.engine();
  }
}

package net.alknet.node;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.quarkus.runtime.ShutdownEvent;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import net.alknet.auth.ConfigIdentityProvider;
import net.alknet.auth.Fingerprints;
import net.alknet.auth.IdentityProvider;
import net.alknet.auth.TokenPolicy;
import net.alknet.config.AlknetConfig;
import net.alknet.config.DynamicConfigStore;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.EndpointServer;
import net.alknet.endpoint.HandlerRegistry;
import net.alknet.endpoint.ProtocolHandler;
import net.alknet.endpoint.TlsIdentity;
import net.alknet.vault.Credentials;
import org.jboss.logging.Logger;

/**
 * A running alknet node: wires config, identity, the handler registry (built once from every {@link
 * ProtocolHandler} bean) and the endpoint on Vert.x's Netty event loops.
 *
 * <p>Only {@code alknet serve} calls {@link #start}; other CLI commands boot Quarkus without
 * binding any port. Stopped on Quarkus shutdown (SIGTERM/SIGINT) with the configured grace.
 */
@ApplicationScoped
public class Node {

  private static final Logger LOG = Logger.getLogger(Node.class);

  /**
   * Command-line values that win over static config.
   *
   * @param nodeKey the node's Ed25519 key (from the vault, {@code serve --vault}): the TLS identity
   *     becomes a self-signed certificate for it instead of {@code <data-dir>/tls/}
   * @param credentials the vault credentials granted to the node's handlers (VAULT-1); {@link
   *     Credentials#NONE} without a vault
   */
  public record Overrides(
      Optional<Path> dataDir,
      OptionalInt port,
      Optional<String> bindAddress,
      Optional<KeyPair> nodeKey,
      Credentials credentials) {
    public static final Overrides NONE =
        new Overrides(Optional.empty(), OptionalInt.empty(), Optional.empty());

    public Overrides {
      java.util.Objects.requireNonNull(credentials, "credentials");
    }

    public Overrides(Optional<Path> dataDir, OptionalInt port, Optional<String> bindAddress) {
      this(dataDir, port, bindAddress, Optional.empty(), Credentials.NONE);
    }
  }

  private final AlknetConfig config;
  private final Vertx vertx;
  private final MeterRegistry meters;
  private final Instance<ProtocolHandler> handlers;
  private volatile EndpointServer endpoint;
  private volatile DynamicConfigStore dynamic;
  private volatile ControlServer control;
  private volatile Path dataDir;
  private volatile IdentityProvider identities;
  private volatile Credentials credentials = Credentials.NONE;

  public Node(
      AlknetConfig config,
      Vertx vertx,
      MeterRegistry meters,
      @Any Instance<ProtocolHandler> handlers) {
    this.config = config;
    this.vertx = vertx;
    this.meters = meters;
    this.handlers = handlers;
  }

  /** The data directory in effect: the override, else config. */
  public Path dataDir(Optional<Path> override) {
    return override.orElse(config.dataDir()).toAbsolutePath().normalize();
  }

  /** Builds the registry from the handler beans; a duplicate ALPN fails naming both beans. */
  public HandlerRegistry buildRegistry() {
    List<HandlerRegistry.Registration> regs = new ArrayList<>();
    for (Instance.Handle<ProtocolHandler> h : handlers.handles()) {
      regs.add(new HandlerRegistry.Registration(h.getBean().getBeanClass().getName(), h.get()));
    }
    Set<String> disabled = new HashSet<>(config.handlers().disabled().orElse(List.of()));
    return HandlerRegistry.of(regs, disabled);
  }

  /** Starts the node: data dir, dynamic config, TLS identity, endpoint, control socket, SIGHUP. */
  public synchronized void start(Overrides overrides) throws IOException {
    if (endpoint != null) {
      throw new IllegalStateException("node already started");
    }
    Path dir = dataDir(overrides.dataDir());
    credentials = overrides.credentials();
    createPrivateDir(dir);
    dataDir = dir;

    Path dynDir = config.dynamic().dir().orElse(dir);
    DynamicConfigStore store =
        new DynamicConfigStore(dynDir, meters, Clock.systemUTC(), config.dynamic().pollInterval());
    DynamicConfigStore.ReloadResult first = store.reload();
    if (!first.ok()) {
      throw new IOException(first.message());
    }
    store.watch();
    dynamic = store;

    IdentityProvider identities =
        new ConfigIdentityProvider(
            store,
            Clock.systemUTC(),
            new TokenPolicy(config.auth().tokenMaxAge(), config.auth().tokenMaxSkew()));

    this.identities = identities;
    if (overrides.nodeKey().isPresent() && config.tls().certificate().isPresent()) {
      throw new IOException(
          "--vault derives the node's TLS key; unset alknet.tls.certificate to use it");
    }
    TlsIdentity tls =
        overrides.nodeKey().isPresent()
            ? TlsIdentity.selfSigned(overrides.nodeKey().get())
            : config.tls().certificate().isPresent()
                ? TlsIdentity.fromPem(
                    config.tls().certificate().get(),
                    config
                        .tls()
                        .privateKey()
                        .orElseThrow(
                            () ->
                                new IOException(
                                    "alknet.tls.certificate is set but alknet.tls.private-key is not")))
                : TlsIdentity.loadOrGenerate(dir.resolve("tls"));

    AlknetConfig.Limits l = config.limits();
    EndpointLimits limits =
        new EndpointLimits(
            l.maxConnections(),
            l.maxConnectionsPerAddress(),
            l.handshakeTimeout(),
            l.idleTimeout(),
            l.maxStreamsPerConnection(),
            l.streamBufferBytes());
    AlknetConfig.Endpoint e = config.endpoint();
    EndpointServer.Options options =
        new EndpointServer.Options(
            overrides.bindAddress().orElse(e.bindAddress()),
            overrides.port().orElse(e.port()),
            e.quic(),
            e.tcp(),
            e.defaultAlpn(),
            config.tls().requestClientCertificates());
    EventLoopGroup loops = ((VertxInternal) vertx).getEventLoopGroup();
    EndpointServer server =
        new EndpointServer(
            buildRegistry(), tls, identities, limits, options, loops, new EndpointMetrics(meters));
    server.start();
    endpoint = server;
    server.registry().handlers().forEach(ProtocolHandler::started);

    control = new ControlServer(dir.resolve(ControlServer.SOCKET), this);
    control.start();
    Signals.onHangup(() -> store.reload());
    if (overrides.nodeKey().isPresent()) {
      LOG.infof(
          "node key %s from the vault", Fingerprints.sha256(overrides.nodeKey().get().getPublic()));
    }
    LOG.infof("node certificate %s; data in %s", tls.fingerprint(), dir);
  }

  static void createPrivateDir(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      try {
        Files.createDirectories(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (UnsupportedOperationException e) {
        Files.createDirectories(dir);
      }
    }
  }

  public Optional<EndpointServer> endpoint() {
    return Optional.ofNullable(endpoint);
  }

  /** The identity provider of the running node (every protocol resolves credentials here). */
  /** The vault credentials granted to handlers ({@code serve --vault}); none otherwise. */
  public Credentials credentials() {
    return credentials;
  }

  public Optional<IdentityProvider> identities() {
    return Optional.ofNullable(identities);
  }

  public Optional<DynamicConfigStore> dynamicConfig() {
    return Optional.ofNullable(dynamic);
  }

  public Optional<Path> runningDataDir() {
    return Optional.ofNullable(dataDir);
  }

  /** Graceful stop (EP-7): endpoint first (it waits for in-flight work), then the rest. */
  public synchronized void stop() {
    EndpointServer server = endpoint;
    if (server != null) {
      server.shutdown(config.endpoint().shutdownGrace());
    }
    if (control != null) {
      control.close();
    }
    if (dynamic != null) {
      dynamic.close();
    }
    endpoint = null;
    control = null;
    dynamic = null;
    dataDir = null;
    identities = null;
  }

  void onShutdown(@Observes ShutdownEvent event) {
    stop();
  }
}

package net.alknet.call;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.alknet.auth.AuthToken;
import net.alknet.auth.LocalKeys;
import net.alknet.call.client.CallClient;
import net.alknet.call.client.CallOptions;
import net.alknet.call.client.PendingCall;
import net.alknet.call.client.RemoteOperations;
import net.alknet.call.client.Subscription;
import net.alknet.call.op.CallContext;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationSpec;
import net.alknet.call.op.RegisteredOperation;
import net.alknet.call.op.Schemas;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.config.AlknetConfig;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.KnownNodes;
import net.alknet.endpoint.Transport;
import net.alknet.endpoint.Trust;
import net.alknet.vault.Credentials;
import org.jboss.logging.Logger;

/**
 * from_call (CALL-12): imports the external operations of remote nodes under a local namespace.
 * {@code <ns>/<remote op>} forwards to the remote over one {@link CallClient} per import; aborting
 * the local call (or its parent, or losing the caller's connection) aborts the remote call, and a
 * deadline travels along, so a call hops node to node with the same semantics. Imported operations
 * need the scope {@code call:<ns>} locally and whatever the remote grants the import's credential
 * there.
 *
 * <p>An import whose node cannot be reached when the registry is built is skipped with a warning
 * (its operations are then NOT_FOUND); a lost connection makes its calls UNAVAILABLE.
 */
final class CallImports implements AutoCloseable {

  private static final Logger LOG = Logger.getLogger(CallImports.class);

  private final List<CallClient> clients = new ArrayList<>();
  private final List<EndpointClient> endpoints = new ArrayList<>();

  List<RegisteredOperation> load(AlknetConfig config, Credentials credentials) {
    List<RegisteredOperation> ops = new ArrayList<>();
    for (Map.Entry<String, AlknetConfig.Import> e : config.call().imports().entrySet()) {
      String ns = e.getKey();
      try {
        ops.addAll(load(ns, e.getValue(), config.dataDir(), credentials));
      } catch (Exception ex) {
        LOG.warnf(
            "call import %s from %s unavailable: %s",
            ns, e.getValue().target(), ex.getMessage() == null ? ex.toString() : ex.getMessage());
      }
    }
    return ops;
  }

  /**
   * What the import authenticates with: the vault credential named by {@code api-key-vault}, else
   * the API key in {@code api-key-file}, else an AuthToken minted with the key, else nothing.
   *
   * @throws IllegalStateException if {@code api-key-vault} names a credential not granted
   */
  static String credential(AlknetConfig.Import imp, Credentials credentials, Optional<KeyPair> key)
      throws IOException {
    if (imp.apiKeyVault().isPresent()) {
      String name = imp.apiKeyVault().get();
      byte[] secret =
          credentials
              .secret(name)
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "api-key-vault "
                              + name
                              + ": no such credential granted (is the node started with"
                              + " --vault, and was it added with `alknet vault add`?)"));
      try {
        return new String(secret, StandardCharsets.UTF_8).strip();
      } finally {
        java.util.Arrays.fill(secret, (byte) 0);
      }
    }
    if (imp.apiKeyFile().isPresent()) {
      return Files.readString(imp.apiKeyFile().get(), StandardCharsets.UTF_8).strip();
    }
    return key.map(k -> AuthToken.mint(k, Instant.now())).orElse(null);
  }

  private List<RegisteredOperation> load(
      String ns, AlknetConfig.Import imp, Path dataDir, Credentials credentials) throws Exception {
    if (!EnvelopeCodec.OP_NAME.matcher(ns + "/x").matches() || ns.contains("/")) {
      throw new IllegalArgumentException("invalid import namespace '" + ns + "'");
    }
    String target = imp.target();
    int colon = target.lastIndexOf(':');
    if (colon < 1) {
      throw new IllegalArgumentException("target must be host:port, got '" + target + "'");
    }
    String host = target.substring(0, colon).replace("[", "").replace("]", "");
    int port = Integer.parseInt(target.substring(colon + 1));
    Path keyFile = imp.keyFile().orElse(dataDir.resolve("id_ed25519"));
    Optional<KeyPair> key =
        Files.exists(keyFile) ? Optional.of(LocalKeys.load(keyFile)) : Optional.empty();
    String auth = credential(imp, credentials, key);
    Trust trust =
        imp.fingerprint()
            .map(Trust::pinned)
            .orElseGet(() -> Trust.knownNodes(new KnownNodes(dataDir.resolve("known_nodes"))));
    EndpointClient ec =
        new EndpointClient(
            null, key, EndpointLimits.DEFAULTS, new EndpointMetrics(new SimpleMeterRegistry()));
    endpoints.add(ec);
    CallClient client =
        CallClient.connect(
            ec,
            host,
            port,
            trust,
            imp.transport().equalsIgnoreCase("tcp") ? Transport.TCP : Transport.QUIC,
            auth,
            "alknet-import/" + ns);
    clients.add(client);
    RemoteOperations remote = new RemoteOperations(client);
    List<RegisteredOperation> out = new ArrayList<>();
    for (RemoteOperations.RemoteOperation op : remote.describe().get(30, TimeUnit.SECONDS)) {
      if (op.name().startsWith("sys/")) {
        continue;
      }
      String local = ns + "/" + op.name();
      if (!EnvelopeCodec.OP_NAME.matcher(local).matches()) {
        LOG.warnf("call import %s: skipping %s (name too deep)", ns, op.name());
        continue;
      }
      out.add(forwarder(ns, local, op, remote));
    }
    LOG.infof("call import %s: %d operation(s) from %s", ns, out.size(), target);
    return out;
  }

  private static RegisteredOperation forwarder(
      String ns, String local, RemoteOperations.RemoteOperation op, RemoteOperations remote) {
    Operation.Kind kind =
        switch (op.kind()) {
          case "subscription" -> Operation.Kind.SUBSCRIPTION;
          case "mutation" -> Operation.Kind.MUTATION;
          default -> Operation.Kind.QUERY;
        };
    JsonNode input =
        op.inputSchema() == null ? EnvelopeCodec.json().createObjectNode() : op.inputSchema();
    Set<String> tags = new HashSet<>(op.tags());
    tags.add("imported");
    OperationSpec spec =
        new OperationSpec(
            local,
            kind,
            op.description(),
            List.copyOf(tags),
            Set.of(),
            false,
            Operation.Visibility.EXTERNAL,
            op.errors(),
            "error".equals(op.overflow())
                ? Operation.Overflow.ERROR
                : Operation.Overflow.DROP_OLDEST,
            256,
            false,
            input,
            op.outputSchema(),
            op.eventSchema());
    String remoteName = op.name();
    RegisteredOperation.Impl impl =
        kind == Operation.Kind.SUBSCRIPTION
            ? (in, ctx) ->
                Multi.createFrom()
                    .<JsonNode>emitter(
                        em -> {
                          Subscription s =
                              remote.forwardSubscription(remoteName, in, em::emit, options(ctx));
                          s.done()
                              .whenComplete(
                                  (v, t) -> {
                                    if (t == null) {
                                      em.complete();
                                    } else {
                                      em.fail(t);
                                    }
                                  });
                          em.onTermination(s::abort);
                          ctx.abortSignal().onAbort(s::abort);
                        })
            : (in, ctx) -> {
              PendingCall p = remote.start(remoteName, in, options(ctx));
              ctx.abortSignal().onAbort(p::abort);
              return Uni.createFrom().completionStage(p.result());
            };
    return new RegisteredOperation(spec, Schemas.validator(input), impl, "import " + ns);
  }

  private static CallOptions options(CallContext ctx) {
    CallOptions o = CallOptions.DEFAULT.withMeta(ctx.meta());
    if (ctx.deadline().isPresent()) {
      Duration left = Duration.between(Instant.now(), ctx.deadline().get());
      o = o.withDeadline(left.isNegative() || left.isZero() ? Duration.ofMillis(1) : left);
    }
    return o;
  }

  @Override
  public void close() {
    clients.forEach(CallClient::close);
    endpoints.forEach(EndpointClient::close);
  }
}

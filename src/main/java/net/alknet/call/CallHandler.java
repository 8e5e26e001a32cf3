package net.alknet.call;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.alknet.auth.Identity;
import net.alknet.auth.IdentityProvider;
import net.alknet.call.op.OperationBean;
import net.alknet.call.op.OperationBinder;
import net.alknet.call.op.OperationRegistry;
import net.alknet.call.op.RegisteredOperation;
import net.alknet.call.session.CallSession;
import net.alknet.call.wire.FrameCodec;
import net.alknet.config.AlknetConfig;
import net.alknet.endpoint.AuthContext;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.ProtocolHandler;
import net.alknet.endpoint.Stream;
import net.alknet.endpoint.Transport;
import net.alknet.node.Node;
import org.jboss.logging.Logger;

/**
 * ALPN {@code alknet/call}: the operations bus (SPEC §6). One {@link CallSession} per connection;
 * the session stream is the first stream the client opens; over QUIC further client streams carry
 * calls too. Operations come from every {@link OperationBean}; the registry is built once, on first
 * use.
 */
@ApplicationScoped
public class CallHandler implements ProtocolHandler {

  public static final String ALPN = "alknet/call";
  private static final Logger LOG = Logger.getLogger(CallHandler.class);

  private final AlknetConfig config;
  private final Instance<OperationBean> beans;
  private final Set<CallSession> sessions = ConcurrentHashMap.newKeySet();
  private final ThreadPoolExecutor workers;
  private final ScheduledThreadPoolExecutor timers;
  private final CallImports imports = new CallImports();
  private final Node node;
  private volatile OperationRegistry registry;

  public CallHandler(AlknetConfig config, Node node, @Any Instance<OperationBean> beans) {
    this.node = node;
    this.config = config;
    this.beans = beans;
    int n = Math.max(2, config.call().workers());
    AtomicInteger count = new AtomicInteger();
    this.workers =
        new ThreadPoolExecutor(
            n,
            n,
            60,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(16_384),
            r -> daemon(r, "alknet-call-" + count.incrementAndGet()));
    this.workers.allowCoreThreadTimeOut(true);
    this.timers = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "alknet-call-timer"));
    this.timers.setRemoveOnCancelPolicy(true);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  @Override
  public Set<String> alpns() {
    return Set.of(ALPN);
  }

  @Override
  public String name() {
    return "call";
  }

  /** The operations of this node (built on first use). */
  public OperationRegistry registry() {
    OperationRegistry r = registry;
    if (r == null) {
      synchronized (this) {
        if (registry == null) {
          registry = buildRegistry();
        }
        r = registry;
      }
    }
    return r;
  }

  private OperationRegistry buildRegistry() {
    List<RegisteredOperation> ops = new ArrayList<>();
    for (Instance.Handle<OperationBean> h : beans.handles()) {
      for (RegisteredOperation op : OperationBinder.bind(h.get(), h.getBean().getBeanClass())) {
        if (!config.call().demo() && op.spec().namespace().equals("demo")) {
          continue;
        }
        ops.add(op);
      }
    }
    ops.addAll(imports.load(config, node.credentials()));
    OperationRegistry r = OperationRegistry.of(ops);
    LOG.infof("call operations: %s", r.all().stream().map(RegisteredOperation::name).toList());
    return r;
  }

  /**
   * A call session for one HTTP request by an identity the HTTP layer authenticated (HTTP-2): the
   * same registry, validation, scopes, deadlines and abort machinery as a connection's session.
   */
  public CallSession requestSession(String requestId, Identity identity, IdentityProvider ids) {
    OperationRegistry ops = registry();
    return CallSession.authenticated(
        requestId, () -> ops, ids, workers, timers, settings(), identity);
  }

  private CallSession.Settings settings() {
    return new CallSession.Settings(
        Math.min(config.limits().maxFrameSize(), FrameCodec.DEFAULT_MAX_FRAME * 16),
        config.call().maxInFlight(),
        config.call().allowAnonymous(),
        config.call().nodeName().orElseGet(CallHandler::hostName));
  }

  @Override
  public void handle(Connection connection, AuthContext auth) throws Exception {
    Stream first = connection.acceptStream();
    if (first == null) {
      return;
    }
    OperationRegistry ops = registry();
    CallSession session =
        new CallSession(connection.id(), () -> ops, auth.identities(), workers, timers, settings());
    sessions.add(session);
    Thread acceptor = null;
    if (connection.transport() == Transport.QUIC) {
      acceptor = daemon(() -> acceptMore(connection, session), "alknet-call-accept");
      acceptor.start();
    }
    try {
      session.serveSession(first.input(), first.output(), auth.identity());
    } finally {
      sessions.remove(session);
      session.close();
      first.close();
      if (acceptor != null) {
        acceptor.interrupt();
      }
    }
  }

  private static void acceptMore(Connection connection, CallSession session) {
    try {
      Stream s;
      while ((s = connection.acceptStream()) != null) {
        Stream stream = s;
        daemon(
                () -> {
                  try (stream) {
                    session.serveStream(stream.input(), stream.output());
                  }
                },
                "alknet-call-stream")
            .start();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.io.IOException e) {
      LOG.debugf("[%s] call stream accept ended: %s", connection.id(), e.getMessage());
    }
  }

  @Override
  public void shutdown() {
    sessions.forEach(CallSession::drain);
  }

  @PreDestroy
  void stop() {
    imports.close();
    workers.shutdownNow();
    timers.shutdownNow();
  }

  private static String hostName() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "alknet";
    }
  }
}

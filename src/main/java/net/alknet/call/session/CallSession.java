package net.alknet.call.session;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.ValidationMessage;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import net.alknet.auth.AuthResult;
import net.alknet.auth.Identity;
import net.alknet.auth.IdentityProvider;
import net.alknet.call.op.AbortSignal;
import net.alknet.call.op.CallContext;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationRegistry;
import net.alknet.call.op.OperationSpec;
import net.alknet.call.op.RegisteredOperation;
import net.alknet.call.op.Schemas;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.Envelope;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.call.wire.FrameCodec;
import net.alknet.call.wire.WireException;
import org.jboss.logging.Logger;

/**
 * The call protocol engine for one connection (CALL-3..CALL-7). It runs on byte streams, so a QUIC
 * stream, a TLS connection or a pipe in a test can drive it.
 *
 * <p>Threading: {@link #serveSession} and {@link #serveStream} block reading their stream and run
 * on the caller's thread (a handler thread). Operations start on the {@code workers} executor;
 * their results are written from whatever thread completes them (workers, timers), never from an
 * event loop. In-flight calls are bounded per connection: when the bound is reached the reader
 * stops reading, so the peer is held back by flow control.
 */
public final class CallSession implements AutoCloseable {

  /**
   * @param maxFrame largest frame accepted
   * @param maxInFlight calls from the peer running at once on this connection
   * @param allowAnonymous accept {@code hello} without a credential
   * @param nodeName what {@code welcome.node} says
   */
  public record Settings(int maxFrame, int maxInFlight, boolean allowAnonymous, String nodeName) {}

  private static final Logger LOG = Logger.getLogger(CallSession.class);
  private static final String DESCRIBE = "sys/describe";
  private static final String REGISTER = "sys/register";
  private static final String CLIENT_NS = "client";

  private final String connId;
  private final Supplier<OperationRegistry> registry;
  private final IdentityProvider identities;
  private final Executor workers;
  private final ScheduledExecutorService timers;
  private final Settings settings;
  private final Semaphore inFlight;
  private final Map<String, Invocation> incoming = new ConcurrentHashMap<>();
  private final Map<String, Outgoing> outgoing = new ConcurrentHashMap<>();
  private final Map<String, OperationSpec> peerOperations = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final CountDownLatch authenticated = new CountDownLatch(1);
  private volatile Identity identity;
  private volatile FrameWriter sessionWriter;
  private volatile boolean closed;
  private volatile boolean draining;

  public CallSession(
      String connId,
      Supplier<OperationRegistry> registry,
      IdentityProvider identities,
      Executor workers,
      ScheduledExecutorService timers,
      Settings settings) {
    this.connId = connId;
    this.registry = registry;
    this.identities = identities;
    this.workers = workers;
    this.timers = timers;
    this.settings = settings;
    this.inFlight = new Semaphore(settings.maxInFlight());
  }

  /**
   * A session for calls made in-process for an identity the caller already authenticated (an HTTP
   * bearer credential): use {@link #invoke}.
   */
  public static CallSession authenticated(
      String connId,
      Supplier<OperationRegistry> registry,
      IdentityProvider identities,
      Executor workers,
      ScheduledExecutorService timers,
      Settings settings,
      Identity identity) {
    CallSession s = new CallSession(connId, registry, identities, workers, timers, settings);
    s.identity = identity;
    s.authenticated.countDown();
    return s;
  }

  /** The authenticated identity, once {@code hello} succeeded. */
  public Optional<Identity> identity() {
    return Optional.ofNullable(identity);
  }

  /** Calls from the peer currently running. */
  public int inFlight() {
    return incoming.size();
  }

  /** New calls get {@code UNAVAILABLE}; running ones finish (graceful shutdown). */
  public void drain() {
    draining = true;
  }

  // ---------------------------------------------------------------- streams

  /**
   * Serves the session stream: {@code hello}, then calls, until the stream ends or fails.
   *
   * @param transportIdentity an identity the transport already proved (client certificate)
   */
  public void serveSession(InputStream in, OutputStream out, Optional<Identity> transportIdentity) {
    FrameWriter w = new FrameWriter(out);
    sessionWriter = w;
    try {
      Identity id = authenticate(in, w, transportIdentity);
      if (id == null) {
        return;
      }
      identity = id;
      authenticated.countDown();
      readLoop(in, w);
    } finally {
      close();
    }
  }

  /**
   * Serves an extra stream (QUIC): calls only, after the session stream authenticated. Returns when
   * the stream ends.
   */
  public void serveStream(InputStream in, OutputStream out) {
    FrameWriter w = new FrameWriter(out);
    try {
      if (!authenticated.await(30, TimeUnit.SECONDS) || identity == null) {
        w.send(Envelope.error(null, CallError.of(ErrorCodes.UNAUTHENTICATED, "unauthenticated")));
        return;
      }
      readLoop(in, w);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      w.close();
    }
  }

  private Identity authenticate(InputStream in, FrameWriter w, Optional<Identity> transport) {
    Envelope hello;
    try {
      byte[] frame = FrameCodec.read(in, settings.maxFrame());
      if (frame == null) {
        return null;
      }
      hello = EnvelopeCodec.decode(frame);
    } catch (WireException e) {
      w.send(Envelope.error(null, CallError.of(e.code(), e.getMessage())));
      return null;
    } catch (IOException e) {
      return null;
    }
    if (!hello.type().equals(Envelope.HELLO)) {
      w.send(
          Envelope.error(
              null, CallError.of(ErrorCodes.UNAUTHENTICATED, "the first frame must be hello")));
      return null;
    }
    if (hello.protocol() != null && hello.protocol() != Envelope.PROTOCOL) {
      w.send(
          Envelope.error(
              null,
              CallError.of(
                  ErrorCodes.BAD_FRAME,
                  "protocol " + hello.protocol() + " is not supported; this node speaks 1")));
      return null;
    }
    Identity id = null;
    if (hello.auth() != null) {
      AuthResult r = identities.resolveFromToken(hello.auth());
      if (r instanceof AuthResult.Success s) {
        id = s.identity();
      } else if (r instanceof AuthResult.Failure f) {
        LOG.infof("[%s] call hello refused: %s (%s)", connId, f.reason(), f.logDetail());
      }
    } else if (transport.isPresent()) {
      id = transport.get();
    } else if (settings.allowAnonymous()) {
      id = Identity.anonymous();
    } else {
      LOG.infof("[%s] call hello refused: no credential and anonymous sessions are off", connId);
    }
    if (id == null) {
      w.send(
          Envelope.error(null, CallError.of(ErrorCodes.UNAUTHENTICATED, AuthResult.PEER_MESSAGE)));
      return null;
    }
    ObjectNode who = EnvelopeCodec.json().createObjectNode();
    who.put("id", id.id());
    who.put("displayName", id.displayName());
    ArrayNode scopes = who.putArray("scopes");
    new TreeSet<>(id.scopes()).forEach(scopes::add);
    w.send(Envelope.welcome(who, settings.nodeName()));
    LOG.debugf("[%s] call session for %s", connId, id.id());
    return id;
  }

  private void readLoop(InputStream in, FrameWriter w) {
    while (!closed) {
      Envelope e;
      try {
        byte[] frame = FrameCodec.read(in, settings.maxFrame());
        if (frame == null) {
          return;
        }
        e = EnvelopeCodec.decode(frame);
      } catch (WireException ex) {
        LOG.debugf("[%s] bad frame: %s", connId, ex.getMessage());
        w.send(Envelope.error(null, CallError.of(ex.code(), ex.getMessage())));
        return;
      } catch (IOException ex) {
        return;
      }
      try {
        dispatch(e, w);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void dispatch(Envelope e, FrameWriter w) throws InterruptedException {
    switch (e.type()) {
      case Envelope.REQUESTED -> request(e, w);
      case Envelope.ABORTED -> {
        Invocation inv = incoming.get(e.id());
        if (inv != null) {
          inv.abort(CallError.of(ErrorCodes.ABORTED, "aborted by the caller"));
        }
      }
      case Envelope.PING -> w.send(Envelope.pong(e.id()));
      case Envelope.PONG -> {}
      case Envelope.RESPONDED, Envelope.EVENT, Envelope.COMPLETED, Envelope.ERROR -> answer(e);
      default -> {
        w.send(Envelope.error(null, CallError.of(ErrorCodes.BAD_FRAME, "unexpected " + e.type())));
        closed = true;
      }
    }
  }

  // ---------------------------------------------------------------- calls from the peer

  private void request(Envelope e, FrameWriter w) throws InterruptedException {
    String id = e.id();
    if (incoming.containsKey(id)) {
      w.send(
          Envelope.error(id, CallError.of(ErrorCodes.BAD_FRAME, "call id " + id + " is in use")));
      return;
    }
    if (draining) {
      w.send(Envelope.error(id, CallError.of(ErrorCodes.UNAVAILABLE, "node is shutting down")));
      return;
    }
    JsonNode input = e.input() == null ? EnvelopeCodec.json().createObjectNode() : e.input();
    Resolved r;
    try {
      r = resolve(e.op(), input, true);
    } catch (CallException ex) {
      w.send(Envelope.error(id, ex.error()));
      return;
    }
    inFlight.acquire();
    launch(id, r, input, e.deadlineMs(), e.parent(), e.meta(), wireSink(id, w));
  }

  /**
   * Starts a call made on behalf of this session's identity from outside the wire (HTTP, HTTP-2):
   * the same resolution, validation, scopes, deadline and abort path as a {@code call.requested}
   * frame. The outcome goes to {@code sink}; a call that cannot start gets {@link Sink#error}
   * before this returns. Never blocks.
   *
   * @param deadlineMs relative deadline, or null
   * @return a handle that aborts the call (e.g. when the HTTP client went away)
   */
  public CallHandle invoke(
      String op, JsonNode input, Long deadlineMs, Map<String, String> meta, Sink sink) {
    String id = "x-" + ids.incrementAndGet();
    JsonNode in = input == null ? EnvelopeCodec.json().createObjectNode() : input;
    if (draining || closed) {
      sink.error(CallError.of(ErrorCodes.UNAVAILABLE, "node is shutting down"));
      return reason -> {};
    }
    if (op.equals(REGISTER)) {
      sink.error(CallError.of(ErrorCodes.NOT_FOUND, "no operation " + op));
      return reason -> {};
    }
    Resolved r;
    try {
      r = resolve(op, in, true);
    } catch (CallException ex) {
      sink.error(ex.error());
      return reason -> {};
    }
    if (!inFlight.tryAcquire()) {
      sink.error(CallError.of(ErrorCodes.UNAVAILABLE, "too many calls in flight; try again"));
      return reason -> {};
    }
    Invocation inv = launch(id, r, in, deadlineMs, null, meta, sink);
    return inv::abort;
  }

  private Invocation launch(
      String id,
      Resolved r,
      JsonNode input,
      Long deadlineMs,
      String parentId,
      Map<String, String> meta,
      Sink sink) {
    java.util.concurrent.atomic.AtomicReference<ScheduledFuture<?>> timer =
        new java.util.concurrent.atomic.AtomicReference<>();
    Invocation inv =
        new Invocation(
            id,
            r.spec,
            sink,
            () -> {
              incoming.remove(id);
              inFlight.release();
              ScheduledFuture<?> t = timer.get();
              if (t != null) {
                t.cancel(false);
              }
            });
    incoming.put(id, inv);
    if (parentId != null) {
      Outgoing parent = outgoing.get(parentId);
      if (parent != null) {
        parent.children.add(inv);
      }
    }
    if (deadlineMs != null) {
      long ms = deadlineMs;
      timer.set(
          timers.schedule(
              () ->
                  inv.abort(
                      CallError.of(
                          ErrorCodes.DEADLINE_EXCEEDED, "deadline of " + ms + " ms exceeded")),
              ms,
              TimeUnit.MILLISECONDS));
      if (inv.isFinished()) {
        timer.get().cancel(false);
      }
    }
    Instant deadline = deadlineMs == null ? null : Instant.now().plusMillis(deadlineMs);
    start(inv, r, input, new Ctx(inv, deadline, meta));
    return inv;
  }

  private Sink wireSink(String id, FrameWriter w) {
    return new Sink() {
      @Override
      public void responded(JsonNode output) {
        w.send(Envelope.responded(id, output));
      }

      @Override
      public void event(JsonNode event) {
        w.send(Envelope.event(id, event));
      }

      @Override
      public void completed() {
        w.send(Envelope.completed(id));
      }

      @Override
      public void error(CallError error) {
        w.send(Envelope.error(id, error));
      }
    };
  }

  /** An operation found, allowed and given valid input. */
  private record Resolved(OperationSpec spec, RegisteredOperation local, boolean peer) {}

  private Resolved resolve(String name, JsonNode input, boolean fromWire) {
    Identity who = identity;
    if (name.equals(DESCRIBE) || name.equals(REGISTER)) {
      return new Resolved(builtinSpec(name), null, false);
    }
    OperationSpec peerSpec = fromWire ? null : peerOperations.get(name);
    if (peerSpec != null) {
      return new Resolved(peerSpec, null, true);
    }
    RegisteredOperation op = registry.get().lookup(name).orElse(null);
    if (op == null || (fromWire && op.spec().visibility() == Operation.Visibility.INTERNAL)) {
      throw new CallException(ErrorCodes.NOT_FOUND, "no operation " + name);
    }
    if (!allowed(who, op.spec())) {
      throw new CallException(
          ErrorCodes.FORBIDDEN,
          "operation " + name + " needs scope " + String.join(" or ", required(op.spec())));
    }
    Set<ValidationMessage> problems = Schemas.validate(op.inputValidator(), input);
    if (!problems.isEmpty()) {
      List<ValidationMessage> sorted =
          problems.stream()
              .sorted(Comparator.comparing(m -> String.valueOf(m.getInstanceLocation())))
              .toList();
      ObjectNode details = EnvelopeCodec.json().createObjectNode();
      ArrayNode errors = details.putArray("errors");
      for (ValidationMessage m : sorted) {
        errors
            .addObject()
            .put("path", String.valueOf(m.getInstanceLocation()))
            .put("message", m.getMessage());
      }
      ValidationMessage first = sorted.get(0);
      throw new CallException(
          ErrorCodes.INVALID_INPUT,
          "invalid input at " + first.getInstanceLocation() + ": " + first.getMessage(),
          details);
    }
    return new Resolved(op.spec(), op, false);
  }

  public static Set<String> required(OperationSpec spec) {
    return spec.scopes().isEmpty() ? Set.of("call:" + spec.namespace()) : spec.scopes();
  }

  public static boolean allowed(Identity who, OperationSpec spec) {
    if (who == null) {
      return false;
    }
    if (spec.open()) {
      return true;
    }
    for (String s : required(spec)) {
      if (who.hasScope(s)) {
        return true;
      }
    }
    return false;
  }

  private void start(Invocation inv, Resolved r, JsonNode input, Ctx ctx) {
    try {
      workers.execute(() -> run(inv, r, input, ctx));
    } catch (RejectedExecutionException e) {
      inv.fail(CallError.of(ErrorCodes.UNAVAILABLE, "node busy; try again"));
    }
  }

  @SuppressWarnings("unchecked")
  private void run(Invocation inv, Resolved r, JsonNode input, Ctx ctx) {
    if (inv.isFinished()) {
      return;
    }
    Object result;
    try {
      if (r.local == null) {
        result = builtin(inv.spec.name(), input);
      } else {
        result = r.local.impl().start(input, ctx);
      }
    } catch (Throwable t) {
      inv.fail(toError(t, inv));
      return;
    }
    if (result instanceof Uni<?> uni) {
      Cancellable c =
          ((Uni<JsonNode>) uni).subscribe().with(inv::respond, t -> inv.fail(toError(t, inv)));
      inv.onAbort(c::cancel);
    } else if (result instanceof Multi<?> multi) {
      new SubscriptionPump(inv, workers, t -> toError(t, inv)).start((Multi<JsonNode>) multi);
    } else {
      LOG.errorf("[%s] operation %s returned %s", connId, inv.spec.name(), result);
      inv.fail(CallError.of(ErrorCodes.INTERNAL, "internal error"));
    }
  }

  /** Maps a failure to the wire: declared CallExceptions as they are, anything else INTERNAL. */
  private CallError toError(Throwable t, Invocation inv) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    if (c instanceof CallException ce) {
      return ce.error();
    }
    if (inv.isAborted()) {
      return inv.reason().orElseThrow();
    }
    if (c instanceof InterruptedException || c instanceof InterruptedIOException) {
      return CallError.of(ErrorCodes.ABORTED, "interrupted");
    }
    LOG.errorf(c, "[%s] operation %s (call %s) failed", connId, inv.spec.name(), inv.id);
    return CallError.of(ErrorCodes.INTERNAL, "internal error");
  }

  // ---------------------------------------------------------------- builtins

  private static OperationSpec builtinSpec(String name) {
    boolean describe = name.equals(DESCRIBE);
    return new OperationSpec(
        name,
        describe ? Operation.Kind.QUERY : Operation.Kind.MUTATION,
        describe
            ? "Lists the operations the caller may call, with their JSON Schemas."
            : "Registers operations the node may call back on this session (client/… names).",
        List.of("sys"),
        Set.of(),
        true,
        Operation.Visibility.EXTERNAL,
        List.of(),
        Operation.Overflow.DROP_OLDEST,
        1,
        false,
        Schemas.emptyObject(),
        null,
        null);
  }

  private Object builtin(String name, JsonNode input) {
    if (name.equals(DESCRIBE)) {
      return Uni.createFrom().item(describe());
    }
    JsonNode ops = input.get("operations");
    if (ops == null || !ops.isArray() || ops.size() > 256) {
      throw new CallException(
          ErrorCodes.INVALID_INPUT,
          "invalid input at $.operations: an array of at most 256 is required");
    }
    for (JsonNode o : ops) {
      String n = o.path("name").asText("");
      if (!n.startsWith(CLIENT_NS + "/") || !EnvelopeCodec.OP_NAME.matcher(n).matches()) {
        throw new CallException(
            ErrorCodes.INVALID_INPUT,
            "invalid input at $.operations: names must be client/<name>, got '" + n + "'");
      }
      String kind = o.path("kind").asText("query");
      Operation.Kind k =
          kind.equals("subscription")
              ? Operation.Kind.SUBSCRIPTION
              : kind.equals("mutation") ? Operation.Kind.MUTATION : Operation.Kind.QUERY;
      peerOperations.put(
          n,
          new OperationSpec(
              n,
              k,
              o.path("description").asText(""),
              List.of("client"),
              Set.of(),
              true,
              Operation.Visibility.INTERNAL,
              List.of(),
              Operation.Overflow.DROP_OLDEST,
              256,
              false,
              Schemas.emptyObject(),
              null,
              null));
    }
    ObjectNode out = EnvelopeCodec.json().createObjectNode();
    out.put("registered", ops.size());
    return Uni.createFrom().item(out);
  }

  private JsonNode describe() {
    ObjectNode out = EnvelopeCodec.json().createObjectNode();
    ArrayNode list = out.putArray("operations");
    for (String b : List.of(DESCRIBE, REGISTER)) {
      describeInto(list.addObject(), builtinSpec(b));
    }
    for (RegisteredOperation op : registry.get().all()) {
      if (op.spec().visibility() == Operation.Visibility.EXTERNAL && allowed(identity, op.spec())) {
        describeInto(list.addObject(), op.spec());
      }
    }
    return out;
  }

  /** The {@code sys/describe} entry of an operation. */
  public static void describeInto(ObjectNode o, OperationSpec s) {
    o.put("name", s.name());
    o.put("kind", s.kind().wire());
    o.put("description", s.description());
    ArrayNode tags = o.putArray("tags");
    s.tags().forEach(tags::add);
    ArrayNode scopes = o.putArray("scopes");
    if (!s.open()) {
      new TreeSet<>(required(s)).forEach(scopes::add);
    }
    ArrayNode errors = o.putArray("errors");
    s.errors().forEach(errors::add);
    o.set("inputSchema", s.inputSchema());
    if (s.outputSchema() != null) {
      o.set("outputSchema", s.outputSchema());
    }
    if (s.eventSchema() != null) {
      o.set("eventSchema", s.eventSchema());
      o.put("overflow", s.overflow().wire());
    }
  }

  // ---------------------------------------------------------------- nested and peer calls

  /** The context an operation sees. */
  private final class Ctx implements CallContext {
    private final Invocation inv;
    private final Instant deadline;
    private final Map<String, String> meta;

    Ctx(Invocation inv, Instant deadline, Map<String, String> meta) {
      this.inv = inv;
      this.deadline = deadline;
      this.meta = meta == null ? Map.of() : Map.copyOf(meta);
    }

    @Override
    public String callId() {
      return inv.id;
    }

    @Override
    public Identity identity() {
      return identity;
    }

    @Override
    public AbortSignal abortSignal() {
      return inv;
    }

    @Override
    public Optional<Instant> deadline() {
      return Optional.ofNullable(deadline);
    }

    @Override
    public Map<String, String> meta() {
      return meta;
    }

    @Override
    public Uni<JsonNode> call(String op, Object input) {
      return nested(inv, op, input, deadline);
    }

    @Override
    public <T> Uni<T> call(String op, Object input, Class<T> outputType) {
      return call(op, input).map(n -> EnvelopeCodec.json().convertValue(n, outputType));
    }

    @Override
    public Multi<JsonNode> subscribe(String op, Object input) {
      return nestedStream(inv, op, input, deadline);
    }
  }

  private Uni<JsonNode> nested(Invocation parent, String op, Object input, Instant deadline) {
    JsonNode in = toInput(input);
    return Uni.createFrom()
        .emitter(
            em -> {
              Resolved r = resolveNested(op, in, em::fail);
              if (r == null) {
                return;
              }
              if (r.peer) {
                callPeer(
                    parent, r.spec, in, em::complete, ev -> {}, () -> em.complete(null), em::fail);
                return;
              }
              Sink sink =
                  new Sink() {
                    @Override
                    public void responded(JsonNode output) {
                      em.complete(output);
                    }

                    @Override
                    public void event(JsonNode event) {}

                    @Override
                    public void completed() {
                      em.complete(null);
                    }

                    @Override
                    public void error(CallError error) {
                      em.fail(new CallException(error));
                    }
                  };
              Invocation child = startChild(parent, r, in, deadline, sink);
              em.onTermination(() -> abortIfRunning(child));
            });
  }

  private Multi<JsonNode> nestedStream(
      Invocation parent, String op, Object input, Instant deadline) {
    JsonNode in = toInput(input);
    return Multi.createFrom()
        .emitter(
            em -> {
              Resolved r = resolveNested(op, in, em::fail);
              if (r == null) {
                return;
              }
              if (r.peer) {
                callPeer(
                    parent, r.spec, in, out -> em.complete(), em::emit, em::complete, em::fail);
                return;
              }
              Sink sink =
                  new Sink() {
                    @Override
                    public void responded(JsonNode output) {
                      em.emit(output);
                      em.complete();
                    }

                    @Override
                    public void event(JsonNode event) {
                      em.emit(event);
                    }

                    @Override
                    public void completed() {
                      em.complete();
                    }

                    @Override
                    public void error(CallError error) {
                      em.fail(new CallException(error));
                    }
                  };
              Invocation child = startChild(parent, r, in, deadline, sink);
              em.onTermination(() -> abortIfRunning(child));
            });
  }

  private static JsonNode toInput(Object input) {
    return input == null
        ? EnvelopeCodec.json().createObjectNode()
        : EnvelopeCodec.json().valueToTree(input);
  }

  /** Resolves a nested call's operation, or reports the failure and returns null. */
  private Resolved resolveNested(
      String op, JsonNode in, java.util.function.Consumer<Throwable> fail) {
    try {
      return resolve(op, in, false);
    } catch (CallException e) {
      fail.accept(e);
      return null;
    }
  }

  /** Starts a nested call as a child of {@code parent} (its abort cascades to the child). */
  private Invocation startChild(
      Invocation parent, Resolved r, JsonNode in, Instant deadline, Sink sink) {
    String id = parent.id + "." + ids.incrementAndGet();
    Invocation[] self = new Invocation[1];
    Invocation child = new Invocation(id, r.spec, sink, () -> parent.release(self[0]));
    self[0] = child;
    parent.adopt(child);
    start(child, r, in, new Ctx(child, deadline, Map.of()));
    return child;
  }

  private static void abortIfRunning(Invocation child) {
    if (!child.isFinished()) {
      child.abort(CallError.of(ErrorCodes.ABORTED, "nested call cancelled"));
    }
  }

  /** A call this node made to the peer (CALL-7), on behalf of {@code parent}. */
  private final class Outgoing {
    final String id;
    final java.util.function.Consumer<JsonNode> onOutput;
    final java.util.function.Consumer<JsonNode> onEvent;
    final Runnable onCompleted;
    final java.util.function.Consumer<Throwable> onError;
    final Set<Invocation> children = ConcurrentHashMap.newKeySet();

    Outgoing(
        String id,
        java.util.function.Consumer<JsonNode> onOutput,
        java.util.function.Consumer<JsonNode> onEvent,
        Runnable onCompleted,
        java.util.function.Consumer<Throwable> onError) {
      this.id = id;
      this.onOutput = onOutput;
      this.onEvent = onEvent;
      this.onCompleted = onCompleted;
      this.onError = onError;
    }

    void end() {
      outgoing.remove(id);
      for (Invocation c : children) {
        c.abort(CallError.of(ErrorCodes.ABORTED, "parent call " + id + " ended"));
      }
    }
  }

  private void callPeer(
      Invocation parent,
      OperationSpec spec,
      JsonNode input,
      java.util.function.Consumer<JsonNode> onOutput,
      java.util.function.Consumer<JsonNode> onEvent,
      Runnable onCompleted,
      java.util.function.Consumer<Throwable> onError) {
    FrameWriter w = sessionWriter;
    String id = "n" + ids.incrementAndGet();
    Outgoing o = new Outgoing(id, onOutput, onEvent, onCompleted, onError);
    outgoing.put(id, o);
    // parent: the peer's own call this callback serves, if it came from this session.
    String parentId = incoming.get(parent.id) == parent ? parent.id : null;
    parent.onAbort(
        () -> {
          if (outgoing.containsKey(id)) {
            w.send(Envelope.aborted(id, "parent call aborted"));
            o.end();
            onError.accept(new CallException(ErrorCodes.ABORTED, "parent call aborted"));
          }
        });
    if (closed || !w.send(Envelope.requested(id, spec.name(), input, parentId, null, null))) {
      o.end();
      onError.accept(new CallException(ErrorCodes.UNAVAILABLE, "the session is closed"));
    }
  }

  private void answer(Envelope e) {
    if (e.id() == null) {
      LOG.infof("[%s] peer reported a session error: %s", connId, e.error());
      closed = true;
      return;
    }
    Outgoing o = outgoing.get(e.id());
    if (o == null) {
      return; // late answer to an aborted callback
    }
    switch (e.type()) {
      case Envelope.EVENT -> o.onEvent.accept(e.event());
      case Envelope.RESPONDED -> {
        o.end();
        o.onOutput.accept(e.output());
      }
      case Envelope.COMPLETED -> {
        o.end();
        o.onCompleted.run();
      }
      default -> {
        o.end();
        o.onError.accept(new CallException(e.error()));
      }
    }
  }

  // ---------------------------------------------------------------- end

  /** Aborts every call of this connection (connection loss, CALL-6). Idempotent. */
  @Override
  public void close() {
    closed = true;
    authenticated.countDown();
    CallError lost = CallError.of(ErrorCodes.ABORTED, "connection closed");
    for (Invocation inv : incoming.values()) {
      inv.abort(lost);
    }
    for (Outgoing o : outgoing.values()) {
      o.end();
      o.onError.accept(new CallException(ErrorCodes.UNAVAILABLE, "connection closed"));
    }
  }
}

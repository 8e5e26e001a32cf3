package net.alknet.call.client;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.Envelope;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.call.wire.FrameCodec;
import net.alknet.call.wire.WireException;
import net.alknet.endpoint.CloseCode;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.Stream;
import net.alknet.endpoint.Transport;
import net.alknet.endpoint.Trust;
import org.jboss.logging.Logger;

/**
 * The Java client of the call protocol (ALPN {@code alknet/call}, CALL-12; wire contract in
 * docs/call-protocol.md).
 *
 * <p>One session: {@code hello}/{@code welcome} on the session stream, then any number of calls in
 * flight, correlated by id and completed in whatever order the node answers. Over QUIC, {@link
 * Options#streams(int)} spreads calls over extra streams (no head-of-line blocking).
 *
 * <p>Threading: one daemon reader thread per stream decodes frames and completes futures (so
 * dependent stages without an executor run on it: do not block there); writes are serialized per
 * stream; operations this client registered with {@link #registerLocal} run on a small executor.
 * All methods are thread-safe.
 *
 * <p>Failures complete futures exceptionally with a {@link CallException} carrying the wire error
 * (code, message, details). Losing the connection fails every pending call with {@code UNAVAILABLE}
 * "connection closed"; a connection-level {@code call.error} (no id) or a malformed frame from the
 * node fails every pending call with that error and closes the client.
 */
public final class CallClient implements AutoCloseable {

  /** The ALPN of the call protocol. */
  public static final String ALPN = "alknet/call";

  private static final Logger LOG = Logger.getLogger(CallClient.class);
  private static final AtomicInteger CLIENTS = new AtomicInteger();
  private static final ObjectMapper JSON =
      EnvelopeCodec.json().copy().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * Client settings.
   *
   * @param streams streams to spread calls over (QUIC only; TLS/TCP always uses one), default 1
   * @param maxFrame the largest frame accepted from the node and sent to it, default 1 MiB
   * @param handshakeTimeout how long to wait for {@code welcome} (and for a {@code pong}), 10 s
   * @param localThreads threads running registered local operations, default 4
   * @param abortGrace after {@code call.aborted}, how long to wait for the node's {@code ABORTED}
   *     before failing the call locally, default 5 s
   * @param deadlineGrace after a call's deadline, how long to wait for the node's {@code
   *     DEADLINE_EXCEEDED} before failing the call locally (and aborting it), default 2 s
   */
  public record Options(
      int streams,
      int maxFrame,
      Duration handshakeTimeout,
      int localThreads,
      Duration abortGrace,
      Duration deadlineGrace) {

    public static final Options DEFAULTS =
        new Options(
            1,
            FrameCodec.DEFAULT_MAX_FRAME,
            Duration.ofSeconds(10),
            4,
            Duration.ofSeconds(5),
            Duration.ofSeconds(2));

    public Options {
      if (streams < 1 || streams > 64) {
        throw new IllegalArgumentException("streams must be 1..64");
      }
      if (maxFrame < 64) {
        throw new IllegalArgumentException("maxFrame too small");
      }
      if (localThreads < 1) {
        throw new IllegalArgumentException("localThreads must be at least 1");
      }
      Objects.requireNonNull(handshakeTimeout, "handshakeTimeout");
      Objects.requireNonNull(abortGrace, "abortGrace");
      Objects.requireNonNull(deadlineGrace, "deadlineGrace");
    }

    public Options streams(int n) {
      return new Options(n, maxFrame, handshakeTimeout, localThreads, abortGrace, deadlineGrace);
    }

    public Options maxFrame(int n) {
      return new Options(streams, n, handshakeTimeout, localThreads, abortGrace, deadlineGrace);
    }

    public Options handshakeTimeout(Duration d) {
      return new Options(streams, maxFrame, d, localThreads, abortGrace, deadlineGrace);
    }

    public Options localThreads(int n) {
      return new Options(streams, maxFrame, handshakeTimeout, n, abortGrace, deadlineGrace);
    }

    public Options abortGrace(Duration d) {
      return new Options(streams, maxFrame, handshakeTimeout, localThreads, d, deadlineGrace);
    }

    public Options deadlineGrace(Duration d) {
      return new Options(streams, maxFrame, handshakeTimeout, localThreads, abortGrace, d);
    }
  }

  /** Opens one more bidirectional stream (QUIC), for {@link Options#streams(int)}. */
  @FunctionalInterface
  interface StreamOpener {
    StreamPair open() throws IOException;
  }

  /** Both directions of one stream, and how to release it. */
  record StreamPair(InputStream in, OutputStream out, Closeable closer) {}

  /** An operation registered with {@link #registerLocal}. */
  private record Local(String name, String kind, String description, LocalHandler handler) {}

  private final int number = CLIENTS.incrementAndGet();
  private final Options options;
  private final Runnable onClose;
  private final Channel session;
  private final List<Channel> channels = new CopyOnWriteArrayList<>();
  private final AtomicInteger nextChannel = new AtomicInteger();
  private final AtomicLong nextId = new AtomicLong();
  private final ConcurrentHashMap<String, Outgoing> outgoing = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Incoming> incoming = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Local> locals = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, CompletableFuture<Duration>> pings =
      new ConcurrentHashMap<>();
  private final CompletableFuture<Welcome> welcomed = new CompletableFuture<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile CallException failure;
  private final ScheduledThreadPoolExecutor timer;
  private final ThreadPoolExecutor localExecutor;
  private final Welcome welcome;

  /**
   * Starts a session on an already-open stream pair (the session stream): sends {@code hello},
   * waits for {@code welcome}, and starts the reader thread. Used by tests against an in-memory
   * node and by callers with their own transport.
   *
   * @param auth an AuthToken or API key, or {@code null} for an anonymous session (or one whose TLS
   *     client certificate already identifies it)
   * @param clientName sent as {@code hello.client}, e.g. {@code my-tool/1.0}; may be {@code null}
   * @throws CallException if the node refuses the session ({@code UNAUTHENTICATED}), answers with
   *     something else than {@code welcome} ({@code BAD_FRAME}), does not answer in time ({@code
   *     DEADLINE_EXCEEDED}) or the stream ends first ({@code UNAVAILABLE})
   */
  public CallClient(
      InputStream in, OutputStream out, String auth, String clientName, Options options) {
    this(
        new StreamPair(in, out, () -> closeQuietly(in, out)),
        null,
        null,
        auth,
        clientName,
        options);
  }

  /** {@link #CallClient(InputStream, OutputStream, String, String, Options)} with defaults. */
  public CallClient(InputStream in, OutputStream out, String auth, String clientName) {
    this(in, out, auth, clientName, Options.DEFAULTS);
  }

  CallClient(
      StreamPair sessionStream,
      StreamOpener extraStreams,
      Runnable onClose,
      String auth,
      String clientName,
      Options options) {
    this.options = Objects.requireNonNull(options, "options");
    this.onClose = onClose;
    String prefix = "alknet-call-" + number;
    this.timer = new ScheduledThreadPoolExecutor(1, daemon(prefix + "-timer"));
    timer.setRemoveOnCancelPolicy(true);
    timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.localExecutor =
        new ThreadPoolExecutor(
            options.localThreads(),
            options.localThreads(),
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(1024),
            daemon(prefix + "-local"));
    localExecutor.allowCoreThreadTimeOut(true);
    this.session = new Channel(0, sessionStream);
    channels.add(session);
    session.start();
    try {
      session.send(Envelope.hello(auth, clientName));
    } catch (IOException e) {
      shutdown(unavailable("connection closed before welcome"), null);
    }
    Welcome w;
    try {
      w = welcomed.get(options.handshakeTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      CallException timeout =
          new CallException(
              ErrorCodes.DEADLINE_EXCEEDED,
              "no welcome from the node within " + options.handshakeTimeout().toSeconds() + "s");
      shutdown(timeout, null);
      throw timeout;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      CallException aborted = new CallException(ErrorCodes.ABORTED, "interrupted");
      shutdown(aborted, null);
      throw aborted;
    } catch (ExecutionException e) {
      CallException cause =
          e.getCause() instanceof CallException ce ? ce : unavailable("connection closed");
      shutdown(cause, null);
      throw cause;
    }
    this.welcome = w;
    if (extraStreams != null) {
      for (int i = 1; i < options.streams() && !closed.get(); i++) {
        try {
          Channel c = new Channel(i, extraStreams.open());
          channels.add(c);
          c.start();
        } catch (IOException e) {
          LOG.debugf("cannot open call stream %d: %s", i, e.getMessage());
          break;
        }
      }
    }
  }

  /**
   * Connects to a node with ALPN {@code alknet/call} and starts a session.
   *
   * @param endpoints the endpoint client (it holds the TLS client key, if any)
   * @param auth an AuthToken or API key, or {@code null}
   * @param clientName sent as {@code hello.client}, may be {@code null}
   * @throws IOException if the connection cannot be made
   * @throws CallException if the node refuses the session (see the stream constructor)
   */
  public static CallClient connect(
      EndpointClient endpoints,
      String host,
      int port,
      Trust trust,
      Transport transport,
      String auth,
      String clientName)
      throws IOException {
    return connect(endpoints, host, port, trust, transport, auth, clientName, Options.DEFAULTS);
  }

  /**
   * {@link #connect(EndpointClient, String, int, Trust, Transport, String, String)} with options.
   */
  public static CallClient connect(
      EndpointClient endpoints,
      String host,
      int port,
      Trust trust,
      Transport transport,
      String auth,
      String clientName,
      Options options)
      throws IOException {
    Connection c = endpoints.connect(host, port, ALPN, trust, transport);
    try {
      Stream s = c.openStream();
      StreamOpener more =
          transport == Transport.QUIC && options.streams() > 1
              ? () -> {
                Stream x = c.openStream();
                return new StreamPair(x.input(), x.output(), x);
              }
              : null;
      CallClient client =
          new CallClient(
              new StreamPair(s.input(), s.output(), s),
              more,
              () -> c.close(CloseCode.NO_ERROR, ""),
              auth,
              clientName,
              options);
      c.closed().whenComplete((info, e) -> client.shutdown(unavailable("connection closed"), null));
      return client;
    } catch (RuntimeException | IOException e) {
      c.close(CloseCode.NO_ERROR, "");
      throw e;
    }
  }

  /** The node's {@code welcome}: who the node authenticated, and the node's name. */
  public Welcome welcome() {
    return welcome;
  }

  /** Whether the session is still usable. */
  public boolean isOpen() {
    return !closed.get();
  }

  /** The number of streams calls are spread over (1 unless QUIC with {@code streams > 1}). */
  public int streamCount() {
    return channels.size();
  }

  // ---------------------------------------------------------------- calls

  /** Calls a query or mutation with default options. */
  public CompletableFuture<JsonNode> call(String op, JsonNode input) {
    return call(op, input, CallOptions.DEFAULT);
  }

  /**
   * Calls a query or mutation. The future completes with the output ({@code NullNode} for {@code
   * null}) or exceptionally with a {@link CallException}; cancelling it aborts the call.
   *
   * @throws IllegalArgumentException if {@code op} is not a {@code namespace/name}
   */
  public CompletableFuture<JsonNode> call(String op, JsonNode input, CallOptions options) {
    return start(op, input, options).result();
  }

  /** Typed helper: input converted to JSON with Jackson, output converted to {@code outputType}. */
  public <T> CompletableFuture<T> call(String op, Object input, Class<T> outputType) {
    return call(op, input, outputType, CallOptions.DEFAULT);
  }

  /**
   * Typed helper with options. A {@code null} input is sent as {@code {}}; an output that does not
   * convert fails the future with an {@link IllegalArgumentException}. Cancelling the returned
   * future aborts the call.
   */
  public <T> CompletableFuture<T> call(
      String op, Object input, Class<T> outputType, CallOptions options) {
    JsonNode in = toJson(input);
    CompletableFuture<JsonNode> base = call(op, in, options);
    CompletableFuture<T> typed =
        base.thenApply(
            out -> {
              try {
                return JSON.treeToValue(out, outputType);
              } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(
                    "cannot read the output of "
                        + op
                        + " as "
                        + outputType.getSimpleName()
                        + ": "
                        + e.getMessage(),
                    e);
              }
            });
    typed.whenComplete(
        (v, e) -> {
          if (e instanceof CancellationException) {
            base.cancel(false);
          }
        });
    return typed;
  }

  /** Starts a query or mutation and returns its id, result and abort handle. */
  public PendingCall start(String op, JsonNode input, CallOptions options) {
    Outgoing o = begin(op, input, options, null);
    return new PendingCall(o.id, o.result, this);
  }

  /**
   * Starts a subscription. Events go to {@code onEvent} in order on the reader thread.
   *
   * @see Subscription
   */
  public Subscription subscribe(
      String op, JsonNode input, Consumer<JsonNode> onEvent, CallOptions options) {
    Objects.requireNonNull(onEvent, "onEvent");
    Outgoing o = begin(op, input, options, onEvent);
    return new Subscription(o.id, o.done, this);
  }

  /**
   * Asks the node to stop call {@code id} ({@code call.aborted}). The call then fails with {@code
   * ABORTED} when the node confirms, or locally after {@link Options#abortGrace()}.
   *
   * @return whether the call was still pending
   */
  public boolean abort(String id) {
    return abort(id, null);
  }

  /** {@link #abort(String)} with a short reason sent to the node. */
  public boolean abort(String id, String reason) {
    Outgoing o = outgoing.get(id);
    if (o == null) {
      return false;
    }
    if (o.abortSent.compareAndSet(false, true)) {
      sendQuietly(o.channel, Envelope.aborted(id, reason));
      schedule(
          o,
          options.abortGrace(),
          () -> new CallException(ErrorCodes.ABORTED, "aborted (the node did not confirm)"));
    }
    return true;
  }

  /** Sends {@code ping} on the session stream; completes with the round-trip time. */
  public CompletableFuture<Duration> ping() {
    CompletableFuture<Duration> f = new CompletableFuture<>();
    CallException dead = failure;
    if (dead != null) {
      f.completeExceptionally(dead);
      return f;
    }
    String id = "p" + nextId.incrementAndGet();
    long start = System.nanoTime();
    CompletableFuture<Duration> raw = new CompletableFuture<>();
    pings.put(id, raw);
    raw.whenComplete(
        (v, e) -> {
          pings.remove(id);
          if (e != null) {
            f.completeExceptionally(e);
          } else {
            f.complete(Duration.ofNanos(System.nanoTime() - start));
          }
        });
    try {
      timer.schedule(
          () ->
              raw.completeExceptionally(
                  new CallException(ErrorCodes.DEADLINE_EXCEEDED, "no pong from the node")),
          options.handshakeTimeout().toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      raw.completeExceptionally(closedFailure());
      return f;
    }
    try {
      session.send(Envelope.ping(id));
    } catch (IOException e) {
      channelLost(session, e);
    }
    if (failure != null) {
      raw.completeExceptionally(failure);
    }
    return f;
  }

  private Outgoing begin(
      String op, JsonNode input, CallOptions options, Consumer<JsonNode> onEvent) {
    Objects.requireNonNull(op, "op");
    if (!EnvelopeCodec.OP_NAME.matcher(op).matches()) {
      throw new IllegalArgumentException("operation name must look like namespace/name: " + op);
    }
    CallOptions opts = options == null ? CallOptions.DEFAULT : options;
    String id = Long.toString(nextId.incrementAndGet());
    Channel ch = pickChannel();
    Outgoing o = new Outgoing(id, ch, opts.parent(), onEvent);
    o.watchCancel();
    CallException dead = failure;
    if (dead != null) {
      o.fail(dead);
      return o;
    }
    Envelope req =
        Envelope.requested(
            id,
            op,
            input == null ? JsonNodeFactory.instance.objectNode() : input,
            opts.parent(),
            opts.deadlineMs(),
            opts.meta().isEmpty() ? null : opts.meta());
    byte[] body = EnvelopeCodec.encode(req);
    if (body.length > this.options.maxFrame()) {
      o.fail(
          new CallException(
              ErrorCodes.FRAME_TOO_LARGE,
              "request of "
                  + body.length
                  + " bytes exceeds the maximum frame of "
                  + this.options.maxFrame()));
      return o;
    }
    outgoing.put(id, o);
    if (opts.deadline() != null) {
      schedule(
          o,
          opts.deadline().plus(this.options.deadlineGrace()),
          () -> {
            sendQuietly(ch, Envelope.aborted(id, "deadline exceeded"));
            return new CallException(ErrorCodes.DEADLINE_EXCEEDED, "deadline exceeded");
          });
    }
    try {
      ch.write(body);
    } catch (IOException e) {
      channelLost(ch, e);
    }
    // A shutdown that raced with the put above may have missed this call.
    dead = failure;
    if (dead != null) {
      finish(o, null, dead);
    }
    return o;
  }

  private Channel pickChannel() {
    List<Channel> live = channels;
    int n = live.size();
    if (n <= 1) {
      return session;
    }
    try {
      return live.get(Math.floorMod(nextChannel.getAndIncrement(), n));
    } catch (IndexOutOfBoundsException e) {
      return session;
    }
  }

  private void schedule(
      Outgoing o, Duration delay, java.util.function.Supplier<CallException> onTimeout) {
    try {
      ScheduledFuture<?> t =
          timer.schedule(
              () -> {
                if (outgoing.get(o.id) == o) {
                  finish(o, null, onTimeout.get());
                }
              },
              delay.toMillis(),
              TimeUnit.MILLISECONDS);
      o.timers.add(t);
    } catch (RejectedExecutionException e) {
      // Closed: the call has been failed already.
    }
  }

  /** Ends an outgoing call once: with an output (or null for a subscription) or an error. */
  private void finish(Outgoing o, JsonNode output, Throwable error) {
    // The first completion wins (CompletableFuture semantics), so racing ends are harmless.
    outgoing.remove(o.id, o);
    o.timers.forEach(t -> t.cancel(false));
    if (error != null) {
      o.fail(error);
    } else {
      o.succeed(output);
    }
  }

  private JsonNode toJson(Object input) {
    if (input == null) {
      return JsonNodeFactory.instance.objectNode();
    }
    if (input instanceof JsonNode j) {
      return j;
    }
    return JSON.valueToTree(input);
  }

  // ---------------------------------------------------------------- local operations (CALL-7)

  /**
   * Registers a {@code client/…} operation with the node ({@code sys/register}) and answers the
   * node's calls to it. The handler runs on the client's executor.
   *
   * @param name {@code client/<name>}
   * @param kind {@code query} or {@code mutation}
   * @return completes when the node accepted the registration (with {@code sys/register}'s output),
   *     or fails with its error (the operation is then not registered locally either)
   */
  public CompletableFuture<JsonNode> registerLocal(
      String name, String kind, Function<JsonNode, JsonNode> impl) {
    Objects.requireNonNull(impl, "impl");
    return registerLocal(name, kind, "", call -> impl.apply(call.input()));
  }

  /** {@link #registerLocal(String, String, Function)} with a description and the call context. */
  public CompletableFuture<JsonNode> registerLocal(
      String name, String kind, String description, LocalHandler handler) {
    Objects.requireNonNull(handler, "handler");
    if (name == null
        || !name.startsWith("client/")
        || !EnvelopeCodec.OP_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("a local operation is named client/<name>: " + name);
    }
    if (!"query".equals(kind) && !"mutation".equals(kind)) {
      throw new IllegalArgumentException("a local operation is a query or a mutation: " + kind);
    }
    Local local = new Local(name, kind, description == null ? "" : description, handler);
    locals.put(name, local);
    ObjectNode in = JsonNodeFactory.instance.objectNode();
    ArrayNode ops = in.putArray("operations");
    ObjectNode spec = ops.addObject();
    spec.put("name", name);
    spec.put("kind", kind);
    spec.put("description", local.description());
    CompletableFuture<JsonNode> r = call("sys/register", in, CallOptions.DEFAULT);
    r.whenComplete(
        (v, e) -> {
          if (e != null) {
            locals.remove(name, local);
          }
        });
    return r;
  }

  private void onRequested(Channel ch, Envelope e) {
    if (incoming.containsKey(e.id())) {
      LOG.debugf("node reused call id %s; ignored", e.id());
      return;
    }
    Local local = locals.get(e.op());
    if (local == null) {
      sendAsync(
          ch, Envelope.error(e.id(), CallError.of(ErrorCodes.NOT_FOUND, "no such operation")));
      return;
    }
    Duration deadline = e.deadlineMs() == null ? null : Duration.ofMillis(e.deadlineMs());
    LocalCall call =
        new LocalCall(
            e.id(),
            e.op(),
            e.input() == null ? JsonNodeFactory.instance.objectNode() : e.input(),
            e.meta() == null ? Map.of() : Map.copyOf(e.meta()),
            deadline);
    Incoming inc = new Incoming(e.id(), ch);
    incoming.put(e.id(), inc);
    try {
      inc.task = localExecutor.submit(() -> runLocal(inc, local, call));
    } catch (RejectedExecutionException x) {
      endIncoming(
          inc, Envelope.error(e.id(), CallError.of(ErrorCodes.UNAVAILABLE, "client is busy")));
      return;
    }
    if (deadline != null) {
      try {
        inc.timer =
            timer.schedule(
                () -> {
                  if (endIncoming(
                      inc,
                      Envelope.error(
                          inc.id,
                          CallError.of(ErrorCodes.DEADLINE_EXCEEDED, "deadline exceeded")))) {
                    inc.cancel();
                  }
                },
                deadline.toMillis(),
                TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException x) {
        // closing
      }
    }
  }

  private void runLocal(Incoming inc, Local local, LocalCall call) {
    Envelope answer;
    try {
      JsonNode out = local.handler().handle(call);
      answer = Envelope.responded(inc.id, out == null ? NullNode.getInstance() : out);
    } catch (CallException ce) {
      answer = Envelope.error(inc.id, ce.error());
    } catch (InterruptedException ie) {
      answer = Envelope.error(inc.id, CallError.of(ErrorCodes.ABORTED, "aborted"));
    } catch (Exception | Error x) {
      LOG.debugf(x, "local operation %s failed", local.name());
      answer = Envelope.error(inc.id, CallError.of(ErrorCodes.INTERNAL, "operation failed"));
    }
    if (inc.ended.compareAndSet(false, true)) {
      incoming.remove(inc.id, inc);
      if (inc.timer != null) {
        inc.timer.cancel(false);
      }
      byte[] body = EnvelopeCodec.encode(answer);
      if (body.length > options.maxFrame()) {
        body =
            EnvelopeCodec.encode(
                Envelope.error(
                    inc.id, CallError.of(ErrorCodes.INTERNAL, "output exceeds the frame size")));
      }
      try {
        inc.channel.write(body);
      } catch (IOException x) {
        channelLost(inc.channel, x);
      }
    }
    // Clear an interrupt aimed at this call before the pool thread runs the next task.
    Thread.interrupted();
  }

  /** Sends the incoming call's terminal frame unless it already ended; whether this ended it. */
  private boolean endIncoming(Incoming inc, Envelope terminal) {
    if (!inc.ended.compareAndSet(false, true)) {
      return false;
    }
    incoming.remove(inc.id, inc);
    if (inc.timer != null) {
      inc.timer.cancel(false);
    }
    sendAsync(inc.channel, terminal);
    return true;
  }

  private void onNodeAborted(Envelope e) {
    Incoming inc = incoming.get(e.id());
    if (inc == null) {
      return;
    }
    if (endIncoming(inc, Envelope.error(inc.id, CallError.of(ErrorCodes.ABORTED, "aborted")))) {
      inc.cancel();
      // Cascade to calls this client made on the aborted call's behalf.
      for (Outgoing o : outgoing.values()) {
        if (inc.id.equals(o.parent)) {
          String child = o.id;
          try {
            timer.execute(() -> abort(child, "parent aborted"));
          } catch (RejectedExecutionException x) {
            // closing
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- reading

  private void onFrame(Channel ch, Envelope e) {
    if (!welcomed.isDone()) {
      if (ch != session) {
        return;
      }
      switch (e.type()) {
        case Envelope.WELCOME -> {
          if (e.protocol() != null && e.protocol() != Envelope.PROTOCOL) {
            welcomed.completeExceptionally(
                new CallException(
                    ErrorCodes.BAD_FRAME, "the node speaks protocol " + e.protocol() + ", not 1"));
          } else {
            welcomed.complete(
                new Welcome(
                    e.identity() == null ? JsonNodeFactory.instance.objectNode() : e.identity(),
                    e.node() == null ? "" : e.node(),
                    Envelope.PROTOCOL));
          }
        }
        case Envelope.ERROR -> welcomed.completeExceptionally(new CallException(e.error()));
        default ->
            welcomed.completeExceptionally(
                new CallException(
                    ErrorCodes.BAD_FRAME, "expected welcome from the node, got " + e.type()));
      }
      return;
    }
    switch (e.type()) {
      case Envelope.RESPONDED, Envelope.COMPLETED -> {
        Outgoing o = outgoing.get(e.id());
        if (o != null) {
          finish(o, e.output() == null ? NullNode.getInstance() : e.output(), null);
        }
      }
      case Envelope.ERROR -> {
        if (e.id() == null) {
          shutdown(new CallException(e.error()), null);
          return;
        }
        Outgoing o = outgoing.get(e.id());
        if (o != null) {
          finish(o, null, new CallException(e.error()));
        }
      }
      case Envelope.EVENT -> {
        Outgoing o = outgoing.get(e.id());
        if (o != null && o.onEvent != null) {
          try {
            o.onEvent.accept(e.event() == null ? NullNode.getInstance() : e.event());
          } catch (RuntimeException x) {
            sendAsync(o.channel, Envelope.aborted(o.id, "subscriber failed"));
            finish(o, null, x);
          }
        }
      }
      case Envelope.PING -> sendAsync(ch, Envelope.pong(e.id()));
      case Envelope.PONG -> {
        CompletableFuture<Duration> p = pings.get(e.id());
        if (p != null) {
          p.complete(Duration.ZERO);
        }
      }
      case Envelope.REQUESTED -> onRequested(ch, e);
      case Envelope.ABORTED -> onNodeAborted(e);
      default -> LOG.debugf("ignored %s from the node", e.type());
    }
  }

  private void channelLost(Channel ch, Throwable why) {
    if (ch == session || closed.get()) {
      shutdown(unavailable("connection closed"), null);
      return;
    }
    // An extra stream ended: fail only its calls and stop using it.
    if (!channels.remove(ch)) {
      return;
    }
    LOG.debugf("call stream %d closed: %s", ch.index, why == null ? "end of stream" : why);
    ch.close();
    CallException lost = unavailable("connection closed");
    for (Outgoing o : outgoing.values()) {
      if (o.channel == ch) {
        finish(o, null, lost);
      }
    }
  }

  private void malformed(Channel ch, WireException e) {
    CallException why =
        new CallException(e.code(), "malformed frame from the node: " + e.getMessage());
    shutdown(why, Envelope.error(null, CallError.of(e.code(), e.getMessage())));
  }

  // ---------------------------------------------------------------- sending

  private void sendQuietly(Channel ch, Envelope e) {
    try {
      ch.send(e);
    } catch (IOException x) {
      channelLost(ch, x);
    }
  }

  /** Sends from the reader thread without blocking it (the node may be blocked writing to us). */
  private void sendAsync(Channel ch, Envelope e) {
    try {
      timer.execute(() -> sendQuietly(ch, e));
    } catch (RejectedExecutionException x) {
      // closed
    }
  }

  // ---------------------------------------------------------------- closing

  /** Ends the session: fails every pending call with {@code UNAVAILABLE} and closes the streams. */
  @Override
  public void close() {
    shutdown(unavailable("connection closed"), null);
  }

  private void shutdown(CallException cause, Envelope goodbye) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    failure = cause;
    welcomed.completeExceptionally(cause);
    for (Outgoing o : outgoing.values()) {
      finish(o, null, cause);
    }
    for (CompletableFuture<Duration> p : pings.values()) {
      p.completeExceptionally(cause);
    }
    for (Incoming inc : incoming.values()) {
      inc.ended.set(true);
      inc.cancel();
    }
    incoming.clear();
    if (goodbye != null) {
      try {
        session.send(goodbye);
      } catch (IOException | RuntimeException x) {
        // best effort
      }
    }
    timer.shutdownNow();
    localExecutor.shutdownNow();
    for (Channel c : channels) {
      c.close();
    }
    if (onClose != null) {
      try {
        onClose.run();
      } catch (RuntimeException x) {
        LOG.debugf("closing the connection: %s", x.toString());
      }
    }
  }

  private CallException closedFailure() {
    CallException f = failure;
    return f != null ? f : unavailable("connection closed");
  }

  private static CallException unavailable(String message) {
    return new CallException(ErrorCodes.UNAVAILABLE, message);
  }

  private static void closeQuietly(Closeable... cs) {
    for (Closeable c : cs) {
      try {
        c.close();
      } catch (IOException | RuntimeException e) {
        // ignore
      }
    }
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  // ---------------------------------------------------------------- state

  /** One stream: a reader thread and a write lock. */
  private final class Channel {
    final int index;
    final StreamPair stream;
    final Object writeLock = new Object();
    final AtomicBoolean released = new AtomicBoolean();

    Channel(int index, StreamPair stream) {
      this.index = index;
      this.stream = stream;
    }

    void start() {
      Thread t = new Thread(this::readLoop, "alknet-call-" + number + "-reader-" + index);
      t.setDaemon(true);
      t.start();
    }

    void send(Envelope e) throws IOException {
      write(EnvelopeCodec.encode(e));
    }

    void write(byte[] body) throws IOException {
      synchronized (writeLock) {
        FrameCodec.write(stream.out(), body);
      }
    }

    void readLoop() {
      try {
        while (true) {
          byte[] frame = FrameCodec.read(stream.in(), options.maxFrame());
          if (frame == null) {
            channelLost(this, null);
            return;
          }
          Envelope e = EnvelopeCodec.decode(frame);
          onFrame(this, e);
          if (closed.get() || welcomed.isCompletedExceptionally()) {
            return;
          }
        }
      } catch (WireException e) {
        if (!closed.get()) {
          malformed(this, e);
        }
      } catch (IOException | RuntimeException e) {
        if (!closed.get()) {
          LOG.debugf("call stream %d: %s", index, e.toString());
        }
        channelLost(this, e);
      }
    }

    void close() {
      if (released.compareAndSet(false, true)) {
        closeQuietly(stream.out(), stream.in(), stream.closer());
      }
    }
  }

  /** A call this client made. */
  private final class Outgoing {
    final String id;
    final Channel channel;
    final String parent;
    final Consumer<JsonNode> onEvent;
    final CompletableFuture<JsonNode> result;
    final CompletableFuture<Void> done;
    final AtomicBoolean abortSent = new AtomicBoolean();
    final List<ScheduledFuture<?>> timers = new CopyOnWriteArrayList<>();

    Outgoing(String id, Channel channel, String parent, Consumer<JsonNode> onEvent) {
      this.id = id;
      this.channel = channel;
      this.parent = parent;
      this.onEvent = onEvent;
      this.result = onEvent == null ? new CompletableFuture<>() : null;
      this.done = onEvent == null ? null : new CompletableFuture<>();
    }

    /** Cancelling the caller's future aborts the call at once (no wait for the node). */
    void watchCancel() {
      CompletableFuture<?> f = result != null ? result : done;
      f.whenComplete(
          (v, e) -> {
            if (e instanceof CancellationException && outgoing.remove(id, this)) {
              timers.forEach(t -> t.cancel(false));
              if (abortSent.compareAndSet(false, true)) {
                sendQuietly(channel, Envelope.aborted(id, "cancelled"));
              }
            }
          });
    }

    void succeed(JsonNode output) {
      if (result != null) {
        result.complete(output);
      } else {
        done.complete(null);
      }
    }

    void fail(Throwable t) {
      (result != null ? result : done).completeExceptionally(t);
    }
  }

  /** A call the node made to a registered local operation. */
  private static final class Incoming {
    final String id;
    final Channel channel;
    final AtomicBoolean ended = new AtomicBoolean();
    volatile Future<?> task;
    volatile ScheduledFuture<?> timer;

    Incoming(String id, Channel channel) {
      this.id = id;
      this.channel = channel;
    }

    void cancel() {
      Future<?> t = task;
      if (t != null) {
        t.cancel(true);
      }
    }
  }

  /** For tests: the open channels' count of pending outgoing calls. */
  int pendingCount() {
    return outgoing.size();
  }
}

package net.alknet.call.demo;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import net.alknet.call.op.CallContext;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationBean;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.ErrorCodes;

/**
 * The demo operations shipped with every node (disable with {@code alknet.call.demo=false}). Open
 * to every session; used by the tests, the docs and the HTTP/MCP projections.
 */
@ApplicationScoped
public class DemoOperations implements OperationBean {

  /** {@code demo/echo} input and output. */
  public record Echo(String text) {}

  /** {@code demo/sleep} input. */
  public record Sleep(long ms) {}

  /**
   * What a sleep did (or is doing, while {@code running}): how long it slept and whether it was
   * aborted.
   */
  public record Slept(
      String callId, long requestedMs, long sleptMs, boolean aborted, boolean running) {}

  /** {@code demo/sleeps} output. */
  public record Sleeps(List<Slept> recent) {}

  /** {@code demo/ticks} input; {@code pad}: bytes of filler per event (0..65536, default 0). */
  public record Ticks(int count, long intervalMs, java.util.Optional<Integer> pad) {}

  /** One {@code demo/ticks} event. */
  public record Tick(int n, long at, String pad) {}

  /** {@code demo/whoami} output. */
  public record WhoAmI(String id, String displayName, List<String> scopes) {}

  /** {@code demo/nested} output. */
  public record Nested(Slept child) {}

  private static final long MAX_SLEEP_MS = 600_000;
  private final ScheduledThreadPoolExecutor timer =
      new ScheduledThreadPoolExecutor(
          1,
          r -> {
            Thread t = new Thread(r, "alknet-demo-timer");
            t.setDaemon(true);
            return t;
          });
  private final ArrayDeque<Slept> recent = new ArrayDeque<>();
  private final java.util.concurrent.atomic.AtomicLong tickersRunning =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong tickersCancelled =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong tickersEnded =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.Map<String, long[]> running = new java.util.LinkedHashMap<>();

  public DemoOperations() {
    timer.setRemoveOnCancelPolicy(true);
  }

  @Operation(
      value = "demo/echo",
      kind = Operation.Kind.QUERY,
      open = true,
      tags = "demo",
      description = "Returns its input.")
  public Echo echo(Echo input) {
    return input;
  }

  @Operation(
      value = "demo/sleep",
      kind = Operation.Kind.MUTATION,
      open = true,
      tags = "demo",
      description =
          "Waits ms milliseconds (at most 600000) without holding a thread; abortable. Reports how"
              + " long it slept; aborted sleeps are listed by demo/sleeps.")
  public Uni<Slept> sleep(Sleep input, CallContext ctx) {
    long ms = input.ms();
    if (ms < 0 || ms > MAX_SLEEP_MS) {
      throw invalid("$.ms", "must be between 0 and " + MAX_SLEEP_MS);
    }
    long start = System.nanoTime();
    return Uni.createFrom()
        .emitter(
            em -> {
              started(ctx.callId(), ms, start);
              ScheduledFuture<?> f =
                  timer.schedule(
                      () -> em.complete(record(ctx.callId(), ms, start, false)),
                      ms,
                      TimeUnit.MILLISECONDS);
              ctx.abortSignal()
                  .onAbort(
                      () -> {
                        if (f.cancel(false)) {
                          record(ctx.callId(), ms, start, true);
                        }
                      });
            });
  }

  @Operation(
      value = "demo/sleeps",
      kind = Operation.Kind.QUERY,
      open = true,
      tags = "demo",
      description =
          "The running demo/sleep calls and the last 100 finished ones: how long each slept and"
              + " whether it was aborted.")
  public synchronized Sleeps sleeps() {
    List<Slept> all = new java.util.ArrayList<>(recent);
    long now = System.nanoTime();
    running.forEach((id, v) -> all.add(new Slept(id, v[0], (now - v[1]) / 1_000_000, false, true)));
    return new Sleeps(all);
  }

  private synchronized void started(String callId, long ms, long startNanos) {
    running.put(callId, new long[] {ms, startNanos});
  }

  @Operation(
      value = "demo/ticks",
      kind = Operation.Kind.SUBSCRIPTION,
      open = true,
      tags = "demo",
      overflow = Operation.Overflow.DROP_OLDEST,
      queue = 64,
      description =
          "Emits count events, one every intervalMs milliseconds, then completes; pad adds filler"
              + " bytes to each event.")
  public Multi<Tick> ticks(Ticks input) {
    if (input.count() < 1 || input.count() > 100_000) {
      throw invalid("$.count", "must be between 1 and 100000");
    }
    if (input.intervalMs() < 1 || input.intervalMs() > 60_000) {
      throw invalid("$.intervalMs", "must be between 1 and 60000");
    }
    int padBytes = input.pad().orElse(0);
    if (padBytes < 0 || padBytes > 65_536) {
      throw invalid("$.pad", "must be between 0 and 65536");
    }
    String filler = padBytes == 0 ? null : "x".repeat(padBytes);
    return Multi.createFrom()
        .ticks()
        .every(Duration.ofMillis(input.intervalMs()))
        .onOverflow()
        .drop()
        .select()
        .first(input.count())
        .map(i -> new Tick((int) (i + 1), System.currentTimeMillis(), filler))
        .onSubscription()
        .invoke(tickersRunning::incrementAndGet)
        .onTermination()
        .invoke(
            (failure, cancelled) -> {
              tickersRunning.decrementAndGet();
              (cancelled ? tickersCancelled : tickersEnded).incrementAndGet();
            });
  }

  /** How many demo/ticks subscriptions run, were cancelled (aborted) or ended on their own. */
  public record Tickers(long running, long cancelled, long ended) {}

  @Operation(
      value = "demo/tickers",
      kind = Operation.Kind.QUERY,
      open = true,
      tags = "demo",
      description =
          "Counts demo/ticks subscriptions: running now, cancelled (their call was aborted) and"
              + " ended on their own; shows that a client going away aborts its subscription.")
  public Tickers tickers() {
    return new Tickers(tickersRunning.get(), tickersCancelled.get(), tickersEnded.get());
  }

  @Operation(
      value = "demo/fail",
      kind = Operation.Kind.QUERY,
      open = true,
      tags = "demo",
      description =
          "Always fails with an unexpected exception: the caller sees INTERNAL and no internals.")
  public Echo fail(Echo input) {
    throw new IllegalStateException("demo/fail: internal detail " + input.text());
  }

  @Operation(
      value = "demo/whoami",
      kind = Operation.Kind.QUERY,
      tags = "demo",
      description =
          "Returns the caller's identity. Needs scope call:demo (or call): the scope-gated demo.")
  public WhoAmI whoami(CallContext ctx) {
    var id = ctx.identity();
    return new WhoAmI(id.id(), id.displayName(), id.scopes().stream().sorted().toList());
  }

  @Operation(
      value = "demo/callback",
      kind = Operation.Kind.QUERY,
      open = true,
      tags = "demo",
      description =
          "Calls back the operation client/greet that the calling client registered for its"
              + " session (sys/register) and returns its answer: the bidirectional-call example.")
  public Uni<Echo> callback(Echo input, CallContext ctx) {
    return ctx.call("client/greet", input, Echo.class);
  }

  @Operation(
      value = "demo/nested",
      kind = Operation.Kind.MUTATION,
      open = true,
      tags = "demo",
      description =
          "Calls demo/sleep as a child call: aborting demo/nested aborts the sleep (the abort"
              + " cascade example).")
  public Uni<Nested> nested(Sleep input, CallContext ctx) {
    return ctx.call("demo/sleep", input, Slept.class).map(Nested::new);
  }

  private synchronized Slept record(String callId, long ms, long startNanos, boolean aborted) {
    running.remove(callId);
    Slept s = new Slept(callId, ms, (System.nanoTime() - startNanos) / 1_000_000, aborted, false);
    recent.addLast(s);
    while (recent.size() > 100) {
      recent.removeFirst();
    }
    return s;
  }

  private static CallException invalid(String path, String message) {
    var details = JsonNodeFactory.instance.objectNode();
    details.putArray("errors").addObject().put("path", path).put("message", message);
    return new CallException(
        ErrorCodes.INVALID_INPUT, "invalid input at " + path + ": " + message, details);
  }

  @PreDestroy
  void stop() {
    timer.shutdownNow();
  }
}

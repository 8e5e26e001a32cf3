package net.alknet.call.session;

import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import net.alknet.call.op.CallContext;
import net.alknet.call.op.Operation;
import net.alknet.call.op.OperationBean;
import net.alknet.call.wire.CallException;

/** Operations for engine tests: failures, scopes, callbacks, a firehose. */
public class TestOps implements OperationBean {

  public record Text(String text) {}

  public record Count(int n) {}

  @Operation(value = "test/boom", description = "throws with a secret in the message")
  public Text boom(Text in) {
    throw new IllegalStateException("secret=hunter2 at /internal/path");
  }

  @Operation(value = "test/declared", errors = "OUT_OF_STOCK")
  public Text declared(Text in) {
    throw new CallException("OUT_OF_STOCK", "no " + in.text() + " left");
  }

  @Operation(value = "admin/reset", kind = Operation.Kind.MUTATION, scopes = "admin")
  public Text reset(Text in) {
    return in;
  }

  @Operation(value = "test/internal", visibility = Operation.Visibility.INTERNAL)
  public Text internal(Text in) {
    return in;
  }

  @Operation(value = "test/callback", open = true, description = "asks the client for a greeting")
  public Uni<Text> callback(Text in, CallContext ctx) {
    return ctx.call("client/greet", in, Text.class);
  }

  @Operation(
      value = "test/firehose",
      kind = Operation.Kind.SUBSCRIPTION,
      open = true,
      queue = 16,
      overflow = Operation.Overflow.DROP_OLDEST)
  public Multi<Count> firehose(Count in) {
    return Multi.createFrom().range(0, in.n()).map(Count::new);
  }

  @Operation(
      value = "test/strict-firehose",
      kind = Operation.Kind.SUBSCRIPTION,
      open = true,
      queue = 16,
      overflow = Operation.Overflow.ERROR)
  public Multi<Count> strictFirehose(Count in) {
    return Multi.createFrom().range(0, in.n()).map(Count::new);
  }
}

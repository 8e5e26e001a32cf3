package net.alknet.call.op;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares an operation of the call protocol (CALL-8, CALL-9) on a public method of an
 * {@code @ApplicationScoped} bean that implements {@link OperationBean}.
 *
 * <p>Method shape: {@code Out name(In input)} or {@code Out name(In input, CallContext ctx)} (or
 * only a {@link CallContext}, or nothing, for operations without input). {@code In} and {@code Out}
 * are records (or any Jackson-bindable type); their JSON Schemas are generated and the input is
 * validated before the method runs. The return type may be a value, a {@code Uni<Out>}, a {@code
 * CompletionStage<Out>} or, for {@link Kind#SUBSCRIPTION}, a {@code Multi<Event>}. A plain
 * (blocking) method runs on a worker thread, never on an event loop. Throw {@link
 * net.alknet.call.wire.CallException} with a declared domain code for expected failures; anything
 * else reaches the caller as {@code INTERNAL}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Operation {

  /** {@code namespace/name}, e.g. {@code demo/echo}. */
  String value();

  /** Query (no side effects), mutation, or subscription (a stream of events). */
  Kind kind() default Kind.QUERY;

  /** One or two sentences for {@code sys/describe}, OpenAPI and MCP. */
  String description() default "";

  String[] tags() default {};

  /**
   * Scopes of which the caller needs one. Empty (default): {@code call:<namespace>}, which the
   * scope {@code call} also grants. See docs/scopes.md.
   */
  String[] scopes() default {};

  /**
   * Callable by every authenticated session, anonymous ones included; overrides {@link #scopes}.
   */
  boolean open() default false;

  /** {@code EXTERNAL}: callable from the wire; {@code INTERNAL}: only by other operations. */
  Visibility visibility() default Visibility.EXTERNAL;

  /** Domain error codes this operation may answer with (upper snake case). */
  String[] errors() default {};

  /** Subscriptions: what happens when the subscriber falls {@link #queue()} events behind. */
  Overflow overflow() default Overflow.DROP_OLDEST;

  /** Subscriptions: undelivered events kept per subscriber. */
  int queue() default 256;

  /** Keep running when the call this one was made on behalf of is aborted (default: abort too). */
  boolean continueOnParentAbort() default false;

  /** Operation kinds. */
  enum Kind {
    QUERY,
    MUTATION,
    SUBSCRIPTION;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Who may call. */
  enum Visibility {
    EXTERNAL,
    INTERNAL
  }

  /** Subscription overflow policies (CALL-5). */
  enum Overflow {
    /** Drop the oldest undelivered event. */
    DROP_OLDEST,
    /** End the call with {@code OVERFLOW}. */
    ERROR;

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }
}

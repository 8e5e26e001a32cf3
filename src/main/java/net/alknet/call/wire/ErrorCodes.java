package net.alknet.call.wire;

import java.util.Set;

/**
 * The standard error codes of the call protocol (CALL-11). Operations may add their own declared
 * domain codes (upper snake case); imported HTTP errors keep their status as {@code HTTP_<status>}.
 */
public final class ErrorCodes {

  private ErrorCodes() {}

  /** Malformed frame or envelope: bad JSON, not UTF-8, a required field missing, zero length. */
  public static final String BAD_FRAME = "BAD_FRAME";

  /** A frame longer than the receiver's maximum frame size. */
  public static final String FRAME_TOO_LARGE = "FRAME_TOO_LARGE";

  /** {@code hello} missing or its credential not accepted. */
  public static final String UNAUTHENTICATED = "UNAUTHENTICATED";

  /** The identity lacks a scope the operation requires. */
  public static final String FORBIDDEN = "FORBIDDEN";

  /** No such operation (or not visible to the caller). */
  public static final String NOT_FOUND = "NOT_FOUND";

  /** The input does not match the operation's input schema; details name the failing path. */
  public static final String INVALID_INPUT = "INVALID_INPUT";

  /** The call's {@code deadlineMs} passed before it finished. */
  public static final String DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED";

  /** The call was aborted (by the caller, by its parent's abort, or by connection loss). */
  public static final String ABORTED = "ABORTED";

  /** A subscriber fell behind an operation whose overflow policy is to fail. */
  public static final String OVERFLOW = "OVERFLOW";

  /** The receiver cannot take the call now (shutting down, too many calls in flight). */
  public static final String UNAVAILABLE = "UNAVAILABLE";

  /** The operation failed unexpectedly; details are only in the node's log. */
  public static final String INTERNAL = "INTERNAL";

  public static final Set<String> STANDARD =
      Set.of(
          BAD_FRAME,
          FRAME_TOO_LARGE,
          UNAUTHENTICATED,
          FORBIDDEN,
          NOT_FOUND,
          INVALID_INPUT,
          DEADLINE_EXCEEDED,
          ABORTED,
          OVERFLOW,
          UNAVAILABLE,
          INTERNAL);
}

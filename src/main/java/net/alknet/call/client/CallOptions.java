package net.alknet.call.client;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-call options of a {@link CallClient} call.
 *
 * @param deadline the call's time budget, sent as {@code deadlineMs} (the receiver counts it from
 *     when it reads the request), or {@code null} for none
 * @param parent the id of a call the node made to this client on whose behalf this call is made
 *     (CALL-6: aborting that call aborts this one), or {@code null}
 * @param meta free string map sent as {@code meta} (at most 64 entries); never {@code null}
 */
public record CallOptions(Duration deadline, String parent, Map<String, String> meta) {

  /** No deadline, no parent, no meta. */
  public static final CallOptions DEFAULT = new CallOptions(null, null, Map.of());

  public CallOptions {
    if (deadline != null && (deadline.isNegative() || deadline.isZero())) {
      throw new IllegalArgumentException("deadline must be positive");
    }
    if (parent != null && (parent.isEmpty() || parent.length() > 128)) {
      throw new IllegalArgumentException("parent must be a call id of 1..128 characters");
    }
    meta = meta == null ? Map.of() : Map.copyOf(meta);
    if (meta.size() > 64) {
      throw new IllegalArgumentException("meta holds at most 64 entries");
    }
  }

  /** Options with only a deadline. */
  public static CallOptions deadline(Duration deadline) {
    return DEFAULT.withDeadline(deadline);
  }

  public CallOptions withDeadline(Duration deadline) {
    return new CallOptions(deadline, parent, meta);
  }

  public CallOptions withParent(String parent) {
    return new CallOptions(deadline, parent, meta);
  }

  public CallOptions withMeta(Map<String, String> meta) {
    return new CallOptions(deadline, parent, meta);
  }

  /** These options plus one meta entry. */
  public CallOptions withMeta(String key, String value) {
    Map<String, String> m = new LinkedHashMap<>(meta);
    m.put(key, value);
    return new CallOptions(deadline, parent, m);
  }

  /** The deadline in whole milliseconds (at least 1), or {@code null}. */
  Long deadlineMs() {
    return deadline == null ? null : Math.max(1L, deadline.toMillis());
  }
}

package net.alknet.git;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Records a refused git request: one log line with the connection, identity and reason, and the
 * counter {@code alknet.git.denied{kind}} (Prometheus: {@code alknet_git_denied_total}). The peer
 * sees only the request's own message (an {@code ERR} pkt-line).
 */
public final class GitDenials {

  static final String METER = "alknet.git.denied";
  private static final Logger LOG = Logger.getLogger(GitDenials.class);

  private final MeterRegistry meters;
  private final Map<GitRequestException.Kind, Counter> counters = new ConcurrentHashMap<>();

  public GitDenials(MeterRegistry meters) {
    this.meters = meters;
  }

  /** Logs and counts one refusal. */
  void deny(String connectionId, String who, GitRequestException e) {
    counters.computeIfAbsent(e.kind(), k -> meters.counter(METER, "kind", k.tag)).increment();
    LOG.infof(
        "[%s] git request denied for %s (%s): %s",
        connectionId, who, e.kind().tag, GitRequest.shorten(e.getMessage()));
  }

  /** The count for one kind (tests). */
  double count(GitRequestException.Kind kind) {
    Counter c = counters.get(kind);
    return c == null ? 0 : c.count();
  }
}

package net.alknet.ssh;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.session.Session;
import org.jboss.logging.Logger;

/**
 * Records a refused SSH request: one log line with the connection, identity and reason, and the
 * counter {@code alknet.ssh.denied{kind}} (Prometheus: {@code alknet_ssh_denied_total}). The peer
 * only ever sees SSH's own refusal (channel open failure or request failure).
 */
final class SshDenials {

  /** What was refused; the counter's {@code kind} tag. */
  enum Kind {
    LOCAL_FORWARD("local-forward"),
    REMOTE_FORWARD("remote-forward"),
    LOCAL_UNIX_FORWARD("local-unix-forward"),
    REMOTE_UNIX_FORWARD("remote-unix-forward"),
    AGENT("agent"),
    X11("x11"),
    EXEC("exec"),
    SHELL("shell"),
    CHANNEL("channel");

    final String tag;

    Kind(String tag) {
      this.tag = tag;
    }
  }

  static final String METER = "alknet.ssh.denied";

  /**
   * Refusals logged one by one per session; past them, one line at every power of ten. A client may
   * ask for refused things as fast as it can send (a channel open is a few bytes): the log is not a
   * place it may fill.
   */
  static final int LOGGED_PER_SESSION = 10;

  private static final AttributeRepository.AttributeKey<AtomicLong> DENIED =
      new AttributeRepository.AttributeKey<>();
  private static final Logger LOG = Logger.getLogger(SshDenials.class);

  private final MeterRegistry meters;
  private final Map<Kind, Counter> counters = new ConcurrentHashMap<>();

  SshDenials(MeterRegistry meters) {
    this.meters = meters;
  }

  /**
   * Logs and counts one refusal.
   *
   * @param what the request, e.g. {@code 10.0.0.1:22}; from the peer, so quoted sanitized
   * @param who the identity id or {@code unauthenticated}
   */
  void deny(Session session, Kind kind, String what, String who, String reason) {
    counters.computeIfAbsent(kind, k -> meters.counter(METER, "kind", k.tag)).increment();
    long n =
        session == null
            ? 1
            : session.computeAttributeIfAbsent(DENIED, k -> new AtomicLong()).incrementAndGet();
    if (n <= LOGGED_PER_SESSION) {
      LOG.infof(
          "[%s] ssh %s %s denied for %s: %s",
          SshPeer.connectionId(session), kind.tag, sanitize(what), who, reason);
    } else if (isPowerOfTen(n)) {
      LOG.infof(
          "[%s] ssh: %d requests of this session denied so far (for %s); past the first %d they"
              + " are counted, not logged one by one",
          SshPeer.connectionId(session), n, who, LOGGED_PER_SESSION);
    }
  }

  private static boolean isPowerOfTen(long n) {
    while (n >= 10 && n % 10 == 0) {
      n /= 10;
    }
    return n == 1;
  }

  /** Peer-chosen text for a log line: at most 200 characters, control characters masked. */
  static String sanitize(String s) {
    if (s == null) {
      return "";
    }
    String t = s.length() <= 200 ? s : s.substring(0, 200) + "...";
    StringBuilder b = new StringBuilder(t.length());
    t.codePoints().forEach(c -> b.appendCodePoint(c < 0x20 || c == 0x7f ? '?' : c));
    return b.toString();
  }
}

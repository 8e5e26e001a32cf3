package net.alknet.ssh;

import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.session.helpers.AbstractSession;
import org.apache.sshd.common.util.buffer.Buffer;
import org.jboss.logging.Logger;

/**
 * OpenSSH's {@code ClientAliveInterval} for the gateway: every interval each authenticated session
 * gets a {@code keepalive@openssh.com} global request with want-reply (every client answers, if
 * only with a failure); after {@code countMax} requests in a row without an answer the session is
 * closed. This finds clients that vanished without a word — over QUIC a killed client sends nothing
 * and would otherwise hold its session until the endpoint's idle timeout — and its traffic keeps
 * idle but live sessions from reaching that timeout.
 *
 * <p>One scheduler thread for all sessions; it never blocks (requests are queued writes).
 */
final class ClientAlive implements AutoCloseable {

  static final String REQUEST = "keepalive@openssh.com";
  private static final Logger LOG = Logger.getLogger(ClientAlive.class);
  private static final AttributeKey<AtomicInteger> UNANSWERED = new AttributeKey<>();

  private final ScheduledExecutorService timer;
  private final int countMax;
  private final Supplier<Collection<IoSession>> sessions;

  /**
   * @param interval time between requests; zero or negative disables the check
   * @param countMax unanswered requests that end a session (at least 1)
   * @param sessions the gateway's open sessions
   */
  ClientAlive(Duration interval, int countMax, Supplier<Collection<IoSession>> sessions) {
    this.countMax = Math.max(1, countMax);
    this.sessions = sessions;
    if (interval.isZero() || interval.isNegative()) {
      this.timer = null;
      return;
    }
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "alknet-ssh-alive");
              t.setDaemon(true);
              return t;
            });
    long ms = interval.toMillis();
    timer.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
  }

  private void tick() {
    for (IoSession io : sessions.get()) {
      try {
        check(io);
      } catch (Exception | LinkageError e) {
        LOG.debugf("ssh keepalive on %s: %s", io, e.toString());
      }
    }
  }

  private void check(IoSession io) throws Exception {
    AbstractSession session = AbstractSession.getSession(io, true);
    if (session == null || !session.isAuthenticated() || !session.isOpen()) {
      return;
    }
    AtomicInteger unanswered =
        session.computeAttributeIfAbsent(UNANSWERED, k -> new AtomicInteger());
    if (unanswered.get() >= countMax) {
      LOG.infof(
          "[%s] ssh client did not answer %d keepalives; closing the session",
          SshPeer.connectionId(session), unanswered.get());
      session.close(true);
      return;
    }
    unanswered.incrementAndGet();
    Buffer b = session.createBuffer(SshConstants.SSH_MSG_GLOBAL_REQUEST, REQUEST.length() + 16);
    b.putString(REQUEST);
    b.putBoolean(true);
    session.request(b, REQUEST, (cmd, reply) -> unanswered.set(0));
  }

  @Override
  public void close() {
    if (timer != null) {
      timer.shutdownNow();
    }
  }
}

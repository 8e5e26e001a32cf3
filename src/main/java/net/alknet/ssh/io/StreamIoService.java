package net.alknet.ssh.io;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.Closeable;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoService;
import org.apache.sshd.common.io.IoServiceEventListener;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.util.closeable.AbstractInnerCloseable;

/**
 * What the stream acceptor and connector share: the {@link IoHandler} their sessions report to, the
 * sessions they manage, and closing them all when the service closes.
 */
abstract class StreamIoService extends AbstractInnerCloseable implements IoService {

  /** Default size of the chunks read from a duplex and handed to MINA. */
  static final int READ_BUFFER_SIZE = 32 * 1024;

  private final IoHandler handler;
  private final StreamIoSession.Limits limits;
  private final Map<Long, IoSession> sessions = new ConcurrentHashMap<>();
  private volatile IoServiceEventListener eventListener;

  StreamIoService(IoHandler handler, StreamIoSession.Limits limits) {
    this.handler = Objects.requireNonNull(handler, "handler");
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  IoHandler handler() {
    return handler;
  }

  StreamIoSession.Limits limits() {
    return limits;
  }

  void register(StreamIoSession session) {
    sessions.put(session.getId(), session);
  }

  /** Called by a session once it is closed. */
  void sessionClosed(StreamIoSession session) {
    sessions.remove(session.getId());
  }

  @Override
  public Map<Long, IoSession> getManagedSessions() {
    return Collections.unmodifiableMap(sessions);
  }

  @Override
  public IoServiceEventListener getIoServiceEventListener() {
    return eventListener;
  }

  @Override
  public void setIoServiceEventListener(IoServiceEventListener listener) {
    this.eventListener = listener;
  }

  @Override
  protected Closeable getInnerCloseable() {
    return builder().parallel(toString(), sessions.values()).build();
  }
}

package net.alknet.ssh.io;

import java.util.Objects;
import org.apache.sshd.common.Closeable;
import org.apache.sshd.common.io.IoAcceptor;
import org.apache.sshd.common.io.IoConnector;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoServiceEventListener;
import org.apache.sshd.common.io.IoServiceFactory;
import org.apache.sshd.common.session.helpers.AbstractSessionIoHandler;
import org.apache.sshd.common.util.closeable.AbstractInnerCloseable;

/**
 * MINA's I/O for an SSH server or client whose sessions run on {@link Duplex}es: SSH sessions (the
 * handler is MINA's session factory) get a {@link StreamIoAcceptor} or {@link StreamIoConnector};
 * every other service MINA asks for, i.e. the TCP ends of port forwarding (the socket a {@code
 * direct-tcpip} channel connects, the port a {@code tcpip-forward} listens on), comes from the
 * socket factory this one wraps (MINA's NIO2 transport).
 */
public final class StreamIoServiceFactory extends AbstractInnerCloseable
    implements IoServiceFactory {

  private final IoServiceFactory sockets;
  private final StreamIoSession.Limits limits;
  private final StreamIoConnector.Dialer dialer;
  private volatile IoServiceEventListener eventListener;
  private volatile StreamIoAcceptor sessionAcceptor;

  /**
   * @param sockets the factory for real sockets (forwarding); closed with this one
   * @param dialer opens duplexes for SSH client sessions; null if this side only accepts
   */
  public StreamIoServiceFactory(
      IoServiceFactory sockets, StreamIoSession.Limits limits, StreamIoConnector.Dialer dialer) {
    this.sockets = Objects.requireNonNull(sockets, "sockets");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.dialer = dialer;
  }

  private static boolean isSshSession(IoHandler handler) {
    return handler instanceof AbstractSessionIoHandler;
  }

  @Override
  public IoAcceptor createAcceptor(IoHandler handler) {
    if (!isSshSession(handler)) {
      return sockets.createAcceptor(handler);
    }
    StreamIoAcceptor acceptor = new StreamIoAcceptor(handler, limits);
    acceptor.setIoServiceEventListener(eventListener);
    sessionAcceptor = acceptor;
    return acceptor;
  }

  /**
   * The acceptor of SSH sessions that {@code SshServer.start()} created (MINA does not expose it);
   * empty before that.
   */
  public java.util.Optional<StreamIoAcceptor> sessionAcceptor() {
    return java.util.Optional.ofNullable(sessionAcceptor);
  }

  @Override
  public IoConnector createConnector(IoHandler handler) {
    if (!isSshSession(handler)) {
      return sockets.createConnector(handler);
    }
    if (dialer == null) {
      throw new IllegalStateException("this SSH endpoint only accepts sessions");
    }
    StreamIoConnector connector = new StreamIoConnector(handler, limits, dialer);
    connector.setIoServiceEventListener(eventListener);
    return connector;
  }

  @Override
  public IoServiceEventListener getIoServiceEventListener() {
    return eventListener;
  }

  @Override
  public void setIoServiceEventListener(IoServiceEventListener listener) {
    this.eventListener = listener;
    sockets.setIoServiceEventListener(listener);
  }

  @Override
  protected Closeable getInnerCloseable() {
    return sockets;
  }
}

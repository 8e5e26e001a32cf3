package net.alknet.ssh.io;

import java.io.IOException;
import java.net.SocketAddress;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.io.DefaultIoConnectFuture;
import org.apache.sshd.common.io.IoConnectFuture;
import org.apache.sshd.common.io.IoConnector;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoServiceEventListener;

/**
 * The client side: an {@link IoConnector} whose "connect" asks a {@link Dialer} for a duplex (an
 * endpoint stream, a pipe) instead of opening a socket. Each session reads on a thread of its own.
 */
public final class StreamIoConnector extends StreamIoService implements IoConnector {

  /** Opens the duplex for a target address. */
  @FunctionalInterface
  public interface Dialer {
    /**
     * Opens a transport to {@code target}; may block.
     *
     * @throws IOException if it cannot
     */
    Duplex dial(SocketAddress target) throws IOException;
  }

  private final Dialer dialer;

  StreamIoConnector(IoHandler handler, StreamIoSession.Limits limits, Dialer dialer) {
    super(handler, limits);
    this.dialer = dialer;
  }

  @Override
  public IoConnectFuture connect(
      SocketAddress target, AttributeRepository context, SocketAddress localAddress) {
    DefaultIoConnectFuture future = new DefaultIoConnectFuture(target, null);
    StreamIoSession session = null;
    try {
      if (isClosing()) {
        throw new IOException("the SSH connector is closed");
      }
      Duplex duplex = dialer.dial(target);
      IoServiceEventListener listener = getIoServiceEventListener();
      if (listener != null) {
        listener.connectionEstablished(this, localAddress, context, target);
      }
      session = new StreamIoSession(this, duplex, localAddress, target, null);
      if (context != null) {
        session.setAttribute(AttributeRepository.class, context);
      }
      register(session);
      session.start();
      StreamIoSession started = session;
      Thread reader = new Thread(started::runReadLoop, "alknet-ssh-in-" + session.getId());
      reader.setDaemon(true);
      reader.start();
      future.setSession(session);
    } catch (Throwable e) {
      if (session != null) {
        session.close(true);
      }
      future.setException(e);
    }
    return future;
  }

  @Override
  public String toString() {
    return "StreamIoConnector";
  }
}

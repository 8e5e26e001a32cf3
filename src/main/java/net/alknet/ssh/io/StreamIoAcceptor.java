package net.alknet.ssh.io;

import java.io.IOException;
import java.net.SocketAddress;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.sshd.common.io.IoAcceptor;
import org.apache.sshd.common.io.IoHandler;
import org.apache.sshd.common.io.IoServiceEventListener;

/**
 * The server side: an {@link IoAcceptor} that listens on nothing. {@link #bind} only records the
 * addresses MINA's {@code SshServer.start()} asks for; sessions arrive through {@link #serve}, one
 * per stream the endpoint hands over.
 *
 * <p>The server speaks at once (its identification line and KEXINIT), as RFC 4253 §4.2 allows;
 * clients such as ssh-audit wait for it before they send anything.
 */
public final class StreamIoAcceptor extends StreamIoService implements IoAcceptor {

  private final Set<SocketAddress> bound = Collections.synchronizedSet(new LinkedHashSet<>());

  StreamIoAcceptor(IoHandler handler, StreamIoSession.Limits limits) {
    super(handler, limits);
  }

  /**
   * Serves one SSH session on {@code duplex}, on the calling thread, until it ends (see {@link
   * StreamIoSession#runReadLoop()}). The duplex is closed when this returns.
   *
   * @param remote the peer's address, for MINA's logs and session
   * @param onCreated called with the new session before any input is read (e.g. to tag it)
   * @throws IOException if the service is closed or the session could not be set up
   */
  public void serve(
      Duplex duplex, SocketAddress remote, java.util.function.Consumer<StreamIoSession> onCreated)
      throws IOException {
    if (isClosing()) {
      duplex.close();
      throw new IOException("the SSH service is closed");
    }
    SocketAddress local = bound.isEmpty() ? null : bound.iterator().next();
    IoServiceEventListener listener = getIoServiceEventListener();
    if (listener != null) {
      try {
        listener.connectionAccepted(this, local, remote, local);
      } catch (IOException | RuntimeException e) {
        duplex.close();
        throw e;
      }
    }
    StreamIoSession session = new StreamIoSession(this, duplex, local, remote, local);
    register(session);
    try {
      session.start();
    } catch (Exception e) {
      session.close(true);
      throw new IOException("cannot start the SSH session: " + e.getMessage(), e);
    }
    onCreated.accept(session);
    session.runReadLoop();
  }

  @Override
  public void bind(Collection<? extends SocketAddress> addresses) {
    bound.addAll(addresses);
  }

  @Override
  public void bind(SocketAddress address) {
    bound.add(address);
  }

  @Override
  public void unbind(Collection<? extends SocketAddress> addresses) {
    bound.removeAll(addresses);
  }

  @Override
  public void unbind(SocketAddress address) {
    bound.remove(address);
  }

  @Override
  public void unbind() {
    bound.clear();
  }

  @Override
  public Set<SocketAddress> getBoundAddresses() {
    synchronized (bound) {
      return Set.copyOf(bound);
    }
  }

  @Override
  public String toString() {
    return "StreamIoAcceptor" + getBoundAddresses();
  }
}

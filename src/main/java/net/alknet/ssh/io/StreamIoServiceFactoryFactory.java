package net.alknet.ssh.io;

import java.util.Objects;
import org.apache.sshd.common.Factory;
import org.apache.sshd.common.FactoryManager;
import org.apache.sshd.common.io.IoServiceFactory;
import org.apache.sshd.common.io.IoServiceFactoryFactory;
import org.apache.sshd.common.io.nio2.Nio2ServiceFactoryFactory;
import org.apache.sshd.common.util.threads.CloseableExecutorService;

/**
 * Plugs {@link StreamIoServiceFactory} into an {@code SshServer} or {@code SshClient} ({@code
 * setIoServiceFactoryFactory}); MINA calls {@link #create} once per server or client.
 */
public final class StreamIoServiceFactoryFactory implements IoServiceFactoryFactory {

  private final StreamIoSession.Limits limits;
  private final StreamIoConnector.Dialer dialer;
  private volatile Factory<CloseableExecutorService> executors;

  /** For a server: sessions arrive through {@link StreamIoAcceptor#serve}. */
  public static StreamIoServiceFactoryFactory forServer(StreamIoSession.Limits limits) {
    return new StreamIoServiceFactoryFactory(limits, null);
  }

  /** For a client: each connect asks {@code dialer} for its duplex. */
  public static StreamIoServiceFactoryFactory forClient(
      StreamIoSession.Limits limits, StreamIoConnector.Dialer dialer) {
    return new StreamIoServiceFactoryFactory(limits, Objects.requireNonNull(dialer, "dialer"));
  }

  private StreamIoServiceFactoryFactory(
      StreamIoSession.Limits limits, StreamIoConnector.Dialer dialer) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.dialer = dialer;
  }

  @Override
  public IoServiceFactory create(FactoryManager manager) {
    IoServiceFactory sockets = new Nio2ServiceFactoryFactory(executors).create(manager);
    return new StreamIoServiceFactory(sockets, limits, dialer);
  }

  @Override
  public void setExecutorServiceFactory(Factory<CloseableExecutorService> factory) {
    this.executors = factory;
  }
}

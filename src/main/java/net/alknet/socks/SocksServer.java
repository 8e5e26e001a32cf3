package net.alknet.socks;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * A local SOCKS5 server ({@code alknet socks}): each CONNECT becomes one {@link Tunnel} channel,
 * bytes are copied both ways until either side ends. Connections are bounded; a client that does
 * not finish its handshake in time is dropped. Blocking I/O on its own threads (two per
 * connection), never on an event loop.
 */
public final class SocksServer implements Closeable {

  private static final Logger LOG = Logger.getLogger(SocksServer.class);
  private static final int BUFFER = 32 * 1024;

  private final Tunnel tunnel;
  private final int handshakeTimeoutMs;
  private final Semaphore slots;
  private final ServerSocket server;
  private final ThreadPoolExecutor threads;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * Binds the listener.
   *
   * @param maxConnections SOCKS connections served at once; more are closed at accept
   */
  public SocksServer(
      InetSocketAddress listen, Tunnel tunnel, int maxConnections, Duration handshakeTimeout)
      throws IOException {
    this.tunnel = tunnel;
    this.handshakeTimeoutMs = (int) handshakeTimeout.toMillis();
    this.slots = new Semaphore(maxConnections);
    this.server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(listen, 128);
    AtomicInteger n = new AtomicInteger();
    this.threads =
        new ThreadPoolExecutor(
            0,
            2 * maxConnections + 1,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "alknet-socks-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) server.getLocalSocketAddress();
  }

  /** Accepts connections until {@link #close}; call on a thread of its own (or the main one). */
  public void serve() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warnf("socks: accept failed: %s", e.toString());
        }
        return;
      }
      if (!slots.tryAcquire()) {
        LOG.warnf("socks: too many connections; dropping %s", s.getRemoteSocketAddress());
        quietly(s);
        continue;
      }
      open.add(s);
      try {
        threads.execute(() -> handle(s));
      } catch (RejectedExecutionException e) {
        release(s);
      }
    }
  }

  private void handle(Socket client) {
    Tunnel.Channel channel = null;
    try {
      client.setSoTimeout(handshakeTimeoutMs);
      client.setTcpNoDelay(true);
      InputStream in = client.getInputStream();
      OutputStream out = client.getOutputStream();
      Socks5.negotiate(in, out);
      Socks5.Destination dest = Socks5.readRequest(in, out);
      try {
        channel = tunnel.open(dest);
      } catch (Socks5.SocksException e) {
        LOG.infof("socks: %s refused: %s", dest, e.getMessage());
        Socks5.reply(out, e.reply());
        return;
      } catch (IOException e) {
        LOG.infof("socks: %s failed: %s", dest, e.getMessage());
        Socks5.reply(out, Socks5.Reply.GENERAL_FAILURE);
        return;
      }
      Socks5.reply(out, Socks5.Reply.SUCCEEDED);
      client.setSoTimeout(0);
      LOG.debugf("socks: %s -> %s", client.getRemoteSocketAddress(), dest);
      Tunnel.Channel ch = channel;
      threads.execute(() -> copy(in, ch.output(), client, ch, true));
      copy(ch.input(), out, client, ch, false);
    } catch (Socks5.SocksException e) {
      LOG.debugf("socks: %s: %s", client.getRemoteSocketAddress(), e.getMessage());
    } catch (IOException | RejectedExecutionException e) {
      LOG.debugf("socks: %s: %s", client.getRemoteSocketAddress(), e.toString());
    } finally {
      if (channel != null) {
        quietly(channel);
      }
      release(client);
    }
  }

  /** Copies until EOF; then half-closes the far side's output, or ends both on an error. */
  private static void copy(
      InputStream from, OutputStream to, Socket client, Tunnel.Channel ch, boolean upstream) {
    byte[] buf = new byte[BUFFER];
    try {
      int n;
      while ((n = from.read(buf)) > 0) {
        to.write(buf, 0, n);
        to.flush();
      }
      if (upstream) {
        ch.output().close(); // the client finished sending: EOF to the destination
      } else {
        client.shutdownOutput();
      }
    } catch (IOException e) {
      quietly(ch);
      quietly(client);
    }
  }

  private void release(Socket s) {
    if (open.remove(s)) {
      quietly(s);
      slots.release();
    }
  }

  private static void quietly(Closeable c) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      // closing anyway
    }
  }

  @Override
  public void close() {
    closed = true;
    quietly(server);
    open.forEach(SocksServer::quietly);
    threads.shutdownNow();
  }

  /** Whether the listener is bound to a loopback address only. */
  public boolean loopbackOnly() {
    return server.getInetAddress().isLoopbackAddress();
  }
}

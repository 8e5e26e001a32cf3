package net.alknet.git;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import net.alknet.auth.Identity;

/**
 * A {@link GitEngine} on a loopback socket for JGit's git:// client: the engine's first message is
 * the git:// daemon request, so the socket only carries bytes to {@link GitEngine#serve}, as an
 * endpoint stream does in the node. One thread per connection; {@link #close} stops accepting.
 */
final class GitTestServer implements AutoCloseable {

  private final ServerSocketChannel server;
  private final ExecutorService pool = Executors.newCachedThreadPool();

  /**
   * @param who the identity of each new connection
   * @param served run after each connection was served (or failed)
   */
  GitTestServer(GitEngine engine, Supplier<Identity> who, Runnable served) throws IOException {
    server = ServerSocketChannel.open();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
    pool.execute(
        () -> {
          while (server.isOpen()) {
            try {
              // A channel's socket, so that a blocked read ends when the thread is interrupted
              // (JGit's timeout interrupts it), as an endpoint stream's does.
              Socket s = server.accept().socket();
              pool.execute(
                  () -> {
                    try (s) {
                      // Closing the input ends reading only, as an endpoint stream's does.
                      java.io.InputStream in =
                          new java.io.FilterInputStream(s.getInputStream()) {
                            @Override
                            public void close() throws IOException {
                              s.shutdownInput();
                            }
                          };
                      engine.serve(in, s.getOutputStream(), who.get(), "c-test");
                      // As an endpoint stream ends: output finished, unread input discarded (a
                      // socket closed with unread input would reset, and the client could lose
                      // the engine's last words, e.g. an ERR).
                      s.shutdownOutput();
                      s.setSoTimeout(2000);
                      s.getInputStream().skip(1 << 20);
                    } catch (IOException e) {
                      // the client went away
                    } finally {
                      served.run();
                    }
                  });
            } catch (IOException e) {
              return;
            }
          }
        });
  }

  /** The loopback port it listens on. */
  int port() {
    return server.socket().getLocalPort();
  }

  /** The git:// URL of repository {@code name}. */
  String url(String name) {
    return "git://127.0.0.1:" + port() + "/" + name;
  }

  @Override
  public void close() throws IOException {
    server.close();
    pool.shutdownNow();
  }
}

package net.alknet.endpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.UnaryOperator;

/** Small handlers used by the endpoint tests. */
final class TestHandlers {

  private TestHandlers() {}

  /** Answers each stream with a transformation of everything it read, then finishes. */
  static class Transform implements ProtocolHandler {
    final String alpn;
    final UnaryOperator<String> f;
    final ConcurrentLinkedQueue<String> connectionIds = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<AuthContext> contexts = new ConcurrentLinkedQueue<>();

    Transform(String alpn, UnaryOperator<String> f) {
      this.alpn = alpn;
      this.f = f;
    }

    @Override
    public Set<String> alpns() {
      return Set.of(alpn);
    }

    @Override
    public String name() {
      return alpn;
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      connectionIds.add(connection.id());
      contexts.add(auth);
      Stream s;
      while ((s = connection.acceptStream()) != null) {
        Stream stream = s;
        Thread t =
            new Thread(
                () -> {
                  try (stream) {
                    String in = TestNodes.readAll(stream.input());
                    stream.output().write(f.apply(in).getBytes(StandardCharsets.UTF_8));
                  } catch (IOException e) {
                    // peer went away
                  }
                });
        t.start();
      }
    }
  }

  static Transform echo(String alpn) {
    return new Transform(alpn, s -> s);
  }

  static Transform upper(String alpn) {
    return new Transform(alpn, s -> s.toUpperCase(Locale.ROOT));
  }

  /** Streams bytes back as they arrive (for throughput and flow control). */
  static final class StreamingEcho implements ProtocolHandler {
    final String alpn;

    StreamingEcho(String alpn) {
      this.alpn = alpn;
    }

    @Override
    public Set<String> alpns() {
      return Set.of(alpn);
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      Stream s;
      while ((s = connection.acceptStream()) != null) {
        Stream stream = s;
        new Thread(
                () -> {
                  try (stream) {
                    stream.input().transferTo(stream.output());
                  } catch (IOException e) {
                    // peer went away
                  }
                })
            .start();
      }
    }
  }

  /** Throws as soon as it gets a connection. */
  static final class Throwing implements ProtocolHandler {
    @Override
    public Set<String> alpns() {
      return Set.of("test/throw");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) {
      throw new IllegalStateException("boom: a handler bug with secret details");
    }
  }

  /** Never returns, even when interrupted. */
  static final class NeverReturns implements ProtocolHandler {
    @Override
    public Set<String> alpns() {
      return Set.of("test/block");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) {
      while (true) {
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException ignored) {
          // deliberately ignored: this handler is broken on purpose
        }
      }
    }
  }

  /** Accepts streams but never reads them. */
  static final class NeverReads implements ProtocolHandler {
    volatile Stream stream;

    @Override
    public Set<String> alpns() {
      return Set.of("test/sink");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      stream = connection.acceptStream();
      connection.closed().toCompletableFuture().join();
    }
  }
}

package net.alknet.call.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import net.alknet.call.wire.Envelope;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.FrameCodec;

/**
 * A scripted node for client tests: loopback socket pairs stand in for the session stream (and, for
 * multi-stream tests, extra QUIC streams). The test reads the client's frames and answers by hand.
 * Every read is bounded by a socket timeout, so a test never hangs.
 */
final class FakeNode implements AutoCloseable {

  /** One stream as the node sees it. */
  static final class Peer implements AutoCloseable {
    final Socket node;
    final Socket client;
    final InputStream in;
    final OutputStream out;

    Peer(Socket node, Socket client) throws IOException {
      this.node = node;
      this.client = client;
      node.setSoTimeout(10_000);
      this.in = node.getInputStream();
      this.out = node.getOutputStream();
    }

    /** The next frame from the client, or {@code null} at end of stream. */
    Envelope read() throws IOException {
      byte[] frame = FrameCodec.read(in, FrameCodec.DEFAULT_MAX_FRAME);
      return frame == null ? null : EnvelopeCodec.decode(frame);
    }

    /** Whether the client ended the stream within the socket timeout. */
    boolean readsEof() throws IOException {
      try {
        return in.read() < 0;
      } catch (SocketTimeoutException e) {
        return false;
      } catch (IOException e) {
        return true; // reset
      }
    }

    synchronized void send(Envelope e) throws IOException {
      FrameCodec.write(out, EnvelopeCodec.encode(e));
    }

    synchronized void sendRaw(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    CallClient.StreamPair clientSide() throws IOException {
      return new CallClient.StreamPair(client.getInputStream(), client.getOutputStream(), client);
    }

    @Override
    public void close() throws IOException {
      node.close();
      client.close();
    }
  }

  final ServerSocket server;
  final List<Peer> peers = new CopyOnWriteArrayList<>();

  FakeNode() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    server.setSoTimeout(10_000);
  }

  /** A new connected socket pair. */
  Peer newPeer() throws IOException {
    Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    Socket node = server.accept();
    Peer p = new Peer(node, client);
    peers.add(p);
    return p;
  }

  static ObjectNode json(String text) {
    try {
      return (ObjectNode) EnvelopeCodec.json().readTree(text);
    } catch (IOException e) {
      throw new IllegalArgumentException(e);
    }
  }

  static JsonNode identity() {
    return json("{\"id\":\"SHA256:abc\",\"displayName\":\"alice\",\"scopes\":[\"call\"]}");
  }

  /**
   * Starts a client on a new socket pair, answers its hello with a welcome, and returns both.
   *
   * @param extraStreams whether the client may open more streams (each a new socket pair)
   */
  Session session(CallClient.Options options, boolean extraStreams) throws Exception {
    Peer p = newPeer();
    CallClient.StreamOpener opener =
        extraStreams
            ? () -> {
              Peer x = newPeer();
              return x.clientSide();
            }
            : null;
    CompletableFuture<CallClient> c =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return new CallClient(p.clientSide(), opener, null, "tok", "test/1", options);
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    Envelope hello = p.read();
    if (!Envelope.HELLO.equals(hello.type())) {
      throw new AssertionError("expected hello, got " + hello.type());
    }
    p.send(Envelope.welcome(identity(), "fake-node"));
    return new Session(p, c.get(10, TimeUnit.SECONDS), hello);
  }

  Session session() throws Exception {
    return session(CallClient.Options.DEFAULTS, false);
  }

  record Session(Peer peer, CallClient client, Envelope hello) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      client.close();
      peer.close();
    }
  }

  @Override
  public void close() throws IOException {
    for (Peer p : peers) {
      p.close();
    }
    server.close();
  }
}

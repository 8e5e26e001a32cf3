package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** SPEC 15 for the endpoint: hostile bytes never hang, crash or leak a connection slot. */
class HostileInputTest {

  private static final int MAX = 6;
  private final TestNodes nodes = new TestNodes();
  private final Random random = new Random(42);

  @AfterEach
  void tearDown() {
    nodes.close();
  }

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  private InetAddress loopback() throws IOException {
    return InetAddress.getByName("127.0.0.1");
  }

  /** Sends bytes over a raw TCP socket and waits (bounded) for the node to close it. */
  private void sendRawTcp(byte[] bytes, boolean waitForClose) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(loopback(), nodes.server.port()), 2000);
      s.setSoTimeout(5000);
      OutputStream out = s.getOutputStream();
      try {
        out.write(bytes);
        out.flush();
      } catch (IOException closedAlready) {
        return;
      }
      if (!waitForClose) {
        return;
      }
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      try {
        while (in.read(buf) >= 0) {
          // an alert, maybe; the node must end the connection
        }
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the node kept a hostile TCP connection open for 5 s");
      } catch (IOException reset) {
        // closed with a reset: fine
      }
    }
  }

  /** A real TLS 1.3 ClientHello, as the first flight of a JDK client. */
  private static byte[] clientHello() throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(null, null, null);
    SSLEngine engine = ctx.createSSLEngine("localhost", 1);
    engine.setUseClientMode(true);
    SSLParameters p = engine.getSSLParameters();
    p.setApplicationProtocols(new String[] {"test/echo"});
    engine.setSSLParameters(p);
    engine.beginHandshake();
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] hello = new byte[out.remaining()];
    out.get(hello);
    return hello;
  }

  @Test
  void garbageTruncatedAndAbandonedHandshakesLeaveTheNodeServing() {
    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          TestHandlers.Transform echo = TestHandlers.echo("test/echo");
          nodes.start(
              EndpointLimits.DEFAULTS
                  .withMaxConnections(MAX, MAX)
                  .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(30)),
              EndpointServer.Options.loopback(0),
              echo);
          int port = nodes.server.port();

          // 1. Garbage over TCP, of several sizes, including an HTTP request.
          for (int size : List.of(1, 5, 100, 16_000, 70_000)) {
            byte[] b = new byte[size];
            random.nextBytes(b);
            sendRawTcp(b, true);
          }
          sendRawTcp("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(), true);
          // A TLS record header claiming a huge length, then nothing more.
          sendRawTcp(new byte[] {0x16, 0x03, 0x01, (byte) 0xff, (byte) 0xff, 0x01}, true);

          // 2. Truncated ClientHellos: held open (handshake timeout) and closed at once.
          byte[] hello = clientHello();
          for (int cut : List.of(1, 5, 6, hello.length / 2, hello.length - 1)) {
            sendRawTcp(Arrays.copyOf(hello, cut), true);
            sendRawTcp(Arrays.copyOf(hello, cut), false);
          }

          // 3. A TLS client that sends a full ClientHello, reads the ServerHello and vanishes.
          for (int i = 0; i < 3; i++) {
            try (Socket s = new Socket(loopback(), port)) {
              s.setSoTimeout(5000);
              s.getOutputStream().write(hello);
              byte[] buf = new byte[5];
              int n = s.getInputStream().read(buf);
              assertTrue(n > 0 && buf[0] == 0x16, "no ServerHello");
              if (i == 0) {
                s.setSoLinger(true, 0); // vanish with a reset
              }
            }
          }

          // 4. Random UDP datagrams, some shaped like QUIC long-header packets, some 64 KB.
          try (DatagramSocket udp = new DatagramSocket()) {
            InetSocketAddress target = new InetSocketAddress(loopback(), port);
            for (int i = 0; i < 400; i++) {
              int size = i % 50 == 0 ? 65_000 : random.nextInt(1501);
              byte[] b = new byte[size];
              random.nextBytes(b);
              if (size >= 7 && i % 3 == 0) {
                b[0] = (byte) (0xc0 | (b[0] & 0x0f)); // long header, Initial
                b[1] = 0;
                b[2] = 0;
                b[3] = 0;
                b[4] = 1; // QUIC v1
                b[5] = (byte) Math.min(20, size - 7); // DCID length
              }
              udp.send(new DatagramPacket(b, b.length, target));
            }
          }

          // 5. A QUIC client that sends its real Initial and vanishes: capture one from our own
          // client aimed at a silent socket, then replay it to the node and never answer.
          try (DatagramSocket fake = new DatagramSocket(0, loopback());
              DatagramSocket replay = new DatagramSocket()) {
            EndpointClient impatient = nodes.impatientClient();
            CompletableFuture<Object> attempt =
                CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        return impatient.connect(
                            "127.0.0.1",
                            fake.getLocalPort(),
                            "test/echo",
                            Trust.pinned(TestNodes.TLS.fingerprint()),
                            Transport.QUIC);
                      } catch (IOException e) {
                        return e;
                      }
                    });
            fake.setSoTimeout(5000);
            DatagramPacket initial = new DatagramPacket(new byte[2048], 2048);
            fake.receive(initial);
            byte[] packet = Arrays.copyOf(initial.getData(), initial.getLength());
            replay.send(new DatagramPacket(packet, packet.length, loopback(), port));
            replay.setSoTimeout(3000);
            DatagramPacket answer = new DatagramPacket(new byte[2048], 2048);
            replay.receive(answer); // the node answers the Initial; we vanish now
            assertTrue(answer.getLength() > 0);
            assertTrue(
                attempt.get(10, java.util.concurrent.TimeUnit.SECONDS) instanceof IOException);
          }

          // Afterwards: nothing open, and every connection slot is free again (the limit is
          // MAX, so a leaked slot would refuse one of these).
          assertTrue(
              TestNodes.eventually(
                  Duration.ofSeconds(5), () -> nodes.server.status().openConnections() == 0),
              "open: " + nodes.server.status());
          Thread.sleep(1500); // past the handshake timeout of anything half-open
          List<Connection> held = new java.util.ArrayList<>();
          try {
            for (int i = 0; i < MAX; i++) {
              Transport t = Transport.values()[i % 2];
              Connection c = nodes.connect("test/echo", t);
              held.add(c);
            }
            for (Connection c : held) {
              assertEquals(
                  "alive " + c.transport(), TestNodes.exchange(c, "alive " + c.transport()));
            }
          } finally {
            for (Connection c : held) {
              c.close(CloseCode.NO_ERROR, "");
            }
          }
          assertTrue(
              TestNodes.eventually(
                  Duration.ofSeconds(5), () -> nodes.server.status().openConnections() == 0));
          assertEquals(0.0, nodes.count("alknet.handler.errors", "alpn", "test/echo"));
        });
  }
}

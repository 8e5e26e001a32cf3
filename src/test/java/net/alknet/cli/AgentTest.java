package net.alknet.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import net.alknet.endpoint.Transport;
import net.alknet.ssh.io.Duplex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's sessions on its real Unix socket, with an in-memory node side: an echo (what the
 * client sends comes back, and its end ends the answer), or a connector that fails. The agent
 * against a real node and stock git is in GitIT.
 */
@Timeout(60)
class AgentTest {

  @TempDir Path dir;
  Agent agent;
  Thread serving;
  final AtomicReference<Agent.Request> lastRequest = new AtomicReference<>();

  static final Agent.Request REQUEST =
      new Agent.Request(Transport.QUIC, "node", 4433, "alknet/git");

  /** The node's side of a session: bytes written come back on the input, FIN included. */
  static Duplex echo() throws IOException {
    PipedInputStream in = new PipedInputStream(256 * 1024);
    PipedOutputStream out = new PipedOutputStream(in);
    return new Duplex() {
      @Override
      public InputStream input() {
        return in;
      }

      @Override
      public OutputStream output() {
        return out;
      }

      @Override
      public void abort() {
        close();
      }

      @Override
      public void close() {
        try {
          out.close();
        } catch (IOException e) {
          // closing is all we wanted
        }
      }
    };
  }

  void start(Agent.Connector connector, Duration idle) throws IOException {
    start(connector, idle, Agent.REQUEST_TIMEOUT);
  }

  void start(Agent.Connector connector, Duration idle, Duration requestTimeout) throws IOException {
    agent = new Agent(Agent.socketOf(dir), connector, idle, requestTimeout);
    agent.bind();
    serving =
        new Thread(
            () -> {
              try {
                agent.serve();
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            },
            "agent-test");
    serving.setDaemon(true);
    serving.start();
  }

  void startEcho() throws IOException {
    start(
        r -> {
          lastRequest.set(r);
          return echo();
        },
        Duration.ZERO);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (agent != null) {
      agent.close();
      serving.join(10_000);
    }
  }

  @Test
  void requestLines() {
    for (Transport t : Transport.values()) {
      Agent.Request r = new Agent.Request(t, "node.example", 4433, "alknet/git");
      String line = r.line();
      assertTrue(line.endsWith("\n"));
      assertEquals(r, Agent.Request.parse(line.substring(0, line.length() - 1)));
    }
    String[] bad = {
      "",
      "alknet-agent 2 quic h 1 a",
      "alknet-agent 1 quic h 1",
      "alknet-agent 1 quic h 1 a extra",
      "alknet-agent 1 udp h 1 a",
      "alknet-agent 1 quic h 0 a",
      "alknet-agent 1 quic h 65536 a",
      "alknet-agent 1 quic h x a",
      "alknet-agent 1 quic  1 a",
      "alknet-agent 1 quic h 1 ",
      "GET / HTTP/1.1"
    };
    for (String b : bad) {
      assertThrows(IllegalArgumentException.class, () -> Agent.Request.parse(b), b);
    }
  }

  @Test
  void aSessionCarriesBytesBothWaysAndEndsWithTheClient() throws Exception {
    startEcho();
    byte[] data = new byte[3 << 20];
    new Random(7).nextBytes(data);
    try (Agent.Session s = Agent.open(dir, REQUEST)) {
      assertEquals(REQUEST, lastRequest.get());
      Thread writer =
          new Thread(
              () -> {
                try (OutputStream out = s.output()) {
                  out.write(data);
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      writer.start();
      byte[] back = s.input().readAllBytes(); // ends when the echo ends: after our half-close
      writer.join();
      assertArrayEquals(data, back);
    }
  }

  @Test
  void aConnectionThatFailsIsTheClientsErrorAndTheAgentGoesOn() throws Exception {
    start(
        r -> {
          if (r.host().equals("down")) {
            throw new IOException("cannot connect to down:4433 over quic: Connection refused");
          }
          return echo();
        },
        Duration.ZERO);
    IOException e =
        assertThrows(
            IOException.class,
            () -> Agent.open(dir, new Agent.Request(Transport.QUIC, "down", 4433, "alknet/git")));
    assertEquals("cannot connect to down:4433 over quic: Connection refused", e.getMessage());
    assertEcho();
  }

  @Test
  void malformedOversizedAndHostileRequestsGetOneErrorLine() throws Exception {
    startEcho();
    assertEquals("error not an alknet agent request (expected 'alknet-agent 1')", raw("hello\n"));
    assertEquals("error unknown transport 'sctp'", raw("alknet-agent 1 sctp h 1 a\n"));
    assertEquals(
        "error request line longer than 512 bytes", raw("alknet-agent 1 quic " + "h".repeat(600)));
    assertEquals(
        "error control character in the request line", raw("alknet-agent 1 quic h\0 1 a\n"));
    assertEquals("error no request line", raw("alknet-agent 1 qu")); // then the client leaves
    assertNull(lastRequest.get(), "no bad request reached the node side");
    assertEcho(); // the agent is unharmed
  }

  /** The node's side failing mid-session ends the client's session, which does not hang. */
  @Test
  @Timeout(20)
  void aNodeThatFailsMidSessionEndsTheClientsSession() throws Exception {
    start(
        r ->
            !r.host().equals("flaky")
                ? echo()
                : new Duplex() {
                  final OutputStream sink = OutputStream.nullOutputStream();

                  @Override
                  public InputStream input() {
                    return new java.io.SequenceInputStream(
                        new java.io.ByteArrayInputStream(
                            "partial".getBytes(StandardCharsets.US_ASCII)),
                        new InputStream() {
                          @Override
                          public int read() throws IOException {
                            throw new IOException("stream reset by the node");
                          }
                        });
                  }

                  @Override
                  public OutputStream output() {
                    return sink;
                  }

                  @Override
                  public void abort() {}

                  @Override
                  public void close() {}
                },
        Duration.ZERO);
    try (Agent.Session s =
        Agent.open(dir, new Agent.Request(Transport.QUIC, "flaky", 4433, "alknet/git"))) {
      // The client keeps its side open, as git does while it waits for the answer.
      byte[] got = s.input().readAllBytes();
      assertEquals("partial", new String(got, StandardCharsets.US_ASCII));
    }
    assertEcho(); // and the agent goes on
  }

  /** Past its 64 sessions the agent closes a client unanswered: it connects by itself. */
  @Test
  void theSixtyFifthSessionConnectsByItself() throws Exception {
    startEcho();
    java.util.List<Agent.Session> held = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < Agent.MAX_SESSIONS; i++) {
        Agent.Session s = Agent.open(dir, REQUEST);
        assertTrue(s != null, "session " + i);
        held.add(s);
      }
      assertNull(Agent.open(dir, REQUEST), "the 65th session");
    } finally {
      held.forEach(Agent.Session::close);
    }
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (agent.activeSessions() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEcho(); // a slot is free again
  }

  /** A client that connects and sends nothing is closed after the request timeout. */
  @Test
  void aClientThatSaysNothingIsClosedAfterTheRequestTimeout() throws Exception {
    start(r -> echo(), Duration.ZERO, Duration.ofMillis(300));
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(Agent.socketOf(dir)));
      ch.write(ByteBuffer.wrap("alknet-agent".getBytes(StandardCharsets.US_ASCII))); // and no more
      long t0 = System.nanoTime();
      assertEquals(-1, Agent.peerInput(ch).read(), "the agent answered a request it did not get");
      assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "not closed after its 300 ms");
    }
    assertEcho();
  }

  /** Sends {@code request} on a raw session, half-closes, returns the agent's answer line. */
  String raw(String request) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(Agent.socketOf(dir)));
      ByteBuffer b = ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8));
      try {
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.shutdownOutput();
      } catch (IOException e) {
        // the agent may answer and close before it has read all of an oversized line
      }
      String answer = new String(Agent.peerInput(ch).readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(answer.endsWith("\n"), answer);
      assertEquals(answer.indexOf('\n'), answer.length() - 1, "one line: " + answer);
      return answer.substring(0, answer.length() - 1);
    }
  }

  void assertEcho() throws IOException {
    try (Agent.Session s = Agent.open(dir, REQUEST)) {
      s.output().write("ping".getBytes(StandardCharsets.US_ASCII));
      s.output().close();
      assertEquals("ping", new String(s.input().readAllBytes(), StandardCharsets.US_ASCII));
    }
  }

  @Test
  void withoutAnAgentTheClientConnectsByItself() throws Exception {
    assertNull(Agent.open(dir, REQUEST), "no socket");
    // A socket file nobody listens on, as a killed agent leaves it.
    try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      dead.bind(UnixDomainSocketAddress.of(Agent.socketOf(dir)));
    }
    assertTrue(Files.exists(Agent.socketOf(dir)));
    assertNull(Agent.open(dir, REQUEST), "a dead agent's socket");
    startEcho(); // replaces it
    assertEcho();
  }

  /**
   * The client's side against a broken agent (a fake one here): no whole answer, or one it does not
   * understand, means connecting by ourselves; only {@code error} is the session's end.
   */
  @Test
  void aBrokenAgentsAnswerIsAFallbackOrAClearError() throws Exception {
    try (ServerSocketChannel fake = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      fake.bind(UnixDomainSocketAddress.of(Agent.socketOf(dir)));
      String[] answers = {"", "ok", "x".repeat(5000) + "\n", "hello\n", "error node down\n"};
      Thread server =
          new Thread(
              () -> {
                for (String a : answers) {
                  try (SocketChannel c = fake.accept()) {
                    Agent.readLine(c); // the request
                    c.write(ByteBuffer.wrap(a.getBytes(StandardCharsets.UTF_8)));
                  } catch (IOException e) {
                    // the client left first: on to the next answer
                  }
                }
              });
      server.setDaemon(true);
      server.start();
      assertNull(Agent.open(dir, REQUEST), "closed unanswered: connect by ourselves");
      assertNull(Agent.open(dir, REQUEST), "an answer cut off");
      assertNull(Agent.open(dir, REQUEST), "an answer too long");
      assertNull(Agent.open(dir, REQUEST), "an answer not understood");
      assertEquals(
          "node down",
          assertThrows(IOException.class, () -> Agent.open(dir, REQUEST)).getMessage());
      server.join(10_000);
    }
  }

  @Test
  void theSocketIsTheUsersAloneAndASecondAgentIsRefused() throws Exception {
    startEcho();
    assertEquals(
        PosixFilePermissions.fromString("rw-------"),
        Files.getPosixFilePermissions(Agent.socketOf(dir)));
    Agent second = new Agent(Agent.socketOf(dir), r -> echo(), Duration.ZERO);
    CliSupport.CliException e = assertThrows(CliSupport.CliException.class, second::bind);
    assertTrue(e.getMessage().startsWith("an agent already runs on "), e.getMessage());
    second.close(); // never bound: leaves the first agent's socket alone
    assertEcho();
  }

  @Test
  void anIdleAgentStopsAndRemovesItsSocket() throws Exception {
    start(r -> echo(), Duration.ofSeconds(1));
    assertEcho();
    serving.join(10_000);
    assertFalse(serving.isAlive(), "the idle agent still runs");
    assertFalse(Files.exists(Agent.socketOf(dir)), "the socket is left");
    assertNull(Agent.open(dir, REQUEST));
  }

  @Test
  void aSocketPathTooLongIsAClearError() {
    Path deep = dir.resolve("d".repeat(120));
    Agent a = new Agent(Agent.socketOf(deep), r -> echo(), Duration.ZERO);
    CliSupport.CliException e = assertThrows(CliSupport.CliException.class, a::bind);
    assertTrue(e.getMessage().contains("is too long for a Unix socket"), e.getMessage());
    a.close();
  }
}

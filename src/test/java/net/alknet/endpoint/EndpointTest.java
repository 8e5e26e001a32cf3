package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** EP-1..EP-4: one port, both transports, ALPN routing, the client side. */
class EndpointTest {

  @RegisterExtension final TestNodes nodes = new TestNodes();

  @ParameterizedTest
  @EnumSource(Transport.class)
  void twoHandlersOnOnePortEachConnectionItsOwn(Transport transport) throws Exception {
    TestHandlers.Transform echo = TestHandlers.echo("test/echo");
    TestHandlers.Transform upper = TestHandlers.upper("test/upper");
    nodes.start(echo, upper);

    try (var c1 = closing(nodes.connect("test/echo", transport));
        var c2 = closing(nodes.connect("test/upper", transport));
        var c3 = closing(nodes.connect("test/echo", transport))) {
      assertEquals("test/echo", c1.c.alpn());
      assertEquals("hello", TestNodes.exchange(c1.c, "hello"));
      assertEquals("HELLO", TestNodes.exchange(c2.c, "hello"));
      assertEquals("again", TestNodes.exchange(c3.c, "again"));
    }
    assertEquals(2, echo.connectionIds.size());
    assertEquals(1, upper.connectionIds.size());
    assertNotEquals(List.copyOf(echo.connectionIds).get(0), List.copyOf(echo.connectionIds).get(1));
  }

  @Test
  void quicCarriesManyStreamsOnOneConnection() throws Exception {
    TestHandlers.Transform echo = TestHandlers.echo("test/echo");
    nodes.start(echo);
    try (var c = closing(nodes.connect("test/echo", Transport.QUIC))) {
      for (int i = 0; i < 20; i++) {
        assertEquals("msg " + i, TestNodes.exchange(c.c, "msg " + i));
      }
    }
    assertEquals(1, echo.connectionIds.size());
  }

  @Test
  void tcpConnectionHasExactlyOneStream() throws Exception {
    nodes.start(TestHandlers.echo("test/echo"));
    try (var c = closing(nodes.connect("test/echo", Transport.TCP))) {
      c.c.openStream();
      IOException e = assertThrows(IOException.class, c.c::openStream);
      assertTrue(e.getMessage().contains("exactly one stream"), e.getMessage());
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void unknownAlpnFailsTheHandshakeAndReachesNoHandler(Transport transport) throws Exception {
    TestHandlers.Transform echo = TestHandlers.echo("test/echo");
    nodes.start(echo);
    IOException e = assertThrows(IOException.class, () -> nodes.connect("test/unknown", transport));
    assertTrue(e.getMessage().startsWith("cannot connect to 127.0.0.1:"), e.getMessage());
    assertTrue(echo.connectionIds.isEmpty());
    assertEquals(0, nodes.server.status().openConnections());
  }

  /** Speaks first: writes a banner as soon as the connection is accepted (like SSH). */
  static final class Banner implements ProtocolHandler {
    @Override
    public java.util.Set<String> alpns() {
      return java.util.Set.of("test/banner");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      Stream s = connection.acceptStream();
      s.output().write("BANNER\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      s.output().flush();
      s.input().readAllBytes(); // until the client is done
    }
  }

  @Test
  void aNodeThatSpeaksFirstOverTcpLosesNoBytes() throws Exception {
    // The client's stream must exist before the first application bytes arrive, which can come in
    // the same read as the end of the handshake (this lost SSH banners once).
    nodes.start(new Banner());
    for (int i = 0; i < 40; i++) {
      try (var c = closing(nodes.connect("test/banner", Transport.TCP))) {
        Stream s = c.c.openStream();
        byte[] got =
            java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        return s.input().readNBytes(7);
                      } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                      }
                    })
                .get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertEquals(
            "BANNER\n", new String(got, java.nio.charset.StandardCharsets.US_ASCII), "try " + i);
        s.output().close();
      }
    }
  }

  @Test
  void duplicateAlpnIsAStartupErrorNamingBothHandlers() {
    var a = new HandlerRegistry.Registration("com.example.A", TestHandlers.echo("x/same"));
    var b = new HandlerRegistry.Registration("com.example.B", TestHandlers.upper("x/same"));
    var e =
        assertThrows(
            HandlerRegistry.RegistryException.class,
            () -> HandlerRegistry.of(List.of(a, b), java.util.Set.of()));
    assertTrue(e.getMessage().contains("com.example.A"), e.getMessage());
    assertTrue(e.getMessage().contains("com.example.B"), e.getMessage());
  }

  @Test
  void disabledHandlersAreNotAdvertised() {
    var a = new HandlerRegistry.Registration("A", TestHandlers.echo("x/a"));
    var b = new HandlerRegistry.Registration("B", TestHandlers.upper("x/b"));
    HandlerRegistry r = HandlerRegistry.of(List.of(a, b), java.util.Set.of("x/b"));
    assertEquals(List.of("x/a"), r.alpns());
    assertTrue(r.lookup("x/b").isEmpty());
  }

  record Closing(Connection c) implements AutoCloseable {
    @Override
    public void close() {
      c.close(CloseCode.NO_ERROR, "");
    }
  }

  static Closing closing(Connection c) {
    return new Closing(c);
  }
}

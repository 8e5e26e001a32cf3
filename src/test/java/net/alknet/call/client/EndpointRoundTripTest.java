package net.alknet.call.client;

import static net.alknet.call.client.FakeNode.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.nio.NioEventLoopGroup;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import net.alknet.auth.ConfigIdentityProvider;
import net.alknet.auth.IdentityDirectory;
import net.alknet.auth.TokenPolicy;
import net.alknet.call.wire.CallError;
import net.alknet.call.wire.CallException;
import net.alknet.call.wire.Envelope;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.ErrorCodes;
import net.alknet.call.wire.FrameCodec;
import net.alknet.endpoint.AuthContext;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.EndpointClient;
import net.alknet.endpoint.EndpointLimits;
import net.alknet.endpoint.EndpointMetrics;
import net.alknet.endpoint.EndpointServer;
import net.alknet.endpoint.HandlerRegistry;
import net.alknet.endpoint.ProtocolHandler;
import net.alknet.endpoint.Stream;
import net.alknet.endpoint.TlsIdentity;
import net.alknet.endpoint.Transport;
import net.alknet.endpoint.Trust;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link CallClient#connect} over the real endpoint (QUIC and TLS/TCP) against a minimal call
 * handler written here (the node's real handler is tested end to end elsewhere).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EndpointRoundTripTest {

  static final TlsIdentity TLS = TlsIdentity.generate();
  static NioEventLoopGroup group;
  static EndpointServer server;
  static EndpointClient endpoints;

  /** Echo node: the session stream needs hello; extra streams do not. */
  static final class MiniCallHandler implements ProtocolHandler {
    @Override
    public Set<String> alpns() {
      return Set.of(CallClient.ALPN);
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      Stream s;
      boolean first = true;
      while ((s = connection.acceptStream()) != null) {
        Stream stream = s;
        boolean session = first;
        first = false;
        Thread t = new Thread(() -> serve(stream, session), "mini-call-" + stream.id());
        t.setDaemon(true);
        t.start();
      }
    }

    private static void serve(Stream stream, boolean session) {
      try (stream) {
        if (session) {
          Envelope hello = read(stream);
          if (hello == null || !Envelope.HELLO.equals(hello.type())) {
            send(
                stream,
                Envelope.error(null, CallError.of(ErrorCodes.UNAUTHENTICATED, "unauthenticated")));
            return;
          }
          if ("bad".equals(hello.auth())) {
            send(
                stream,
                Envelope.error(null, CallError.of(ErrorCodes.UNAUTHENTICATED, "unauthenticated")));
            stream.connection().close(net.alknet.endpoint.CloseCode.NO_ERROR, "");
            return;
          }
          send(stream, Envelope.welcome(json("{\"id\":\"anonymous\",\"scopes\":[]}"), "mini"));
        }
        Envelope e;
        while ((e = read(stream)) != null) {
          if (Envelope.PING.equals(e.type())) {
            send(stream, Envelope.pong(e.id()));
            continue;
          }
          if (!Envelope.REQUESTED.equals(e.type())) {
            continue;
          }
          switch (e.op()) {
            case "demo/ticks" -> {
              for (int i = 0; i < 5; i++) {
                send(stream, Envelope.event(e.id(), json("{\"i\":" + i + "}")));
              }
              send(stream, Envelope.completed(e.id()));
            }
            case "demo/close" ->
                stream.connection().close(net.alknet.endpoint.CloseCode.NO_ERROR, "");
            default -> {
              ObjectNode out = json("{}");
              out.set("input", e.input());
              out.put("stream", stream.id());
              send(stream, Envelope.responded(e.id(), out));
            }
          }
        }
      } catch (IOException e) {
        // client went away
      }
    }

    private static Envelope read(Stream s) throws IOException {
      byte[] f = FrameCodec.read(s.input(), FrameCodec.DEFAULT_MAX_FRAME);
      return f == null ? null : EnvelopeCodec.decode(f);
    }

    private static synchronized void send(Stream s, Envelope e) throws IOException {
      FrameCodec.write(s.output(), EnvelopeCodec.encode(e));
    }
  }

  @BeforeAll
  static void startServer() throws IOException {
    group = new NioEventLoopGroup(2);
    EndpointMetrics metrics = new EndpointMetrics(new SimpleMeterRegistry());
    server =
        new EndpointServer(
            HandlerRegistry.of(new MiniCallHandler()),
            TLS,
            new ConfigIdentityProvider(
                () -> IdentityDirectory.EMPTY, Clock.systemUTC(), TokenPolicy.DEFAULT),
            EndpointLimits.DEFAULTS,
            EndpointServer.Options.loopback(0),
            group,
            metrics);
    server.start();
    endpoints =
        new EndpointClient(
            null,
            Optional.empty(),
            EndpointLimits.DEFAULTS,
            new EndpointMetrics(new SimpleMeterRegistry()));
  }

  @AfterAll
  static void stopServer() {
    if (endpoints != null) {
      endpoints.close();
    }
    if (server != null) {
      server.close();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  private static CallClient connect(Transport t, String auth, CallClient.Options options)
      throws IOException {
    return CallClient.connect(
        endpoints,
        "127.0.0.1",
        server.port(),
        Trust.pinned(TLS.fingerprint()),
        t,
        auth,
        "test/1",
        options);
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void callsAndSubscriptions(Transport t) throws Exception {
    try (CallClient c = connect(t, null, CallClient.Options.DEFAULTS)) {
      assertEquals("anonymous", c.welcome().identityId());
      List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        calls.add(c.call("demo/echo", json("{\"n\":" + i + "}")));
      }
      for (int i = 0; i < 200; i++) {
        assertEquals(i, calls.get(i).get(20, TimeUnit.SECONDS).get("input").get("n").asInt());
      }
      List<Integer> events = new CopyOnWriteArrayList<>();
      Subscription sub =
          c.subscribe(
              "demo/ticks", json("{}"), e -> events.add(e.get("i").asInt()), CallOptions.DEFAULT);
      sub.done().get(20, TimeUnit.SECONDS);
      assertEquals(List.of(0, 1, 2, 3, 4), events);
      assertTrue(c.ping().get(20, TimeUnit.SECONDS).toNanos() >= 0);
    }
  }

  @Test
  void quicSpreadsCallsOverExtraStreams() throws Exception {
    try (CallClient c = connect(Transport.QUIC, null, CallClient.Options.DEFAULTS.streams(3))) {
      assertEquals(3, c.streamCount());
      Set<Long> streams = new HashSet<>();
      List<CompletableFuture<JsonNode>> calls = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        calls.add(c.call("demo/echo", json("{\"n\":" + i + "}")));
      }
      for (int i = 0; i < 30; i++) {
        JsonNode out = calls.get(i).get(20, TimeUnit.SECONDS);
        assertEquals(i, out.get("input").get("n").asInt());
        streams.add(out.get("stream").asLong());
      }
      assertEquals(3, streams.size(), "calls used three streams: " + streams);
    }
  }

  @Test
  void tcpUsesOneStreamWhateverTheOption() throws Exception {
    try (CallClient c = connect(Transport.TCP, null, CallClient.Options.DEFAULTS.streams(3))) {
      assertEquals(1, c.streamCount());
      assertEquals(
          0, c.call("demo/echo", json("{}")).get(20, TimeUnit.SECONDS).get("stream").asLong());
    }
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void refusedHelloFailsConnect(Transport t) {
    CallException e =
        assertThrows(CallException.class, () -> connect(t, "bad", CallClient.Options.DEFAULTS));
    assertEquals(ErrorCodes.UNAUTHENTICATED, e.code());
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void nodeClosingTheConnectionFailsPendingCalls(Transport t) throws Exception {
    try (CallClient c = connect(t, null, CallClient.Options.DEFAULTS)) {
      CompletableFuture<JsonNode> pending = c.call("demo/close", json("{}"));
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> pending.get(20, TimeUnit.SECONDS));
      assertEquals(
          ErrorCodes.UNAVAILABLE, assertInstanceOf(CallException.class, e.getCause()).code());
    }
  }
}

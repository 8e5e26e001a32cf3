package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.alknet.auth.AuthorizedKey;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import net.alknet.auth.IdentityDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A client's TLS/TCP with either provider (BoringSSL through netty-tcnative, the JDK's TLS) against
 * the node's JDK TLS: the same half-close, client certificate, pinning and ALPN behaviour.
 */
class ClientTlsTest {

  @RegisterExtension final TestNodes nodes = new TestNodes();

  @RegisterExtension static final TestNodes.StrayThreads THREADS = new TestNodes.StrayThreads();

  @Test
  void boringSslIsTheDefaultOnLinuxX86_64() {
    assumeTrue(
        System.getProperty("os.name").equals("Linux")
            && System.getProperty("os.arch").equals("amd64")
            && System.getProperty("alknet.tls.provider") == null);
    assertEquals(ClientTls.OPENSSL, ClientTls.current());
  }

  private EndpointClient client(ClientTls tls, Optional<KeyPair> key) {
    return nodes.client(key, EndpointLimits.DEFAULTS).tls(tls);
  }

  /**
   * Answers the whole of its input (read to the end) followed by {@code size} bytes: the answer is
   * sent only after the client has closed its output, so it all travels after the client's
   * close_notify, and ends with the node's.
   */
  static final class LateAnswer implements ProtocolHandler {
    static final int SIZE = 8 << 20;

    @Override
    public Set<String> alpns() {
      return Set.of("test/late");
    }

    @Override
    public void handle(Connection connection, AuthContext auth) throws Exception {
      try (Stream s = connection.acceptStream()) {
        byte[] request = s.input().readAllBytes();
        s.output().write(request);
        byte[] block = new byte[64 * 1024];
        for (int sent = 0; sent < SIZE; sent += block.length) {
          block[0] = (byte) (sent >>> 16);
          s.output().write(block);
        }
      }
    }
  }

  private double handshakeFailures() {
    return nodes.meters.find("alknet.handshake.failures").counters().stream()
        .mapToDouble(io.micrometer.core.instrument.Counter::count)
        .sum();
  }

  private static byte[] sha256(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  @ParameterizedTest
  @EnumSource(ClientTls.class)
  void afterItsOwnCloseNotifyTheClientReadsTheWholeAnswerThenAnEnd(ClientTls tls) {
    assumeTrue(tls == ClientTls.JDK || ClientTls.current() == ClientTls.OPENSSL);
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          nodes.start(new LateAnswer());
          EndpointClient client = client(tls, Optional.empty());
          Connection c = nodes.connect(client, "test/late", Transport.TCP);
          ByteArrayOutputStream expected = new ByteArrayOutputStream();
          expected.write("request".getBytes());
          byte[] block = new byte[64 * 1024];
          for (int sent = 0; sent < LateAnswer.SIZE; sent += block.length) {
            block[0] = (byte) (sent >>> 16);
            expected.write(block);
          }
          try (Stream s = c.openStream()) {
            s.output().write("request".getBytes());
            s.output().close(); // close_notify: the node's readAllBytes() ends
            InputStream in = s.input();
            byte[] got = in.readAllBytes(); // ends at the node's close_notify, not before
            assertEquals(expected.size(), got.length);
            assertArrayEquals(sha256(expected.toByteArray()), sha256(got));
            assertEquals(-1, in.read());
          }
          c.close(CloseCode.NO_ERROR, "");
        });
  }

  @ParameterizedTest
  @EnumSource(ClientTls.class)
  void theClientCertificateIsTheIdentity(ClientTls tls) {
    assumeTrue(tls == ClientTls.JDK || ClientTls.current() == ClientTls.OPENSSL);
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          KeyPair key = Ed25519Keys.generate();
          nodes.directory =
              IdentityDirectory.of(
                  List.of(AuthorizedKey.of(key.getPublic(), Set.of(), "bob")), List.of());
          TestHandlers.Transform echo = TestHandlers.echo("test/echo");
          nodes.start(echo);
          Connection c = nodes.connect(client(tls, Optional.of(key)), "test/echo", Transport.TCP);
          assertEquals("hi", TestNodes.exchange(c, "hi"));
          c.close(CloseCode.NO_ERROR, "");
          AuthContext auth = echo.contexts.poll();
          assertTrue(auth.identity().isPresent(), "no identity with " + tls);
          assertEquals(Fingerprints.sha256(key.getPublic()), auth.identity().get().id());
        });
  }

  @ParameterizedTest
  @EnumSource(ClientTls.class)
  void aNodeWithAnEd25519CertificateIsReachedToo(ClientTls tls) {
    assumeTrue(tls == ClientTls.JDK || ClientTls.current() == ClientTls.OPENSSL);
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          // A vault-derived node key: BoringSSL cannot offer ed25519, the node refuses that
          // handshake, and the client connects again with the JDK's TLS.
          TlsIdentity ed = TlsIdentity.selfSigned(Ed25519Keys.generate());
          nodes.start(
              ed,
              EndpointLimits.DEFAULTS,
              EndpointServer.Options.loopback(0),
              TestHandlers.echo("test/echo"));
          EndpointClient client = client(tls, Optional.empty());
          for (int i = 0; i < 2; i++) {
            Connection c =
                client.connect(
                    "127.0.0.1",
                    nodes.server.port(),
                    "test/echo",
                    Trust.pinned(ed.fingerprint()),
                    Transport.TCP);
            assertEquals("ed" + i, TestNodes.exchange(c, "ed" + i));
            c.close(CloseCode.NO_ERROR, "");
          }
          // BoringSSL is refused once per client and node, then not tried again.
          int expected = tls == ClientTls.OPENSSL ? 1 : 0;
          TestNodes.eventually(Duration.ofSeconds(5), () -> handshakeFailures() == expected);
          assertEquals(expected, handshakeFailures());
        });
  }

  @ParameterizedTest
  @EnumSource(ClientTls.class)
  void aWrongPinAndAnUnservedAlpnAreClearErrors(ClientTls tls) {
    assumeTrue(tls == ClientTls.JDK || ClientTls.current() == ClientTls.OPENSSL);
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          nodes.start(TestHandlers.echo("test/echo"));
          EndpointClient client = client(tls, Optional.empty());
          String wrong = TlsIdentity.generate().fingerprint();
          IOException e =
              assertThrows(
                  IOException.class,
                  () ->
                      client.connect(
                          "127.0.0.1",
                          nodes.server.port(),
                          "test/echo",
                          Trust.pinned(wrong),
                          Transport.TCP));
          assertTrue(e.getMessage().contains(wrong), e.getMessage());
          assertTrue(e.getMessage().contains(TestNodes.TLS.fingerprint()), e.getMessage());

          IOException alpn =
              assertThrows(
                  IOException.class, () -> nodes.connect(client, "test/unknown", Transport.TCP));
          assertTrue(
              alpn.getMessage().contains("does not serve that ALPN")
                  || alpn.getMessage().contains("did not accept ALPN"),
              alpn.getMessage());
          assertEquals(0, nodes.server.status().openConnections());
        });
  }

  /**
   * A node that closes the connection without a word during the handshake (as it does to refuse a
   * client at its limits, or while starting or stopping): one clear error at once, not a wait for
   * the handshake timeout and a message about it.
   */
  @ParameterizedTest
  @EnumSource(ClientTls.class)
  void aNodeClosingDuringTheHandshakeIsAClearErrorAtOnce(ClientTls tls) throws Exception {
    assumeTrue(tls == ClientTls.JDK || ClientTls.current() == ClientTls.OPENSSL);
    try (java.net.ServerSocket closer =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread accepting =
          new Thread(
              () -> {
                while (!closer.isClosed()) {
                  try {
                    closer.accept().close();
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "closer");
      accepting.setDaemon(true);
      accepting.start();
      EndpointClient client = client(tls, Optional.empty());
      IOException e =
          assertThrows(
              IOException.class,
              () ->
                  client.connect(
                      "127.0.0.1",
                      closer.getLocalPort(),
                      "test/echo",
                      Trust.pinned(TestNodes.TLS.fingerprint()),
                      Transport.TCP));
      assertTrue(
          e.getMessage().contains("closed the connection during the handshake"), e.getMessage());
    }
  }
}

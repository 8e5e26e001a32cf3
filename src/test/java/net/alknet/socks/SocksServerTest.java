package net.alknet.socks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The SOCKS server with stock curl as client and a tunnel that connects directly (the node-side
 * tunnel over SSH is tested end to end elsewhere): the codec against a real client, denial replies,
 * and a bounded number of connections.
 */
@Timeout(60)
class SocksServerTest {

  HttpServer web;
  SocksServer socks;

  /** Direct TCP, denying port 9 (as a node policy would deny a destination). */
  static final Tunnel DIRECT =
      d -> {
        if (d.port() == 9) {
          throw new Socks5.SocksException(Socks5.Reply.NOT_ALLOWED, "denied by policy");
        }
        Socket s;
        try {
          s = new Socket(d.host(), d.port());
        } catch (java.net.ConnectException e) {
          throw new Socks5.SocksException(Socks5.Reply.CONNECTION_REFUSED, e.getMessage());
        }
        return new Tunnel.Channel() {
          @Override
          public InputStream input() {
            try {
              return s.getInputStream();
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }

          @Override
          public OutputStream output() {
            try {
              return s.getOutputStream();
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }

          @Override
          public void close() throws IOException {
            s.close();
          }
        };
      };

  @BeforeEach
  void start() throws IOException {
    web = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    web.createContext(
        "/",
        x -> {
          byte[] body = "through socks".getBytes(StandardCharsets.UTF_8);
          x.sendResponseHeaders(200, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    web.start();
    socks =
        new SocksServer(new InetSocketAddress("127.0.0.1", 0), DIRECT, 4, Duration.ofSeconds(2));
    Thread t = new Thread(socks::serve, "socks-test");
    t.setDaemon(true);
    t.start();
  }

  @AfterEach
  void stop() {
    socks.close();
    web.stop(0);
  }

  String curl(String url) throws Exception {
    assumeTrue(
        System.getenv("ALKNET_E2E_REQUIRE") != null || Files.isExecutable(Path.of("/usr/bin/curl")),
        "curl is not installed");
    Process p =
        new ProcessBuilder(
                "curl",
                "-sS",
                "--max-time",
                "10",
                "--socks5-hostname",
                "127.0.0.1:" + socks.address().getPort(),
                "-w",
                "\n%{http_code}",
                url)
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(20, TimeUnit.SECONDS);
    return out;
  }

  @Test
  void curlReachesAServerThroughTheTunnel() throws Exception {
    String out = curl("http://localhost:" + web.getAddress().getPort() + "/");
    assertTrue(out.startsWith("through socks\n200"), out);
  }

  @Test
  void aDeniedDestinationGetsASocksFailureReply() throws Exception {
    String out = curl("http://localhost:9/");
    assertTrue(out.contains("(97)") || out.contains("not allowed"), out);
    String refused = curl("http://127.0.0.1:1/"); // nothing listens on port 1
    assertTrue(refused.contains("(97)") || refused.toLowerCase().contains("refused"), refused);
  }

  @Test
  void slowHandshakesAreDroppedAndSlotsComeBack() throws Exception {
    // fill every slot with clients that never speak
    Socket[] idle = new Socket[4];
    for (int i = 0; i < idle.length; i++) {
      idle[i] = new Socket("127.0.0.1", socks.address().getPort());
    }
    for (Socket s : idle) {
      s.setSoTimeout(10_000);
      assertEquals(-1, s.getInputStream().read(), "dropped after the handshake timeout");
      s.close();
    }
    String out = curl("http://localhost:" + web.getAddress().getPort() + "/");
    assertTrue(out.endsWith("200"), out);
  }
}

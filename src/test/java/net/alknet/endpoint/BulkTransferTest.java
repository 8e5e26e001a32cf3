package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Integrity of bulk data through a streaming echo, writing and reading concurrently. */
class BulkTransferTest {

  private final TestNodes nodes = new TestNodes();

  @AfterEach
  void tearDown() {
    nodes.close();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void eightMegabytesEchoIntact(Transport transport) throws Exception {
    nodes.start(new TestHandlers.StreamingEcho("test/stream"));
    byte[] data = new byte[8 * 1024 * 1024 + 17];
    new Random(42).nextBytes(data);
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          Connection c = nodes.connect("test/stream", transport);
          Stream s = c.openStream();
          Thread writer =
              new Thread(
                  () -> {
                    try (OutputStream out = s.output()) {
                      for (int off = 0; off < data.length; off += 10_000) {
                        out.write(data, off, Math.min(10_000, data.length - off));
                      }
                    } catch (IOException e) {
                      throw new RuntimeException(e);
                    }
                  });
          writer.start();
          ByteArrayOutputStream got = new ByteArrayOutputStream();
          s.input().transferTo(got);
          writer.join();
          assertArrayEquals(data, got.toByteArray());
          c.close(CloseCode.NO_ERROR, "");
        });
  }
}

package net.alknet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Talks to a running node's control socket ({@code <data-dir>/control.sock}). */
final class ControlClient {

  private ControlClient() {}

  static JsonNode request(Path dataDir, String command) throws IOException {
    Path socket = dataDir.resolve("control.sock");
    if (!Files.exists(socket)) {
      throw new CliSupport.CliException(
          "no node is running with data directory "
              + dataDir
              + " (no "
              + socket.getFileName()
              + ")");
    }
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      try {
        ch.connect(UnixDomainSocketAddress.of(socket));
      } catch (IOException e) {
        throw new CliSupport.CliException(
            "no node answers on " + socket + " (" + e.getMessage() + "); is it running?");
      }
      ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (ch.read(buf) >= 0) {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
        if (out.size() > 1 << 20) {
          throw new CliSupport.CliException("control answer too large");
        }
      }
      return new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8));
    }
  }
}

package net.alknet.endpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * The client's pin store, {@code <data-dir>/known_nodes}: one line per node, {@code host:port
 * SHA256:<fingerprint>}; blank lines and {@code #} comments are ignored. The first contact with a
 * node appends its line (trust on first use); afterwards a different certificate key is refused
 * with both fingerprints in the message. To accept a node's new key, delete its line.
 *
 * <p>Thread-safe within one process; appends are single {@code write} calls.
 */
public final class KnownNodes {

  private static final Logger LOG = Logger.getLogger(KnownNodes.class);
  private static final int MAX_FILE_BYTES = 1 << 20;

  private final Path file;

  public KnownNodes(Path file) {
    this.file = file;
  }

  public Path file() {
    return file;
  }

  /** The pinned fingerprint for a target, if any. */
  public synchronized Optional<String> lookup(String target) throws IOException {
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    if (Files.size(file) > MAX_FILE_BYTES) {
      throw new IOException(file + " is larger than 1 MiB; refusing to read it");
    }
    int lineNo = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      lineNo++;
      String l = line.strip();
      if (l.isEmpty() || l.startsWith("#")) {
        continue;
      }
      String[] parts = l.split("\\s+");
      if (parts.length < 2 || !parts[1].startsWith("SHA256:")) {
        throw new IOException(file + ":" + lineNo + ": expected 'host:port SHA256:<fingerprint>'");
      }
      if (parts[0].equals(target)) {
        return Optional.of(parts[1]);
      }
    }
    return Optional.empty();
  }

  /** Pins on first contact, accepts the pinned key, refuses any other. */
  public synchronized void check(String target, X509Certificate[] chain)
      throws CertificateException {
    String presented = Certificates.fingerprint(chain[0]);
    try {
      Optional<String> known = lookup(target);
      if (known.isPresent()) {
        if (!known.get().equals(presented)) {
          throw new CertificateException(
              "node certificate for "
                  + target
                  + " has CHANGED: known "
                  + known.get()
                  + ", presented "
                  + presented
                  + "; if this change is expected, remove the line for "
                  + target
                  + " from "
                  + file);
        }
        return;
      }
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
      Files.writeString(
          file,
          target + " " + presented + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      LOG.infof("pinned node %s as %s in %s", target, presented, file);
    } catch (IOException e) {
      throw new CertificateException("cannot use " + file + ": " + e.getMessage());
    }
  }
}

package net.alknet.ssh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import net.alknet.auth.LocalKeys;
import org.jboss.logging.Logger;

/**
 * The gateway's SSH host key: an Ed25519 key in OpenSSH format, by default {@code
 * <data-dir>/ssh_host_ed25519_key} (plus {@code .pub}), generated on first use like OpenSSH's
 * {@code /etc/ssh/ssh_host_ed25519_key}.
 *
 * <p>It is deliberately not {@code <data-dir>/id_ed25519}: that key is the node's client identity
 * (TLS client certificate, AuthTokens, from_call imports), and one key should not sign for two
 * protocols. The transport under SSH is already authenticated by the node's TLS certificate (pinned
 * in {@code known_nodes}), so the host key mostly matters to {@code known_hosts}.
 */
final class SshHostKey {

  /** File name of the generated key in the data directory. */
  static final String FILE = "ssh_host_ed25519_key";

  private static final Logger LOG = Logger.getLogger(SshHostKey.class);

  private SshHostKey() {}

  /**
   * Loads {@code file}, generating and writing it (owner-only) first if it does not exist and
   * {@code generate} is set.
   *
   * @throws IOException naming the file if it cannot be read, written or parsed
   */
  static synchronized KeyPair loadOrGenerate(Path file, boolean generate) throws IOException {
    if (generate && !Files.exists(file)) {
      KeyPair pair = Ed25519Keys.generate();
      LocalKeys.write(file, pair, "alknet ssh host key", false);
      LOG.infof("generated SSH host key %s (%s)", file, Fingerprints.sha256(pair.getPublic()));
      return pair;
    }
    return LocalKeys.load(file);
  }
}

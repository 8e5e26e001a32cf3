package net.alknet.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Optional;
import net.alknet.auth.LocalKeys;
import net.alknet.endpoint.KnownNodes;
import net.alknet.endpoint.Transport;
import net.alknet.endpoint.Trust;
import picocli.CommandLine.Option;

/** How a client command reaches a node: transport, node trust, client key (shared mixin). */
public final class ConnectOptions {

  @Option(names = "--tcp", description = "Use TLS 1.3 over TCP instead of QUIC.")
  boolean tcp;

  @Option(
      names = "--fingerprint",
      paramLabel = "SHA256:…",
      description = "Trust exactly this node key instead of known_nodes.")
  String fingerprint;

  @Option(
      names = "--key",
      paramLabel = "FILE",
      description = "Client key (default: <data-dir>/id_ed25519 if present).")
  Path key;

  @Option(names = "--no-key", description = "Connect without a client certificate.")
  boolean noKey;

  Transport transport() {
    return tcp ? Transport.TCP : Transport.QUIC;
  }

  /** The pinned fingerprint if given, else trust on first use in {@code <dir>/known_nodes}. */
  Trust trust(Path dataDir) {
    return fingerprint != null
        ? Trust.pinned(fingerprint)
        : Trust.knownNodes(new KnownNodes(dataDir.resolve("known_nodes")));
  }

  /** The key file in effect ({@code --key}, else {@code <dir>/id_ed25519}). */
  Path keyFile(Path dataDir) {
    return key != null ? key : dataDir.resolve("id_ed25519");
  }

  /**
   * The client key: {@code --key} (must exist), else the default if present; none with --no-key.
   */
  Optional<KeyPair> clientKey(Path dataDir) throws IOException {
    if (noKey) {
      return Optional.empty();
    }
    Path k = keyFile(dataDir);
    return key != null || Files.exists(k) ? Optional.of(LocalKeys.load(k)) : Optional.empty();
  }
}

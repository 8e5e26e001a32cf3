package net.alknet.cli;

import io.quarkus.runtime.Quarkus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import net.alknet.node.Node;
import net.alknet.vault.DerivationPath;
import net.alknet.vault.Secrets;
import net.alknet.vault.Vault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code alknet serve}: run a node. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Run a node: listen on one port number for QUIC (UDP) and TLS 1.3 (TCP) and serve every"
          + " enabled protocol, chosen by ALPN.",
      "Stops gracefully on SIGTERM/SIGINT; SIGHUP reloads the dynamic config.",
      "With --vault, the node's TLS key is derived from the vault's seed (m/74'/0'/0'), so the"
          + " same mnemonic gives the same node fingerprint on any machine."
    })
public class ServeCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Option(
      names = "--port",
      paramLabel = "PORT",
      description = "Port number for UDP and TCP (default: 4433).")
  Integer port;

  @Option(
      names = "--bind",
      paramLabel = "ADDRESS",
      description = "Address to bind (default: 0.0.0.0).")
  String bind;

  @Option(
      names = "--vault",
      description =
          "Unlock <data-dir>/vault at startup (passphrase from --passphrase-file or the terminal)"
              + " and use the node key derived from it.")
  boolean vault;

  @Mixin VaultCommand.PassphraseOption passphrase;

  private final Node node;

  public ServeCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() throws Exception {
    if (port != null && (port < 0 || port > 65535)) {
      throw new CliSupport.CliException("--port must be between 0 and 65535, was " + port);
    }
    Optional<KeyPair> nodeKey = Optional.empty();
    if (vault) {
      nodeKey = Optional.of(nodeKeyFromVault());
    } else if (passphrase.file != null) {
      throw new CliSupport.CliException("--passphrase-file goes with --vault");
    }
    node.start(
        new Node.Overrides(
            dataDir.value(),
            port == null ? OptionalInt.empty() : OptionalInt.of(port),
            Optional.ofNullable(bind),
            nodeKey));
    Quarkus.waitForExit();
    return 0;
  }

  /** Unlocks the vault, derives the node key and closes the vault again (wiping the seed). */
  private KeyPair nodeKeyFromVault() throws Exception {
    Path file = Vault.file(node.dataDir(dataDir.value()));
    if (!Files.exists(file)) {
      throw new CliSupport.CliException(
          "--vault: no vault at " + file + "; create one with `alknet vault init`");
    }
    char[] p = passphrase.read(false);
    try (Vault v = Vault.open(file, p)) {
      return v.keyPair(DerivationPath.NODE_KEY);
    } finally {
      Secrets.wipe(p);
    }
  }
}

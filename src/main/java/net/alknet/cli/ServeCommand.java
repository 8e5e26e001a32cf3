package net.alknet.cli;

import io.quarkus.runtime.Quarkus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import net.alknet.config.AlknetConfig;
import net.alknet.node.Node;
import net.alknet.vault.Credentials;
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
  private final AlknetConfig config;

  public ServeCommand(Node node, AlknetConfig config) {
    this.node = node;
    this.config = config;
  }

  @Override
  public Integer call() throws Exception {
    if (port != null && (port < 0 || port > 65535)) {
      throw new CliSupport.CliException("--port must be between 0 and 65535, was " + port);
    }
    Optional<KeyPair> nodeKey = Optional.empty();
    Credentials credentials = Credentials.NONE;
    if (vault) {
      Unlocked u = unlockVault();
      nodeKey = Optional.of(u.nodeKey());
      credentials = u.credentials();
    } else if (passphrase.file != null) {
      throw new CliSupport.CliException("--passphrase-file goes with --vault");
    } else if (!vaultCredentialNames().isEmpty()) {
      throw new CliSupport.CliException(
          "alknet.call.imports.*.api-key-vault names vault credentials: start with --vault");
    }
    node.start(
        new Node.Overrides(
            dataDir.value(),
            port == null ? OptionalInt.empty() : OptionalInt.of(port),
            Optional.ofNullable(bind),
            nodeKey,
            credentials));
    Quarkus.waitForExit();
    return 0;
  }

  /** What the node keeps of the vault: its key and the granted credentials, never the seed. */
  private record Unlocked(KeyPair nodeKey, Credentials credentials) {}

  /** The vault credentials the config refers to (call imports' {@code api-key-vault}). */
  private java.util.Set<String> vaultCredentialNames() {
    java.util.Set<String> names = new java.util.TreeSet<>();
    config.call().imports().values().forEach(i -> i.apiKeyVault().ifPresent(names::add));
    return names;
  }

  /**
   * Unlocks the vault, derives the node key, takes the credentials the config names, and closes the
   * vault again (wiping the seed).
   */
  private Unlocked unlockVault() throws Exception {
    Path file = Vault.file(node.dataDir(dataDir.value()));
    if (!Files.exists(file)) {
      throw new CliSupport.CliException(
          "--vault: no vault at " + file + "; create one with `alknet vault init`");
    }
    char[] p = passphrase.read(false);
    try (Vault v = Vault.open(file, p)) {
      java.util.Set<String> names = vaultCredentialNames();
      List<String> missing = names.stream().filter(n -> !v.names().contains(n)).toList();
      if (!missing.isEmpty()) {
        throw new CliSupport.CliException(
            "--vault: no credential " + missing + " in " + file + " (alknet vault add NAME)");
      }
      return new Unlocked(v.keyPair(DerivationPath.NODE_KEY), v.credentials(names));
    } finally {
      Secrets.wipe(p);
    }
  }
}

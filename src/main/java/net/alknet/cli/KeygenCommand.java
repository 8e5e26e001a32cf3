package net.alknet.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.concurrent.Callable;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import net.alknet.auth.LocalKeys;
import net.alknet.node.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code alknet keygen}: create this machine's Ed25519 key. */
@Command(
    name = "keygen",
    mixinStandardHelpOptions = true,
    description = {
      "Create an Ed25519 key in OpenSSH format: <data-dir>/id_ed25519 (owner-only) and"
          + " id_ed25519.pub.",
      "Prints the public key line (for a node's authorized_keys) on stdout."
    })
public class KeygenCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Option(
      names = "--file",
      paramLabel = "FILE",
      description = "Private key file (default: <data-dir>/id_ed25519).")
  Path file;

  @Option(
      names = "--comment",
      paramLabel = "TEXT",
      description = "Key comment (default: user@host).")
  String comment;

  @Option(names = "--force", description = "Overwrite an existing key.")
  boolean force;

  private final Node node;

  public KeygenCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() throws Exception {
    Path target = file != null ? file : node.dataDir(dataDir.value()).resolve("id_ed25519");
    if (Files.exists(target) && !force) {
      throw new CliSupport.CliException(target + " exists; use --force to replace it");
    }
    String c = comment != null ? comment : System.getProperty("user.name", "alknet") + "@" + host();
    KeyPair pair = Ed25519Keys.generate();
    LocalKeys.write(target, pair, c, force);
    System.err.println("wrote " + target + " and " + LocalKeys.publicKeyFile(target));
    System.err.println("fingerprint " + Fingerprints.sha256(pair.getPublic()));
    System.out.println(Ed25519Keys.sshPublicKeyLine(pair.getPublic(), c));
    return 0;
  }

  private static String host() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      return "localhost";
    }
  }
}

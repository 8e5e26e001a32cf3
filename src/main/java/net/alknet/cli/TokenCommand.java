package net.alknet.cli;

import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import net.alknet.auth.AuthToken;
import net.alknet.auth.LocalKeys;
import net.alknet.node.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code alknet token}: mint an AuthToken with the local key (AUTH-3). */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    description = {
      "Print a fresh AuthToken signed with the local Ed25519 key, for `Authorization: Bearer`"
          + " or a call `hello`.",
      "A node accepts it for alknet.auth.token-max-age (default 5 minutes) if the key is in its"
          + " authorized_keys."
    })
public class TokenCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Option(
      names = "--key",
      paramLabel = "FILE",
      description = "Private key (default: <data-dir>/id_ed25519).")
  Path key;

  private final Node node;

  public TokenCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() throws Exception {
    Path file = key != null ? key : node.dataDir(dataDir.value()).resolve("id_ed25519");
    System.out.println(AuthToken.mint(LocalKeys.load(file), Instant.now()));
    return 0;
  }
}

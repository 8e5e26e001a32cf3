package net.alknet.cli;

import java.util.concurrent.Callable;
import net.alknet.node.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code alknet reload}: reload a running node's dynamic config (CFG-2). */
@Command(
    name = "reload",
    mixinStandardHelpOptions = true,
    description = {
      "Ask the node running with this data directory to reload authorized_keys and api_keys now"
          + " (same as SIGHUP).",
      "An invalid file leaves the previous config in force; the exit code is then 1."
    })
public class ReloadCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  private final Node node;

  public ReloadCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() throws Exception {
    var answer = ControlClient.request(node.dataDir(dataDir.value()), "reload");
    String message = answer.path("message").asText();
    if (!answer.path("ok").asBoolean()) {
      throw new CliSupport.CliException(message);
    }
    System.out.println(message);
    return 0;
  }
}

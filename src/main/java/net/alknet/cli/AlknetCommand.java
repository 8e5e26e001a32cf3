package net.alknet.cli;

import io.quarkus.picocli.runtime.annotations.TopCommand;
import picocli.CommandLine.Command;

/** {@code alknet}: one endpoint, one port, many protocols. */
@TopCommand
@Command(
    name = "alknet",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "Self-hostable networking toolkit: one endpoint, one port, many protocols.",
    subcommands = {
      ServeCommand.class,
      KeygenCommand.class,
      TokenCommand.class,
      ApikeyCommand.class,
      BridgeCommand.class,
      GitRemoteCommand.class,
      AgentCommand.class,
      SshConfigCommand.class,
      SocksCommand.class,
      CallCommand.class,
      ReloadCommand.class,
      StatusCommand.class,
      VaultCommand.class
    })
public class AlknetCommand {}

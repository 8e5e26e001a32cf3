package net.alknet.cli;

import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** {@code --data-dir}, shared by every command. */
public final class DataDirOption {

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Data directory (default: alknet.data-dir, i.e. ~/.alknet).")
  Path dataDir;

  Optional<Path> value() {
    return Optional.ofNullable(dataDir);
  }
}

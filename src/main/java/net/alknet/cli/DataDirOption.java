package net.alknet.cli;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Option;

/** {@code --data-dir}, shared by every command. */
public final class DataDirOption {

  /** System property and (MicroProfile-style) environment variable naming the data directory. */
  static final String PROPERTY = "alknet.data-dir";

  static final String ENV = "ALKNET_DATA_DIR";

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Data directory (default: alknet.data-dir, i.e. ~/.alknet).")
  Path dataDir;

  Optional<Path> value() {
    return Optional.ofNullable(dataDir);
  }

  /**
   * The data directory of a client command, resolved without Quarkus config so that it works the
   * same under {@link ClientMain} and under the Quarkus top command: {@code --data-dir}, else the
   * system property {@code alknet.data-dir}, else the environment variable {@code ALKNET_DATA_DIR},
   * else {@code ${user.home}/.alknet}. These are the sources and the order in which Quarkus config
   * resolves {@code alknet.data-dir} for the node; a blank value counts as unset, as there. Files
   * in the working directory ({@code config/application.properties}, {@code .env}) are NOT
   * consulted: a client command such as the git remote helper runs in arbitrary directories. Values
   * are taken literally (no {@code ${…}} expansion, no {@code ~}).
   *
   * @return an absolute, normalized path (not checked for existence)
   */
  Path resolve() {
    return resolve(value(), System::getProperty, System::getenv);
  }

  /** {@link #resolve()} with the system properties and environment given, for tests. */
  static Path resolve(
      Optional<Path> option, UnaryOperator<String> properties, UnaryOperator<String> env) {
    Path dir =
        option.orElseGet(
            () -> {
              String v = properties.apply(PROPERTY);
              if (v == null || v.isBlank()) {
                v = env.apply(ENV);
              }
              if (v == null || v.isBlank()) {
                return Path.of(properties.apply("user.home"), ".alknet");
              }
              return Path.of(v);
            });
    return dir.toAbsolutePath().normalize();
  }
}

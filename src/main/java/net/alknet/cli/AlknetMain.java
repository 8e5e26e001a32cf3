package net.alknet.cli;

import io.quarkus.picocli.runtime.PicocliRunner;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * Entry point. Every CLI command boots Quarkus; only {@code serve} may bind ports, so for the
 * others the management interface (health, metrics) gets an ephemeral loopback port and Quarkus's
 * own startup lines are quieted (stdout and stderr belong to the command, e.g. {@code bridge}).
 */
@QuarkusMain
public final class AlknetMain {

  private AlknetMain() {}

  public static void main(String... args) {
    boolean serve =
        args.length > 0
            && args[0].equals("serve")
            && !java.util.Arrays.asList(args).contains("--help")
            && !java.util.Arrays.asList(args).contains("-h");
    if (!serve) {
      setIfAbsent("quarkus.management.port", "0");
      setIfAbsent("quarkus.log.category.\"io.quarkus\".level", "WARN");
    }
    Quarkus.run(PicocliRunner.class, args);
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}

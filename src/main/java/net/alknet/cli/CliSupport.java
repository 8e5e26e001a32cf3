package net.alknet.cli;

import io.quarkus.picocli.runtime.PicocliCommandLineFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import picocli.CommandLine;

/**
 * The Quarkus top command's {@link CommandLine}, with the CLI conventions of {@link
 * CliConventions}: one {@code alknet:} line on stderr per error, exit 1 for failures and 2 for
 * usage errors.
 */
@ApplicationScoped
public class CliSupport {

  /** A failure whose message is already the one line the user should see. */
  public static final class CliException extends RuntimeException {
    public CliException(String message) {
      super(message);
    }
  }

  @Produces
  CommandLine commandLine(PicocliCommandLineFactory factory) {
    return CliConventions.apply(factory.create());
  }

  static String oneLine(Throwable e) {
    return CliConventions.oneLine(e);
  }
}

package net.alknet.cli;

import io.quarkus.picocli.runtime.PicocliCommandLineFactory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * CLI conventions (CLI-1): every error is one clear line on stderr starting with {@code alknet:},
 * and a non-zero exit (1 for failures, 2 for usage errors). No stack traces.
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
    CommandLine cl = factory.create();
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          PrintWriter err = commandLine.getErr();
          err.println("alknet: " + oneLine(e));
          err.flush();
          return 1;
        });
    cl.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine c = e.getCommandLine();
          PrintWriter err = c.getErr();
          err.println("alknet: " + e.getMessage());
          err.println(
              "Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
          err.flush();
          return 2;
        });
    return cl;
  }

  static String oneLine(Throwable e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      m = e.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl >= 0 ? m.substring(0, nl) : m;
  }
}

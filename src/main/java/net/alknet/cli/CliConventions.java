package net.alknet.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * CLI conventions (CLI-1) applied to a picocli {@link CommandLine}: every error is one clear line
 * on stderr starting with {@code alknet:}, and a non-zero exit (1 for failures, 2 for usage
 * errors). No stack traces. Plain picocli, no CDI: shared by the Quarkus top command ({@link
 * CliSupport}) and the standalone client entry point ({@link ClientMain}).
 */
final class CliConventions {

  private CliConventions() {}

  /** Installs the error handlers on {@code cl} (and so on its subcommands); returns it. */
  static CommandLine apply(CommandLine cl) {
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

  /** The first line of the exception's message, or its simple class name if it has none. */
  static String oneLine(Throwable e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      m = e.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl >= 0 ? m.substring(0, nl) : m;
  }
}

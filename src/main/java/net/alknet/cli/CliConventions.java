package net.alknet.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  /**
   * A duration option's value: {@code 500ms}, {@code 5s}, {@code 2m}, {@code 1h} or ISO-8601
   * ({@code PT1M30S}).
   *
   * @param option the option's name, for the error
   * @param zero whether zero is allowed (negative never is)
   */
  static Duration parseDuration(String option, String s, boolean zero) {
    Matcher m = DURATION.matcher(s.trim());
    try {
      Duration d;
      if (m.matches()) {
        long n = Long.parseLong(m.group(1));
        d =
            switch (m.group(2)) {
              case "ms" -> Duration.ofMillis(n);
              case "s" -> Duration.ofSeconds(n);
              case "m" -> Duration.ofMinutes(n);
              default -> Duration.ofHours(n);
            };
      } else if (zero && s.trim().equals("0")) {
        d = Duration.ZERO;
      } else {
        d = Duration.parse(s.trim());
      }
      if (d.isNegative() || (d.isZero() && !zero)) {
        throw new CliSupport.CliException(option + " must be " + (zero ? "0 or more" : "positive"));
      }
      return d;
    } catch (DateTimeParseException | NumberFormatException | ArithmeticException e) {
      throw new CliSupport.CliException(
          "bad " + option + " '" + s + "': expected e.g. 500ms, 5s, 2m, 1h");
    }
  }
}

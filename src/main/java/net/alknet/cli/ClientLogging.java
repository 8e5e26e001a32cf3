package net.alknet.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

/**
 * Logging for {@link ClientMain}, which runs without Quarkus and its log manager: the JDK's
 * java.util.logging with one handler on stderr (stdout carries the command's data), INFO and up,
 * netty at WARN, in the node's console format ({@code 08:44:56.819 INFO [n.a.e.KnownNodes]
 * message}). jboss-logging, which the endpoint classes log through, is pointed at JUL, so no other
 * logging jar is needed and nothing is probed.
 *
 * <p>A user's own JUL configuration wins: if {@code java.util.logging.config.file} or {@code
 * java.util.logging.config.class} is set (e.g. through {@code ALKNET_JAVA_OPTS}), the JDK's
 * configuration is left alone. Call {@link #pointJbossLoggingAtJul()} before the first logger is
 * created, then {@link #install()} once: a git helper starts its connection between the two (the
 * handler costs a few tens of milliseconds of a start git waits for), and loggers created meanwhile
 * keep working (a record they publish before {@code install} goes to JUL's default console handler,
 * also on stderr).
 */
final class ClientLogging {

  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

  /** Held so that the level set on it is not lost when JUL drops an unreferenced logger. */
  private static Logger netty;

  private ClientLogging() {}

  /** jboss-logging logs through JUL, without probing for other logging jars. Cheap. */
  static void pointJbossLoggingAtJul() {
    if (System.getProperty("org.jboss.logging.provider") == null) {
      System.setProperty("org.jboss.logging.provider", "jdk");
    }
  }

  static void install() {
    pointJbossLoggingAtJul();
    if (System.getProperty("java.util.logging.config.file") != null
        || System.getProperty("java.util.logging.config.class") != null) {
      return;
    }
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    root.setLevel(Level.INFO);
    Handler stderr =
        new StreamHandler(System.err, new ConsoleFormat()) {
          @Override
          public synchronized void publish(LogRecord record) {
            super.publish(record);
            flush();
          }
        };
    stderr.setLevel(Level.ALL);
    root.addHandler(stderr);
    netty = Logger.getLogger("io.netty");
    netty.setLevel(Level.WARNING);
  }

  /** {@code HH:mm:ss.SSS LEVEL [a.b.Class] message}, then the stack trace of a thrown exception. */
  static final class ConsoleFormat extends Formatter {
    @Override
    public String format(LogRecord r) {
      StringBuilder b = new StringBuilder(128);
      b.append(TIME.format(LocalTime.now()));
      b.append(' ').append(String.format("%-5s", levelName(r.getLevel())));
      b.append(" [").append(abbreviate(r.getLoggerName())).append("] ");
      b.append(formatMessage(r)).append(System.lineSeparator());
      if (r.getThrown() != null) {
        StringWriter w = new StringWriter();
        r.getThrown().printStackTrace(new PrintWriter(w));
        b.append(w);
      }
      return b.toString();
    }
  }

  /** JBoss/Quarkus level names for JUL levels (jboss-logging's own levels already use them). */
  static String levelName(Level level) {
    int v = level.intValue();
    if (v >= 1100) {
      return "FATAL";
    } else if (v >= 1000) {
      return "ERROR";
    } else if (v >= 900) {
      return "WARN";
    } else if (v >= 800) {
      return "INFO";
    } else if (v >= 500) {
      return "DEBUG";
    }
    return "TRACE";
  }

  /**
   * {@code net.alknet.endpoint.KnownNodes} → {@code n.a.e.KnownNodes} (Quarkus's {@code %c{1.}}).
   */
  static String abbreviate(String category) {
    if (category == null || category.isEmpty()) {
      return "root";
    }
    String[] parts = category.split("\\.");
    StringBuilder b = new StringBuilder(category.length());
    for (int i = 0; i < parts.length - 1; i++) {
      if (!parts[i].isEmpty()) {
        b.append(parts[i].charAt(0));
      }
      b.append('.');
    }
    return b.append(parts[parts.length - 1]).toString();
  }
}

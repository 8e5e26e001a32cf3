package net.alknet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Standalone entry point of the client commands {@code bridge} and {@code git-remote} (alias {@code
 * git-remote-alknet}): plain picocli, no Quarkus, no CDI. {@code bin/alknet} runs it, with only the
 * jars these commands need on the class path, because git starts its remote helper once per clone,
 * fetch and push, and ssh its ProxyCommand once per connection: booting Quarkus there would cost
 * seconds each time.
 *
 * <p>Contract: the commands are the same classes as under the Quarkus top command ({@link
 * AlknetCommand}), so options, {@code --help}, error lines and exit codes are the same; the data
 * directory is resolved by {@link DataDirOption#resolve()} on both paths. The JVM always ends
 * through {@link System#exit} with the command's exit code: netty's non-daemon global event
 * executor would otherwise keep it alive for about a second after the command has finished.
 * Anything thrown past picocli (a {@link LinkageError} from a missing jar, say) is one {@code
 * alknet: internal error: …} line and exit 1, never a hang.
 */
public final class ClientMain {

  private ClientMain() {}

  /** The top command of this entry point: {@code alknet} with the two client subcommands. */
  @Command(
      name = "alknet",
      subcommands = {BridgeCommand.class, GitRemoteCommand.class, AgentCommand.class})
  static final class Commands implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      throw new ParameterException(
          spec.commandLine(),
          "Missing command: this entry point runs bridge, git-remote and agent");
    }
  }

  public static void main(String... args) {
    NativeLibraryCache.prepare(); // before any netty class loads a library
    ClientLogging.pointJbossLoggingAtJul();
    GitRemoteCommand git = gitInvocation(args);
    if (git != null) {
      git.begin(); // git waits for the connection: it is made while the rest starts
      // Nor does git wait for logging (a few tens of milliseconds): set up beside the rest.
      Thread logging = new Thread(ClientLogging::install, "git-remote-logging");
      logging.setDaemon(true);
      logging.start();
    } else {
      ClientLogging.install();
    }
    int code;
    try {
      code = git != null ? runGit(git) : run(args);
    } catch (Throwable e) {
      System.err.println("alknet: internal error: " + e);
      code = 1;
    }
    System.out.flush();
    System.err.flush();
    System.exit(code);
  }

  /** Parses and runs one command line; returns its exit code (0, 1 failure, 2 usage error). */
  static int run(String... args) {
    GitRemoteCommand git = gitInvocation(args);
    if (git != null) {
      return runGit(git);
    }
    return CliConventions.apply(new CommandLine(new Commands())).execute(args);
  }

  /** Runs the helper git started; its exit code. */
  private static int runGit(GitRemoteCommand git) {
    try {
      return git.call();
    } catch (Exception e) {
      // as CliConventions' execution exception handler
      System.err.println("alknet: " + CliConventions.oneLine(e));
      return 1;
    }
  }

  /**
   * The command git runs, {@code git-remote REMOTE [URL]} with no option, parsed without picocli:
   * git starts its helper once per clone, fetch and push, and picocli's classes (Java 5 class
   * files, which the CDS archive cannot hold) take a sixth of such a run's start. {@code null} for
   * any other command line, which picocli parses.
   */
  static GitRemoteCommand gitInvocation(String... args) {
    if (args.length < 2
        || args.length > 3
        || !(args[0].equals("git-remote") || args[0].equals("git-remote-alknet"))) {
      return null;
    }
    for (int i = 1; i < args.length; i++) {
      if (args[i].isEmpty() || args[i].startsWith("-") || args[i].startsWith("@")) {
        return null; // an option, an @argument file, or nothing: picocli's business
      }
    }
    GitRemoteCommand c = new GitRemoteCommand();
    c.dataDir = new DataDirOption();
    c.connect = new ConnectOptions();
    c.remote = args[1];
    c.url = args.length == 3 ? args[2] : null;
    return c;
  }
}

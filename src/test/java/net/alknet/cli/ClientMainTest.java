package net.alknet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The standalone client entry point's parts that need no process: data directory resolution, exit
 * codes of usage errors, the log line format. End to end through {@code bin/alknet}: CliIT.
 */
class ClientMainTest {

  static Path resolve(Optional<Path> option, Map<String, String> props, Map<String, String> env) {
    return DataDirOption.resolve(option, props::get, env::get);
  }

  @Test
  void dataDirOrder() {
    Map<String, String> home = Map.of("user.home", "/home/u");
    assertEquals(Path.of("/home/u/.alknet"), resolve(Optional.empty(), home, Map.of()));
    assertEquals(
        Path.of("/env/dir"),
        resolve(Optional.empty(), home, Map.of("ALKNET_DATA_DIR", "/env/dir/")));
    assertEquals(
        Path.of("/prop/dir"),
        resolve(
            Optional.empty(),
            Map.of("user.home", "/home/u", "alknet.data-dir", "/prop/x/../dir"),
            Map.of("ALKNET_DATA_DIR", "/env/dir")));
    assertEquals(
        Path.of("/opt/d"),
        resolve(
            Optional.of(Path.of("/opt/d")),
            Map.of("user.home", "/home/u", "alknet.data-dir", "/prop/dir"),
            Map.of("ALKNET_DATA_DIR", "/env/dir")));
    // Blank counts as unset, as in Quarkus config.
    assertEquals(
        Path.of("/home/u/.alknet"),
        resolve(
            Optional.empty(),
            Map.of("user.home", "/home/u", "alknet.data-dir", " "),
            Map.of("ALKNET_DATA_DIR", "")));
    // Relative: against the working directory.
    assertEquals(
        Path.of("rel").toAbsolutePath(),
        resolve(Optional.empty(), home, Map.of("ALKNET_DATA_DIR", "./rel")));
  }

  @Test
  void usageErrorsExitTwoHelpZero() {
    assertEquals(2, ClientMain.run());
    assertEquals(2, ClientMain.run("serve"));
    assertEquals(2, ClientMain.run("bridge", "127.0.0.1:1"));
    assertEquals(2, ClientMain.run("git-remote"));
    assertEquals(0, ClientMain.run("bridge", "--help"));
    assertEquals(0, ClientMain.run("git-remote-alknet", "--help"));
  }

  @Test
  void failuresExitOne() {
    assertEquals(1, ClientMain.run("bridge", "--alpn", "x", "127.0.0.1:99999"));
    assertEquals(1, ClientMain.run("git-remote", "origin", "https://example.com/not-alknet"));
  }

  /** What picocli makes of a command line: the git-remote command object it would run. */
  static GitRemoteCommand parsedByPicocli(String... args) {
    CommandLine cl = new CommandLine(new ClientMain.Commands());
    List<CommandLine> parsed = cl.parseArgs(args).asCommandLineList();
    return (GitRemoteCommand) parsed.get(parsed.size() - 1).getCommand();
  }

  @Test
  void gitsOwnInvocationSkipsPicocliWithTheSameResult() {
    for (String[] args :
        List.of(
            new String[] {"git-remote", "origin", "alknet://h:4433/r"},
            new String[] {"git-remote-alknet", "alknet+tcp://h:1/r", "alknet+tcp://h:1/r"},
            new String[] {"git-remote", "h:4433/r"})) {
      GitRemoteCommand fast = ClientMain.gitInvocation(args);
      GitRemoteCommand slow = parsedByPicocli(args);
      assertNotNull(fast, List.of(args).toString());
      assertEquals(slow.remote, fast.remote);
      assertEquals(slow.url, fast.url);
      assertEquals(slow.dataDir.resolve(), fast.dataDir.resolve());
      assertEquals(slow.connect.tcp, fast.connect.tcp);
      assertEquals(slow.connect.fingerprint, fast.connect.fingerprint);
      assertEquals(slow.connect.key, fast.connect.key);
      assertEquals(slow.connect.noKey, fast.connect.noKey);
    }
    // Anything else goes through picocli: options, help, argument files, other commands.
    assertNull(ClientMain.gitInvocation("git-remote", "--tcp", "origin", "h:1/r"));
    assertNull(ClientMain.gitInvocation("git-remote", "origin", "--help"));
    assertNull(ClientMain.gitInvocation("git-remote", "@args.txt"));
    assertNull(ClientMain.gitInvocation("git-remote", "origin", ""));
    assertNull(ClientMain.gitInvocation("git-remote"));
    assertNull(ClientMain.gitInvocation("git-remote", "a", "b", "c"));
    assertNull(ClientMain.gitInvocation("bridge", "h:1"));
  }

  @Test
  void logLinesLookLikeTheNodes() {
    assertEquals("n.a.e.KnownNodes", ClientLogging.abbreviate("net.alknet.endpoint.KnownNodes"));
    assertEquals("Top", ClientLogging.abbreviate("Top"));
    assertEquals("root", ClientLogging.abbreviate(""));
    assertEquals("WARN", ClientLogging.levelName(Level.WARNING));
    assertEquals("ERROR", ClientLogging.levelName(Level.SEVERE));
    assertEquals("DEBUG", ClientLogging.levelName(Level.FINE));
    assertEquals("TRACE", ClientLogging.levelName(Level.FINEST));
    LogRecord r = new LogRecord(Level.INFO, "pinned node {0}");
    r.setParameters(new Object[] {"h:1"});
    r.setLoggerName("net.alknet.endpoint.KnownNodes");
    String line = new ClientLogging.ConsoleFormat().format(r);
    assertTrue(
        line.matches(
            "\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[n\\.a\\.e\\.KnownNodes\\] pinned node h:1\\R"),
        line);
  }
}

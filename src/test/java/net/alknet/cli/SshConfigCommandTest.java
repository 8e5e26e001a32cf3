package net.alknet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The Host block of {@code alknet ssh-config}, checked by stock OpenSSH's parser (ssh -G). */
class SshConfigCommandTest {

  static final String BLOCK =
      SshConfigCommand.render(
          "alknet-node1",
          BridgeCommand.HostPort.parse("node1.example:4433"),
          "deploy",
          List.of("/opt/my alknet/bin/alknet", "bridge", "--alpn", "alknet/ssh", "--tcp"),
          Path.of("/home/u/.alknet/id_ed25519"));

  @Test
  void quotesWhatTheShellAndSshWouldSplitOrExpand() {
    assertEquals("'/opt/my alknet'", SshConfigCommand.shellQuote("/opt/my alknet"));
    assertEquals("'it'\\''s'", SshConfigCommand.shellQuote("it's"));
    assertEquals("100%%", SshConfigCommand.shellQuote("100%"));
    assertEquals("alknet/ssh", SshConfigCommand.shellQuote("alknet/ssh"));
    assertTrue(BLOCK.contains("  HostKeyAlias alknet-node1\n"), BLOCK);
  }

  @Test
  void stockSshParsesTheBlock() throws Exception {
    assumeTrue(
        System.getenv("ALKNET_E2E_REQUIRE") != null || Files.isExecutable(Path.of("/usr/bin/ssh")),
        "ssh is not installed");
    Path cfg = Files.createTempFile("alknet-ssh-config", ".conf");
    Files.writeString(cfg, BLOCK);
    Process p =
        new ProcessBuilder("ssh", "-G", "-F", cfg.toString(), "alknet-node1")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(20, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    Map<String, String> resolved =
        out.lines()
            .map(l -> l.split(" ", 2))
            .filter(a -> a.length == 2)
            .collect(Collectors.toMap(a -> a[0], a -> a[1], (a, b) -> a));
    assertEquals("node1.example", resolved.get("hostname"));
    assertEquals("4433", resolved.get("port"));
    assertEquals("deploy", resolved.get("user"));
    assertEquals("alknet-node1", resolved.get("hostkeyalias"));
    assertEquals("/home/u/.alknet/id_ed25519", resolved.get("identityfile"));
    assertEquals("yes", resolved.get("identitiesonly"));
    assertEquals(SshConfigCommand.CIPHERS, resolved.get("ciphers"));
    assertTrue(
        resolved
            .get("proxycommand")
            .startsWith("'/opt/my alknet/bin/alknet' bridge --alpn alknet/ssh --tcp"),
        resolved.get("proxycommand"));
  }
}

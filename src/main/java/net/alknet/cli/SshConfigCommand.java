package net.alknet.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import net.alknet.node.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code alknet ssh-config}: an OpenSSH {@code Host} block that reaches a node (SSH-3). */
@Command(
    name = "ssh-config",
    mixinStandardHelpOptions = true,
    description = {
      "Print an OpenSSH Host block that connects to a node's SSH gateway (ALPN alknet/ssh)"
          + " through `alknet bridge` as ProxyCommand. Append it to ~/.ssh/config, then"
          + " `ssh ALIAS` (or `ssh -N -L 8080:127.0.0.1:80 ALIAS`)."
    })
public class SshConfigCommand implements Callable<Integer> {

  private static final Pattern ALIAS = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  @Mixin DataDirOption dataDir;

  @Option(
      names = "--alias",
      paramLabel = "NAME",
      description = "Host alias for ssh (default: alknet-<host>).")
  String alias;

  @Option(
      names = "--user",
      paramLabel = "USER",
      description = "SSH user name (default: $USER); alknet authenticates the key, not the name.")
  String user;

  @Option(
      names = "--launcher",
      paramLabel = "PATH",
      description =
          "The alknet command in ProxyCommand (default: the launcher that runs this command, else"
              + " `alknet` on PATH).")
  String launcher;

  @Mixin ConnectOptions connect;

  @Parameters(paramLabel = "HOST:PORT", description = "The node (port defaults to 4433).")
  String target;

  private final Node node;

  public SshConfigCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() {
    BridgeCommand.HostPort hp = BridgeCommand.HostPort.parse(target);
    String name = alias != null ? alias : "alknet-" + hp.host().replace(':', '-');
    if (!ALIAS.matcher(name).matches()) {
      throw new CliSupport.CliException(
          "bad alias '" + name + "': use letters, digits, '.', '_' or '-'");
    }
    Path dir = node.dataDir(dataDir.value());
    String command =
        launcher != null ? launcher : System.getenv().getOrDefault("ALKNET_LAUNCHER", "alknet");
    List<String> proxy = new ArrayList<>(List.of(command, "bridge", "--alpn", "alknet/ssh"));
    if (connect.tcp) {
      proxy.add("--tcp");
    }
    if (dataDir.value().isPresent()) {
      proxy.addAll(List.of("--data-dir", dir.toString()));
    }
    if (connect.fingerprint != null) {
      proxy.addAll(List.of("--fingerprint", connect.fingerprint));
    }
    if (connect.key != null) {
      proxy.addAll(List.of("--key", connect.key.toAbsolutePath().toString()));
    }
    if (connect.noKey) {
      proxy.add("--no-key");
    }
    System.out.print(
        render(
            name,
            hp,
            user != null ? user : System.getProperty("user.name", "alknet"),
            proxy,
            connect.keyFile(dir).toAbsolutePath()));
    return 0;
  }

  /** The cipher order of the block: the AEAD ciphers the gateway offers, AES-GCM first. */
  static final String CIPHERS =
      "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com";

  /** The block: the bridge as ProxyCommand, the alknet key as the only identity. */
  static String render(
      String alias, BridgeCommand.HostPort hp, String user, List<String> proxy, Path key) {
    StringBuilder b = new StringBuilder();
    b.append("# alknet node ")
        .append(hp.host())
        .append(':')
        .append(hp.port())
        .append(" (SSH gateway over ALPN alknet/ssh)\n");
    b.append("Host ").append(alias).append('\n');
    b.append("  HostName ").append(hp.host()).append('\n');
    b.append("  Port ").append(hp.port()).append('\n');
    b.append("  User ").append(user).append('\n');
    List<String> quoted = new ArrayList<>();
    proxy.forEach(a -> quoted.add(shellQuote(a)));
    b.append("  ProxyCommand ").append(String.join(" ", quoted)).append(" %h:%p\n");
    b.append("  IdentityFile ").append(sshQuote(key.toString())).append('\n');
    b.append("  IdentitiesOnly yes\n");
    // The node's SSH host key is remembered under the alias, not under whatever HostName is.
    b.append("  HostKeyAlias ").append(alias).append('\n');
    b.append("  ServerAliveInterval 30\n");
    // The gateway's SSH runs on the JVM, where AES-GCM (AES-NI intrinsics) costs a third of
    // ChaCha20-Poly1305: prefer it (docs/benchmarks.md, SSH gateway).
    b.append("  Ciphers ").append(CIPHERS).append('\n');
    return b.toString();
  }

  /** Quotes for the shell that runs ProxyCommand; '%' is doubled (ssh expands %-tokens). */
  static String shellQuote(String s) {
    String t = s.replace("%", "%%");
    if (t.matches("[A-Za-z0-9@%+=:,./_-]+")) {
      return t;
    }
    return "'" + t.replace("'", "'\\''") + "'";
  }

  private static String sshQuote(String s) {
    return s.matches("[^\\s\"]+") ? s : "\"" + s.replace("\"", "") + "\"";
  }
}

package net.alknet.ssh;

import java.io.IOException;
import java.util.Optional;
import net.alknet.auth.Identity;
import net.alknet.auth.Scopes;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;
import org.apache.sshd.server.shell.InteractiveProcessShellFactory;
import org.apache.sshd.server.shell.ProcessShellCommandFactory;
import org.apache.sshd.server.shell.ShellFactory;

/**
 * {@code exec} and {@code shell} requests: with {@code alknet.ssh.exec=true}, run as processes of
 * the node's own OS account (MINA's {@link ProcessShellCommandFactory}, and {@link
 * InteractiveProcessShellFactory} for a shell, without a terminal) for identities holding {@code
 * ssh:shell}; otherwise refused (the peer gets a request failure). No sandbox: whoever holds {@code
 * ssh:shell} can do what the node's account can.
 */
final class ShellAccess implements CommandFactory, ShellFactory {

  private final boolean enabled;
  private final SshDenials denials;
  private final CommandFactory commands = new ProcessShellCommandFactory();
  private final ShellFactory shells = InteractiveProcessShellFactory.INSTANCE;

  ShellAccess(boolean enabled, SshDenials denials) {
    this.enabled = enabled;
    this.denials = denials;
  }

  @Override
  public Command createCommand(ChannelSession channel, String command) throws IOException {
    return allowed(channel, SshDenials.Kind.EXEC, command)
        ? commands.createCommand(channel, command)
        : null;
  }

  @Override
  public Command createShell(ChannelSession channel) throws IOException {
    return allowed(channel, SshDenials.Kind.SHELL, "shell") ? shells.createShell(channel) : null;
  }

  private boolean allowed(ChannelSession channel, SshDenials.Kind kind, String what) {
    var session = channel.getSession();
    Optional<Identity> who = SshPeer.identity(session);
    String id = who.map(Identity::id).orElse("unauthenticated");
    if (!enabled) {
      denials.deny(session, kind, what, id, "exec and shell are disabled (alknet.ssh.exec)");
      return false;
    }
    if (who.isEmpty() || !who.get().hasScope(Scopes.SSH_SHELL)) {
      denials.deny(session, kind, what, id, "identity lacks scope " + Scopes.SSH_SHELL);
      return false;
    }
    return true;
  }
}

package net.alknet.ssh;

import java.io.IOException;
import net.alknet.auth.Identity;
import org.apache.sshd.common.Service;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.session.AbstractServerSession;
import org.apache.sshd.server.session.ServerConnectionService;
import org.apache.sshd.server.session.ServerConnectionServiceFactory;

/**
 * The {@code ssh-connection} service with a cap on the channels one session may have open: one more
 * is refused with {@code SSH_OPEN_RESOURCE_SHORTAGE} and the session goes on. (MINA's own {@code
 * max-concurrent-channels} setting ends the whole session instead, by an exception out of channel
 * registration, and lets one channel more through than it says.)
 */
final class ChannelLimit extends ServerConnectionServiceFactory {

  private final int max;
  private final SshDenials denials;

  ChannelLimit(int max, SshDenials denials) {
    if (max < 1) {
      throw new IllegalArgumentException("at least one channel: " + max);
    }
    this.max = max;
    this.denials = denials;
  }

  @Override
  public Service create(Session session) throws IOException {
    if (!(session instanceof AbstractServerSession server)) {
      throw new SshException("not a server session: " + session);
    }
    Limited service = new Limited(server);
    service.addPortForwardingEventListenerManager(this);
    return service;
  }

  private final class Limited extends ServerConnectionService {
    Limited(AbstractServerSession session) throws SshException {
      super(session);
    }

    @Override
    protected void channelOpen(Buffer buffer) throws Exception {
      if (getChannels().size() < max) {
        super.channelOpen(buffer);
        return;
      }
      int start = buffer.rpos();
      String type = buffer.getString();
      long sender = buffer.getUInt();
      buffer.rpos(start);
      Session session = getSession();
      String who = SshPeer.identity(session).map(Identity::id).orElse("unauthenticated");
      denials.deny(
          session,
          SshDenials.Kind.CHANNEL,
          type,
          who,
          "at most " + max + " channels per session (alknet.ssh.max-channels)");
      sendChannelOpenFailure(
          buffer,
          sender,
          SshConstants.SSH_OPEN_RESOURCE_SHORTAGE,
          "too many channels open (at most " + max + ")",
          "");
    }
  }
}

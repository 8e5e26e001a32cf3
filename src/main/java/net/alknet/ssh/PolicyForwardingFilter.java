package net.alknet.ssh;

import java.util.Objects;
import java.util.Optional;
import net.alknet.auth.Identity;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.forward.ForwardingFilter;

/**
 * MINA's forwarding hook backed by a {@link ForwardingPolicy}: {@code direct-tcpip} channels and
 * {@code tcpip-forward} requests are checked against the session's current identity; agent and X11
 * forwarding, and {@code forwarded-tcpip} channels opened by a client, are always refused. Each
 * refusal is recorded in {@link SshDenials}; MINA answers the peer with a channel open failure
 * ({@code administratively prohibited}) or a request failure.
 */
final class PolicyForwardingFilter implements ForwardingFilter {

  private final ForwardingPolicy policy;
  private final SshDenials denials;

  PolicyForwardingFilter(ForwardingPolicy policy, SshDenials denials) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.denials = Objects.requireNonNull(denials, "denials");
  }

  @Override
  public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
    String what = address == null ? "?" : address.getHostName() + ":" + address.getPort();
    if (type != Type.Direct || address == null) {
      return refuse(session, SshDenials.Kind.LOCAL_FORWARD, what, "not a direct-tcpip channel");
    }
    Optional<Identity> who = SshPeer.identity(session);
    if (who.isEmpty()) {
      return refuse(session, SshDenials.Kind.LOCAL_FORWARD, what, "key no longer authorized");
    }
    ForwardingPolicy.Decision d =
        policy.connect(who.get(), address.getHostName(), address.getPort());
    if (!d.allowed()) {
      denials.deny(session, SshDenials.Kind.LOCAL_FORWARD, what, who.get().id(), d.reason());
    }
    return d.allowed();
  }

  @Override
  public boolean canListen(SshdSocketAddress address, Session session) {
    String what = address == null ? "?" : address.getHostName() + ":" + address.getPort();
    Optional<Identity> who = SshPeer.identity(session);
    if (address == null || who.isEmpty()) {
      return refuse(session, SshDenials.Kind.REMOTE_FORWARD, what, "key no longer authorized");
    }
    ForwardingPolicy.Decision d =
        policy.listen(who.get(), address.getHostName(), address.getPort());
    if (!d.allowed()) {
      denials.deny(session, SshDenials.Kind.REMOTE_FORWARD, what, who.get().id(), d.reason());
    }
    return d.allowed();
  }

  @Override
  public boolean canForwardAgent(Session session, String requestType) {
    return refuse(session, SshDenials.Kind.AGENT, requestType, "agent forwarding is not offered");
  }

  @Override
  public boolean canForwardX11(Session session, String requestType) {
    return refuse(session, SshDenials.Kind.X11, requestType, "X11 forwarding is not offered");
  }

  private boolean refuse(Session session, SshDenials.Kind kind, String what, String reason) {
    String who = SshPeer.identity(session).map(Identity::id).orElse("unauthenticated");
    denials.deny(session, kind, what, who, reason);
    return false;
  }
}

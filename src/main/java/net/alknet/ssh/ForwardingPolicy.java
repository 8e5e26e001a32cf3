package net.alknet.ssh;

import java.util.Objects;
import net.alknet.auth.Identity;

/**
 * Decides each SSH port-forwarding request of an authenticated identity (SSH-2). Deny by default:
 * anything an implementation is unsure about is refused.
 *
 * <p>Implementations MUST be thread-safe and MUST NOT block (no I/O, no name resolution): they are
 * called on the session's reading thread.
 */
public interface ForwardingPolicy {

  /**
   * A {@code direct-tcpip} channel ({@code ssh -L}): may {@code identity} have the node connect to
   * {@code host:port}?
   *
   * @param host the host exactly as the client sent it (a name or an address literal)
   */
  Decision connect(Identity identity, String host, int port);

  /**
   * A {@code tcpip-forward} request ({@code ssh -R}): may {@code identity} have the node listen on
   * {@code bindHost:port} and forward what arrives back to it?
   *
   * @param bindHost the address as the client sent it ({@code localhost} by default in OpenSSH;
   *     empty or {@code *} for all interfaces)
   * @param port the port, 0 for one the node picks
   */
  Decision listen(Identity identity, String bindHost, int port);

  /**
   * A {@code direct-streamlocal@openssh.com} channel ({@code ssh -L ...:/path.sock}): may {@code
   * identity} have the node connect to the Unix socket at {@code path}? Default: no.
   *
   * @param path the path exactly as the client sent it
   */
  default Decision connectUnix(Identity identity, String path) {
    return Decision.deny("Unix socket forwarding is disabled");
  }

  /**
   * A {@code streamlocal-forward@openssh.com} request ({@code ssh -R /path.sock:...}): may {@code
   * identity} have the node listen on a Unix socket at {@code path}? Default: no.
   */
  default Decision listenUnix(Identity identity, String path) {
    return Decision.deny("Unix socket forwarding is disabled");
  }

  /** Refuses everything. */
  ForwardingPolicy DENY_ALL =
      new ForwardingPolicy() {
        @Override
        public Decision connect(Identity identity, String host, int port) {
          return Decision.deny("forwarding is disabled");
        }

        @Override
        public Decision listen(Identity identity, String bindHost, int port) {
          return Decision.deny("forwarding is disabled");
        }
      };

  /**
   * The outcome of one check.
   *
   * @param allowed whether the request may proceed
   * @param reason why it was denied (for the node's log, never sent to the peer); empty if allowed
   */
  record Decision(boolean allowed, String reason) {
    private static final Decision ALLOW = new Decision(true, "");

    public Decision {
      Objects.requireNonNull(reason, "reason");
    }

    public static Decision allow() {
      return ALLOW;
    }

    public static Decision deny(String reason) {
      return new Decision(false, reason);
    }
  }
}

package net.alknet.ssh;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import net.alknet.auth.Identity;
import net.alknet.auth.Scopes;

/**
 * The forwarding policy from static config ({@code alknet.ssh.forward.*}). Every forward needs
 * scope {@code ssh:forward}; then
 *
 * <ul>
 *   <li>{@code ssh -L}: the requested {@code host:port} must match one of the destination patterns
 *       ({@link HostPortPattern});
 *   <li>{@code ssh -R}: the bind address must be loopback ({@code localhost}, {@code 127.0.0.1},
 *       {@code ::1}; never all interfaces) and the port in one of the port ranges; port 0 (the node
 *       picks) only with {@code *}.
 * </ul>
 *
 * Immutable and thread-safe.
 */
public final class StaticForwardingPolicy implements ForwardingPolicy {

  private static final Set<String> LOOPBACK = Set.of("localhost", "127.0.0.1", "::1");

  private final List<HostPortPattern> destinations;
  private final List<PortRange> remotePorts;

  private StaticForwardingPolicy(List<HostPortPattern> destinations, List<PortRange> remotePorts) {
    this.destinations = List.copyOf(destinations);
    this.remotePorts = List.copyOf(remotePorts);
  }

  /**
   * Builds the policy from config values.
   *
   * @param destinations {@code host:port} patterns for {@code -L}; a single {@code none} for none
   * @param remotePorts port patterns for {@code -R}; empty or {@code none} for none
   * @throws IllegalArgumentException naming the first bad entry
   */
  public static StaticForwardingPolicy of(List<String> destinations, List<String> remotePorts) {
    List<HostPortPattern> d = new ArrayList<>();
    for (String s : destinations) {
      if (!isNone(s)) {
        d.add(HostPortPattern.parse(s));
      }
    }
    List<PortRange> r = new ArrayList<>();
    for (String s : remotePorts) {
      if (!isNone(s)) {
        r.add(PortRange.parse(s));
      }
    }
    return new StaticForwardingPolicy(d, r);
  }

  private static boolean isNone(String s) {
    return s.isBlank() || s.strip().equalsIgnoreCase("none");
  }

  @Override
  public Decision connect(Identity identity, String host, int port) {
    if (!identity.hasScope(Scopes.SSH_FORWARD)) {
      return Decision.deny("identity lacks scope " + Scopes.SSH_FORWARD);
    }
    for (HostPortPattern p : destinations) {
      if (p.matches(host, port)) {
        return Decision.allow();
      }
    }
    return Decision.deny("destination not in alknet.ssh.forward.allow-destinations");
  }

  @Override
  public Decision listen(Identity identity, String bindHost, int port) {
    if (!identity.hasScope(Scopes.SSH_FORWARD)) {
      return Decision.deny("identity lacks scope " + Scopes.SSH_FORWARD);
    }
    if (bindHost == null || !LOOPBACK.contains(bindHost.toLowerCase(Locale.ROOT))) {
      return Decision.deny("remote forwards may only listen on loopback");
    }
    for (PortRange r : remotePorts) {
      if (port == 0 ? r.equals(PortRange.ANY) : r.contains(port)) {
        return Decision.allow();
      }
    }
    return Decision.deny("port not in alknet.ssh.forward.allow-remote-ports");
  }

  @Override
  public String toString() {
    return "destinations " + destinations + ", remote ports " + remotePorts;
  }
}

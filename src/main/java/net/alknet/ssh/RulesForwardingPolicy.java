package net.alknet.ssh;

import java.util.Objects;
import java.util.function.Supplier;
import net.alknet.auth.Identity;

/**
 * The forwarding policy of the node: the rules of the static settings ({@code
 * alknet.ssh.forward.*}, for scope {@code ssh:forward}) followed by the rules of the dynamic-config
 * file {@code forwarding} in force at the time of each request, so a reload applies to the next
 * forward without a restart. Thread-safe; no I/O.
 */
public final class RulesForwardingPolicy implements ForwardingPolicy {

  private final ForwardingRules fixed;
  private final Supplier<ForwardingRules> dynamic;

  /**
   * @param fixed rules from static settings
   * @param dynamic the current dynamic rules (read per request)
   */
  public RulesForwardingPolicy(ForwardingRules fixed, Supplier<ForwardingRules> dynamic) {
    this.fixed = Objects.requireNonNull(fixed, "fixed");
    this.dynamic = Objects.requireNonNull(dynamic, "dynamic");
  }

  private ForwardingRules rules() {
    ForwardingRules d = dynamic.get();
    return d == null ? fixed : fixed.plus(d);
  }

  @Override
  public Decision connect(Identity identity, String host, int port) {
    return rules().connect(identity, host, port);
  }

  @Override
  public Decision listen(Identity identity, String bindHost, int port) {
    return rules().listen(identity, bindHost, port);
  }

  @Override
  public Decision connectUnix(Identity identity, String path) {
    return rules().connectUnix(identity, path);
  }

  @Override
  public Decision listenUnix(Identity identity, String path) {
    return rules().listenUnix(identity, path);
  }

  @Override
  public String toString() {
    return fixed + " + dynamic: " + dynamic.get();
  }
}

package net.alknet.config;

import java.time.Instant;
import net.alknet.auth.IdentityDirectory;
import net.alknet.ssh.ForwardingRules;

/**
 * One immutable snapshot of the dynamic config (CFG-2): identities and API keys, SSH forwarding
 * rules, git repository access; operation policies join it when they arrive. Swapped atomically as
 * a whole.
 *
 * @param identities authorized keys and API keys
 * @param forwarding the rules of the {@code forwarding} file
 * @param git git repository access rules and settings ({@code git_access})
 * @param generation 1 for the first load, +1 for every successful reload
 * @param loadedAt when this snapshot was built
 */
public record DynamicConfig(
    IdentityDirectory identities,
    ForwardingRules forwarding,
    GitAccess git,
    long generation,
    Instant loadedAt) {

  public static final DynamicConfig EMPTY =
      new DynamicConfig(
          IdentityDirectory.EMPTY, ForwardingRules.NONE, GitAccess.DEFAULT, 0, Instant.EPOCH);
}

package net.alknet.config;

import java.time.Instant;
import net.alknet.auth.IdentityDirectory;

/**
 * One immutable snapshot of the dynamic config (CFG-2): identities, API keys and git repository
 * access; forwarding and operation policies join it as their handlers arrive. Swapped atomically as
 * a whole.
 *
 * @param identities authorized keys and API keys
 * @param git git repository access rules and settings ({@code git_access})
 * @param generation 1 for the first load, +1 for every successful reload
 * @param loadedAt when this snapshot was built
 */
public record DynamicConfig(
    IdentityDirectory identities, GitAccess git, long generation, Instant loadedAt) {

  public static final DynamicConfig EMPTY =
      new DynamicConfig(IdentityDirectory.EMPTY, GitAccess.DEFAULT, 0, Instant.EPOCH);
}

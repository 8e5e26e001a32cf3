package net.alknet.git;

import java.io.IOException;
import java.util.List;
import org.eclipse.jgit.lib.BatchRefUpdate;
import org.eclipse.jgit.lib.NullProgressMonitor;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.ReceiveCommand;
import org.eclipse.jgit.transport.ReceiveCommandErrorHandler;
import org.eclipse.jgit.transport.ReceivePack;

/**
 * A {@link ReceivePack} that honours the client's {@code quiet} capability ({@code git push -q})
 * for the ref update too.
 *
 * <p>JGit keeps its "Resolving deltas" progress off for a quiet client, but still sends "Updating
 * references: 100% (1/1)" on the progress side band: its monitor prints as soon as the percentage
 * changes, whatever the start delay, and {@code executeCommands} does not look at {@code quiet}.
 * `git daemon`'s receive-pack prints nothing for {@code push -q}, so neither does this one. A
 * client that did not ask for quiet gets JGit's behaviour unchanged.
 */
final class QuietReceivePack extends ReceivePack {

  /** JGit's default handler (every method is an interface default): the refs are rejected. */
  private final ReceiveCommandErrorHandler errors = new ReceiveCommandErrorHandler() {};

  QuietReceivePack(Repository into) {
    super(into);
    setReceiveCommandErrorHandler(errors);
  }

  @Override
  protected void executeCommands() {
    if (!isQuiet()) {
      super.executeCommands();
      return;
    }
    List<ReceiveCommand> toApply = filterCommands(ReceiveCommand.Result.NOT_ATTEMPTED);
    if (toApply.isEmpty()) {
      return;
    }
    // The same batch as ReceivePack's own, without a progress monitor.
    BatchRefUpdate batch = getRepository().getRefDatabase().newBatchUpdate();
    batch.setAllowNonFastForwards(isAllowNonFastForwards());
    batch.setAtomic(isAtomic());
    batch.setRefLogIdent(getRefLogIdent());
    batch.setRefLogMessage("push", true);
    batch.addCommand(toApply);
    try {
      batch.setPushCertificate(getPushCertificate());
      batch.execute(getRevWalk(), NullProgressMonitor.INSTANCE);
    } catch (IOException e) {
      errors.handleBatchRefUpdateException(toApply, e);
    }
  }
}

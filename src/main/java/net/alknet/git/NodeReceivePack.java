package net.alknet.git;

import java.io.IOException;
import java.util.List;
import org.eclipse.jgit.lib.BatchRefUpdate;
import org.eclipse.jgit.lib.NullProgressMonitor;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.ReceiveCommand;
import org.eclipse.jgit.transport.ReceiveCommandErrorHandler;
import org.eclipse.jgit.transport.ReceivePack;
import org.eclipse.jgit.transport.TransferConfig;

/**
 * The node's {@link ReceivePack}: JGit's, with two differences.
 *
 * <ul>
 *   <li><b>Connectivity:</b> a push is accepted only if every object its new refs reach exists
 *       afterwards, as git's receive-pack always checks ({@link PushConnectivity}, in the same pass
 *       that indexes the pack). JGit checks this only with fsck on, by walking the new history
 *       again; without any check, a broken or hostile client could point a ref at a commit whose
 *       tree it never sent, and every later clone of the repository would fail.
 *   <li><b>Quiet:</b> it honours the client's {@code quiet} capability ({@code git push -q}) for
 *       the ref update too. JGit keeps its "Resolving deltas" progress off for a quiet client, but
 *       still sends "Updating references: 100% (1/1)": its monitor prints as soon as the percentage
 *       changes, whatever the start delay, and {@code executeCommands} does not look at {@code
 *       quiet}. {@code git daemon}'s receive-pack prints nothing for {@code push -q}, so neither
 *       does this one.
 * </ul>
 */
final class NodeReceivePack extends ReceivePack {

  /** JGit's default handler (every method is an interface default): the refs are rejected. */
  private final ReceiveCommandErrorHandler errors = new ReceiveCommandErrorHandler() {};

  NodeReceivePack(Repository into) {
    super(into);
    setReceiveCommandErrorHandler(errors);
    // JGit's fsck too when the repository's config asks for it (receive.fsckObjects).
    PushConnectivity connectivity =
        new PushConnectivity(new TransferConfig(into).newReceiveObjectChecker());
    setObjectChecker(connectivity); // sees every object of the pack as JGit parses it
    connectivityChecker = connectivity; // and then checks what they point at
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

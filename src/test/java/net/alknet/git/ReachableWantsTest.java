package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.transport.UploadPack;
import org.eclipse.jgit.transport.WantNotValidException;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wants by object id, as a partial clone's later fetches send them, in a repository without
 * bitmaps.
 */
class ReachableWantsTest {

  @TempDir Path tmp;

  /** A repository of three commits that change one file, plus a blob no ref reaches. */
  record Repo(Git git, List<RevCommit> commits, ObjectId dangling) {
    Repository repository() {
      return git.getRepository();
    }

    ObjectId blob(int commit, String path) throws Exception {
      try (TreeWalk tw = TreeWalk.forPath(repository(), path, commits.get(commit).getTree())) {
        return tw.getObjectId(0);
      }
    }
  }

  Repo repo() throws Exception {
    Git git = Git.init().setDirectory(tmp.resolve("r").toFile()).setInitialBranch("main").call();
    List<RevCommit> commits = new java.util.ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      Files.writeString(tmp.resolve("r/README"), "version " + i + "\n");
      git.add().addFilepattern("README").call();
      commits.add(git.commit().setMessage("c" + i).setSign(false).call());
    }
    ObjectId dangling;
    try (ObjectInserter ins = git.getRepository().newObjectInserter()) {
      dangling = ins.insert(Constants.OBJ_BLOB, "never reachable".getBytes(StandardCharsets.UTF_8));
      ins.flush();
    }
    return new Repo(git, commits, dangling);
  }

  UploadPack uploadPack(Repository r) throws Exception {
    UploadPack up = new UploadPack(r);
    up.setAdvertisedRefs(
        r.getRefDatabase().getRefs().stream()
            .collect(java.util.stream.Collectors.toMap(ref -> ref.getName(), ref -> ref)));
    return up;
  }

  @Test
  void aBlobOfAnOlderCommitIsReachableWhereJGitsOwnCheckSaysNo() throws Exception {
    Repo r = repo();
    ObjectId old = r.blob(0, "README");
    UploadPack up = uploadPack(r.repository());
    // Without bitmaps JGit only counts the tips' trees: it refuses the old blob.
    assertThrows(
        WantNotValidException.class,
        () -> new UploadPack.ReachableCommitRequestValidator().checkWants(up, List.of(old)));
    new ReachableWants().checkWants(up, List.of(old, r.blob(1, "README"), r.commits().get(0)));
  }

  @Test
  void aWalkWithoutBitmapsAsksForMaintenanceAndJGitsOwnAnswerDoesNot() throws Exception {
    Repo r = repo();
    UploadPack up = uploadPack(r.repository());
    java.util.concurrent.atomic.AtomicInteger asked =
        new java.util.concurrent.atomic.AtomicInteger();
    ReachableWants check = new ReachableWants(asked::incrementAndGet);
    check.checkWants(up, List.of(r.commits().get(r.commits().size() - 1))); // a tip: JGit says yes
    assertEquals(0, asked.get());
    check.checkWants(up, List.of(r.blob(0, "README"))); // an older blob: the walk
    assertEquals(1, asked.get());
    assertThrows(WantNotValidException.class, () -> check.checkWants(up, List.of(r.dangling())));
    assertEquals(2, asked.get(), "a refused want walks too, and asks again");
  }

  @Test
  void anObjectNoRefReachesIsRefused() throws Exception {
    Repo r = repo();
    UploadPack up = uploadPack(r.repository());
    WantNotValidException e =
        assertThrows(
            WantNotValidException.class,
            () -> new ReachableWants().checkWants(up, List.of(r.blob(0, "README"), r.dangling())));
    assertEquals(true, e.getMessage().contains(r.dangling().name()), e.getMessage());
    // An id that is not in the repository at all is refused too.
    ObjectId nowhere = ObjectId.fromString("0123456789abcdef0123456789abcdef01234567");
    assertEquals(
        nowhere,
        ReachableWants.firstUnreachable(
            r.repository().newObjectReader(),
            r.repository().getRefDatabase().getRefs(),
            List.of(nowhere)));
  }

  @Test
  void onlyTheVisibleRefsCount() throws Exception {
    Repo r = repo();
    ObjectId old = r.blob(0, "README");
    // Only a ref to the newest commit is visible, and the old blob is still in its history.
    assertEquals(
        null,
        ReachableWants.firstUnreachable(
            r.repository().newObjectReader(),
            List.of(r.repository().exactRef("refs/heads/main")),
            List.of(old)));
    // With no visible ref, nothing is reachable.
    assertEquals(
        old,
        ReachableWants.firstUnreachable(r.repository().newObjectReader(), List.of(), List.of(old)));
  }
}

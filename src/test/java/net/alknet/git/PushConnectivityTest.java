package net.alknet.git;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.eclipse.jgit.errors.CorruptObjectException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.internal.storage.file.FileRepository;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.NullProgressMonitor;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.ConnectivityChecker.ConnectivityCheckInfo;
import org.eclipse.jgit.transport.ReceiveCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The push connectivity check on raw objects, as JGit's pack parser hands them over. */
class PushConnectivityTest {

  @TempDir Path tmp;
  Repository repo;
  PushConnectivity check;
  final ObjectInserter.Formatter ids = new ObjectInserter.Formatter();

  @BeforeEach
  void open() throws Exception {
    repo = new FileRepository(tmp.resolve("r.git").toFile());
    repo.create(true);
    check = new PushConnectivity();
  }

  @AfterEach
  void close() {
    repo.close();
  }

  ObjectId receive(int type, byte[] raw) throws Exception {
    ObjectId id = ids.idFor(type, raw);
    check.check(id, type, raw);
    return id;
  }

  ObjectId receiveBlob(String content) {
    byte[] raw = content.getBytes(StandardCharsets.UTF_8);
    ObjectId id = ids.idFor(Constants.OBJ_BLOB, raw);
    var blob = check.newBlobObjectChecker();
    blob.update(raw, 0, raw.length);
    try {
      blob.endBlob(id);
    } catch (CorruptObjectException e) {
      throw new AssertionError(e);
    }
    return id;
  }

  /** An object already in the repository before the push. */
  ObjectId existing(int type, byte[] raw) throws Exception {
    try (ObjectInserter ins = repo.newObjectInserter()) {
      ObjectId id = ins.insert(type, raw);
      ins.flush();
      return id;
    }
  }

  static byte[] tree(Object... modeNameId) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < modeNameId.length; i += 3) {
      out.write((modeNameId[i] + " " + modeNameId[i + 1]).getBytes(StandardCharsets.US_ASCII));
      out.write(0);
      ((ObjectId) modeNameId[i + 2]).copyRawTo(out);
    }
    return out.toByteArray();
  }

  static byte[] commit(ObjectId tree, ObjectId... parents) {
    StringBuilder b = new StringBuilder("tree ").append(tree.name()).append('\n');
    for (ObjectId p : parents) {
      b.append("parent ").append(p.name()).append('\n');
    }
    b.append("author A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nmessage\n");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  void connect(ObjectId... newTips) throws Exception {
    ConnectivityCheckInfo info = new ConnectivityCheckInfo();
    info.setRepository(repo);
    List<ReceiveCommand> cmds = new java.util.ArrayList<>();
    int n = 0;
    for (ObjectId tip : newTips) {
      cmds.add(new ReceiveCommand(ObjectId.zeroId(), tip, "refs/heads/b" + n++));
    }
    info.setCommands(cmds);
    check.checkConnectivity(info, Set.of(), NullProgressMonitor.INSTANCE);
  }

  @Test
  void aWholeHistoryConnects() throws Exception {
    ObjectId blob = receiveBlob("hello");
    ObjectId sub = receive(Constants.OBJ_TREE, tree("100644", "a.txt", blob));
    ObjectId root = receive(Constants.OBJ_TREE, tree("40000", "dir", sub, "100755", "run", blob));
    ObjectId c1 = receive(Constants.OBJ_COMMIT, commit(root));
    ObjectId c2 = receive(Constants.OBJ_COMMIT, commit(root, c1));
    String tag = "object " + c2.name() + "\ntype commit\ntag v1\ntagger A <a@b> 1 +0000\n\nv1\n";
    ObjectId t = receive(Constants.OBJ_TAG, tag.getBytes(StandardCharsets.UTF_8));
    connect(c2, t);
    assertEquals(6, check.receivedCount());
  }

  @Test
  void objectsAlreadyInTheRepositoryCount() throws Exception {
    ObjectId blob = existing(Constants.OBJ_BLOB, "old".getBytes(StandardCharsets.UTF_8));
    ObjectId oldTree = existing(Constants.OBJ_TREE, tree("100644", "old.txt", blob));
    ObjectId c1 = existing(Constants.OBJ_COMMIT, commit(oldTree));
    ObjectId root =
        receive(Constants.OBJ_TREE, tree("100644", "old.txt", blob, "40000", "d", oldTree));
    connect(receive(Constants.OBJ_COMMIT, commit(root, c1)), c1);
  }

  interface Push {
    /** Receives some objects; returns the new ref value. */
    ObjectId tip() throws Exception;
  }

  void assertMissing(ObjectId missing, Push push) throws Exception {
    check = new PushConnectivity();
    ObjectId tip = push.tip();
    MissingObjectException e = assertThrows(MissingObjectException.class, () -> connect(tip));
    assertTrue(e.getMessage().contains(missing.name()), e.getMessage());
  }

  @Test
  void aMissingTreeBlobParentOrTagTargetIsRefused() throws Exception {
    ObjectId nowhere = ObjectId.fromString("0123456789abcdef0123456789abcdef01234567");
    assertMissing(nowhere, () -> receive(Constants.OBJ_COMMIT, commit(nowhere)));
    assertMissing(
        nowhere,
        () -> receive(Constants.OBJ_COMMIT, commit(receive(Constants.OBJ_TREE, tree()), nowhere)));
    for (String mode : List.of("100644", "100755", "120000", "40000")) {
      assertMissing(
          nowhere,
          () ->
              receive(
                  Constants.OBJ_COMMIT,
                  commit(receive(Constants.OBJ_TREE, tree(mode, "gone", nowhere)))));
    }
    String tag = "object " + nowhere.name() + "\ntype commit\ntag v1\n\nv1\n";
    assertMissing(
        nowhere, () -> receive(Constants.OBJ_TAG, tag.getBytes(StandardCharsets.US_ASCII)));
    // A ref set straight to an object nobody has.
    assertMissing(nowhere, () -> nowhere);
  }

  /**
   * Without fsck (git's default) a tree entry named ".git" passes, as through git receive-pack; a
   * repository with receive.fsckObjects gets JGit's fsck, which refuses it.
   */
  @Test
  void fsckRunsFirstWhenTheRepositoryAsksForIt() throws Exception {
    ObjectId blob = receiveBlob("x");
    byte[] hostile = tree("100644", ".git", blob);
    check.check(null, Constants.OBJ_TREE, hostile);
    PushConnectivity strict = new PushConnectivity(new org.eclipse.jgit.lib.ObjectChecker());
    assertThrows(
        CorruptObjectException.class, () -> strict.check(null, Constants.OBJ_TREE, hostile));
    byte[] modules = tree("100644", ".gitmodules", blob);
    strict.check(ids.idFor(Constants.OBJ_TREE, modules), Constants.OBJ_TREE, modules);
    assertEquals(1, strict.getGitsubmodules().size());
    assertEquals(0, check.getGitsubmodules().size());
  }

  @Test
  void submoduleCommitsAreNotRequired() throws Exception {
    ObjectId elsewhere = ObjectId.fromString("89abcdef0123456789abcdef0123456789abcdef");
    ObjectId root = receive(Constants.OBJ_TREE, tree("160000", "lib", elsewhere));
    connect(receive(Constants.OBJ_COMMIT, commit(root)));
  }

  @Test
  void malformedTruncatedAndHostileObjectsAreCorrupt() throws Exception {
    ObjectId blob = receiveBlob("x");
    byte[] good = tree("100644", "x", blob);
    List<byte[]> trees =
        List.of(
            java.util.Arrays.copyOf(good, good.length - 1), // id cut short
            java.util.Arrays.copyOf(good, 7), // name without its NUL
            "100644 x".getBytes(StandardCharsets.US_ASCII), // no NUL, no id
            " x\0aaaaaaaaaaaaaaaaaaaa".getBytes(StandardCharsets.ISO_8859_1), // no mode
            "10064z x\0aaaaaaaaaaaaaaaaaaaa".getBytes(StandardCharsets.ISO_8859_1), // bad mode
            "1006440000 x\0aaaaaaaaaaaaaaaaaaaa".getBytes(StandardCharsets.ISO_8859_1), // long mode
            "100644 \0aaaaaaaaaaaaaaaaaaaa".getBytes(StandardCharsets.ISO_8859_1)); // empty name
    for (byte[] raw : trees) {
      assertThrows(CorruptObjectException.class, () -> check.check(null, Constants.OBJ_TREE, raw));
    }
    List<String> commits =
        List.of(
            "",
            "tree ",
            "tree 0123\n",
            "tree 0123456789ABCDEF0123456789abcdef01234567\n", // upper case
            "tree 0123456789abcdef0123456789abcdef01234567", // no newline
            "parent 0123456789abcdef0123456789abcdef01234567\n", // no tree first
            "tree 0123456789abcdef0123456789abcdef01234567\nparent xyz\n");
    for (String raw : commits) {
      assertThrows(
          CorruptObjectException.class,
          () -> check.check(null, Constants.OBJ_COMMIT, raw.getBytes(StandardCharsets.US_ASCII)),
          raw);
    }
    assertThrows(
        CorruptObjectException.class,
        () -> check.check(null, Constants.OBJ_TAG, "type commit\n".getBytes()));
    assertThrows(CorruptObjectException.class, () -> check.check(null, 5, new byte[0]));
    // The empty tree is a valid tree.
    check.check(null, Constants.OBJ_TREE, new byte[0]);
  }

  @Test
  void aTreeOfCraftedIdsIsCheckedInLinearTime() throws Exception {
    // 300 000 entries whose ids share their first 16 bytes: a 10 MB tree that deflates to a few
    // hundred KB in a pack. Indexed by one word of the id, as JGit's ObjectIdSubclassMap does, the
    // set of referenced ids would compare each entry with all before it: 4.5e10 comparisons, many
    // minutes of the node's CPU for one push (a 100 000-entry tree took 9.3 s). Keyed hashing of
    // all 20 bytes keeps it at a few slots an entry.
    int n = 300_000;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] id = new byte[20];
    id[0] = 1;
    for (int i = 0; i < n; i++) {
      out.write(("100644 f" + i).getBytes(StandardCharsets.US_ASCII));
      out.write(0);
      id[16] = (byte) (i >>> 24);
      id[17] = (byte) (i >>> 16);
      id[18] = (byte) (i >>> 8);
      id[19] = (byte) i;
      out.write(id);
    }
    byte[] raw = out.toByteArray();
    ObjectId root =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            java.time.Duration.ofSeconds(60), () -> receive(Constants.OBJ_TREE, raw));
    assertEquals(n, check.referencedCount());
    assertTrue(check.referenceProbes() < 4L * n, "probes: " + check.referenceProbes());
    ObjectId tip = receive(Constants.OBJ_COMMIT, commit(root));
    assertThrows(MissingObjectException.class, () -> connect(tip));
  }
}

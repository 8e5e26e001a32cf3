package net.alknet.git;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.eclipse.jgit.errors.CorruptObjectException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.BlobObjectChecker;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectChecker;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.ProgressMonitor;
import org.eclipse.jgit.transport.ConnectivityChecker;
import org.eclipse.jgit.transport.ReceiveCommand;

/**
 * The connectivity check of one push, made in the pass that indexes its pack: the guarantee of git
 * receive-pack's {@code check_connected} (every object the updated refs reach exists afterwards)
 * without walking the new history a second time.
 *
 * <p>JGit hands every object of the pack to this checker as it parses it ({@link
 * #check(AnyObjectId, int, byte[])}, whole blobs through {@link #newBlobObjectChecker()}). It
 * remembers the ids received and the ids that commits (tree, parents), trees (entries, submodule
 * commits excepted) and tags (target) point at. When the pack is in, {@link #checkConnectivity}
 * requires each referenced id and each new ref value to have been received or to exist in the
 * repository already. By induction over the pack this is what walking from the new refs would
 * prove, given a repository that was whole before the push.
 *
 * <p>By itself this checker does not fsck: like git with {@code receive.fsckObjects} off (its
 * default), it accepts objects with odd but parseable content (old zero-padded file modes, unusual
 * identities), and refuses what it cannot parse, as git's connectivity walk would. A repository
 * whose config turns {@code receive.fsckObjects} (or {@code transfer.fsckObjects}) on gets JGit's
 * fsck first ({@code fsck}, given to the constructor).
 *
 * <p>One instance serves one push. Memory: one id per object of the pack and per distinct id it
 * references, in {@link IdSet}s: a peer chooses the ids its trees name, and sets keyed by a secret
 * mix of all 20 bytes keep crafted ids from turning the check quadratic.
 */
final class PushConnectivity extends ObjectChecker implements ConnectivityChecker {

  private static final byte[] TREE = "tree ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] PARENT = "parent ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] OBJECT = "object ".getBytes(StandardCharsets.US_ASCII);
  private static final int GITLINK = 0160000;

  private final ObjectChecker fsck; // null: none
  private final IdSet received = new IdSet();
  private final IdSet referenced = new IdSet();

  /** Connectivity only. */
  PushConnectivity() {
    this(null);
  }

  /**
   * @param fsck JGit's object checker to run on every object first, or null
   */
  PushConnectivity(ObjectChecker fsck) {
    this.fsck = fsck;
  }

  @Override
  public void check(AnyObjectId id, int objType, byte[] raw) throws CorruptObjectException {
    if (fsck != null) {
      fsck.check(id, objType, raw);
    }
    switch (objType) {
      case Constants.OBJ_COMMIT -> commit(raw);
      case Constants.OBJ_TREE -> tree(raw);
      case Constants.OBJ_TAG -> tag(raw);
      case Constants.OBJ_BLOB -> {}
      default -> throw new CorruptObjectException("unknown object type " + objType);
    }
    if (id != null) {
      received.add(id);
    }
  }

  @Override
  public BlobObjectChecker newBlobObjectChecker() {
    BlobObjectChecker inner = fsck == null ? null : fsck.newBlobObjectChecker();
    return new BlobObjectChecker() {
      @Override
      public void update(byte[] in, int offset, int len) {
        if (inner != null) {
          inner.update(in, offset, len);
        }
      }

      @Override
      public void endBlob(AnyObjectId id) throws CorruptObjectException {
        if (inner != null) {
          inner.endBlob(id);
        }
        received.add(id);
      }
    };
  }

  /** The .gitmodules files fsck found (ReceivePack validates them); none without fsck. */
  @Override
  public java.util.List<org.eclipse.jgit.lib.GitmoduleEntry> getGitsubmodules() {
    return fsck == null ? java.util.List.of() : fsck.getGitsubmodules();
  }

  private void commit(byte[] raw) throws CorruptObjectException {
    int p = headerId(raw, 0, TREE, "commit");
    while (startsWith(raw, p, PARENT)) {
      p = headerId(raw, p, PARENT, "commit");
    }
  }

  private void tag(byte[] raw) throws CorruptObjectException {
    headerId(raw, 0, OBJECT, "tag");
  }

  /** Reads {@code <name><40 hex>\n} at {@code p}; returns the position after it. */
  private int headerId(byte[] raw, int p, byte[] name, String what) throws CorruptObjectException {
    int hex = p + name.length;
    if (!startsWith(raw, p, name)
        || hex + Constants.OBJECT_ID_STRING_LENGTH >= raw.length
        || raw[hex + Constants.OBJECT_ID_STRING_LENGTH] != '\n') {
      throw new CorruptObjectException("invalid " + what + ": no valid '" + label(name) + "' line");
    }
    for (int i = hex; i < hex + Constants.OBJECT_ID_STRING_LENGTH; i++) {
      byte c = raw[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new CorruptObjectException("invalid " + what + ": bad object id");
      }
    }
    referenced.add(ObjectId.fromString(raw, hex));
    return hex + Constants.OBJECT_ID_STRING_LENGTH + 1;
  }

  private void tree(byte[] raw) throws CorruptObjectException {
    int p = 0;
    while (p < raw.length) {
      int mode = 0;
      int start = p;
      for (; p < raw.length && raw[p] != ' '; p++) {
        byte c = raw[p];
        if (c < '0' || c > '7' || p - start >= 7) {
          throw new CorruptObjectException("invalid tree: bad file mode");
        }
        mode = mode * 8 + (c - '0');
      }
      if (p == start || p >= raw.length) {
        throw new CorruptObjectException("invalid tree: truncated entry");
      }
      p++; // the space
      int name = p;
      while (p < raw.length && raw[p] != 0) {
        p++;
      }
      if (p == name || p + 1 + Constants.OBJECT_ID_LENGTH > raw.length) {
        throw new CorruptObjectException("invalid tree: truncated entry");
      }
      p++; // the NUL
      if (mode != GITLINK) {
        referenced.addRaw(raw, p);
      }
      p += Constants.OBJECT_ID_LENGTH;
    }
  }

  private static boolean startsWith(byte[] raw, int p, byte[] prefix) {
    if (p + prefix.length > raw.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (raw[p + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static String label(byte[] name) {
    return new String(name, StandardCharsets.US_ASCII).strip();
  }

  @Override
  public void checkConnectivity(ConnectivityCheckInfo info, Set<ObjectId> haves, ProgressMonitor pm)
      throws IOException {
    try (ObjectReader reader = info.getRepository().newObjectReader()) {
      for (ReceiveCommand cmd : info.getCommands()) {
        if (cmd.getResult() == ReceiveCommand.Result.NOT_ATTEMPTED
            && cmd.getType() != ReceiveCommand.Type.DELETE) {
          need(reader, cmd.getNewId());
        }
      }
      for (ObjectId id : referenced) {
        need(reader, id);
      }
    }
  }

  private void need(ObjectReader reader, AnyObjectId id) throws IOException {
    if (!received.contains(id) && !reader.has(id)) {
      throw new MissingObjectException(id.copy(), "object");
    }
  }

  /** Distinct ids referenced so far (tests). */
  int referencedCount() {
    return referenced.size();
  }

  /** Slots the set of referenced ids looked at so far (tests). */
  long referenceProbes() {
    return referenced.probes();
  }

  /** Objects received so far (tests). */
  int receivedCount() {
    return received.size();
  }
}

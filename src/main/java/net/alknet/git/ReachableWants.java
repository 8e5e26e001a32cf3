package net.alknet.git;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.errors.PackProtocolException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.revwalk.ObjectWalk;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.transport.UploadPack;
import org.eclipse.jgit.transport.WantNotValidException;

/**
 * Lets a client ask for any object a visible ref reaches, not only the advertised tips: what a
 * partial clone ({@code git clone --filter=blob:none}) needs when it later fetches a blob it left
 * out. Unreachable objects (a force-pushed-away commit, a dangling blob) are refused.
 *
 * <p>JGit's own check ({@link UploadPack.ReachableCommitRequestValidator}) is exact with a bitmap
 * index, which node maintenance writes. Without one it only counts objects in the tips' own trees
 * as reachable, so a blob of an older commit would be refused: there this class walks every object
 * the visible refs reach, stopping as soon as each wanted object was seen. That walk costs what a
 * clone of the same repository without bitmaps costs upload-pack anyway. A client can ask for that
 * walk again and again with wants it knows to be invalid, so each one also asks for maintenance
 * ({@code noBitmaps}), which writes the bitmap index that makes JGit's check exact.
 */
final class ReachableWants implements UploadPack.RequestValidator {

  private final UploadPack.RequestValidator jgit = new UploadPack.ReachableCommitRequestValidator();
  private final Runnable noBitmaps;

  /** With nothing to do when a walk was needed (tests). */
  ReachableWants() {
    this(() -> {});
  }

  /**
   * @param noBitmaps run (it must not block) when the repository had no bitmap index and the walk
   *     was needed
   */
  ReachableWants(Runnable noBitmaps) {
    this.noBitmaps = noBitmaps;
  }

  @Override
  public void checkWants(UploadPack up, List<ObjectId> wants)
      throws PackProtocolException, IOException {
    try {
      jgit.checkWants(up, wants);
      return;
    } catch (WantNotValidException e) {
      if (up.getRevWalk().getObjectReader().getBitmapIndex() != null) {
        throw e; // exact: really unreachable
      }
    }
    noBitmaps.run();
    ObjectId missing = firstUnreachable(up.getRevWalk().getObjectReader(), refs(up), wants);
    if (missing != null) {
      throw new WantNotValidException(missing);
    }
  }

  private static Iterable<Ref> refs(UploadPack up) {
    Map<String, Ref> refs = up.getAdvertisedRefs();
    return refs == null ? List.of() : refs.values();
  }

  /** The first of {@code wants} that no ref in {@code refs} reaches, or null if all are reached. */
  static ObjectId firstUnreachable(ObjectReader reader, Iterable<Ref> refs, List<ObjectId> wants)
      throws IOException {
    // Peer-chosen ids: kept in keyed sets (IdSet), not in hash tables of their own hash codes.
    IdSet wanted = new IdSet(wants.size());
    for (ObjectId w : wants) {
      wanted.add(w);
    }
    IdSet found = new IdSet(wants.size());
    try (ObjectWalk walk = new ObjectWalk(reader)) {
      walk.setRetainBody(false);
      for (Ref ref : refs) {
        ObjectId id = ref.getObjectId();
        if (id == null) {
          continue;
        }
        if (wanted.contains(id)) {
          found.add(id);
        }
        try {
          walk.markStart(walk.parseAny(id));
        } catch (MissingObjectException e) {
          // A ref to a missing object reaches nothing.
        }
      }
      RevObject o;
      while (found.size() < wanted.size() && (o = walk.next()) != null) {
        if (wanted.contains(o)) {
          found.add(o);
        }
      }
      while (found.size() < wanted.size() && (o = walk.nextObject()) != null) {
        if (wanted.contains(o)) {
          found.add(o);
        }
      }
    }
    for (ObjectId w : wants) {
      if (!found.contains(w)) {
        return w;
      }
    }
    return null;
  }
}

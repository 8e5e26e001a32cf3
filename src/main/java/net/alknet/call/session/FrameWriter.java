package net.alknet.call.session;

import java.io.IOException;
import java.io.OutputStream;
import net.alknet.call.wire.Envelope;
import net.alknet.call.wire.EnvelopeCodec;
import net.alknet.call.wire.FrameCodec;
import org.jboss.logging.Logger;

/**
 * Writes frames to one stream, one at a time. A write blocks while the peer is slow (transport flow
 * control): callers are worker threads, never event loops. After a write failure the writer is dead
 * and drops further frames (the connection is going away).
 */
final class FrameWriter {

  private static final Logger LOG = Logger.getLogger(FrameWriter.class);

  private final OutputStream out;
  private volatile boolean dead;

  FrameWriter(OutputStream out) {
    this.out = out;
  }

  /** Sends a frame; returns false if the stream is gone. */
  boolean send(Envelope e) {
    if (dead) {
      return false;
    }
    byte[] body = EnvelopeCodec.encode(e);
    synchronized (this) {
      try {
        FrameCodec.write(out, body);
        return true;
      } catch (IOException ex) {
        dead = true;
        LOG.debugf("call stream write failed: %s", ex.getMessage());
        return false;
      }
    }
  }

  boolean isDead() {
    return dead;
  }

  void close() {
    dead = true;
    try {
      out.close();
    } catch (IOException ignored) {
      // already gone
    }
  }
}

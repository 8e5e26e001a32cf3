package net.alknet.ssh.io;

import org.apache.sshd.common.io.AbstractIoWriteFuture;
import org.apache.sshd.common.util.buffer.Buffer;

/**
 * One queued write of a {@link StreamIoSession}: a buffer, or (with no buffer) the marker that
 * finishes the output. Completed by the session's writer thread once the bytes were handed to the
 * transport, or failed with the reason they never will be.
 */
final class StreamWriteFuture extends AbstractIoWriteFuture {

  private final Buffer buffer;
  private final int length;

  StreamWriteFuture(Object id, Buffer buffer) {
    super(id, null);
    this.buffer = buffer;
    this.length = buffer == null ? 0 : buffer.available();
  }

  /** The bytes to write; MINA does not touch the buffer until this future is done. */
  Buffer buffer() {
    return buffer;
  }

  /** Bytes this write adds to the session's queue. */
  int length() {
    return length;
  }

  /** Whether this is the marker that finishes the output rather than a write. */
  boolean finishesOutput() {
    return buffer == null;
  }

  void setWritten() {
    setValue(Boolean.TRUE);
  }

  void fail(Throwable reason) {
    setValue(reason);
  }
}

package net.alknet.ssh.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;

/**
 * Two connected in-memory {@link Duplex}es for tests: what one writes the other reads, through a
 * bounded buffer per direction (a writer blocks while it is full, like a transport window). {@code
 * close()} finishes the output and stops reading; {@code abort()} breaks both directions.
 */
public final class MemoryDuplex implements Duplex {

  /** One direction: a bounded ring buffer. */
  static final class Pipe {
    private final byte[] ring;
    private int head;
    private int count;
    private boolean finished; // writer closed: reader gets -1 after the data
    private boolean readerGone; // reader stopped: writer fails
    private String broken; // aborted: both fail

    Pipe(int capacity) {
      ring = new byte[capacity];
    }

    synchronized int read(byte[] b, int off, int len) throws IOException {
      while (count == 0) {
        if (broken != null) {
          throw new IOException(broken);
        }
        if (readerGone) {
          throw new IOException("input closed");
        }
        if (finished) {
          return -1;
        }
        await();
      }
      if (broken != null) {
        throw new IOException(broken);
      }
      int n = Math.min(len, count);
      for (int i = 0; i < n; i++) {
        b[off + i] = ring[(head + i) % ring.length];
      }
      head = (head + n) % ring.length;
      count -= n;
      notifyAll();
      return n;
    }

    synchronized void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        while (count == ring.length && broken == null && !readerGone && !finished) {
          await();
        }
        if (broken != null || readerGone || finished) {
          throw new IOException(broken != null ? broken : "pipe closed");
        }
        int n = Math.min(len, ring.length - count);
        for (int i = 0; i < n; i++) {
          ring[(head + count + i) % ring.length] = b[off + i];
        }
        count += n;
        off += n;
        len -= n;
        notifyAll();
      }
    }

    /** All of it if it fits now, else nothing. */
    synchronized boolean tryWrite(byte[] b, int off, int len) throws IOException {
      if (broken != null || readerGone || finished) {
        throw new IOException(broken != null ? broken : "pipe closed");
      }
      if (len > ring.length - count) {
        return false;
      }
      write(b, off, len);
      return true;
    }

    synchronized void finish() {
      finished = true;
      notifyAll();
    }

    synchronized void stopReading() {
      readerGone = true;
      count = 0;
      notifyAll();
    }

    synchronized void breakPipe(String why) {
      if (broken == null) {
        broken = why;
      }
      notifyAll();
    }

    private void await() throws InterruptedIOException {
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted");
      }
    }
  }

  private final Pipe in;
  private final Pipe out;
  private final String name;
  private final boolean nonBlockingWrites;
  final java.util.concurrent.atomic.AtomicInteger triedWrites =
      new java.util.concurrent.atomic.AtomicInteger();
  final java.util.concurrent.atomic.AtomicInteger directWrites =
      new java.util.concurrent.atomic.AtomicInteger();

  private MemoryDuplex(Pipe in, Pipe out, String name, boolean nonBlockingWrites) {
    this.in = in;
    this.out = out;
    this.name = name;
    this.nonBlockingWrites = nonBlockingWrites;
  }

  /**
   * Two ends, each direction buffering at most {@code capacity} bytes; {@link #tryWrite} takes what
   * fits (as an endpoint stream does).
   */
  public static MemoryDuplex[] pair(int capacity) {
    return pair(capacity, true);
  }

  /** As {@link #pair(int)}; {@code nonBlockingWrites} false: {@link #tryWrite} never writes. */
  public static MemoryDuplex[] pair(int capacity, boolean nonBlockingWrites) {
    Pipe ab = new Pipe(capacity);
    Pipe ba = new Pipe(capacity);
    return new MemoryDuplex[] {
      new MemoryDuplex(ba, ab, "a", nonBlockingWrites), new MemoryDuplex(ab, ba, "b", true)
    };
  }

  @Override
  public boolean tryWrite(byte[] b, int off, int len) throws IOException {
    triedWrites.incrementAndGet();
    if (!nonBlockingWrites || !out.tryWrite(b, off, len)) {
      return false;
    }
    directWrites.incrementAndGet();
    return true;
  }

  @Override
  public InputStream input() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return len == 0 ? 0 : in.read(b, off, len);
      }
    };
  }

  @Override
  public OutputStream output() {
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
      }

      @Override
      public void close() {
        out.finish();
      }
    };
  }

  @Override
  public void close() {
    out.finish();
    in.stopReading();
  }

  @Override
  public void abort() {
    in.breakPipe("aborted");
    out.breakPipe("aborted");
  }

  @Override
  public String toString() {
    return "memory-" + name;
  }
}

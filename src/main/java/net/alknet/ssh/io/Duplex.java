package net.alknet.ssh.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import net.alknet.endpoint.CloseCode;
import net.alknet.endpoint.Connection;
import net.alknet.endpoint.Stream;

/**
 * The byte transport under one SSH session: blocking input and output plus the two ways to end
 * them. An endpoint {@link Stream} in production, an in-memory pipe in tests.
 *
 * <p>Threading: one thread reads while another writes. {@link #close()} and {@link #abort()} may be
 * called from any thread and MUST unblock a thread blocked in a read or write of this duplex (it
 * then fails with an {@link java.io.IOException}).
 */
public interface Duplex {

  /** Bytes from the peer; {@code read} returns -1 once the peer finished its side. */
  InputStream input();

  /** Bytes to the peer; {@code close()} finishes this side after the bytes written so far. */
  OutputStream output();

  /**
   * Writes all of {@code b[off..off+len)} if that cannot block, else nothing (false); see {@link
   * Stream#tryWrite}. Never true by default.
   */
  default boolean tryWrite(byte[] b, int off, int len) throws IOException {
    return false;
  }

  /** Finishes the output after the bytes written so far and stops reading. Idempotent. */
  void close();

  /** Abandons both directions at once (a reset). Idempotent. */
  void abort();

  /** The duplex of an endpoint stream. */
  static Duplex of(Stream stream) {
    return new Duplex() {
      @Override
      public InputStream input() {
        return stream.input();
      }

      @Override
      public OutputStream output() {
        return stream.output();
      }

      @Override
      public boolean tryWrite(byte[] b, int off, int len) throws IOException {
        return stream.tryWrite(b, off, len);
      }

      @Override
      public void close() {
        stream.close();
      }

      @Override
      public void abort() {
        stream.abort();
      }

      @Override
      public String toString() {
        return "stream " + stream.id() + " of " + stream.connection().id();
      }
    };
  }

  /**
   * The duplex of the one stream a client opened on its connection: ending it (close or abort) ends
   * the connection too.
   */
  static Duplex ofConnection(Connection connection, Stream stream) {
    return new Duplex() {
      @Override
      public InputStream input() {
        return stream.input();
      }

      @Override
      public OutputStream output() {
        return stream.output();
      }

      @Override
      public void close() {
        stream.close();
        connection.close(CloseCode.NO_ERROR, "");
      }

      @Override
      public void abort() {
        stream.abort();
        connection.close(CloseCode.NO_ERROR, "");
      }
    };
  }
}

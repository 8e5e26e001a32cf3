package net.alknet.endpoint;

import java.io.Closeable;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * One bidirectional byte stream of a {@link Connection}: a QUIC stream, or the whole TLS/TCP
 * connection.
 *
 * <p>Threading: {@link #input()} and {@link #output()} are blocking and MUST NOT be used on a
 * Netty/Vert.x event loop (they throw {@link IllegalStateException} if they are). One thread may
 * read while another writes.
 *
 * <p>Bounds: the endpoint buffers at most the configured stream buffer size of unread input per
 * stream; past that it stops reading from the transport, so the peer is held back by QUIC or TCP
 * flow control. Writes block while the transport's outbound buffer is above its high watermark.
 *
 * <p>Ownership: the handler that accepted or opened the stream closes it. Closing the connection
 * closes all its streams.
 */
public interface Stream extends Closeable {

  /** Transport stream id (QUIC stream id; 0 for TLS/TCP). */
  long id();

  /** The connection this stream belongs to. */
  Connection connection();

  /**
   * Bytes from the peer. {@code read} returns -1 once the peer finished its side (QUIC FIN or TLS
   * close_notify/TCP FIN) and throws {@link java.io.IOException} if the stream was reset or the
   * connection closed.
   */
  InputStream input();

  /**
   * Bytes to the peer. Each {@code write} is handed to the transport at once (no extra buffering);
   * {@code close()} finishes this side (QUIC FIN, TLS close_notify) after pending bytes are sent.
   */
  OutputStream output();

  /**
   * Writes all of {@code b[off..off+len)} if the transport takes it now without blocking, as {@code
   * output().write} would; else writes nothing and returns false (then write through {@link
   * #output()}, which waits for room). For a writer that must not block its thread, e.g. a shared
   * pool thread, and would otherwise hand every chunk to a thread of its own.
   *
   * @throws java.io.IOException if the stream's output is closed or the stream failed
   */
  default boolean tryWrite(byte[] b, int off, int len) throws java.io.IOException {
    return false;
  }

  /** Abandons the stream in both directions (QUIC reset; for TLS/TCP, closes the connection). */
  void abort();

  /** Finishes the output side and stops reading. Idempotent. */
  @Override
  void close();
}

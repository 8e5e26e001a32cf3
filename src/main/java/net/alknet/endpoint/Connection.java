package net.alknet.endpoint;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * One authenticated-transport connection (QUIC or TLS 1.3 over TCP) whose ALPN is settled.
 *
 * <p>Over QUIC a connection carries many bidirectional streams that either side may open. Over
 * TLS/TCP it carries exactly one stream: the first {@link #acceptStream()} or {@link #openStream()}
 * returns it, and any later {@code openStream()} fails.
 *
 * <p>Methods are thread-safe. {@link #acceptStream()} blocks and MUST NOT be called on an event
 * loop.
 */
public interface Connection {

  /** Short id used in every log line about this connection (e.g. {@code c-3f9a01b2}). */
  String id();

  /** The negotiated ALPN (for a TLS client that offered none, the configured default ALPN). */
  String alpn();

  /** QUIC or TCP. */
  Transport transport();

  /** The peer's UDP or TCP address. */
  InetSocketAddress remoteAddress();

  /** The peer's TLS certificate, if it presented one. */
  Optional<X509Certificate> peerCertificate();

  /**
   * Waits for the next stream the peer opens.
   *
   * @return the stream, or {@code null} once the connection is closed and no more streams can
   *     arrive
   * @throws InterruptedException if the waiting thread is interrupted (the endpoint interrupts
   *     handler threads when their connection closes)
   */
  Stream acceptStream() throws IOException, InterruptedException;

  /** Opens a new stream to the peer (TLS/TCP: returns the one stream if it is still unclaimed). */
  Stream openStream() throws IOException;

  /**
   * Closes the connection with a code and a short reason (the reason is sent to the peer over QUIC:
   * never put internal details in it). Idempotent.
   */
  void close(CloseCode code, String reason);

  /** Whether the connection is still open. */
  boolean isOpen();

  /** Completes (never exceptionally) when the connection is closed, with why. */
  CompletionStage<CloseInfo> closed();

  /**
   * Why a connection ended.
   *
   * @param code our close code, or {@code null} if the peer used a code we do not know
   * @param rawCode the numeric code (-1 when the transport gave none, e.g. TCP)
   * @param byPeer whether the peer closed it
   * @param reason the reason text (may be empty)
   */
  record CloseInfo(CloseCode code, long rawCode, boolean byPeer, String reason) {}
}

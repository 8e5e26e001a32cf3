package net.alknet.endpoint;

/**
 * Application close codes an alknet endpoint sends when it closes a connection. Over QUIC the code
 * travels in the CONNECTION_CLOSE frame (application close) with the reason text; over TLS/TCP
 * there is no code on the wire, the connection ends with a TLS {@code close_notify}.
 */
public enum CloseCode {
  /** The handler finished with the connection. */
  NO_ERROR(0x0),
  /** The node is shutting down (EP-7): in-flight work was given the grace period. */
  SHUTDOWN(0x1),
  /** The handler failed; details are in the node's log, never sent to the peer. */
  INTERNAL_ERROR(0x2),
  /** A limit was exceeded (connections, connections per address, streams). */
  LIMIT_EXCEEDED(0x3),
  /** Nothing was received for the configured idle timeout. */
  IDLE_TIMEOUT(0x4),
  /** The negotiated ALPN (or the default ALPN) has no enabled handler. */
  NO_HANDLER(0x5),
  /** The peer violated the protocol of the handler. */
  PROTOCOL_ERROR(0x6);

  private final int code;

  CloseCode(int code) {
    this.code = code;
  }

  /** The numeric code sent in a QUIC application CONNECTION_CLOSE frame. */
  public int code() {
    return code;
  }

  /** The close code for a numeric value, or {@code null} if it is not one of ours. */
  public static CloseCode of(int code) {
    for (CloseCode c : values()) {
      if (c.code == code) {
        return c;
      }
    }
    return null;
  }
}

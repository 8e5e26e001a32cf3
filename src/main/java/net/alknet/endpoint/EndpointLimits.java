package net.alknet.endpoint;

import java.time.Duration;

/**
 * Resource limits of an endpoint (EP-5, EP-6). Every value is validated eagerly.
 *
 * @param maxConnections open connections over both transports; more are refused at once
 * @param maxConnectionsPerAddress open connections from one source IP address
 * @param handshakeTimeout a connection whose TLS handshake has not finished by then is closed
 * @param idleTimeout a connection that has received nothing for this long is closed
 * @param maxStreamsPerConnection concurrent bidirectional streams a QUIC peer may open
 * @param streamBufferBytes unread input buffered per stream before reading from the transport
 *     stops; also the QUIC per-stream flow-control window and the TCP/QUIC write high watermark
 */
public record EndpointLimits(
    int maxConnections,
    int maxConnectionsPerAddress,
    Duration handshakeTimeout,
    Duration idleTimeout,
    int maxStreamsPerConnection,
    int streamBufferBytes) {

  /** Defaults sized for a small self-hosted node. */
  public static final EndpointLimits DEFAULTS =
      new EndpointLimits(1024, 64, Duration.ofSeconds(10), Duration.ofMinutes(5), 100, 256 * 1024);

  public EndpointLimits {
    positive("maxConnections", maxConnections);
    positive("maxConnectionsPerAddress", maxConnectionsPerAddress);
    positive("maxStreamsPerConnection", maxStreamsPerConnection);
    if (streamBufferBytes < 4096) {
      throw new IllegalArgumentException(
          "streamBufferBytes must be >= 4096, was " + streamBufferBytes);
    }
    if (handshakeTimeout == null || handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
      throw new IllegalArgumentException(
          "handshakeTimeout must be positive, was " + handshakeTimeout);
    }
    if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idleTimeout must be positive, was " + idleTimeout);
    }
  }

  private static void positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
  }

  public EndpointLimits withMaxConnections(int max, int perAddress) {
    return new EndpointLimits(
        max, perAddress, handshakeTimeout, idleTimeout, maxStreamsPerConnection, streamBufferBytes);
  }

  public EndpointLimits withTimeouts(Duration handshake, Duration idle) {
    return new EndpointLimits(
        maxConnections,
        maxConnectionsPerAddress,
        handshake,
        idle,
        maxStreamsPerConnection,
        streamBufferBytes);
  }

  public EndpointLimits withStreams(int maxStreams, int bufferBytes) {
    return new EndpointLimits(
        maxConnections,
        maxConnectionsPerAddress,
        handshakeTimeout,
        idleTimeout,
        maxStreams,
        bufferBytes);
  }
}

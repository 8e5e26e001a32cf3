package net.alknet.endpoint;

/** The two transports an alknet endpoint serves on its one port number (EP-1). */
public enum Transport {
  /** QUIC v1 over UDP: many bidirectional streams per connection. */
  QUIC,
  /** TLS 1.3 over TCP: exactly one stream per connection. */
  TCP;

  /** Lower-case name used in logs, metrics tags and the CLI. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}

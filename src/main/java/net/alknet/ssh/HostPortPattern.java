package net.alknet.ssh;

import java.util.Locale;

/**
 * A destination pattern of the forwarding policy: {@code host:port}. The host is {@code *} or is
 * matched literally against what the client asked for, ignoring case, so {@code 127.0.0.1} does not
 * match {@code 127.1} nor a name that resolves to it (deny by default; no DNS at check time). IPv6
 * literals are written in brackets ({@code [::1]:22}); the port is a {@link PortRange}.
 */
record HostPortPattern(String host, PortRange ports) {

  /** Whether {@code host:port} as requested by a client matches. */
  boolean matches(String requestedHost, int port) {
    if (!ports.contains(port) || requestedHost == null) {
      return false;
    }
    return host.equals("*") || host.equals(normalize(requestedHost));
  }

  /**
   * Parses one pattern.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  static HostPortPattern parse(String s) {
    String t = s.strip();
    String host;
    String port;
    if (t.startsWith("[")) {
      int end = t.indexOf(']');
      if (end < 0 || end + 1 >= t.length() || t.charAt(end + 1) != ':') {
        throw new IllegalArgumentException("bad destination '" + s + "': expected [v6]:port");
      }
      host = t.substring(1, end);
      port = t.substring(end + 2);
    } else {
      int colon = t.lastIndexOf(':');
      if (colon < 0 || t.indexOf(':') != colon) {
        throw new IllegalArgumentException(
            "bad destination '" + s + "': expected host:port (IPv6 in brackets)");
      }
      host = t.substring(0, colon);
      port = t.substring(colon + 1);
    }
    if (host.isEmpty() || host.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
      throw new IllegalArgumentException("bad destination '" + s + "': empty or invalid host");
    }
    try {
      return new HostPortPattern(normalize(host), PortRange.parse(port));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad destination '" + s + "': " + e.getMessage());
    }
  }

  private static String normalize(String host) {
    return host.toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + ports;
  }
}

package net.alknet.ssh;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * A destination pattern of the forwarding policy: {@code host:port}. The host is {@code *} or is
 * matched literally against what the client asked for, ignoring case, so {@code 127.0.0.1} does not
 * match {@code 127.1} nor a name that resolves to it (deny by default; no DNS at check time). IPv6
 * literals are written in brackets ({@code [::1]:22}) and compared in their canonical form (so
 * {@code [::1]} matches a client's {@code 0:0:0:0:0:0:0:1}); the port is a {@link PortRange}.
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

  /**
   * Lower case; an IPv6 literal in its one canonical text (RFC 5952: {@code ::1}, whether the
   * client wrote {@code ::1}, {@code 0:0:0:0:0:0:0:1} as Java prints it, or upper case), and an
   * IPv4-mapped one as the IPv4 address it reaches. Never a DNS lookup: only a string of hex
   * digits, colons and dots with a colon in it is parsed, and such a string is a literal.
   */
  static String normalize(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.indexOf(':') < 0
        || !h.chars()
            .allMatch(
                c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.')) {
      return h; // a name, IPv4, or a scoped literal (fe80::1%eth0): compared as written
    }
    try {
      // In brackets the JDK parses an IPv6 literal or refuses: it never looks a name up.
      InetAddress a = InetAddress.getByName("[" + h + "]");
      return a instanceof Inet6Address ? canonical(a.getAddress()) : a.getHostAddress();
    } catch (UnknownHostException notALiteral) {
      return h;
    }
  }

  /**
   * RFC 5952 text of 16 bytes: no leading zeros, the longest run of two or more zero groups as ::.
   */
  private static String canonical(byte[] a) {
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = (a[2 * i] & 0xff) << 8 | (a[2 * i + 1] & 0xff);
    }
    int bestStart = -1;
    int bestLen = 1;
    for (int i = 0; i < 8; ) {
      if (g[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        b.append("::");
        i += bestLen - 1;
        continue;
      }
      if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
        b.append(':');
      }
      b.append(Integer.toHexString(g[i]));
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + ports;
  }
}

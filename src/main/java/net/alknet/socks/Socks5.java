package net.alknet.socks;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * The server side of SOCKS version 5 (RFC 1928), as far as {@code alknet socks} needs it: the "no
 * authentication" method (the listener is on loopback) and the CONNECT command, to an IPv4, IPv6 or
 * domain-name destination. Everything else is answered with the RFC's reply code and ends the
 * connection. Blocking, on a socket with a read timeout.
 */
public final class Socks5 {

  static final int VERSION = 5;
  static final int METHOD_NO_AUTH = 0x00;
  static final int METHOD_NONE_ACCEPTABLE = 0xFF;
  static final int CMD_CONNECT = 1;
  static final int ATYP_IPV4 = 1;
  static final int ATYP_DOMAIN = 3;
  static final int ATYP_IPV6 = 4;

  /** RFC 1928 §6 reply codes. */
  public enum Reply {
    SUCCEEDED(0),
    GENERAL_FAILURE(1),
    NOT_ALLOWED(2),
    NETWORK_UNREACHABLE(3),
    HOST_UNREACHABLE(4),
    CONNECTION_REFUSED(5),
    TTL_EXPIRED(6),
    COMMAND_NOT_SUPPORTED(7),
    ADDRESS_TYPE_NOT_SUPPORTED(8);

    final int code;

    Reply(int code) {
      this.code = code;
    }
  }

  /** A request the server refuses; {@link #reply} is what the client is told (if anything). */
  public static final class SocksException extends IOException {
    final Reply reply;

    public SocksException(Reply reply, String message) {
      super(message);
      this.reply = reply;
    }

    public Reply reply() {
      return reply;
    }
  }

  /** A CONNECT destination: a host name or an address literal, and a port. */
  public record Destination(String host, int port) {
    @Override
    public String toString() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  private Socks5() {}

  /**
   * Reads the method selection and answers it: "no authentication" if offered, else 0xFF.
   *
   * @throws SocksException if the client does not offer "no authentication" (it was told)
   * @throws IOException on a wrong version, a truncated message or a closed connection
   */
  public static void negotiate(InputStream in, OutputStream out) throws IOException {
    DataInputStream d = new DataInputStream(in);
    int version = u8(d);
    if (version != VERSION) {
      throw new IOException("not SOCKS5 (version byte " + version + ")");
    }
    int n = u8(d);
    if (n == 0) {
      throw new IOException("SOCKS5 greeting offers no method");
    }
    boolean noAuth = false;
    for (int i = 0; i < n; i++) {
      noAuth |= u8(d) == METHOD_NO_AUTH;
    }
    out.write(new byte[] {VERSION, (byte) (noAuth ? METHOD_NO_AUTH : METHOD_NONE_ACCEPTABLE)});
    out.flush();
    if (!noAuth) {
      throw new SocksException(null, "the client offers no method this server accepts");
    }
  }

  /**
   * Reads a request. Anything but a well-formed CONNECT is answered here with its reply code and
   * thrown.
   */
  public static Destination readRequest(InputStream in, OutputStream out) throws IOException {
    DataInputStream d = new DataInputStream(in);
    int version = u8(d);
    if (version != VERSION) {
      throw new IOException("not SOCKS5 (version byte " + version + ")");
    }
    int cmd = u8(d);
    u8(d); // reserved
    int atyp = u8(d);
    String host;
    switch (atyp) {
      case ATYP_IPV4 -> host = address(d, 4);
      case ATYP_IPV6 -> host = address(d, 16);
      case ATYP_DOMAIN -> {
        int len = u8(d);
        if (len == 0) {
          throw refuse(out, Reply.GENERAL_FAILURE, "empty domain name");
        }
        byte[] name = new byte[len];
        d.readFully(name);
        host = new String(name, StandardCharsets.US_ASCII);
        if (!host.matches("[A-Za-z0-9._-]+")) {
          throw refuse(out, Reply.GENERAL_FAILURE, "bad domain name");
        }
      }
      default -> throw refuse(out, Reply.ADDRESS_TYPE_NOT_SUPPORTED, "address type " + atyp);
    }
    int port = d.readUnsignedShort();
    if (cmd != CMD_CONNECT) {
      throw refuse(out, Reply.COMMAND_NOT_SUPPORTED, "command " + cmd + " (only CONNECT)");
    }
    if (port == 0) {
      throw refuse(out, Reply.GENERAL_FAILURE, "port 0");
    }
    return new Destination(host, port);
  }

  /** Sends a reply with an unspecified bound address (0.0.0.0:0); the client does not need it. */
  public static void reply(OutputStream out, Reply reply) throws IOException {
    out.write(new byte[] {VERSION, (byte) reply.code, 0, ATYP_IPV4, 0, 0, 0, 0, 0, 0});
    out.flush();
  }

  private static SocksException refuse(OutputStream out, Reply reply, String message)
      throws IOException {
    reply(out, reply);
    return new SocksException(reply, message);
  }

  private static String address(DataInputStream d, int len) throws IOException {
    byte[] a = new byte[len];
    d.readFully(a);
    try {
      return InetAddress.getByAddress(a).getHostAddress();
    } catch (UnknownHostException e) {
      throw new IOException("bad address", e); // not reached: the length is right
    }
  }

  private static int u8(DataInputStream d) throws IOException {
    int b = d.read();
    if (b < 0) {
      throw new EOFException("SOCKS5 message truncated");
    }
    return b;
  }
}

package net.alknet.socks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The SOCKS5 codec on byte arrays: valid, malformed, truncated and hostile input. */
class Socks5Test {

  static byte[] b(int... v) {
    byte[] a = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      a[i] = (byte) v[i];
    }
    return a;
  }

  static Socks5.Destination request(byte[] bytes, ByteArrayOutputStream out) throws IOException {
    return Socks5.readRequest(new ByteArrayInputStream(bytes), out);
  }

  @Test
  void negotiatesNoAuthentication() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Socks5.negotiate(new ByteArrayInputStream(b(5, 2, 2, 0)), out);
    assertArrayEquals(b(5, 0), out.toByteArray());
  }

  @Test
  void refusesClientsWithoutNoAuthentication() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThrows(
        Socks5.SocksException.class,
        () -> Socks5.negotiate(new ByteArrayInputStream(b(5, 1, 2)), out));
    assertArrayEquals(b(5, 0xFF), out.toByteArray(), "told: no acceptable method");
  }

  @Test
  void malformedGreetings() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThrows(
        IOException.class, () -> Socks5.negotiate(new ByteArrayInputStream(b(4, 1, 0)), out));
    assertThrows(IOException.class, () -> Socks5.negotiate(new ByteArrayInputStream(b(5, 0)), out));
    assertThrows(
        EOFException.class, () -> Socks5.negotiate(new ByteArrayInputStream(b(5, 3, 0)), out));
    assertThrows(EOFException.class, () -> Socks5.negotiate(new ByteArrayInputStream(b()), out));
    assertEquals(0, out.size(), "nothing is answered to a non-SOCKS5 or truncated greeting");
    // HTTP instead of SOCKS
    assertThrows(
        IOException.class,
        () -> Socks5.negotiate(new ByteArrayInputStream("GET / HTTP/1.1\r\n".getBytes()), out));
  }

  @Test
  void connectToIpv4Ipv6AndDomain() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertEquals(
        new Socks5.Destination("127.0.0.1", 8080),
        request(b(5, 1, 0, 1, 127, 0, 0, 1, 0x1F, 0x90), out));
    byte[] v6 = new byte[22];
    v6[0] = 5;
    v6[1] = 1;
    v6[3] = 4;
    v6[19] = 1; // ::1
    v6[20] = 0;
    v6[21] = 22;
    assertEquals("0:0:0:0:0:0:0:1", request(v6, out).host());
    byte[] name = "example.org".getBytes();
    byte[] d = new byte[5 + name.length + 2];
    d[0] = 5;
    d[1] = 1;
    d[3] = 3;
    d[4] = (byte) name.length;
    System.arraycopy(name, 0, d, 5, name.length);
    d[d.length - 1] = 80;
    assertEquals(new Socks5.Destination("example.org", 80), request(d, out));
    assertEquals(0, out.size(), "a good request is answered only once the tunnel is open");
  }

  @Test
  void unsupportedCommandsAndAddressTypesGetTheirReplyCodes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Socks5.SocksException bind =
        assertThrows(
            Socks5.SocksException.class,
            () -> request(b(5, 2, 0, 1, 127, 0, 0, 1, 0, 80), out)); // BIND
    assertEquals(Socks5.Reply.COMMAND_NOT_SUPPORTED, bind.reply());
    assertEquals(7, out.toByteArray()[1]);
    out.reset();
    Socks5.SocksException atyp =
        assertThrows(Socks5.SocksException.class, () -> request(b(5, 1, 0, 9, 1, 2), out));
    assertEquals(Socks5.Reply.ADDRESS_TYPE_NOT_SUPPORTED, atyp.reply());
    assertEquals(8, out.toByteArray()[1]);
  }

  @Test
  void hostileDomainsAndPortsAreRefused() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThrows(Socks5.SocksException.class, () -> request(b(5, 1, 0, 3, 0, 0, 80), out));
    byte[] evil = "a b\u0000c".getBytes();
    byte[] d = new byte[5 + evil.length + 2];
    d[0] = 5;
    d[1] = 1;
    d[3] = 3;
    d[4] = (byte) evil.length;
    System.arraycopy(evil, 0, d, 5, evil.length);
    d[d.length - 1] = 80;
    assertThrows(Socks5.SocksException.class, () -> request(d, out));
    assertThrows(
        Socks5.SocksException.class, () -> request(b(5, 1, 0, 1, 127, 0, 0, 1, 0, 0), out));
  }

  @Test
  void truncatedRequests() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThrows(EOFException.class, () -> request(b(5, 1, 0, 1, 127, 0), out));
    assertThrows(EOFException.class, () -> request(b(5, 1, 0, 3, 20, 'a'), out));
    assertThrows(EOFException.class, () -> request(b(5, 1, 0, 1, 127, 0, 0, 1, 0), out));
    assertThrows(IOException.class, () -> request(b(4, 1, 0, 1, 127, 0, 0, 1, 0, 80), out));
  }
}

package net.alknet.git;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Takes a push certificate out of receive-pack's input before JGit sees it (GIT-4).
 *
 * <p>JGit 7.8 parses only PGP-signed push certificates; git signs with SSH keys ({@code
 * gpg.format=ssh}) as well. This filter reads the command section the client sends after the
 * advertisement. If it is a certificate ({@code push-cert NUL caps}, certificate lines, {@code
 * push-cert-end}, flush) it parses it and hands JGit the certificate's own commands as ordinary
 * command lines (the first carrying the client's capabilities), so the commands JGit executes are
 * exactly the signed ones. Everything after (push options, the pack) passes through untouched.
 * Anything else passes through unchanged and counts as unsigned.
 *
 * <p>Limits: pkt-lines as git allows them, a certificate of at most {@value #MAX_CERT} bytes on the
 * wire (pkt-line headers included, so a stream of empty lines cannot grow it without bound). Not
 * thread-safe: one ReceivePack reads it.
 */
final class PushCertFilter extends FilterInputStream {

  static final int MAX_CERT = 256 * 1024;

  /** What the client sent. */
  record Certificate(String payload, String signature, List<String> headers) {

    /** The value of header {@code name} (e.g. {@code nonce}), or null. */
    String header(String name) {
      for (String h : headers) {
        if (h.startsWith(name + " ")) {
          return h.substring(name.length() + 1);
        }
      }
      return null;
    }
  }

  private byte[] prefix;
  private int pos;
  private Certificate certificate;
  private String malformed;

  PushCertFilter(InputStream in) {
    super(in);
  }

  /** The certificate, once the command section was read; null if the push was unsigned. */
  Certificate certificate() {
    return certificate;
  }

  /** Why the certificate could not be parsed, or null. */
  String malformed() {
    return malformed;
  }

  @Override
  public int read() throws IOException {
    start();
    if (pos < prefix.length) {
      return prefix[pos++] & 0xff;
    }
    return super.read();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    start();
    if (pos < prefix.length) {
      int n = Math.min(len, prefix.length - pos);
      System.arraycopy(prefix, pos, b, off, n);
      pos += n;
      return n;
    }
    return super.read(b, off, len);
  }

  @Override
  public int available() throws IOException {
    return prefix != null && pos < prefix.length ? prefix.length - pos : super.available();
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  private void start() throws IOException {
    if (prefix != null) {
      return;
    }
    prefix = new byte[0];
    byte[] first = readPkt();
    if (first == null) {
      prefix = "0000".getBytes(StandardCharsets.US_ASCII);
      return;
    }
    String s = new String(first, StandardCharsets.UTF_8);
    if (!s.startsWith("push-cert\0")) {
      prefix = PktLine.of(first);
      return;
    }
    String caps = s.substring("push-cert\0".length()).strip();
    List<String> lines = new ArrayList<>();
    int total = 0;
    while (true) {
      byte[] p = readPkt();
      if (p == null) {
        throw bad("flush inside the push certificate");
      }
      String line = new String(p, StandardCharsets.UTF_8);
      if (line.equals("push-cert-end\n")) {
        break;
      }
      total += p.length + 4; // the length header too: empty lines are not free
      if (total > MAX_CERT) {
        throw bad("push certificate too large (max " + MAX_CERT + " bytes)");
      }
      lines.add(line);
    }
    if (readPkt() != null) {
      throw bad("expected a flush after push-cert-end");
    }
    StringBuilder payload = new StringBuilder();
    StringBuilder signature = new StringBuilder();
    List<String> headers = new ArrayList<>();
    List<String> commands = new ArrayList<>();
    boolean inHeaders = true;
    boolean inSignature = false;
    for (String line : lines) {
      if (!inSignature && line.startsWith("-----BEGIN ")) {
        inSignature = true;
      }
      if (inSignature) {
        signature.append(line);
        continue;
      }
      payload.append(line);
      String l = line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
      if (inHeaders) {
        if (l.isEmpty()) {
          inHeaders = false;
        } else {
          headers.add(l);
        }
      } else if (!l.isEmpty()) {
        commands.add(l);
      }
    }
    if (commands.isEmpty()) {
      throw bad("push certificate without commands");
    }
    certificate = new Certificate(payload.toString(), signature.toString(), List.copyOf(headers));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < commands.size(); i++) {
      String cmd = commands.get(i) + (i == 0 ? "\0" + caps : "") + "\n";
      out.write(PktLine.of(cmd.getBytes(StandardCharsets.UTF_8)));
    }
    out.write("0000".getBytes(StandardCharsets.US_ASCII));
    prefix = out.toByteArray();
  }

  private IOException bad(String why) {
    malformed = why;
    return new IOException("malformed push certificate: " + why);
  }

  /** One pkt-line's payload, or null for a flush. */
  private byte[] readPkt() throws IOException {
    byte[] h = in.readNBytes(4);
    if (h.length < 4) {
      throw bad("truncated");
    }
    int len;
    try {
      len = Integer.parseInt(new String(h, StandardCharsets.US_ASCII), 16);
    } catch (NumberFormatException e) {
      throw bad("bad pkt-line length");
    }
    if (len == 0) {
      return null;
    }
    if (len < 4 || len > PktLine.MAX) {
      throw bad("bad pkt-line length " + len);
    }
    byte[] p = in.readNBytes(len - 4);
    if (p.length < len - 4) {
      throw bad("truncated");
    }
    return p;
  }
}

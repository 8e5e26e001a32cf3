package net.alknet.git;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The first message on an {@code alknet/git} stream: the git:// daemon request, one pkt-line
 * (docs/git.md).
 *
 * <pre>
 * pkt-line( service SP path NUL [ "host=" host NUL ] [ NUL ( param NUL )* ] )
 * e.g.  003egit-upload-pack /team/app\0host=node\0\0version=2\0
 * </pre>
 *
 * <p>This is exactly what {@code git daemon} reads, so {@code git}'s own ext:: transport can send
 * it ({@code %G}), and the {@code git-remote-alknet} helper sends the same bytes. {@code service}
 * is {@code git-upload-pack} or {@code git-receive-pack}; {@code param}s are git's "extra
 * parameters", of which {@code version=2} asks for protocol v2.
 *
 * <p>Limits: the whole pkt-line is at most {@value #MAX_LENGTH} bytes, at most {@value #MAX_PARAMS}
 * parameters, printable ASCII only. Anything else is a {@link GitRequestException} of kind {@code
 * BAD_REQUEST} whose message may be shown to the peer.
 *
 * @param service what the client wants to run
 * @param path the repository path exactly as sent (validated separately by {@link RepoName})
 * @param host the {@code host=} field, if any
 * @param parameters extra parameters such as {@code version=2}
 */
public record GitRequest(
    Service service, String path, Optional<String> host, List<String> parameters) {

  /** Longest first message, including the 4-byte length prefix. */
  public static final int MAX_LENGTH = 1024;

  public static final int MAX_PARAMS = 16;

  /** The two git services. */
  public enum Service {
    UPLOAD_PACK("git-upload-pack"),
    RECEIVE_PACK("git-receive-pack");

    private final String wire;

    Service(String wire) {
      this.wire = wire;
    }

    /** The name on the wire, e.g. {@code git-upload-pack}. */
    public String wireName() {
      return wire;
    }

    static Optional<Service> of(String wire) {
      for (Service s : values()) {
        if (s.wire.equals(wire)) {
          return Optional.of(s);
        }
      }
      return Optional.empty();
    }
  }

  public GitRequest {
    parameters = List.copyOf(parameters);
  }

  /** Whether the client asked for protocol v2. */
  public boolean wantsV2() {
    return parameters.contains("version=2");
  }

  /** Reads and decodes one first message; reads at most {@value #MAX_LENGTH} bytes. */
  public static GitRequest read(InputStream in) throws IOException, GitRequestException {
    byte[] header = in.readNBytes(4);
    if (header.length < 4) {
      throw bad(
          header.length == 0
              ? "no request: the stream ended before the first message"
              : "truncated first message");
    }
    int len = length(header);
    byte[] payload = in.readNBytes(len - 4);
    if (payload.length < len - 4) {
      throw bad("truncated first message (" + (payload.length + 4) + " of " + len + " bytes)");
    }
    return decode(payload);
  }

  /** Parses the 4 hex digits of a pkt-line length and checks it against the limits. */
  static int length(byte[] header) throws GitRequestException {
    int len = 0;
    for (int i = 0; i < 4; i++) {
      int d = Character.digit(header[i] & 0xff, 16);
      if (d < 0 || header[i] < 0) {
        throw bad("malformed first message: not a git pkt-line (expected 4 hex digits)");
      }
      len = len * 16 + d;
    }
    if (len == 0) {
      throw bad("malformed first message: flush packet instead of a request");
    }
    if (len <= 4) {
      throw bad("malformed first message: pkt-line length " + len);
    }
    if (len > MAX_LENGTH) {
      throw bad("first message too long (" + len + " bytes, limit " + MAX_LENGTH + ")");
    }
    return len;
  }

  /** Decodes the payload of the first pkt-line (without its length prefix). */
  public static GitRequest decode(byte[] payload) throws GitRequestException {
    if (payload.length + 4 > MAX_LENGTH) {
      throw bad("first message too long");
    }
    for (byte b : payload) {
      if (b < 0) {
        throw bad("malformed first message: not ASCII");
      }
      if (b != 0 && (b < 0x20 || b == 0x7f) && b != '\n') {
        throw bad("malformed first message: control character");
      }
    }
    String s = new String(payload, StandardCharsets.US_ASCII);
    int nul = s.indexOf('\0');
    String head = nul < 0 ? s : s.substring(0, nul);
    if (head.endsWith("\n")) {
      head = head.substring(0, head.length() - 1);
    }
    if (head.indexOf('\n') >= 0) {
      throw bad("malformed first message: control character");
    }
    int sp = head.indexOf(' ');
    if (sp <= 0) {
      throw bad("malformed first message: expected '<service> <repository>'");
    }
    String serviceName = head.substring(0, sp);
    Service service =
        Service.of(serviceName)
            .orElseThrow(
                () ->
                    bad(
                        "unsupported service '"
                            + shorten(serviceName)
                            + "' (supported: "
                            + "git-upload-pack, git-receive-pack)"));
    String path = head.substring(sp + 1);
    Optional<String> host = Optional.empty();
    List<String> params = new ArrayList<>();
    if (nul >= 0) {
      String rest = s.substring(nul + 1);
      if (!rest.isEmpty() && !rest.endsWith("\0")) {
        throw bad("malformed first message: fields must end with NUL");
      }
      String[] fields = rest.isEmpty() ? new String[0] : rest.split("\0", -1);
      boolean extra = false;
      // split of "a\0" gives ["a", ""]: the last (empty) element is the terminator's artefact.
      for (int i = 0; i < fields.length - 1; i++) {
        String f = fields[i];
        if (f.indexOf('\n') >= 0) {
          throw bad("malformed first message: control character");
        }
        if (!extra) {
          if (f.isEmpty()) {
            extra = true;
          } else if (f.startsWith("host=") && host.isEmpty()) {
            host = Optional.of(f.substring(5));
          } else {
            throw bad("malformed first message: unexpected field '" + shorten(f) + "'");
          }
        } else if (!f.isEmpty()) {
          if (params.size() == MAX_PARAMS) {
            throw bad("too many parameters in the first message (max " + MAX_PARAMS + ")");
          }
          params.add(f);
        }
      }
    }
    return new GitRequest(service, path, host, params);
  }

  /** Encodes as one pkt-line, the inverse of {@link #read}. */
  public byte[] encode() {
    StringBuilder b = new StringBuilder();
    b.append(service.wireName()).append(' ').append(path).append('\0');
    host.ifPresent(h -> b.append("host=").append(h).append('\0'));
    if (!parameters.isEmpty()) {
      b.append('\0');
      for (String p : parameters) {
        b.append(p).append('\0');
      }
    }
    byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
    if (body.length + 4 > MAX_LENGTH) {
      throw new IllegalArgumentException("request too long for one first message");
    }
    return PktLine.of(body);
  }

  private static GitRequestException bad(String m) {
    return new GitRequestException(GitRequestException.Kind.BAD_REQUEST, m);
  }

  static String shorten(String s) {
    String t = s.length() <= 60 ? s : s.substring(0, 60) + "...";
    StringBuilder b = new StringBuilder(t.length());
    t.codePoints().forEach(c -> b.appendCodePoint(c < 0x20 || c == 0x7f ? '?' : c));
    return b.toString();
  }
}

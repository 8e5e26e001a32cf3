package net.alknet.git;

/**
 * A git request is refused: malformed first message, bad repository name, access denied, unknown
 * repository. The message is written for the peer (it reaches stock git as {@code fatal: remote
 * error: <message>}) and MUST NOT contain internal details; {@link #kind()} is the metric tag.
 */
public final class GitRequestException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a request was refused; the {@code kind} tag of {@code alknet.git.denied}. */
  public enum Kind {
    BAD_REQUEST("bad-request"),
    BAD_NAME("bad-name"),
    READ("read"),
    WRITE("write"),
    CREATE("create"),
    NOT_FOUND("not-found"),
    UNAVAILABLE("unavailable");

    final String tag;

    Kind(String tag) {
      this.tag = tag;
    }
  }

  private final Kind kind;

  public GitRequestException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}

package net.alknet.ssh;

/**
 * A port pattern of the forwarding policy: {@code *} (any port, including 0 = "the node picks"), a
 * number {@code 8080} or an inclusive range {@code 8000-8099}, ports 1..65535.
 */
record PortRange(int low, int high) {

  static final PortRange ANY = new PortRange(0, 65535);

  /** Whether {@code port} is in the range. */
  boolean contains(int port) {
    return port >= low && port <= high;
  }

  /**
   * Parses {@code *}, {@code N} or {@code N-M}.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  static PortRange parse(String s) {
    String t = s.strip();
    if (t.equals("*")) {
      return ANY;
    }
    int dash = t.indexOf('-');
    int low = port(dash < 0 ? t : t.substring(0, dash), s);
    int high = dash < 0 ? low : port(t.substring(dash + 1), s);
    if (high < low) {
      throw new IllegalArgumentException("bad port range '" + s + "': end before start");
    }
    return new PortRange(low, high);
  }

  private static int port(String digits, String whole) {
    if (digits.isEmpty() || digits.length() > 5 || !digits.chars().allMatch(Character::isDigit)) {
      throw new IllegalArgumentException(
          "bad port '" + whole + "': expected *, a number or a range like 8000-8099");
    }
    int p = Integer.parseInt(digits);
    if (p < 1 || p > 65535) {
      throw new IllegalArgumentException("bad port '" + whole + "': out of range 1-65535");
    }
    return p;
  }

  @Override
  public String toString() {
    return this.equals(ANY) ? "*" : low == high ? Integer.toString(low) : low + "-" + high;
  }
}

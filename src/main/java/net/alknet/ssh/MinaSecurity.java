package net.alknet.ssh;

/**
 * Keeps MINA SSHD from adding BouncyCastle to the JVM-wide JCA provider list.
 *
 * <p>By default MINA registers the BouncyCastle provider it uses with {@code
 * java.security.Security} and then looks it up by name ("BC"). A provider list is per JVM, not per
 * class loader: where two class loaders each load MINA and BouncyCastle (a Quarkus application next
 * to plain code, as in a test JVM, or an embedding host), the second one gets the first one's
 * provider and fails casting its keys. With {@code useNamed=false} MINA uses its own provider
 * instance directly. A value set on the command line wins.
 */
final class MinaSecurity {

  static final String USE_NAMED_BC = "org.apache.sshd.security.provider.BC.useNamed";

  static {
    if (System.getProperty(USE_NAMED_BC) == null) {
      System.setProperty(USE_NAMED_BC, "false");
    }
  }

  private MinaSecurity() {}

  /** Makes sure the setting is in place; call before MINA's first security lookup. */
  static void ensure() {
    // The static initializer does the work.
  }
}

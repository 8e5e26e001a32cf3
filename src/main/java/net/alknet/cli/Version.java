package net.alknet.cli;

import picocli.CommandLine.IVersionProvider;

/** {@code alknet --version}. */
public final class Version implements IVersionProvider {

  @Override
  public String[] getVersion() {
    String v = Version.class.getPackage().getImplementationVersion();
    return new String[] {"alknet " + (v == null ? "0.1.0-SNAPSHOT" : v)};
  }
}

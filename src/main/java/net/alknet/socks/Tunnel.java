package net.alknet.socks;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Where a SOCKS CONNECT goes: a byte stream to the destination, opened through a node. */
public interface Tunnel {

  /**
   * Opens a stream to {@code destination}.
   *
   * @throws Socks5.SocksException with the reply the SOCKS client should get (e.g. {@code
   *     NOT_ALLOWED} when the node's policy denies the destination)
   * @throws IOException for any other failure (reported as a general failure)
   */
  Channel open(Socks5.Destination destination) throws IOException;

  /** One tunnelled connection. Closing it closes both directions. */
  interface Channel extends Closeable {
    InputStream input();

    OutputStream output();
  }
}

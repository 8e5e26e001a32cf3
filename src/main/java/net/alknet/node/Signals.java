package net.alknet.node;

import org.jboss.logging.Logger;

/** SIGHUP → reload of the dynamic config (CFG-2), where the JVM lets us handle it. */
final class Signals {

  private static final Logger LOG = Logger.getLogger(Signals.class);

  private Signals() {}

  @SuppressWarnings("restriction")
  static void onHangup(Runnable action) {
    try {
      sun.misc.Signal.handle(
          new sun.misc.Signal("HUP"),
          s -> {
            LOG.info("SIGHUP: reloading dynamic config");
            // Signal handlers run on a JVM thread of their own; reload is quick file I/O.
            action.run();
          });
    } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
      LOG.debugf("SIGHUP handling unavailable: %s (use `alknet reload`)", e.toString());
    }
  }
}

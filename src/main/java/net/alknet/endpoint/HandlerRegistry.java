package net.alknet.endpoint;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The immutable map ALPN → handler (EP-3), built once at startup. It is the only place the served
 * ALPN list comes from: the TLS and QUIC handshakes advertise exactly {@link #alpns()}.
 */
public final class HandlerRegistry {

  /**
   * A handler together with a description of where it came from (its bean class), used in error
   * messages.
   */
  public record Registration(String source, ProtocolHandler handler) {
    public Registration(ProtocolHandler handler) {
      this(handler.getClass().getName(), handler);
    }
  }

  /** Thrown at startup when two handlers claim the same ALPN or a handler claims none. */
  public static final class RegistryException extends IllegalStateException {
    public RegistryException(String message) {
      super(message);
    }
  }

  private final Map<String, ProtocolHandler> byAlpn;
  private final Map<String, String> sourceByAlpn;
  private final List<ProtocolHandler> handlers;

  private HandlerRegistry(
      Map<String, ProtocolHandler> byAlpn,
      Map<String, String> sourceByAlpn,
      List<ProtocolHandler> handlers) {
    this.byAlpn = byAlpn;
    this.sourceByAlpn = sourceByAlpn;
    this.handlers = handlers;
  }

  /**
   * Builds the registry.
   *
   * @param registrations every handler bean
   * @param disabled handler names or ALPN ids to leave out (not advertised, not served)
   * @throws RegistryException if two enabled handlers claim one ALPN (the message names both), or a
   *     handler claims no ALPN or an invalid one
   */
  public static HandlerRegistry of(Collection<Registration> registrations, Set<String> disabled) {
    Map<String, ProtocolHandler> byAlpn = new LinkedHashMap<>();
    Map<String, String> sources = new LinkedHashMap<>();
    List<ProtocolHandler> enabled = new ArrayList<>();
    for (Registration r : registrations) {
      ProtocolHandler h = r.handler();
      if (disabled.contains(h.name())) {
        continue;
      }
      Set<String> alpns = h.alpns();
      if (alpns == null || alpns.isEmpty()) {
        throw new RegistryException("protocol handler " + r.source() + " claims no ALPN");
      }
      boolean any = false;
      for (String alpn : alpns) {
        validateAlpn(alpn, r.source());
        if (disabled.contains(alpn)) {
          continue;
        }
        String previous = sources.get(alpn);
        if (previous != null) {
          throw new RegistryException(
              "ALPN \"" + alpn + "\" is claimed by both " + previous + " and " + r.source());
        }
        byAlpn.put(alpn, h);
        sources.put(alpn, r.source());
        any = true;
      }
      if (any) {
        enabled.add(h);
      }
    }
    return new HandlerRegistry(Map.copyOf(byAlpn), Map.copyOf(sources), List.copyOf(enabled));
  }

  /** Convenience for tests and embedding: no bean sources, nothing disabled. */
  public static HandlerRegistry of(ProtocolHandler... handlers) {
    List<Registration> list = new ArrayList<>();
    for (ProtocolHandler h : handlers) {
      list.add(new Registration(h));
    }
    return of(list, Set.of());
  }

  private static void validateAlpn(String alpn, String source) {
    if (alpn == null || alpn.isEmpty() || alpn.length() > 255) {
      throw new RegistryException(
          "protocol handler " + source + " claims an invalid ALPN (empty or over 255 bytes)");
    }
    for (int i = 0; i < alpn.length(); i++) {
      char c = alpn.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw new RegistryException(
            "protocol handler "
                + source
                + " claims ALPN \""
                + alpn
                + "\" with a non-printable or non-ASCII character");
      }
    }
  }

  /** The handler for an ALPN, if one is enabled. */
  public Optional<ProtocolHandler> lookup(String alpn) {
    return Optional.ofNullable(byAlpn.get(alpn));
  }

  /** Every served ALPN, sorted; what the handshakes advertise. */
  public List<String> alpns() {
    return byAlpn.keySet().stream().sorted().toList();
  }

  /** The ALPNs served over one transport, sorted; what that transport's handshake advertises. */
  public List<String> alpns(Transport transport) {
    return byAlpn.entrySet().stream()
        .filter(e -> e.getValue().transports().contains(transport))
        .map(Map.Entry::getKey)
        .sorted()
        .toList();
  }

  /** Where the handler of an ALPN came from (its bean class). */
  public Optional<String> source(String alpn) {
    return Optional.ofNullable(sourceByAlpn.get(alpn));
  }

  /** The enabled handlers, each once. */
  public List<ProtocolHandler> handlers() {
    return handlers;
  }
}

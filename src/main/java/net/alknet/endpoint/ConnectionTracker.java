package net.alknet.endpoint;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/** Counts open connections in total and per source address (EP-6). Thread-safe. */
final class ConnectionTracker {

  /** Why a connection was refused; the metric tag. */
  enum Refusal {
    MAX_CONNECTIONS("max_connections"),
    MAX_CONNECTIONS_PER_ADDRESS("max_connections_per_address");

    final String tag;

    Refusal(String tag) {
      this.tag = tag;
    }
  }

  private final int max;
  private final int perAddress;
  private final Map<InetAddress, Integer> byAddress = new HashMap<>();
  private int total;

  ConnectionTracker(int max, int perAddress) {
    this.max = max;
    this.perAddress = perAddress;
  }

  /** Takes a slot, or says why not. */
  synchronized Refusal tryAcquire(InetAddress address) {
    if (total >= max) {
      return Refusal.MAX_CONNECTIONS;
    }
    int n = byAddress.getOrDefault(address, 0);
    if (n >= perAddress) {
      return Refusal.MAX_CONNECTIONS_PER_ADDRESS;
    }
    byAddress.put(address, n + 1);
    total++;
    return null;
  }

  synchronized void release(InetAddress address) {
    Integer n = byAddress.get(address);
    if (n == null) {
      return;
    }
    if (n <= 1) {
      byAddress.remove(address);
    } else {
      byAddress.put(address, n - 1);
    }
    total--;
  }

  synchronized int total() {
    return total;
  }
}

package net.alknet.call.op;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** An immutable name → operation map; building it fails on a duplicate name, naming both. */
public final class OperationRegistry {

  private final Map<String, RegisteredOperation> byName;

  private OperationRegistry(Map<String, RegisteredOperation> byName) {
    this.byName = byName;
  }

  public static OperationRegistry of(Collection<RegisteredOperation> operations) {
    Map<String, RegisteredOperation> map = new LinkedHashMap<>();
    for (RegisteredOperation op : operations) {
      RegisteredOperation previous = map.putIfAbsent(op.name(), op);
      if (previous != null) {
        throw new IllegalStateException(
            "operation "
                + op.name()
                + " is defined twice: "
                + previous.source()
                + " and "
                + op.source());
      }
    }
    return new OperationRegistry(Map.copyOf(map));
  }

  public Optional<RegisteredOperation> lookup(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** All operations, sorted by name. */
  public List<RegisteredOperation> all() {
    return byName.values().stream()
        .sorted(java.util.Comparator.comparing(RegisteredOperation::name))
        .toList();
  }

  /** A registry with these operations added (imports); duplicates fail like in {@link #of}. */
  public OperationRegistry plus(Collection<RegisteredOperation> more) {
    java.util.ArrayList<RegisteredOperation> all = new java.util.ArrayList<>(byName.values());
    all.addAll(more);
    return of(all);
  }
}

package net.alknet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import net.alknet.node.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code alknet status}: what a running node listens on and serves. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description =
        "Show the listening addresses, ALPNs and connection counts of the node running with this data directory.")
public class StatusCommand implements Callable<Integer> {

  @Mixin DataDirOption dataDir;

  @Option(names = "--json", description = "Print the raw JSON answer.")
  boolean json;

  private final Node node;

  public StatusCommand(Node node) {
    this.node = node;
  }

  @Override
  public Integer call() throws Exception {
    JsonNode s = ControlClient.request(node.dataDir(dataDir.value()), "status");
    if (json) {
      System.out.println(s.toPrettyString());
      return 0;
    }
    StringBuilder out = new StringBuilder();
    out.append("data dir     ").append(s.path("dataDir").asText()).append('\n');
    out.append("accepting    ").append(s.path("accepting").asBoolean()).append('\n');
    for (JsonNode l : s.path("listening")) {
      out.append("listening    ").append(l.asText()).append('\n');
    }
    out.append("certificate  ").append(s.path("certificate").asText()).append('\n');
    out.append("alpns        ");
    for (JsonNode a : s.path("alpns")) {
      out.append(a.asText()).append(' ');
    }
    out.append('\n');
    out.append("connections  ").append(s.path("openConnections").asInt()).append(" open\n");
    s.path("activeByAlpn")
        .fields()
        .forEachRemaining(
            e ->
                out.append("  ")
                    .append(e.getKey().replace('|', ' '))
                    .append(": ")
                    .append(e.getValue().asInt())
                    .append('\n'));
    JsonNode d = s.path("dynamicConfig");
    if (!d.isMissingNode()) {
      out.append("config       generation ")
          .append(d.path("generation").asLong())
          .append(", ")
          .append(d.path("authorizedKeys").asInt())
          .append(" authorized key(s), ")
          .append(d.path("apiKeys").asInt())
          .append(" API key(s), loaded ")
          .append(d.path("loadedAt").asText())
          .append('\n');
    }
    System.out.print(out);
    return 0;
  }
}

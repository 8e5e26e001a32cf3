package net.alknet.call.op;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;

/**
 * What an operation is (CALL-8): the data {@code sys/describe}, OpenAPI and MCP project.
 *
 * @param eventSchema subscriptions: schema of one event; otherwise {@code null}
 * @param outputSchema queries/mutations: schema of the output; otherwise {@code null}
 */
public record OperationSpec(
    String name,
    Operation.Kind kind,
    String description,
    List<String> tags,
    Set<String> scopes,
    boolean open,
    Operation.Visibility visibility,
    List<String> errors,
    Operation.Overflow overflow,
    int queue,
    boolean continueOnParentAbort,
    JsonNode inputSchema,
    JsonNode outputSchema,
    JsonNode eventSchema) {

  public OperationSpec {
    tags = List.copyOf(tags);
    scopes = Set.copyOf(scopes);
    errors = List.copyOf(errors);
  }

  /** The namespace part of {@code namespace/name}. */
  public String namespace() {
    return name.substring(0, name.indexOf('/'));
  }
}

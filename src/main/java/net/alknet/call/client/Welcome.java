package net.alknet.call.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's {@code welcome} (CALL-3).
 *
 * @param identity the identity object {@code {id, displayName, scopes}} as the node sent it
 * @param node the node's name
 * @param protocol the protocol version (1)
 */
public record Welcome(JsonNode identity, String node, int protocol) {

  /** The identity's id, e.g. {@code SHA256:…}, {@code apikey:…} or {@code anonymous}. */
  public String identityId() {
    return identity.path("id").asText("");
  }

  /** The identity's display name. */
  public String displayName() {
    return identity.path("displayName").asText("");
  }

  /** The scopes the identity holds. */
  public List<String> scopes() {
    List<String> out = new ArrayList<>();
    identity.path("scopes").forEach(s -> out.add(s.asText()));
    return List.copyOf(out);
  }
}

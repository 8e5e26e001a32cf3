package net.alknet.call.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Map;

/**
 * A call the node made to an operation this client registered (CALL-7).
 *
 * @param id the node's id for the call; pass it as {@link CallOptions#withParent(String) parent}
 *     when calling back into the node on its behalf
 * @param op the operation name ({@code client/…})
 * @param input the input ({@code {}} when the node sent none)
 * @param meta the request's meta (never {@code null})
 * @param deadline the request's deadline, or {@code null}
 */
public record LocalCall(
    String id, String op, JsonNode input, Map<String, String> meta, Duration deadline) {}

package net.alknet.auth;

/**
 * A freshly generated API key. The {@code key} is a secret: show it to the operator once, MUST NOT
 * log or store it; store only the {@code hash}.
 *
 * @param key the secret, {@code alk_<43 base64url chars>}
 * @param hash {@code sha256:<64 lowercase hex>} for the api_keys file
 */
public record NewApiKey(String key, String hash) {
  @Override
  public String toString() {
    return "NewApiKey[hash=" + hash + "]";
  }
}

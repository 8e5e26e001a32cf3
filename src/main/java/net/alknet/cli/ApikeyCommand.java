package net.alknet.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import net.alknet.auth.ApiKeyEntry;
import net.alknet.auth.ApiKeys;
import net.alknet.auth.NewApiKey;
import net.alknet.auth.Scopes;
import net.alknet.node.Node;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code alknet apikey}: service-account keys (AUTH-4). */
@Command(
    name = "apikey",
    mixinStandardHelpOptions = true,
    description = "Create API keys for service accounts. Only their SHA-256 hash goes into config.",
    subcommands = {ApikeyCommand.Create.class, ApikeyCommand.Hash.class})
public class ApikeyCommand {

  /** {@code alknet apikey create NAME}. */
  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
        "Generate a key. The key is printed once on stdout and never stored; the api_keys line"
            + " (hash, scopes, expiry) is printed on stderr, or appended with --append."
      })
  public static class Create implements Callable<Integer> {
    @Mixin DataDirOption dataDir;

    @Parameters(
        paramLabel = "NAME",
        description = "Account name: letters, digits, '.', '_' or '-'.")
    String name;

    @Option(
        names = "--scopes",
        paramLabel = "LIST",
        description = "Comma-separated scopes (see docs/scopes.md).")
    String scopes;

    @Option(
        names = "--expires",
        paramLabel = "WHEN",
        description =
            "Expiry: an instant (2027-01-01T00:00:00Z) or a duration from now (90d, 12h).")
    String expires;

    @Option(names = "--append", description = "Append the line to <data-dir>/api_keys.")
    boolean append;

    private final Node node;

    public Create(Node node) {
      this.node = node;
    }

    @Override
    public Integer call() throws Exception {
      if (!ApiKeyEntry.isValidName(name)) {
        throw new CliSupport.CliException(
            "invalid name '" + name + "': use 1-64 letters, digits, '.', '_' or '-'");
      }
      Set<String> s = scopes == null ? Set.of() : Scopes.parseList(scopes);
      Optional<Instant> exp = Optional.ofNullable(expires).map(ApikeyCommand::parseExpiry);
      NewApiKey key = ApiKeys.generate();
      String line = ApiKeys.formatEntry(name, key.hash(), s, exp);
      if (append) {
        Path file = node.dataDir(dataDir.value()).resolve("api_keys");
        Files.createDirectories(file.getParent());
        Files.writeString(
            file,
            line + "\n",
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            StandardOpenOption.APPEND);
        System.err.println("appended to " + file + ": " + line);
      } else {
        System.err.println("add this line to the node's api_keys file:");
        System.err.println(line);
      }
      System.out.println(key.key());
      return 0;
    }
  }

  /** {@code alknet apikey hash}: the config hash of a key read from stdin. */
  @Command(
      name = "hash",
      mixinStandardHelpOptions = true,
      description = "Read an API key from stdin and print its sha256: hash for api_keys.")
  public static class Hash implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      String key =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
      if (key == null || !ApiKeys.isWellFormed(key.strip())) {
        throw new CliSupport.CliException("stdin does not hold an alk_ API key");
      }
      System.out.println(ApiKeys.hash(key.strip()));
      return 0;
    }
  }

  static Instant parseExpiry(String s) {
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      // fall through to a duration
    }
    if (s.matches("\\d{1,6}[dhm]")) {
      long n = Long.parseLong(s.substring(0, s.length() - 1));
      Duration d =
          switch (s.charAt(s.length() - 1)) {
            case 'd' -> Duration.ofDays(n);
            case 'h' -> Duration.ofHours(n);
            default -> Duration.ofMinutes(n);
          };
      return Instant.now().plus(d);
    }
    throw new CliSupport.CliException(
        "--expires: expected an ISO instant like 2027-01-01T00:00:00Z or a duration like 90d, got '"
            + s
            + "'");
  }
}

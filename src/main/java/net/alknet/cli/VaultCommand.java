package net.alknet.cli;

import java.io.Console;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.Callable;
import net.alknet.auth.Ed25519Keys;
import net.alknet.auth.Fingerprints;
import net.alknet.node.Node;
import net.alknet.vault.Bip39;
import net.alknet.vault.DerivationPath;
import net.alknet.vault.KdfParams;
import net.alknet.vault.Secrets;
import net.alknet.vault.Vault;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code alknet vault}: the local vault (VAULT-1..3), {@code <data-dir>/vault}. Every subcommand
 * takes {@code --passphrase-file FILE} (owner-only) or asks on the terminal. Secrets are read from
 * files or stdin, never from arguments or the environment, and never printed (except the new
 * mnemonic, once, by {@code init}).
 */
@Command(
    name = "vault",
    mixinStandardHelpOptions = true,
    description = {
      "The local vault: a BIP39 seed encrypted under a passphrase, the node key derived from it,"
          + " and named credentials (AES-256-GCM). See docs/vault.md.",
      "The passphrase comes from --passphrase-file FILE (owner-only) or the terminal, never from"
          + " an argument or an environment variable."
    },
    subcommands = {
      VaultCommand.Init.class,
      VaultCommand.Unlock.class,
      VaultCommand.Add.class,
      VaultCommand.Remove.class,
      VaultCommand.ListNames.class,
      VaultCommand.Rotate.class,
      VaultCommand.Pubkey.class
    })
public class VaultCommand {

  /** {@code --passphrase-file}, shared by every vault command and {@code serve --vault}. */
  public static final class PassphraseOption {
    @Option(
        names = "--passphrase-file",
        paramLabel = "FILE",
        description =
            "Read the vault passphrase from FILE (must be owner-only, e.g. chmod 600; one"
                + " trailing newline is ignored). Default: ask on the terminal.")
    Path file;

    char[] read(boolean confirm) throws java.io.IOException {
      return SecretInput.passphrase(file, confirm);
    }
  }

  /** Common parts: data dir, passphrase, opening the vault. */
  abstract static class Base implements Callable<Integer> {
    @Mixin DataDirOption dataDir;
    @Mixin PassphraseOption passphrase;

    final Node node;

    Base(Node node) {
      this.node = node;
    }

    Path vaultFile() {
      return Vault.file(node.dataDir(dataDir.value()));
    }

    Vault open() throws Exception {
      Path f = vaultFile();
      if (!Files.exists(f)) {
        throw new CliSupport.CliException(
            "no vault at " + f + "; create one with `alknet vault init`");
      }
      char[] p = passphrase.read(false);
      try {
        return Vault.open(f, p);
      } finally {
        Secrets.wipe(p);
      }
    }

    static String nodeKeyLine(Vault v) {
      return "node key "
          + Fingerprints.ofRawEd25519(v.publicKey(DerivationPath.NODE_KEY))
          + " ("
          + DerivationPath.NODE_KEY
          + ")";
    }
  }

  /** {@code alknet vault init}. */
  @Command(
      name = "init",
      mixinStandardHelpOptions = true,
      description = {
        "Create the vault: a new BIP39 mnemonic, shown once on stdout (write it down: it is the"
            + " only backup), or --recover an existing one from stdin or --mnemonic-file.",
        "The seed is stored encrypted under the passphrase; the mnemonic itself is not stored."
      })
  public static class Init extends Base {
    @Option(
        names = "--words",
        paramLabel = "N",
        description = "Words in a new mnemonic: 12, 15, 18, 21 or 24 (default: 24).")
    int words = 24;

    @Option(
        names = "--recover",
        description =
            "Recreate a vault from an existing mnemonic, read from stdin (or --mnemonic-file).")
    boolean recover;

    @Option(
        names = "--mnemonic-file",
        paramLabel = "FILE",
        description = "With --recover: read the mnemonic from FILE (must be owner-only).")
    Path mnemonicFile;

    public Init(Node node) {
      super(node);
    }

    @Override
    public Integer call() throws Exception {
      if (!Bip39.WORD_COUNTS.contains(words)) {
        throw new CliSupport.CliException("--words must be 12, 15, 18, 21 or 24, was " + words);
      }
      if (mnemonicFile != null && !recover) {
        throw new CliSupport.CliException("--mnemonic-file goes with --recover");
      }
      Path f = vaultFile();
      if (Files.exists(f)) {
        throw new CliSupport.CliException(f + " exists: this data directory already has a vault");
      }
      char[] mnemonic = null;
      byte[] seed = null;
      char[] pass = null;
      try {
        if (recover) {
          mnemonic =
              mnemonicFile != null
                  ? SecretInput.ownerOnlyFile(mnemonicFile, "mnemonic file")
                  : readMnemonicFromStdin();
          mnemonic = replace(mnemonic, Bip39.normalize(mnemonic));
        } else {
          mnemonic = Bip39.generate(words, new SecureRandom());
        }
        seed = Bip39.seed(mnemonic, new char[0]);
        pass = passphrase.read(true);
        try (Vault v = Vault.create(f, pass, seed, KdfParams.DEFAULT)) {
          PrintStream err = System.err;
          err.println("created " + f);
          err.println(nodeKeyLine(v));
          if (!recover) {
            err.println(
                "Write down these "
                    + words
                    + " words and keep them offline. They are shown only now and recover the"
                    + " vault's keys (`alknet vault init --recover`):");
            System.out.println(mnemonic);
            System.out.flush();
          }
        }
        return 0;
      } finally {
        Secrets.wipe(mnemonic, pass);
        Secrets.wipe(seed);
      }
    }

    private static char[] readMnemonicFromStdin() throws java.io.IOException {
      Console c = SecretInput.terminal();
      if (c != null) {
        char[] m = c.readPassword("Mnemonic (words separated by spaces): ");
        if (m == null) {
          throw new CliSupport.CliException("no mnemonic entered");
        }
        return m;
      }
      return SecretInput.stdinText("mnemonic");
    }

    private static char[] replace(char[] old, char[] fresh) {
      Secrets.wipe(old);
      return fresh;
    }
  }

  /** {@code alknet vault unlock}. */
  @Command(
      name = "unlock",
      mixinStandardHelpOptions = true,
      description =
          "Check that the passphrase opens the vault and that the file is intact; print a summary.")
  public static class Unlock extends Base {
    public Unlock(Node node) {
      super(node);
    }

    @Override
    public Integer call() throws Exception {
      try (Vault v = open()) {
        System.out.println("vault " + v.path() + " unlocked");
        System.out.println(nodeKeyLine(v));
        System.out.println("credential key version " + v.keyVersion());
        System.out.println(v.names().size() + " credential(s)");
      }
      return 0;
    }
  }

  /** {@code alknet vault add NAME}. */
  @Command(
      name = "add",
      mixinStandardHelpOptions = true,
      description = {
        "Store a credential (e.g. an API token) under NAME. The secret is read from stdin (one"
            + " trailing newline is dropped), or asked on the terminal without echo; never from an"
            + " argument."
      })
  public static class Add extends Base {
    @Parameters(
        paramLabel = "NAME",
        description = "1-64 letters, digits, '.', '_', '-', ':' or '/'.")
    String name;

    @Option(names = "--replace", description = "Replace an existing credential of that name.")
    boolean replace;

    public Add(Node node) {
      super(node);
    }

    @Override
    public Integer call() throws Exception {
      if (!Vault.isValidName(name)) {
        throw new CliSupport.CliException(
            "invalid name: use 1-64 letters, digits, '.', '_', '-', ':' or '/'");
      }
      try (Vault v = open()) {
        if (v.names().contains(name) && !replace) {
          throw new CliSupport.CliException(
              "the vault already has '" + name + "'; use --replace to overwrite it");
        }
        byte[] secret = readSecret();
        try {
          if (secret.length == 0) {
            throw new CliSupport.CliException("the secret is empty");
          }
          v.put(name, secret);
        } finally {
          Secrets.wipe(secret);
        }
        System.err.println("stored '" + name + "' (key version " + v.keyVersion() + ")");
      }
      return 0;
    }

    private byte[] readSecret() throws java.io.IOException {
      Console c = SecretInput.terminal();
      if (c != null) {
        char[] s = c.readPassword("Secret for %s: ", name);
        if (s == null) {
          throw new CliSupport.CliException("no secret entered");
        }
        try {
          return Secrets.utf8(s);
        } finally {
          Secrets.wipe(s);
        }
      }
      return SecretInput.stdinBytes("secret");
    }
  }

  /** {@code alknet vault remove NAME}. */
  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Delete a credential.")
  public static class Remove extends Base {
    @Parameters(paramLabel = "NAME", description = "The credential to delete.")
    String name;

    public Remove(Node node) {
      super(node);
    }

    @Override
    public Integer call() throws Exception {
      try (Vault v = open()) {
        if (!v.remove(name)) {
          throw new CliSupport.CliException(
              "no credential named '"
                  + (Vault.isValidName(name) ? name : "(invalid name)")
                  + "' in the vault");
        }
        System.err.println("removed '" + name + "'");
      }
      return 0;
    }
  }

  /** {@code alknet vault list}. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Print the credential names, one per line (never the secrets).")
  public static class ListNames extends Base {
    public ListNames(Node node) {
      super(node);
    }

    @Override
    public Integer call() throws Exception {
      try (Vault v = open()) {
        List<String> names = v.names();
        names.forEach(System.out::println);
      }
      return 0;
    }
  }

  /** {@code alknet vault rotate}. */
  @Command(
      name = "rotate",
      mixinStandardHelpOptions = true,
      description =
          "Re-encrypt every credential from key version n to n+1 (m/74'/1'/n' to m/74'/1'/(n+1)'),"
              + " in one atomic file replace.")
  public static class Rotate extends Base {
    public Rotate(Node node) {
      super(node);
    }

    @Override
    public Integer call() throws Exception {
      try (Vault v = open()) {
        int from = v.keyVersion();
        v.rotate();
        System.out.println(
            "credential key version "
                + from
                + " -> "
                + v.keyVersion()
                + " ("
                + v.names().size()
                + " credential(s) re-encrypted)");
      }
      return 0;
    }
  }

  /** {@code alknet vault pubkey}. */
  @Command(
      name = "pubkey",
      mixinStandardHelpOptions = true,
      description = {
        "Print the OpenSSH public key derived at a path (default: the node key m/74'/0'/0') on"
            + " stdout and its fingerprint on stderr. Public keys only."
      })
  public static class Pubkey extends Base {
    @Option(
        names = "--path",
        paramLabel = "PATH",
        description = "SLIP-0010 path, hardened only (default: m/74'/0'/0', the node key).")
    String path;

    public Pubkey(Node node) {
      super(node);
    }

    @Override
    public Integer call() throws Exception {
      DerivationPath p;
      try {
        p = path == null ? DerivationPath.NODE_KEY : DerivationPath.parse(path);
      } catch (IllegalArgumentException e) {
        throw new CliSupport.CliException("--path: " + e.getMessage());
      }
      try (Vault v = open()) {
        PublicKey key = Ed25519Keys.publicFromRaw(v.publicKey(p));
        System.out.println(Ed25519Keys.sshPublicKeyLine(key, "alknet-vault " + p));
        System.err.println("fingerprint " + Fingerprints.sha256(key) + " (" + p + ")");
      }
      return 0;
    }
  }
}

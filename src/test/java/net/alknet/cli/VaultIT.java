package net.alknet.cli;

import static net.alknet.testing.NodeProcesses.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.alknet.auth.Ed25519Keys;
import net.alknet.endpoint.Certificates;
import net.alknet.testing.NodeProcesses;
import net.alknet.vault.Bip39;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vault through the packaged CLI (VAULT-1..3, CFG-3): the same mnemonic recovered into two data
 * directories gives two nodes with the same key, over QUIC and TLS/TCP; the secrets (mnemonic,
 * passphrase, credential) appear in no output, log or process argument.
 */
class VaultIT {

  @TempDir Path tmp;

  private final List<String> outputs = new ArrayList<>();
  private final List<Process> nodes = new ArrayList<>();

  record Result(int exit, String out, String err) {}

  @AfterEach
  void stopNodes() {
    nodes.forEach(Process::destroyForcibly);
  }

  Result run(byte[] stdin, String... args) throws Exception {
    List<String> cmd = jvm();
    cmd.add("-jar");
    cmd.add(runner().toString());
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    Process p =
        new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    try (var in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin);
      }
    }
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", args));
    }
    Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    outputs.add(String.join(" ", cmd) + "\n" + r.out() + "\n" + r.err());
    return r;
  }

  private Path ownerOnly(String name, String content) throws Exception {
    Path f = tmp.resolve(name);
    Files.createFile(
        f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(f, content);
    return f;
  }

  /** Starts {@code serve --vault}; returns the certificate pin it logs. */
  private String serve(Path data, Path passphrase, int port, Path log) throws Exception {
    return serve(data, passphrase, port, log, List.of());
  }

  /**
   * Starts {@code serve} ({@code --vault} unless {@code passphrase} is null) with extra system
   * properties; returns the certificate pin it logs.
   */
  private String serve(Path data, Path passphrase, int port, Path log, List<String> props)
      throws Exception {
    List<String> options = new ArrayList<>(List.of("-Dquarkus.management.port=0"));
    options.addAll(props);
    List<String> args = new ArrayList<>();
    if (passphrase != null) {
      args.addAll(List.of("--vault", "--passphrase-file", passphrase.toString()));
    }
    args.addAll(List.of("--data-dir", data.toString()));
    args.addAll(List.of("--port", String.valueOf(port), "--bind", "127.0.0.1"));
    Process p =
        NodeProcesses.serve(options, args, log, "node certificate SHA256:", Duration.ofSeconds(60));
    nodes.add(p);
    // What anyone on the machine can see of the process: its arguments.
    outputs.add(
        new String(
            Files.readAllBytes(Path.of("/proc", String.valueOf(p.pid()), "cmdline")),
            StandardCharsets.UTF_8));
    return Files.readString(log)
        .lines()
        .filter(l -> l.contains("node certificate SHA256:"))
        .findFirst()
        .orElseThrow()
        .replaceAll(".*node certificate (SHA256:[^;]+);.*", "$1");
  }

  @Test
  void sameMnemonicSameNodeKeyOnTwoDataDirsAndNoSecretLeaks() throws Exception {
    String mnemonic = new String(Bip39.generate(24, new SecureRandom()));
    String secret = "tok_" + Long.toHexString(new SecureRandom().nextLong()) + "_secret";
    Path mnemonicFile = ownerOnly("mnemonic.txt", mnemonic + "\n");
    Path passA = ownerOnly("pass-a", "first passphrase 1\n");
    Path passB = ownerOnly("pass-b", "second passphrase 2");
    Path a = tmp.resolve("a");
    Path b = tmp.resolve("b");

    // A from a mnemonic file, B from stdin; different passphrases.
    Result initA =
        run(
            null,
            "vault",
            "init",
            "--recover",
            "--mnemonic-file",
            mnemonicFile.toString(),
            "--passphrase-file",
            passA.toString(),
            "--data-dir",
            a.toString());
    assertEquals(0, initA.exit(), initA.err());
    assertEquals("", initA.out());
    Result initB =
        run(
            mnemonic.toUpperCase().replace(" ", "  ").getBytes(StandardCharsets.UTF_8),
            "vault",
            "init",
            "--recover",
            "--passphrase-file",
            passB.toString(),
            "--data-dir",
            b.toString());
    assertEquals(0, initB.exit(), initB.err());
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(a.resolve("vault"))));

    // A second init is refused; so is a broken mnemonic (one clear line, exit 1).
    Result again =
        run(
            mnemonic.getBytes(StandardCharsets.UTF_8),
            "vault",
            "init",
            "--recover",
            "--passphrase-file",
            passA.toString(),
            "--data-dir",
            a.toString());
    assertEquals(1, again.exit());
    assertTrue(again.err().contains("already has a vault"), again.err());
    String[] words = mnemonic.split(" ");
    // A first word that breaks the checksum (most do; pick one that surely does).
    String broken = null;
    for (String w : Bip39.wordlist()) {
      String candidate = w + mnemonic.substring(words[0].length());
      try {
        Bip39.toEntropy(candidate.toCharArray());
      } catch (net.alknet.vault.VaultException.InvalidMnemonic e) {
        broken = candidate;
        break;
      }
    }
    Result bad =
        run(
            broken.getBytes(StandardCharsets.UTF_8),
            "vault",
            "init",
            "--recover",
            "--passphrase-file",
            passA.toString(),
            "--data-dir",
            tmp.resolve("c").toString());
    assertEquals(1, bad.exit(), bad.err());
    assertEquals(
        "alknet: the mnemonic's checksum does not match: a word is wrong or out of order",
        bad.err().strip());
    assertFalse(Files.exists(tmp.resolve("c").resolve("vault")));

    // Credentials: add from stdin, list names, rotate, still there.
    String pa = passA.toString();
    String da = a.toString();
    Result add =
        run(
            (secret + "\n").getBytes(StandardCharsets.UTF_8),
            "vault",
            "add",
            "github-token",
            "--passphrase-file",
            pa,
            "--data-dir",
            da);
    assertEquals(0, add.exit(), add.err());
    Result dup =
        run(
            secret.getBytes(StandardCharsets.UTF_8),
            "vault",
            "add",
            "github-token",
            "--passphrase-file",
            pa,
            "--data-dir",
            da);
    assertEquals(1, dup.exit());
    assertTrue(dup.err().contains("--replace"), dup.err());
    Result list = run(null, "vault", "list", "--passphrase-file", pa, "--data-dir", da);
    assertEquals(0, list.exit(), list.err());
    assertEquals("github-token\n", list.out());
    Result rotate = run(null, "vault", "rotate", "--passphrase-file", pa, "--data-dir", da);
    assertEquals(0, rotate.exit(), rotate.err());
    assertTrue(rotate.out().contains("0 -> 1"), rotate.out());
    Result unlock = run(null, "vault", "unlock", "--passphrase-file", pa, "--data-dir", da);
    assertEquals(0, unlock.exit(), unlock.err());
    assertTrue(unlock.out().contains("credential key version 1"), unlock.out());
    assertTrue(unlock.out().contains("1 credential(s)"), unlock.out());

    // Wrong passphrase, group-readable passphrase file, no terminal: clear errors.
    Result wrong =
        run(null, "vault", "unlock", "--passphrase-file", passB.toString(), "--data-dir", da);
    assertEquals(1, wrong.exit());
    assertTrue(wrong.err().startsWith("alknet: wrong passphrase for "), wrong.err());
    Path loose = tmp.resolve("loose");
    Files.writeString(loose, "first passphrase 1\n");
    Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r-----"));
    Result group =
        run(null, "vault", "list", "--passphrase-file", loose.toString(), "--data-dir", da);
    assertEquals(1, group.exit());
    assertTrue(group.err().contains("chmod 600"), group.err());
    Result noTty = run(null, "vault", "list", "--data-dir", da);
    assertEquals(1, noTty.exit());
    assertTrue(noTty.err().contains("use --passphrase-file"), noTty.err());

    // pubkey: the same public key from both vaults.
    Result pubA = run(null, "vault", "pubkey", "--passphrase-file", pa, "--data-dir", da);
    Result pubB =
        run(
            null,
            "vault",
            "pubkey",
            "--passphrase-file",
            passB.toString(),
            "--data-dir",
            b.toString());
    assertEquals(0, pubA.exit(), pubA.err());
    assertTrue(pubA.out().startsWith("ssh-ed25519 "), pubA.out());
    assertEquals(pubA.out(), pubB.out());
    Result other =
        run(
            null,
            "vault",
            "pubkey",
            "--path",
            "m/74'/2'/0'",
            "--passphrase-file",
            pa,
            "--data-dir",
            da);
    assertEquals(0, other.exit(), other.err());
    assertFalse(other.out().split(" ")[1].equals(pubA.out().split(" ")[1]));
    Result badPath =
        run(null, "vault", "pubkey", "--path", "m/74/0", "--passphrase-file", pa, "--data-dir", da);
    assertEquals(1, badPath.exit());
    assertTrue(badPath.err().contains("hardened"), badPath.err());

    // Two nodes, two data dirs, one mnemonic: one node key.
    int portA = freePort();
    int portB = freePort();
    Path logA = tmp.resolve("a.log");
    Path logB = tmp.resolve("b.log");
    String fpA = serve(a, passA, portA, logA);
    String fpB = serve(b, passB, portB, logB);
    assertEquals(fpA, fpB);
    String expected = Certificates.fingerprint(Ed25519Keys.parseSshPublicKey(pubA.out().strip()));
    assertEquals(expected, fpA);
    String nodeKey = pubA.err().replaceAll("(?s).*fingerprint (SHA256:\\S+).*", "$1");
    assertTrue(Files.readString(logA).contains("node key " + nodeKey + " from the vault"));
    Result status = run(null, "status", "--data-dir", da);
    assertTrue(status.out().contains("certificate  " + fpA), status.out());

    // The derived key really serves TLS, over QUIC and TCP, pinned by that fingerprint.
    Path client = tmp.resolve("client");
    Result keygen = run(null, "keygen", "--data-dir", client.toString(), "--comment", "it");
    assertEquals(0, keygen.exit(), keygen.err());
    Files.writeString(a.resolve("authorized_keys"), "scopes=\"call\" " + keygen.out());
    assertEquals(0, run(null, "reload", "--data-dir", da).exit());
    for (int port : List.of(portA, portB)) {
      Result quic =
          run(
              "ping\n".getBytes(StandardCharsets.UTF_8),
              "bridge",
              "--data-dir",
              client.toString(),
              "--alpn",
              "alknet/echo",
              "127.0.0.1:" + port);
      assertEquals(0, quic.exit(), quic.err());
      assertEquals("ping\n", quic.out());
      Result tcp =
          run(
              "pong\n".getBytes(StandardCharsets.UTF_8),
              "bridge",
              "--tcp",
              "--data-dir",
              client.toString(),
              "--alpn",
              "alknet/echo",
              "127.0.0.1:" + port);
      assertEquals(0, tcp.exit(), tcp.err());
      assertEquals("pong\n", tcp.out());
    }
    String known = Files.readString(client.resolve("known_nodes"));
    assertTrue(known.contains(fpA), known);

    // The vault is not an operation: the call protocol describes none, and leaks nothing.
    Result describe =
        run(null, "call", "--data-dir", client.toString(), "127.0.0.1:" + portA, "sys/describe");
    assertEquals(0, describe.exit(), describe.err());
    assertTrue(describe.out().contains("demo/echo"), describe.out());
    assertFalse(describe.out().toLowerCase().contains("vault"), describe.out());

    // Help for every vault command, and serve's --vault.
    for (String c : List.of("init", "unlock", "add", "remove", "list", "rotate", "pubkey")) {
      Result h = run(null, "vault", c, "--help");
      assertEquals(0, h.exit(), c + ": " + h.err());
      assertTrue(h.out().contains("Usage: alknet vault " + c), h.out());
      assertTrue(h.out().contains("--passphrase-file"), h.out());
    }
    assertTrue(run(null, "serve", "--help").out().contains("--vault"));
    assertTrue(run(null, "--help").out().contains("vault"));

    // A restart of node A finds the same key (nothing about it is stored in the data dir).
    nodes.get(0).destroy();
    assertTrue(nodes.get(0).waitFor(30, TimeUnit.SECONDS));
    assertFalse(Files.exists(a.resolve("tls")), "a vault node writes no TLS key");
    assertEquals(fpA, serve(a, passA, freePort(), tmp.resolve("a2.log")));

    // No secret anywhere: outputs of every command, node logs, process arguments.
    List<String> everything = new ArrayList<>(outputs);
    for (Path log : List.of(logA, logB, tmp.resolve("a2.log"))) {
      everything.add(Files.readString(log));
    }
    List<String> forbidden =
        new ArrayList<>(List.of(secret, "first passphrase", "second passphrase"));
    for (int i = 0; i + 2 < words.length; i++) {
      forbidden.add(words[i] + " " + words[i + 1] + " " + words[i + 2]);
    }
    for (String text : everything) {
      String lower = text.toLowerCase();
      for (String f : forbidden) {
        assertFalse(lower.contains(f.toLowerCase()), "leaked '" + f + "' in:\n" + text);
      }
    }
    assertFalse(Files.readString(a.resolve("vault"), StandardCharsets.ISO_8859_1).contains(secret));
  }

  /**
   * A call import authenticates to its remote with an API key held in the vault ({@code
   * api-key-vault}); the key shows up in no output or log of the importing node.
   */
  @Test
  void aCallImportAuthenticatesWithAVaultCredential() throws Exception {
    // The remote node, with an API key for the importer.
    Path remote = tmp.resolve("remote");
    Result key =
        run(
            null,
            "apikey",
            "create",
            "importer",
            "--scopes",
            "call",
            "--append",
            "--data-dir",
            remote.toString());
    assertEquals(0, key.exit(), key.err());
    String apiKey = key.out().strip();
    outputs.remove(outputs.size() - 1); // that output is the one place the key is meant to appear
    int remotePort = freePort();
    String remotePin = serve(remote, null, remotePort, tmp.resolve("remote.log"), List.of());

    // The importing node: a vault holding that key, and a client allowed to call it.
    Path local = tmp.resolve("local");
    Path pass = ownerOnly("pass-import", "import passphrase");
    String p = pass.toString();
    assertEquals(
        0, run(null, "vault", "init", "--passphrase-file", p, "--data-dir", "" + local).exit());
    outputs.remove(outputs.size() - 1); // the new mnemonic
    Result add =
        run(
            apiKey.getBytes(StandardCharsets.UTF_8),
            "vault",
            "add",
            "remote-key",
            "--passphrase-file",
            p,
            "--data-dir",
            local.toString());
    assertEquals(0, add.exit(), add.err());
    Path client = tmp.resolve("client");
    Result keygen = run(null, "keygen", "--data-dir", client.toString());
    assertEquals(0, keygen.exit(), keygen.err());
    Files.writeString(local.resolve("authorized_keys"), "scopes=\"call\" " + keygen.out());
    List<String> imports =
        List.of(
            "-Dalknet.call.imports.r.target=127.0.0.1:" + remotePort,
            "-Dalknet.call.imports.r.fingerprint=" + remotePin,
            "-Dalknet.call.imports.r.api-key-vault=remote-key");

    // A name the vault does not hold: serve refuses to start, saying which.
    List<String> cmd = jvm();
    cmd.add("-Dquarkus.management.port=0");
    cmd.add("-Dalknet.call.imports.r.target=127.0.0.1:" + remotePort);
    cmd.add("-Dalknet.call.imports.r.api-key-vault=nope");
    cmd.addAll(List.of("-jar", runner().toString(), "serve", "--vault"));
    cmd.addAll(List.of("--passphrase-file", p, "--data-dir", local.toString(), "--port", "0"));
    Process refused = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String said = new String(refused.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(refused.waitFor(90, TimeUnit.SECONDS));
    assertEquals(1, refused.exitValue(), said);
    assertTrue(said.contains("no credential [nope]"), said);

    int localPort = freePort();
    Path localLog = tmp.resolve("local.log");
    serve(local, pass, localPort, localLog, imports);
    Result hop =
        run(
            null,
            "call",
            "--data-dir",
            client.toString(),
            "127.0.0.1:" + localPort,
            "r/demo/echo",
            "{\"text\":\"through the vault's key\"}");
    assertEquals(0, hop.exit(), hop.err() + "\n" + Files.readString(localLog));
    assertTrue(hop.out().contains("through the vault's key"), hop.out());
    outputs.add(Files.readString(localLog));
    for (String o : outputs) {
      assertFalse(o.contains(apiKey), "the API key leaked:\n" + o);
    }
  }

  @Test
  void initShowsANewMnemonicOnceOnStdout() throws Exception {
    Path pass = ownerOnly("pass", "p4ss");
    Path d = tmp.resolve("fresh");
    Result init =
        run(
            null,
            "vault",
            "init",
            "--words",
            "12",
            "--passphrase-file",
            pass.toString(),
            "--data-dir",
            d.toString());
    assertEquals(0, init.exit(), init.err());
    String mnemonic = init.out().strip();
    assertEquals(12, mnemonic.split(" ").length);
    assertEquals(mnemonic, new String(Bip39.normalize(mnemonic.toCharArray())));
    assertFalse(init.err().contains(mnemonic.split(" ")[0] + " " + mnemonic.split(" ")[1]));
    assertTrue(init.err().contains("shown only now"), init.err());
    // Nowhere on disk in clear.
    assertFalse(
        Files.readString(d.resolve("vault"), StandardCharsets.ISO_8859_1).contains(mnemonic));
    Result bad =
        run(
            null,
            "vault",
            "init",
            "--words",
            "13",
            "--passphrase-file",
            pass.toString(),
            "--data-dir",
            tmp.resolve("x").toString());
    assertEquals(1, bad.exit());
    assertTrue(bad.err().contains("--words must be"), bad.err());
  }
}

package net.alknet.vault;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.generators.SCrypt;

/**
 * The vault (VAULT-1..3): a BIP39 seed kept encrypted at rest in one file, plus named credentials
 * encrypted under keys derived from the seed.
 *
 * <ul>
 *   <li>The passphrase goes through scrypt (parameters in the header) to a 64-byte output: the
 *       first half is the AES-256-GCM key of the envelope (seed + credential table), the second
 *       half keys a short passphrase check, so a wrong passphrase is told apart from a damaged
 *       file. The whole header is the envelope's associated data: changing any byte of the file is
 *       detected.
 *   <li>Credential {@code name} at key version {@code v} is AES-256-GCM under the SLIP-0010 key
 *       {@code m/74'/1'/v'}, with a fresh random nonce, associated data {@code
 *       "alknet-vault-credential" ‖ v ‖ name}. {@link #rotate()} moves every credential to {@code v
 *       + 1}.
 *   <li>Every change is written with {@link AtomicFile} (temp + fsync + rename + fsync dir) under
 *       an exclusive lock on {@code <file>.lock}, and refused if another process changed the file
 *       since this object read it: a crash or a race never loses a credential.
 * </ul>
 *
 * <p>Secrets are {@code byte[]}/{@code char[]} and wiped after use where Java allows (the JCA key
 * objects and the scrypt/GCM internals keep copies the JVM does not let us clear). {@link #close()}
 * wipes the seed. Not thread-safe: one command or the node's startup uses one instance.
 */
public final class Vault implements AutoCloseable {

  /** File name of the vault in a data directory. */
  public static final String FILE_NAME = "vault";

  private static final byte[] CHECK_LABEL =
      "alknet-vault passphrase check v1".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CREDENTIAL_LABEL =
      "alknet-vault-credential".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] X509_ED25519_PREFIX =
      HexFormat.of().parseHex("302a300506032b6570032100");
  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path file;
  private final KdfParams kdf;
  private final byte[] salt;
  private final byte[] envelopeKey;
  private final byte[] checkValue;
  private final byte[] seed;
  private int keyVersion;
  private Map<String, VaultFile.Sealed> credentials;
  private byte[] onDisk;
  private boolean closed;
  AtomicFile.BeforeRename beforeRename = AtomicFile.NOTHING;

  private Vault(
      Path file,
      KdfParams kdf,
      byte[] salt,
      byte[] envelopeKey,
      byte[] checkValue,
      byte[] seed,
      int keyVersion,
      Map<String, VaultFile.Sealed> credentials,
      byte[] onDisk) {
    this.file = file;
    this.kdf = kdf;
    this.salt = salt;
    this.envelopeKey = envelopeKey;
    this.checkValue = checkValue;
    this.seed = seed;
    this.keyVersion = keyVersion;
    this.credentials = credentials;
    this.onDisk = onDisk;
  }

  /** {@code <dataDir>/vault}. */
  public static Path file(Path dataDir) {
    return dataDir.resolve(FILE_NAME);
  }

  /**
   * Creates a new vault file holding {@code seed} (64 bytes, e.g. from {@link Bip39#seed}),
   * encrypted under {@code passphrase}. The directory is created owner-only if missing.
   *
   * @throws VaultException if a vault already exists at {@code file} or the passphrase is empty
   */
  public static Vault create(Path file, char[] passphrase, byte[] seed, KdfParams kdf)
      throws IOException, VaultException {
    if (seed.length != VaultFile.SEED_LENGTH) {
      throw new IllegalArgumentException("a BIP39 seed has 64 bytes, not " + seed.length);
    }
    if (passphrase.length == 0) {
      throw new VaultException("the vault passphrase must not be empty");
    }
    Path f = file.toAbsolutePath();
    AtomicFile.createPrivateDirectory(f.getParent());
    if (Files.exists(f)) {
      throw new VaultException(f + " exists: this data directory already has a vault");
    }
    byte[] salt = new byte[VaultFile.SALT_LENGTH];
    RANDOM.nextBytes(salt);
    byte[] derived = scrypt(passphrase, salt, kdf);
    byte[] key = Arrays.copyOf(derived, 32);
    byte[] check = check(derived);
    Secrets.wipe(derived);
    Vault v = new Vault(f, kdf, salt, key, check, seed.clone(), 0, new LinkedHashMap<>(), null);
    try {
      v.save(true);
      return v;
    } catch (IOException | VaultException | RuntimeException e) {
      v.close();
      throw e;
    }
  }

  /**
   * Opens and decrypts an existing vault.
   *
   * @throws VaultException.WrongPassphrase if the passphrase does not match
   * @throws VaultException.Damaged if the file is malformed, truncated, oversized or was altered
   * @throws VaultException if there is no vault at {@code file}
   */
  public static Vault open(Path file, char[] passphrase) throws IOException, VaultException {
    Path f = file.toAbsolutePath();
    byte[] bytes = read(f);
    VaultFile.Parsed p = VaultFile.parse(bytes);
    byte[] derived = scrypt(passphrase, p.salt(), p.kdf());
    byte[] key = Arrays.copyOf(derived, 32);
    byte[] check = check(derived);
    Secrets.wipe(derived);
    if (!MessageDigest.isEqual(check, p.check())) {
      Secrets.wipe(key);
      throw new VaultException.WrongPassphrase(
          "wrong passphrase for " + f + " (or its header was altered)");
    }
    byte[] plain = null;
    try {
      plain = gcm(Cipher.DECRYPT_MODE, key, p.nonce(), p.headerBytes(), p.body());
    } catch (AEADBadTagException e) {
      Secrets.wipe(key);
      throw new VaultException.Damaged(
          f + " is damaged or was tampered with (authentication failed)");
    }
    try {
      VaultFile.Envelope env = VaultFile.parseEnvelope(plain);
      return new Vault(
          f,
          p.kdf(),
          p.salt(),
          key,
          check,
          env.seed(),
          env.keyVersion(),
          new LinkedHashMap<>(env.credentials()),
          bytes);
    } catch (VaultException.Damaged e) {
      Secrets.wipe(key);
      throw e;
    } finally {
      Secrets.wipe(plain);
    }
  }

  /** The path of the vault file. */
  public Path path() {
    return file;
  }

  /** The scrypt parameters in the file's header. */
  public KdfParams kdf() {
    return kdf;
  }

  /** The current credential key version (0 after init, +1 per rotate). */
  public int keyVersion() {
    return keyVersion;
  }

  /** Credential names, in insertion order. */
  public List<String> names() {
    ensureOpen();
    return List.copyOf(credentials.keySet());
  }

  /**
   * Stores (or replaces) a credential and writes the file.
   *
   * @param name 1-64 letters, digits, {@code . _ - : /}, starting with a letter or digit
   * @param secret up to 64 KiB; not kept by this object (the caller wipes it)
   */
  public void put(String name, byte[] secret) throws IOException, VaultException {
    ensureOpen();
    if (!isValidName(name)) {
      throw new VaultException(
          "invalid credential name: use 1-64 letters, digits, '.', '_', '-', ':' or '/'");
    }
    if (secret.length > VaultFile.MAX_SECRET) {
      throw new VaultException(
          "a credential holds at most "
              + VaultFile.MAX_SECRET
              + " bytes, this one has "
              + secret.length);
    }
    if (!credentials.containsKey(name) && credentials.size() >= VaultFile.MAX_CREDENTIALS) {
      throw new VaultException(
          "the vault holds at most " + VaultFile.MAX_CREDENTIALS + " credentials");
    }
    Map<String, VaultFile.Sealed> next = new LinkedHashMap<>(credentials);
    byte[] key = credentialKey(keyVersion);
    try {
      next.put(name, seal(key, keyVersion, name, secret));
    } finally {
      Secrets.wipe(key);
    }
    Map<String, VaultFile.Sealed> previous = credentials;
    credentials = next;
    try {
      save(false);
    } catch (IOException | VaultException | RuntimeException e) {
      credentials = previous;
      throw e;
    }
  }

  /**
   * Removes a credential and writes the file.
   *
   * @return whether it existed
   */
  public boolean remove(String name) throws IOException, VaultException {
    ensureOpen();
    if (!credentials.containsKey(name)) {
      return false;
    }
    Map<String, VaultFile.Sealed> previous = credentials;
    Map<String, VaultFile.Sealed> next = new LinkedHashMap<>(credentials);
    next.remove(name);
    credentials = next;
    try {
      save(false);
    } catch (IOException | VaultException | RuntimeException e) {
      credentials = previous;
      throw e;
    }
    return true;
  }

  /**
   * The secret stored under {@code name}; the caller MUST wipe it.
   *
   * @throws VaultException if there is no such credential
   * @throws VaultException.Damaged if it does not decrypt
   */
  public byte[] read(String name) throws VaultException {
    ensureOpen();
    VaultFile.Sealed s = credentials.get(name);
    if (s == null) {
      throw new VaultException("no credential named '" + sanitize(name) + "' in the vault");
    }
    byte[] key = credentialKey(keyVersion);
    try {
      return unseal(key, keyVersion, name, s);
    } finally {
      Secrets.wipe(key);
    }
  }

  /**
   * Re-encrypts every credential from key version {@code n} to {@code n + 1} and writes the file
   * (all or nothing: on any error the file and this object keep version {@code n}).
   */
  public void rotate() throws IOException, VaultException {
    ensureOpen();
    if (keyVersion == Integer.MAX_VALUE) {
      throw new VaultException("the credential key version cannot go past " + Integer.MAX_VALUE);
    }
    int from = keyVersion;
    int to = from + 1;
    byte[] oldKey = credentialKey(from);
    byte[] newKey = credentialKey(to);
    Map<String, VaultFile.Sealed> next = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, VaultFile.Sealed> e : credentials.entrySet()) {
        byte[] secret = unseal(oldKey, from, e.getKey(), e.getValue());
        try {
          next.put(e.getKey(), seal(newKey, to, e.getKey(), secret));
        } finally {
          Secrets.wipe(secret);
        }
      }
    } finally {
      Secrets.wipe(oldKey, newKey);
    }
    Map<String, VaultFile.Sealed> previous = credentials;
    credentials = next;
    keyVersion = to;
    try {
      save(false);
    } catch (IOException | VaultException | RuntimeException e) {
      credentials = previous;
      keyVersion = from;
      throw e;
    }
  }

  /** The SLIP-0010 key at {@code path}; the caller MUST close it. */
  public Slip10.Key derive(DerivationPath path) {
    ensureOpen();
    return Slip10.derive(seed, path);
  }

  /** The raw 32-byte Ed25519 public key at {@code path} (public material only). */
  public byte[] publicKey(DerivationPath path) {
    try (Slip10.Key k = derive(path)) {
      return k.publicKey();
    }
  }

  /** The Ed25519 key pair at {@code path} as JCA keys (e.g. {@link DerivationPath#NODE_KEY}). */
  public KeyPair keyPair(DerivationPath path) {
    try (Slip10.Key k = derive(path)) {
      byte[] priv = k.privateKey();
      byte[] pub = k.publicKey();
      try {
        KeyFactory kf = KeyFactory.getInstance("Ed25519");
        PrivateKey privateKey =
            kf.generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, priv));
        byte[] spki = Arrays.copyOf(X509_ED25519_PREFIX, X509_ED25519_PREFIX.length + 32);
        System.arraycopy(pub, 0, spki, X509_ED25519_PREFIX.length, 32);
        PublicKey publicKey = kf.generatePublic(new X509EncodedKeySpec(spki));
        return new KeyPair(publicKey, privateKey);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("Ed25519 is not available: " + e.getMessage(), e);
      } finally {
        Secrets.wipe(priv);
      }
    }
  }

  /**
   * A {@link Credentials} capability serving only {@code granted} names (those present now). It
   * holds the current credential key and the sealed secrets, not the seed, so it stays valid after
   * this vault is closed; it does not see later changes.
   */
  public Credentials credentials(Set<String> granted) {
    ensureOpen();
    Map<String, VaultFile.Sealed> subset = new LinkedHashMap<>();
    for (String n : granted) {
      VaultFile.Sealed s = credentials.get(n);
      if (s != null) {
        subset.put(n, s);
      }
    }
    Map<String, VaultFile.Sealed> frozen = Map.copyOf(subset);
    byte[] key = credentialKey(keyVersion);
    int version = keyVersion;
    return name -> {
      VaultFile.Sealed s = frozen.get(name);
      if (s == null) {
        return Optional.empty();
      }
      try {
        return Optional.of(unseal(key, version, name, s));
      } catch (VaultException e) {
        throw new IllegalStateException(e.getMessage());
      }
    };
  }

  /** Wipes the seed and keys held by this object. Idempotent. */
  @Override
  public void close() {
    closed = true;
    Secrets.wipe(seed, envelopeKey);
  }

  /** Whether {@code name} is a valid credential name. */
  public static boolean isValidName(String name) {
    return name != null && VaultFile.NAME.matcher(name).matches();
  }

  // ---- internals ----

  byte[] credentialKey(int version) {
    try (Slip10.Key k = Slip10.derive(seed, DerivationPath.credentialKey(version))) {
      return k.privateKey();
    }
  }

  /** The stored form of a credential (tests look at it to prove rotation). */
  VaultFile.Sealed sealed(String name) {
    return credentials.get(name);
  }

  static VaultFile.Sealed seal(byte[] key, int version, String name, byte[] secret) {
    byte[] nonce = new byte[VaultFile.NONCE_LENGTH];
    RANDOM.nextBytes(nonce);
    try {
      return new VaultFile.Sealed(
          nonce, gcm(Cipher.ENCRYPT_MODE, key, nonce, credentialAad(version, name), secret));
    } catch (AEADBadTagException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] unseal(byte[] key, int version, String name, VaultFile.Sealed sealed)
      throws VaultException.Damaged {
    try {
      return gcm(
          Cipher.DECRYPT_MODE,
          key,
          sealed.nonce(),
          credentialAad(version, name),
          sealed.ciphertext());
    } catch (AEADBadTagException e) {
      throw new VaultException.Damaged(
          "credential '" + name + "' does not decrypt under key version " + version);
    }
  }

  private static byte[] credentialAad(int version, String name) {
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    return ByteBuffer.allocate(CREDENTIAL_LABEL.length + 4 + 1 + n.length)
        .put(CREDENTIAL_LABEL)
        .putInt(version)
        .put((byte) n.length)
        .put(n)
        .array();
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("vault is closed");
    }
  }

  /**
   * Writes the current state. {@code fresh}: the file must not exist yet; otherwise it must still
   * hold exactly what this object read or last wrote.
   */
  private void save(boolean fresh) throws IOException, VaultException {
    byte[] plain = VaultFile.envelope(seed, keyVersion, credentials);
    byte[] out;
    try {
      byte[] nonce = new byte[VaultFile.NONCE_LENGTH];
      RANDOM.nextBytes(nonce);
      byte[] header =
          VaultFile.header(kdf, salt, checkValue, nonce, plain.length + VaultFile.TAG_LENGTH);
      byte[] body = gcm(Cipher.ENCRYPT_MODE, envelopeKey, nonce, header, plain);
      out = Arrays.copyOf(header, header.length + body.length);
      System.arraycopy(body, 0, out, header.length, body.length);
    } catch (AEADBadTagException e) {
      throw new IllegalStateException(e);
    } finally {
      Secrets.wipe(plain);
    }
    if (out.length > VaultFile.MAX_FILE) {
      throw new VaultException("the vault would exceed " + (VaultFile.MAX_FILE >> 20) + " MiB");
    }
    Path lock = file.resolveSibling(file.getFileName() + ".lock");
    try (FileChannel ch =
            FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock held = ch.lock()) {
      boolean exists = Files.exists(file);
      if (fresh && exists) {
        throw new VaultException(file + " exists: this data directory already has a vault");
      }
      if (!fresh && (!exists || !Arrays.equals(read(file), onDisk))) {
        throw new VaultException(
            file + " changed since it was opened (another alknet vault command?); run again");
      }
      AtomicFile.write(file, out, beforeRename);
      onDisk = out;
    }
  }

  private static byte[] read(Path f) throws IOException, VaultException {
    long size;
    try {
      size = Files.size(f);
    } catch (NoSuchFileException e) {
      throw new VaultException("no vault at " + f + "; create one with `alknet vault init`");
    }
    if (size > VaultFile.MAX_FILE) {
      throw new VaultException.Damaged(
          f
              + " is "
              + size
              + " bytes, more than a vault can be ("
              + (VaultFile.MAX_FILE >> 20)
              + " MiB)");
    }
    byte[] bytes = Files.readAllBytes(f);
    if (bytes.length > VaultFile.MAX_FILE) {
      throw new VaultException.Damaged(
          f + " grew past " + (VaultFile.MAX_FILE >> 20) + " MiB while being read");
    }
    return bytes;
  }

  private static byte[] scrypt(char[] passphrase, byte[] salt, KdfParams kdf) {
    byte[] pass = Secrets.utf8(passphrase);
    try {
      return SCrypt.generate(pass, salt, 1 << kdf.logN(), kdf.r(), kdf.p(), 64);
    } finally {
      Secrets.wipe(pass);
    }
  }

  private static byte[] check(byte[] derived) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(derived, 32, 32, "HmacSHA256"));
      return Arrays.copyOf(mac.doFinal(CHECK_LABEL), VaultFile.CHECK_LENGTH);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] gcm(int mode, byte[] key, byte[] nonce, byte[] aad, byte[] input)
      throws AEADBadTagException {
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(mode, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
      c.updateAAD(aad);
      return c.doFinal(input);
    } catch (AEADBadTagException e) {
      throw e;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-256-GCM is not available: " + e.getMessage(), e);
    }
  }

  private static String sanitize(String name) {
    return isValidName(name) ? name : "(invalid name)";
  }
}

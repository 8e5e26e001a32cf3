package net.alknet.endpoint;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;

/**
 * The node's TLS certificate chain and private key (EP-8), shared by QUIC and TLS/TCP.
 *
 * <p>Zero-config default: an ECDSA P-256 self-signed certificate generated on first start and
 * persisted as {@code <data-dir>/tls/node.crt} and {@code node.key} (owner-only), reused on every
 * later start. Alternatively PEM files given in config (certificate chain + PKCS#8 or traditional
 * private key).
 */
public record TlsIdentity(PrivateKey privateKey, List<X509Certificate> chain) {

  public TlsIdentity {
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a TLS identity needs at least one certificate");
    }
    chain = List.copyOf(chain);
  }

  public X509Certificate certificate() {
    return chain.get(0);
  }

  /** The pin clients store in {@code known_nodes}. */
  public String fingerprint() {
    return Certificates.fingerprint(certificate());
  }

  /** Loads {@code <dir>/node.crt} + {@code node.key}, generating and persisting them if absent. */
  public static TlsIdentity loadOrGenerate(Path dir) throws IOException {
    Path cert = dir.resolve("node.crt");
    Path key = dir.resolve("node.key");
    if (Files.exists(cert) && Files.exists(key)) {
      return fromPem(cert, key);
    }
    Files.createDirectories(dir);
    TlsIdentity generated = generate();
    writePrivate(key, toPem(generated.privateKey()));
    Path tmp = Files.createTempFile(dir, "node", ".crt.tmp");
    Files.writeString(tmp, toPem(generated.certificate()));
    Files.move(tmp, cert, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    return generated;
  }

  /** A fresh self-signed identity for localhost (ECDSA P-256, ten years). */
  public static TlsIdentity generate() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keys = gen.generateKeyPair();
      X509Certificate cert =
          Certificates.selfSigned(
              keys, "alknet node", List.of("localhost", "127.0.0.1", "::1"), Duration.ofDays(3650));
      return new TlsIdentity(keys.getPrivate(), List.of(cert));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate a TLS key: " + e.getMessage(), e);
    }
  }

  /**
   * A self-signed identity for a given key pair (e.g. the Ed25519 node key derived from the vault):
   * the pin ({@link #fingerprint()}) depends only on the key, so it is the same on every start and
   * on every machine holding the same key. Nothing is written to disk.
   */
  public static TlsIdentity selfSigned(KeyPair keys) {
    X509Certificate cert =
        Certificates.selfSigned(
            keys, "alknet node", List.of("localhost", "127.0.0.1", "::1"), Duration.ofDays(3650));
    return new TlsIdentity(keys.getPrivate(), List.of(cert));
  }

  /** Reads a PEM certificate chain and a PEM private key. Errors name the file. */
  public static TlsIdentity fromPem(Path certificateFile, Path keyFile) throws IOException {
    List<X509Certificate> chain = new ArrayList<>();
    try (var in = Files.newInputStream(certificateFile)) {
      Collection<? extends java.security.cert.Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      for (var c : certs) {
        chain.add((X509Certificate) c);
      }
    } catch (GeneralSecurityException e) {
      throw new IOException(certificateFile + ": not a PEM certificate (" + e.getMessage() + ")");
    }
    if (chain.isEmpty()) {
      throw new IOException(certificateFile + ": no certificate found");
    }
    PrivateKey key;
    try (Reader r = Files.newBufferedReader(keyFile);
        PEMParser parser = new PEMParser(r)) {
      Object o = parser.readObject();
      JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair pair) {
        key = conv.getPrivateKey(pair.getPrivateKeyInfo());
      } else if (o instanceof PrivateKeyInfo info) {
        key = conv.getPrivateKey(info);
      } else {
        throw new IOException(keyFile + ": not an unencrypted PEM private key (PKCS#8, EC or RSA)");
      }
    }
    return new TlsIdentity(key, chain);
  }

  static String toPem(Object o) throws IOException {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter pem = new JcaPEMWriter(w)) {
      pem.writeObject(
          o instanceof PrivateKey k
              ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null)
              : o);
    }
    return w.toString();
  }

  /** Writes a secret file created owner-only (rw-------) from the start; never overwrites. */
  static void writePrivate(Path file, String content) throws IOException {
    try {
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (FileAlreadyExistsException e) {
      throw new IOException(file + " exists; refusing to overwrite it");
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    }
    Files.writeString(file, content);
  }
}

package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** EP-8: the zero-config self-signed identity, and PEM files made by the stock openssl. */
class TlsIdentityTest {

  @TempDir Path dir;

  @Test
  void generatedOnceThenReused() throws IOException {
    TlsIdentity first = TlsIdentity.loadOrGenerate(dir.resolve("tls"));
    TlsIdentity again = TlsIdentity.loadOrGenerate(dir.resolve("tls"));
    assertEquals(first.fingerprint(), again.fingerprint());
    assertEquals(
        "rw-------",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("tls/node.key"))));
  }

  @Test
  void pemFilesFromOpensslServeTls() throws Exception {
    Assumptions.assumeTrue(onPath("openssl"), "openssl not installed");
    Path key = dir.resolve("key.pem");
    Path cert = dir.resolve("cert.pem");
    Process p =
        new ProcessBuilder(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString(),
                "-days",
                "2",
                "-subj",
                "/CN=pem-test")
            .redirectErrorStream(true)
            .start();
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), new String(p.getInputStream().readAllBytes()));
    TlsIdentity id = TlsIdentity.fromPem(cert, key);
    assertTrue(id.certificate().getSubjectX500Principal().getName().contains("pem-test"));

    // And a node actually serves with it, over both transports.
    try (TestNodes nodes = new TestNodes()) {
      nodes.server =
          new EndpointServer(
              HandlerRegistry.of(TestHandlers.echo("test/echo")),
              id,
              nodes.identities,
              EndpointLimits.DEFAULTS,
              EndpointServer.Options.loopback(0),
              nodes.group,
              nodes.metrics);
      nodes.server.start();
      for (Transport t : Transport.values()) {
        Connection c =
            nodes
                .client()
                .connect(
                    "127.0.0.1",
                    nodes.server.port(),
                    "test/echo",
                    Trust.pinned(id.fingerprint()),
                    t);
        assertEquals("pem", TestNodes.exchange(c, "pem"));
        c.close(CloseCode.NO_ERROR, "");
      }
    }
  }

  @Test
  void malformedPemFilesAreClearErrorsNamingTheFile() throws IOException {
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Files.writeString(
        cert, "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n");
    Files.writeString(key, "garbage");
    IOException e = assertThrows(IOException.class, () -> TlsIdentity.fromPem(cert, key));
    assertTrue(e.getMessage().contains(cert.toString()), e.getMessage());

    TlsIdentity good = TlsIdentity.generate();
    Files.writeString(cert, TlsIdentity.toPem(good.certificate()));
    e = assertThrows(IOException.class, () -> TlsIdentity.fromPem(cert, key));
    assertTrue(e.getMessage().contains(key.toString()), e.getMessage());
  }

  private static boolean onPath(String tool) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(d, tool))) {
        return true;
      }
    }
    return false;
  }
}

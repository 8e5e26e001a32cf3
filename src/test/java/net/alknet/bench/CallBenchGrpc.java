package net.alknet.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.alknet.endpoint.TlsIdentity;

/**
 * The gRPC-java anchor of {@link CallBench}: one unary method {@code bench.Echo/Echo} without
 * protobuf. Requests and responses are the same JSON text as alknet's {@code demo/echo} ({@code
 * {"text": ...}}), read and written with Jackson on both sides: the server binds it to a record and
 * writes the record back (as alknet's typed operation does), the client reads and writes a {@link
 * JsonNode} tree (as {@code CallClient.call} does).
 *
 * <p>TLS 1.3 with the JDK provider, an ECDSA P-256 self-signed certificate ({@link
 * TlsIdentity#generate()}, the same kind of key the node has), HTTP/2 over ALPN {@code h2}. Server
 * and client otherwise use grpc-netty's defaults (event loops, the cached executor for callbacks
 * and handlers).
 */
final class CallBenchGrpc {

  static final String SERVICE = "bench.Echo";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the server binds the request to, like {@code DemoOperations.Echo}. */
  record Echo(String text) {}

  /** JSON text read and written with Jackson, as a {@code T}. */
  static final class JsonMarshaller<T> implements MethodDescriptor.Marshaller<T> {
    private final Class<T> type;

    JsonMarshaller(Class<T> type) {
      this.type = type;
    }

    @Override
    public InputStream stream(T value) {
      try {
        return new ByteArrayInputStream(JSON.writeValueAsBytes(value));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public T parse(InputStream stream) {
      try {
        return JSON.readValue(stream, type);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  static <T> MethodDescriptor<T, T> method(Class<T> type) {
    return MethodDescriptor.<T, T>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Echo"))
        .setRequestMarshaller(new JsonMarshaller<>(type))
        .setResponseMarshaller(new JsonMarshaller<>(type))
        .build();
  }

  private CallBenchGrpc() {}

  /**
   * Child JVM: serves {@code bench.Echo/Echo} on 127.0.0.1 (free port), writes the certificate to
   * {@code certFile}, prints {@code READY <port>} and runs until stdin closes.
   */
  static void serve(Path certFile) throws Exception {
    TlsIdentity tls = TlsIdentity.generate();
    Files.writeString(certFile, pem(tls.certificate()));
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(SERVICE)
            .addMethod(
                method(Echo.class),
                ServerCalls.asyncUnaryCall(
                    (Echo request, io.grpc.stub.StreamObserver<Echo> response) -> {
                      response.onNext(new Echo(request.text()));
                      response.onCompleted();
                    }))
            .build();
    Server server = server(tls, service, false);
    Server direct = server(tls, service, true);
    System.out.println("READY " + server.getPort() + " " + direct.getPort());
    System.out.flush();
    while (System.in.read() >= 0) {
      // wait for the parent to close stdin
    }
    server.shutdown().awaitTermination(2, TimeUnit.SECONDS);
    direct.shutdown().awaitTermination(2, TimeUnit.SECONDS);
    System.exit(0);
  }

  /**
   * A server on 127.0.0.1 (free port) with TLS 1.3; {@code direct}: handlers run on the event loop
   * ({@code directExecutor()}, gRPC's advice for handlers that never block), otherwise on
   * grpc-java's default cached executor.
   */
  private static Server server(TlsIdentity tls, ServerServiceDefinition service, boolean direct)
      throws IOException {
    NettyServerBuilder b =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(
                GrpcSslContexts.configure(
                        io.netty.handler.ssl.SslContextBuilder.forServer(
                            tls.privateKey(), tls.chain().toArray(new X509Certificate[0])),
                        SslProvider.JDK)
                    .protocols("TLSv1.3")
                    .build())
            .addService(service);
    if (direct) {
      b.directExecutor();
    }
    return b.build().start();
  }

  static String pem(X509Certificate cert) throws CertificateEncodingException {
    return "-----BEGIN CERTIFICATE-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(cert.getEncoded())
        + "\n-----END CERTIFICATE-----\n";
  }

  /** The client side: one channel (one HTTP/2 connection), trusting the server's certificate. */
  static final class Client implements CallBench.Target {
    private static final MethodDescriptor<JsonNode, JsonNode> METHOD = method(JsonNode.class);
    private final ManagedChannel channel;
    private final JsonNode input;
    private final long serverPid;

    private final boolean direct;

    Client(int port, Path certFile, JsonNode input, long serverPid, boolean direct)
        throws IOException {
      NettyChannelBuilder b =
          NettyChannelBuilder.forAddress("127.0.0.1", port)
              .sslContext(
                  GrpcSslContexts.configure(
                          io.netty.handler.ssl.SslContextBuilder.forClient(), SslProvider.JDK)
                      .protocols("TLSv1.3")
                      .trustManager(certFile.toFile())
                      .build());
      if (direct) {
        b.directExecutor();
      }
      this.channel = b.build();
      this.input = input;
      this.serverPid = serverPid;
      this.direct = direct;
    }

    @Override
    public String name() {
      return direct ? "grpcd" : "grpc";
    }

    @Override
    public long serverPid() {
      return serverPid;
    }

    @Override
    public CompletableFuture<?> call() {
      ListenableFuture<JsonNode> f =
          ClientCalls.futureUnaryCall(channel.newCall(METHOD, io.grpc.CallOptions.DEFAULT), input);
      CompletableFuture<JsonNode> c = new CompletableFuture<>();
      f.addListener(
          () -> {
            try {
              c.complete(f.get());
            } catch (Exception e) {
              c.completeExceptionally(e);
            }
          },
          MoreExecutors.directExecutor());
      return c;
    }

    @Override
    public void close() throws InterruptedException {
      channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
  }
}

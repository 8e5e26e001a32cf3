package net.alknet.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Static configuration of a node (CFG-1), read once at startup from {@code application.properties},
 * system properties or {@code config/application.properties} beside the working directory.
 * Everything has a default that makes {@code alknet serve} work with no file at all. Secrets are
 * never read from here or from the environment (CFG-3): keys live in files in the data directory.
 */
@ConfigMapping(prefix = "alknet")
public interface AlknetConfig {

  /**
   * Data directory: node key, TLS identity, dynamic config, known_nodes, control socket. Default
   * {@code ~/.alknet}; the CLI's {@code --data-dir} overrides it.
   */
  @WithDefault("${user.home}/.alknet")
  Path dataDir();

  /** The listening endpoint. */
  Endpoint endpoint();

  /** TLS identity of the node. */
  Tls tls();

  /** Resource limits (EP-6). */
  Limits limits();

  /** Protocol handlers. */
  Handlers handlers();

  /** Authentication settings. */
  Auth auth();

  /** Dynamic (reloadable) config. */
  Dynamic dynamic();

  /** The call protocol (ALPN alknet/call). */
  Call call();

  /** HTTP on the endpoint's port (ALPNs h2, http/1.1). */
  Http http();

  /** The SSH gateway (ALPN alknet/ssh), see docs/ssh.md. */
  Ssh ssh();

  /** The git server (ALPN alknet/git), see docs/git.md. */
  Git git();

  /** The git server (GIT-1, GIT-2): JGit's storage settings and repository maintenance. */
  interface Git {
    /**
     * Delta-search window memory per pack-generation thread (clones and maintenance); also caps the
     * delta cache and the size up to which objects get a delta search. Default {@code 32M}.
     */
    @WithDefault("32M")
    MemorySize packMemoryLimit();

    /**
     * SHA-1 with collision detection (JGit's pure-Java sha1dc, which rejects the known collision
     * attacks such as SHAttered) for every object id the node computes, notably when it indexes a
     * pushed pack. {@code false} uses the JDK's SHA-1 (faster: it uses the CPU's SHA-1 instructions
     * where the JVM has them) without collision detection, so a pushed object that collides with
     * another could be stored: a security trade-off, see docs/git.md. Default {@code true}.
     */
    @WithDefault("true")
    boolean sha1CollisionDetection();

    /**
     * Largest object a push may bring (each object's size is checked, from its header, before JGit
     * allocates for it): a push with a larger object is refused with {@code Object too large}. As
     * GitHub's limit. {@code 0} for no limit. Default {@code 100M}.
     */
    @WithDefault("100M")
    MemorySize maxObjectSize();

    /**
     * Most objects a pushed pack may declare in its header (JGit allocates for that many before the
     * first object arrives). Default {@code 10000000}.
     */
    @WithDefault("10000000")
    long maxPackObjects();

    /** Largest pack a push may send (git's {@code receive.maxInputSize}). Unset: no limit. */
    Optional<MemorySize> maxPackSize();

    /**
     * Heap all pushes in progress together may hold for the objects of their packs (about 128 bytes
     * per object, reserved when a pack's header declares its count): a push past it is refused,
     * with "try again later" while others hold the memory. Unset: a quarter of the maximum heap.
     */
    Optional<MemorySize> pushMemory();

    /**
     * Time a client has, once connected, to send its first message (git daemon's {@code
     * --init-timeout}); a late one gets an error and the connection is closed. Default {@code 10s}.
     */
    @WithDefault("10s")
    Duration requestTimeout();

    /**
     * Longest one read from or write to a client may block once git runs (git daemon's {@code
     * --timeout}); then the clone or push ends, and a push changes no ref. Long enough for a client
     * that counts and compresses a large repository before its pack starts. Default {@code 10m}.
     */
    @WithDefault("10m")
    Duration ioTimeout();

    /** JGit's process-wide pack cache. */
    Storage storage();

    /** Background repository maintenance after pushes. */
    Maintenance maintenance();

    /** JGit's window cache (one per node, shared by every repository). */
    interface Storage {
      /**
       * Pack data JGit keeps in memory, all repositories together (JGit's {@code
       * core.packedGitLimit}). Unset (default): 1/8 of the maximum heap, at least 10M and at most
       * 256M.
       */
      Optional<MemorySize> packedGitLimit();

      /**
       * Unit in which pack data is read and cached (JGit's {@code core.packedGitWindowSize}): a
       * power of two from 4K to 1M, at most the packed-git limit. Default {@code 64K} (JGit's own
       * default is 8K).
       */
      @WithDefault("64K")
      MemorySize windowSize();

      /**
       * Memory for inflated delta bases (JGit's {@code core.deltaBaseCacheLimit}). Unset (default):
       * 1/32 of the maximum heap, at least 10M and at most 64M.
       */
      Optional<MemorySize> deltaBaseCacheLimit();

      /**
       * Map pack files into memory ({@code mmap}) instead of reading them into the heap. Default
       * {@code false}.
       */
      @WithDefault("false")
      boolean mmap();
    }

    /**
     * Repository maintenance: JGit's GC with bitmap indexes, in the background, after pushes that
     * brought enough new objects.
     */
    interface Maintenance {
      /** Run maintenance at all. Default {@code true}. */
      @WithDefault("true")
      boolean enabled();

      /**
       * Objects not covered by a bitmap index (newer than the newest pack with bitmaps) that make a
       * push start maintenance. Default {@code 5000}.
       */
      @WithDefault("5000")
      long minNewObjects();

      /**
       * Packs newer than the newest pack with bitmaps (each push adds one) that make a push start
       * maintenance, however few objects they hold. Default {@code 20}.
       */
      @WithDefault("20")
      int maxNewPacks();

      /**
       * Least time between the starts of two maintenance runs of one repository; a push sooner
       * schedules the run for then. Default {@code 5m}.
       */
      @WithDefault("5m")
      Duration minInterval();

      /**
       * Age (file modification time) a pack replaced by maintenance must have before it is deleted,
       * so clones and fetches still reading it finish; younger ones are deleted by a later run.
       * Default {@code 1h}.
       */
      @WithDefault("1h")
      Duration packExpire();

      /** Threads running maintenance, for the whole node. Default {@code 1}. */
      @WithDefault("1")
      int threads();

      /**
       * Repositories that may wait for maintenance; past it requests are dropped (and counted) and
       * the next push asks again. Default {@code 100}.
       */
      @WithDefault("100")
      int maxPending();
    }
  }

  /** The SSH gateway (SSH-1, SSH-2). */
  interface Ssh {
    /**
     * Host key: an unencrypted OpenSSH Ed25519 private key. Unset (default): {@code
     * <data-dir>/ssh_host_ed25519_key}, generated on first use.
     */
    Optional<Path> hostKey();

    /** Time a client has to authenticate after connecting. Default {@code 30s}. */
    @WithDefault("30s")
    Duration authTimeout();

    /**
     * How often the gateway asks an authenticated client whether it is alive ({@code
     * keepalive@openssh.com}, like OpenSSH's {@code ClientAliveInterval}); {@code 0} for never. It
     * also keeps idle sessions under the endpoint's idle timeout. Default {@code 60s}.
     */
    @WithDefault("60s")
    Duration clientAliveInterval();

    /**
     * Unanswered keepalives after which the session is closed (OpenSSH's {@code
     * ClientAliveCountMax}). Default {@code 3}.
     */
    @WithDefault("3")
    int clientAliveCountMax();

    /**
     * Channels one SSH session may have open at once (sessions, forwards of every kind); one more
     * is refused with {@code SSH_OPEN_RESOURCE_SHORTAGE}. OpenSSH's {@code MaxSessions} is 10 for
     * session channels alone; {@code ssh -D} behind a browser opens dozens of forwards. Default
     * {@code 128}.
     */
    @WithDefault("128")
    int maxChannels();

    /**
     * Run {@code exec} and {@code shell} requests as the node's own OS account, for identities
     * holding {@code ssh:shell}. Default {@code false}: refused for everyone.
     */
    @WithDefault("false")
    boolean exec();

    /** Port forwarding policy. */
    Forward forward();
  }

  /** SSH port forwarding policy (SSH-2); every forward also needs scope {@code ssh:forward}. */
  interface Forward {
    /**
     * Destinations {@code ssh -L} may reach, as {@code host:port} patterns: host is a name or
     * address matched literally (case-insensitive; IPv6 in brackets) or {@code *}; port is a
     * number, a range {@code 8000-8099} or {@code *}. Default: the loopback addresses, any port.
     * Set to {@code none} to refuse every local forward.
     */
    @WithDefault("localhost:*,127.0.0.1:*,[::1]:*")
    List<String> allowDestinations();

    /**
     * Ports {@code ssh -R} may listen on (always on loopback): numbers, ranges {@code 8000-8099} or
     * {@code *} (any port, including one the node picks). Default: none, remote forwards are
     * refused.
     */
    Optional<List<String>> allowRemotePorts();
  }

  /** HTTP on the endpoint's port (HTTP-1..HTTP-4, HTTP-7). */
  interface Http {
    /** Largest request body of an operation call, in bytes. Default 1 MiB. */
    @WithDefault("1048576")
    int maxBodySize();

    /** Largest request header block, in bytes. Default 16 KiB. */
    @WithDefault("16384")
    int maxHeaderSize();

    /** Concurrent HTTP/2 streams per connection. Default 100. */
    @WithDefault("100")
    int maxConcurrentStreams();

    /** Serve {@code /openapi} without a credential (it then lists every external operation). */
    @WithDefault("false")
    boolean publicOpenapi();
  }

  /** The call protocol (CALL-3..CALL-7). */
  interface Call {
    /** Accept a {@code hello} without a credential (identity {@code anonymous}). Default false. */
    @WithDefault("false")
    boolean allowAnonymous();

    /** Calls one connection may have running at once; past it the node stops reading. */
    @WithDefault("4096")
    int maxInFlight();

    /** Worker threads for blocking operation code. Default 64. */
    @WithDefault("64")
    int workers();

    /** Ship the demo/* operations. Default true. */
    @WithDefault("true")
    boolean demo();

    /** What {@code welcome.node} says. Default: the host name. */
    Optional<String> nodeName();

    /**
     * Remote nodes whose external operations are imported under a local namespace (from_call,
     * CALL-12): {@code alknet.call.imports.<namespace>.target=host:port}.
     */
    java.util.Map<String, Import> imports();
  }

  /** One imported node. */
  interface Import {
    /** {@code host:port} of the remote node. */
    String target();

    /** Pin of the remote node's certificate; default: {@code <data-dir>/known_nodes}. */
    Optional<String> fingerprint();

    /** {@code quic} (default) or {@code tcp}. */
    @WithDefault("quic")
    String transport();

    /** File holding an API key for the remote (owner-only); default: an AuthToken from the key. */
    Optional<Path> apiKeyFile();

    /**
     * Name of a vault credential holding the API key for the remote ({@code alknet vault add
     * NAME}); needs {@code serve --vault}, which grants the call handler exactly the names listed
     * here. Wins over {@link #apiKeyFile()}.
     */
    Optional<String> apiKeyVault();

    /** Ed25519 key to authenticate with; default {@code <data-dir>/id_ed25519} if present. */
    Optional<Path> keyFile();
  }

  /** The listening endpoint. */
  interface Endpoint {
    /** Address both listeners bind. Default {@code 0.0.0.0}. */
    @WithDefault("0.0.0.0")
    String bindAddress();

    /** The one port number, for UDP (QUIC) and TCP (TLS). Default {@code 4433}. */
    @WithDefault("4433")
    int port();

    /** Serve QUIC on UDP. Default {@code true}. */
    @WithDefault("true")
    boolean quic();

    /** Serve TLS 1.3 on TCP. Default {@code true}. */
    @WithDefault("true")
    boolean tcp();

    /** Handler ALPN for TLS clients that offer no ALPN at all (EP-4). Default {@code http/1.1}. */
    @WithDefault("http/1.1")
    String defaultAlpn();

    /** Grace period for in-flight work at shutdown (EP-7). Default {@code 10s}. */
    @WithDefault("10s")
    Duration shutdownGrace();
  }

  /** TLS identity (EP-8). */
  interface Tls {
    /**
     * PEM certificate chain. Unset (default): a self-signed certificate generated once and kept in
     * {@code <data-dir>/tls/}.
     */
    Optional<Path> certificate();

    /** PEM private key (unencrypted PKCS#8, EC or RSA) for {@link #certificate()}. */
    Optional<Path> privateKey();

    /** Ask TLS clients for an optional certificate (mutual TLS). Default {@code true}. */
    @WithDefault("true")
    boolean requestClientCertificates();
  }

  /** Resource limits (EP-6). */
  interface Limits {
    /** Open connections over both transports. Default {@code 1024}. */
    @WithDefault("1024")
    int maxConnections();

    /** Open connections from one IP address. Default {@code 64}. */
    @WithDefault("64")
    int maxConnectionsPerAddress();

    /** Time allowed for the TLS handshake. Default {@code 10s}. */
    @WithDefault("10s")
    Duration handshakeTimeout();

    /** A connection with no traffic for this long is closed. Default {@code 5m}. */
    @WithDefault("5m")
    Duration idleTimeout();

    /** Concurrent streams a QUIC peer may open per connection. Default {@code 100}. */
    @WithDefault("100")
    int maxStreamsPerConnection();

    /**
     * Unread input buffered per stream, in bytes (also the QUIC stream window). Default 256 KiB.
     */
    @WithDefault("262144")
    int streamBufferBytes();

    /** Largest frame a protocol handler accepts, in bytes. Default 1 MiB. */
    @WithDefault("1048576")
    int maxFrameSize();
  }

  /** Protocol handlers (EP-3). */
  interface Handlers {
    /** Handler names or ALPN ids to disable; they are neither advertised nor served. */
    Optional<List<String>> disabled();
  }

  /** Authentication (AUTH-3). */
  interface Auth {
    /** Maximum age of an AuthToken. Default {@code 5m}. */
    @WithDefault("5m")
    Duration tokenMaxAge();

    /** Tolerated clock skew for tokens from the future. Default {@code 30s}. */
    @WithDefault("30s")
    Duration tokenMaxSkew();
  }

  /** Dynamic config (CFG-2). */
  interface Dynamic {
    /**
     * Directory holding {@code authorized_keys} and {@code api_keys}. Default: the data directory.
     * May be a Kubernetes ConfigMap mount.
     */
    Optional<Path> dir();

    /** Re-check the files at this interval even without file-system events. Default {@code 5s}. */
    @WithDefault("5s")
    Duration pollInterval();
  }
}

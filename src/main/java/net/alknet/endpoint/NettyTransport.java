package net.alknet.endpoint;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.incubator.codec.quic.EpollQuicUtils;
import io.netty.incubator.codec.quic.QuicChannelOption;
import io.netty.incubator.codec.quic.QuicCodecBuilder;
import io.netty.incubator.codec.quic.SegmentedDatagramPacketAllocator;
import java.util.concurrent.ThreadFactory;

/**
 * The Netty transport of an event-loop group: Linux epoll where the group is an epoll group (Vert.x
 * with {@code quarkus.vertx.prefer-native-transport}, or a client's own group when the native
 * library loads), else Java NIO. Channel classes must match the group, so every bootstrap of the
 * endpoint asks this class instead of naming NIO classes.
 *
 * <p>With epoll, QUIC sends go out with UDP generic segmentation offload (one {@code sendmsg} for
 * up to {@link #GSO_SEGMENTS} packets); on NIO every QUIC packet is one system call. Receiving is
 * one datagram per read on both.
 */
public enum NettyTransport {
  EPOLL,
  NIO;

  /** QUIC packets per GSO send. */
  static final int GSO_SEGMENTS = 16;

  /**
   * Largest UDP payload QUIC sends: 1500-byte Ethernet MTU minus IPv6 (40) and UDP (8) headers, so
   * it fits any path with the common MTU over IPv4 or IPv6. quiche's default is 1200.
   */
  static final long QUIC_MAX_UDP_PAYLOAD = 1452;

  /**
   * Packet sizes of a QUIC codec (server and client alike): path MTU discovery from 1200 bytes up
   * to {@link #QUIC_MAX_UDP_PAYLOAD}, so paths with a smaller MTU (tunnels, PPPoE) keep working
   * while common paths carry a sixth fewer packets per byte than at 1200.
   */
  static <B extends QuicCodecBuilder<B>> B quicPackets(B builder) {
    return builder.maxSendUdpPayloadSize(QUIC_MAX_UDP_PAYLOAD).discoverPmtu(true);
  }

  /** Whether Linux epoll can be used in this process. */
  public static boolean epollAvailable() {
    return !Boolean.getBoolean("alknet.transport.nio") && Epoll.isAvailable();
  }

  /** The transport of a group's event loops. */
  public static NettyTransport of(EventLoopGroup group) {
    return group instanceof EpollEventLoopGroup || isEpollLoop(group) ? EPOLL : NIO;
  }

  private static boolean isEpollLoop(EventLoopGroup group) {
    // Vert.x wraps nothing: its group is the Netty group itself, but check one loop to be sure.
    try {
      return group.next() instanceof io.netty.channel.epoll.EpollEventLoop;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** A new group of {@code threads} event loops: epoll when available, else NIO. */
  public static EventLoopGroup newGroup(int threads) {
    return newGroup(threads, null);
  }

  /** A new group of {@code threads} event loops from {@code threads} (null: Netty's default). */
  public static EventLoopGroup newGroup(int threads, ThreadFactory factory) {
    return epollAvailable()
        ? new EpollEventLoopGroup(threads, factory)
        : new NioEventLoopGroup(threads, factory);
  }

  public Class<? extends SocketChannel> socketChannel() {
    return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
  }

  public Class<? extends ServerSocketChannel> serverSocketChannel() {
    return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  public Class<? extends DatagramChannel> datagramChannel() {
    return this == EPOLL ? EpollDatagramChannel.class : NioDatagramChannel.class;
  }

  /**
   * How QUIC connections send on this transport: GSO batches on epoll (set as {@link
   * QuicChannelOption#SEGMENTED_DATAGRAM_PACKET_ALLOCATOR} of each QUIC channel), one datagram per
   * packet on NIO.
   */
  SegmentedDatagramPacketAllocator quicSendAllocator() {
    return this == EPOLL
        ? EpollQuicUtils.newSegmentedAllocator(GSO_SEGMENTS)
        : SegmentedDatagramPacketAllocator.NONE;
  }

  /**
   * Sets a UDP bootstrap up for this transport. Reads stay one datagram each: UDP GRO (one {@code
   * recvmsg} for many packets of a flow) made QUIC slower, not faster, with netty-quic in the
   * endpoint benchmark (docs/benchmarks.md), and {@code recvmmsg} batches made no difference.
   */
  Bootstrap udp(Bootstrap b) {
    return b.channel(datagramChannel());
  }
}

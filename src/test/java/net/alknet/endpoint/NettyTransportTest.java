package net.alknet.endpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Which Netty transport the endpoint picks, and that its UDP set-up loses nothing. */
class NettyTransportTest {

  @Test
  void transportFollowsTheGroup() {
    EventLoopGroup nio = new NioEventLoopGroup(1);
    try {
      assertEquals(NettyTransport.NIO, NettyTransport.of(nio));
      assertEquals(
          io.netty.channel.socket.nio.NioDatagramChannel.class,
          NettyTransport.NIO.datagramChannel());
    } finally {
      nio.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
    assumeTrue(NettyTransport.epollAvailable(), "epoll is not available here");
    EventLoopGroup epoll = new EpollEventLoopGroup(1);
    try {
      assertEquals(NettyTransport.EPOLL, NettyTransport.of(epoll));
      assertEquals(EpollDatagramChannel.class, NettyTransport.EPOLL.datagramChannel());
    } finally {
      epoll.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  @Test
  void nioCanBeForced() {
    String key = "alknet.transport.nio";
    String before = System.getProperty(key);
    System.setProperty(key, "true");
    EventLoopGroup g = NettyTransport.newGroup(1, new DefaultThreadFactory("nio-forced"));
    try {
      assertEquals(NettyTransport.NIO, NettyTransport.of(g));
    } finally {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
      if (before == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, before);
      }
    }
  }

  /**
   * A GSO send of 16 QUIC-sized packets (as the endpoint's QUIC sends on epoll) arrives as 16 whole
   * datagrams on the endpoint's epoll UDP set-up. (An earlier set-up with UDP GRO and Netty's
   * adaptive 2 KiB read buffer got the first packet and a truncated rest.)
   */
  @Test
  void gsoBatchArrivesAsWholeDatagrams() throws Exception {
    assumeTrue(NettyTransport.epollAvailable(), "epoll is not available here");
    assumeTrue(
        EpollDatagramChannel.isSegmentedDatagramPacketSupported(), "no UDP GSO on this kernel");
    int segment = 1200;
    int count = 16;
    byte[] payload = new byte[segment * count];
    new Random(7).nextBytes(payload);
    BlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
    EventLoopGroup group = new EpollEventLoopGroup(1);
    try {
      ChannelHandler collect =
          new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
              try {
                got.add(ByteBufUtil.getBytes(((DatagramPacket) msg).content()));
              } finally {
                ReferenceCountUtil.release(msg);
              }
            }
          };
      Channel receiver =
          NettyTransport.EPOLL
              .udp(new Bootstrap().group(group))
              .handler(collect)
              .bind(new InetSocketAddress("127.0.0.1", 0))
              .sync()
              .channel();
      Channel sender =
          new Bootstrap()
              .group(group)
              .channel(EpollDatagramChannel.class)
              .handler(new ChannelInboundHandlerAdapter())
              .bind(new InetSocketAddress("127.0.0.1", 0))
              .sync()
              .channel();
      // Twice: the receive buffer size adapts after the first read.
      for (int round = 0; round < 2; round++) {
        sender
            .writeAndFlush(
                new SegmentedDatagramPacket(
                    Unpooled.wrappedBuffer(payload),
                    segment,
                    (InetSocketAddress) receiver.localAddress()))
            .sync();
        for (int i = 0; i < count; i++) {
          byte[] d = got.poll(10, TimeUnit.SECONDS);
          assertNotNull(d, "datagram " + i + " of round " + round + " did not arrive");
          byte[] want = new byte[segment];
          System.arraycopy(payload, i * segment, want, 0, segment);
          assertArrayEquals(want, d, "datagram " + i + " of round " + round);
        }
      }
      sender.close().sync();
      receiver.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }
}

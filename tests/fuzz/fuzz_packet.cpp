// Parses arbitrary bytes through every packet view. The first byte selects how the
// rest is treated: as an IP packet (v4 or v6 by version nibble) walked down to L4
// and into ICMP-quoted datagrams, or directly as one L4 header.
#include <cstddef>
#include <cstdint>

#include "netshoot/packet.h"

using namespace netshoot::core;

namespace {

volatile uint64_t g_sink;  // keeps the reads from being optimized away

void touch(ConstBytes b) {
  uint64_t s = 0;
  if (!b.empty()) s += b.front() + b.back() + b.size();
  g_sink = g_sink + s;
}

void tcp(ConstBytes b, const IpAddr& src, const IpAddr& dst) {
  TcpView t;
  if (TcpView::parse(b, t) != PacketError::none) {
    if (TcpView::parse_quoted(b, t) == PacketError::none) g_sink = g_sink + t.src_port() + t.seq();
    return;
  }
  auto o = t.options();
  g_sink = g_sink + o.mss + o.wscale + o.sack_count + o.ts_val + t.flags() + t.window();
  for (unsigned i = 0; i < o.sack_count; ++i) g_sink = g_sink + o.sack[i].left;
  TcpOptionIter it = t.option_iter();
  TcpOption opt;
  while (it.next(opt)) touch(opt.data);
  char f[16];
  format_tcp_flags(t.flags(), f, sizeof f);
  g_sink = g_sink + t.checksum_ok(src, dst);
  touch(t.payload());
}

void udp(ConstBytes b, const IpAddr& src, const IpAddr& dst) {
  UdpView u;
  if (UdpView::parse(b, u) != PacketError::none) return;
  g_sink = g_sink + u.src_port() + u.length() + u.checksum_ok(src, dst);
  touch(u.payload());
}

void ipv4(ConstBytes b, int depth);
void ipv6(ConstBytes b, int depth);

void icmpv4_msg(ConstBytes b, int depth) {
  IcmpView v;
  if (IcmpView::parse(b, v) != PacketError::none) return;
  g_sink = g_sink + v.type() + v.code() + v.checksum_ok() + v.echo_id() + v.next_hop_mtu();
  Ipv4View inner;
  if (depth < 2 && v.embedded(inner) == PacketError::none) ipv4(v.payload(), depth + 1);
}

void icmpv6_msg(ConstBytes b, const IpAddr& src, const IpAddr& dst, int depth) {
  Icmpv6View v;
  if (Icmpv6View::parse(b, v) != PacketError::none) return;
  g_sink = g_sink + v.type() + v.checksum_ok(src, dst) + v.mtu();
  if (v.type() == icmp6::neighbor_solicit || v.type() == icmp6::neighbor_advert)
    g_sink = g_sink + v.target().hash() + v.na_solicited();
  if (v.type() == icmp6::router_advert) g_sink = g_sink + v.ra_router_lifetime() + v.ra_reachable_time();
  auto it = v.ndp_options();
  NdpOption o;
  while (it.next(o)) {
    NdpPrefixInfo pi;
    if (NdpPrefixInfo::parse(o, pi)) g_sink = g_sink + pi.prefix_len + pi.prefix.hash();
    touch(o.data);
  }
  Ipv6View inner;
  if (depth < 2 && v.embedded(inner) == PacketError::none) ipv6(v.payload(), depth + 1);
}

void l4(uint8_t proto, ConstBytes b, const IpAddr& src, const IpAddr& dst, int depth) {
  switch (proto) {
    case ipproto::tcp: tcp(b, src, dst); break;
    case ipproto::udp: udp(b, src, dst); break;
    case ipproto::icmp: icmpv4_msg(b, depth); break;
    case ipproto::icmpv6: icmpv6_msg(b, src, dst, depth); break;
    default: touch(b); break;
  }
}

void ipv4(ConstBytes b, int depth) {
  Ipv4View v;
  if (Ipv4View::parse(b, v) != PacketError::none) return;
  g_sink = g_sink + v.checksum_ok() + v.fragment_offset() + v.id() + v.ttl();
  touch(v.options());
  if (v.fragment_offset_units() == 0) l4(v.protocol(), v.payload(), v.src(), v.dst(), depth);
}

void ipv6(ConstBytes b, int depth) {
  Ipv6View v;
  if (Ipv6View::parse(b, v) != PacketError::none) return;
  g_sink = g_sink + v.flow_label() + v.extension_count() + v.fragment_id() + v.upper_offset();
  if (!v.upper_layer_opaque()) l4(v.upper_protocol(), v.payload(), v.src(), v.dst(), depth);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ConstBytes b(data + 1, size - 1);
  const IpAddr s4 = IpAddr::v4(0x0a000001), d4 = IpAddr::v4(0x0a000002);
  const IpAddr s6 = IpAddr::loopback(AF_INET6), d6 = IpAddr::loopback(AF_INET6).next();
  switch (data[0] & 7) {
    case 0: ipv4(b, 0); ipv6(b, 0); break;  // also the raw-IP case: both parsers
    case 1: tcp(b, s4, d4); break;
    case 2: udp(b, s6, d6); break;
    case 3: icmpv4_msg(b, 0); break;
    case 4: icmpv6_msg(b, s6, d6, 0); break;
    case 5: g_sink = g_sink + TcpOptions::parse(b).mss; break;
    default: {
      ByteReader r(b);
      uint8_t u8;
      uint16_t u16;
      uint32_t u32;
      ByteReader sub;
      while (r.u8(u8) && r.u16be(u16) && r.sub(u8 & 7, sub) && r.u32be(u32)) g_sink = g_sink + u32;
      g_sink = g_sink + checksum_partial(b);
      break;
    }
  }
  return 0;
}

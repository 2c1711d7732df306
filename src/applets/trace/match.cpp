// Probe identity on the wire and the matching of replies to probes. Pure functions
// over bytes: the unit tests feed them crafted ICMP errors.
//
// Flow stability (Paris traceroute): within one flow every probe has the same
// addresses, protocol and ports, so a router hashing the 5-tuple over equal-cost
// paths sends them all the same way. The probe id travels where hashes do not look:
//   UDP   the UDP checksum (steered through two payload bytes; also in the payload)
//         --classic: the destination port, base + id, as Linux traceroute does
//   ICMP  the echo sequence number (two payload bytes keep the ICMP checksum constant)
//   TCP   the low 16 bits of the SYN's sequence number
// Flows (--ecmp) differ in the UDP destination port, the echo id or the TCP source port.
#include <cstdio>
#include <cstring>

#include "trace.h"

namespace netshoot::applet::trace {

using core::ConstBytes;
using core::IpAddr;

const char* method_name(Method m) {
  switch (m) {
    case Method::udp: return "udp";
    case Method::icmp: return "icmp";
    case Method::tcp: return "tcp";
  }
  return "?";
}

namespace {

uint16_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(s);
}

void set_note(Reply& r, const char* s) { std::snprintf(r.note, sizeof r.note, "%s", s); }

// The quoted datagram of an ICMP error: its addresses, protocol and L4 bytes.
struct Quoted {
  IpAddr src, dst;
  uint8_t proto = 0;
  ConstBytes l4;
};

bool parse_quoted_v4(ConstBytes icmp_payload, Quoted& q) {
  core::Ipv4View ip;
  if (core::Ipv4View::parse(icmp_payload, ip) != core::PacketError::none) return false;
  q = {ip.src(), ip.dst(), ip.protocol(), ip.payload()};
  return true;
}

bool parse_quoted_v6(ConstBytes icmp_payload, Quoted& q) {
  core::Ipv6View ip;
  if (core::Ipv6View::parse(icmp_payload, ip) != core::PacketError::none) return false;
  q = {ip.src(), ip.dst(), ip.upper_protocol(), ip.payload()};
  return true;
}

// Which probe (id, flow) a quoted datagram is; false if not one of ours.
bool identify_quoted(const ProbeWire& w, const Quoted& q, Reply& r) {
  if (q.dst != w.dst) return false;
  if (!w.src.is_unspecified() && q.src != w.src) return false;
  if (q.l4.size() < 8) return false;
  const uint8_t* p = q.l4.data();
  switch (w.method) {
    case Method::udp: {
      if (q.proto != core::ipproto::udp) return false;
      uint16_t sport = core::load_be16(p), dport = core::load_be16(p + 2);
      if (sport != w.src_port) return false;
      if (w.classic) {
        if (dport < w.dst_port) return false;
        r.probe_id = uint16_t(dport - w.dst_port);
        r.flow = 0;
        return true;
      }
      if (dport < w.dst_port || dport >= w.dst_port + w.flows) return false;
      uint16_t cks = core::load_be16(p + 6);
      if (cks == 0 || cks == 0xffff) return false;
      r.probe_id = uint16_t(cks - 1);
      r.flow = uint16_t(dport - w.dst_port);
      return true;
    }
    case Method::icmp: {
      uint8_t want = w.dst.is_v4() ? core::icmp4::echo_request : core::icmp6::echo_request;
      uint8_t proto = w.dst.is_v4() ? core::ipproto::icmp : core::ipproto::icmpv6;
      if (q.proto != proto || p[0] != want) return false;
      uint16_t id = core::load_be16(p + 4);
      if (id < w.src_port || id >= w.src_port + w.flows) return false;
      r.probe_id = core::load_be16(p + 6);
      r.flow = uint16_t(id - w.src_port);
      return true;
    }
    case Method::tcp: {
      if (q.proto != core::ipproto::tcp) return false;
      core::TcpView t;
      if (core::TcpView::parse_quoted(q.l4, t) != core::PacketError::none) return false;
      if (t.dst_port() != w.dst_port) return false;
      if (t.src_port() < w.src_port || t.src_port() >= w.src_port + w.flows) return false;
      if ((t.seq() >> 16) != w.tcp_seq_hi) return false;
      r.probe_id = uint16_t(t.seq() & 0xffff);
      r.flow = uint16_t(t.src_port() - w.src_port);
      return true;
    }
  }
  return false;
}

// An echo reply from the destination to one of our ICMP flows (v4 or v6).
bool match_echo_reply(const ProbeWire& w, const IpAddr& from, uint8_t type, uint16_t id, uint16_t seq,
                      Reply& out) {
  if (w.method != Method::icmp || from != w.dst) return false;
  if (id < w.src_port || id >= w.src_port + w.flows) return false;
  out.kind = Reply::Kind::reached;
  out.icmp_type = type;
  out.probe_id = seq;
  out.flow = uint16_t(id - w.src_port);
  return true;
}

}  // namespace

void classify_unreach(bool v6, uint8_t type, uint8_t code, int mtu, Reply& r) {
  r.icmp_type = type;
  r.icmp_code = code;
  r.note[0] = '\0';
  if (!v6) {
    if (type == core::icmp4::time_exceeded) {
      r.kind = Reply::Kind::time_exceeded;
      return;
    }
    if (type != core::icmp4::dest_unreach) {
      r.kind = Reply::Kind::none;
      return;
    }
    r.kind = Reply::Kind::unreachable;
    switch (code) {
      case 0: case 6: case 8: case 11: set_note(r, "!N"); break;
      case 1: case 7: case 12: set_note(r, "!H"); break;
      case 2: set_note(r, "!P"); break;
      case 3: r.kind = Reply::Kind::reached; break;
      case 4:
        r.mtu = mtu;
        std::snprintf(r.note, sizeof r.note, "!F-%d", mtu);
        break;
      case 5: set_note(r, "!S"); break;
      case 9: case 10: case 13: set_note(r, "!X"); break;
      case 14: set_note(r, "!V"); break;
      case 15: set_note(r, "!C"); break;
      default: std::snprintf(r.note, sizeof r.note, "!<%u>", code); break;
    }
    return;
  }
  switch (type) {
    case core::icmp6::time_exceeded: r.kind = Reply::Kind::time_exceeded; return;
    case core::icmp6::packet_too_big:
      r.kind = Reply::Kind::unreachable;
      r.mtu = mtu;
      std::snprintf(r.note, sizeof r.note, "!F-%d", mtu);
      return;
    case core::icmp6::dest_unreach:
      r.kind = Reply::Kind::unreachable;
      switch (code) {
        case core::icmp6::no_route: set_note(r, "!N"); break;
        case core::icmp6::admin_prohibited: case 5: case 6: set_note(r, "!X"); break;
        case core::icmp6::beyond_scope: set_note(r, "!S"); break;
        case core::icmp6::addr_unreach: set_note(r, "!H"); break;
        case core::icmp6::port_unreach: r.kind = Reply::Kind::reached; break;
        default: std::snprintf(r.note, sizeof r.note, "!<%u>", code); break;
      }
      return;
    default: r.kind = Reply::Kind::none; return;
  }
}

bool match_icmp(const ProbeWire& w, ConstBytes packet, const IpAddr& from, Reply& out) {
  out = Reply{};
  out.from = from;
  bool v6 = w.dst.is_v6();
  ConstBytes icmp_bytes = packet;
  if (!v6) {
    core::Ipv4View ip;
    if (core::Ipv4View::parse(packet, ip) != core::PacketError::none) return false;
    if (ip.protocol() != core::ipproto::icmp) return false;
    icmp_bytes = ip.payload();
    out.from = ip.src();
  }
  if (v6) {
    core::Icmpv6View ic;
    if (core::Icmpv6View::parse(icmp_bytes, ic) != core::PacketError::none) return false;
    if (ic.type() == core::icmp6::echo_reply)
      return match_echo_reply(w, from, ic.type(), ic.echo_id(), ic.echo_seq(), out);
    if (!ic.is_error()) return false;
    Quoted q;
    if (!parse_quoted_v6(ic.payload(), q) || !identify_quoted(w, q, out)) return false;
    classify_unreach(true, ic.type(), ic.code(), int(ic.mtu()), out);
    return out.kind != Reply::Kind::none;
  }
  core::IcmpView ic;
  if (core::IcmpView::parse(icmp_bytes, ic) != core::PacketError::none) return false;
  if (ic.type() == core::icmp4::echo_reply)
    return match_echo_reply(w, out.from, ic.type(), ic.echo_id(), ic.echo_seq(), out);
  if (!ic.is_error()) return false;
  Quoted q;
  if (!parse_quoted_v4(ic.payload(), q) || !identify_quoted(w, q, out)) return false;
  classify_unreach(false, ic.type(), ic.code(), ic.next_hop_mtu(), out);
  return out.kind != Reply::Kind::none;
}

bool match_tcp(const ProbeWire& w, ConstBytes packet, const IpAddr& from, Reply& out) {
  out = Reply{};
  out.from = from;
  ConstBytes seg = packet;
  if (w.dst.is_v4()) {
    core::Ipv4View ip;
    if (core::Ipv4View::parse(packet, ip) != core::PacketError::none) return false;
    if (ip.protocol() != core::ipproto::tcp) return false;
    seg = ip.payload();
    out.from = ip.src();
  }
  if (out.from != w.dst) return false;
  core::TcpView t;
  if (core::TcpView::parse(seg, t) != core::PacketError::none) return false;
  if (t.src_port() != w.dst_port) return false;
  if (t.dst_port() < w.src_port || t.dst_port() >= w.src_port + w.flows) return false;
  bool synack = t.has(core::tcpflag::syn | core::tcpflag::ack);
  bool rst = t.has(core::tcpflag::rst);
  if (!synack && !rst) return false;
  uint32_t seq = t.ack() - 1;
  if ((seq >> 16) != w.tcp_seq_hi) return false;
  out.kind = Reply::Kind::reached;
  out.tcp = true;
  out.tcp_open = synack;
  out.probe_id = uint16_t(seq & 0xffff);
  out.flow = uint16_t(t.dst_port() - w.src_port);
  return true;
}

uint16_t udp_dst_port(const ProbeWire& w, uint16_t id, uint16_t flow) {
  return w.classic ? uint16_t(w.dst_port + id) : uint16_t(w.dst_port + flow);
}

size_t build_udp_payload(const ProbeWire& w, uint16_t id, uint16_t flow, size_t len, uint8_t* out) {
  if (!w.classic && len < 4) len = 4;
  for (size_t i = 0; i < len; ++i) out[i] = uint8_t(0x40 + (i & 0x3f));
  if (w.classic) return len;
  core::store_be16(out, id);
  core::store_be16(out + 2, 0);
  // Checksum of the datagram with the compensation word at 0, then the word that
  // makes the final checksum id + 1 (never 0 or 0xffff: ids stay below 0xfffe).
  uint16_t dport = udp_dst_port(w, id, flow);
  uint8_t hdr[8];
  core::store_be16(hdr, w.src_port);
  core::store_be16(hdr + 2, dport);
  core::store_be16(hdr + 4, uint16_t(8 + len));
  core::store_be16(hdr + 6, 0);
  uint32_t s = core::pseudo_header_sum(w.src, w.dst, core::ipproto::udp, uint32_t(8 + len));
  s = core::checksum_partial(hdr, 8, s);
  s = core::checksum_partial(out, len, s);
  uint16_t t = fold(s);
  uint16_t want = uint16_t(id + 1);
  uint16_t comp = fold(uint32_t(uint16_t(~want)) + uint16_t(~t));
  core::store_be16(out + 2, comp);
  return len;
}

size_t build_icmp_probe(const ProbeWire& w, uint16_t id, uint16_t flow, size_t len, uint8_t* out) {
  if (len < 10) len = 10;
  uint8_t payload[2048];
  size_t plen = std::min(len - 8, sizeof payload);
  for (size_t i = 0; i < plen; ++i) payload[i] = uint8_t(0x40 + (i & 0x3f));
  // seq + ~seq is constant: the checksum does not change from probe to probe.
  core::store_be16(payload, uint16_t(~id));
  uint16_t echo_id = uint16_t(w.src_port + flow);
  if (w.dst.is_v4())
    return core::write_icmp_echo({out, len}, echo_id, id, {payload, plen});
  return core::write_icmpv6_echo({out, len}, w.src, w.dst, echo_id, id, {payload, plen});
}

size_t build_tcp_probe(const ProbeWire& w, uint16_t id, uint16_t flow, uint8_t* out, size_t cap) {
  core::TcpFields f;
  f.src_port = uint16_t(w.src_port + flow);
  f.dst_port = w.dst_port;
  f.seq = uint32_t(w.tcp_seq_hi) << 16 | id;
  f.flags = core::tcpflag::syn;
  f.window = 5840;
  uint8_t opts[40];
  core::TcpOptionSpec spec;
  spec.mss = w.dst.is_v4() ? 1460 : 1440;
  spec.sack_permitted = true;
  spec.wscale = 7;
  size_t olen = core::write_tcp_options({opts, sizeof opts}, spec);
  f.options = {opts, olen};
  return core::write_tcp({out, cap}, w.src, w.dst, f, {});
}

}  // namespace netshoot::applet::trace

// IPv4 (options, fragments, -v header), IPv6 (extension headers) and GRE.
#include "netshoot/packet.h"
#include "printer.h"

namespace netshoot::applet::capture {

using core::load_be16;
using core::load_be32;

namespace {

const char* proto_name(uint8_t p) {
  switch (p) {
    case 0: return "Options";
    case 1: return "ICMP";
    case 2: return "IGMP";
    case 4: return "IPIP";
    case 6: return "TCP";
    case 17: return "UDP";
    case 41: return "IPv6";
    case 43: return "Routing";
    case 44: return "Fragment";
    case 47: return "GRE";
    case 50: return "ESP";
    case 51: return "AH";
    case 58: return "ICMPv6";
    case 59: return "NONE";
    case 60: return "DSTOPT";
    case 89: return "OSPF";
    case 103: return "PIM";
    case 112: return "VRRP";
    case 132: return "SCTP";
    default: return "unknown";
  }
}

}  // namespace

void Printer::ipv4(Bytes p) {
  Buf& b = *out_;
  if (!sum_.net) sum_.net = "IP";
  if (p.size() < 20) {
    b.put("[|ip]");
    return;
  }
  const uint8_t* h = p.data();
  if ((h[0] >> 4) != 4) {
    b.put("IP"), b.u(h[0] >> 4);
    return;
  }
  size_t hlen = size_t(h[0] & 15) * 4;
  uint16_t tot = load_be16(h + 2);
  if (hlen < 20) {
    b.put("bad-hlen "), b.u(hlen);
    return;
  }
  if (tot < hlen) {
    b.put("[total length "), b.u(tot), b.put(" < header length "), b.u(hlen), b.put(']');
    return;
  }
  if (p.size() < hlen) {
    b.put("[|ip]");
    return;
  }
  uint16_t frag = load_be16(h + 6);
  uint16_t off = uint16_t((frag & 0x1fff) * 8);
  uint8_t proto = h[9];
  if (o_.verbose) {
    b.put("(tos 0x"), b.hex(h[1]);
    switch (h[1] & 3) {
      case 1: b.put(",ECT(1)"); break;
      case 2: b.put(",ECT(0)"); break;
      case 3: b.put(",CE"); break;
    }
    b.put(", ttl "), b.u(h[8]), b.put(", id "), b.u(load_be16(h + 4)), b.put(", offset "), b.u(off);
    b.put(", flags [");
    if (frag & 0x8000) b.put("rsvd");
    if (frag & 0x4000) b.put("DF");
    if (frag & 0x2000) b.put('+');
    if (!(frag & 0xe000)) b.put("none");
    b.put("], proto "), b.put(proto_name(proto)), b.put(" ("), b.u(proto), b.put("), length "), b.u(tot);
    if (hlen > 20) {
      b.put(", options (");
      Bytes opt = p.subspan(20, hlen - 20);
      for (size_t k = 0; k < opt.size();) {
        uint8_t t = opt[k];
        if (k) b.put(',');
        if (t == 0) { b.put("EOL"); break; }
        if (t == 1) { b.put("NOP"), ++k; continue; }
        if (k + 1 >= opt.size() || opt[k + 1] < 2) { b.put("bad option"); break; }
        switch (t) {
          case 148: b.put("RA"); break;
          case 7: b.put("RR"); break;
          case 68: b.put("TS"); break;
          case 131: b.put("LSRR"); break;
          case 137: b.put("SSRR"); break;
          default: b.put("unknown "), b.u(t); break;
        }
        k += opt[k + 1];
      }
      b.put(')');
    }
    uint16_t sum = core::checksum_finish(core::checksum_partial(h, hlen));
    if (sum != 0) {
      uint16_t stored = load_be16(h + 10);
      uint32_t s = core::checksum_partial(h, hlen) + uint16_t(~stored);
      uint16_t should = should_be(core::checksum_finish(s));
      b.put(", bad cksum "), b.hex(stored), b.put(" (->"), b.hex(should), b.put(")!");
    }
    b.put(")\n    ");
  }
  // Payload bounded by the total length (drops Ethernet padding).
  size_t avail = std::min<size_t>(p.size(), tot) - hlen;
  Bytes pl = p.subspan(hlen, avail);
  uint32_t l4len = tot - uint32_t(hlen);
  uint32_t saved_extra = wire_extra_;
  wire_extra_ = l4len > pl.size() ? uint32_t(l4len - pl.size()) : 0;
  if (sum_.family == 0) {
    sum_.family = 4;
    std::memcpy(sum_.src, h + 12, 4), std::memcpy(sum_.dst, h + 16, 4);
  }
  if (off != 0) {
    b.ip4(h + 12), b.put(" > "), b.ip4(h + 16), b.put(": ip-proto-"), b.u(proto);
    wire_extra_ = saved_extra;
    return;
  }
  bool frag_first = (frag & 0x2000) != 0;
  bool saved_frag = frag_;
  frag_ = frag_first;
  switch (proto) {
    case 6: tcp(pl, l4len, h + 12, h + 16, 4, frag_first); break;
    case 17: udp(pl, l4len, h + 12, h + 16, 4, frag_first); break;
    default:
      b.ip4(h + 12), b.put(" > "), b.ip4(h + 16), b.put(": ");
      switch (proto) {
        case 1: icmp(pl, l4len); break;
        case 47: gre(pl, l4len); break;
        case 4:
          b.put("IP ");
          if (depth_ < 8) ++depth_, ipv4(pl), --depth_;
          break;
        case 41:
          b.put("IP6 ");
          if (depth_ < 8) ++depth_, ipv6(pl), --depth_;
          break;
        default:
          b.put("ip-proto-"), b.u(proto), b.put(' '), b.u(l4len);
          break;
      }
  }
  frag_ = saved_frag;
  wire_extra_ = saved_extra;
}

void Printer::ipv6(Bytes p) {
  Buf& b = *out_;
  if (!sum_.net) sum_.net = "IP6";
  if (p.size() < 40) {
    b.put("[|ip6]");
    return;
  }
  const uint8_t* h = p.data();
  if ((h[0] >> 4) != 6) {
    b.put("IP6, wrong link-layer encapsulation");
    return;
  }
  uint16_t plen = load_be16(h + 4);
  uint8_t nh = h[6];
  if (o_.verbose) {
    uint8_t tc = uint8_t((h[0] & 0x0f) << 4 | h[1] >> 4);
    uint32_t flow = (uint32_t(h[1] & 0x0f) << 16) | load_be16(h + 2);
    b.put('(');
    if (tc) b.put("class 0x"), b.hex(tc), b.put(", ");
    if (flow) b.put("flowlabel 0x"), b.hex_pad(flow, 5), b.put(", ");
    b.put("hlim "), b.u(h[7]), b.put(", next-header "), b.put(proto_name(nh)), b.put(" ("), b.u(nh);
    b.put(") payload length: "), b.u(plen), b.put(") ");
  }
  if (sum_.family == 0) {
    sum_.family = 6;
    std::memcpy(sum_.src, h + 8, 16), std::memcpy(sum_.dst, h + 24, 16);
  }
  size_t avail = std::min<size_t>(p.size() - 40, plen);
  Bytes rest = p.subspan(40, avail);
  uint32_t l4len = plen;
  bool printed_addrs = false;
  auto addrs = [&] {
    if (!printed_addrs) b.ip6(h + 8), b.put(" > "), b.ip6(h + 24), b.put(": ");
    printed_addrs = true;
  };
  bool frag_first = false;
  // Extension headers.
  for (int guard = 0; guard < 16; ++guard) {
    if (nh == 0 || nh == 60 || nh == 43 || nh == 51) {
      addrs();
      if (rest.size() < 2) {
        trunc(nh == 0 ? "hbh" : "ext");
        return;
      }
      size_t len = nh == 51 ? (size_t(rest[1]) + 2) * 4 : (size_t(rest[1]) + 1) * 8;
      b.put(nh == 0 ? "HBH " : nh == 60 ? "DSTOPT " : nh == 43 ? "srcrt " : "AH ");
      if (rest.size() < len) {
        trunc(nh == 0 ? "hbh" : "ext");
        return;
      }
      if (o_.verbose && (nh == 0 || nh == 60)) {
        for (size_t k = 2; k < len;) {
          uint8_t t = rest[k];
          if (t == 0) {
            b.put("(pad1) "), ++k;
            continue;
          }
          if (k + 2 > len || k + 2 + rest[k + 1] > len) {
            b.put("(opt_trunc) ");
            break;
          }
          uint8_t ol = rest[k + 1];
          const uint8_t* d = rest.data() + k + 2;
          if (t == 1) b.put("(padn) ");
          else if (t == 5 && ol == 2) b.put("(rtalert: 0x"), b.hex_pad(load_be16(d), 4), b.put(") ");
          else if (t == 0xc2 && ol == 4) b.put("(jumbo: "), b.u(load_be32(d)), b.put(") ");
          else b.put("(type 0x"), b.hex_pad(t, 2), b.put(": len="), b.u(ol), b.put(") ");
          k += 2 + size_t(ol);
        }
      }
      nh = rest[0];
      rest = rest.subspan(len);
      l4len = l4len > len ? uint32_t(l4len - len) : 0;
      continue;
    }
    if (nh == 44) {
      addrs();
      if (rest.size() < 8) {
        trunc("frag");
        return;
      }
      uint16_t fo = load_be16(rest.data() + 2);
      uint16_t off = fo & 0xfff8;
      b.put("frag (");
      if (o_.verbose) b.put("0x"), b.hex_pad(load_be32(rest.data() + 4), 8), b.put(':');
      b.u(off), b.put('|'), b.u(l4len > 8 ? l4len - 8 : 0), b.put(")");
      nh = rest[0];
      rest = rest.subspan(8);
      l4len = l4len > 8 ? l4len - 8 : 0;
      if (off != 0) return;
      b.put(' ');
      frag_first = (fo & 1) != 0;
      continue;
    }
    break;
  }
  uint32_t saved_extra = wire_extra_;
  wire_extra_ = l4len > rest.size() ? uint32_t(l4len - rest.size()) : 0;
  switch (nh) {
    case 6: tcp(rest, l4len, h + 8, h + 24, 6, frag_first); break;
    case 17: udp(rest, l4len, h + 8, h + 24, 6, frag_first); break;
    case 58: addrs(), icmp6(rest, l4len, h + 8, h + 24); break;
    case 47: addrs(), gre(rest, l4len); break;
    case 4:
      addrs(), b.put("IP ");
      if (depth_ < 8) ++depth_, ipv4(rest), --depth_;
      break;
    case 41:
      addrs(), b.put("IP6 ");
      if (depth_ < 8) ++depth_, ipv6(rest), --depth_;
      break;
    case 59: addrs(), b.put("no next header"); break;
    case 50: addrs(), b.put("ESP"); break;
    default: addrs(), b.put("ip-proto-"), b.u(nh), b.put(' '), b.u(l4len); break;
  }
  wire_extra_ = saved_extra;
}

void Printer::gre(Bytes p, uint32_t l4len) {
  Buf& b = *out_;
  inner_summary();
  if (p.size() < 4) {
    b.put("GRE"), trunc("gre");
    return;
  }
  uint16_t flags = load_be16(p.data());
  uint16_t proto = load_be16(p.data() + 2);
  int ver = flags & 7;
  b.put("GREv"), b.u(ver);
  size_t off = 4;
  if (flags & 0x8000) {  // checksum present
    if (o_.verbose && p.size() >= 6) b.put(", sum 0x"), b.hex(load_be16(p.data() + 4));
    off += 4;
  }
  if (flags & 0x2000) {
    if (p.size() < off + 4) return trunc("gre");
    b.put(", key=0x"), b.hex(load_be32(p.data() + off));
    off += 4;
  }
  if (flags & 0x1000) {
    if (p.size() < off + 4) return trunc("gre");
    b.put(", seq "), b.u(load_be32(p.data() + off));
    off += 4;
  }
  if (p.size() < off) return trunc("gre");
  b.put(", length "), b.u(l4len), b.put(": ");
  if (ver != 0 || depth_ > 8) return;
  Bytes inner = p.subspan(off);
  ++depth_;
  switch (proto) {
    case 0x0800: b.put("IP "), ipv4(inner); break;
    case 0x86dd: b.put("IP6 "), ipv6(inner); break;
    case 0x6558: ether(inner, remaining(inner), true); break;
    default: b.put("gre-proto-0x"), b.hex(proto); break;
  }
  --depth_;
}

}  // namespace netshoot::applet::capture

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

void Printer::ip_proto(uint8_t p) {
  std::string_view name = o_.numeric == 0 ? ip_proto_name(p) : std::string_view{};
  if (!name.empty()) return out_->put(name);
  out_->put("ip-proto-"), out_->u(p);
}

// IPv4 options as tcpdump lists them: "NOP,RR 10.0.0.1, 0.0.0.0 ...,EOL".
void Printer::ip_options(Bytes opt) {
  Buf& b = *out_;
  const char* sep = "";
  auto bad_len = [&](size_t n) { b.put(" [bad length "), b.u(n), b.put(']'); };
  for (size_t k = 0; k < opt.size();) {
    b.put(sep);
    sep = ",";
    uint8_t code = opt[k];
    switch (code) {
      case 0: b.put("EOL"); break;
      case 1: b.put("NOP"); break;
      case 7: b.put("RR"); break;
      case 68: b.put("timestamp"); break;
      case 82: b.put("traceroute"); break;
      case 130: b.put("security"); break;
      case 131: b.put("LSRR"); break;
      case 137: b.put("SSRR"); break;
      case 148: b.put("RA"); break;
      default: b.put("unknown "), b.u(code); break;
    }
    size_t len = 1;
    if (code > 1) {
      if (k + 1 >= opt.size()) return trunc("ip");
      len = opt[k + 1];
      if (len < 2) return bad_len(len);
    }
    if (len > opt.size() - k) return bad_len(len);
    Bytes o = opt.subspan(k, len);
    // Routes and timestamps may name slots past a short option: read them from the
    // rest of the options, as tcpdump does, but never past the header.
    Bytes room = opt.subspan(k);
    switch (code) {
      case 0: return;
      case 7:
      case 131:
      case 137: {
        if (len < 3) return bad_len(len);
        if ((len + 1) & 3) bad_len(len);
        int ptr = int(o[2]) - 1;
        if (ptr < 3 || ((ptr + 1) & 3) || ptr > int(len) + 1) b.put(" [bad ptr "), b.u(o[2]), b.put(']');
        for (size_t i = 3; i < len; i += 4) {
          if (i + 4 > room.size()) return trunc("ip");
          b.put(' '), host4(room.data() + i);
          if (ptr > int(i)) b.put(',');
        }
        break;
      }
      case 68: {
        if (len < 4) {
          b.put("[bad length "), b.u(len), b.put(']');
          break;
        }
        b.put(" TS{");
        uint8_t flag = o[3] & 15;
        size_t hop = flag != 0 ? 8 : 4;
        if ((len - 4) & (hop - 1)) b.put("[bad length "), b.u(len), b.put(']');
        int ptr = int(o[2]) - 1;
        if (ptr < 4 || ((ptr - 4) & int(hop - 1)) || ptr > int(len) + 1) b.put("[bad ptr "), b.u(o[2]), b.put(']');
        size_t i = 0;
        if (flag == 0 || flag == 1 || flag == 3) {
          b.put(flag == 0 ? "TSONLY" : flag == 1 ? "TS+ADDR" : "PRESPEC");
          for (i = 4; i < len; i += hop) {
            if (i + hop > room.size()) return trunc("ip");
            b.put(ptr == int(i) ? " ^ " : " ");
            b.u(core::load_be32(room.data() + i + hop - 4)), b.put('@');
            if (hop == 8) host4(room.data() + i);
          }
        } else {
          b.put("[bad ts type "), b.u(flag), b.put(']');
        }
        if (ptr == int(i)) b.put(" ^ ");
        if (o[3] >> 4) b.put(" ["), b.u(o[3] >> 4), b.put(" hops not recorded]} ");
        else b.put('}');
        break;
      }
      case 148:
        if (len < 4) {
          bad_len(len);
          break;
        }
        if (load_be16(o.data() + 2) != 0) b.put(" value "), b.u(load_be16(o.data() + 2));
        break;
      default: break;
    }
    k += len;
  }
}

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
  if (auto* L = layer("ipv4")) {
    auto& j = *L;
    j["src"] = ip_text(h + 12, 4), j["dst"] = ip_text(h + 16, 4);
    j["tos"] = h[1], j["ttl"] = h[8], j["id"] = load_be16(h + 4);
    core::Json fl = core::Json::array();
    if (frag & 0x4000) fl.push_back("DF");
    if (frag & 0x2000) fl.push_back("MF");
    j["flags"] = fl, j["frag_offset"] = off, j["proto"] = proto, j["length"] = tot, j["header_length"] = hlen;
    if (hlen > 20) {
      core::Json opts = core::Json::array();
      Bytes o = p.subspan(20, hlen - 20);
      for (size_t k = 0; k < o.size();) {
        opts.push_back(o[k]);
        if (o[k] == 0) break;
        if (o[k] == 1 || k + 1 >= o.size() || o[k + 1] < 2) { ++k; continue; }
        k += o[k + 1];
      }
      j["options"] = opts;
    }
    j["checksum_ok"] = core::checksum_finish(core::checksum_partial(h, hlen)) == 0;
  }
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
    if (hlen > 20) b.put(", options ("), ip_options(p.subspan(20, hlen - 20)), b.put(')');
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
    host4(h + 12), b.put(" > "), host4(h + 16), b.put(": "), ip_proto(proto);
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
      host4(h + 12), b.put(" > "), host4(h + 16), b.put(": ");
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
          ip_proto(proto), b.put(' '), b.u(l4len);
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
  if (auto* L = layer("ipv6")) {
    auto& j = *L;
    j["src"] = ip_text(h + 8, 6), j["dst"] = ip_text(h + 24, 6);
    j["class"] = uint8_t((h[0] & 0x0f) << 4 | h[1] >> 4), j["flowlabel"] = (uint32_t(h[1] & 0x0f) << 16) | load_be16(h + 2);
    j["hlim"] = h[7], j["next_header"] = nh, j["payload_length"] = plen;
  }
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
    if (!printed_addrs) host6(h + 8), b.put(" > "), host6(h + 24), b.put(": ");
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
      if (auto* L = layer("ipv6_ext"))
        (*L)["header"] = nh == 0 ? "hop-by-hop" : nh == 60 ? "destination" : nh == 43 ? "routing" : "ah", (*L)["length"] = len;
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
      if (auto* L = layer("ipv6_ext"))
        (*L)["header"] = "fragment", (*L)["offset"] = off, (*L)["more"] = (fo & 1) != 0, (*L)["id"] = load_be32(rest.data() + 4);
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
    default: addrs(), ip_proto(nh), b.put(' '), b.u(l4len); break;
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
  if (auto* L = layer("gre")) {
    (*L)["version"] = ver, (*L)["proto"] = proto;
    size_t o = (flags & 0x8000) ? 8 : 4;
    if ((flags & 0x2000) && p.size() >= o + 4) (*L)["key"] = load_be32(p.data() + o);
  }
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

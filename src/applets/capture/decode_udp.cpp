// UDP, VXLAN, Geneve (DNS is in decode_dns.cpp).
#include "netshoot/packet.h"
#include "printer.h"

namespace netshoot::applet::capture {

using core::load_be16;
using core::load_be32;

namespace {

uint16_t udp_should_be(Bytes seg, const uint8_t* src, const uint8_t* dst, int fam, bool& ok) {
  size_t alen = fam == 4 ? 4 : 16;
  uint32_t s = core::checksum_partial(src, alen);
  s = core::checksum_partial(dst, alen, s);
  uint32_t len = uint32_t(seg.size());
  uint8_t t[8] = {0, 0, uint8_t(len >> 8), uint8_t(len), 0, 0, 0, 17};
  if (fam == 4) {
    uint8_t t4[4] = {0, 17, uint8_t(len >> 8), uint8_t(len)};
    s = core::checksum_partial(t4, 4, s);
  } else {
    core::store_be32(t, len);
    s = core::checksum_partial(t, 8, s);
  }
  s = core::checksum_partial(seg.data(), seg.size(), s);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  ok = core::checksum_finish(s) == 0;
  return should_be(core::checksum_finish(s + uint16_t(~load_be16(seg.data() + 6))));
}

}  // namespace

void Printer::udp(Bytes seg, uint32_t l4len, const uint8_t* src, const uint8_t* dst, int fam, bool frag) {
  Buf& b = *out_;
  sum_.l4 = "udp";
  if (seg.size() < 8) {
    if (seg.size() >= 4) {
      endpoint(src, fam, load_be16(seg.data()), true), b.put(" > ");
      endpoint(dst, fam, load_be16(seg.data() + 2), true), b.put(": ");
    } else {
      addr(src, fam), b.put(" > "), addr(dst, fam), b.put(": ");
    }
    b.put("[|udp]");
    return;
  }
  uint16_t sport = load_be16(seg.data()), dport = load_be16(seg.data() + 2), ulen = load_be16(seg.data() + 4);
  if (auto* L = layer("udp")) (*L)["sport"] = sport, (*L)["dport"] = dport, (*L)["length"] = ulen;
  sum_.sport = sport, sum_.dport = dport, sum_.has_ports = true;
  endpoint(src, fam, sport, true), b.put(" > "), endpoint(dst, fam, dport, true), b.put(": ");
  if (ulen < 8) {
    b.put("bad-len "), b.u(ulen);
    return;
  }
  if (ulen > l4len) {
    b.put("truncated-udp - "), b.u(ulen - l4len), b.put(" bytes missing!");
    ulen = uint16_t(l4len);
  }
  Bytes pl = seg.subspan(8, std::min<size_t>(seg.size(), ulen) - 8);
  sum_.payload = pl;
  if (o_.verbose >= (fam == 4 ? 2 : 1) && !frag && seg.size() >= ulen) {
    uint16_t stored = load_be16(seg.data() + 6);
    if (stored == 0 && fam == 4) {
      b.put("[no cksum] ");
    } else {
      bool ok = false;
      uint16_t should = udp_should_be(seg.first(ulen), src, dst, fam, ok);
      if (ok) b.put("[udp sum ok] ");
      else b.put("[bad udp cksum 0x"), b.hex_pad(stored, 4), b.put(" -> 0x"), b.hex_pad(should, 4), b.put("!] ");
    }
  }
  uint32_t plen = ulen - 8u;
  if (!o_.quiet && !frag) {
    if ((sport == 53 || dport == 53 || sport == 5353 || dport == 5353) && !pl.empty()) {
      return dns(pl, plen, sport == 5353 || dport == 5353);
    }
    if ((dport == 4789 || dport == 8472) && depth_ < 8) return vxlan(pl);
    if (dport == 6081 && depth_ < 8) return geneve(pl);
  }
  b.put("UDP, length "), b.u(plen);
}

void Printer::vxlan(Bytes p) {
  Buf& b = *out_;
  inner_summary();
  b.put("VXLAN");
  if (p.size() < 8) return trunc("vxlan");
  if (auto* L = layer("vxlan")) (*L)["flags"] = p[0], (*L)["vni"] = load_be32(p.data() + 4) >> 8;
  b.put(", flags ["), b.put(p[0] & 0x08 ? "I" : "."), b.put("] (0x"), b.hex_pad(p[0], 2), b.put("), vni ");
  b.u(load_be32(p.data() + 4) >> 8), b.put('\n');
  ++depth_;
  ether(p.subspan(8), remaining(p.subspan(8)), true);
  --depth_;
}

void Printer::geneve(Bytes p) {
  Buf& b = *out_;
  inner_summary();
  b.put("Geneve");
  if (p.size() < 8) return trunc("geneve");
  size_t optlen = size_t(p[0] & 0x3f) * 4;
  uint16_t proto = load_be16(p.data() + 2);
  if (auto* L = layer("geneve"))
    (*L)["vni"] = load_be32(p.data() + 4) >> 8, (*L)["proto"] = proto, (*L)["options_length"] = optlen;
  b.put(", Flags [");
  bool any = false;
  if (p[1] & 0x80) b.put("O"), any = true;
  if (p[1] & 0x40) b.put(any ? ", C" : "C"), any = true;
  if (!any) b.put("none");
  b.put("], vni 0x"), b.hex(load_be32(p.data() + 4) >> 8);
  b.put(", proto "), b.put(proto == 0x6558 ? "TEB" : proto == 0x0800 ? "IPv4" : proto == 0x86dd ? "IPv6" : "Unknown");
  b.put(" (0x"), b.hex_pad(proto, 4), b.put(')');
  if (optlen) b.put(", options ["), b.u(optlen), b.put(" bytes]");
  if (p.size() < 8 + optlen) return trunc("geneve");
  b.put('\n');
  Bytes inner = p.subspan(8 + optlen);
  ++depth_;
  if (proto == 0x6558) ether(inner, remaining(inner), true);
  else if (proto == 0x0800) b.put("IP "), ipv4(inner);
  else if (proto == 0x86dd) b.put("IP6 "), ipv6(inner);
  --depth_;
}

}  // namespace netshoot::applet::capture

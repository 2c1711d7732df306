// Link layers: Ethernet (802.1Q/QinQ), Linux cooked SLL and SLL2, and ARP.
#include <net/if.h>

#include "netshoot/packet.h"
#include "printer.h"

namespace netshoot::applet::capture {

using core::load_be16;
using core::load_be32;

namespace {

const char* ethertype_name(uint16_t t) {
  switch (t) {
    case 0x0800: return "IPv4";
    case 0x86dd: return "IPv6";
    case 0x0806: return "ARP";
    case 0x8035: return "Reverse ARP";
    case 0x8100: return "802.1Q";
    case 0x88a8: return "802.1Q-QinQ";
    case 0x9100: return "802.1Q-9100";
    case 0x8847: return "MPLS unicast";
    case 0x8848: return "MPLS multicast";
    case 0x88cc: return "LLDP";
    case 0x888e: return "EAPOL";
    case 0x6558: return "Transparent Ethernet bridging";
    default: return "Unknown";
  }
}

bool is_vlan(uint16_t t) { return t == 0x8100 || t == 0x88a8 || t == 0x9100; }

void put_ethertype(Buf& b, uint16_t t) {
  b.put("ethertype "), b.put(ethertype_name(t)), b.put(" (0x"), b.hex_pad(t, 4), b.put(')');
}

void put_lladdr(Buf& b, const uint8_t* a, size_t n) {
  if (n == 6) return b.mac(a);
  for (size_t k = 0; k < n; ++k) {
    if (k) b.put(':');
    b.byte_hex(a[k]);
  }
}

const char* direction(uint16_t pkttype) {
  switch (pkttype) {
    case 0: return "In";
    case 1: return "B";
    case 2: return "M";
    case 3: return "P";
    case 4: return "Out";
    default: return "?";
  }
}

}  // namespace

void Printer::mac(const uint8_t* m) {
  Buf& b = *out_;
  if (o_.numeric != 0) return b.mac(m);
  std::string_view name = mac_name(m);
  if (!name.empty()) return b.put(name);
  // tcpdump names the OUI from its own table; the all-zero OUI is plain Ethernet
  // encapsulation there, and that is the only one we know.
  b.mac(m), b.put(m[0] == 0 && m[1] == 0 && m[2] == 0 ? " (oui Ethernet)" : " (oui Unknown)");
}

void Printer::ether(Bytes p, uint32_t wirelen, bool inner) {
  Buf& b = *out_;
  if (p.size() < 14) {
    b.put("[|ether]");
    return;
  }
  uint16_t type = load_be16(p.data() + 12);
  if (o_.link_header) {
    mac(p.data() + 6), b.put(" > "), mac(p.data());
    if (type <= 1500) {
      b.put(", 802.3, length "), b.u(type), b.put(": ");
    } else {
      b.put(", "), put_ethertype(b, type), b.put(", length "), b.u(inner ? remaining(p) : wirelen), b.put(": ");
    }
  }
  if (auto* L = layer("ethernet")) {
    (*L)["src"] = mac_text(p.data() + 6), (*L)["dst"] = mac_text(p.data());
    (*L)[type <= 1500 ? "length" : "ethertype"] = type;
  }
  size_t off = 14;
  while (is_vlan(type)) {
    if (p.size() < off + 4) {
      b.put("[|vlan]");
      return;
    }
    uint16_t tci = load_be16(p.data() + off);
    uint16_t next = load_be16(p.data() + off + 2);
    if (auto* L = layer("vlan"))
      (*L)["id"] = tci & 0x0fff, (*L)["pcp"] = tci >> 13, (*L)["dei"] = (tci & 0x1000) != 0, (*L)["ethertype"] = next;
    if (o_.link_header) {
      b.put("vlan "), b.u(tci & 0x0fff), b.put(", p "), b.u(tci >> 13);
      if (tci & 0x1000) b.put(", DEI");
      b.put(", "), put_ethertype(b, next), b.put(", ");
    }
    type = next;
    off += 4;
  }
  if (type <= 1500) {  // 802.3 length field: LLC
    if (!o_.link_header) mac(p.data() + 6), b.put(" > "), mac(p.data()), b.put(", 802.3, length "), b.u(type), b.put(": ");
    b.put("LLC");
    return;
  }
  if (!sum_.net_start) sum_.net_start = p.data() + off;
  ethertype(type, p.subspan(off), inner);
}

void Printer::ethertype(uint16_t type, Bytes p, bool inner) {
  Buf& b = *out_;
  (void)inner;
  switch (type) {
    case 0x0800:
      if (!o_.link_header) b.put("IP ");
      ipv4(p);
      return;
    case 0x86dd:
      if (!o_.link_header) b.put("IP6 ");
      ipv6(p);
      return;
    case 0x0806:
    case 0x8035:
      if (!o_.link_header) b.put(type == 0x0806 ? "ARP, " : "RARP, ");
      arp(p);
      return;
    case 0x6558:  // transparent ethernet bridging (GRE/NVGRE)
      if (depth_ < 8) ++depth_, ether(p, remaining(p), true), --depth_;
      return;
    default:
      if (!o_.link_header) put_ethertype(b, type), b.put(", length "), b.u(remaining(p) + 14), b.put(": ");
      return;
  }
}

void Printer::sll(Bytes p, uint32_t wirelen) {
  Buf& b = *out_;
  if (p.size() < 16) {
    b.put("[|sll]");
    return;
  }
  uint16_t pkttype = load_be16(p.data()), halen = load_be16(p.data() + 4), proto = load_be16(p.data() + 14);
  if (o_.link_header) {
    b.put(direction(pkttype)), b.put(' ');
    if (halen == 6) mac(p.data() + 6);
    else put_lladdr(b, p.data() + 6, std::min<uint16_t>(halen, 8));
    b.put(' '), put_ethertype(b, proto), b.put(", length "), b.u(wirelen), b.put(": ");
  }
  if (auto* L = layer("sll")) {
    (*L)["direction"] = direction(pkttype), (*L)["ethertype"] = proto;
    if (halen == 6) (*L)["addr"] = mac_text(p.data() + 6);
  }
  sum_.net_start = p.data() + 16;
  Bytes rest = p.subspan(16);
  while (is_vlan(proto) && rest.size() >= 4) {
    uint16_t tci = load_be16(rest.data());
    proto = load_be16(rest.data() + 2);
    if (o_.link_header) b.put("vlan "), b.u(tci & 0xfff), b.put(", p "), b.u(tci >> 13), b.put(", "), put_ethertype(b, proto), b.put(", ");
    rest = rest.subspan(4);
  }
  ethertype(proto, rest, false);
}

void Printer::sll2(Bytes p, uint32_t wirelen) {
  Buf& b = *out_;
  if (p.size() < 20) {
    b.put("[|sll2]");
    return;
  }
  uint16_t proto = load_be16(p.data());
  uint32_t ifindex = load_be32(p.data() + 4);
  uint8_t pkttype = p[10], halen = p[11];
  auto it = ifnames_.find(ifindex);
  if (it == ifnames_.end()) {
    char name[IF_NAMESIZE + 1] = {};
    std::string s = if_indextoname(ifindex, name) ? std::string(name) : std::to_string(ifindex);
    it = ifnames_.emplace(ifindex, std::move(s)).first;
  }
  const std::string& ifn = it->second;
  b.put(ifn);
  if (ifn.size() < 5) b.spaces(5 - ifn.size());
  b.put(' ');
  const char* dir = direction(pkttype);
  b.put(dir);
  size_t dl = std::strlen(dir);
  if (dl < 3) b.spaces(3 - dl);
  b.put(' ');
  if (o_.link_header) {
    b.put("ifindex "), b.u(ifindex), b.put(' ');
    if (halen == 6) mac(p.data() + 12);
    else put_lladdr(b, p.data() + 12, std::min<uint8_t>(halen, 8));
    b.put(' '), put_ethertype(b, proto), b.put(", length "), b.u(wirelen), b.put(": ");
  }
  if (auto* L = layer("sll2")) {
    (*L)["ifindex"] = ifindex, (*L)["ifname"] = ifn, (*L)["direction"] = dir, (*L)["ethertype"] = proto;
    if (halen == 6) (*L)["addr"] = mac_text(p.data() + 12);
  }
  sum_.net_start = p.data() + 20;
  ethertype(proto, p.subspan(20), false);
}

void Printer::arp(Bytes p) {
  Buf& b = *out_;
  sum_.net = "ARP";
  if (p.size() < 8) {
    b.put("[|ARP]");
    return;
  }
  uint16_t htype = load_be16(p.data()), ptype = load_be16(p.data() + 2), op = load_be16(p.data() + 6);
  uint8_t hlen = p[4], plen = p[5];
  if (o_.verbose) {
    b.put(htype == 1 ? "Ethernet" : "Unknown Hardware"), b.put(" (len "), b.u(hlen), b.put("), ");
    b.put(ptype == 0x0800 ? "IPv4" : "Unknown Protocol"), b.put(" (len "), b.u(plen), b.put("), ");
  }
  size_t need = 8 + 2 * size_t(hlen) + 2 * size_t(plen);
  if (p.size() < need) {
    b.put("[|ARP]");
    return;
  }
  const uint8_t* sha = p.data() + 8;
  const uint8_t* spa = sha + hlen;
  const uint8_t* tha = spa + plen;
  const uint8_t* tpa = tha + hlen;
  bool ipv4 = ptype == 0x0800 && plen == 4;
  if (auto* L = layer("arp")) {
    static const char* kOps[] = {"", "request", "reply", "rarp-request", "rarp-reply"};
    (*L)["op"] = op >= 1 && op <= 4 ? kOps[op] : "unknown", (*L)["opcode"] = op;
    if (hlen == 6) (*L)["sender_mac"] = mac_text(sha), (*L)["target_mac"] = mac_text(tha);
    if (ipv4) (*L)["sender_ip"] = ip_text(spa, 4), (*L)["target_ip"] = ip_text(tpa, 4);
  }
  auto pa = [&](const uint8_t* a) {
    if (ipv4) host4(a);
    else put_lladdr(b, a, plen);
  };
  switch (op) {
    case 1: {
      b.put("Request who-has "), pa(tpa);
      bool zero = true;
      for (int k = 0; k < hlen; ++k) zero &= tha[k] == 0;
      if (!zero) {
        b.put(" (");
        if (hlen == 6) mac(tha);
        else put_lladdr(b, tha, hlen);
        b.put(')');
      }
      b.put(" tell "), pa(spa);
      break;
    }
    case 2:
      b.put("Reply "), pa(spa), b.put(" is-at ");
      if (hlen == 6) mac(sha);
      else put_lladdr(b, sha, hlen);
      break;
    case 3: b.put("Reverse Request who-is "), put_lladdr(b, tha, hlen), b.put(" tell "), put_lladdr(b, sha, hlen); break;
    case 4: b.put("Reverse Reply "), put_lladdr(b, tha, hlen), b.put(" at "), pa(tpa); break;
    default: b.put("Unknown ("), b.u(op), b.put(')'); break;
  }
  b.put(", length "), b.u(remaining(p));
}

}  // namespace netshoot::applet::capture

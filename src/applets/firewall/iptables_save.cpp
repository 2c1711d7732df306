// iptables-save / ip6tables-save (read-only): the iptables-nft tables of the ip or
// ip6 family printed in iptables-save's format. Rules are read back from their
// nftables expressions: the native ones iptables-nft emits for -s/-d/-i/-o/-p,
// tcp/udp ports and flags, mark, limit and verdicts, and the xtables compat
// expressions (match/target with the xt info struct) for the common extensions.
// Whatever is not understood is printed as "[netshoot: cannot decode ...]".
#include <arpa/inet.h>

#include <cstdio>  // before libnftnl/expr.h, which uses FILE

#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_LOG.h>
#include <linux/netfilter/xt_connmark.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "applets/firewall/iptables_save.h"
#include "netshoot/output.h"

namespace netshoot::applet::firewall {
namespace {

using core::nft::Expr;
using Bytes = std::vector<uint8_t>;

uint16_t id(int v) { return static_cast<uint16_t>(v); }

template <typename T>
std::optional<T> info_as(const Expr& e, int attr) {
  Bytes b = e.data(id(attr));
  if (b.size() < sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, b.data(), sizeof v);
  return v;
}

std::string hexnum(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

std::string addr_text(const uint8_t* p, bool v6) {
  char b[INET6_ADDRSTRLEN];
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, p, b, sizeof b);
  return b;
}

// iptables' quoting of a string argument (--comment, --log-prefix).
std::string ipt_quoted(std::string_view s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

const char* proto_name(uint32_t p) {
  switch (p) {
    case 1: return "icmp";
    case 2: return "igmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 33: return "dccp";
    case 47: return "gre";
    case 50: return "esp";
    case 51: return "ah";
    case 58: return "ipv6-icmp";
    case 132: return "sctp";
    case 136: return "udplite";
    default: return nullptr;
  }
}

// What a register holds while a rule's expressions are read in order.
struct Reg {
  enum Kind { none, meta, payload } kind = none;
  uint32_t key = 0;            // meta key
  uint32_t base = 0, off = 0, len = 0;  // payload
  Bytes mask;                  // from a bitwise
};

// The parts of one iptables rule, printed in iptables-save's order.
struct RuleParts {
  std::string src, dst, in, out, proto;  // with their leading "! " when inverted
  std::vector<std::string> matches;      // " -m ..." in rule order
  // The implicit tcp/udp match the port and flag conditions go to.
  int l4_match = -1;
  std::string sport, dport, flags;
  std::string target;
  std::vector<std::string> unknown;
  uint64_t packets = 0, bytes = 0;
};

std::string tcp_flag_names(uint8_t v) {
  static const char* const kNames[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
  if (v == 0) return "NONE";
  std::string s;
  for (int i = 0; i < 6; ++i)
    if (v & (1 << i)) s += (s.empty() ? "" : ",") + std::string(kNames[i]);
  return s;
}

std::string ct_states(uint16_t mask) {
  static const std::pair<uint16_t, const char*> kStates[] = {
      {XT_CONNTRACK_STATE_INVALID, "INVALID"},
      {XT_CONNTRACK_STATE_BIT(IP_CT_NEW), "NEW"},
      {XT_CONNTRACK_STATE_BIT(IP_CT_RELATED), "RELATED"},
      {XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED), "ESTABLISHED"},
      {XT_CONNTRACK_STATE_UNTRACKED, "UNTRACKED"},
      {XT_CONNTRACK_STATE_SNAT, "SNAT"},
      {XT_CONNTRACK_STATE_DNAT, "DNAT"}};
  std::string s;
  for (const auto& [bit, name] : kStates)
    if (mask & bit) s += (s.empty() ? "" : ",") + std::string(name);
  return s;
}

std::string addrtypes(uint16_t mask) {
  static const char* const kNames[] = {"UNSPEC",    "UNICAST",     "LOCAL",    "BROADCAST", "ANYCAST", "MULTICAST",
                                       "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW",     "NAT",     "XRESOLVE"};
  std::string s;
  for (int i = 0; i < 12; ++i)
    if (mask & (1u << i)) s += (s.empty() ? "" : ",") + std::string(kNames[i]);
  return s;
}

std::optional<std::string> xt_match(const Expr& e, bool v6) {
  std::string name = e.str(id(NFTNL_EXPR_MT_NAME));
  uint32_t rev = e.u32(id(NFTNL_EXPR_MT_REV));
  if (name == "comment") {
    Bytes b = e.data(id(NFTNL_EXPR_MT_INFO));
    std::string c(b.begin(), std::find(b.begin(), b.end(), 0));
    return " -m comment --comment " + ipt_quoted(c);
  }
  if (name == "conntrack" && rev >= 1 && rev <= 3) {
    // mtinfo1..3 share their start; rev 1 has an 8-bit state mask, 2 and 3 16 bits.
    auto m = info_as<xt_conntrack_mtinfo2>(e, NFTNL_EXPR_MT_INFO);
    if (!m) return std::nullopt;
    uint16_t state = m->state_mask;
    if (rev == 1) {
      auto m1 = info_as<xt_conntrack_mtinfo1>(e, NFTNL_EXPR_MT_INFO);
      state = m1->state_mask;
    }
    uint16_t flags = m->match_flags & ~XT_CONNTRACK_STATE_ALIAS;
    if (flags != XT_CONNTRACK_STATE) return std::nullopt;  // only state is decoded
    bool inv = m->invert_flags & XT_CONNTRACK_STATE;
    if (m->match_flags & XT_CONNTRACK_STATE_ALIAS)
      return std::string(" -m state") + (inv ? " !" : "") + " --state " + ct_states(state);
    return std::string(" -m conntrack") + (inv ? " !" : "") + " --ctstate " + ct_states(state);
  }
  if (name == "multiport" && rev == 1) {
    auto m = info_as<xt_multiport_v1>(e, NFTNL_EXPR_MT_INFO);
    if (!m || m->count > XT_MULTI_PORTS) return std::nullopt;
    const char* opt = m->flags == XT_MULTIPORT_SOURCE        ? "--sports"
                      : m->flags == XT_MULTIPORT_DESTINATION ? "--dports"
                                                             : "--ports";
    std::string s = std::string(" -m multiport") + (m->invert ? " !" : "") + " " + opt + " ";
    for (unsigned i = 0; i < m->count; ++i) {
      if (i) s += ',';
      s += std::to_string(m->ports[i]);
      if (m->pflags[i] && i + 1 < m->count) s += ":" + std::to_string(m->ports[++i]);
    }
    return s;
  }
  if (name == "mark" && rev == 1) {
    auto m = info_as<xt_mark_mtinfo1>(e, NFTNL_EXPR_MT_INFO);
    if (!m) return std::nullopt;
    std::string v = hexnum(m->mark);
    if (m->mask != 0xffffffffu) v += "/" + hexnum(m->mask);
    return std::string(" -m mark") + (m->invert ? " !" : "") + " --mark " + v;
  }
  if (name == "addrtype" && rev == 1) {
    auto m = info_as<xt_addrtype_info_v1>(e, NFTNL_EXPR_MT_INFO);
    if (!m) return std::nullopt;
    std::string s = " -m addrtype";
    if (m->source) s += std::string(m->flags & XT_ADDRTYPE_INVERT_SOURCE ? " !" : "") + " --src-type " + addrtypes(m->source);
    if (m->dest) s += std::string(m->flags & XT_ADDRTYPE_INVERT_DEST ? " !" : "") + " --dst-type " + addrtypes(m->dest);
    if (m->flags & XT_ADDRTYPE_LIMIT_IFACE_IN) s += " --limit-iface-in";
    if (m->flags & XT_ADDRTYPE_LIMIT_IFACE_OUT) s += " --limit-iface-out";
    return s;
  }
  if ((name == "icmp" && !v6) || (name == "icmp6" && v6)) {
    // struct ipt_icmp / ip6t_icmp: type, code range, invert flag.
    Bytes b = e.data(id(NFTNL_EXPR_MT_INFO));
    if (rev != 0 || b.size() < 4 || (b[3] & ~1u)) return std::nullopt;
    std::string s = v6 ? " -m icmp6" : " -m icmp";
    s += std::string(b[3] & 1 ? " !" : "") + (v6 ? " --icmpv6-type " : " --icmp-type ");
    if (b[0] == 0xff && b[1] == 0 && b[2] == 0xff) return s + "any";
    s += std::to_string(b[0]);
    if (b[1] != 0 || b[2] != 0xff) {
      if (b[1] != b[2]) return std::nullopt;  // a code range iptables cannot write
      s += "/" + std::to_string(b[1]);
    }
    return s;
  }
  if ((name == "tcp" || name == "udp") && rev == 0) {
    // The xtables form of the tcp/udp match (iptables-nft keeps it for --tcp-option).
    auto ports = [](const char* opt, const uint16_t* p, bool inv) -> std::string {
      if (p[0] == 0 && p[1] == 0xffff) return {};
      std::string v = std::to_string(p[0]);
      if (p[1] != p[0]) v += ":" + std::to_string(p[1]);
      return std::string(inv ? " !" : "") + " " + opt + " " + v;
    };
    std::string s = " -m " + name;
    if (name == "udp") {
      auto u = info_as<xt_udp>(e, NFTNL_EXPR_MT_INFO);
      if (!u || (u->invflags & ~XT_UDP_INV_MASK)) return std::nullopt;
      return s + ports("--sport", u->spts, u->invflags & XT_UDP_INV_SRCPT) +
             ports("--dport", u->dpts, u->invflags & XT_UDP_INV_DSTPT);
    }
    auto t = info_as<xt_tcp>(e, NFTNL_EXPR_MT_INFO);
    if (!t || (t->invflags & ~XT_TCP_INV_MASK)) return std::nullopt;
    s += ports("--sport", t->spts, t->invflags & XT_TCP_INV_SRCPT);
    s += ports("--dport", t->dpts, t->invflags & XT_TCP_INV_DSTPT);
    if (t->option) s += std::string(t->invflags & XT_TCP_INV_OPTION ? " !" : "") + " --tcp-option " + std::to_string(t->option);
    if (t->flg_mask)
      s += std::string(t->invflags & XT_TCP_INV_FLAGS ? " !" : "") + " --tcp-flags " + tcp_flag_names(t->flg_mask) + " " +
           tcp_flag_names(t->flg_cmp);
    return s;
  }
  if (name == "iprange" && rev == 1) {
    auto m = info_as<xt_iprange_mtinfo>(e, NFTNL_EXPR_MT_INFO);
    if (!m) return std::nullopt;
    std::string s = " -m iprange";
    auto range = [&](const nf_inet_addr& lo, const nf_inet_addr& hi) {
      return addr_text(reinterpret_cast<const uint8_t*>(&lo), v6) + "-" +
             addr_text(reinterpret_cast<const uint8_t*>(&hi), v6);
    };
    if (m->flags & IPRANGE_SRC)
      s += std::string(m->flags & IPRANGE_SRC_INV ? " !" : "") + " --src-range " + range(m->src_min, m->src_max);
    if (m->flags & IPRANGE_DST)
      s += std::string(m->flags & IPRANGE_DST_INV ? " !" : "") + " --dst-range " + range(m->dst_min, m->dst_max);
    return s;
  }
  return std::nullopt;
}

std::string nat_range(bool v6, uint32_t flags, const uint8_t* min_addr, const uint8_t* max_addr, uint16_t min_port,
                      uint16_t max_port) {
  std::string s;
  if (flags & NF_NAT_RANGE_MAP_IPS) {
    std::string lo = addr_text(min_addr, v6), hi = addr_text(max_addr, v6);
    bool ports = flags & NF_NAT_RANGE_PROTO_SPECIFIED;
    s = v6 && ports ? "[" + lo + "]" : lo;
    if (hi != lo) s = v6 && ports ? "[" + lo + "-" + hi + "]" : lo + "-" + hi;
  }
  if (flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
    s += ":" + std::to_string(ntohs(min_port));
    if (max_port != min_port) s += "-" + std::to_string(ntohs(max_port));
  }
  return s;
}

std::string nat_flags(uint32_t flags) {
  std::string s;
  if (flags & NF_NAT_RANGE_PROTO_RANDOM) s += " --random";
  if (flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) s += " --random-fully";
  if (flags & NF_NAT_RANGE_PERSISTENT) s += " --persistent";
  return s;
}

std::optional<std::string> xt_target(const Expr& e, bool v6) {
  std::string name = e.str(id(NFTNL_EXPR_TG_NAME));
  uint32_t rev = e.u32(id(NFTNL_EXPR_TG_REV));
  if (name == "LOG" && rev == 0) {
    auto l = info_as<xt_log_info>(e, NFTNL_EXPR_TG_INFO);
    if (!l) return std::nullopt;
    std::string s = " -j LOG";
    std::string prefix(l->prefix, strnlen(l->prefix, sizeof l->prefix));
    if (!prefix.empty()) s += " --log-prefix " + ipt_quoted(prefix);
    if (l->level != 4) s += " --log-level " + std::to_string(l->level);
    if (l->logflags & XT_LOG_TCPSEQ) s += " --log-tcp-sequence";
    if (l->logflags & XT_LOG_TCPOPT) s += " --log-tcp-options";
    if (l->logflags & XT_LOG_IPOPT) s += " --log-ip-options";
    if (l->logflags & XT_LOG_UID) s += " --log-uid";
    if (l->logflags & XT_LOG_MACDECODE) s += " --log-macdecode";
    return s;
  }
  if (name == "REJECT" && rev == 0) {
    auto r = info_as<uint32_t>(e, NFTNL_EXPR_TG_INFO);
    if (!r) return std::nullopt;
    static const char* const k4[] = {"icmp-net-unreachable", "icmp-host-unreachable", "icmp-proto-unreachable",
                                     "icmp-port-unreachable", "echo-reply", "icmp-net-prohibited",
                                     "icmp-host-prohibited", "tcp-reset", "icmp-admin-prohibited"};
    static const char* const k6[] = {"icmp6-no-route", "icmp6-adm-prohibited", "icmp6-not-neighbour",
                                     "icmp6-addr-unreachable", "icmp6-port-unreachable", "echo-reply",
                                     "tcp-reset", "icmp6-policy-fail", "icmp6-reject-route"};
    if (*r >= 9) return std::nullopt;
    return std::string(" -j REJECT --reject-with ") + (v6 ? k6[*r] : k4[*r]);
  }
  if (name == "MARK" && rev == 2) {
    auto m = info_as<xt_mark_tginfo2>(e, NFTNL_EXPR_TG_INFO);
    if (!m) return std::nullopt;
    return " -j MARK --set-xmark " + hexnum(m->mark) + "/" + hexnum(m->mask);
  }
  if (name == "CT" && (rev == 1 || rev == 2)) {
    auto c = info_as<xt_ct_target_info_v1>(e, NFTNL_EXPR_TG_INFO);
    // Only the plain --notrack form; zones, helpers, timeouts, events are left undecoded.
    if (!c || !(c->flags & XT_CT_NOTRACK) || (c->flags & ~XT_CT_NOTRACK) || c->zone || c->ct_events ||
        c->exp_events || c->helper[0] || c->timeout[0])
      return std::nullopt;
    return std::string(" -j CT --notrack");
  }
  if (name == "CONNMARK" && rev == 2) {
    auto c = info_as<xt_connmark_tginfo2>(e, NFTNL_EXPR_TG_INFO);
    if (!c || c->shift_bits) return std::nullopt;
    if (c->mode == XT_CONNMARK_SET) return " -j CONNMARK --set-xmark " + hexnum(c->ctmark) + "/" + hexnum(c->ctmask);
    if (c->mode == XT_CONNMARK_SAVE || c->mode == XT_CONNMARK_RESTORE)
      return std::string(" -j CONNMARK ") + (c->mode == XT_CONNMARK_SAVE ? "--save-mark" : "--restore-mark") +
             " --nfmask " + hexnum(c->nfmask) + " --ctmask " + hexnum(c->ctmask);
    return std::nullopt;
  }
  if ((name == "SNAT" || name == "DNAT" || name == "MASQUERADE") && rev == 0 && !v6) {
    auto c = info_as<nf_nat_ipv4_multi_range_compat>(e, NFTNL_EXPR_TG_INFO);
    if (!c || c->rangesize != 1) return std::nullopt;
    const auto& r = c->range[0];
    std::string range = nat_range(false, r.flags, reinterpret_cast<const uint8_t*>(&r.min_ip),
                                  reinterpret_cast<const uint8_t*>(&r.max_ip), r.min.all, r.max.all);
    if (name == "MASQUERADE") {
      std::string s = " -j MASQUERADE";
      if (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) s += " --to-ports " + range.substr(1);
      return s + nat_flags(r.flags);
    }
    return " -j " + name + (name == "SNAT" ? " --to-source " : " --to-destination ") + range + nat_flags(r.flags);
  }
  // ip6's MASQUERADE revision 0 already takes an nf_nat_range.
  if ((name == "SNAT" || name == "DNAT" || name == "MASQUERADE") && ((rev >= 1 && rev <= 2) || (v6 && rev == 0))) {
    // nf_nat_range (rev 1) is nf_nat_range2 without its last field.
    Bytes b = e.data(id(NFTNL_EXPR_TG_INFO));
    if (b.size() < sizeof(nf_nat_range)) return std::nullopt;
    nf_nat_range2 r{};
    std::memcpy(&r, b.data(), std::min(b.size(), sizeof r));
    if (r.flags & (NF_NAT_RANGE_PROTO_OFFSET | NF_NAT_RANGE_NETMAP)) return std::nullopt;
    std::string range = nat_range(v6, r.flags, reinterpret_cast<const uint8_t*>(&r.min_addr),
                                  reinterpret_cast<const uint8_t*>(&r.max_addr), r.min_proto.all, r.max_proto.all);
    if (name == "MASQUERADE") {
      std::string s = " -j MASQUERADE";
      if (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) s += " --to-ports " + range.substr(range.rfind(':') + 1);
      return s + nat_flags(r.flags);
    }
    return " -j " + name + (name == "SNAT" ? " --to-source " : " --to-destination ") + range + nat_flags(r.flags);
  }
  return std::nullopt;
}

std::string iface_text(const Bytes& d) {
  // iptables-nft compares the name with its NUL, or only the prefix for "eth+".
  if (!d.empty() && d.back() == 0) return std::string(d.begin(), std::find(d.begin(), d.end(), 0));
  return std::string(d.begin(), d.end()) + "+";
}

int mask_bits(const Bytes& m) {
  int n = 0;
  for (uint8_t b : m) {
    for (int i = 7; i >= 0; --i) {
      if (!(b & (1 << i))) return n;
      ++n;
    }
  }
  return n;
}

std::string port_text(const Bytes& d) { return d.size() >= 2 ? std::to_string(d[0] << 8 | d[1]) : "?"; }

// "payload network+8/1", "meta key 3": what a comparison we cannot print looked at.
std::string describe(const Reg& r) {
  if (r.kind == Reg::meta) return "meta key " + std::to_string(r.key);
  if (r.kind == Reg::payload) {
    const char* base = r.base == NFT_PAYLOAD_LL_HEADER        ? "link"
                       : r.base == NFT_PAYLOAD_NETWORK_HEADER  ? "network"
                       : r.base == NFT_PAYLOAD_TRANSPORT_HEADER ? "transport"
                                                                : "inner";
    return std::string("payload ") + base + "+" + std::to_string(r.off) + "/" + std::to_string(r.len) +
           (r.mask.empty() ? "" : " masked");
  }
  return "register";
}

RuleParts decode(const core::nft::Rule& rule, bool v6) {
  RuleParts p;
  Reg reg;
  auto l4 = [&]() {
    if (p.l4_match < 0) {
      p.l4_match = static_cast<int>(p.matches.size());
      p.matches.emplace_back();  // filled at the end (its options in iptables' order)
    }
  };
  const char* l4name = nullptr;
  for (const auto& e : rule.exprs) {
    const std::string& n = e.name;
    if (n == "meta" && e.has(id(NFTNL_EXPR_META_DREG))) {
      reg = Reg{Reg::meta, e.u32(id(NFTNL_EXPR_META_KEY))};
    } else if (n == "payload" && e.has(id(NFTNL_EXPR_PAYLOAD_DREG))) {
      reg = Reg{Reg::payload, 0, e.u32(id(NFTNL_EXPR_PAYLOAD_BASE)), e.u32(id(NFTNL_EXPR_PAYLOAD_OFFSET)),
                e.u32(id(NFTNL_EXPR_PAYLOAD_LEN)), {}};
    } else if (n == "bitwise" && reg.kind != Reg::none && !e.has(id(NFTNL_EXPR_BITWISE_OP))) {
      reg.mask = e.data(id(NFTNL_EXPR_BITWISE_MASK));
    } else if (n == "bitwise" && reg.kind != Reg::none && e.u32(id(NFTNL_EXPR_BITWISE_OP)) == NFT_BITWISE_BOOL) {
      reg.mask = e.data(id(NFTNL_EXPR_BITWISE_MASK));
    } else if (n == "cmp" || n == "range") {
      uint32_t op = e.u32(id(n == "cmp" ? NFTNL_EXPR_CMP_OP : NFTNL_EXPR_RANGE_OP));
      bool neq = op == NFT_CMP_NEQ;
      if (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) {
        p.unknown.push_back(n + " op " + std::to_string(op));
        continue;
      }
      std::string inv = neq ? "! " : "";
      Bytes d = e.data(id(n == "cmp" ? NFTNL_EXPR_CMP_DATA : NFTNL_EXPR_RANGE_FROM_DATA));
      Bytes hi = n == "range" ? e.data(id(NFTNL_EXPR_RANGE_TO_DATA)) : Bytes{};
      bool done = false;
      if (reg.kind == Reg::meta && n == "cmp") {
        if (reg.key == NFT_META_L4PROTO && d.size() == 1) {
          const char* pn = proto_name(d[0]);
          l4name = d[0] == 6 ? "tcp" : d[0] == 17 ? "udp" : nullptr;
          p.proto = inv + (pn ? pn : std::to_string(d[0]));
          done = true;
        } else if (reg.key == NFT_META_IIFNAME || reg.key == NFT_META_OIFNAME) {
          (reg.key == NFT_META_IIFNAME ? p.in : p.out) = inv + iface_text(d);
          done = true;
        } else if (reg.key == NFT_META_MARK && d.size() == 4) {
          uint32_t v, m = 0xffffffffu;
          std::memcpy(&v, d.data(), 4);
          if (reg.mask.size() == 4) std::memcpy(&m, reg.mask.data(), 4);
          std::string s = " -m mark" + std::string(neq ? " !" : "") + " --mark " + hexnum(v);
          if (m != 0xffffffffu) s += "/" + hexnum(m);
          p.matches.push_back(s);
          done = true;
        }
      } else if (reg.kind == Reg::payload && reg.base == NFT_PAYLOAD_NETWORK_HEADER && n == "cmp") {
        uint32_t src = v6 ? 8 : 12, dst = v6 ? 24 : 16, alen = v6 ? 16 : 4;
        if ((reg.off == src || reg.off == dst) && reg.len <= alen && d.size() == reg.len) {
          uint8_t a[16] = {};
          std::memcpy(a, d.data(), d.size());
          int bits = reg.mask.empty() ? static_cast<int>(reg.len * 8) : mask_bits(reg.mask);
          (reg.off == src ? p.src : p.dst) = inv + addr_text(a, v6) + "/" + std::to_string(bits);
          done = true;
        }
      } else if (reg.kind == Reg::payload && reg.base == NFT_PAYLOAD_TRANSPORT_HEADER && l4name) {
        if ((reg.off == 0 || reg.off == 2) && reg.len == 2 && reg.mask.empty()) {
          std::string v = inv + port_text(d) + (n == "range" ? ":" + port_text(hi) : "");
          l4();
          (reg.off == 0 ? p.sport : p.dport) = v;
          done = true;
        } else if (reg.off == 13 && reg.len == 1 && std::string(l4name) == "tcp" && n == "cmp" && d.size() == 1) {
          uint8_t mask = reg.mask.size() == 1 ? reg.mask[0] : 0xff;
          l4();
          p.flags = inv + tcp_flag_names(mask) + " " + tcp_flag_names(d[0]);
          done = true;
        }
      }
      if (!done) p.unknown.push_back(describe(reg) + " " + n + (neq ? " !=" : " =="));
      reg = Reg{};
    } else if (n == "counter") {
      p.packets = e.u64(id(NFTNL_EXPR_CTR_PACKETS));
      p.bytes = e.u64(id(NFTNL_EXPR_CTR_BYTES));
    } else if (n == "limit" && e.u32(id(NFTNL_EXPR_LIMIT_TYPE)) == NFT_LIMIT_PKTS &&
               !(e.u32(id(NFTNL_EXPR_LIMIT_FLAGS)) & NFT_LIMIT_F_INV)) {
      uint64_t unit = e.u64(id(NFTNL_EXPR_LIMIT_UNIT));
      const char* u = unit == 1 ? "sec" : unit == 60 ? "min" : unit == 3600 ? "hour" : unit == 86400 ? "day" : nullptr;
      if (!u) {
        p.unknown.push_back("limit");
        continue;
      }
      std::string s = " -m limit --limit " + std::to_string(e.u64(id(NFTNL_EXPR_LIMIT_RATE))) + "/" + u;
      uint32_t burst = e.u32(id(NFTNL_EXPR_LIMIT_BURST));
      if (burst != 5) s += " --limit-burst " + std::to_string(burst);
      p.matches.push_back(s);
    } else if (n == "match") {
      if (auto m = xt_match(e, v6)) p.matches.push_back(*m);
      else p.unknown.push_back("xt match " + e.str(id(NFTNL_EXPR_MT_NAME)) + " rev " +
                               std::to_string(e.u32(id(NFTNL_EXPR_MT_REV))));
    } else if (n == "target") {
      if (auto t = xt_target(e, v6)) p.target = *t;
      else p.unknown.push_back("xt target " + e.str(id(NFTNL_EXPR_TG_NAME)) + " rev " +
                               std::to_string(e.u32(id(NFTNL_EXPR_TG_REV))));
    } else if (n == "immediate" && e.has(id(NFTNL_EXPR_IMM_VERDICT))) {
      auto v = static_cast<int32_t>(e.u32(id(NFTNL_EXPR_IMM_VERDICT)));
      if (v == NF_ACCEPT) p.target = " -j ACCEPT";
      else if (v == NF_DROP) p.target = " -j DROP";
      else if (v == NFT_RETURN) p.target = " -j RETURN";
      else if (v == NFT_JUMP) p.target = " -j " + e.str(id(NFTNL_EXPR_IMM_CHAIN));
      else if (v == NFT_GOTO) p.target = " -g " + e.str(id(NFTNL_EXPR_IMM_CHAIN));
      else p.unknown.push_back("verdict " + std::to_string(v));
    } else {
      p.unknown.push_back(n);
    }
  }
  if (p.l4_match >= 0) {
    std::string s = std::string(" -m ") + l4name;
    auto opt = [&](const std::string& v, const char* name) {
      if (v.empty()) return;
      bool inv = v.rfind("! ", 0) == 0;
      s += std::string(inv ? " !" : "") + " " + name + " " + (inv ? v.substr(2) : v);
    };
    opt(p.sport, "--sport");
    opt(p.dport, "--dport");
    opt(p.flags, "--tcp-flags");
    p.matches[static_cast<size_t>(p.l4_match)] = s;
  }
  return p;
}

struct Builtin {
  const char* table;
  std::vector<const char*> chains;
};

// iptables-nft's tables in the order it saves them, with their chains in hook order.
const std::vector<Builtin>& builtins() {
  static const std::vector<Builtin> k = {
      {"mangle", {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"}},
      {"security", {"INPUT", "FORWARD", "OUTPUT"}},
      {"raw", {"PREROUTING", "OUTPUT"}},
      {"filter", {"INPUT", "FORWARD", "OUTPUT"}},
      {"nat", {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"}},
  };
  return k;
}

// The table's chains that are not builtin ones, sorted by name (as iptables-save lists them).
std::vector<std::string> user_chains(const core::nft::Ruleset& rs, uint32_t family, const Builtin& b) {
  std::vector<std::string> user;
  for (const auto& ch : rs.chains)
    if (ch.family == family && ch.table == b.table &&
        std::none_of(b.chains.begin(), b.chains.end(), [&](const char* c) { return ch.name == c; }))
      user.push_back(ch.name);
  std::sort(user.begin(), user.end());
  return user;
}

// The table's rules chain by chain: builtin chains in hook order, then user chains.
std::vector<const core::nft::Rule*> ordered_rules(const core::nft::Ruleset& rs, uint32_t family, const Builtin& b) {
  std::vector<std::string> order(b.chains.begin(), b.chains.end());
  for (auto& u : user_chains(rs, family, b)) order.push_back(std::move(u));
  std::vector<const core::nft::Rule*> out;
  for (const auto& c : order)
    for (const auto& r : rs.rules)
      if (r.family == family && r.table == b.table && r.chain == c) out.push_back(&r);
  return out;
}

std::string opt_part(const std::string& v, const char* flag) {
  if (v.empty()) return {};
  if (v.rfind("! ", 0) == 0) return std::string(" ! ") + flag + " " + v.substr(2);
  return std::string(" ") + flag + " " + v;
}

}  // namespace

std::string iptables_rule_text(const core::nft::Rule& rule, bool v6, bool counters) {
  RuleParts p = decode(rule, v6);
  std::string s;
  if (counters) s += "[" + std::to_string(p.packets) + ":" + std::to_string(p.bytes) + "] ";
  s += "-A " + rule.chain;
  s += opt_part(p.src, "-s");
  s += opt_part(p.dst, "-d");
  s += opt_part(p.in, "-i");
  s += opt_part(p.out, "-o");
  s += opt_part(p.proto, "-p");
  for (const auto& m : p.matches) s += m;
  for (const auto& u : p.unknown) s += " [netshoot: cannot decode " + u + "]";
  s += p.target;
  return s;
}

std::string iptables_save_text(const core::nft::Ruleset& rs, bool v6, const SaveOptions& o) {
  const uint32_t family = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
  std::string out;
  for (const auto& b : builtins()) {
    if (!o.table.empty() && o.table != b.table) continue;
    bool exists = false;
    for (const auto& t : rs.tables) exists |= t.family == family && t.name == b.table;
    if (!exists) continue;
    out += "# Generated by netshoot " + std::string(v6 ? "ip6tables-save" : "iptables-save") + " (nf_tables) on " +
           o.timestamp + "\n";
    out += std::string("*") + b.table + "\n";
    for (const char* c : b.chains) {
      const core::nft::Chain* found = nullptr;
      for (const auto& ch : rs.chains)
        if (ch.family == family && ch.table == b.table && ch.name == c) found = &ch;
      std::string policy = found && found->base && found->policy == NF_DROP ? "DROP" : "ACCEPT";
      uint64_t pk = found ? found->packets : 0, by = found ? found->bytes : 0;
      out += ":" + std::string(c) + " " + policy + " [" + std::to_string(pk) + ":" + std::to_string(by) + "]\n";
    }
    for (const auto& u : user_chains(rs, family, b)) out += ":" + u + " - [0:0]\n";
    for (const auto* r : ordered_rules(rs, family, b)) out += iptables_rule_text(*r, v6, o.counters) + "\n";
    out += "COMMIT\n# Completed on " + o.timestamp + "\n";
  }
  return out;
}

}  // namespace netshoot::applet::firewall

namespace netshoot::applet::firewall {

int run_iptables_save(Context& ctx, int argc, char** argv, bool v6) {
  const char* self = v6 ? "ip6tables-save" : "iptables-save";
  SaveOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-c" || a == "--counters") {
      o.counters = true;
    } else if (a == "-t" || a == "--table") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a table name\n", self, a.c_str());
        return kExitUsage;
      }
      o.table = argv[++i];
    } else if (a.rfind("--table=", 0) == 0) {
      o.table = a.substr(8);
    } else if (a == "-h" || a == "--help") {
      std::printf("Usage: %s [-c] [-t TABLE]   (read-only: iptables-nft rules as iptables-save prints them)\n", self);
      return kExitOk;
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", self, a.c_str());
      return kExitUsage;
    }
  }
  if (!o.table.empty()) {
    bool known = false;
    for (const char* t : {"mangle", "security", "raw", "filter", "nat"}) known |= o.table == t;
    if (!known) {
      std::fprintf(stderr, "%s: unknown table '%s' (filter, nat, mangle, raw, security)\n", self, o.table.c_str());
      return kExitFailure;
    }
  }
  auto rs = core::nft::dump_ruleset(v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
  if (!rs) {
    std::fprintf(stderr, "%s: %s\n", self, rs.error().message().c_str());
    return kExitFailure;
  }
  if (ctx.json) {
    auto out = core::Output::make(true);
    const uint32_t family = v6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
    for (const auto& b : builtins()) {
      if (!o.table.empty() && o.table != b.table) continue;
      for (const auto* r : ordered_rules(*rs, family, b)) {
        RuleParts p = decode(*r, v6);
        out->record("rule",
                    core::Json{{"table", r->table}, {"chain", r->chain}, {"handle", r->handle},
                               {"rule", iptables_rule_text(*r, v6, false)}, {"packets", p.packets},
                               {"bytes", p.bytes}, {"decoded", p.unknown.empty()}},
                    "");
      }
    }
    out->flush();
    return kExitOk;
  }
  char ts[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%a %b %e %H:%M:%S %Y", &tm);
  o.timestamp = ts;
  std::string text = iptables_save_text(*rs, v6, o);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return kExitOk;
}

}  // namespace netshoot::applet::firewall

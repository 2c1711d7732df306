// doctor layer 6: this namespace's own nftables rules and conntrack entries for
// the flow. A rule is shown when its counter moved during the probes or when it
// matches the flow's packets statically (a small evaluator of payload, meta,
// cmp, bitwise and range expressions; anything else makes the match "maybe").
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <cstdio>  // before libnftnl/expr.h, which uses FILE
#include <libnftnl/expr.h>

#include <algorithm>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "applets/doctor/layers.h"
#include "netshoot/conntrack.h"

namespace netshoot::applet::doctor {
namespace {

using Bytes = std::vector<uint8_t>;

struct Packet {
  Bytes net, transport;
  uint8_t l4proto = 0;
  uint8_t nfproto = 0;
  std::string oifname, iifname;
};

Packet make_packet(const Flow& f, bool reply, const std::string& ifname) {
  Packet p;
  const IpAddr& src = reply ? f.dst : f.src;
  const IpAddr& dst = reply ? f.src : f.dst;
  uint16_t sport = reply ? f.dport : f.sport, dport = reply ? f.sport : f.dport;
  p.l4proto = f.proto;
  if (f.dst.is_v4()) {
    p.nfproto = NFPROTO_IPV4;
    p.net.assign(20, 0);
    p.net[0] = 0x45;
    p.net[8] = 64;
    p.net[9] = f.proto;
    if (src.is_v4()) std::memcpy(&p.net[12], src.data(), 4);
    std::memcpy(&p.net[16], dst.data(), 4);
  } else {
    p.nfproto = NFPROTO_IPV6;
    p.net.assign(40, 0);
    p.net[0] = 0x60;
    p.net[6] = f.proto;
    p.net[7] = 64;
    if (src.is_v6()) std::memcpy(&p.net[8], src.data(), 16);
    std::memcpy(&p.net[24], dst.data(), 16);
  }
  if (f.proto == IPPROTO_TCP || f.proto == IPPROTO_UDP) {
    p.transport.assign(f.proto == IPPROTO_TCP ? 20 : 8, 0);
    p.transport[0] = uint8_t(sport >> 8), p.transport[1] = uint8_t(sport);
    p.transport[2] = uint8_t(dport >> 8), p.transport[3] = uint8_t(dport);
    if (f.proto == IPPROTO_TCP) {
      p.transport[12] = 0x50;
      p.transport[13] = reply ? 0x12 : 0x02;
    }
  } else {
    p.transport.assign(8, 0);
    bool v6 = f.proto == IPPROTO_ICMPV6;
    p.transport[0] = v6 ? (reply ? 129 : 128) : (reply ? 0 : 8);
  }
  (reply ? p.iifname : p.oifname) = ifname;
  return p;
}

std::string proto_text(uint8_t p) {
  switch (p) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "ipv6-icmp";
    default: return std::to_string(p);
  }
}

struct Reg {
  Bytes value;
  bool known = false;
  std::string field;   // "tcp dport", "ip daddr", ...
  int kind = 0;        // 0 bytes, 1 address, 2 number, 3 l4proto, 4 ifname, 5 nfproto
};

std::string value_text(const Reg& r, const Bytes& data) {
  switch (r.kind) {
    case 1:
      if (data.size() == 4 || data.size() == 16) return IpAddr::from_bytes(data).to_string();
      break;
    case 2: {
      uint64_t v = 0;
      for (uint8_t b : data) v = v << 8 | b;
      return std::to_string(v);
    }
    case 3:
      if (data.size() == 1) return proto_text(data[0]);
      break;
    case 4: {
      std::string s(data.begin(), data.end());
      s.erase(std::find(s.begin(), s.end(), '\0'), s.end());
      return "\"" + s + (data.size() < IFNAMSIZ && data.back() != 0 ? "*" : "") + "\"";
    }
    case 5:
      if (data.size() == 1) return data[0] == NFPROTO_IPV4 ? "ipv4" : data[0] == NFPROTO_IPV6 ? "ipv6" : std::to_string(data[0]);
      break;
  }
  std::string h = "0x";
  for (uint8_t b : data) h += fmt::format("{:02x}", b);
  return h;
}

const char* cmp_op_text(uint32_t op) {
  switch (op) {
    case NFT_CMP_EQ: return "";
    case NFT_CMP_NEQ: return "!= ";
    case NFT_CMP_LT: return "< ";
    case NFT_CMP_LTE: return "<= ";
    case NFT_CMP_GT: return "> ";
    case NFT_CMP_GTE: return ">= ";
  }
  return "? ";
}

bool cmp_holds(uint32_t op, const Bytes& a, const Bytes& b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  switch (op) {
    case NFT_CMP_EQ: return c == 0;
    case NFT_CMP_NEQ: return c != 0;
    case NFT_CMP_LT: return c < 0;
    case NFT_CMP_LTE: return c <= 0;
    case NFT_CMP_GT: return c > 0;
    case NFT_CMP_GTE: return c >= 0;
  }
  return true;
}

}  // namespace

RuleEval evaluate_rule(const core::nft::Rule& rule, const Flow& flow, bool reply) {
  // The interface name is not part of Flow; oifname/iifname matches stay "maybe".
  Packet pkt = make_packet(flow, reply, {});
  RuleEval ev;
  ev.match = Match::yes;
  std::map<uint32_t, Reg> regs;
  std::vector<std::string> words;
  std::string l4name = "th";
  size_t l4word = SIZE_MAX;  // index of the "meta l4proto X" word
  auto downgrade = [&]() {
    if (ev.match == Match::yes) ev.match = Match::maybe;
  };
  for (const auto& e : rule.exprs) {
    const std::string& n = e.name;
    if (n == "meta" && e.has(NFTNL_EXPR_META_DREG)) {
      uint32_t key = e.u32(NFTNL_EXPR_META_KEY);
      Reg r;
      switch (key) {
        case NFT_META_L4PROTO: r = {{pkt.l4proto}, true, "meta l4proto", 3}; break;
        case NFT_META_NFPROTO: r = {{pkt.nfproto}, true, "meta nfproto", 5}; break;
        case NFT_META_PROTOCOL:
          r = {{uint8_t(pkt.nfproto == NFPROTO_IPV4 ? 0x08 : 0x86), uint8_t(pkt.nfproto == NFPROTO_IPV4 ? 0x00 : 0xdd)},
               true, "meta protocol", 2};
          break;
        case NFT_META_OIFNAME: r = {{}, false, "oifname", 4}; break;
        case NFT_META_IIFNAME: r = {{}, false, "iifname", 4}; break;
        default: r = {{}, false, fmt::format("meta key {}", key), 0};
      }
      regs[e.u32(NFTNL_EXPR_META_DREG)] = r;
    } else if (n == "payload" && e.has(NFTNL_EXPR_PAYLOAD_DREG)) {
      uint32_t base = e.u32(NFTNL_EXPR_PAYLOAD_BASE), off = e.u32(NFTNL_EXPR_PAYLOAD_OFFSET),
               len = e.u32(NFTNL_EXPR_PAYLOAD_LEN);
      Reg r;
      const Bytes* src = base == NFT_PAYLOAD_NETWORK_HEADER ? &pkt.net
                         : base == NFT_PAYLOAD_TRANSPORT_HEADER ? &pkt.transport : nullptr;
      if (src && off + len <= src->size()) {
        r.value.assign(src->begin() + off, src->begin() + off + len);
        r.known = true;
      }
      if (base == NFT_PAYLOAD_NETWORK_HEADER) {
        if (off == 9 && len == 1) r.field = "ip protocol", r.kind = 3;
        else if (off == 12 && len == 4) r.field = "ip saddr", r.kind = 1;
        else if (off == 16 && len == 4) r.field = "ip daddr", r.kind = 1;
        else if (off == 6 && len == 1) r.field = "ip6 nexthdr", r.kind = 3;
        else if (off == 8 && len == 16) r.field = "ip6 saddr", r.kind = 1;
        else if (off == 24 && len == 16) r.field = "ip6 daddr", r.kind = 1;
        else r.field = fmt::format("@nh,{},{}", off * 8, len * 8);
        // an IPv4 field on an IPv6 packet (or the reverse) would be guarded by
        // meta nfproto in an inet table; the raw bytes still compare sensibly
      } else if (base == NFT_PAYLOAD_TRANSPORT_HEADER) {
        if (off == 0 && len == 2) r.field = l4name + " sport", r.kind = 2;
        else if (off == 2 && len == 2) r.field = l4name + " dport", r.kind = 2;
        else if (off == 0 && len == 1) r.field = (l4name == "th" ? "icmp" : l4name) + " type", r.kind = 2;
        else if (off == 13 && len == 1) r.field = "tcp flags", r.kind = 0;
        else r.field = fmt::format("@th,{},{}", off * 8, len * 8);
      } else {
        r.field = fmt::format("@ll,{},{}", off * 8, len * 8);
        r.known = false;
      }
      regs[e.u32(NFTNL_EXPR_PAYLOAD_DREG)] = r;
    } else if (n == "bitwise" && e.has(NFTNL_EXPR_BITWISE_DREG)) {
      Reg r = regs[e.u32(NFTNL_EXPR_BITWISE_SREG)];
      Bytes mask = e.data(NFTNL_EXPR_BITWISE_MASK), x = e.data(NFTNL_EXPR_BITWISE_XOR);
      if (r.known && mask.size() >= r.value.size())
        for (size_t i = 0; i < r.value.size(); ++i) r.value[i] = (r.value[i] & mask[i]) ^ (i < x.size() ? x[i] : 0);
      else
        r.known = false;
      r.field += " &";
      regs[e.u32(NFTNL_EXPR_BITWISE_DREG)] = r;
    } else if (n == "cmp") {
      const Reg& r = regs[e.u32(NFTNL_EXPR_CMP_SREG)];
      Bytes data = e.data(NFTNL_EXPR_CMP_DATA);
      uint32_t op = e.u32(NFTNL_EXPR_CMP_OP);
      std::string field = r.field.empty() ? "?" : r.field;
      if (field.size() > 2 && field.compare(field.size() - 2, 2, " &") == 0) field.resize(field.size() - 2);
      // nft's own shorthand: "tcp dport 80", not "meta l4proto tcp tcp dport 80"
      if (!words.empty() && l4word == words.size() - 1 && field.rfind(l4name + " ", 0) == 0 && l4name != "th")
        words.pop_back();
      words.push_back(fmt::format("{} {}{}", field, cmp_op_text(op), value_text(r, data)));
      if ((r.field == "meta l4proto" || r.field == "ip protocol" || r.field == "ip6 nexthdr") && data.size() == 1 &&
          op == NFT_CMP_EQ)
      {
        l4name = data[0] == IPPROTO_TCP ? "tcp" : data[0] == IPPROTO_UDP ? "udp" : data[0] == IPPROTO_ICMP ? "icmp" : "th";
        l4word = words.size() - 1;
      }
      if (!r.known || r.value.size() < data.size()) {
        downgrade();
      } else if (!cmp_holds(op, r.value, data)) {
        ev.match = Match::no;
      }
    } else if (n == "range") {
      const Reg& r = regs[e.u32(NFTNL_EXPR_RANGE_SREG)];
      Bytes from = e.data(NFTNL_EXPR_RANGE_FROM_DATA), to = e.data(NFTNL_EXPR_RANGE_TO_DATA);
      uint32_t op = e.u32(NFTNL_EXPR_RANGE_OP);
      words.push_back(fmt::format("{} {}{}-{}", r.field.empty() ? "?" : r.field, op == NFT_RANGE_NEQ ? "!= " : "",
                                  value_text(r, from), value_text(r, to)));
      if (!r.known || r.value.size() < from.size()) {
        downgrade();
      } else {
        bool in = std::memcmp(r.value.data(), from.data(), from.size()) >= 0 &&
                  std::memcmp(r.value.data(), to.data(), to.size()) <= 0;
        if (in == (op == NFT_RANGE_NEQ)) ev.match = Match::no;
      }
    } else if (n == "counter") {
      ev.counter = true;
      ev.packets = e.u64(NFTNL_EXPR_CTR_PACKETS);
      ev.bytes = e.u64(NFTNL_EXPR_CTR_BYTES);
      words.push_back("counter");
    } else if (n == "immediate" && e.has(NFTNL_EXPR_IMM_VERDICT)) {
      int32_t v = static_cast<int32_t>(e.u32(NFTNL_EXPR_IMM_VERDICT));
      std::string chain = e.str(NFTNL_EXPR_IMM_CHAIN);
      switch (v) {
        case NF_DROP: ev.verdict = "drop"; break;
        case NF_ACCEPT: ev.verdict = "accept"; break;
        case NFT_JUMP: ev.verdict = "jump " + chain; break;
        case NFT_GOTO: ev.verdict = "goto " + chain; break;
        case NFT_RETURN: ev.verdict = "return"; break;
        default: ev.verdict = fmt::format("verdict {}", v);
      }
      words.push_back(ev.verdict);
    } else if (n == "reject") {
      ev.verdict = "reject";
      uint32_t type = e.u32(NFTNL_EXPR_REJECT_TYPE);
      words.push_back(type == NFT_REJECT_TCP_RST ? "reject with tcp reset" : "reject");
    } else if (n == "lookup") {
      words.push_back("@" + e.str(NFTNL_EXPR_LOOKUP_SET));
      downgrade();
    } else {
      // ct, limit, log, nat, ...: anything with a destination register makes later
      // compares unknown; statements that do not decide are only named
      if (n == "ct") {
        uint32_t key = e.u32(NFTNL_EXPR_CT_KEY);
        regs[e.u32(NFTNL_EXPR_CT_DREG)] = {{}, false, key == NFT_CT_STATE ? "ct state" : "ct", 0};
      } else if (n != "log" && n != "limit" && n != "quota") {
        downgrade();
      }
      if (n != "ct") words.push_back(n);
    }
  }
  std::string text;
  for (const auto& w : words) text += (text.empty() ? "" : " ") + w;
  if (!rule.comment.empty()) text += " comment \"" + rule.comment + "\"";
  ev.text = text;
  return ev;
}

namespace {

struct RuleKey {
  uint32_t family;
  std::string table, chain;
  uint64_t handle;
  bool operator<(const RuleKey& o) const {
    return std::tie(family, table, chain, handle) < std::tie(o.family, o.table, o.chain, o.handle);
  }
};

const char* family_text(uint32_t f) {
  switch (f) {
    case NFPROTO_INET: return "inet";
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_NETDEV: return "netdev";
    case NFPROTO_ARP: return "arp";
  }
  return "?";
}

const char* hook_text(uint32_t h) {
  static const char* names[] = {"prerouting", "input", "forward", "output", "postrouting"};
  return h < 5 ? names[h] : "?";
}

uint64_t counter_of(const core::nft::Rule& r) {
  for (const auto& e : r.exprs)
    if (e.name == "counter") return e.u64(NFTNL_EXPR_CTR_PACKETS);
  return 0;
}

}  // namespace

Check check_policy(const core::Result<core::nft::Ruleset>& before, const ProbeChecks& probes, const PathInfo& path,
                   const Options& o) {
  Check c;
  c.layer = "policy";
  Json rules_json = Json::array();
  Json ct_json = Json::array();
  std::string blame_fault, blame_msg;
  auto after = core::nft::dump_ruleset(0);
  if (!before || !after) {
    c.details.push_back("nftables: " + (!before ? before.error().message() : after.error().message()));
  } else if (probes.flow) {
    const Flow& flow = *probes.flow;
    uint32_t fam = flow.dst.is_v4() ? NFPROTO_IPV4 : NFPROTO_IPV6;
    std::map<RuleKey, uint64_t> old_counts;
    for (const auto& r : before->rules) old_counts[{r.family, r.table, r.chain, r.handle}] = counter_of(r);
    // the chains' hooks (non-base chains: any direction)
    std::map<std::tuple<uint32_t, std::string, std::string>, const core::nft::Chain*> chains;
    for (const auto& ch : after->chains) chains[{ch.family, ch.table, ch.name}] = &ch;
    for (const auto& ch : after->chains) {
      if (!ch.base || (ch.family != fam && ch.family != NFPROTO_INET)) continue;
      if (ch.policy == NF_DROP && (ch.hooknum == NF_INET_LOCAL_OUT || ch.hooknum == NF_INET_POST_ROUTING ||
                                   ch.hooknum == NF_INET_LOCAL_IN || ch.hooknum == NF_INET_PRE_ROUTING))
        c.details.push_back(fmt::format("{} {} {}: base chain ({}) with policy drop", family_text(ch.family),
                                        ch.table, ch.name, hook_text(ch.hooknum)));
    }
    int listed = 0;
    for (const auto& r : after->rules) {
      if (r.family != fam && r.family != NFPROTO_INET) continue;
      auto chit = chains.find({r.family, r.table, r.chain});
      const core::nft::Chain* ch = chit == chains.end() ? nullptr : chit->second;
      bool out_dir = !ch || !ch->base || ch->hooknum == NF_INET_LOCAL_OUT || ch->hooknum == NF_INET_POST_ROUTING;
      bool in_dir = !ch || !ch->base || ch->hooknum == NF_INET_LOCAL_IN || ch->hooknum == NF_INET_PRE_ROUTING;
      if (!out_dir && !in_dir) continue;  // forward: not this host's own traffic
      RuleEval none;
      none.match = Match::no;
      RuleEval req = out_dir ? evaluate_rule(r, flow, false) : none;
      RuleEval rep = in_dir ? evaluate_rule(r, flow, true) : none;
      const RuleEval& ev = (out_dir && req.match != Match::no) ? req : rep;
      Match m = req.match == Match::yes || rep.match == Match::yes     ? Match::yes
                : req.match == Match::maybe || rep.match == Match::maybe ? Match::maybe
                                                                         : Match::no;
      uint64_t old = old_counts.count({r.family, r.table, r.chain, r.handle}) ? old_counts[{r.family, r.table, r.chain, r.handle}] : 0;
      uint64_t delta = ev.counter && ev.packets >= old ? ev.packets - old : 0;
      if (m == Match::no) continue;
      bool stops = ev.verdict == "drop" || ev.verdict == "reject";
      if (m == Match::maybe && delta == 0 && !stops) continue;
      std::string where = fmt::format("{} {} {}{}", family_text(r.family), r.table, r.chain,
                                      ch && ch->base ? fmt::format(" ({})", hook_text(ch->hooknum)) : "");
      std::string line = fmt::format("{} handle {}: {}  [{}{}]", where, r.handle, ev.text,
                                     m == Match::yes ? "matches the flow" : "may match the flow",
                                     ev.counter ? fmt::format(", +{} packets during the test", delta) : ", no counter");
      if (listed++ < 20) c.details.push_back(line);
      rules_json.push_back({{"family", family_text(r.family)},
                            {"table", r.table},
                            {"chain", r.chain},
                            {"handle", r.handle},
                            {"rule", ev.text},
                            {"match", m == Match::yes ? "yes" : "maybe"},
                            {"verdict", ev.verdict},
                            {"counter_delta", ev.counter ? Json(delta) : Json(nullptr)}});
      if (stops && blame_fault.empty() && (delta > 0 || (m == Match::yes && !ev.counter))) {
        blame_fault = ev.verdict == "reject" ? "local-reject" : "local-drop";
        blame_msg = fmt::format("nftables rule {} handle {} ({}) {}s this flow{}", where, r.handle, ev.text,
                                ev.verdict, ev.counter ? fmt::format(": its counter rose by {} during the test", delta)
                                                       : "");
      }
    }
  }
  if (probes.sent_blocked && blame_fault.empty()) {
    blame_fault = "local-drop";
    blame_msg = "sending to " + path.dst.to_string() +
                " fails with \"Operation not permitted\": a firewall rule in this namespace drops it";
  }

  // conntrack entries of the flow
  if (auto ct = core::ct::dump_entries(path.dst.family())) {
    int n = 0;
    for (const auto& e : *ct) {
      if (e.orig.dst != path.dst && e.reply.src != path.dst) continue;
      if (o.target.port && e.orig.dport && *e.orig.dport != *o.target.port) continue;
      std::string line = fmt::format("conntrack: {} {} src={} dst={}{}{}", core::ct::proto_name(e.orig.proto),
                                     e.tcp_state ? core::ct::tcp_state_name(*e.tcp_state) : "",
                                     e.orig.src.to_string(), e.orig.dst.to_string(),
                                     e.orig.sport ? fmt::format(" sport={}", *e.orig.sport) : "",
                                     e.orig.dport ? fmt::format(" dport={}", *e.orig.dport) : "");
      if (!(e.status & 2)) line += " [UNREPLIED]";  // IPS_SEEN_REPLY
      if (n++ < 10) c.details.push_back(line);
      ct_json.push_back({{"proto", core::ct::proto_name(e.orig.proto)},
                         {"state", e.tcp_state ? Json(core::ct::tcp_state_name(*e.tcp_state)) : Json(nullptr)},
                         {"src", e.orig.src.to_string()},
                         {"dst", e.orig.dst.to_string()},
                         {"sport", e.orig.sport ? Json(*e.orig.sport) : Json(nullptr)},
                         {"dport", e.orig.dport ? Json(*e.orig.dport) : Json(nullptr)},
                         {"replied", (e.status & 2) != 0}});
    }
    if (n == 0) c.details.push_back("conntrack: no entry for the flow (no stateful rule here, or none yet)");
  } else {
    c.details.push_back("conntrack: " + ct.error().message());
  }
  c.data = {{"rules", rules_json}, {"conntrack", ct_json}};
  if (!blame_fault.empty() && probes.reachability.status == Status::pass && probes.path.status != Status::fail) {
    // the flow got through: the rule cannot be what blocks it
    c.status = Status::warn;
    c.summary = blame_msg + " (yet the flow got through)";
  } else if (!blame_fault.empty()) {
    c.status = Status::fail;
    c.fault = blame_fault;
    c.summary = blame_msg;
    c.message = blame_msg;
  } else if (!before || !after) {
    c.status = Status::skip;
    c.summary = "cannot read nftables here: " + (!before ? before.error().message() : after.error().message());
  } else {
    c.status = Status::pass;
    c.summary = rules_json.empty() ? "no nftables rule here matches the flow"
                                   : fmt::format("{} nftables rule{} here match{} the flow; none drops it",
                                                 rules_json.size(), rules_json.size() == 1 ? "" : "s",
                                                 rules_json.size() == 1 ? "es" : "");
  }
  return c;
}

}  // namespace netshoot::applet::doctor

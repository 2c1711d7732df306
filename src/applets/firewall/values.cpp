// nft's value types: formatting of values, header fields, set elements.
#include "applets/firewall/render_internal.h"

#include <arpa/inet.h>
#include <cstdio>  // before libnftnl/expr.h, which uses FILE
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

namespace netshoot::applet::firewall::detail {

// ---- value types (nft's datatypes, by the ids nft stores as set key types) ---------


const char* type_name(uint32_t t) {
  switch (static_cast<T>(t)) {
    case T::verdict: return "verdict";
    case T::nfproto: return "nf_proto";
    case T::bitmask: return "bitmask";
    case T::integer: return "integer";
    case T::string: return "string";
    case T::lladdr: return "ll_addr";
    case T::ipv4: return "ipv4_addr";
    case T::ipv6: return "ipv6_addr";
    case T::ether: return "ether_addr";
    case T::ether_type: return "ether_type";
    case T::arp_op: return "arp_op";
    case T::inet_proto: return "inet_proto";
    case T::inet_service: return "inet_service";
    case T::icmp_type: return "icmp_type";
    case T::tcp_flag: return "tcp_flag";
    case T::mark: return "mark";
    case T::ifindex: return "iface_index";
    case T::uid: return "uid";
    case T::gid: return "gid";
    case T::ct_state: return "ct_state";
    case T::ct_dir: return "ct_dir";
    case T::ct_status: return "ct_status";
    case T::icmpv6_type: return "icmpv6_type";
    case T::pkttype: return "pkt_type";
    case T::fib_addr: return "fib_addrtype";
    case T::boolean: return "boolean";
    case T::ifname: return "ifname";
    default: return nullptr;
  }
}

bool host_order(T t) {
  switch (t) {
    case T::ipv4: case T::ipv6: case T::ether: case T::lladdr: case T::inet_service:
    case T::ether_type: case T::be_integer: case T::tcp_flag: case T::icmp_type: case T::icmpv6_type:
      return false;
    default:
      return true;
  }
}

uint64_t to_uint(const Bytes& b, bool host) {
  uint64_t v = 0;
  size_t n = std::min<size_t>(b.size(), 8);
  if (host) {
    for (size_t i = n; i-- > 0;) v = (v << 8) | b[i];
  } else {
    for (size_t i = 0; i < n; ++i) v = (v << 8) | b[i];
  }
  return v;
}

std::string hex(uint64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "0x%0*llx", width, static_cast<unsigned long long>(v));
  return buf;
}

// nft's time syntax: 1d2h3m4s500ms (ms input), "0s" for zero.
std::string time_text(uint64_t ms) {
  static const std::pair<uint64_t, const char*> units[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  std::string s;
  for (const auto& [u, n] : units) {
    if (ms >= u) {
      s += std::to_string(ms / u) + n;
      ms %= u;
    }
  }
  return s.empty() ? "0s" : s;
}

// "100 mbytes": the largest unit that divides exactly.
std::string bytes_text(uint64_t v) {
  static const char* const units[] = {"bytes", "kbytes", "mbytes", "gbytes"};
  int u = 0;
  while (u < 3 && v && v % 1024 == 0) { v /= 1024; ++u; }
  return std::to_string(v) + " " + units[u];
}

const char* proto_name(unsigned p) {
  switch (p) {
    case 0: return "ip";  // nft prints 0 as a number; handled by caller
    case 1: return "icmp";
    case 2: return "igmp";
    case 4: return "ipencap";
    case 6: return "tcp";
    case 17: return "udp";
    case 33: return "dccp";
    case 41: return "ipv6";
    case 47: return "gre";
    case 50: return "esp";
    case 51: return "ah";
    case 58: return "ipv6-icmp";
    case 132: return "sctp";
    case 136: return "udplite";
    default: return nullptr;
  }
}

const char* icmp_type_name(unsigned v) {
  static const std::map<unsigned, const char*> m = {
      {0, "echo-reply"}, {3, "destination-unreachable"}, {4, "source-quench"}, {5, "redirect"},
      {8, "echo-request"}, {9, "router-advertisement"}, {10, "router-solicitation"},
      {11, "time-exceeded"}, {12, "parameter-problem"}, {13, "timestamp-request"},
      {14, "timestamp-reply"}, {15, "info-request"}, {16, "info-reply"},
      {17, "address-mask-request"}, {18, "address-mask-reply"}};
  auto it = m.find(v);
  return it == m.end() ? nullptr : it->second;
}

const char* icmpv6_type_name(unsigned v) {
  static const std::map<unsigned, const char*> m = {
      {1, "destination-unreachable"}, {2, "packet-too-big"}, {3, "time-exceeded"},
      {4, "parameter-problem"}, {128, "echo-request"}, {129, "echo-reply"},
      {130, "mld-listener-query"}, {131, "mld-listener-report"}, {132, "mld-listener-done"},
      {133, "nd-router-solicit"}, {134, "nd-router-advert"}, {135, "nd-neighbor-solicit"},
      {136, "nd-neighbor-advert"}, {137, "nd-redirect"}, {138, "router-renumbering"},
      {143, "mld2-listener-report"}};
  auto it = m.find(v);
  return it == m.end() ? nullptr : it->second;
}

const FlagNames kCtState = {{1, "invalid"}, {2, "established"}, {4, "related"}, {8, "new"}, {64, "untracked"}};
const FlagNames kCtStatus = {{1, "expected"}, {2, "seen-reply"}, {4, "assured"}, {8, "confirmed"},
                             {16, "snat"}, {32, "dnat"}, {512, "dying"}};
const FlagNames kTcpFlags = {{1, "fin"}, {2, "syn"}, {4, "rst"}, {8, "psh"}, {16, "ack"},
                             {32, "urg"}, {64, "ecn"}, {128, "cwr"}};

const FlagNames* flag_names(T t) {
  if (t == T::ct_state) return &kCtState;
  if (t == T::ct_status) return &kCtStatus;
  if (t == T::tcp_flag) return &kTcpFlags;
  return nullptr;
}


Val format_value(T t, const Bytes& b) {
  switch (t) {
    case T::ipv4:
    case T::ipv6: {
      char buf[INET6_ADDRSTRLEN] = "";
      Bytes x = b;
      x.resize(t == T::ipv4 ? 4 : 16, 0);
      inet_ntop(t == T::ipv4 ? AF_INET : AF_INET6, x.data(), buf, sizeof(buf));
      return {buf, buf};
    }
    case T::ether:
    case T::lladdr: {
      std::string s;
      for (size_t i = 0; i < b.size(); ++i) {
        char p[4];
        std::snprintf(p, sizeof(p), "%s%02x", i ? ":" : "", b[i]);
        s += p;
      }
      return {s, s};
    }
    case T::ifname:
    case T::string: {
      size_t n = strnlen(reinterpret_cast<const char*>(b.data()), b.size());
      std::string s(reinterpret_cast<const char*>(b.data()), n);
      // A compare shorter than the name without its NUL is a prefix: "eth*".
      if (t == T::ifname && n == b.size() && n < 16) s += "*";
      return {"\"" + s + "\"", s};
    }
    case T::mark: {
      uint64_t v = to_uint(b, true);
      return {hex(v, 8), v};
    }
    case T::ifindex: {
      uint64_t v = to_uint(b, true);
      char name[IF_NAMESIZE] = "";
      if (if_indextoname(static_cast<unsigned>(v), name)) return {std::string("\"") + name + "\"", name};
      return {std::to_string(v), v};
    }
    case T::inet_proto: {
      uint64_t v = to_uint(b, true);
      const char* n = v ? proto_name(static_cast<unsigned>(v)) : nullptr;
      if (n) return {n, n};
      return {std::to_string(v), v};
    }
    case T::nfproto: {
      uint64_t v = to_uint(b, true);
      if (v == NFPROTO_IPV4) return {"ipv4", "ipv4"};
      if (v == NFPROTO_IPV6) return {"ipv6", "ipv6"};
      return {std::to_string(v), v};
    }
    case T::ether_type: {
      uint64_t v = to_uint(b, false);
      const char* n = v == 0x0800 ? "ip" : v == 0x86dd ? "ip6" : v == 0x0806 ? "arp" : v == 0x8100 ? "vlan"
                      : v == 0x88a8 ? "8021ad" : nullptr;
      if (n) return {n, n};
      return {hex(v, 4), v};
    }
    case T::icmp_type:
    case T::icmpv6_type: {
      uint64_t v = to_uint(b, false);
      const char* n = t == T::icmp_type ? icmp_type_name(static_cast<unsigned>(v)) : icmpv6_type_name(static_cast<unsigned>(v));
      if (n) return {n, n};
      return {std::to_string(v), v};
    }
    case T::pkttype: {
      uint64_t v = to_uint(b, true);
      const char* n = v == 0 ? "host" : v == 1 ? "broadcast" : v == 2 ? "multicast" : v == 3 ? "other" : nullptr;
      if (n) return {n, n};
      return {std::to_string(v), v};
    }
    case T::ct_dir: {
      uint64_t v = to_uint(b, true);
      if (v <= 1) return {v ? "reply" : "original", v ? "reply" : "original"};
      return {std::to_string(v), v};
    }
    case T::fib_addr: {
      static const char* const names[] = {"unspec", "unicast", "local", "broadcast", "anycast",
                                          "multicast", "blackhole", "unreachable", "prohibit"};
      uint64_t v = to_uint(b, true);
      if (v < std::size(names)) return {names[v], names[v]};
      return {std::to_string(v), v};
    }
    case T::ct_state:
    case T::ct_status:
    case T::tcp_flag: {
      uint64_t v = to_uint(b, host_order(t));
      std::string s;
      Json arr = Json::array();
      uint64_t rest = v;
      for (const auto& [bit, name] : *flag_names(t)) {
        if (v & bit) {
          s += (s.empty() ? "" : ",") + std::string(name);
          arr.push_back(name);
          rest &= ~static_cast<uint64_t>(bit);
        }
      }
      if (rest || s.empty()) {
        s += (s.empty() ? "" : ",") + hex(rest, 1);
        arr.push_back(rest);
      }
      return {s, arr.size() == 1 ? arr[0] : arr};
    }
    case T::be_integer:
    case T::inet_service: {
      uint64_t v = to_uint(b, false);
      return {std::to_string(v), v};
    }
    default: {
      uint64_t v = to_uint(b, true);
      return {std::to_string(v), v};
    }
  }
}

// ---- header fields -----------------------------------------------------------------


const std::vector<Field>* header_fields(const std::string& proto) {
  static const std::map<std::string, std::vector<Field>> m = {
      {"ip", {{"length", 2, 2, T::be_integer}, {"id", 4, 2, T::be_integer}, {"ttl", 8, 1, T::integer},
              {"protocol", 9, 1, T::inet_proto}, {"checksum", 10, 2, T::be_integer},
              {"saddr", 12, 4, T::ipv4}, {"daddr", 16, 4, T::ipv4}}},
      {"ip6", {{"length", 4, 2, T::be_integer}, {"nexthdr", 6, 1, T::inet_proto},
               {"hoplimit", 7, 1, T::integer}, {"saddr", 8, 16, T::ipv6}, {"daddr", 24, 16, T::ipv6}}},
      {"tcp", {{"sport", 0, 2, T::inet_service}, {"dport", 2, 2, T::inet_service},
               {"sequence", 4, 4, T::be_integer}, {"ackseq", 8, 4, T::be_integer},
               {"flags", 13, 1, T::tcp_flag}, {"window", 14, 2, T::be_integer},
               {"checksum", 16, 2, T::be_integer}, {"urgptr", 18, 2, T::be_integer}}},
      {"udp", {{"sport", 0, 2, T::inet_service}, {"dport", 2, 2, T::inet_service},
               {"length", 4, 2, T::be_integer}, {"checksum", 6, 2, T::be_integer}}},
      {"udplite", {{"sport", 0, 2, T::inet_service}, {"dport", 2, 2, T::inet_service}}},
      {"sctp", {{"sport", 0, 2, T::inet_service}, {"dport", 2, 2, T::inet_service},
                {"vtag", 4, 4, T::be_integer}, {"checksum", 8, 4, T::be_integer}}},
      {"dccp", {{"sport", 0, 2, T::inet_service}, {"dport", 2, 2, T::inet_service}}},
      {"th", {{"sport", 0, 2, T::inet_service}, {"dport", 2, 2, T::inet_service}}},
      {"icmp", {{"type", 0, 1, T::icmp_type}, {"code", 1, 1, T::integer}, {"checksum", 2, 2, T::be_integer},
                {"id", 4, 2, T::be_integer}, {"sequence", 6, 2, T::be_integer}}},
      {"icmpv6", {{"type", 0, 1, T::icmpv6_type}, {"code", 1, 1, T::integer},
                  {"checksum", 2, 2, T::be_integer}, {"id", 4, 2, T::be_integer},
                  {"sequence", 6, 2, T::be_integer}}},
      {"ether", {{"daddr", 0, 6, T::ether}, {"saddr", 6, 6, T::ether}, {"type", 12, 2, T::ether_type}}},
  };
  auto it = m.find(proto);
  return it == m.end() ? nullptr : &it->second;
}

// The protocol name nft uses for a transport header after `meta l4proto N`.
const char* l4_header(unsigned p) {
  switch (p) {
    case 6: return "tcp";
    case 17: return "udp";
    case 136: return "udplite";
    case 132: return "sctp";
    case 33: return "dccp";
    case 1: return "icmp";
    case 58: return "icmpv6";
    default: return nullptr;
  }
}

std::string verdict_name(int32_t v) {
  switch (v) {
    case NF_ACCEPT: return "accept";
    case NF_DROP: return "drop";
    case NF_QUEUE: return "queue";
    case NFT_CONTINUE: return "continue";
    case NFT_BREAK: return "break";
    case NFT_JUMP: return "jump";
    case NFT_GOTO: return "goto";
    case NFT_RETURN: return "return";
    default: return "verdict " + std::to_string(v);
  }
}

Val verdict_value(int32_t v, const std::string& chain) {
  std::string n = verdict_name(v);
  if (v == NFT_JUMP || v == NFT_GOTO) return {n + " " + chain, Json{{n, Json{{"target", chain}}}}};
  return {n, Json{{n, nullptr}}};
}

// ---- set elements ------------------------------------------------------------------

std::vector<T> key_types(uint32_t key_type) {
  std::vector<T> parts;
  if (key_type < 64) return {static_cast<T>(key_type)};
  while (key_type) {
    parts.insert(parts.begin(), static_cast<T>(key_type & 63));
    key_type >>= 6;
  }
  return parts;
}

uint32_t type_len(T t) {
  switch (t) {
    case T::ipv4: case T::mark: case T::ifindex: case T::uid: case T::gid: case T::ct_state: case T::ct_status:
      return 4;
    case T::ipv6: case T::ifname: return 16;
    case T::ether: return 6;
    case T::inet_service: case T::ether_type: return 2;
    case T::inet_proto: case T::nfproto: case T::icmp_type: case T::icmpv6_type: case T::pkttype:
    case T::tcp_flag: case T::ct_dir:
      return 1;
    default: return 4;
  }
}

// A single key value (maybe a concatenation) of set `types`.
Val format_key(const std::vector<T>& types, const Bytes& key) {
  if (types.size() == 1) return format_value(types[0], key);
  Val v{"", Json{{"concat", Json::array()}}};
  size_t off = 0;
  for (size_t i = 0; i < types.size(); ++i) {
    uint32_t len = type_len(types[i]);
    Bytes part(key.begin() + static_cast<long>(std::min(off, key.size())),
               key.begin() + static_cast<long>(std::min(off + len, key.size())));
    Val p = format_value(types[i], part);
    v.text += (i ? " . " : "") + p.text;
    v.json["concat"].push_back(p.json);
    off += (len + 3) / 4 * 4;  // each part is register-aligned
  }
  return v;
}

// Number of leading one bits if `b` is a prefix mask, else -1.
int prefix_len(const Bytes& b) {
  int n = 0;
  size_t i = 0;
  for (; i < b.size() && b[i] == 0xff; ++i) n += 8;
  if (i < b.size()) {
    uint8_t x = b[i];
    int k = 0;
    while (x & 0x80) { ++k; x = static_cast<uint8_t>(x << 1); }
    if (x) return -1;
    n += k;
    for (++i; i < b.size(); ++i)
      if (b[i]) return -1;
  }
  return n;
}

// [lo, hi] as a prefix "a/len" when it is one (address types), else "lo-hi".
Val format_range(T t, const Bytes& lo, const Bytes& hi) {
  if (lo == hi) return format_value(t, lo);
  if (t == T::ipv4 || t == T::ipv6) {
    Bytes mask(lo.size());
    bool ok = true;
    for (size_t i = 0; i < lo.size(); ++i) {
      uint8_t diff = lo[i] ^ hi[i];
      if ((lo[i] & diff) != 0 || (hi[i] & diff) != diff) ok = false;
      mask[i] = static_cast<uint8_t>(~diff);
    }
    int plen = ok ? prefix_len(mask) : -1;
    if (plen >= 0) {
      Val a = format_value(t, lo);
      return {a.text + "/" + std::to_string(plen), Json{{"prefix", Json{{"addr", a.json}, {"len", plen}}}}};
    }
  }
  Val a = format_value(t, lo), b = format_value(t, hi);
  return {a.text + "-" + b.text, Json{{"range", Json::array({a.json, b.json})}}};
}


Bytes minus_one(Bytes b) {
  for (size_t i = b.size(); i-- > 0;) {
    if (b[i]--) break;
  }
  return b;
}

// What follows an element's key: "counter packets 3 bytes 252" (sets declared
// with `counter`), "timeout 30s" (when not the set's default), "expires 29s988ms".
void add_elem_details(const Set& s, const core::nft::SetElem& e, ElemVal& ev) {
  bool own_timeout = e.timeout && e.timeout != s.timeout;
  const core::nft::Expr* counter = nullptr;
  for (const auto& x : e.exprs)
    if (x.name == "counter") counter = &x;
  if ((!own_timeout && !e.expiration && !counter) || ev.data) return;
  Json ej{{"val", ev.key.json}};
  if (counter) {  // per-element counter (sets declared with `counter`)
    uint64_t p = counter->u64(NFTNL_EXPR_CTR_PACKETS), b = counter->u64(NFTNL_EXPR_CTR_BYTES);
    ev.key.text += " counter packets " + std::to_string(p) + " bytes " + std::to_string(b);
    ej["counter"] = Json{{"packets", p}, {"bytes", b}};
  }
  if (own_timeout) {
    ev.key.text += " timeout " + time_text(e.timeout);
    ej["timeout"] = e.timeout / 1000;
  }
  if (e.expiration) {
    ev.key.text += " expires " + time_text(e.expiration);
    ej["expires"] = e.expiration / 1000;
  }
  ev.key.json = Json{{"elem", ej}};
}

std::vector<ElemVal> set_elements(const Set& s) {
  auto types = key_types(s.key_type);
  T single = types.size() == 1 ? types[0] : T::invalid;
  bool host = types.size() == 1 && host_order(single) && !(s.flags & NFT_SET_INTERVAL);
  auto data_val = [&](const core::nft::SetElem& e) -> std::optional<Val> {
    if (!(s.flags & NFT_SET_MAP)) return std::nullopt;
    if (s.data_type == NFT_DATA_VERDICT || e.verdict) return verdict_value(e.verdict.value_or(0), e.chain);
    return format_key(key_types(s.data_type), e.data);
  };
  std::vector<ElemVal> out;
  if (s.flags & NFT_SET_INTERVAL) {
    std::vector<const core::nft::SetElem*> v;
    for (const auto& e : s.elems) v.push_back(&e);
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) {
      if (a->key != b->key) return a->key < b->key;
      return (a->flags & NFT_SET_ELEM_INTERVAL_END) > (b->flags & NFT_SET_ELEM_INTERVAL_END);
    });
    for (size_t i = 0; i < v.size(); ++i) {
      const auto* e = v[i];
      if (e->flags & NFT_SET_ELEM_INTERVAL_END) continue;
      Bytes hi;
      if (!e->key_end.empty()) {
        hi = e->key_end;
      } else if (i + 1 < v.size() && (v[i + 1]->flags & NFT_SET_ELEM_INTERVAL_END)) {
        hi = minus_one(v[i + 1]->key);
      } else {
        hi = Bytes(e->key.size(), 0xff);
      }
      ElemVal ev;
      ev.sort_key = e->key;
      if (types.size() == 1) {
        ev.key = format_range(single, e->key, hi);
      } else if (e->key == hi) {
        ev.key = format_key(types, e->key);
      } else {
        Val a = format_key(types, e->key), b = format_key(types, hi);
        ev.key = {a.text + "-" + b.text, Json{{"range", Json::array({a.json, b.json})}}};
      }
      ev.data = data_val(*e);
      add_elem_details(s, *e, ev);
      out.push_back(std::move(ev));
    }
    return out;
  }
  for (const auto& e : s.elems) {
    ElemVal ev;
    ev.sort_key = e.key;
    ev.host = host;
    ev.key = format_key(types, e.key);
    ev.data = data_val(e);
    add_elem_details(s, e, ev);
    out.push_back(std::move(ev));
  }
  std::stable_sort(out.begin(), out.end(), [](const ElemVal& a, const ElemVal& b) {
    if (a.host) {
      Bytes x(a.sort_key.rbegin(), a.sort_key.rend()), y(b.sort_key.rbegin(), b.sort_key.rend());
      return x < y;
    }
    return a.sort_key < b.sort_key;
  });
  return out;
}

Val elem_text_json(const ElemVal& e) {
  if (!e.data) return e.key;
  return {e.key.text + " : " + e.data->text, Json::array({e.key.json, e.data->json})};
}

// "{ a, b }" with nft's line breaks for named sets (anonymous sets: one line).
std::string elements_text(const Set& s, const std::vector<ElemVal>& elems, bool anonymous) {
  auto types = key_types(s.key_type);
  size_t per_line = 1;
  if (types.size() == 1) {
    switch (types[0]) {
      case T::nfproto: case T::integer: case T::arp_op: case T::inet_proto: case T::inet_service:
      case T::tcp_flag: case T::mark: case T::ifindex: case T::uid: case T::gid: case T::ct_dir:
        per_line = 5; break;
      case T::ipv4: case T::ct_state: case T::ct_status: case T::pkttype:
        per_line = 2; break;
      default: break;
    }
  }
  std::string out = "{ ";
  size_t count = 0;
  for (size_t i = 0; i < elems.size(); ++i) {
    out += elem_text_json(elems[i]).text;
    if (i + 1 == elems.size()) break;
    ++count;
    if (anonymous || count < per_line) {
      out += ", ";
    } else {
      out += ",\n\t\t\t     ";
      count = 0;
    }
  }
  return out + " }";
}

const Set* find_set(const Ruleset& rs, uint32_t family, const std::string& table, const std::string& name) {
  for (const auto& s : rs.sets)
    if (s.family == family && s.table == table && s.name == name) return &s;
  return nullptr;
}

}  // namespace netshoot::applet::firewall::detail

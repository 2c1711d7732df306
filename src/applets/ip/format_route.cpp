// ip: text and JSON of routes, neighbours and policy rules, iproute2's shapes.
#include <linux/fib_rules.h>
#include <linux/in_route.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <charconv>

#include <fmt/format.h>

#include "applets/ip/ip_format.h"
#include "netshoot/neigh_format.h"

namespace netshoot::applet::ip {
namespace {

// Tokens of one output line; text() joins them the way iproute2 prints ("x y z ").
struct Line {
  std::string s;
  void add(std::string_view tok) {
    s += tok;
    s += ' ';
  }
  void add(std::string_view key, std::string_view val) {
    add(key);
    add(val);
  }
};

std::vector<std::string> nh_flags(uint32_t f) {
  std::vector<std::string> out;
  static const std::pair<uint32_t, const char*> kFlags[] = {
      {RTNH_F_DEAD, "dead"}, {RTNH_F_ONLINK, "onlink"}, {RTNH_F_PERVASIVE, "pervasive"},
      {RTNH_F_OFFLOAD, "offload"}, {RTNH_F_LINKDOWN, "linkdown"}, {RTNH_F_UNRESOLVED, "unresolved"}};
  for (const auto& [bit, name] : kFlags)
    if (f & bit) out.emplace_back(name);
  return out;
}

std::vector<std::string> cache_flags(uint32_t f) {
  std::vector<std::string> out;
  static const std::pair<uint32_t, const char*> kFlags[] = {
      {RTCF_LOCAL, "local"}, {RTCF_BROADCAST, "broadcast"}, {RTCF_MULTICAST, "multicast"},
      {RTCF_REDIRECTED, "redirected"}, {RTCF_DOREDIRECT, "redirect"}, {RTCF_DIRECTSRC, "src-direct"},
      {RTCF_NOTIFY, "notify"}};
  for (const auto& [bit, name] : kFlags)
    if (f & bit) out.emplace_back(name);
  return out;
}

std::string pref_name(uint8_t p) {
  switch (p) {
    case 0: return "medium";
    case 1: return "high";
    case 3: return "low";
    default: return std::to_string(p);
  }
}

std::string source_text(const core::Route& r) {
  std::string s = r.src->to_string();
  if (r.src_len != 0 && r.src_len != r.src->size() * 8) s += "/" + std::to_string(r.src_len);
  return s;
}

bool shows_proto(const core::Route& r) { return r.protocol != RTPROT_BOOT && r.protocol != RTPROT_UNSPEC; }
bool shows_table(const core::Route& r, const FormatOptions& o, bool get) {
  return (o.show_table || get) && r.table != RT_TABLE_MAIN;
}
bool cached(const core::Route& r, bool get) { return get && r.family == AF_INET && (r.flags & RTM_F_CLONED); }

}  // namespace

std::string format_route(const core::Route& r, const Names& names, const FormatOptions& o, bool get) {
  Line l;
  if (r.type != RTN_UNICAST) l.add(core::route_type_name(r.type));
  l.add(r.destination());
  if (r.src) l.add("from", source_text(r));
  if (r.gateway && r.nexthops.empty()) l.add("via", r.gateway->to_string());
  if (r.oif && o.show_dev) l.add("dev", names.name(r.oif));
  if (shows_table(r, o, get)) l.add("table", core::route_table_name(r.table));
  if (shows_proto(r)) l.add("proto", core::route_protocol_name(r.protocol));
  if (r.scope != RT_SCOPE_UNIVERSE) l.add("scope", core::scope_name(r.scope));
  if (r.prefsrc) l.add("src", r.prefsrc->to_string());
  if (r.has_priority) l.add("metric", std::to_string(r.priority));
  for (const auto& f : nh_flags(r.flags)) l.add(f);
  if (r.mark) l.add("mark", std::to_string(r.mark));
  if (get && r.family == AF_INET) l.add("uid", std::to_string(r.uid));
  if (cached(r, get)) {
    l.s += "\n    cache ";
    auto cf = cache_flags(r.flags);
    if (!cf.empty()) l.s += "<" + fmt::format("{}", fmt::join(cf, ",")) + "> ";
  }
  if (r.mtu) l.add("mtu", std::to_string(r.mtu));
  if (r.iif && get) l.add("iif", names.name(r.iif));
  for (const auto& nh : r.nexthops) {
    l.s += "\n\tnexthop ";
    if (nh.gateway) l.add("via", nh.gateway->to_string());
    if (nh.ifindex) l.add("dev", names.name(nh.ifindex));
    l.add("weight", std::to_string(nh.weight));
    for (const auto& f : nh_flags(nh.flags)) l.add(f);
  }
  if (r.pref) l.s += "pref " + pref_name(*r.pref);
  return l.s;
}

Json route_json(const core::Route& r, const Names& names, const FormatOptions& o, bool get) {
  Json j;
  if (r.type != RTN_UNICAST) j["type"] = core::route_type_name(r.type);
  j["dst"] = r.destination();
  if (r.src) j["from"] = source_text(r);
  if (r.gateway && r.nexthops.empty()) j["gateway"] = r.gateway->to_string();
  if (r.oif && o.show_dev) j["dev"] = names.name(r.oif);
  if (shows_table(r, o, get)) j["table"] = core::route_table_name(r.table);
  if (shows_proto(r)) j["protocol"] = core::route_protocol_name(r.protocol);
  if (r.scope != RT_SCOPE_UNIVERSE) j["scope"] = core::scope_name(r.scope);
  if (r.prefsrc) j["prefsrc"] = r.prefsrc->to_string();
  if (r.has_priority) j["metric"] = r.priority;
  j["flags"] = nh_flags(r.flags);
  if (r.mark) j["mark"] = r.mark;
  if (get && r.family == AF_INET) j["uid"] = r.uid;
  if (cached(r, get)) j["cache"] = cache_flags(r.flags);
  if (r.mtu) j["metrics"] = Json::array({Json{{"mtu", r.mtu}}});
  if (r.iif && get) j["iif"] = names.name(r.iif);
  if (!r.nexthops.empty()) {
    Json hops = Json::array();
    for (const auto& nh : r.nexthops) {
      Json h;
      if (nh.gateway) h["gateway"] = nh.gateway->to_string();
      if (nh.ifindex) h["dev"] = names.name(nh.ifindex);
      h["weight"] = nh.weight;
      h["flags"] = nh_flags(nh.flags);
      hops.push_back(std::move(h));
    }
    j["nexthops"] = std::move(hops);
  }
  if (r.pref) j["pref"] = pref_name(*r.pref);
  return j;
}

namespace {

// A JSON object written straight into text, byte for byte what nlohmann's compact
// dump() of the same ordered object gives.
class JsonOut {
 public:
  explicit JsonOut(std::string& out) : out_(out) {}
  void open() { out_ += '{', first_ = true; }
  void close() { out_ += '}', first_ = false; }
  void key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    str(k);
    out_ += ':';
  }
  void field(std::string_view k, std::string_view v) { key(k), str(v); }
  void field(std::string_view k, uint64_t v) {
    key(k);
    char b[24];
    out_.append(b, static_cast<size_t>(std::to_chars(b, b + sizeof b, v).ptr - b));
  }
  void field(std::string_view k, const std::vector<std::string>& v) {
    key(k);
    out_ += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out_ += ',';
      str(v[i]);
    }
    out_ += ']';
  }
  void str(std::string_view v) {
    out_ += '"';
    for (char c : v) {
      auto u = static_cast<unsigned char>(c);
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default:
          if (u < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out_ += "\\u00";
            out_ += kHex[u >> 4];
            out_ += kHex[u & 15];
          } else {
            out_ += c;
          }
      }
    }
    out_ += '"';
  }
  std::string& raw() { return out_; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace

void route_json_text(const core::Route& r, const Names& names, const FormatOptions& o, bool get, std::string& out) {
  JsonOut j(out);
  j.open();
  if (r.type != RTN_UNICAST) j.field("type", core::route_type_name(r.type));
  j.field("dst", r.destination());
  if (r.src) j.field("from", source_text(r));
  if (r.gateway && r.nexthops.empty()) j.field("gateway", r.gateway->to_string());
  if (r.oif && o.show_dev) j.field("dev", names.name(r.oif));
  if (shows_table(r, o, get)) j.field("table", core::route_table_name(r.table));
  if (shows_proto(r)) j.field("protocol", core::route_protocol_name(r.protocol));
  if (r.scope != RT_SCOPE_UNIVERSE) j.field("scope", core::scope_name(r.scope));
  if (r.prefsrc) j.field("prefsrc", r.prefsrc->to_string());
  if (r.has_priority) j.field("metric", r.priority);
  j.field("flags", nh_flags(r.flags));
  if (r.mark) j.field("mark", r.mark);
  if (get && r.family == AF_INET) j.field("uid", r.uid);
  if (cached(r, get)) j.field("cache", cache_flags(r.flags));
  if (r.mtu) {
    j.key("metrics");
    JsonOut m(j.raw());
    j.raw() += '[';
    m.open();
    m.field("mtu", r.mtu);
    m.close();
    j.raw() += ']';
  }
  if (r.iif && get) j.field("iif", names.name(r.iif));
  if (!r.nexthops.empty()) {
    j.key("nexthops");
    j.raw() += '[';
    bool first = true;
    for (const auto& nh : r.nexthops) {
      if (!first) j.raw() += ',';
      first = false;
      JsonOut h(j.raw());
      h.open();
      if (nh.gateway) h.field("gateway", nh.gateway->to_string());
      if (nh.ifindex) h.field("dev", names.name(nh.ifindex));
      h.field("weight", static_cast<uint64_t>(nh.weight));
      h.field("flags", nh_flags(nh.flags));
      h.close();
    }
    j.raw() += ']';
  }
  if (r.pref) j.field("pref", pref_name(*r.pref));
  j.close();
}

std::string format_neigh(const core::Neighbour& n, const Names& names, const FormatOptions& o) {
  return core::format_neigh(n, o.show_dev ? names.name(n.ifindex) : std::string());
}

Json neigh_json(const core::Neighbour& n, const Names& names, const FormatOptions& o) {
  return core::neigh_json(n, o.show_dev ? names.name(n.ifindex) : std::string());
}

namespace {

std::string hex(uint32_t v) { return fmt::format("{:#x}", v); }

std::string rule_action(const core::Rule& r) {
  switch (r.action) {
    case FR_ACT_TO_TBL: return "lookup " + core::route_table_name(r.table);
    case FR_ACT_GOTO: return "goto " + std::to_string(r.goto_target.value_or(0));
    default: return r.action_name();
  }
}

}  // namespace

std::string format_rule(const core::Rule& r) {
  std::string s = std::to_string(r.priority) + ":\t";
  if (r.flags & FIB_RULE_INVERT) s += "not ";
  s += "from ";
  s += r.src ? r.src->to_string() + (r.src_len != r.src->size() * 8 ? "/" + std::to_string(r.src_len) : "") : "all";
  if (r.dst) s += " to " + r.dst->to_string() + (r.dst_len != r.dst->size() * 8 ? "/" + std::to_string(r.dst_len) : "");
  if (r.tos) s += " tos " + hex(r.tos);
  if (r.fwmark || r.fwmask) {
    s += " fwmark " + hex(r.fwmark.value_or(0));
    if (r.fwmask && *r.fwmask != 0xffffffffu) s += "/" + hex(*r.fwmask);
  }
  if (!r.iifname.empty()) s += " iif " + r.iifname;
  if (!r.oifname.empty()) s += " oif " + r.oifname;
  if (r.uid_range) s += fmt::format(" uidrange {}-{}", r.uid_range->first, r.uid_range->second);
  if (r.ip_proto) s += " ipproto " + std::to_string(*r.ip_proto);
  if (r.sport) s += r.sport->first == r.sport->second ? fmt::format(" sport {}", r.sport->first)
                                                       : fmt::format(" sport {}-{}", r.sport->first, r.sport->second);
  if (r.dport) s += r.dport->first == r.dport->second ? fmt::format(" dport {}", r.dport->first)
                                                       : fmt::format(" dport {}-{}", r.dport->first, r.dport->second);
  s += " " + rule_action(r);
  if (r.suppress_prefixlen && *r.suppress_prefixlen != 0xffffffffu)
    s += " suppress_prefixlength " + std::to_string(*r.suppress_prefixlen);
  return s;
}

Json rule_json(const core::Rule& r) {
  Json j;
  j["priority"] = r.priority;
  if (r.flags & FIB_RULE_INVERT) j["not"] = nullptr;
  if (r.src) {
    j["src"] = r.src->to_string();
    if (r.src_len != r.src->size() * 8) j["srclen"] = r.src_len;
  } else {
    j["src"] = "all";
  }
  if (r.dst) {
    j["dst"] = r.dst->to_string();
    if (r.dst_len != r.dst->size() * 8) j["dstlen"] = r.dst_len;
  }
  if (r.tos) j["tos"] = hex(r.tos);
  if (r.fwmark || r.fwmask) {
    j["fwmark"] = hex(r.fwmark.value_or(0));
    if (r.fwmask && *r.fwmask != 0xffffffffu) j["fwmask"] = hex(*r.fwmask);
  }
  if (!r.iifname.empty()) j["iif"] = r.iifname;
  if (!r.oifname.empty()) j["oif"] = r.oifname;
  if (r.ip_proto) j["ipproto"] = *r.ip_proto;
  switch (r.action) {
    case FR_ACT_TO_TBL: j["table"] = core::route_table_name(r.table); break;
    case FR_ACT_GOTO: j["target"] = r.goto_target.value_or(0); break;
    default: j["action"] = r.action_name();
  }
  if (r.suppress_prefixlen && *r.suppress_prefixlen != 0xffffffffu) j["suppress_prefixlen"] = *r.suppress_prefixlen;
  return j;
}

}  // namespace netshoot::applet::ip

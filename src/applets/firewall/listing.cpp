// The listing: `nft list ruleset|table|chain|set` text and nft's JSON items.
#include "applets/firewall/render.h"
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

namespace netshoot::applet::firewall {
namespace {

using namespace detail;
using core::nft::Rule;

const char* kHooksInet[] = {"prerouting", "input", "forward", "output", "postrouting", "ingress"};

}  // namespace

std::string family_name(uint32_t family) {
  switch (family) {
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_INET: return "inet";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_NETDEV: return "netdev";
    default: return std::to_string(family);
  }
}

bool family_from_name(const std::string& name, uint32_t& family) {
  for (uint32_t f : {NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET, NFPROTO_ARP, NFPROTO_BRIDGE, NFPROTO_NETDEV}) {
    if (family_name(f) == name) {
      family = f;
      return true;
    }
  }
  return false;
}

std::string hook_name(uint32_t family, uint32_t hooknum) {
  if (family == NFPROTO_NETDEV) return hooknum == 0 ? "ingress" : hooknum == 1 ? "egress" : std::to_string(hooknum);
  if (family == NFPROTO_ARP) return hooknum == 0 ? "input" : hooknum == 1 ? "output" : hooknum == 2 ? "forward" : std::to_string(hooknum);
  if (hooknum < std::size(kHooksInet)) return kHooksInet[hooknum];
  return std::to_string(hooknum);
}

std::string priority_text(uint32_t family, uint32_t hooknum, int32_t prio) {
  struct Std { const char* name; int32_t value; int hook; };  // hook -1: any
  std::vector<Std> table;
  if (family == NFPROTO_BRIDGE) {
    table = {{"dstnat", -300, 0}, {"filter", -200, -1}, {"out", 100, 3}, {"srcnat", 300, 4}};
  } else if (family == NFPROTO_NETDEV || family == NFPROTO_ARP) {
    table = {{"filter", 0, -1}};
  } else {
    table = {{"raw", -300, -1}, {"mangle", -150, -1}, {"dstnat", -100, 0}, {"filter", 0, -1},
             {"security", 50, -1}, {"srcnat", 100, 4}};
  }
  for (const auto& s : table) {
    if (s.hook >= 0 && static_cast<uint32_t>(s.hook) != hooknum) continue;
    int32_t d = prio - s.value;
    if (d < -10 || d > 10) continue;
    if (d == 0) return s.name;
    return std::string(s.name) + (d > 0 ? " + " : " - ") + std::to_string(d > 0 ? d : -d);
  }
  return std::to_string(prio);
}

namespace {

bool table_selected(const core::nft::Table& t, const Selection& sel) {
  if (!sel.table.empty() && t.name != sel.table) return false;
  if (sel.family && t.family != sel.family) return false;
  return true;
}

bool one_object(const Selection& sel) { return !sel.chain.empty() || !sel.set.empty(); }
bool show_set(const Selection& sel, const Set& s) {
  return !one_object(sel) || (sel.chain.empty() && s.name == sel.set);
}
bool show_chain(const Selection& sel, const core::nft::Chain& c) {
  return !one_object(sel) || (sel.set.empty() && c.name == sel.chain);
}

std::string set_flags_text(uint32_t flags, Json& arr) {
  std::vector<std::string> f;
  if (flags & NFT_SET_CONSTANT) f.emplace_back("constant");
  if (flags & NFT_SET_INTERVAL) f.emplace_back("interval");
  if (flags & NFT_SET_EVAL) f.emplace_back("dynamic");
  if (flags & NFT_SET_TIMEOUT) f.emplace_back("timeout");
  std::string s;
  for (const auto& x : f) {
    s += (s.empty() ? "" : ",") + x;
    arr.push_back(x);
  }
  return s;
}

std::string key_type_text(uint32_t key_type, Json& j) {
  auto parts = key_types(key_type);
  std::string s;
  Json arr = Json::array();
  for (T t : parts) {
    const char* n = type_name(static_cast<uint32_t>(t));
    std::string name = n ? n : "type" + std::to_string(static_cast<uint32_t>(t));
    s += (s.empty() ? "" : " . ") + name;
    arr.push_back(name);
  }
  j = arr.size() == 1 ? arr[0] : arr;
  return s;
}

}  // namespace

std::string ruleset_text(const Ruleset& rs, const Selection& sel) {
  std::string out;
  for (const auto& t : rs.tables) {
    if (!table_selected(t, sel)) continue;
    out += "table " + family_name(t.family) + " " + t.name + " {\n";
    bool first = true;
    auto sep = [&] {
      if (!first) out += "\n";
      first = false;
    };
    if (t.flags & 1) {
      out += "\tflags dormant\n";
      first = false;
    }
    for (const auto& o : rs.objects) {
      if (o.family != t.family || o.table != t.name || one_object(sel)) continue;
      sep();
      if (o.type == NFT_OBJECT_COUNTER) {
        out += "\tcounter " + o.name + " {\n\t\tpackets " + std::to_string(o.packets) + " bytes " +
               std::to_string(o.bytes) + "\n\t}\n";
      } else if (o.type == NFT_OBJECT_QUOTA) {
        out += "\tquota " + o.name + " {\n\t\t" + ((o.flags & NFT_QUOTA_F_INV) ? "over " : "") + bytes_text(o.bytes);
        if (o.consumed) out += " used " + bytes_text(o.consumed);
        out += "\n\t}\n";
      } else {
        out += "\t# object \"" + o.name + "\" of type " + std::to_string(o.type) + ": not decoded by netshoot\n";
      }
    }
    for (const auto& s : rs.sets) {
      if (s.family != t.family || s.table != t.name) continue;
      if ((s.flags & NFT_SET_ANONYMOUS) || !show_set(sel, s)) continue;
      sep();
      bool map = s.flags & NFT_SET_MAP;
      Json dummy;
      out += std::string("\t") + (map ? "map " : "set ") + s.name + " {\n";
      out += "\t\ttype " + key_type_text(s.key_type, dummy);
      if (map) out += " : " + (s.data_type == NFT_DATA_VERDICT ? std::string("verdict") : key_type_text(s.data_type, dummy));
      out += "\n";
      if (s.size) out += "\t\tsize " + std::to_string(s.size) + "\n";
      Json fl = Json::array();
      std::string flags = set_flags_text(s.flags, fl);
      // nft leaves out a flags line that would only say "timeout"
      if (!flags.empty() && (s.flags & (NFT_SET_CONSTANT | NFT_SET_INTERVAL | NFT_SET_EVAL)))
        out += "\t\tflags " + flags + "\n";
      if (s.timeout) out += "\t\ttimeout " + time_text(s.timeout) + "\n";
      if (s.gc_interval) out += "\t\tgc-interval " + time_text(s.gc_interval) + "\n";
      for (const auto& x : s.exprs) out += "\t\t" + (x.name == "counter" ? std::string("counter") : "[ " + x.name + " ]") + "\n";
      auto elems = set_elements(s);
      if (!elems.empty()) out += "\t\telements = " + elements_text(s, elems, false) + "\n";
      out += "\t}\n";
    }
    for (const auto& c : rs.chains) {
      if (c.family != t.family || c.table != t.name || !show_chain(sel, c)) continue;
      sep();
      out += "\tchain " + c.name + " {\n";
      if (c.base) {
        out += "\t\ttype " + c.type + " hook " + hook_name(c.family, c.hooknum);
        if (!c.dev.empty()) out += " device \"" + c.dev + "\"";
        else if (!c.devs.empty()) {
          out += " devices = { ";
          for (size_t i = 0; i < c.devs.size(); ++i) out += (i ? ", " : "") + c.devs[i];
          out += " }";
        }
        out += " priority " + priority_text(c.family, c.hooknum, c.prio) + "; policy " +
               (c.policy == NF_DROP ? "drop" : "accept") + ";\n";
      }
      for (const auto& r : rs.rules) {
        if (r.family != c.family || r.table != c.table || r.chain != c.name) continue;
        RenderedRule rr = render_rule(r, rs);
        out += "\t\t" + rr.text;
        if (!r.comment.empty()) out += (rr.text.empty() ? "" : " ") + std::string("comment \"") + r.comment + "\"";
        out += "\n";
      }
      out += "\t}\n";
    }
    out += "}\n";
  }
  return out;
}

Json ruleset_json(const Ruleset& rs, const Selection& sel) {
  Json items = Json::array();
  items.push_back(Json{{"metainfo", Json{{"version", NETSHOOT_VERSION}, {"release_name", "netshoot"},
                                         {"json_schema_version", 1}}}});
  for (const auto& t : rs.tables) {
    if (!table_selected(t, sel)) continue;
    Json tj{{"family", family_name(t.family)}, {"name", t.name}, {"handle", t.handle}};
    if (t.flags & 1) tj["flags"] = "dormant";
    if (!one_object(sel)) items.push_back(Json{{"table", tj}});
    for (const auto& o : rs.objects) {
      if (o.family != t.family || o.table != t.name || one_object(sel)) continue;
      Json oj{{"family", family_name(o.family)}, {"name", o.name}, {"table", o.table}, {"handle", o.handle}};
      if (o.type == NFT_OBJECT_COUNTER) {
        oj["packets"] = o.packets;
        oj["bytes"] = o.bytes;
        items.push_back(Json{{"counter", oj}});
      } else if (o.type == NFT_OBJECT_QUOTA) {
        oj["bytes"] = o.bytes;
        oj["used"] = o.consumed;
        if (o.flags & NFT_QUOTA_F_INV) oj["inv"] = true;
        items.push_back(Json{{"quota", oj}});
      } else {
        oj["type"] = o.type;
        items.push_back(Json{{"netshoot_unsupported_object", oj}});
      }
    }
    for (const auto& s : rs.sets) {
      if (s.family != t.family || s.table != t.name || (s.flags & NFT_SET_ANONYMOUS) || !show_set(sel, s)) continue;
      bool map = s.flags & NFT_SET_MAP;
      Json sj{{"family", family_name(s.family)}, {"name", s.name}, {"table", s.table}};
      Json kt;
      key_type_text(s.key_type, kt);
      sj["type"] = kt;
      sj["handle"] = s.handle;
      if (map) {
        Json dt = "verdict";
        if (s.data_type != NFT_DATA_VERDICT) key_type_text(s.data_type, dt);
        sj["map"] = dt;
      }
      if (s.size) sj["size"] = s.size;
      Json fl = Json::array();
      if (!set_flags_text(s.flags, fl).empty()) sj["flags"] = fl;
      if (s.timeout) sj["timeout"] = s.timeout / 1000;
      if (s.gc_interval) sj["gc-interval"] = s.gc_interval / 1000;
      auto elems = set_elements(s);
      if (!elems.empty()) {
        Json arr = Json::array();
        for (const auto& e : elems) arr.push_back(elem_text_json(e).json);
        sj["elem"] = arr;
      }
      if (!s.exprs.empty()) {
        Json st = Json::array();
        for (const auto& x : s.exprs)
          st.push_back(x.name == "counter" ? Json{{"counter", nullptr}} : Json{{"netshoot_unsupported", x.name}});
        sj["stmt"] = st;
      }
      items.push_back(Json{{map ? "map" : "set", sj}});
    }
    for (const auto& c : rs.chains) {
      if (c.family != t.family || c.table != t.name || !show_chain(sel, c)) continue;
      Json cj{{"family", family_name(c.family)}, {"table", c.table}, {"name", c.name}, {"handle", c.handle}};
      if (c.base) {
        cj["type"] = c.type;
        cj["hook"] = hook_name(c.family, c.hooknum);
        if (!c.dev.empty()) cj["dev"] = c.dev;
        cj["prio"] = c.prio;
        cj["policy"] = c.policy == NF_DROP ? "drop" : "accept";
      }
      items.push_back(Json{{"chain", cj}});
    }
    for (const auto& c : rs.chains) {
      if (c.family != t.family || c.table != t.name || !show_chain(sel, c)) continue;
      for (const auto& r : rs.rules) {
        if (r.family != c.family || r.table != c.table || r.chain != c.name) continue;
        RenderedRule rr = render_rule(r, rs);
        Json rj{{"family", family_name(r.family)}, {"table", r.table}, {"chain", r.chain}, {"handle", r.handle}};
        if (!r.comment.empty()) rj["comment"] = r.comment;
        rj["expr"] = rr.exprs;
        items.push_back(Json{{"rule", rj}});
      }
    }
  }
  return items;
}

}  // namespace netshoot::applet::firewall

// ip: text and JSON of links and addresses, iproute2's shapes.
#include <linux/if_addr.h>
#include <net/if.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <net/if.h>

#include <fmt/format.h>

#include "applets/ip/ip_format.h"

namespace netshoot::applet::ip {

std::string Names::name(int ifindex) const {
  auto it = by_index.find(ifindex);
  return it != by_index.end() ? it->second : "if" + std::to_string(ifindex);
}

namespace {
// IFLA_LINK names another link: a veth peer (maybe in another netns, where the same
// ifindex is a different device), a vlan's parent.
bool has_parent(const core::Link& l) { return l.link != 0 && (l.link != l.index || l.link_netnsid); }
}  // namespace

std::string link_label(const core::Link& l, const Names& names) {
  if (!has_parent(l)) return l.name;
  if (l.link_netnsid) return l.name + "@if" + std::to_string(l.link);
  return l.name + "@" + names.name(l.link);
}

std::vector<std::string> link_flags(uint32_t flags) {
  // iproute2 puts NO-CARRIER (up, but no carrier) before the kernel's flag names.
  std::vector<std::string> out;
  if ((flags & IFF_UP) && !(flags & IFF_RUNNING)) out.emplace_back("NO-CARRIER");
  for (auto& name : core::link_flag_names(flags)) out.push_back(std::move(name));
  return out;
}

std::string link_type_name(uint16_t t) {
  switch (t) {
    case ARPHRD_ETHER: return "ether";
    case ARPHRD_LOOPBACK: return "loopback";
    case ARPHRD_NONE: return "none";
    case ARPHRD_VOID: return "void";
    case ARPHRD_TUNNEL: return "ipip";
    case ARPHRD_TUNNEL6: return "tunnel6";
    case ARPHRD_SIT: return "sit";
    case ARPHRD_IPGRE: return "gre";
    case ARPHRD_IP6GRE: return "gre6";
    case ARPHRD_INFINIBAND: return "infiniband";
    case ARPHRD_IEEE80211: return "ieee802.11";
    case ARPHRD_IEEE80211_RADIOTAP: return "ieee802.11/radiotap";
    case ARPHRD_PPP: return "ppp";
    case ARPHRD_CAN: return "can";
    default: return "[" + std::to_string(t) + "]";
  }
}

namespace {

std::string join_flags(const std::vector<std::string>& f) {
  std::string s;
  for (const auto& x : f) {
    if (!s.empty()) s += ',';
    s += x;
  }
  return s;
}

Json flags_json(const std::vector<std::string>& f) {
  Json a = Json::array();
  for (const auto& x : f) a.push_back(x);
  return a;
}

}  // namespace

std::string format_link(const core::Link& l, const Names& names, const FormatOptions& o) {
  std::string s = fmt::format("{}: {}: <{}> mtu {}", l.index, link_label(l, names),
                              join_flags(link_flags(l.flags)), l.mtu);
  if (!l.qdisc.empty()) s += " qdisc " + l.qdisc;
  if (l.master) s += " master " + names.name(l.master);
  s += " state " + l.operstate_name();
  if (o.link_cmd) s += " mode DEFAULT";
  s += fmt::format(" group default qlen {}", l.txqlen);
  s += "\n    link/" + link_type_name(l.type);
  if (!l.address.empty()) s += " " + core::format_lladdr(l.address);
  if (!l.broadcast.empty()) {
    s += (l.flags & IFF_POINTOPOINT) ? " peer " : " brd ";
    s += core::format_lladdr(l.broadcast);
  }
  if (l.link_netnsid) {
    auto it = names.netns_by_id.find(*l.link_netnsid);
    s += it != names.netns_by_id.end() ? " link-netns " + it->second
                                       : fmt::format(" link-netnsid {}", *l.link_netnsid);
  }
  if (l.address.empty() && l.broadcast.empty() && !l.link_netnsid) s += ' ';
  if (!l.alias.empty()) s += "\n    alias " + l.alias;
  if (o.details && !l.kind.empty()) s += "\n    " + l.kind + " ";
  if (o.stats && l.stats) {
    const auto& st = *l.stats;
    s += "\n    RX:  bytes packets errors dropped  missed   mcast           ";
    s += fmt::format("\n    {:>10} {:>7} {:>6} {:>7} {:>7} {:>7} ", st.rx_bytes, st.rx_packets, st.rx_errors,
                     st.rx_dropped, 0, st.multicast);
    s += "\n    TX:  bytes packets errors dropped carrier collsns           ";
    s += fmt::format("\n    {:>10} {:>7} {:>6} {:>7} {:>7} {:>7} ", st.tx_bytes, st.tx_packets, st.tx_errors,
                     st.tx_dropped, 0, st.collisions);
  }
  return s;
}

Json link_json(const core::Link& l, const Names& names, const FormatOptions& o) {
  Json j;
  j["ifindex"] = l.index;
  if (has_parent(l)) {
    if (l.link_netnsid) j["link_index"] = l.link;
    else j["link"] = names.name(l.link);
  }
  j["ifname"] = l.name;
  j["flags"] = flags_json(link_flags(l.flags));
  j["mtu"] = l.mtu;
  if (!l.qdisc.empty()) j["qdisc"] = l.qdisc;
  if (l.master) j["master"] = names.name(l.master);
  j["operstate"] = l.operstate_name();
  if (o.link_cmd) j["linkmode"] = "DEFAULT";
  j["group"] = "default";
  j["txqlen"] = l.txqlen;
  j["link_type"] = link_type_name(l.type);
  if (!l.address.empty()) j["address"] = core::format_lladdr(l.address);
  if (!l.broadcast.empty()) j[(l.flags & IFF_POINTOPOINT) ? "link_pointtopoint" : "broadcast"] =
      core::format_lladdr(l.broadcast);
  if (l.link_netnsid) j["link_netnsid"] = *l.link_netnsid;
  if (!l.alias.empty()) j["ifalias"] = l.alias;
  if (o.details && !l.kind.empty()) j["linkinfo"] = Json{{"info_kind", l.kind}};
  if (o.stats && l.stats) {
    const auto& st = *l.stats;
    j["stats64"] = Json{{"rx", Json{{"bytes", st.rx_bytes}, {"packets", st.rx_packets}, {"errors", st.rx_errors},
                                    {"dropped", st.rx_dropped}, {"over_errors", 0}, {"multicast", st.multicast}}},
                        {"tx", Json{{"bytes", st.tx_bytes}, {"packets", st.tx_packets}, {"errors", st.tx_errors},
                                    {"dropped", st.tx_dropped}, {"carrier_errors", 0},
                                    {"collisions", st.collisions}}}};
  }
  return j;
}

std::vector<std::string> address_flag_names(const core::Address& a) {
  std::vector<std::string> out;
  const uint32_t f = a.flags;
  if (f & IFA_F_SECONDARY) out.emplace_back(a.family == AF_INET6 ? "temporary" : "secondary");
  static const std::pair<uint32_t, const char*> kBefore[] = {
      {IFA_F_NODAD, "nodad"}, {IFA_F_OPTIMISTIC, "optimistic"}, {IFA_F_DADFAILED, "dadfailed"},
      {IFA_F_HOMEADDRESS, "home"}, {IFA_F_DEPRECATED, "deprecated"}, {IFA_F_TENTATIVE, "tentative"}};
  for (const auto& [bit, name] : kBefore)
    if (f & bit) out.emplace_back(name);
  if (!(f & IFA_F_PERMANENT)) out.emplace_back("dynamic");
  static const std::pair<uint32_t, const char*> kAfter[] = {
      {IFA_F_MANAGETEMPADDR, "mngtmpaddr"}, {IFA_F_NOPREFIXROUTE, "noprefixroute"},
      {IFA_F_MCAUTOJOIN, "autojoin"}, {IFA_F_STABLE_PRIVACY, "stable-privacy"}};
  for (const auto& [bit, name] : kAfter)
    if (f & bit) out.emplace_back(name);
  return out;
}

namespace {

std::string lifetime(uint32_t v) { return v == 0xffffffffu ? "forever" : std::to_string(v) + "sec"; }

bool has_peer(const core::Address& a) { return a.local && *a.local != a.address; }

}  // namespace

std::string format_address(const core::Address& a, const Names& names) {
  (void)names;
  std::string s = a.family == AF_INET6 ? "    inet6 " : "    inet ";
  s += a.own().to_string();
  if (has_peer(a)) s += " peer " + a.address.to_string();
  s += "/" + std::to_string(a.prefixlen);
  if (a.broadcast) s += " brd " + a.broadcast->to_string();
  s += " scope " + core::scope_name(a.scope);
  for (const auto& f : address_flag_names(a)) s += " " + f;
  if (a.family == AF_INET && !a.label.empty()) s += " " + a.label;
  else s += " ";
  s += "\n       valid_lft " + lifetime(a.valid_lft) + " preferred_lft " + lifetime(a.preferred_lft);
  return s;
}

Json address_json(const core::Address& a) {
  Json j;
  j["family"] = a.family == AF_INET6 ? "inet6" : "inet";
  j["local"] = a.own().to_string();
  if (has_peer(a)) j["address"] = a.address.to_string();
  j["prefixlen"] = a.prefixlen;
  if (a.broadcast) j["broadcast"] = a.broadcast->to_string();
  j["scope"] = core::scope_name(a.scope);
  for (const auto& f : address_flag_names(a)) j[f] = true;
  if (a.family == AF_INET && !a.label.empty()) j["label"] = a.label;
  j["valid_life_time"] = a.valid_lft;
  j["preferred_life_time"] = a.preferred_lft;
  return j;
}

std::string format_brief_link(const core::Link& l, const Names& names) {
  std::string s = fmt::format("{:<16} {:<14} ", link_label(l, names), l.operstate_name());
  if (!l.address.empty()) s += core::format_lladdr(l.address) + " ";
  s += "<" + join_flags(link_flags(l.flags)) + "> ";
  return s;
}

std::string format_brief_addr(const core::Link& l, const std::vector<const core::Address*>& addrs,
                              const Names& names) {
  std::string s = fmt::format("{:<16} {:<14} ", link_label(l, names), l.operstate_name());
  for (const auto* a : addrs) s += fmt::format("{}/{} ", a->own().to_string(), a->prefixlen);
  return s;
}

Json brief_link_json(const core::Link& l, const Names& names) {
  Json j;
  if (has_parent(l)) {
    if (l.link_netnsid) j["link_index"] = l.link;
    else j["link"] = names.name(l.link);
  }
  j["ifname"] = l.name;
  j["operstate"] = l.operstate_name();
  if (!l.address.empty()) j["address"] = core::format_lladdr(l.address);
  j["flags"] = flags_json(link_flags(l.flags));
  return j;
}

Json brief_addr_json(const core::Link& l, const std::vector<const core::Address*>& addrs, const Names& names) {
  Json j;
  if (has_parent(l)) {
    if (l.link_netnsid) j["link_index"] = l.link;
    else j["link"] = names.name(l.link);
  }
  j["ifname"] = l.name;
  j["operstate"] = l.operstate_name();
  Json ai = Json::array();
  for (const auto* a : addrs) ai.push_back(Json{{"local", a->own().to_string()}, {"prefixlen", a->prefixlen}});
  j["addr_info"] = ai;
  return j;
}

}  // namespace netshoot::applet::ip

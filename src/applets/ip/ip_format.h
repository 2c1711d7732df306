// ip: iproute2-shaped text and JSON for links, addresses, routes, neighbours and
// rules, built from the core's netlink structs. Pure functions (unit-tested).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "netshoot/netlink.h"
#include "netshoot/output.h"

namespace netshoot::applet::ip {

using core::Json;

// What the formatters need to know about the other links (names by ifindex).
struct Names {
  std::map<int, std::string> by_index;
  std::map<int, std::string> netns_by_id;  // netnsid -> /run/netns name ("link-netns NAME")
  std::string name(int ifindex) const;  // "if7" when unknown (as iproute2)
};

struct FormatOptions {
  bool details = false;     // -d
  bool stats = false;       // -s
  bool link_cmd = false;    // `ip link` (shows "mode DEFAULT"; `ip addr` does not)
  bool show_dev = true;     // false when filtered by `dev X` (iproute2 drops "dev X")
  bool show_table = false;  // `table all` / a non-main table lookup: print "table T"
};

// "vb@va", "veth0@if5" (peer in another netns), "eth0@NONE".
std::string link_label(const core::Link& l, const Names& names);
// <NO-CARRIER,BROADCAST,...> contents, iproute2 order.
std::vector<std::string> link_flags(uint32_t flags);
std::string link_type_name(uint16_t arphrd);  // ether, loopback, none, ...

// `ip link` / first two lines of `ip addr` (no trailing newline).
std::string format_link(const core::Link& l, const Names& names, const FormatOptions& o);
Json link_json(const core::Link& l, const Names& names, const FormatOptions& o);

// One address under `ip addr` (two lines: "    inet ..." and "       valid_lft ...").
std::string format_address(const core::Address& a, const Names& names);
Json address_json(const core::Address& a);
std::vector<std::string> address_flag_names(const core::Address& a);

// `ip -br link` and `ip -br addr` rows.
std::string format_brief_link(const core::Link& l, const Names& names);
std::string format_brief_addr(const core::Link& l, const std::vector<const core::Address*>& addrs,
                              const Names& names);
Json brief_link_json(const core::Link& l, const Names& names);
Json brief_addr_json(const core::Link& l, const std::vector<const core::Address*>& addrs,
                     const Names& names);

// `ip route` lines (may hold several lines for multipath); get = `ip route get`.
std::string format_route(const core::Route& r, const Names& names, const FormatOptions& o,
                         bool get = false);
Json route_json(const core::Route& r, const Names& names, const FormatOptions& o, bool get = false);
// route_json(...).dump() appended to out, written directly (ip -j route on 100k routes).
void route_json_text(const core::Route& r, const Names& names, const FormatOptions& o, bool get,
                     std::string& out);

// `ip neigh`: the core's neighbour line/object with this link naming.
std::string format_neigh(const core::Neighbour& n, const Names& names, const FormatOptions& o);
Json neigh_json(const core::Neighbour& n, const Names& names, const FormatOptions& o);

std::string format_rule(const core::Rule& r);
Json rule_json(const core::Rule& r);

}  // namespace netshoot::applet::ip

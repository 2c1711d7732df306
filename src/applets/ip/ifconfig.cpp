// ifconfig and route (net-tools shapes), read-only, from the same netlink dumps as ip.
#include <net/if.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "applets/ip/ip_cli.h"
#include "netshoot/output.h"

namespace netshoot::applet::ip {
namespace {

std::string human_bytes(uint64_t b) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(b);
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) v /= 1024, ++u;
  return fmt::format("{:.1f} {}", std::floor(v * 10) / 10, kUnits[u]);  // net-tools truncates
}

std::string nettools_flags(uint32_t f) {
  static const std::pair<uint32_t, const char*> kFlags[] = {
      {IFF_UP, "UP"}, {IFF_BROADCAST, "BROADCAST"}, {IFF_DEBUG, "DEBUG"}, {IFF_LOOPBACK, "LOOPBACK"},
      {IFF_POINTOPOINT, "POINTOPOINT"}, {IFF_NOTRAILERS, "NOTRAILERS"}, {IFF_RUNNING, "RUNNING"},
      {IFF_NOARP, "NOARP"}, {IFF_PROMISC, "PROMISC"}, {IFF_ALLMULTI, "ALLMULTI"}, {IFF_MASTER, "MASTER"},
      {IFF_SLAVE, "SLAVE"}, {IFF_MULTICAST, "MULTICAST"}, {IFF_DYNAMIC, "DYNAMIC"}};
  std::string s;
  for (const auto& [bit, name] : kFlags)
    if (f & bit) s += (s.empty() ? "" : ",") + std::string(name);
  return s;
}

std::string scopeid(uint8_t scope) {
  switch (scope) {
    case RT_SCOPE_HOST: return "0x10<host>";
    case RT_SCOPE_LINK: return "0x20<link>";
    case RT_SCOPE_SITE: return "0x40<site>";
    case RT_SCOPE_UNIVERSE: return "0x0<global>";
    default: return fmt::format("{:#x}", scope);
  }
}

std::string format_ifconfig(const core::Link& l, const std::vector<core::Address>& addrs) {
  std::string s = fmt::format("{}: flags={}<{}>  mtu {}\n", l.name, l.flags & 0xffff, nettools_flags(l.flags), l.mtu);
  for (const auto& a : addrs) {
    if (a.ifindex != l.index || a.family != AF_INET || (!a.label.empty() && a.label != l.name)) continue;
    s += fmt::format("        inet {}  netmask {}", a.own().to_string(),
                     core::Cidr(a.own(), a.prefixlen).netmask().to_string());
    if (l.flags & IFF_POINTOPOINT) s += "  destination " + a.address.to_string();
    else if (l.flags & IFF_BROADCAST) s += "  broadcast " + (a.broadcast ? a.broadcast->to_string() : "0.0.0.0");
    s += "\n";
    break;  // net-tools shows the primary address; labelled aliases are eth0:1 entries
  }
  for (const auto& a : addrs) {
    if (a.ifindex != l.index || a.family != AF_INET6) continue;
    s += fmt::format("        inet6 {}  prefixlen {}  scopeid {}\n", a.own().to_string(), a.prefixlen, scopeid(a.scope));
  }
  if (l.type == ARPHRD_ETHER)
    s += fmt::format("        ether {}  txqueuelen {}  (Ethernet)\n", core::format_lladdr(l.address), l.txqlen);
  else if (l.type == ARPHRD_LOOPBACK)
    s += fmt::format("        loop  txqueuelen {}  (Local Loopback)\n", l.txqlen);
  else
    s += fmt::format("        unspec {}  txqueuelen {}  (UNSPEC)\n", core::format_lladdr(l.address), l.txqlen);
  core::LinkStats st = l.stats.value_or(core::LinkStats{});
  s += fmt::format("        RX packets {}  bytes {} ({})\n", st.rx_packets, st.rx_bytes, human_bytes(st.rx_bytes));
  s += fmt::format("        RX errors {}  dropped {}  overruns 0  frame 0\n", st.rx_errors, st.rx_dropped);
  s += fmt::format("        TX packets {}  bytes {} ({})\n", st.tx_packets, st.tx_bytes, human_bytes(st.tx_bytes));
  s += fmt::format("        TX errors {}  dropped {} overruns 0  carrier 0  collisions {}\n", st.tx_errors,
                   st.tx_dropped, st.collisions);
  return s;
}

}  // namespace

int run_ifconfig(Context& ctx, int argc, char** argv) {
  bool all = false;
  std::string dev;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-a") all = true;
    else if (a == "-h" || a == "--help") {
      std::puts("Usage: ifconfig [-a] [INTERFACE]   (read-only: shows interfaces in net-tools' shape)");
      return kExitOk;
    } else if (dev.empty() && a[0] != '-') dev = std::string(a);
    else {
      std::fprintf(stderr, "ifconfig: changing interfaces is not supported (read-only); use ip from iproute2\n");
      return kExitUsage;
    }
  }
  auto links = core::dump_links();
  auto addrs = core::dump_addresses();
  if (!links || !addrs) {
    std::fprintf(stderr, "ifconfig: %s\n", (!links ? links.error() : addrs.error()).message().c_str());
    return kExitFailure;
  }
  std::sort(links->begin(), links->end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  auto out = core::Output::make(ctx.json);
  bool found = false;
  for (const auto& l : *links) {
    if (!dev.empty() && l.name != dev) continue;
    if (dev.empty() && !all && !(l.flags & IFF_UP)) continue;
    found = true;
    Names names = link_names(*links);
    FormatOptions fo;
    fo.stats = true;
    Json j = link_json(l, names, fo);
    Json ai = Json::array();
    for (const auto& a : *addrs)
      if (a.ifindex == l.index) ai.push_back(address_json(a));
    j["addr_info"] = std::move(ai);
    out->record("interface", j, format_ifconfig(l, *addrs));
  }
  out->flush();
  if (!dev.empty() && !found) {
    std::fprintf(stderr, "%s: error fetching interface information: Device not found\n", dev.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

int run_route(Context& ctx, int argc, char** argv) {
  bool numeric = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-n") numeric = true;
    else if (a == "-e" || a == "-ee" || a == "-v") {}
    else if (a == "-h" || a == "--help") {
      std::puts("Usage: route [-n]   (read-only: the IPv4 main routing table in net-tools' shape)");
      return kExitOk;
    } else {
      std::fprintf(stderr, "route: %s: not supported (read-only); use ip route from iproute2\n", argv[i]);
      return kExitUsage;
    }
  }
  auto links = core::dump_links();
  auto routes = core::dump_routes(AF_INET);
  if (!links || !routes) {
    std::fprintf(stderr, "route: %s\n", (!links ? links.error() : routes.error()).message().c_str());
    return kExitFailure;
  }
  Names names = link_names(*links);
  auto out = core::Output::make(ctx.json);
  out->text("Kernel IP routing table\nDestination     Gateway         Genmask         Flags Metric Ref    Use Iface");
  for (const auto& r : *routes) {
    if (r.table != RT_TABLE_MAIN || (r.flags & RTM_F_CLONED)) continue;
    if (r.type != RTN_UNICAST && r.type != RTN_UNREACHABLE && r.type != RTN_PROHIBIT && r.type != RTN_BLACKHOLE)
      continue;
    core::IpAddr dst = r.dst.value_or(core::IpAddr::any(AF_INET));
    std::optional<core::IpAddr> gw = r.gateway;
    int oif = r.oif;
    if (!r.nexthops.empty()) {
      gw = r.nexthops[0].gateway;
      oif = r.nexthops[0].ifindex;
    }
    std::string flags = "U";
    if (r.type != RTN_UNICAST) flags = "!";
    if (gw) flags += "G";
    if (r.dst_len == 32) flags += "H";
    core::IpAddr mask = core::Cidr(dst, r.dst_len).netmask();
    std::string dst_s = !numeric && r.dst_len == 0 ? "default" : dst.to_string();
    std::string gw_s = gw ? gw->to_string() : (numeric ? "0.0.0.0" : "0.0.0.0");
    std::string iface = oif ? names.name(oif) : "-";
    std::string text = fmt::format("{:<15} {:<15} {:<15} {:<5} {:<6} {:<2} {:>7} {}", dst_s, gw_s, mask.to_string(),
                                   flags, r.priority, 0, 0, iface);
    Json j{{"destination", dst.to_string()}, {"gateway", gw_s}, {"genmask", mask.to_string()}, {"flags", flags},
           {"metric", r.priority}, {"iface", iface}};
    out->record("route", j, text);
  }
  out->flush();
  return kExitOk;
}

}  // namespace netshoot::applet::ip

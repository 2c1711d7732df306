#include "vlan.h"

#include <fmt/format.h>
#include <linux/if_bridge.h>

namespace netshoot::applet::bridge {

std::vector<core::BridgeVlanPort> filter_vlans(const std::vector<core::BridgeVlanPort>& ports, const VlanFilter& f) {
  std::vector<core::BridgeVlanPort> out;
  for (const auto& p : ports) {
    if (f.ifindex && p.ifindex != f.ifindex) continue;
    core::BridgeVlanPort q{p.ifindex, p.name, {}};
    for (const auto& v : p.vlans)
      if (f.vid == 0 || (v.vid <= f.vid && f.vid <= v.vid_end)) q.vlans.push_back(v);
    if (!q.vlans.empty()) out.push_back(std::move(q));
  }
  return out;
}

std::string vlan_text(const std::vector<core::BridgeVlanPort>& ports) {
  std::string s = fmt::format("{:<16}  {:<9}\n", "port", "vlan-id");  // iproute2's "%-16s  %-9s"
  for (const auto& p : ports) {
    bool first = true;
    for (const auto& v : p.vlans) {
      s += fmt::format("{:<16}  {}", first ? p.name : "", v.vid);
      if (v.vid_end != v.vid) s += fmt::format("-{}", v.vid_end);
      if (v.flags & BRIDGE_VLAN_INFO_PVID) s += " PVID";
      if (v.flags & BRIDGE_VLAN_INFO_UNTAGGED) s += " Egress Untagged";
      s += "\n";
      first = false;
    }
  }
  return s;
}

core::Json vlan_json(const std::vector<core::BridgeVlanPort>& ports) {
  core::Json arr = core::Json::array();
  for (const auto& p : ports) {
    core::Json vl = core::Json::array();
    for (const auto& v : p.vlans) {
      core::Json j{{"vlan", v.vid}};
      if (v.vid_end != v.vid) j["vlanEnd"] = v.vid_end;
      // iproute2 writes the array whenever the kernel's flags are not 0, so a
      // compressed range (RANGE_END set) without PVID/untagged gets "flags": [].
      if (v.flags != 0) {
        core::Json flags = core::Json::array();
        if (v.flags & BRIDGE_VLAN_INFO_PVID) flags.push_back("PVID");
        if (v.flags & BRIDGE_VLAN_INFO_UNTAGGED) flags.push_back("Egress Untagged");
        j["flags"] = std::move(flags);
      }
      vl.push_back(std::move(j));
    }
    arr.push_back(core::Json{{"ifname", p.name}, {"vlans", std::move(vl)}});
  }
  return arr;
}

}  // namespace netshoot::applet::bridge

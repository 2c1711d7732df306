// bridge vlan show: iproute2's text table and -j JSON from the kernel's per-port
// VLAN tables.
#pragma once

#include <string>
#include <vector>

#include "netshoot/netlink.h"
#include "netshoot/output.h"

namespace netshoot::applet::bridge {

struct VlanFilter {
  int ifindex = 0;   // dev DEV (0 = all)
  uint16_t vid = 0;  // vid N (0 = all): the rows whose range holds it
};

// The rows that pass the filter, per port; ports left without rows are dropped.
std::vector<core::BridgeVlanPort> filter_vlans(const std::vector<core::BridgeVlanPort>& ports, const VlanFilter& f);

// "port              vlan-id  " and one line per VLAN (the name on a port's first).
std::string vlan_text(const std::vector<core::BridgeVlanPort>& ports);

// [{"ifname":"br0","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]},{"vlan":10,"vlanEnd":20}]}]
core::Json vlan_json(const std::vector<core::BridgeVlanPort>& ports);

}  // namespace netshoot::applet::bridge

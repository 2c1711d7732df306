// iproute2's `ip neigh` line and JSON object for one neighbour entry. In the core
// because more than one applet prints neighbours (ip neigh, arping --check-neigh).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "netshoot/netlink.h"
#include "netshoot/output.h"

namespace netshoot::core {

// NUD_* bits as iproute2 names them, in its order ("REACHABLE", "FAILED", ...).
std::vector<std::string> neigh_state_names(uint16_t state);

// "10.0.1.4 dev br0 lladdr 02:42:0a:00:01:04 REACHABLE " (iproute2 keeps the trailing
// space). `dev` empty: the "dev X" pair is left out (`ip neigh show dev X`).
std::string format_neigh(const Neighbour& n, const std::string& dev);
Json neigh_json(const Neighbour& n, const std::string& dev);

}  // namespace netshoot::core

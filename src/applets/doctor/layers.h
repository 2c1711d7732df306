// The layer checks of doctor, each a function that fills one Check.
#pragma once

#include <optional>

#include "applets/doctor/doctor.h"
#include "netshoot/netlink.h"
#include "netshoot/nftables.h"

namespace netshoot::applet::doctor {

// 1: resolver. Numeric targets skip it. `addr` gets the address to test.
Check check_resolver(const Options& o, std::optional<IpAddr>& addr);

struct PathInfo {
  core::Route route;
  IpAddr dst;
  IpAddr src;
  IpAddr nexthop;            // gateway, or the target itself on a connected route
  core::Link link;           // output interface
  uint32_t mtu = 1500;       // route MTU when set, else the interface's
  bool local = false;        // the target is an address of this host
};

// 2: route (ip route get, policy rules, interface state).
Check check_route(const IpAddr& dst, std::optional<PathInfo>& path);
// 3: neighbour (table state, a fresh ARP request or a kernel resolution).
Check check_neighbour(const PathInfo& path);

// 4 and 5: reachability and path, probed together (probe.cpp).
struct ProbeChecks {
  Check reachability, path;
  std::optional<Flow> flow;  // the TCP/UDP flow that was tried (ports filled)
  bool sent_blocked = false; // a send failed with EPERM: a local rule dropped it
};
ProbeChecks check_reachability_and_path(const Options& o, const PathInfo& path);

// 6: local policy: rules whose counters moved between `before` and now, and
// static matches of the flow; conntrack entries of the flow.
Check check_policy(const core::Result<core::nft::Ruleset>& before, const ProbeChecks& probes,
                   const PathInfo& path, const Options& o);

// nftables rule evaluation against one packet of the flow (policy.cpp, unit tested).
enum class Match { no, yes, maybe };
struct RuleEval {
  Match match = Match::maybe;
  std::string verdict;        // "drop", "reject", "accept", "jump NAME", "goto NAME", "" (none)
  bool counter = false;
  uint64_t packets = 0, bytes = 0;
  std::string text;           // nft-like description ("tcp dport 8080 counter drop")
};
// `reply`: evaluate the answer (addresses and ports swapped) instead of the request.
RuleEval evaluate_rule(const core::nft::Rule& rule, const Flow& flow, bool reply);

}  // namespace netshoot::applet::doctor

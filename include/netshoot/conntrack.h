// Connection tracking table through ctnetlink (NETLINK_NETFILTER,
// NFNL_SUBSYS_CTNETLINK): the entries, the entry count and the per-CPU statistics,
// as `conntrack -L`, `-C` and `-S` read them.
//
// Reads the calling thread's current network namespace; needs CAP_NET_ADMIN there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/result.h"

namespace netshoot::core::ct {

struct Tuple {
  IpAddr src, dst;
  uint8_t proto = 0;                      // IPPROTO_*
  std::optional<uint16_t> sport, dport;   // TCP, UDP, SCTP, DCCP, UDPLITE (host order)
  std::optional<uint8_t> icmp_type, icmp_code;
  std::optional<uint16_t> icmp_id;
};

struct Entry {
  int family = 0;            // AF_INET / AF_INET6 (nfgenmsg)
  Tuple orig, reply;
  uint32_t status = 0;       // IPS_* bits
  uint32_t timeout = 0;      // seconds left
  std::optional<uint8_t> tcp_state;  // TCP_CONNTRACK_*
  std::optional<uint32_t> mark;
  std::optional<uint32_t> use;
  std::optional<uint16_t> zone;
  uint32_t id = 0;
  // accounting (nf_conntrack_acct=1)
  std::optional<std::pair<uint64_t, uint64_t>> counters_orig, counters_reply;  // packets, bytes
};

// family AF_UNSPEC = IPv4 and IPv6. Errors get a hint when the kernel has no
// ctnetlink (nf_conntrack_netlink) at all.
Result<std::vector<Entry>> dump_entries(int family = 0);

// IPCTNL_MSG_CT_GET_STATS: CTA_STATS_GLOBAL_ENTRIES (and MAX_ENTRIES when given).
struct GlobalStats {
  uint32_t entries = 0;
  std::optional<uint32_t> max_entries;
};
Result<GlobalStats> global_stats();

// IPCTNL_MSG_CT_GET_STATS_CPU: per CPU, (CTA_STATS_* id, value) in attribute order.
struct CpuStats {
  uint16_t cpu = 0;
  std::vector<std::pair<uint16_t, uint32_t>> counters;
};
Result<std::vector<CpuStats>> cpu_stats();
// "found", "invalid", "insert", ... for a CTA_STATS_* id ("" for unknown ones).
std::string cpu_stat_name(uint16_t id);

// conntrack-tools' names: "ESTABLISHED", "SYN_SENT", ...; "tcp", "udp", "icmp", ...
std::string tcp_state_name(uint8_t state);
std::string proto_name(uint8_t proto);

}  // namespace netshoot::core::ct

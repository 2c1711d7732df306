// The probers: raw SYN (and -sn discovery), connect(), and UDP.
#pragma once

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine.h"
#include "netshoot/fd.h"

namespace netshoot::applet::scan {

// What every prober knows: targets, one family, the ports of one protocol.
struct ScanSet {
  std::vector<core::IpAddr> hosts;
  std::vector<uint16_t> ports;          // index = item % ports.size()
  std::unordered_map<core::IpAddr, uint32_t> host_index;
  std::vector<int32_t> port_index = std::vector<int32_t>(65536, -1);
  void index();
  int64_t item(const core::IpAddr& a, uint16_t port) const;  // -1 if not ours
};

core::Result<std::unique_ptr<Prober>> make_syn_prober(const ScanSet& s, int family);
core::Result<std::unique_ptr<Prober>> make_connect_prober(const ScanSet& s, int family, size_t* max_window);
core::Result<std::unique_ptr<Prober>> make_udp_prober(const ScanSet& s, int family);
// -sn: echo request + SYN to 443 + ACK to 80 (raw), or connect to 80/443 without root.
// Items are hosts (ports must be empty).
core::Result<std::unique_ptr<Prober>> make_discovery_prober(const ScanSet& s, int family, bool raw);

// ARP discovery (probe_arp.cpp): the interface, source address and MAC to ask from
// when `dst` is an IPv4 host directly connected over Ethernet (no gateway), else none.
struct ArpRoute {
  int ifindex = 0;
  core::IpAddr src;
  std::vector<uint8_t> mac;
};
std::optional<ArpRoute> arp_route(const core::IpAddr& dst);
// One of our own addresses (a local route): nmap reports it up, "localhost-response".
bool is_local_address(const core::IpAddr& dst);
// Items are hosts; routes[i] belongs to s.hosts[i]. Replies fill (*macs)[host].
core::Result<std::unique_ptr<Prober>> make_arp_prober(const ScanSet& s, std::vector<ArpRoute> routes,
                                                       std::vector<std::vector<uint8_t>>* macs);

// The UDP payload nmap-style services answer to (DNS, NTP, SNMP...), empty otherwise.
std::vector<uint8_t> udp_payload(uint16_t port);

}  // namespace netshoot::applet::scan

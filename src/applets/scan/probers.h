// The probers: raw SYN (and -sn discovery), connect(), and UDP, and the pool of
// privileged sockets they take theirs from.
#pragma once

#include <cstdint>
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

// The privileged sockets of one scan run (sockets.cpp). The run reserves every raw
// and packet socket its phases may use before the first probe (scan.cpp), then gives
// up CAP_NET_RAW and CAP_NET_ADMIN; each prober takes a socket of its own from the
// pool (ownership moves: no two probers ever share one, and the phases run one
// after the other). A reserved socket is parked with a drop-all socket filter, so
// nothing queues up on it while earlier phases run; take() removes the filter and
// empties the queue: the prober sees what a socket opened at that moment would.
// Buffer sizes above rmem_max/wmem_max (SO_RCVBUFFORCE, CAP_NET_ADMIN) are set by
// the openers, i.e. before the drop.
class SocketPool {
 public:
  enum class Use : uint8_t { probe_tcp, probe_icmp, connect_icmp, arp };
  using Opener = core::Result<core::UniqueFd> (*)(int family);
  SocketPool() = default;
  SocketPool(const SocketPool&) = delete;
  SocketPool& operator=(const SocketPool&) = delete;
  // Opens one socket for (use, family) now. An error is kept and handed to the
  // prober that takes it, which reports it as it would have when opening it.
  void reserve(Use use, int family, Opener open);
  // The oldest socket reserved for (use, family); without one (a phase nobody
  // planned for), one opened now.
  core::Result<core::UniqueFd> take(Use use, int family, Opener open);
  size_t reserved() const { return slots_.size(); }

 private:
  struct Slot {
    Use use;
    int family;
    core::Result<core::UniqueFd> fd;
  };
  std::vector<Slot> slots_;  // in reservation order
};

// What each kind of phase takes from the pool, reserved ahead (scan.cpp):
void reserve_raw_sockets(SocketPool& pool, int family);      // -sS, discovery as root: raw TCP + ICMP
void reserve_connect_sockets(SocketPool& pool, int family);  // -sT, discovery without root: raw ICMP (optional)
void reserve_arp_socket(SocketPool& pool);                   // ARP discovery: AF_PACKET

core::Result<std::unique_ptr<Prober>> make_syn_prober(const ScanSet& s, int family, SocketPool& pool);
core::Result<std::unique_ptr<Prober>> make_connect_prober(const ScanSet& s, int family, size_t* max_window,
                                                           SocketPool& pool);
core::Result<std::unique_ptr<Prober>> make_udp_prober(const ScanSet& s, int family);
// -sn: echo request + SYN to 443 + ACK to 80 (raw), or connect to 80/443 without root.
// Items are hosts (ports must be empty).
core::Result<std::unique_ptr<Prober>> make_discovery_prober(const ScanSet& s, int family, bool raw,
                                                             SocketPool& pool);

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
                                                       std::vector<std::vector<uint8_t>>* macs, SocketPool& pool);

// The UDP payload nmap-style services answer to (DNS, NTP, SNMP...), empty otherwise.
std::vector<uint8_t> udp_payload(uint16_t port);

}  // namespace netshoot::applet::scan

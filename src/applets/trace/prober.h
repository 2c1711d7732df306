// The probing sockets of one trace: send probe (id, flow) with a TTL, read whatever
// answers arrived. Privileged: raw sockets (ICMP errors from a raw ICMP socket, our
// own TCP SYNs, echo requests with our ids). Unprivileged: one UDP or ICMP "ping"
// socket per flow with IP_RECVERR, errors read from their error queues.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "netshoot/fd.h"
#include "trace.h"

namespace netshoot::applet::trace {

class Prober {
 public:
  using ReplyFn = std::function<void(const Reply&, const timespec& rx_time)>;

  static core::Result<std::unique_ptr<Prober>> open(const Options& o, const core::IpAddr& dst);

  const ProbeWire& wire() const { return wire_; }
  bool privileged() const { return privileged_; }
  // Ids are allocated modulo this (UDP --classic: the ports above the base).
  uint32_t id_space() const { return id_space_; }
  // Largest packet the first link takes (IP_MTU toward the target).
  int link_mtu() const { return link_mtu_; }
  std::vector<int> fds() const;

  // Sends one probe of `size` bytes (whole IP packet) with `ttl`. 0 or an errno.
  int send(uint16_t id, uint16_t flow, int ttl, int size, timespec& sent);
  // Reads everything queued on `fd` and reports each answer to one of our probes.
  void drain(int fd, const ReplyFn& fn);

 private:
  Prober() = default;
  void drain_errqueue(int fd, uint16_t flow, const ReplyFn& fn);

  ProbeWire wire_;
  bool privileged_ = false;
  int family_ = AF_INET;
  uint32_t id_space_ = 0x8000;
  int link_mtu_ = 1500;
  int last_ttl_ = -1;
  core::UniqueFd raw_icmp_;              // privileged: ICMP errors (and echo, for -I)
  core::UniqueFd raw_tcp_;               // privileged -T: SYNs out, SYN-ACK/RST in
  core::UniqueFd udp_;                   // privileged UDP probes
  std::vector<core::UniqueFd> per_flow_; // unprivileged: one socket per flow
  std::vector<int> flow_ttl_;
  std::vector<core::UniqueFd> port_holds_;  // TCP source ports kept reserved
};

}  // namespace netshoot::applet::trace

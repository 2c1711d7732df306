// Socket helpers for probers: raw and unprivileged ICMP sockets, receive metadata
// (kernel timestamps, TTL/hop limit, destination/interface, ICMP errors through
// IP_RECVERR), and the per-socket knobs ping/traceroute/scanners need.
//
// Setup calls return Status/Result with errno and context (and "needs CAP_NET_RAW"
// where a privilege is the likely cause). The per-packet calls (receive, send_to)
// return an errno value instead, so that EAGAIN on a hot path allocates nothing.
#pragma once

#include <sys/socket.h>
#include <time.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "netshoot/addr.h"
#include "netshoot/fd.h"
#include "netshoot/result.h"

namespace netshoot::core {

// ---- opening --------------------------------------------------------------------

// SOCK_RAW, nonblocking and close-on-exec. protocol: IPPROTO_ICMP, IPPROTO_ICMPV6,
// IPPROTO_TCP, IPPROTO_UDP, IPPROTO_RAW ... EPERM names CAP_NET_RAW.
Result<UniqueFd> open_raw_socket(int family, int protocol);
// Unprivileged ICMP "ping" socket (SOCK_DGRAM, IPPROTO_ICMP / IPPROTO_ICMPV6). The
// kernel fills in the echo id (the local "port") and the checksum. Needs the
// caller's group in net.ipv4.ping_group_range (the error says so).
Result<UniqueFd> open_ping_socket(int family);
// SOCK_DGRAM / SOCK_STREAM, nonblocking and close-on-exec.
Result<UniqueFd> open_udp_socket(int family);
Result<UniqueFd> open_tcp_socket(int family);

// Whether net.ipv4.ping_group_range covers our effective or a supplementary gid
// (the range applies to IPv6 ping sockets too). False if it cannot be read.
bool ping_sockets_allowed();
// The range itself, e.g. {1, 0} ("nobody") or {0, 2147483647}.
std::optional<std::pair<uint32_t, uint32_t>> ping_group_range();

// ---- options --------------------------------------------------------------------

Status set_nonblocking(int fd, bool on = true);
Status set_cloexec(int fd, bool on = true);
// SO_BINDTODEVICE. An unknown interface is reported as such (not a bare ENODEV).
Status bind_to_device(int fd, std::string_view ifname);
Status bind_to(int fd, const Endpoint& local);
// Unicast TTL / hop limit (IP_TTL / IPV6_UNICAST_HOPS) and the multicast one.
Status set_ttl(int fd, int family, int ttl);
Status set_multicast_ttl(int fd, int family, int ttl);
// IP_TOS / IPV6_TCLASS.
Status set_tos(int fd, int family, int tos);

enum class PmtuDisc {
  dont,   // never set DF, fragment locally
  want,   // use PMTU discovery per route (Linux default)
  do_,    // always set DF, EMSGSIZE when too big
  probe,  // set DF, ignore the PMTU (send as sized, for MTU probing)
};
Status set_pmtu_discover(int fd, int family, PmtuDisc mode);
// IP_HDRINCL for IPv4 raw sockets (the caller writes the IP header).
Status set_header_included(int fd, bool on = true);
// Raw ICMP sockets: deliver only these ICMP types (bit n = type n; types >= 32
// always pass for IPv4). For IPv6, `allow` lists the types to pass.
Status set_icmp_filter(int fd, uint32_t allowed_type_mask);
Status set_icmpv6_filter(int fd, std::span<const uint8_t> allow);
Status set_recv_buffer(int fd, int bytes);  // tries SO_RCVBUFFORCE first (root)
Status set_send_buffer(int fd, int bytes);

// Receive metadata to enable (bits).
enum RecvMeta : unsigned {
  meta_ttl = 1u << 0,        // IP_RECVTTL / IPV6_RECVHOPLIMIT
  meta_timestamp = 1u << 1,  // SO_TIMESTAMPNS (software, CLOCK_REALTIME)
  meta_errqueue = 1u << 2,   // IP_RECVERR / IPV6_RECVERR (ICMP errors via MSG_ERRQUEUE)
  meta_pktinfo = 1u << 3,    // IP_PKTINFO / IPV6_RECVPKTINFO (local address, ifindex)
  meta_tos = 1u << 4,        // IP_RECVTOS / IPV6_RECVTCLASS
  meta_all = 0x1f,
};
Status enable_recv_meta(int fd, int family, unsigned meta);
// SO_TIMESTAMPING with software RX (and optionally TX) timestamps. TX timestamps
// come back on the error queue (origin SO_EE_ORIGIN_TIMESTAMPING). Also enables
// SO_TIMESTAMPNS so that every received packet carries a stamp.
Status enable_timestamping(int fd, bool tx_software = false);

// ---- receiving ------------------------------------------------------------------

// An ICMP error (or other extended error) from the error queue.
struct ExtendedError {
  int error = 0;          // ee_errno: ECONNREFUSED, EHOSTUNREACH, EMSGSIZE, ...
  uint8_t origin = 0;     // SO_EE_ORIGIN_ICMP / ICMP6 / LOCAL / TIMESTAMPING
  uint8_t type = 0;       // ICMP type
  uint8_t code = 0;       // ICMP code
  uint32_t info = 0;      // e.g. the MTU for "fragmentation needed"
  uint32_t data = 0;
  std::optional<IpAddr> offender;  // the router/host that sent the ICMP error
  bool is_icmp() const;
};

struct RecvInfo {
  size_t length = 0;      // bytes stored in the buffer
  bool truncated = false; // MSG_TRUNC: the datagram was larger than the buffer
  std::optional<Endpoint> source;  // msg_name
  // Kernel receive time (CLOCK_REALTIME), from SO_TIMESTAMPNS or SO_TIMESTAMPING.
  std::optional<timespec> kernel_time;
  std::optional<timespec> hw_time;  // SO_TIMESTAMPING raw hardware stamp, when present
  int ttl = -1;           // TTL or hop limit of the received packet, -1 if unknown
  int tos = -1;           // TOS / traffic class, -1 if unknown
  std::optional<IpAddr> local;  // destination address of the packet (pktinfo)
  int ifindex = 0;              // receiving interface (pktinfo)
  std::optional<ExtendedError> ext_error;  // from IP_RECVERR (MSG_ERRQUEUE reads)
  bool from_errqueue = false;
};

// recvmsg() into buf, decoding the control messages. Returns 0 or an errno value
// (EAGAIN/EWOULDBLOCK when nothing is queued). flags: MSG_ERRQUEUE, MSG_DONTWAIT...
// No allocation.
int receive(int fd, std::span<uint8_t> buf, RecvInfo& info, int flags = 0) noexcept;
// Reads one entry of the error queue (MSG_ERRQUEUE): the ICMP error in
// info.ext_error, the offending packet's payload (as we sent it) in buf.
inline int receive_error(int fd, std::span<uint8_t> buf, RecvInfo& info) noexcept {
  return receive(fd, buf, info, MSG_ERRQUEUE | MSG_DONTWAIT);
}
// sendto(); returns 0 or an errno value. `to` may be null for connected sockets.
int send_to(int fd, std::span<const uint8_t> data, const Endpoint* to, int flags = 0) noexcept;

// timespec helpers
inline int64_t timespec_ns(const timespec& t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }
timespec realtime_now() noexcept;

}  // namespace netshoot::core

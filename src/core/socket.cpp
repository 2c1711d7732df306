// Socket helpers for probers.
#include "netshoot/socket.h"

#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace netshoot::core {

namespace {

const char* family_name(int family) {
  return family == AF_INET ? "AF_INET" : family == AF_INET6 ? "AF_INET6" : "AF_?";
}

std::string proto_name(int protocol) {
  switch (protocol) {
    case IPPROTO_ICMP: return "IPPROTO_ICMP";
    case IPPROTO_ICMPV6: return "IPPROTO_ICMPV6";
    case IPPROTO_TCP: return "IPPROTO_TCP";
    case IPPROTO_UDP: return "IPPROTO_UDP";
    case IPPROTO_RAW: return "IPPROTO_RAW";
    default: return std::to_string(protocol);
  }
}

Error bad_family(const char* what, int family) {
  errno = EAFNOSUPPORT;
  return os_error(std::string(what) + "(family " + std::to_string(family) + ")");
}

// From <linux/icmp.h>, which clashes with <net/if.h>.
constexpr int kIcmpFilter = 1;
struct IcmpFilter {
  uint32_t data;
};

bool valid_family(int family) { return family == AF_INET || family == AF_INET6; }

Status setopt(int fd, int level, int name, const void* v, socklen_t len, const char* what,
              const char* cap = nullptr) {
  if (::setsockopt(fd, level, name, v, len) < 0) return os_error(std::string("setsockopt(") + what + ")", cap);
  return {};
}

Status setopt_int(int fd, int level, int name, int v, const char* what, const char* cap = nullptr) {
  return setopt(fd, level, name, &v, sizeof v, what, cap);
}

Result<UniqueFd> open_socket(int family, int type, int protocol, const char* type_name,
                             const char* cap = nullptr) {
  if (!valid_family(family)) return bad_family("socket", family);
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0)
    return os_error(std::string("socket(") + family_name(family) + ", " + type_name + ", " +
                        proto_name(protocol) + ")",
                    cap);
  return UniqueFd(fd);
}

}  // namespace

// ---- opening --------------------------------------------------------------------

Result<UniqueFd> open_raw_socket(int family, int protocol) {
  return open_socket(family, SOCK_RAW, protocol, "SOCK_RAW", "CAP_NET_RAW");
}

std::optional<std::pair<uint32_t, uint32_t>> ping_group_range() {
  FILE* f = std::fopen("/proc/sys/net/ipv4/ping_group_range", "re");
  if (!f) return std::nullopt;
  unsigned long lo = 0, hi = 0;
  int n = std::fscanf(f, "%lu %lu", &lo, &hi);
  std::fclose(f);
  if (n != 2) return std::nullopt;
  return std::make_pair(uint32_t(lo), uint32_t(hi));
}

bool ping_sockets_allowed() {
  auto r = ping_group_range();
  if (!r) return false;
  auto in = [&](gid_t g) { return uint32_t(g) >= r->first && uint32_t(g) <= r->second; };
  if (in(::getegid())) return true;
  int n = ::getgroups(0, nullptr);
  if (n <= 0) return false;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  n = ::getgroups(n, groups.data());
  for (int i = 0; i < n; ++i)
    if (in(groups[size_t(i)])) return true;
  return false;
}

Result<UniqueFd> open_ping_socket(int family) {
  if (!valid_family(family)) return bad_family("socket", family);
  int proto = family == AF_INET ? int(IPPROTO_ICMP) : int(IPPROTO_ICMPV6);
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  if (fd >= 0) return UniqueFd(fd);
  Error err = os_error(std::string("socket(") + family_name(family) + ", SOCK_DGRAM, " + proto_name(proto) + ")");
  if (err.code == EACCES || err.code == EPERM) {
    auto r = ping_group_range();
    err.hint = "gid " + std::to_string(::getegid()) + " is not in net.ipv4.ping_group_range";
    if (r) err.hint += " (" + std::to_string(r->first) + " " + std::to_string(r->second) + ")";
    err.hint += "; widen it with sysctl, or use a raw socket (needs CAP_NET_RAW)";
  } else if (err.code == EPROTONOSUPPORT || err.code == EAFNOSUPPORT) {
    err.hint = "kernel without ICMP datagram sockets";
  }
  return err;
}

Result<UniqueFd> open_udp_socket(int family) {
  return open_socket(family, SOCK_DGRAM, IPPROTO_UDP, "SOCK_DGRAM");
}

Result<UniqueFd> open_tcp_socket(int family) {
  return open_socket(family, SOCK_STREAM, IPPROTO_TCP, "SOCK_STREAM");
}

// ---- options --------------------------------------------------------------------

Status set_nonblocking(int fd, bool on) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0) return os_error("fcntl(F_GETFL)");
  int nfl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  if (nfl != fl && ::fcntl(fd, F_SETFL, nfl) < 0) return os_error("fcntl(F_SETFL, O_NONBLOCK)");
  return {};
}

Status set_cloexec(int fd, bool on) {
  int fl = ::fcntl(fd, F_GETFD);
  if (fl < 0) return os_error("fcntl(F_GETFD)");
  int nfl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
  if (nfl != fl && ::fcntl(fd, F_SETFD, nfl) < 0) return os_error("fcntl(F_SETFD, FD_CLOEXEC)");
  return {};
}

Status bind_to_device(int fd, std::string_view ifname) {
  std::string name(ifname);
  if (name.empty() || name.size() >= IFNAMSIZ || ::if_nametoindex(name.c_str()) == 0) {
    Error e{ENODEV, "unknown interface '" + name + "'", {}};
    return e;
  }
  return setopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name.c_str(), socklen_t(name.size() + 1),
                ("SO_BINDTODEVICE, " + name).c_str(), "CAP_NET_RAW");
}

Status bind_to(int fd, const Endpoint& local) {
  sockaddr_storage ss;
  socklen_t len = local.to_sockaddr(ss);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
    return os_error("bind(" + local.to_string() + ")", local.port && local.port < 1024 ? "CAP_NET_BIND_SERVICE" : nullptr);
  return {};
}

Status set_ttl(int fd, int family, int ttl) {
  if (family == AF_INET) return setopt_int(fd, IPPROTO_IP, IP_TTL, ttl, "IP_TTL");
  if (family == AF_INET6) return setopt_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "IPV6_UNICAST_HOPS");
  return bad_family("set_ttl", family);
}

Status set_multicast_ttl(int fd, int family, int ttl) {
  if (family == AF_INET) return setopt_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL");
  if (family == AF_INET6)
    return setopt_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, ttl, "IPV6_MULTICAST_HOPS");
  return bad_family("set_multicast_ttl", family);
}

Status set_tos(int fd, int family, int tos) {
  if (family == AF_INET) return setopt_int(fd, IPPROTO_IP, IP_TOS, tos, "IP_TOS");
  if (family == AF_INET6) return setopt_int(fd, IPPROTO_IPV6, IPV6_TCLASS, tos, "IPV6_TCLASS");
  return bad_family("set_tos", family);
}

Status set_pmtu_discover(int fd, int family, PmtuDisc mode) {
  if (family == AF_INET) {
    int v = mode == PmtuDisc::dont ? IP_PMTUDISC_DONT
            : mode == PmtuDisc::want ? IP_PMTUDISC_WANT
            : mode == PmtuDisc::do_ ? IP_PMTUDISC_DO
                                    : IP_PMTUDISC_PROBE;
    return setopt_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, v, "IP_MTU_DISCOVER");
  }
  if (family == AF_INET6) {
    int v = mode == PmtuDisc::dont ? IPV6_PMTUDISC_DONT
            : mode == PmtuDisc::want ? IPV6_PMTUDISC_WANT
            : mode == PmtuDisc::do_ ? IPV6_PMTUDISC_DO
                                    : IPV6_PMTUDISC_PROBE;
    return setopt_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, v, "IPV6_MTU_DISCOVER");
  }
  return bad_family("set_pmtu_discover", family);
}

Status set_header_included(int fd, bool on) {
  return setopt_int(fd, IPPROTO_IP, IP_HDRINCL, on ? 1 : 0, "IP_HDRINCL", "CAP_NET_RAW");
}

Status set_icmp_filter(int fd, uint32_t allowed_type_mask) {
  IcmpFilter f{};
  f.data = ~allowed_type_mask;  // the kernel's mask lists the types to drop
  return setopt(fd, SOL_RAW, kIcmpFilter, &f, sizeof f, "ICMP_FILTER");
}

Status set_icmpv6_filter(int fd, std::span<const uint8_t> allow) {
  icmp6_filter f;
  ICMP6_FILTER_SETBLOCKALL(&f);
  for (uint8_t t : allow) ICMP6_FILTER_SETPASS(t, &f);
  return setopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f, "ICMP6_FILTER");
}

Status set_recv_buffer(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) == 0) return {};
  return setopt_int(fd, SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF");
}

Status set_send_buffer(int fd, int bytes) {
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) == 0) return {};
  return setopt_int(fd, SOL_SOCKET, SO_SNDBUF, bytes, "SO_SNDBUF");
}

Status enable_recv_meta(int fd, int family, unsigned meta) {
  if (!valid_family(family)) return bad_family("enable_recv_meta", family);
  const bool v4 = family == AF_INET;
  // On IPv6 sockets also ask for the IPv4 variants (v4-mapped traffic on dual-stack
  // sockets); those may fail on raw IPv6 sockets and are then ignored.
  auto both = [&](int v4name, int v6name, const char* n4, const char* n6) -> Status {
    if (v4) return setopt_int(fd, IPPROTO_IP, v4name, 1, n4);
    if (auto st = setopt_int(fd, IPPROTO_IPV6, v6name, 1, n6); !st) return st;
    int one = 1;
    (void)::setsockopt(fd, IPPROTO_IP, v4name, &one, sizeof one);
    return {};
  };
  if (meta & meta_ttl)
    if (auto st = both(IP_RECVTTL, IPV6_RECVHOPLIMIT, "IP_RECVTTL", "IPV6_RECVHOPLIMIT"); !st) return st;
  if (meta & meta_errqueue)
    if (auto st = both(IP_RECVERR, IPV6_RECVERR, "IP_RECVERR", "IPV6_RECVERR"); !st) return st;
  if (meta & meta_pktinfo)
    if (auto st = both(IP_PKTINFO, IPV6_RECVPKTINFO, "IP_PKTINFO", "IPV6_RECVPKTINFO"); !st) return st;
  if (meta & meta_tos)
    if (auto st = both(IP_RECVTOS, IPV6_RECVTCLASS, "IP_RECVTOS", "IPV6_RECVTCLASS"); !st) return st;
  if (meta & meta_timestamp)
    if (auto st = setopt_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS"); !st) return st;
  return {};
}

Status enable_timestamping(int fd, bool tx_software) {
  int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RAW_HARDWARE;
  if (tx_software) flags |= SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY | SOF_TIMESTAMPING_OPT_ID;
  if (auto st = setopt_int(fd, SOL_SOCKET, SO_TIMESTAMPING, flags, "SO_TIMESTAMPING"); !st) return st;
  // Also SO_TIMESTAMPNS: the kernel turns on RX stamping globally with a deferred
  // static key, so packets arriving right after enabling can lack a stamp; with
  // SO_TIMESTAMPNS set it then stamps them at receive time instead.
  return setopt_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS");
}

// ---- receiving ------------------------------------------------------------------

bool ExtendedError::is_icmp() const {
  return origin == SO_EE_ORIGIN_ICMP || origin == SO_EE_ORIGIN_ICMP6;
}

namespace {

void decode_ext_error(const cmsghdr* c, RecvInfo& info) {
  size_t avail = c->cmsg_len - CMSG_LEN(0);
  if (avail < sizeof(sock_extended_err)) return;
  sock_extended_err ee;
  std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
  ExtendedError x;
  x.error = int(ee.ee_errno);
  x.origin = ee.ee_origin;
  x.type = ee.ee_type;
  x.code = ee.ee_code;
  x.info = ee.ee_info;
  x.data = ee.ee_data;
  // The offender's sockaddr follows the struct (SO_EE_OFFENDER).
  size_t off_avail = avail - sizeof ee;
  const auto* sa = reinterpret_cast<const uint8_t*>(CMSG_DATA(c)) + sizeof ee;
  if (off_avail >= sizeof(sa_family_t) && (x.origin == SO_EE_ORIGIN_ICMP || x.origin == SO_EE_ORIGIN_ICMP6)) {
    sockaddr_storage ss{};
    std::memcpy(&ss, sa, std::min(off_avail, sizeof ss));
    if (auto ep = Endpoint::from_sockaddr(ss, socklen_t(std::min(off_avail, sizeof ss))))
      x.offender = ep->addr;
  }
  info.ext_error = x;
}

void decode_timespec(const cmsghdr* c, std::optional<timespec>& out) {
  if (c->cmsg_len < CMSG_LEN(sizeof(timespec))) return;
  timespec ts;
  std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
  out = ts;
}

int cmsg_int(const cmsghdr* c) {
  size_t len = c->cmsg_len - CMSG_LEN(0);
  if (len >= sizeof(int)) {
    int v;
    std::memcpy(&v, CMSG_DATA(c), sizeof v);
    return v;
  }
  if (len >= 1) return *reinterpret_cast<const uint8_t*>(CMSG_DATA(c));
  return -1;
}

}  // namespace

int receive(int fd, std::span<uint8_t> buf, RecvInfo& info, int flags) noexcept {
  sockaddr_storage from{};
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[1024];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(fd, &msg, flags);
  while (n < 0 && errno == EINTR);
  if (n < 0) return errno;

  info = RecvInfo{};
  info.length = size_t(n) > buf.size() ? buf.size() : size_t(n);
  info.truncated = msg.msg_flags & MSG_TRUNC;
  info.from_errqueue = flags & MSG_ERRQUEUE;
  if (msg.msg_namelen > 0) info.source = Endpoint::from_sockaddr(from, msg.msg_namelen);

  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET) {
      if (c->cmsg_type == SO_TIMESTAMPNS
#ifdef SO_TIMESTAMPNS_NEW
          || c->cmsg_type == SO_TIMESTAMPNS_NEW
#endif
      ) {
        decode_timespec(c, info.kernel_time);
      } else if (c->cmsg_type == SO_TIMESTAMPING
#ifdef SO_TIMESTAMPING_NEW
                 || c->cmsg_type == SO_TIMESTAMPING_NEW
#endif
      ) {
        if (c->cmsg_len >= CMSG_LEN(3 * sizeof(timespec))) {
          timespec ts[3];
          std::memcpy(ts, CMSG_DATA(c), sizeof ts);
          if (ts[0].tv_sec || ts[0].tv_nsec) info.kernel_time = ts[0];
          if (ts[2].tv_sec || ts[2].tv_nsec) info.hw_time = ts[2];
        }
      }
    } else if (c->cmsg_level == IPPROTO_IP) {
      switch (c->cmsg_type) {
        case IP_TTL: info.ttl = cmsg_int(c); break;
        case IP_TOS: info.tos = cmsg_int(c) & 0xff; break;
        case IP_PKTINFO:
          if (c->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
            in_pktinfo pi;
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            info.ifindex = pi.ipi_ifindex;
            info.local = IpAddr::from_in(pi.ipi_addr);
          }
          break;
        case IP_RECVERR: decode_ext_error(c, info); break;
        default: break;
      }
    } else if (c->cmsg_level == IPPROTO_IPV6) {
      switch (c->cmsg_type) {
        case IPV6_HOPLIMIT: info.ttl = cmsg_int(c); break;
        case IPV6_TCLASS: info.tos = cmsg_int(c) & 0xff; break;
        case IPV6_PKTINFO:
          if (c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
            in6_pktinfo pi;
            std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
            info.ifindex = int(pi.ipi6_ifindex);
            info.local = IpAddr::from_in6(pi.ipi6_addr);
          }
          break;
        case IPV6_RECVERR: decode_ext_error(c, info); break;
        default: break;
      }
    }
  }
  return 0;
}

int send_to(int fd, std::span<const uint8_t> data, const Endpoint* to, int flags) noexcept {
  sockaddr_storage ss;
  socklen_t len = 0;
  if (to) len = to->to_sockaddr(ss);
  ssize_t n;
  do n = ::sendto(fd, data.data(), data.size(), flags | MSG_NOSIGNAL,
                  to ? reinterpret_cast<sockaddr*>(&ss) : nullptr, len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? errno : 0;
}

timespec realtime_now() noexcept {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return t;
}

}  // namespace netshoot::core

// Unprivileged probers: -sT with many nonblocking connect() calls in flight, and
// -sU over one UDP socket whose IP_RECVERR error queue carries the ICMP port
// unreachables (no raw socket needed).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <unordered_map>

#include "netshoot/packet.h"
#include "netshoot/socket.h"
#include "probers.h"

namespace netshoot::applet::scan {

using core::IpAddr;

namespace {

// A raw ICMP socket watching for errors to our connect() calls (CAP_NET_RAW; none
// without it: the errors then come from the sockets themselves).
core::Result<core::UniqueFd> open_connect_icmp(int family) {
  return core::open_raw_socket(family, family == AF_INET ? int(IPPROTO_ICMP) : int(IPPROTO_ICMPV6));
}

class ConnectProber : public Prober {
 public:
  ConnectProber(const ScanSet& s, int family) : s_(s), family_(family), socks_(s.hosts.size() * s.ports.size(), -1) {}
  ~ConnectProber() override {
    for (int fd : socks_)
      if (fd >= 0) ::close(fd);
  }
  core::Status open(SocketPool& pool) {
    ep_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!ep_) return core::os_error("epoll_create1");
    // With CAP_NET_RAW, also watch ICMP errors on a raw socket: the kernel drops
    // an ICMP error for a socket that is locked by its connect() call
    // (TcpExtLockDroppedIcmps), which on a fast local path is the common case.
    if (auto r = pool.take(SocketPool::Use::connect_icmp, family_, open_connect_icmp)) {
      icmp_ = std::move(*r);
      if (family_ == AF_INET) {
        (void)core::set_icmp_filter(icmp_.get(), 1u << core::icmp4::dest_unreach);
      } else {
        uint8_t allow[] = {core::icmp6::dest_unreach};
        (void)core::set_icmpv6_filter(icmp_.get(), allow);
      }
    }
    return {};
  }
  int send(size_t item, int) override {
    size_t host = item / s_.ports.size();
    int fd = ::socket(family_, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno == EMFILE || errno == ENFILE ? EAGAIN : errno;
    linger lg{1, 0};  // close with RST: no TIME_WAIT pile-up over a -p- scan
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    sockaddr_storage ss{};
    socklen_t len = s_.hosts[host].to_sockaddr(s_.ports[item % s_.ports.size()], ss);
    int r = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    if (r == 0 || errno != EINPROGRESS) {
      pending_.push_back({item, r == 0 ? 0 : errno});
      ::close(fd);
      return 0;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = item;
    ::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd, &ev);
    socks_[item] = fd;
    if (icmp_) {
      sockaddr_storage ls{};
      socklen_t ll = sizeof ls;
      if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ls), &ll) == 0)
        if (auto ep = core::Endpoint::from_sockaddr(ls, ll)) by_lport_[ep->port] = item;
    }
    return 0;
  }
  void cancel(size_t item) override {
    if (socks_[item] >= 0) {
      if (icmp_) {
        sockaddr_storage ls{};
        socklen_t ll = sizeof ls;
        if (::getsockname(socks_[item], reinterpret_cast<sockaddr*>(&ls), &ll) == 0)
          if (auto ep = core::Endpoint::from_sockaddr(ls, ll)) by_lport_.erase(ep->port);
      }
      ::close(socks_[item]);  // also removes it from the epoll set
      socks_[item] = -1;
    }
  }
  void fds(std::vector<pollfd>& out) override {
    out.push_back({ep_.get(), POLLIN, 0});
    if (icmp_) out.push_back({icmp_.get(), POLLIN, 0});
  }
  void drain_icmp(Scheduler& s) {
    core::RecvInfo info;
    for (int k = 0; k < 1024; ++k) {
      if (core::receive(icmp_.get(), buf_, info, MSG_DONTWAIT) != 0) break;
      core::ConstBytes data(buf_.data(), info.length), l4;
      uint8_t type = 0, code = 0, proto = 0;
      IpAddr dst;
      if (family_ == AF_INET) {
        core::Ipv4View ip;
        core::IcmpView ic;
        core::Ipv4View q;
        if (core::Ipv4View::parse(data, ip) != core::PacketError::none ||
            core::IcmpView::parse(ip.payload(), ic) != core::PacketError::none ||
            ic.embedded(q) != core::PacketError::none)
          continue;
        type = ic.type(), code = ic.code(), proto = q.protocol(), dst = q.dst(), l4 = q.payload();
      } else {
        core::Icmpv6View ic;
        core::Ipv6View q;
        if (core::Icmpv6View::parse(data, ic) != core::PacketError::none || ic.embedded(q) != core::PacketError::none)
          continue;
        type = ic.type(), code = ic.code(), proto = q.upper_protocol(), dst = q.dst(), l4 = q.payload();
      }
      if (proto != core::ipproto::tcp || l4.size() < 4) continue;
      auto it = by_lport_.find(core::load_be16(l4.data()));
      if (it == by_lport_.end()) continue;
      size_t item = it->second;
      if (socks_[item] < 0 || s_.item(dst, core::load_be16(l4.data() + 2)) != int64_t(item)) continue;
      cancel(item);
      auto [st, r] = classify_connect(icmp_to_errno(family_ == AF_INET6, type, code));
      s.answer(item, st, r, -1, now_ns());
    }
  }
  void drain(Scheduler& s) override {
    if (icmp_) drain_icmp(s);
    int64_t when = now_ns();
    for (auto [item, err] : pending_) {
      auto [st, r] = classify_connect(err);
      s.answer(item, st, r, -1, when);
    }
    pending_.clear();
    epoll_event evs[512];
    for (;;) {
      int n = ::epoll_wait(ep_.get(), evs, 512, 0);
      if (n <= 0) break;
      when = now_ns();
      for (int i = 0; i < n; ++i) {
        size_t item = evs[i].data.u64;
        int fd = socks_[item];
        if (fd < 0) continue;
        int err = 0;
        socklen_t el = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err == ETIMEDOUT) continue;  // leave it to our own timeout
        cancel(item);
        auto [st, r] = classify_connect(err);
        s.answer(item, st, r, -1, when);
      }
      if (n < 512) break;
    }
  }

 private:
  const ScanSet& s_;
  int family_;
  core::UniqueFd ep_;
  std::vector<int> socks_;
  std::vector<std::pair<size_t, int>> pending_;
  core::UniqueFd icmp_;
  std::unordered_map<uint16_t, size_t> by_lport_;  // local port of an in-flight connect -> item
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(4096);
};

class UdpProber : public Prober {
 public:
  UdpProber(const ScanSet& s, int family) : s_(s), family_(family) {}
  core::Status open() {
    auto u = core::open_udp_socket(family_);
    if (!u) return u.error();
    fd_ = std::move(*u);
    if (auto st = core::enable_recv_meta(fd_.get(), family_, core::meta_errqueue | core::meta_ttl); !st) return st;
    (void)core::set_recv_buffer(fd_.get(), 8 << 20);
    return {};
  }
  int send(size_t item, int) override {
    size_t host = item / s_.ports.size();
    uint16_t port = s_.ports[item % s_.ports.size()];
    auto payload = udp_payload(port);
    core::Endpoint ep{s_.hosts[host], port};
    // A pending ICMP error (sk_err) of an earlier probe is reported by the next
    // sendto() instead of sending: that call consumed it, so send again.
    int e = 0;
    for (int i = 0; i < 8; ++i) {
      e = core::send_to(fd_.get(), payload, &ep, 0);
      if (e != ECONNREFUSED && e != EHOSTUNREACH && e != ENETUNREACH && e != EACCES && e != EPERM) break;
    }
    return e;
  }
  void fds(std::vector<pollfd>& out) override { out.push_back({fd_.get(), POLLIN | POLLERR, 0}); }
  void drain(Scheduler& s) override {
    core::RecvInfo info;
    for (int k = 0; k < 4096; ++k) {
      int e = core::receive(fd_.get(), buf_, info, MSG_DONTWAIT);
      if (e != 0 || !info.source) break;
      int64_t item = s_.item(info.source->addr.unmapped().with_scope(0), info.source->port);
      if (item >= 0) s.answer(size_t(item), PortState::open, Reason::udp_response, info.ttl, now_ns());
    }
    for (int k = 0; k < 4096; ++k) {
      if (core::receive_error(fd_.get(), buf_, info) != 0) break;
      if (!info.ext_error || !info.ext_error->is_icmp() || !info.source) continue;
      const auto& x = *info.ext_error;
      int64_t item = s_.item(info.source->addr.unmapped().with_scope(0), info.source->port);
      if (item < 0) continue;
      auto [st, r] = classify_icmp(family_ == AF_INET6, x.type, x.code, core::L4Proto::udp);
      s.answer(size_t(item), st, r, -1, now_ns());
    }
  }

 private:
  const ScanSet& s_;
  int family_;
  core::UniqueFd fd_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(65536);
};

}  // namespace

void reserve_connect_sockets(SocketPool& pool, int family) {
  pool.reserve(SocketPool::Use::connect_icmp, family, open_connect_icmp);
}

core::Result<std::unique_ptr<Prober>> make_connect_prober(const ScanSet& s, int family, size_t* max_window,
                                                           SocketPool& pool) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
    *max_window = rl.rlim_cur > 200 ? size_t(rl.rlim_cur - 100) : 64;
  }
  auto p = std::make_unique<ConnectProber>(s, family);
  if (auto st = p->open(pool); !st) return st.error();
  return std::unique_ptr<Prober>(std::move(p));
}

core::Result<std::unique_ptr<Prober>> make_udp_prober(const ScanSet& s, int family) {
  auto p = std::make_unique<UdpProber>(s, family);
  if (auto st = p->open(); !st) return st.error();
  return std::unique_ptr<Prober>(std::move(p));
}

std::vector<uint8_t> udp_payload(uint16_t port) {
  switch (port) {
    case 53:  // DNS: standard query, "." NS? (id 0x1234, RD)
      return {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01};
    case 123: {  // NTP v4 client request
      std::vector<uint8_t> v(48, 0);
      v[0] = 0xe3;
      return v;
    }
    case 161:  // SNMPv1 get-request, community "public", sysDescr.0
      return {0x30, 0x26, 0x02, 0x01, 0x00, 0x04, 0x06, 'p',  'u',  'b',  'l',  'i',  'c',  0xa0,
              0x19, 0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c,
              0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00};
    default:
      return {};
  }
}

}  // namespace netshoot::applet::scan

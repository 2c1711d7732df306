// Raw probers: -sS SYN scan and -sn discovery with our own packets. Replies
// (SYN-ACK, RST, ICMP unreachables quoting our probe) come in on raw TCP and ICMP
// sockets; the kernel answers SYN-ACKs with RST itself since no socket owns them.
#include <netinet/in.h>
#include <sys/socket.h>

#include <poll.h>
#include <sys/uio.h>

#include <cerrno>
#include <random>

#include "netshoot/netlink.h"
#include "netshoot/packet.h"
#include "netshoot/socket.h"
#include "probers.h"

namespace netshoot::applet::scan {

using core::IpAddr;

void ScanSet::index() {
  host_index.clear();
  for (uint32_t i = 0; i < hosts.size(); ++i) host_index.emplace(hosts[i], i);
  std::fill(port_index.begin(), port_index.end(), -1);
  for (size_t i = 0; i < ports.size(); ++i) port_index[ports[i]] = int32_t(i);
}

int64_t ScanSet::item(const IpAddr& a, uint16_t port) const {
  auto h = host_index.find(a);
  if (h == host_index.end()) return -1;
  int32_t pi = port_index[port];
  if (pi < 0) return -1;
  return int64_t(h->second) * int64_t(ports.size()) + pi;
}

namespace {

// The raw sockets of a RawProber, with their buffers (beyond rmem_max: CAP_NET_ADMIN).
core::Result<core::UniqueFd> open_probe_tcp(int family) {
  auto t = core::open_raw_socket(family, IPPROTO_TCP);
  if (!t) return t;
  (void)core::set_recv_buffer(t->get(), 32 << 20);
  (void)core::set_send_buffer(t->get(), 4 << 20);
  return t;
}

core::Result<core::UniqueFd> open_probe_icmp(int family) {
  auto i = core::open_raw_socket(family, family == AF_INET ? int(IPPROTO_ICMP) : int(IPPROTO_ICMPV6));
  if (!i) return i;
  (void)core::set_recv_buffer(i->get(), 8 << 20);
  return i;
}

class RawProber : public Prober {
 public:
  RawProber(const ScanSet& s, int family, bool discovery) : s_(s), family_(family), discovery_(discovery) {}

  core::Status open(SocketPool& pool) {
    auto t = pool.take(SocketPool::Use::probe_tcp, family_, open_probe_tcp);
    if (!t) return t.error();
    tcp_ = std::move(*t);
    auto i = pool.take(SocketPool::Use::probe_icmp, family_, open_probe_icmp);
    if (!i) return i.error();
    icmp_ = std::move(*i);
    if (family_ == AF_INET6) {
      (void)core::enable_recv_meta(tcp_.get(), AF_INET6, core::meta_ttl);
      (void)core::enable_recv_meta(icmp_.get(), AF_INET6, core::meta_ttl);
      uint8_t allow[] = {core::icmp6::dest_unreach, core::icmp6::time_exceeded, core::icmp6::echo_reply};
      (void)core::set_icmpv6_filter(icmp_.get(), allow);
    } else {
      (void)core::set_icmp_filter(icmp_.get(), 1u << core::icmp4::dest_unreach | 1u << core::icmp4::time_exceeded |
                                                   1u << core::icmp4::echo_reply);
    }
    if (s_.hosts.size() == 1 && !discovery_) {
      // one target: a connected raw socket skips the route lookup per packet and
      // sees only that host's packets
      sockaddr_storage ss{};
      socklen_t l = s_.hosts[0].to_sockaddr(0, ss);
      if (::connect(tcp_.get(), reinterpret_cast<sockaddr*>(&ss), l) == 0) connected_ = true;
    }
    std::random_device rd;
    std::mt19937_64 rng(rd());
    sport_ = uint16_t(33000 + rng() % 28000);
    secret_ = uint32_t(rng());
    echo_id_ = uint16_t(rng());
    for (auto& h : s_.hosts) {
      auto r = core::route_get(h);
      if (!r) return core::Error{r.error().code, "no route to " + h.to_string(), {}};
      IpAddr src = r->prefsrc ? *r->prefsrc : (h.is_loopback() ? h : IpAddr::any(family_));
      srcs_.push_back(src);
    }
    return {};
  }

  static constexpr unsigned kPortSpan = 8;  // source ports sport_ .. sport_+7, one per try
  bool our_port(uint16_t p) const { return uint16_t(p - sport_) < kPortSpan; }

  uint32_t cookie(const IpAddr& a, uint16_t port) const {
    return uint32_t(a.hash()) * 2654435761u ^ (uint32_t(port) << 16 | port) ^ secret_;
  }

  int send_tcp(size_t host, uint16_t dport, uint8_t flags, uint16_t sport) {
    const IpAddr& dst = s_.hosts[host];
    uint8_t opts[4] = {core::tcpopt::mss, 4, 0x05, 0xb4};  // MSS 1460, like nmap's SYN
    core::TcpFields f;
    f.src_port = sport;
    f.dst_port = dport;
    f.seq = cookie(dst, dport);
    f.ack = flags & core::tcpflag::ack ? f.seq ^ 0x5a5a5a5a : 0;
    f.flags = flags;
    f.window = 1024;
    f.options = core::ConstBytes(opts, 4);
    // queued and sent in batches with sendmmsg (flushed before every wait / read)
    if (nq_ == kBatch) flush();
    Slot& sl = q_[nq_];
    size_t n = core::write_tcp(core::MutableBytes(sl.pkt, sizeof sl.pkt), srcs_[host], dst, f, {});
    sl.iov = {sl.pkt, n};
    sl.salen = dst.to_sockaddr(0, sl.sa);
    mm_[nq_] = {};
    mm_[nq_].msg_hdr.msg_name = connected_ ? nullptr : &sl.sa;
    mm_[nq_].msg_hdr.msg_namelen = connected_ ? 0 : sl.salen;
    mm_[nq_].msg_hdr.msg_iov = &sl.iov;
    mm_[nq_].msg_hdr.msg_iovlen = 1;
    ++nq_;
    return 0;
  }

  void flush() {
    size_t off = 0;
    while (off < nq_) {
      int r = ::sendmmsg(tcp_.get(), mm_ + off, unsigned(nq_ - off), 0);
      if (r <= 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS || errno == EAGAIN) {  // back off briefly; lost ones are retried on timeout
          pollfd p{tcp_.get(), POLLOUT, 0};
          ::poll(&p, 1, 1);
          continue;
        }
        break;
      }
      off += size_t(r);
    }
    nq_ = 0;
  }

  int send(size_t item, int attempt) override {
    if (discovery_) {
      size_t host = item;
      const IpAddr& dst = s_.hosts[host];
      uint8_t buf[64];
      uint8_t payload[8] = {};
      size_t n = family_ == AF_INET
                     ? core::write_icmp_echo(core::MutableBytes(buf, sizeof buf), echo_id_, uint16_t(attempt),
                                             core::ConstBytes(payload, 0))
                     : core::write_icmpv6_echo(core::MutableBytes(buf, sizeof buf), srcs_[host], dst, echo_id_,
                                               uint16_t(attempt), core::ConstBytes(payload, 0));
      core::Endpoint ep{dst, 0};
      int e = core::send_to(icmp_.get(), core::ConstBytes(buf, n), &ep, 0);
      if (e == EAGAIN || e == ENOBUFS) return e;
      send_tcp(host, 443, core::tcpflag::syn, sport_);
      send_tcp(host, 80, core::tcpflag::ack, sport_);
      return 0;
    }
    size_t host = item / s_.ports.size();
    // A retry comes from the next source port, as nmap's tries do: an identical SYN
    // would meet the target's half-open connection, whose SYN-ACK retransmissions
    // Linux rate-limits (one per 0.5 s), so a lost SYN-ACK made an open port look
    // filtered under loss.
    uint16_t sport = uint16_t(sport_ + unsigned(attempt < 0 ? 0 : attempt) % kPortSpan);
    return send_tcp(host, s_.ports[item % s_.ports.size()], core::tcpflag::syn, sport);
  }

  int packets_per_send() const override { return discovery_ ? 3 : 1; }

  void fds(std::vector<pollfd>& out) override {
    flush();
    out.push_back({tcp_.get(), POLLIN, 0});
    out.push_back({icmp_.get(), POLLIN, 0});
  }

  int64_t match(const IpAddr& a, uint16_t port) const {
    if (!discovery_) return s_.item(a, port);
    auto h = s_.host_index.find(a);
    return h == s_.host_index.end() ? -1 : int64_t(h->second);
  }

  void drain(Scheduler& s) override {
    flush();
    core::RecvInfo info;
    if (family_ == AF_INET) {
      // IPv4 raw sockets deliver the IP header (source, TTL): no control messages
      // needed, so read in batches with recvmmsg
      for (int k = 0; k < 64; ++k) {
        for (size_t i = 0; i < kRecvBatch; ++i) {
          riov_[i] = {rbuf_[i], sizeof rbuf_[i]};
          rmm_[i] = {};
          rmm_[i].msg_hdr.msg_iov = &riov_[i];
          rmm_[i].msg_hdr.msg_iovlen = 1;
        }
        int n = ::recvmmsg(tcp_.get(), rmm_, kRecvBatch, MSG_DONTWAIT, nullptr);
        if (n <= 0) break;
        int64_t when = now_ns();
        for (int i = 0; i < n; ++i) handle_tcp4(s, core::ConstBytes(rbuf_[i], std::min<size_t>(rmm_[i].msg_len, sizeof rbuf_[i])), when);
        if (size_t(n) < kRecvBatch) break;
      }
    }
    for (int k = 0; k < 4096 && family_ == AF_INET6; ++k) {
      if (core::receive(tcp_.get(), buf_, info, MSG_DONTWAIT) != 0) break;
      int64_t when = now_ns();
      core::ConstBytes tcpb;
      IpAddr src;
      int ttl = info.ttl;
      {
        if (!info.source) continue;
        src = info.source->addr.with_scope(0);
        tcpb = core::ConstBytes(buf_.data(), info.length);
      }
      core::TcpView t;
      if (core::TcpView::parse(tcpb, t) != core::PacketError::none) continue;
      if (!our_port(t.dst_port())) continue;
      int64_t item = match(src, discovery_ ? 0 : t.src_port());
      if (item < 0) continue;
      if (t.has(core::tcpflag::ack) && !discovery_ && t.ack() != cookie(src, t.src_port()) + 1) continue;
      if (discovery_) {
        bool syn_ack = t.has(core::tcpflag::syn | core::tcpflag::ack);
        s.answer(size_t(item), PortState::open, syn_ack ? Reason::syn_ack : Reason::reset, ttl, when);
        continue;
      }
      auto c = classify_tcp_flags(t.flags());
      if (!c) continue;
      s.answer(size_t(item), c->first, c->second, ttl, when);
    }
    drain_icmp(s);
  }

  void handle_tcp4(Scheduler& s, core::ConstBytes pkt, int64_t when) {
    core::Ipv4View ip;
    if (core::Ipv4View::parse(pkt, ip) != core::PacketError::none || ip.protocol() != core::ipproto::tcp) return;
    core::TcpView t;
    if (core::TcpView::parse(ip.payload(), t) != core::PacketError::none || !our_port(t.dst_port())) return;
    IpAddr src = ip.src();
    int64_t item = match(src, discovery_ ? 0 : t.src_port());
    if (item < 0) return;
    if (t.has(core::tcpflag::ack) && !discovery_ && t.ack() != cookie(src, t.src_port()) + 1) return;
    if (discovery_) {
      bool syn_ack = t.has(core::tcpflag::syn | core::tcpflag::ack);
      s.answer(size_t(item), PortState::open, syn_ack ? Reason::syn_ack : Reason::reset, ip.ttl(), when);
      return;
    }
    if (auto c = classify_tcp_flags(t.flags())) s.answer(size_t(item), c->first, c->second, ip.ttl(), when);
  }

  void drain_icmp(Scheduler& s) {
    core::RecvInfo info;
    for (int k = 0; k < 4096; ++k) {
      if (core::receive(icmp_.get(), buf_, info, MSG_DONTWAIT) != 0) break;
      int64_t when = now_ns();
      handle_icmp(s, info, when);
    }
  }

  void handle_icmp(Scheduler& s, const core::RecvInfo& info, int64_t when) {
    core::ConstBytes data(buf_.data(), info.length);
    int ttl = info.ttl;
    IpAddr from;
    uint8_t type, code;
    core::ConstBytes quoted_l4;
    IpAddr quoted_dst;
    uint8_t quoted_proto;
    if (family_ == AF_INET) {
      core::Ipv4View ip;
      if (core::Ipv4View::parse(data, ip) != core::PacketError::none) return;
      ttl = ip.ttl();
      from = ip.src();
      core::IcmpView ic;
      if (core::IcmpView::parse(ip.payload(), ic) != core::PacketError::none) return;
      type = ic.type(), code = ic.code();
      if (type == core::icmp4::echo_reply) {
        if (discovery_ && ic.echo_id() == echo_id_) {
          if (auto h = s_.host_index.find(from); h != s_.host_index.end())
            s.answer(h->second, PortState::open, Reason::echo_reply, ttl, when);
        }
        return;
      }
      core::Ipv4View q;
      if (ic.embedded(q) != core::PacketError::none) return;
      quoted_l4 = q.payload(), quoted_dst = q.dst(), quoted_proto = q.protocol();
    } else {
      if (!info.source) return;
      from = info.source->addr.with_scope(0);
      core::Icmpv6View ic;
      if (core::Icmpv6View::parse(data, ic) != core::PacketError::none) return;
      type = ic.type(), code = ic.code();
      if (type == core::icmp6::echo_reply) {
        if (discovery_ && ic.echo_id() == echo_id_) {
          if (auto h = s_.host_index.find(from); h != s_.host_index.end())
            s.answer(h->second, PortState::open, Reason::echo_reply, ttl, when);
        }
        return;
      }
      core::Ipv6View q;
      if (ic.embedded(q) != core::PacketError::none) return;
      quoted_l4 = q.payload(), quoted_dst = q.dst(), quoted_proto = q.upper_protocol();
    }
    if (quoted_proto != core::ipproto::tcp || quoted_l4.size() < 4) return;
    uint16_t qs = core::load_be16(quoted_l4.data()), qd = core::load_be16(quoted_l4.data() + 2);
    if (!our_port(qs)) return;
    int64_t item = match(quoted_dst, qd);
    if (item < 0) return;
    auto [st, r] = classify_icmp(family_ == AF_INET6, type, code, core::L4Proto::tcp);
    if (discovery_) {
      // an unreachable from the target itself still proves it is up; from a router it does not
      if (from == quoted_dst) s.answer(size_t(item), PortState::open, r, ttl, when);
      return;
    }
    s.answer(size_t(item), st, r, ttl, when);
  }

 private:
  const ScanSet& s_;
  int family_;
  bool discovery_;
  core::UniqueFd tcp_, icmp_;
  std::vector<IpAddr> srcs_;
  uint16_t sport_ = 0, echo_id_ = 0;
  uint32_t secret_ = 0;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(65536);
  static constexpr size_t kBatch = 64;
  struct Slot {
    uint8_t pkt[64];
    iovec iov;
    sockaddr_storage sa;
    socklen_t salen;
  };
  Slot q_[kBatch];
  mmsghdr mm_[kBatch];
  size_t nq_ = 0;
  bool connected_ = false;
  static constexpr size_t kRecvBatch = 64;
  uint8_t rbuf_[kRecvBatch][256];
  iovec riov_[kRecvBatch];
  mmsghdr rmm_[kRecvBatch];
};

}  // namespace

void reserve_raw_sockets(SocketPool& pool, int family) {
  pool.reserve(SocketPool::Use::probe_tcp, family, open_probe_tcp);
  pool.reserve(SocketPool::Use::probe_icmp, family, open_probe_icmp);
}

core::Result<std::unique_ptr<Prober>> make_syn_prober(const ScanSet& s, int family, SocketPool& pool) {
  auto p = std::make_unique<RawProber>(s, family, false);
  if (auto st = p->open(pool); !st) return st.error();
  return std::unique_ptr<Prober>(std::move(p));
}

core::Result<std::unique_ptr<Prober>> make_discovery_prober(const ScanSet& s, int family, bool raw,
                                                             SocketPool& pool) {
  if (!raw) {
    size_t w = 0;
    return make_connect_prober(s, family, &w, pool);
  }
  auto p = std::make_unique<RawProber>(s, family, true);
  if (auto st = p->open(pool); !st) return st.error();
  return std::unique_ptr<Prober>(std::move(p));
}

}  // namespace netshoot::applet::scan

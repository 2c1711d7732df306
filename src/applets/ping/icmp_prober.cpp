// ICMP echo prober: raw sockets (we see every ICMP message of the namespace, so
// replies and errors are matched by our random identifier), or unprivileged ICMP
// datagram sockets (the kernel assigns the identifier = local port, and ICMP errors
// come through the error queue). Receive times are kernel timestamps.
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/time.h>

#include <cstring>

#include "netshoot/caps.h"
#include "netshoot/log.h"
#include "netshoot/packet.h"
#include "prober.h"
#include "options.h"

namespace netshoot::applet::ping {
namespace {

using core::ConstBytes;
using core::IpAddr;

constexpr size_t kTimestampBytes = sizeof(timeval);

struct Sock {
  core::UniqueFd fd;
  int family = 0;
  bool raw = false;
  uint16_t id = 0;
};

struct Slot {
  uint32_t target = 0, probe = 0;
  int64_t sent_ns = 0;
  uint8_t state = 0;  // 0 free, 1 sent, 2 answered
};

uint16_t random_id() {
  uint16_t v = 0;
  if (::getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v) v = uint16_t(::getpid() ^ ::time(nullptr));
  return v;
}

class IcmpProber final : public Prober {
 public:
  IcmpProber(core::EventLoop& loop, const ProberConfig& cfg, Handler h)
      : loop_(loop), cfg_(cfg), handler_(std::move(h)), slots_(65536), next_seq_(cfg.first_seq) {
    pkt_.resize(cfg.size + 64);
    payload_.resize(cfg.size);
    fill_payload(payload_.data(), payload_.size(), cfg.pattern);
    rx_.resize(65536 + 512);
  }
  ~IcmpProber() override {
    for (Sock* s : {&v4_, &v6_})
      if (s->fd) (void)loop_.remove_fd(s->fd.get());
  }

  core::Status open(int family);

  Sent send(uint32_t target, uint32_t probe, const IpAddr& dst) override {
    Sock& s = dst.is_v4() ? v4_ : v6_;
    if (!s.fd) return {EAFNOSUPPORT, 0};
    uint16_t seq = next_seq_;
    timespec now = core::realtime_now();
    if (payload_.size() >= kTimestampBytes) {
      timeval tv{now.tv_sec, now.tv_nsec / 1000};
      std::memcpy(payload_.data(), &tv, sizeof tv);
    }
    size_t n = dst.is_v4()
                   ? core::write_icmp_echo(pkt_, s.id, seq, payload_)
                   : core::write_icmpv6_echo(pkt_, IpAddr::any(AF_INET6), dst, s.id, seq, payload_);
    core::Endpoint to{dst, 0};
    int err = core::send_to(s.fd.get(), {pkt_.data(), n}, &to);
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ENOMEM) return {err, seq};
    ++next_seq_;
    Slot& sl = slots_[seq];
    sl = Slot{target, probe, core::timespec_ns(now), uint8_t(err ? 0 : 1)};
    return {err, seq};
  }

  void forget(uint16_t seq) override {}  // late replies still count (iputils does too)

  std::string describe() const override {
    std::string out;
    for (const Sock* s : {&v4_, &v6_}) {
      if (!s->fd) continue;
      if (!out.empty()) out += ", ";
      out += s->family == AF_INET ? "IPv4 " : "IPv6 ";
      out += s->raw ? "raw ICMP socket (CAP_NET_RAW), id " + std::to_string(s->id)
                    : "ICMP datagram socket (unprivileged, net.ipv4.ping_group_range), id " + std::to_string(s->id);
    }
    return out;
  }
  bool timed() const override { return cfg_.size >= kTimestampBytes; }

 private:
  void drain(Sock& s);
  void handle_reply_or_error(Sock& s, ConstBytes icmp, const IpAddr& from, int ttl, const core::RecvInfo& info);
  void handle_errqueue(Sock& s, const core::RecvInfo& info);
  void emit_reply(Sock& s, uint16_t seq, ConstBytes icmp, bool csum_ok, const IpAddr& from, int ttl,
                  const core::RecvInfo& info);
  void emit_error(uint16_t seq, const IpAddr& from, uint8_t type, uint8_t code, uint32_t info, bool v6,
                  const core::RecvInfo& ri);
  static timespec when(const core::RecvInfo& info) {
    return info.kernel_time ? *info.kernel_time : core::realtime_now();
  }

  core::EventLoop& loop_;
  ProberConfig cfg_;
  Handler handler_;
  Sock v4_, v6_;
  std::vector<Slot> slots_;
  uint16_t next_seq_;
  std::vector<uint8_t> pkt_, payload_, rx_;
};

core::Status IcmpProber::open(int family) {
  Sock& s = family == AF_INET ? v4_ : v6_;
  s.family = family;
  int proto = family == AF_INET ? int(IPPROTO_ICMP) : int(IPPROTO_ICMPV6);
  auto raw = core::open_raw_socket(family, proto);
  if (raw) {
    s.fd = std::move(*raw);
    s.raw = true;
    s.id = random_id();
  } else {
    auto dgram = core::open_ping_socket(family);
    if (!dgram) {
      core::Error e = dgram.error();
      e.context = "socket: " + std::string(std::strerror(raw.error().code)) + " (raw ICMP needs CAP_NET_RAW); " +
                  e.context;
      e.code = dgram.error().code;
      return e;
    }
    s.fd = std::move(*dgram);
    s.raw = false;
  }
  int fd = s.fd.get();
  if (s.raw) {
    if (family == AF_INET) {
      uint32_t allow = 1u << core::icmp4::echo_reply | 1u << 3 | 1u << 4 | 1u << 5 | 1u << 11 | 1u << 12;
      if (auto st = core::set_icmp_filter(fd, allow); !st) spdlog::debug("{}", st.error().message());
    } else {
      const uint8_t allow[] = {core::icmp6::echo_reply, 1, 2, 3, 4};
      if (auto st = core::set_icmpv6_filter(fd, allow); !st) spdlog::debug("{}", st.error().message());
    }
  }
  unsigned meta = core::meta_ttl | core::meta_timestamp | (s.raw ? 0u : unsigned(core::meta_errqueue));
  if (auto st = core::enable_recv_meta(fd, family, meta); !st) return st;
  (void)core::set_recv_buffer(fd, 4 << 20);
  // Probes to unresolved neighbours stay charged to the socket until ARP answers or
  // fails (~3 s): a sweep needs a large send buffer, or sends fail with ENOBUFS.
  (void)core::set_send_buffer(fd, 4 << 20);
  if (!cfg_.interface.empty())
    if (auto st = apply_interface(fd, family, cfg_.interface); !st) return st;
  if (cfg_.ttl >= 0)
    if (auto st = core::set_ttl(fd, family, cfg_.ttl); !st) return st;
  if (cfg_.tos >= 0)
    if (auto st = core::set_tos(fd, family, cfg_.tos); !st) return st;
  if (cfg_.pmtu)
    if (auto st = core::set_pmtu_discover(fd, family, *cfg_.pmtu); !st) return st;
  if (!s.raw) {
    // The kernel picks the identifier when the socket is bound (port 0 = any).
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      auto ep = core::Endpoint::from_sockaddr(ss, len);
      if (ep && ep->port == 0) {
        socklen_t blen = ep->addr.to_sockaddr(0, ss);
        (void)::bind(fd, reinterpret_cast<sockaddr*>(&ss), blen);
        len = sizeof ss;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
          ep = core::Endpoint::from_sockaddr(ss, len);
      }
      if (ep) s.id = ep->port;
    }
  }
  return loop_.add_fd(fd, EPOLLIN, [this, &s](uint32_t) { drain(s); });
}

void IcmpProber::drain(Sock& s) {
  for (int i = 0; i < 256; ++i) {  // bounded: let timers run in a flood of replies
    core::RecvInfo info;
    int err = core::receive(s.fd.get(), rx_, info, MSG_DONTWAIT);
    if (err) break;
    ConstBytes data{rx_.data(), info.length};
    if (s.family == AF_INET && s.raw) {
      core::Ipv4View ip;
      if (core::Ipv4View::parse(data, ip) != core::PacketError::none) continue;
      handle_reply_or_error(s, ip.payload(), ip.src(), ip.ttl(), info);
    } else {
      IpAddr from = info.source ? info.source->addr.unmapped() : IpAddr::any(s.family);
      handle_reply_or_error(s, data, from, info.ttl, info);
    }
  }
  for (int i = 0; i < 256; ++i) {
    core::RecvInfo info;
    if (core::receive_error(s.fd.get(), rx_, info) != 0) break;
    handle_errqueue(s, info);
  }
  int soerr = 0;
  socklen_t len = sizeof soerr;
  (void)::getsockopt(s.fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &len);  // clears a pending error
}

void IcmpProber::handle_reply_or_error(Sock& s, ConstBytes icmp, const IpAddr& from, int ttl,
                                       const core::RecvInfo& info) {
  if (s.family == AF_INET) {
    core::IcmpView v;
    if (core::IcmpView::parse(icmp, v) != core::PacketError::none) return;
    if (v.type() == core::icmp4::echo_reply) {
      if (v.echo_id() != s.id) return;
      emit_reply(s, v.echo_seq(), icmp, !s.raw || v.checksum_ok(), from, ttl, info);
      return;
    }
    if (!v.is_error()) return;
    core::Ipv4View inner;
    if (v.embedded(inner) != core::PacketError::none || inner.protocol() != core::ipproto::icmp) return;
    ConstBytes q = inner.payload();
    if (q.size() < 8 || q[0] != core::icmp4::echo_request || core::load_be16(q.data() + 4) != s.id) return;
    emit_error(core::load_be16(q.data() + 6), from, v.type(), v.code(), v.rest_of_header(), false, info);
    return;
  }
  core::Icmpv6View v;
  if (core::Icmpv6View::parse(icmp, v) != core::PacketError::none) return;
  if (v.type() == core::icmp6::echo_reply) {
    if (v.echo_id() != s.id) return;
    emit_reply(s, v.echo_seq(), icmp, true, from, ttl, info);  // the kernel checks ICMPv6 sums
    return;
  }
  if (!v.is_error()) return;
  core::Ipv6View inner;
  if (v.embedded(inner) != core::PacketError::none || inner.upper_protocol() != core::ipproto::icmpv6) return;
  ConstBytes q = inner.payload();
  if (q.size() < 8 || q[0] != core::icmp6::echo_request || core::load_be16(q.data() + 4) != s.id) return;
  emit_error(core::load_be16(q.data() + 6), from, v.type(), v.code(), v.mtu(), true, info);
}

void IcmpProber::handle_errqueue(Sock& s, const core::RecvInfo& info) {
  if (!info.ext_error || info.length < 8) return;
  const auto& ee = *info.ext_error;
  uint16_t seq = core::load_be16(rx_.data() + 6);  // our echo request, as sent
  if (!s.raw && core::load_be16(rx_.data() + 4) != s.id && s.id != 0) return;
  IpAddr from = ee.offender ? ee.offender->unmapped() : IpAddr::any(s.family);
  if (ee.is_icmp()) {
    emit_error(seq, from, ee.type, ee.code, ee.info, s.family == AF_INET6, info);
    return;
  }
  Slot& sl = slots_[seq];
  if (sl.state == 0) return;
  ProbeEvent ev;
  ev.kind = EventKind::local_error;
  ev.target = sl.target, ev.probe = sl.probe, ev.seq = seq;
  ev.err = ee.error;
  ev.icmp_info = ee.info;
  ev.from = from;
  ev.when = when(info);
  handler_(ev);
}

void IcmpProber::emit_reply(Sock& s, uint16_t seq, ConstBytes icmp, bool csum_ok, const IpAddr& from, int ttl,
                            const core::RecvInfo& info) {
  Slot& sl = slots_[seq];
  if (sl.state == 0) return;  // not (or no longer) ours
  ProbeEvent ev;
  ev.kind = EventKind::reply;
  ev.target = sl.target, ev.probe = sl.probe, ev.seq = seq;
  ev.duplicate = sl.state == 2;
  sl.state = 2;
  ev.from = from;
  ev.ttl = ttl;
  ev.bytes = icmp.size();
  ev.v6 = s.family == AF_INET6;
  ev.when = when(info);
  ev.bad_checksum = !csum_ok;
  ConstBytes data = icmp.subspan(8);
  ev.truncated = data.size() < cfg_.size || info.truncated;
  if (timed()) ev.rtt_ns = std::max<int64_t>(0, core::timespec_ns(ev.when) - sl.sent_ns);
  size_t n = std::min(data.size(), cfg_.size);
  ev.wrong_byte = check_payload(data.data(), n, ev.wrong_expected, ev.wrong_got, cfg_.pattern);
  handler_(ev);
}

void IcmpProber::emit_error(uint16_t seq, const IpAddr& from, uint8_t type, uint8_t code, uint32_t info, bool v6,
                            const core::RecvInfo& ri) {
  Slot& sl = slots_[seq];
  if (sl.state == 0) return;
  ProbeEvent ev;
  ev.kind = EventKind::icmp_error;
  ev.target = sl.target, ev.probe = sl.probe, ev.seq = seq;
  ev.from = from;
  ev.icmp_type = type, ev.icmp_code = code, ev.icmp_info = info;
  ev.v6 = v6;
  ev.when = when(ri);
  handler_(ev);
}

}  // namespace

namespace {
uint8_t payload_byte(size_t i, const std::vector<uint8_t>& pattern) {
  return pattern.empty() ? uint8_t(i) : pattern[i % pattern.size()];
}
}  // namespace

void fill_payload(uint8_t* data, size_t size, const std::vector<uint8_t>& pattern) {
  for (size_t i = 0; i < size; ++i) data[i] = payload_byte(i, pattern);
}

int check_payload(const uint8_t* data, size_t size, uint8_t& expected, uint8_t& got,
                  const std::vector<uint8_t>& pattern) {
  size_t start = size >= kTimestampBytes ? kTimestampBytes : 0;
  for (size_t i = start; i < size; ++i) {
    if (data[i] != payload_byte(i, pattern)) {
      expected = payload_byte(i, pattern), got = data[i];
      return int(i);
    }
  }
  return -1;
}

ProberConfig prober_config(const Options& o) {
  ProberConfig pc;
  pc.size = o.size;
  pc.pattern = o.pattern;
  pc.ttl = o.ttl;
  pc.tos = o.tos;
  pc.interface = o.interface;
  pc.pmtu = o.pmtu;
  pc.tcp_port = o.tcp_port;
  return pc;
}

core::Status apply_interface(int fd, int family, const std::string& interface) {
  if (auto addr = IpAddr::try_parse(interface)) {
    if (addr->family() != family) return core::make_error("-I " + interface + ": address family mismatch");
    return core::bind_to(fd, core::Endpoint{*addr, 0});
  }
  return core::bind_to_device(fd, interface);
}

core::Result<std::unique_ptr<Prober>> open_icmp_prober(core::EventLoop& loop, const ProberConfig& cfg,
                                                       Prober::Handler handler) {
  auto p = std::make_unique<IcmpProber>(loop, cfg, std::move(handler));
  if (cfg.need_v4)
    if (auto st = p->open(AF_INET); !st) return st.error();
  if (cfg.need_v6)
    if (auto st = p->open(AF_INET6); !st) return st.error();
  // The raw sockets are open: CAP_NET_RAW/CAP_NET_ADMIN are not needed any more.
  core::drop_network_capabilities();
  return std::unique_ptr<Prober>(std::move(p));
}

}  // namespace netshoot::applet::ping

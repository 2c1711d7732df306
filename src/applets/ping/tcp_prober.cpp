// TCP connect prober (ping --tcp PORT), for networks that drop ICMP: each probe is
// a nonblocking connect(); SYN-ACK = "open" (the connection is then reset at once:
// SO_LINGER 0), RST = "refused", silence = a timeout decided by the session.
// Times are the connect() round trip in user space.
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cstring>
#include <unordered_map>

#include "netshoot/log.h"
#include "prober.h"

namespace netshoot::applet::ping {
namespace {

using core::IpAddr;

int64_t mono_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return core::timespec_ns(t);
}

class TcpProber final : public Prober {
 public:
  TcpProber(core::EventLoop& loop, const ProberConfig& cfg, Handler h)
      : loop_(loop), cfg_(cfg), handler_(std::move(h)), next_seq_(cfg.first_seq) {}
  ~TcpProber() override {
    for (auto& [seq, p] : pending_) (void)loop_.remove_fd(p.fd.get());
  }

  Sent send(uint32_t target, uint32_t probe, const IpAddr& dst) override {
    auto sock = core::open_tcp_socket(dst.family());
    if (!sock) return {sock.error().code ? sock.error().code : EIO, 0};
    int fd = sock->get();
    linger lg{1, 0};  // close() sends RST: no TIME_WAIT, no half-open server sockets
    (void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int syn_retries = 1;  // the session times out; the kernel need not keep retrying
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syn_retries, sizeof syn_retries);
    if (!cfg_.interface.empty())
      if (auto st = apply_interface(fd, dst.family(), cfg_.interface); !st) return {st.error().code ? st.error().code : ENODEV, 0};
    if (cfg_.ttl >= 0) (void)core::set_ttl(fd, dst.family(), cfg_.ttl);
    if (cfg_.tos >= 0) (void)core::set_tos(fd, dst.family(), cfg_.tos);
    uint16_t seq = next_seq_++;
    sockaddr_storage ss;
    socklen_t len = dst.to_sockaddr(cfg_.tcp_port, ss);
    Pending p{std::move(*sock), target, probe, mono_ns(), dst};
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    if (rc < 0 && errno != EINPROGRESS) {
      int e = errno;
      if (e == ECONNREFUSED) {
        finish(p, seq, ECONNREFUSED);
        return {0, seq};
      }
      return {e, seq};
    }
    forget(seq);  // a wrapped sequence number: drop the old probe
    pending_.emplace(seq, std::move(p));
    (void)loop_.add_fd(fd, EPOLLOUT, [this, seq](uint32_t) { on_ready(seq); });
    return {0, seq};
  }

  void forget(uint16_t seq) override {
    auto it = pending_.find(seq);
    if (it == pending_.end()) return;
    (void)loop_.remove_fd(it->second.fd.get());
    pending_.erase(it);
  }

  std::string describe() const override { return "TCP connect to port " + std::to_string(cfg_.tcp_port); }

 private:
  struct Pending {
    core::UniqueFd fd;
    uint32_t target = 0, probe = 0;
    int64_t start_ns = 0;
    IpAddr dst;
  };

  void on_ready(uint16_t seq) {
    auto it = pending_.find(seq);
    if (it == pending_.end()) return;
    int err = 0;
    socklen_t len = sizeof err;
    (void)::getsockopt(it->second.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    Pending p = std::move(it->second);
    (void)loop_.remove_fd(p.fd.get());
    pending_.erase(it);
    finish(p, seq, err);
  }

  void finish(const Pending& p, uint16_t seq, int err) {
    ProbeEvent ev;
    ev.target = p.target, ev.probe = p.probe, ev.seq = seq;
    ev.from = p.dst;
    ev.when = core::realtime_now();
    ev.v6 = p.dst.is_v6();
    ev.rtt_ns = mono_ns() - p.start_ns;
    if (err == 0) {
      ev.kind = EventKind::reply;
    } else if (err == ECONNREFUSED) {
      ev.kind = EventKind::refused;
    } else {
      ev.kind = EventKind::local_error;  // EHOSTUNREACH, ENETUNREACH, ETIMEDOUT ...
      ev.err = err;
      ev.rtt_ns = -1;
    }
    handler_(ev);
  }

  core::EventLoop& loop_;
  ProberConfig cfg_;
  Handler handler_;
  uint16_t next_seq_;
  std::unordered_map<uint16_t, Pending> pending_;
};

}  // namespace

core::Result<std::unique_ptr<Prober>> open_tcp_prober(core::EventLoop& loop, const ProberConfig& cfg,
                                                      Prober::Handler handler) {
  return std::unique_ptr<Prober>(std::make_unique<TcpProber>(loop, cfg, std::move(handler)));
}

}  // namespace netshoot::applet::ping

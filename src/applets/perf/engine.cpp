// perf: the client and server sides of an iperf3-protocol test.
//
// Setup and the results exchange are sequential (poll with timeouts on the control
// connection); the data phase runs on the core event loop: stream sockets are
// nonblocking, senders write whenever writable (or on a 1 ms pacing tick with -b),
// receivers read until EAGAIN, a periodic timer prints interval reports, and the
// control connection is watched for the peer's state changes (or its death).
#include "engine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netshoot/addr.h"
#include "netshoot/event_loop.h"
#include "netshoot/fd.h"
#include "netshoot/resolver.h"
#include "netshoot/socket.h"
#include "proto.h"

namespace netshoot::applet::perf {
namespace {

using core::EventLoop;
using core::IpAddr;
using core::UniqueFd;
using Json = nlohmann::ordered_json;

constexpr int kSetupTimeoutMs = 10000;   // each step of the setup / results exchange
constexpr double kEndGraceS = 30;        // a test this long past its end is abandoned

double mono() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Cpu {
  double wall = 0, user = 0, sys = 0;
  static Cpu now() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    Cpu c;
    c.wall = mono();
    c.user = double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6;
    c.sys = double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6;
    return c;
  }
};

std::string errno_text(int e) { return std::strerror(e); }

// ---- the control connection ------------------------------------------------------------

class Control {
 public:
  UniqueFd fd;
  ControlReader rd;
  bool eof = false;

  // Reads what is there without blocking; false once the peer has gone.
  bool pump() {
    uint8_t b[4096];
    for (;;) {
      ssize_t n = ::recv(fd.get(), b, sizeof b, MSG_DONTWAIT);
      if (n > 0) {
        rd.feed({b, size_t(n)});
        continue;
      }
      if (n == 0) { eof = true; return false; }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return true;
      eof = true;
      return false;
    }
  }
  bool wait_readable(int ms) {
    pollfd p{fd.get(), POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, ms); while (r < 0 && errno == EINTR);
    return r > 0;
  }
  core::Result<int8_t> state(int timeout_ms) {
    double deadline = mono() + timeout_ms / 1000.0;
    for (;;) {
      if (auto s = rd.take_state()) return *s;
      if (eof) return core::make_error("control socket has closed unexpectedly");
      double left = deadline - mono();
      if (left <= 0 || !wait_readable(int(left * 1000) + 1)) {
        if (mono() >= deadline) return core::make_error("timed out waiting on the control connection");
      }
      pump();
    }
  }
  core::Result<std::string> json(int timeout_ms) {
    double deadline = mono() + timeout_ms / 1000.0;
    for (;;) {
      auto j = rd.take_json();
      if (!j) return core::make_error("received an invalid control message (" + j.error().message() + ")");
      if (*j) return std::move(**j);
      if (eof) return core::make_error("control socket has closed unexpectedly");
      double left = deadline - mono();
      if (left <= 0 || !wait_readable(int(left * 1000) + 1)) {
        if (mono() >= deadline) return core::make_error("timed out waiting on the control connection");
      }
      pump();
    }
  }
  bool send_all(const void* d, size_t n) {
    const char* p = static_cast<const char*>(d);
    double deadline = mono() + kSetupTimeoutMs / 1000.0;
    while (n > 0) {
      ssize_t w = ::send(fd.get(), p, n, MSG_NOSIGNAL);
      if (w > 0) { p += w; n -= size_t(w); continue; }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) {
        pollfd pf{fd.get(), POLLOUT, 0};
        if (mono() > deadline) return false;
        ::poll(&pf, 1, 100);
        continue;
      }
      return false;
    }
    return true;
  }
  bool send_state(int8_t s) { return send_all(&s, 1); }
  // State bytes must not wait for Nagle: the peer starts its clock on them.
  void nodelay() {
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  bool send_json(const std::string& j) {
    auto f = frame_json(j);
    return send_all(f.data(), f.size());
  }
};

// ---- streams ---------------------------------------------------------------------------

struct Stream {
  int id = 1;                 // protocol stream id (1, 3, 4, 5 ... as iperf3 numbers them)
  UniqueFd fd;
  bool sender = false;
  bool udp = false;
  IpAddr local, remote;
  uint16_t lport = 0, rport = 0;
  uint64_t bytes = 0, blocks = 0;
  size_t off = 0;             // TCP: bytes of the current block already sent
  uint64_t iv_bytes = 0;
  // TCP (sender side)
  int64_t retr_base = 0, iv_retr = 0, retr = 0;
  uint32_t max_cwnd = 0, max_snd_wnd = 0, max_rtt = 0, min_rtt = UINT32_MAX;
  uint64_t rtt_sum = 0, rtt_n = 0;
  // UDP
  uint64_t packets = 0;       // sent, or received datagrams (since the -O warm-up)
  uint64_t seq = 0;           // UDP: the last packet number sent (never reset)
  int64_t pc_base = 0, lost_base = 0, ooo_base = 0;  // receiver counts at the end of -O
  int64_t iv_packets = 0;
  UdpRecvStats rs;
  int64_t iv_pc = 0, iv_lost = 0;
  bool stopped = false;
  const char* role = nullptr;  // "TX-C" ... with --bidir
};

int stream_id_for(size_t index) { return index == 0 ? 1 : int(index) + 2; }

struct TcpInfo {
  bool ok = false;
  int64_t retrans = 0;
  uint32_t cwnd = 0, snd_wnd = 0, rtt = 0, rttvar = 0, pmtu = 0;
};

TcpInfo tcp_info(int fd) {
  struct tcp_info ti{};
  socklen_t len = sizeof ti;
  TcpInfo r;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return r;
  r.ok = true;
  r.retrans = ti.tcpi_total_retrans;
  r.cwnd = ti.tcpi_snd_cwnd * ti.tcpi_snd_mss;
  r.snd_wnd = len >= offsetof(struct tcp_info, tcpi_snd_wnd) + sizeof(ti.tcpi_snd_wnd) ? ti.tcpi_snd_wnd : 0;
  r.rtt = ti.tcpi_rtt;
  r.rttvar = ti.tcpi_rttvar;
  r.pmtu = ti.tcpi_pmtu;
  return r;
}

std::string congestion_of(int fd) {
  char b[32] = {};
  socklen_t l = sizeof b - 1;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, b, &l) != 0) return {};
  return std::string(b, strnlen(b, l));
}

core::Status apply_socket_options(int fd, const TestParams& p, bool before_connect) {
  if (p.window > 0) {
    int w = p.window;
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &w, sizeof w) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &w, sizeof w) != 0)
      return core::os_error("unable to set socket buffer size");
  }
  if (p.udp) return {};
  if (before_connect && p.mss > 0 && ::setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &p.mss, sizeof p.mss) != 0)
    return core::os_error("unable to set TCP/SCTP MSS");
  int one = 1;
  if (p.nodelay && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    return core::os_error("unable to set TCP/SCTP NODELAY");
  if (!p.congestion.empty() &&
      ::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, p.congestion.c_str(), socklen_t(p.congestion.size())) != 0)
    return core::os_error("unable to set TCP_CONGESTION: Supplied congestion control algorithm not supported on this host");
  return {};
}

void endpoints(int fd, IpAddr& local, uint16_t& lport, IpAddr& remote, uint16_t& rport) {
  sockaddr_storage ss{};
  socklen_t l = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &l) == 0)
    if (auto e = core::Endpoint::from_sockaddr(ss, l)) { local = e->addr.unmapped(); lport = e->port; }
  l = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &l) == 0)
    if (auto e = core::Endpoint::from_sockaddr(ss, l)) { remote = e->addr.unmapped(); rport = e->port; }
}

// Nonblocking connect with a timeout (ms, < 0: the kernel's). Returns 0 or errno.
int connect_timeout(int fd, const IpAddr& a, uint16_t port, int timeout_ms) {
  sockaddr_storage ss{};
  socklen_t len = a.to_sockaddr(port, ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  pollfd p{fd, POLLOUT, 0};
  int r;
  do r = ::poll(&p, 1, timeout_ms); while (r < 0 && errno == EINTR);
  if (r == 0) return ETIMEDOUT;
  int v = 0;
  socklen_t vl = sizeof v;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl);
  return v;
}

std::string iso_time_now(time_t* secs) {
  time_t t = ::time(nullptr);
  if (secs) *secs = t;
  tm g{};
  ::gmtime_r(&t, &g);
  char b[64];
  std::strftime(b, sizeof b, "%a, %d %b %Y %H:%M:%S GMT", &g);
  return b;
}

std::string system_info() {
  utsname u{};
  if (::uname(&u) != 0) return {};
  return std::string(u.sysname) + " " + u.nodename + " " + u.release + " " + u.version + " " + u.machine;
}

// ---- one test --------------------------------------------------------------------------

class Test {
 public:
  Test(bool server, const Options& o, EventLoop& loop) : server_(server), o_(o), loop_(loop) {
    json_ = o.json;
    if (!o.title.empty()) title_ = o.title + ":  ";
  }
  ~Test() { detach(); }

  bool server_;
  Options o_;
  EventLoop& loop_;
  TestParams p_;
  std::string cookie_;
  Control ctl_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<char> sbuf_;
  std::vector<uint8_t> rbuf_;
  bool json_ = false;
  std::string title_;
  std::string text_copy_;      // our text, for --get-server-output
  bool copy_text_ = false;
  double t_start_ = 0, t_stop_ = 0, iv_start_ = 0;
  Cpu cpu0_, cpu1_;
  Json jstart_ = Json::object();
  Json jintervals_ = Json::array();
  std::string error_;
  bool data_done_ = false;     // senders stopped (client: TEST_END sent)
  bool exchange_ = false;      // client: EXCHANGE_RESULTS arrived; server: TEST_END arrived
  bool interrupted_ = false;
  bool peer_terminated_ = false;
  double last_rx_ = 0;
  std::vector<EventLoop::TimerId> timers_;
  bool header_printed_ = false;
  bool last_sep_ = false;
  bool omitting_ = false;      // -O: inside the warm-up
  EventLoop::TimerId iv_timer_ = 0;

  // Whether this side sends in direction `dir` (0: the client's forward one).
  bool we_send_dir(int dir) const {
    if (server_) return bidir() ? dir == 1 : p_.reverse;
    return bidir() ? dir == 0 : !p_.reverse;
  }

  // ---- output ----
  void emit(const std::string& line) {
    if (copy_text_) text_copy_ += line + "\n";
    last_sep_ = line == kSeparator;
    if (json_) return;
    std::fputs(title_.c_str(), stdout);
    std::fputs(line.c_str(), stdout);
    std::fputc('\n', stdout);
    if (o_.forceflush) std::fflush(stdout);
  }
  void flush() { std::fflush(stdout); }

  bool bidir() const { return p_.bidirectional; }
  bool any_sender() const {
    for (auto& s : streams_) if (s->sender) return true;
    return false;
  }
  bool any_receiver() const {
    for (auto& s : streams_) if (!s->sender) return true;
    return false;
  }

  void prepare_buffers() {
    sbuf_.resize(size_t(p_.len) * (p_.udp ? 32 : 1));
    std::mt19937 gen(std::random_device{}());
    for (auto& c : sbuf_) c = char(gen());
    size_t rsz = p_.udp ? size_t(std::max(p_.len, 65536)) * 32 : std::max<size_t>(size_t(p_.len), 256 * 1024);
    rbuf_.resize(rsz);
  }

  Stream& add_stream(UniqueFd fd, bool sender) {
    auto s = std::make_unique<Stream>();
    s->id = stream_id_for(streams_.size());
    s->fd = std::move(fd);
    s->sender = sender;
    s->udp = p_.udp;
    endpoints(s->fd.get(), s->local, s->lport, s->remote, s->rport);
    if (bidir()) s->role = sender ? (server_ ? "TX-S" : "TX-C") : (server_ ? "RX-S" : "RX-C");
    if (p_.udp && !sender) {
      int one = 1;
      ::setsockopt(s->fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    }
    (void)core::set_nonblocking(s->fd.get());
    streams_.push_back(std::move(s));
    return *streams_.back();
  }

  void print_connected() {
    for (auto& s : streams_) {
      emit(label(s->fd.get()) + " local " + s->local.to_string() + " port " + std::to_string(s->lport) +
           " connected to " + s->remote.to_string() + " port " + std::to_string(s->rport));
      Json c;
      c["socket"] = s->fd.get();
      c["local_host"] = s->local.to_string();
      c["local_port"] = s->lport;
      c["remote_host"] = s->remote.to_string();
      c["remote_port"] = s->rport;
      jstart_["connected"].push_back(c);
    }
  }

  void print_interval_header() {
    if (header_printed_) return;
    header_printed_ = true;
    if (p_.udp) emit(header_udp(!bidir() && any_sender(), bidir()));
    else emit(header_tcp(bidir() || any_sender(), bidir() || any_sender(), bidir()));
  }

  // ---- data phase ----
  bool rate_limited() const { return p_.bandwidth > 0; }

  void start_data(const std::function<void()>& on_end) {
    on_end_ = on_end;
    t_start_ = mono();
    iv_start_ = t_start_;
    last_rx_ = t_start_;
    cpu0_ = Cpu::now();
    for (auto& s : streams_) {
      if (!s->udp && s->sender) {
        auto ti = tcp_info(s->fd.get());
        s->retr_base = ti.retrans;
      }
      uint32_t ev = s->sender ? (rate_limited() ? 0u : uint32_t(EPOLLOUT)) : uint32_t(EPOLLIN);
      Stream* sp = s.get();
      (void)loop_.add_fd(s->fd.get(), ev, [this, sp](uint32_t e) {
        if (sp->sender) on_writable(*sp, e);
        else on_readable(*sp, e);
      });
    }
    (void)loop_.add_fd(ctl_.fd.get(), EPOLLIN, [this](uint32_t) { on_control(); });
    if (rate_limited())
      timers_.push_back(loop_.add_periodic(std::chrono::microseconds(std::max(p_.pacing_timer, 100)),
                                           [this] { pace(); }));
    arm_interval_timer();
    omitting_ = p_.omit > 0;
    if (omitting_)
      timers_.push_back(loop_.add_timer(std::chrono::seconds(p_.omit), [this] { end_omit(); }));
    // watchdog: dead peers, idle receivers, tests that overrun
    timers_.push_back(loop_.add_periodic(std::chrono::milliseconds(200), [this] { watchdog(); }));
    if (!server_ && p_.num == 0 && p_.blockcount == 0)
      timers_.push_back(loop_.add_timer(std::chrono::duration_cast<EventLoop::Duration>(
                                            std::chrono::duration<double>(p_.time + p_.omit)),
                                        [this] { end_data(); }));
  }

  void arm_interval_timer() {
    if (o_.interval <= 0) return;
    if (iv_timer_) loop_.cancel_timer(iv_timer_);
    iv_timer_ = loop_.add_periodic(
        std::chrono::duration_cast<EventLoop::Duration>(std::chrono::duration<double>(o_.interval)),
        [this] { interval_report(mono()); });
    timers_.push_back(iv_timer_);
  }

  // -O: the warm-up is over; everything counts from zero again.
  void end_omit() {
    if (data_done_ || !omitting_) return;
    double now = mono();
    if (o_.interval > 0 && now - iv_start_ > 0.05 * o_.interval) interval_report(now);
    omitting_ = false;
    for (auto& s : streams_) {
      s->bytes = s->blocks = s->iv_bytes = 0;
      if (!s->udp && s->sender) {
        auto ti = tcp_info(s->fd.get());
        s->retr_base = ti.retrans;
        s->iv_retr = s->retr = 0;
        s->max_cwnd = s->max_snd_wnd = s->max_rtt = 0;
        s->min_rtt = UINT32_MAX;
        s->rtt_sum = s->rtt_n = 0;
      }
      // iperf3's sender numbers its datagrams from 1 again after the warm-up, and
      // its receiver starts counting afresh: both ends do the same here.
      s->packets = 0;
      s->iv_packets = 0;
      s->seq = 0;
      s->rs = UdpRecvStats{};
      s->iv_pc = s->iv_lost = 0;
    }
    t_start_ = iv_start_ = now;
    cpu0_ = Cpu::now();
    arm_interval_timer();
  }

  void detach() {
    for (auto id : timers_) loop_.cancel_timer(id);
    timers_.clear();
    for (auto& s : streams_)
      if (s->fd && loop_.has_fd(s->fd.get())) (void)loop_.remove_fd(s->fd.get());
    if (ctl_.fd && loop_.has_fd(ctl_.fd.get())) (void)loop_.remove_fd(ctl_.fd.get());
  }

  void fail(const std::string& msg) {
    if (error_.empty()) error_ = msg;
    finish_loop();
  }
  void finish_loop() {
    detach();
    if (on_end_) {
      auto f = std::move(on_end_);
      on_end_ = nullptr;
      f();
    }
  }

  uint64_t total_sent() const {
    uint64_t t = 0;
    for (auto& s : streams_) if (s->sender) t += s->bytes;
    return t;
  }
  uint64_t total_received() const {
    uint64_t t = 0;
    for (auto& s : streams_) if (!s->sender) t += s->bytes;
    return t;
  }
  uint64_t total_blocks() const {
    uint64_t t = 0;
    for (auto& s : streams_) t += s->blocks;
    return t;
  }

  // Client with -n/-k: the test ends once the count is reached by the side that
  // measures here (what we send; with -R what we receive).
  void check_counts() {
    if (server_ || data_done_) return;
    bool sending = any_sender();
    if (p_.num > 0 && (sending ? total_sent() : total_received()) >= p_.num) end_data();
    else if (p_.blockcount > 0 && total_blocks() >= p_.blockcount) end_data();
  }

  bool send_one(Stream& s) {
    if (s.udp) {
      timespec ts;
      ::clock_gettime(CLOCK_REALTIME, &ts);
      UdpHeader h{uint32_t(ts.tv_sec), uint32_t(ts.tv_nsec / 1000), s.seq + 1};
      write_udp_header({reinterpret_cast<uint8_t*>(sbuf_.data()), size_t(p_.len)}, h, p_.udp_counters_64bit);
      ssize_t w = ::send(s.fd.get(), sbuf_.data(), size_t(p_.len), MSG_NOSIGNAL);
      if (w < 0) return handle_send_error(s);
      s.seq++;
      s.packets++;
      s.blocks++;
      s.bytes += uint64_t(w);
      return true;
    }
    // Whole blocks, as iperf3 writes them: its receiver may read a block at a time
    // with blocking reads, so a block left half-sent could hang it.
    size_t n = size_t(p_.len) - s.off;
    if (p_.num > 0 && !bidir()) {
      uint64_t sent = total_sent();
      if (sent >= p_.num) return false;
      n = size_t(std::min<uint64_t>(n, p_.num - sent));
    }
    ssize_t w = ::send(s.fd.get(), sbuf_.data() + s.off, n, MSG_NOSIGNAL);
    if (w < 0) return handle_send_error(s);
    s.bytes += uint64_t(w);
    s.off = (s.off + size_t(w)) % size_t(p_.len);
    if (s.off == 0) s.blocks++;
    return true;
  }

  // The rest of every half-sent block, all streams at once (the peer may be
  // blocked reading one of them until its block is whole), for up to 5 s.
  void complete_blocks() {
    double until = mono() + 5;
    for (;;) {
      std::vector<pollfd> pf;
      std::vector<Stream*> who;
      for (auto& s : streams_)
        if (s->sender && !s->udp && s->off != 0) {
          pf.push_back({s->fd.get(), POLLOUT, 0});
          who.push_back(s.get());
        }
      if (pf.empty() || mono() >= until) return;
      if (::poll(pf.data(), pf.size(), 50) <= 0) continue;
      for (size_t i = 0; i < pf.size(); ++i) {
        Stream& s = *who[i];
        if (pf[i].revents & (POLLERR | POLLHUP)) {
          s.off = 0;  // gone: nothing more to complete
          continue;
        }
        if (!(pf[i].revents & POLLOUT)) continue;
        ssize_t w = ::send(s.fd.get(), sbuf_.data() + s.off, size_t(p_.len) - s.off, MSG_NOSIGNAL);
        if (w > 0) {
          s.bytes += uint64_t(w);
          s.off = (s.off + size_t(w)) % size_t(p_.len);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          s.off = 0;
        }
      }
    }
  }

  // false: stop sending for now (EAGAIN) or for good (an error, reported).
  bool handle_send_error(Stream& s) {
    if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) return false;
    if (s.udp && errno == ECONNREFUSED) return false;  // ICMP from a peer that has not opened yet / gone
    int e = errno;
    if (!data_done_) fail("unable to write to stream socket: " + errno_text(e));
    return false;
  }

  void on_writable(Stream& s, uint32_t ev) {
    if (data_done_ || s.stopped) return;
    if (s.udp && !rate_limited()) {
      send_udp_batch(s);
    } else {
      for (int k = 0; k < 16 && !data_done_; ++k)
        if (!send_one(s)) break;
    }
    check_counts();
  }

  void send_udp_batch(Stream& s) {
    constexpr int kBatch = 32;
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    for (int i = 0; i < kBatch; ++i) {
      uint8_t* b = reinterpret_cast<uint8_t*>(sbuf_.data()) + size_t(i) * size_t(p_.len);
      UdpHeader h{uint32_t(ts.tv_sec), uint32_t(ts.tv_nsec / 1000), s.seq + 1 + uint64_t(i)};
      write_udp_header({b, size_t(p_.len)}, h, p_.udp_counters_64bit);
      iov[i] = {b, size_t(p_.len)};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = ::sendmmsg(s.fd.get(), msgs, kBatch, MSG_NOSIGNAL);
    if (n < 0) {
      handle_send_error(s);
      return;
    }
    for (int i = 0; i < n; ++i) s.bytes += msgs[i].msg_len;
    s.seq += uint64_t(n);
    s.packets += uint64_t(n);
    s.blocks += uint64_t(n);
  }

  void pace() {
    if (data_done_) return;
    double el = mono() - t_start_;
    for (auto& s : streams_) {
      if (!s->sender || s->stopped) continue;
      for (int k = 0; k < 1024 && double(s->bytes) * 8 < double(p_.bandwidth) * el; ++k)
        if (!send_one(*s)) break;
    }
    check_counts();
  }

  void on_readable(Stream& s, uint32_t ev) {
    if (s.udp) return read_udp(s);
    for (int k = 0; k < 16; ++k) {
      ssize_t n = ::recv(s.fd.get(), rbuf_.data(), rbuf_.size(), 0);
      if (n > 0) {
        s.bytes += uint64_t(n);
        s.blocks++;  // iperf3 counts reads as blocks on the receiving side only loosely
        last_rx_ = mono();
        continue;
      }
      if (n == 0) {
        (void)loop_.remove_fd(s.fd.get());
        s.stopped = true;
        break;
      }
      if (errno == EAGAIN || errno == EINTR) break;
      int e = errno;
      (void)loop_.remove_fd(s.fd.get());
      s.stopped = true;
      if (!data_done_ && !exchange_) fail("unable to read from stream socket: " + errno_text(e));
      return;
    }
    check_counts();
  }

  void read_udp(Stream& s) {
    constexpr int kBatch = 32;
    size_t slot = rbuf_.size() / kBatch;
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    alignas(cmsghdr) char ctl[kBatch][64];
    for (int round = 0; round < 8; ++round) {
      for (int i = 0; i < kBatch; ++i) {
        iov[i] = {rbuf_.data() + size_t(i) * slot, slot};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctl[i];
        msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
      }
      int n = ::recvmmsg(s.fd.get(), msgs, kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) break;
      timespec now{};
      ::clock_gettime(CLOCK_REALTIME, &now);
      last_rx_ = mono();
      for (int i = 0; i < n; ++i) {
        size_t len = msgs[i].msg_len;
        auto h = parse_udp_header({rbuf_.data() + size_t(i) * slot, len}, p_.udp_counters_64bit);
        if (!h) continue;  // a stray handshake datagram
        timespec at = now;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS)
            std::memcpy(&at, CMSG_DATA(c), sizeof at);
        s.rs.on_packet(*h, double(at.tv_sec) + double(at.tv_nsec) / 1e9);
        s.bytes += len;
        s.packets++;
        s.blocks++;
      }
      if (n < kBatch) break;
    }
    check_counts();
  }

  void on_control() {
    if (!ctl_.pump() && ctl_.rd.buffered() == 0) {
      if (!exchange_) fail("control socket has closed unexpectedly");
      return;
    }
    while (auto st = ctl_.rd.take_state()) {
      int8_t s = *st;
      if (server_) {
        if (s == kTestEnd) {
          exchange_ = true;
          stop_data();
          finish_loop();
          return;
        }
        if (s == kClientTerminate || s == kIperfDone) {
          peer_terminated_ = true;
          stop_data();
          fail("the client has terminated");
          return;
        }
      } else {
        if (s == kExchangeResults) {
          exchange_ = true;
          if (!data_done_) stop_data();
          finish_loop();
          return;
        }
        if (s == kServerTerminate) {
          peer_terminated_ = true;
          stop_data();
          fail("the server has terminated");
          return;
        }
        if (s == kServerError) {
          ctl_.pump();
          auto codes = ctl_.rd.take_error_codes();
          stop_data();
          fail(codes ? "the server reported an error (iperf3 error " + std::to_string(codes->first) +
                           (codes->second ? ": " + errno_text(codes->second) : std::string()) + ")"
                     : "the server reported an error");
          return;
        }
      }
      // other state bytes during the test are ignored (IPERF_START, TEST_RUNNING repeats)
    }
    if (ctl_.eof && !exchange_) fail("control socket has closed unexpectedly");
  }

  void watchdog() {
    double now = mono();
    if (any_receiver() && !data_done_ && now - last_rx_ > o_.rcv_timeout_ms / 1000.0)
      return fail("receive timeout (no data for " + std::to_string(o_.rcv_timeout_ms / 1000) + " s)");
    if (p_.num == 0 && p_.blockcount == 0 && now - t_start_ > p_.time + p_.omit + kEndGraceS)
      return fail(server_ ? "the client did not end the test in time" : "the server did not answer the end of the test");
    if (data_done_ && now - t_stop_ > kEndGraceS / 3)
      return fail("timed out waiting for the results exchange");
  }

  // Senders stop; the final partial interval is reported.
  void stop_data() {
    if (data_done_) return;
    data_done_ = true;
    t_stop_ = mono();
    cpu1_ = Cpu::now();
    for (auto& s : streams_)
      if (s->sender && loop_.has_fd(s->fd.get())) (void)loop_.remove_fd(s->fd.get());
    if (!(p_.num > 0 && !bidir())) complete_blocks();
    // The server ends its sending streams (FIN after the last block), as iperf3's
    // server does: a client blocked in a read of an idle stream sees EOF.
    if (server_)
      for (auto& s : streams_)
        if (s->sender && !s->udp) ::shutdown(s->fd.get(), SHUT_WR);
    if (t_start_ > 0 && o_.interval > 0 && t_stop_ - iv_start_ > 0.05 * o_.interval) interval_report(t_stop_);
  }

  // Client: the test is over on our side.
  void end_data() {
    if (data_done_) return;
    stop_data();
    if (!ctl_.send_state(kTestEnd)) fail("unable to send control message: " + errno_text(errno));
  }

  // ---- reports ----
  Json interval_stream_json(const Stream& s, double start, double end, uint64_t bytes, const TcpInfo* ti,
                            int64_t retr, int64_t pkts, int64_t lost, int64_t total) {
    Json j;
    double secs = end - start;
    j["socket"] = s.fd.get();
    j["start"] = start;
    j["end"] = end;
    j["seconds"] = secs;
    j["bytes"] = bytes;
    j["bits_per_second"] = secs > 0 ? double(bytes) * 8 / secs : 0.0;
    if (!s.udp && s.sender && ti && ti->ok) {
      j["retransmits"] = retr;
      j["snd_cwnd"] = ti->cwnd;
      j["snd_wnd"] = ti->snd_wnd;
      j["rtt"] = ti->rtt;
      j["rttvar"] = ti->rttvar;
      j["pmtu"] = ti->pmtu;
    }
    if (s.udp) {
      if (s.sender) {
        j["packets"] = pkts;
      } else {
        j["jitter_ms"] = s.rs.jitter * 1000;
        j["lost_packets"] = lost;
        j["packets"] = total;
        j["lost_percent"] = total > 0 ? 100.0 * double(lost) / double(total) : 0.0;
      }
    }
    j["omitted"] = omitting_;
    j["sender"] = s.sender;
    return j;
  }

  void interval_report(double now) {
    if (data_done_ && now != t_stop_) return;
    print_interval_header();
    auto out = [this](const std::string& line) { emit(omitting_ ? line + "(omitted)" : line); };
    double start = iv_start_ - t_start_, end = now - t_start_, secs = now - iv_start_;
    Json jiv;
    jiv["streams"] = Json::array();
    struct Sum { uint64_t bytes = 0; int64_t retr = 0, pkts = 0, lost = 0, total = 0; double jit = 0; int n = 0; bool any_retr = false; };
    Sum sums[2];  // [0] senders, [1] receivers
    for (auto& s : streams_) {
      uint64_t b = s->bytes - s->iv_bytes;
      std::string pre = interval_prefix(label(s->fd.get(), s->role), start, end, double(b), secs);
      Sum& sm = sums[s->sender ? 0 : 1];
      sm.bytes += b;
      sm.n++;
      TcpInfo ti;
      int64_t retr = 0, pk = 0, lost = 0, total = 0;
      if (!s->udp && s->sender) {
        ti = tcp_info(s->fd.get());
        if (ti.ok) {
          retr = ti.retrans - s->retr_base - s->iv_retr;
          s->iv_retr += retr;
          s->retr = ti.retrans - s->retr_base;
          s->max_cwnd = std::max(s->max_cwnd, ti.cwnd);
          s->max_snd_wnd = std::max(s->max_snd_wnd, ti.snd_wnd);
          s->max_rtt = std::max(s->max_rtt, ti.rtt);
          s->min_rtt = std::min(s->min_rtt, ti.rtt);
          s->rtt_sum += ti.rtt;
          s->rtt_n++;
          sm.retr += retr;
          sm.any_retr = true;
          out(tcp_interval(pre, retr, ti.cwnd));
        } else {
          out(tcp_interval(pre, std::nullopt, std::nullopt));
        }
      } else if (!s->udp) {
        out(tcp_interval(pre, std::nullopt, std::nullopt));
      } else if (s->sender) {
        pk = int64_t(s->packets) - s->iv_packets;
        s->iv_packets = int64_t(s->packets);
        sm.pkts += pk;
        out(udp_sender_interval(pre, pk));
      } else {
        total = s->rs.packet_count - s->iv_pc;
        lost = s->rs.lost - s->iv_lost;
        s->iv_pc = s->rs.packet_count;
        s->iv_lost = s->rs.lost;
        sm.lost += lost;
        sm.total += total;
        sm.jit += s->rs.jitter;
        out(udp_stats(pre, s->rs.jitter * 1000, lost, total, ""));
      }
      jiv["streams"].push_back(interval_stream_json(*s, start, end, b, &ti, retr, pk, lost, total));
      s->iv_bytes = s->bytes;
    }
    for (int k = 0; k < 2; ++k) {
      const Sum& sm = sums[k];
      if (sm.n == 0) continue;
      bool sender = k == 0;
      const char* role = bidir() ? (sender ? (server_ ? "TX-S" : "TX-C") : (server_ ? "RX-S" : "RX-C")) : nullptr;
      if (sm.n > 1) {
        std::string pre = interval_prefix(sum_label(role), start, end, double(sm.bytes), secs);
        if (!p_.udp) out(tcp_interval(pre, sender && sm.any_retr ? std::optional<int64_t>(sm.retr) : std::nullopt, std::nullopt));
        else if (sender) out(udp_sender_interval(pre, sm.pkts));
        else out(udp_stats(pre, sm.jit / sm.n * 1000, sm.lost, sm.total, ""));
      }
      Json js;
      js["start"] = start;
      js["end"] = end;
      js["seconds"] = secs;
      js["bytes"] = sm.bytes;
      js["bits_per_second"] = secs > 0 ? double(sm.bytes) * 8 / secs : 0.0;
      if (!p_.udp && sender && sm.any_retr) js["retransmits"] = sm.retr;
      if (p_.udp) {
        if (sender) js["packets"] = sm.pkts;
        else {
          js["jitter_ms"] = sm.jit / sm.n * 1000;
          js["lost_packets"] = sm.lost;
          js["packets"] = sm.total;
          js["lost_percent"] = sm.total > 0 ? 100.0 * double(sm.lost) / double(sm.total) : 0.0;
        }
      }
      js["omitted"] = omitting_;
      js["sender"] = sender;
      // The client's forward direction is "sum"; with --bidir the other one is "sum_bidir_reverse".
      bool forward = server_ ? !sender : sender;
      if (!bidir()) jiv["sum"] = js;
      else jiv[forward ? "sum" : "sum_bidir_reverse"] = js;
    }
    if (streams_.size() > 1) emit(kSeparator);
    jintervals_.push_back(std::move(jiv));
    iv_start_ = now;
    flush();
  }

  Results local_results() {
    Results r;
    double wall = cpu1_.wall - cpu0_.wall;
    if (wall > 0) {
      r.cpu_user = 100.0 * (cpu1_.user - cpu0_.user) / wall;
      r.cpu_system = 100.0 * (cpu1_.sys - cpu0_.sys) / wall;
      r.cpu_total = r.cpu_user + r.cpu_system;
    }
    r.sender_has_retransmits = (!p_.udp && any_sender()) ? 1 : p_.udp ? 0 : -1;
    if (!p_.udp && !streams_.empty()) r.congestion_used = congestion_of(streams_[0]->fd.get());
    double dur = t_stop_ - t_start_;
    for (auto& s : streams_) {
      StreamResult sr;
      sr.id = s->id;
      sr.bytes = s->bytes;
      if (!s->udp && s->sender) {
        auto ti = tcp_info(s->fd.get());
        if (ti.ok) s->retr = ti.retrans - s->retr_base;
        sr.retransmits = s->retr;
      }
      if (s->udp) {
        if (s->sender) {
          sr.packets = int64_t(s->packets);
        } else {
          sr.packets = s->rs.packet_count - s->pc_base;
          sr.errors = s->rs.lost - s->lost_base;
          sr.omitted_packets = s->pc_base;
          sr.omitted_errors = s->lost_base;
          sr.jitter = s->rs.jitter;
        }
      }
      sr.start_time = 0;
      sr.end_time = dur;
      r.streams.push_back(sr);
    }
    return r;
  }

  const StreamResult* peer_stream(const Results* peer, size_t index, int id) const {
    if (!peer) return nullptr;
    for (auto& s : peer->streams) if (s.id == id) return &s;
    return index < peer->streams.size() ? &peer->streams[index] : nullptr;
  }

  // The end-of-test summary (text and the JSON "end" object). `peer` is null when
  // the exchange did not happen (interrupted): only our own side is printed.
  Json summary(const Results* peer) {
    Results mine = local_results();
    Json end;
    end["streams"] = Json::array();
    if (!last_sep_) emit(kSeparator);
    bool show_retr = !p_.udp;
    if (p_.udp) emit(header_udp(false, bidir()));
    else emit(header_tcp(server_ ? any_sender() : show_retr, false, bidir()));

    struct Side { uint64_t bytes = 0; double dur = 0; int64_t retr = 0; bool retr_known = false; int64_t pkts = 0, lost = 0; double jit = 0; int n = 0; };
    // [direction][0 sender, 1 receiver]; direction 0 = the client's forward one
    Side sums[2][2];
    for (size_t i = 0; i < streams_.size(); ++i) {
      const Stream& s = *streams_[i];
      const StreamResult& me = mine.streams[i];
      const StreamResult* pr = peer_stream(peer, i, s.id);
      const StreamResult* snd = s.sender ? &me : pr;
      const StreamResult* rcv = s.sender ? pr : &me;
      bool forward = server_ ? !s.sender : s.sender;
      int dir = bidir() && !forward ? 1 : 0;
      std::string lab = label(s.fd.get(), s.role);
      Json js;
      auto side_json = [&](const StreamResult& r, bool is_sender_side) {
        Json j;
        j["socket"] = s.fd.get();
        j["start"] = 0;
        j["end"] = r.end_time;
        j["seconds"] = r.end_time;
        j["bytes"] = r.bytes;
        j["bits_per_second"] = r.end_time > 0 ? double(r.bytes) * 8 / r.end_time : 0.0;
        if (!p_.udp && is_sender_side) {
          if (r.retransmits >= 0) j["retransmits"] = r.retransmits;
          if (&r == &me && s.rtt_n) {
            j["max_snd_cwnd"] = s.max_cwnd;
            j["max_snd_wnd"] = s.max_snd_wnd;
            j["max_rtt"] = s.max_rtt;
            j["min_rtt"] = s.min_rtt;
            j["mean_rtt"] = s.rtt_sum / s.rtt_n;
          }
        }
        j["sender"] = s.sender;
        return j;
      };
      // server prints only its own side, as iperf3's server does
      bool print_snd = snd && (!server_ || s.sender);
      bool print_rcv = rcv && (!server_ || !s.sender);
      if (!p_.udp) {
        if (print_snd) {
          auto pre = interval_prefix(lab, 0, snd->end_time, double(snd->bytes), snd->end_time);
          emit(tcp_summary(pre, snd->retransmits >= 0 ? std::optional<int64_t>(snd->retransmits) : std::nullopt, true));
        }
        if (print_rcv) {
          auto pre = interval_prefix(lab, 0, rcv->end_time, double(rcv->bytes), rcv->end_time);
          emit(tcp_summary(pre, std::nullopt, false));
        }
        if (snd) js["sender"] = side_json(*snd, true);
        if (rcv) js["receiver"] = side_json(*rcv, false);
      } else {
        if (print_snd) {
          auto pre = interval_prefix(lab, 0, snd->end_time, double(snd->bytes), snd->end_time);
          emit(udp_stats(pre, 0, 0, snd->packets, "sender"));
        }
        if (print_rcv) {
          auto pre = interval_prefix(lab, 0, rcv->end_time, double(rcv->bytes), rcv->end_time);
          emit(udp_stats(pre, rcv->jitter * 1000, rcv->errors, rcv->packets, "receiver"));
        }
        const StreamResult* r = rcv ? rcv : snd;
        Json u;
        u["socket"] = s.fd.get();
        u["start"] = 0;
        u["end"] = r->end_time;
        u["seconds"] = r->end_time;
        u["bytes"] = snd ? snd->bytes : r->bytes;
        u["bits_per_second"] = r->end_time > 0 ? double(snd ? snd->bytes : r->bytes) * 8 / r->end_time : 0.0;
        u["jitter_ms"] = rcv ? rcv->jitter * 1000 : 0.0;
        u["lost_packets"] = rcv ? rcv->errors : 0;
        u["packets"] = rcv ? rcv->packets : snd->packets;
        u["lost_percent"] = rcv && rcv->packets > 0 ? 100.0 * double(rcv->errors) / double(rcv->packets) : 0.0;
        u["out_of_order"] = (!s.sender ? s.rs.out_of_order - s.ooo_base : 0);
        u["sender"] = s.sender;
        js["udp"] = u;
      }
      end["streams"].push_back(js);
      if (snd) {
        Side& a = sums[dir][0];
        a.bytes += snd->bytes; a.dur = std::max(a.dur, snd->end_time); a.pkts += snd->packets; a.n++;
        if (snd->retransmits >= 0) { a.retr += snd->retransmits; a.retr_known = true; }
      }
      if (rcv) {
        Side& b = sums[dir][1];
        b.bytes += rcv->bytes; b.dur = std::max(b.dur, rcv->end_time); b.pkts += rcv->packets;
        b.lost += rcv->errors; b.jit += rcv->jitter; b.n++;
      }
    }
    size_t per_dir = bidir() ? streams_.size() / 2 : streams_.size();
    for (int dir = 0; dir < (bidir() ? 2 : 1); ++dir) {
      const char* role = nullptr;
      if (bidir()) role = dir == 0 ? (server_ ? "RX-S" : "TX-C") : (server_ ? "TX-S" : "RX-C");
      for (int k = 0; k < 2; ++k) {
        const Side& sd = sums[dir][k];
        bool sender = k == 0;
        Json j;
        j["start"] = 0;
        j["end"] = sd.dur;
        j["seconds"] = sd.dur;
        j["bytes"] = sd.bytes;
        j["bits_per_second"] = sd.dur > 0 ? double(sd.bytes) * 8 / sd.dur : 0.0;
        if (!p_.udp && sender && sd.retr_known) j["retransmits"] = sd.retr;
        if (p_.udp) {
          j["jitter_ms"] = sender ? 0.0 : (sd.n ? sd.jit / sd.n * 1000 : 0.0);
          j["lost_packets"] = sender ? 0 : sd.lost;
          j["packets"] = sd.pkts;
          j["lost_percent"] = !sender && sd.pkts > 0 ? 100.0 * double(sd.lost) / double(sd.pkts) : 0.0;
        }
        j["sender"] = we_send_dir(dir);
        std::string key = std::string(sender ? "sum_sent" : "sum_received") + (dir == 1 ? "_bidir_reverse" : "");
        if (sd.n > 0) end[key] = j;
        if (per_dir > 1 && sd.n > 0) {
          if (!server_ || sender == we_send_dir(dir)) {
            auto pre = interval_prefix(sum_label(role), 0, sd.dur, double(sd.bytes), sd.dur);
            if (!p_.udp) emit(tcp_summary(pre, sender && sd.retr_known ? std::optional<int64_t>(sd.retr) : std::nullopt, sender));
            else emit(udp_stats(pre, sender ? 0 : sd.jit / sd.n * 1000, sender ? 0 : sd.lost, sd.pkts, sender ? "sender" : "receiver"));
          }
        }
        if (p_.udp && !sender && sd.n > 0 && dir == 0) end["sum"] = j;
      }
    }
    Json cpu;
    cpu["host_total"] = mine.cpu_total;
    cpu["host_user"] = mine.cpu_user;
    cpu["host_system"] = mine.cpu_system;
    cpu["remote_total"] = peer ? peer->cpu_total : 0.0;
    cpu["remote_user"] = peer ? peer->cpu_user : 0.0;
    cpu["remote_system"] = peer ? peer->cpu_system : 0.0;
    end["cpu_utilization_percent"] = cpu;
    if (!p_.udp) {
      std::string mine_cc = mine.congestion_used, peer_cc = peer ? peer->congestion_used : std::string();
      bool we_send = any_sender();
      end["sender_tcp_congestion"] = we_send ? mine_cc : peer_cc;
      end["receiver_tcp_congestion"] = we_send ? peer_cc : mine_cc;
    }
    return end;
  }

  Json test_start_json() const {
    Json t;
    t["protocol"] = p_.udp ? "UDP" : "TCP";
    t["num_streams"] = p_.parallel;
    t["blksize"] = p_.len;
    t["omit"] = p_.omit;
    t["duration"] = p_.time;
    t["bytes"] = p_.num;
    t["blocks"] = p_.blockcount;
    t["reverse"] = p_.reverse ? 1 : 0;
    t["tos"] = p_.tos;
    t["target_bitrate"] = p_.bandwidth;
    t["bidir"] = p_.bidirectional ? 1 : 0;
    t["fqrate"] = 0;
    return t;
  }

  void print_json(const Json& end) {
    Json doc;
    doc["start"] = jstart_;
    doc["intervals"] = jintervals_;
    doc["end"] = end.is_null() ? Json::object() : end;
    if (!error_.empty()) doc["error"] = error_;
    std::string s = doc.dump(1, '\t');
    std::fputs(s.c_str(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

 private:
  std::function<void()> on_end_;
};

void fill_start_json(Test& t, const std::string& host, uint16_t port) {
  time_t secs = 0;
  t.jstart_["version"] = std::string("netshoot perf ") + NETSHOOT_VERSION + " (iperf 3.12 protocol)";
  t.jstart_["system_info"] = system_info();
  Json ts;
  ts["time"] = iso_time_now(&secs);
  ts["timesecs"] = int64_t(secs);
  t.jstart_["timestamp"] = ts;
  if (!host.empty()) {
    Json c;
    c["host"] = host;
    c["port"] = port;
    t.jstart_["connecting_to"] = c;
  }
}

void print_error(const Options& o, const std::string& msg) {
  std::fprintf(stderr, "iperf3: error - %s\n", msg.c_str());
}

// ================================ client ====================================================

core::Result<IpAddr> resolve_target(const Options& o) {
  if (auto a = IpAddr::try_parse(o.host)) {
    if (o.family != AF_UNSPEC && a->family() != o.family)
      return core::make_error("unable to resolve host " + o.host);
    return *a;
  }
  core::dns::ResolverConfig cfg;
  auto r = core::dns::resolve_host(o.host, o.family, cfg);
  if (!r || r->empty())
    return core::make_error("unable to connect to server: Name or service not known");
  return (*r)[0].addr;
}

core::Result<UniqueFd> open_connected(const Options& o, const IpAddr& addr, int type, const TestParams* p,
                                      int timeout_ms) {
  int fd = ::socket(addr.family(), type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return core::os_error("socket");
  UniqueFd u(fd);
  int one = 1;
  if (!o.bind.empty()) {
    auto b = IpAddr::try_parse(o.bind);
    if (!b) return core::make_error("unable to resolve bind address " + o.bind);
    sockaddr_storage ss{};
    socklen_t len = b->to_sockaddr(0, ss);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return core::os_error("unable to bind");
  }
  if (p) {
    if (auto st = apply_socket_options(fd, *p, true); !st) return st.error();
  }
  int e = connect_timeout(fd, addr, o.port, timeout_ms);
  if (e) {
    errno = e;
    return core::Error{e, "", ""};
  }
  return u;
}

int client_fail(Test& t, const std::string& msg) {
  t.error_ = msg;
  if (t.json_) t.print_json(Json());
  else t.flush();
  print_error(t.o_, msg);
  return 1;
}

}  // namespace

int run_client(const Options& o) {
  auto loop_r = EventLoop::create();
  if (!loop_r) {
    print_error(o, loop_r.error().message());
    return 1;
  }
  EventLoop& loop = **loop_r;
  Test t(false, o, loop);
  fill_start_json(t, o.host, o.port);

  auto addr = resolve_target(o);
  if (!addr) return client_fail(t, addr.error().context);
  t.emit("Connecting to host " + o.host + ", port " + std::to_string(o.port));
  if (o.reverse) t.emit("Reverse mode, remote host " + o.host + " is sending");
  t.flush();

  int ct = o.connect_timeout_ms > 0 ? o.connect_timeout_ms : 60000;
  auto cfd = open_connected(o, *addr, SOCK_STREAM, nullptr, ct);
  if (!cfd) return client_fail(t, "unable to connect to server: " + errno_text(cfd.error().code));
  t.ctl_.fd = std::move(*cfd);
  t.ctl_.nodelay();
  t.cookie_ = make_cookie();
  t.jstart_["cookie"] = t.cookie_.substr(0, kCookieSize - 1);
  if (!t.ctl_.send_all(t.cookie_.data(), kCookieSize))
    return client_fail(t, "unable to send cookie to server: " + errno_text(errno));

  // MSS of the control connection: the default UDP datagram size, as iperf3's.
  int mss = 0;
  socklen_t ml = sizeof mss;
  if (::getsockopt(t.ctl_.fd.get(), IPPROTO_TCP, TCP_MAXSEG, &mss, &ml) != 0 || mss <= 0) mss = 1460;
  t.jstart_["tcp_mss_default"] = mss;

  TestParams& p = t.p_;
  p.udp = o.udp;
  p.omit = o.omit;
  p.time = (o.bytes || o.blocks) ? 0 : o.time;
  p.num = o.bytes;
  p.blockcount = o.blocks;
  p.parallel = o.parallel;
  p.reverse = o.reverse;
  p.bidirectional = o.bidir;
  p.len = o.len > 0 ? o.len : (o.udp ? std::min(mss, 65507) : kDefaultTcpLen);
  p.window = o.window;
  p.bandwidth = o.rate ? uint64_t(*o.rate) : (o.udp ? 1000000 : 0);
  p.mss = o.mss;
  p.nodelay = o.nodelay;
  p.congestion = o.congestion;
  p.title = o.title;
  p.get_server_output = o.get_server_output;
  p.udp_counters_64bit = o.udp64;
  t.jstart_["target_bitrate"] = p.bandwidth;
  t.jstart_["sock_bufsize"] = p.window;

  // interrupt: report what we have, tell the server
  bool interrupted = false;
  auto on_signal = [&](const signalfd_siginfo&) {
    interrupted = true;
    t.interrupted_ = true;
    t.stop_data();
    t.ctl_.send_state(kClientTerminate);
    t.finish_loop();
    loop.stop();
  };
  (void)loop.add_signal(SIGINT, on_signal);
  (void)loop.add_signal(SIGTERM, on_signal);
  (void)loop.add_signal(SIGHUP, on_signal);
  auto check_signal = [&] {
    (void)loop.run_once(std::chrono::milliseconds(0));
    return interrupted;
  };

  // PARAM_EXCHANGE ... CREATE_STREAMS ... TEST_START ... TEST_RUNNING
  bool streams_made = false;
  for (;;) {
    auto st = t.ctl_.state(o.rcv_timeout_ms);
    if (check_signal()) break;
    if (!st) return client_fail(t, st.error().context);
    int8_t s = *st;
    if (s == kParamExchange) {
      if (!t.ctl_.send_json(encode_params(p)))
        return client_fail(t, "unable to send parameters to server: " + errno_text(errno));
    } else if (s == kCreateStreams) {
      t.prepare_buffers();
      int n = p.bidirectional ? 2 * p.parallel : p.parallel;
      for (int i = 0; i < n; ++i) {
        bool sender = p.bidirectional ? i < p.parallel : !p.reverse;
        auto fd = open_connected(o, *addr, p.udp ? SOCK_DGRAM : SOCK_STREAM, &p, ct);
        if (!fd) {
          if (fd.error().code) return client_fail(t, "unable to create a new stream: " + errno_text(fd.error().code));
          return client_fail(t, fd.error().message());
        }
        if (!p.udp) {
          Control c;
          c.fd = std::move(*fd);
          if (!c.send_all(t.cookie_.data(), kCookieSize))
            return client_fail(t, "unable to send cookie to server: " + errno_text(errno));
          fd = std::move(c.fd);
        } else {
          // "9876" until "6789" comes back (a retry every second, 10 s in all)
          bool ok = false;
          for (int tries = 0; tries < 10 && !ok; ++tries) {
            if (::send(fd->get(), kUdpConnectMsg.data(), 4, 0) != 4) {
              return client_fail(t, "unable to write to stream socket: " + errno_text(errno));
            }
            pollfd pf{fd->get(), POLLIN, 0};
            double until = mono() + 1.0;
            while (!ok && mono() < until) {
              if (::poll(&pf, 1, 100) <= 0) continue;
              uint8_t b[16];
              ssize_t r = ::recv(fd->get(), b, sizeof b, MSG_DONTWAIT);
              if (r < 0 && errno == ECONNREFUSED)
                return client_fail(t, "unable to read from stream socket: Connection refused");
              uint32_t legacy = kUdpLegacyReply;
              if (r == 4 && (std::memcmp(b, kUdpConnectReply.data(), 4) == 0 || std::memcmp(b, &legacy, 4) == 0))
                ok = true;
            }
          }
          if (!ok) return client_fail(t, "unable to read from stream socket: no reply to the UDP stream handshake");
        }
        t.add_stream(std::move(*fd), sender);
      }
      streams_made = true;
    } else if (s == kTestStart) {
      if (!streams_made) return client_fail(t, "the server started the test before the streams existed");
    } else if (s == kTestRunning) {
      break;
    } else if (s == kAccessDenied) {
      return client_fail(t, "the server is busy running a test. try again later");
    } else if (s == kServerError) {
      t.ctl_.pump();
      auto codes = t.ctl_.rd.take_error_codes();
      return client_fail(t, codes ? "the server reported an error (iperf3 error " + std::to_string(codes->first) + ")"
                                  : "the server reported an error");
    } else if (s == kServerTerminate) {
      return client_fail(t, "the server has terminated");
    } else {
      return client_fail(t, std::string("unexpected control message ") + std::to_string(int(s)));
    }
  }
  if (interrupted) {
    t.ctl_.send_state(kClientTerminate);
    std::fprintf(stderr, "iperf3: interrupt - the client has terminated\n");
    return 1;
  }

  if (!t.streams_.empty()) {
    int sb = 0, rb = 0;
    socklen_t l = sizeof sb;
    ::getsockopt(t.streams_[0]->fd.get(), SOL_SOCKET, SO_SNDBUF, &sb, &l);
    l = sizeof rb;
    ::getsockopt(t.streams_[0]->fd.get(), SOL_SOCKET, SO_RCVBUF, &rb, &l);
    t.jstart_["sndbuf_actual"] = sb;
    t.jstart_["rcvbuf_actual"] = rb;
  }
  t.jstart_["test_start"] = t.test_start_json();
  t.print_connected();
  t.print_interval_header();
  t.flush();

  t.start_data([&] { loop.stop(); });
  (void)loop.run();

  if (interrupted) {
    Json end = t.summary(nullptr);
    if (t.json_) t.print_json(end);
    t.flush();
    std::fprintf(stderr, "iperf3: interrupt - the client has terminated\n");
    return 1;
  }
  if (!t.error_.empty()) {
    if (t.peer_terminated_) {
      Json end = t.summary(nullptr);
      if (t.json_) { t.print_json(end); }
      print_error(o, t.error_);
      return 1;
    }
    return client_fail(t, t.error_);
  }
  // EXCHANGE_RESULTS: ours first, then the server's
  if (!t.ctl_.send_json(encode_results(t.local_results())))
    return client_fail(t, "unable to send results to server: " + errno_text(errno));
  auto rj = t.ctl_.json(kSetupTimeoutMs);
  if (!rj) return client_fail(t, rj.error().context);
  auto peer = decode_results(*rj);
  if (!peer) return client_fail(t, "unable to receive results: " + peer.error().context);
  auto ds = t.ctl_.state(kSetupTimeoutMs);
  if (!ds) return client_fail(t, ds.error().context);
  if (*ds != kDisplayResults) return client_fail(t, std::string("unexpected control message ") + std::to_string(int(*ds)));
  Json end = t.summary(&*peer);
  t.ctl_.send_state(kIperfDone);
  if (t.json_) {
    if (!peer->server_output_text.empty()) {
      // iperf3 puts the server's text into "server_output_text" at the top level
    }
    Json doc_end = end;
    t.print_json(doc_end);
  } else {
    if (!peer->server_output_text.empty()) {
      t.emit("");
      t.emit("Server output:");
      std::fputs(peer->server_output_text.c_str(), stdout);
    }
    t.emit("");
    t.emit("iperf Done.");
  }
  t.flush();
  return 0;
}

// ================================ server ====================================================

namespace {

struct Server {
  Options o;
  EventLoop& loop;
  UniqueFd listener;
  int family = AF_INET6;
  IpAddr bind_addr;
  int test_no = 1;
  bool stop = false;
  bool in_test = false;
  int exit_code = 0;

  Server(const Options& opt, EventLoop& l) : o(opt), loop(l) {}

  core::Status listen_tcp() {
    IpAddr a;
    if (!o.bind.empty()) {
      auto b = IpAddr::try_parse(o.bind);
      if (!b) return core::make_error("unable to start listener for connections: bad bind address");
      a = *b;
    } else {
      a = IpAddr::any(o.family == AF_INET ? AF_INET : AF_INET6);
    }
    bind_addr = a;
    family = a.family();
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 && family == AF_INET6 && o.bind.empty()) {  // no IPv6 here
      a = IpAddr::any(AF_INET);
      bind_addr = a;
      family = AF_INET;
      fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    }
    if (fd < 0) return core::os_error("unable to start listener for connections");
    listener.reset(fd);
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6)
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, o.family == AF_INET6 ? &one : &zero, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = a.to_sockaddr(o.port, ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0)
      return core::os_error("unable to start listener for connections");
    return {};
  }

  void banner() {
    if (o.json) return;
    std::printf("-----------------------------------------------------------\n"
                "Server listening on %u (test #%d)\n"
                "-----------------------------------------------------------\n",
                unsigned(o.port), test_no);
    std::fflush(stdout);
  }

  // Someone knocks while a test runs: iperf3's answer is ACCESS_DENIED.
  void deny_busy() {
    int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    UniqueFd u(c);
    pollfd p{c, POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char b[kCookieSize];
      (void)::recv(c, b, sizeof b, MSG_DONTWAIT);
    }
    int8_t s = kAccessDenied;
    (void)::send(c, &s, 1, MSG_NOSIGNAL);
  }

  UniqueFd accept_one(int timeout_ms) {
    pollfd p{listener.get(), POLLIN, 0};
    int r;
    do r = ::poll(&p, 1, timeout_ms); while (r < 0 && errno == EINTR);
    if (r <= 0) return {};
    int c = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    return UniqueFd(c);
  }

  // One client, start to end. Problems end this test only.
  void serve(UniqueFd cfd) {
    Test t(true, o, loop);
    t.ctl_.fd = std::move(cfd);
    t.ctl_.nodelay();
    (void)core::set_nonblocking(t.ctl_.fd.get());
    IpAddr peer;
    uint16_t pport = 0, lport = 0;
    IpAddr local;
    endpoints(t.ctl_.fd.get(), local, lport, peer, pport);
    fill_start_json(t, "", 0);

    auto err = [&](const std::string& m) {
      t.error_ = m;
      if (t.json_) t.print_json(Json());
      std::fflush(stdout);
      std::fprintf(stderr, "iperf3: error - %s\n", m.c_str());
      exit_code = 1;
    };
    // cookie (37 bytes)
    double deadline = mono() + kSetupTimeoutMs / 1000.0;
    while (t.ctl_.rd.buffered() < kCookieSize && !t.ctl_.eof && mono() < deadline) {
      t.ctl_.wait_readable(200);
      t.ctl_.pump();
    }
    std::vector<uint8_t> cookie;
    for (size_t i = 0; i < kCookieSize; ++i) {
      auto b = t.ctl_.rd.take_state();
      if (!b) break;
      cookie.push_back(uint8_t(*b));
    }
    if (!valid_cookie(cookie)) {
      return err("unable to receive cookie at server (from " + peer.to_string() + ")");
    }
    t.cookie_.assign(cookie.begin(), cookie.end());
    t.jstart_["cookie"] = t.cookie_.substr(0, kCookieSize - 1);
    t.emit("Accepted connection from " + peer.to_string() + ", port " + std::to_string(pport));
    Json acc;
    acc["host"] = peer.to_string();
    acc["port"] = pport;
    t.jstart_["accepted_connection"] = acc;
    t.flush();
    if (!t.ctl_.send_state(kParamExchange)) return err("unable to send control message: " + errno_text(errno));
    auto pj = t.ctl_.json(kSetupTimeoutMs);
    if (!pj) return err(pj.error().context);
    auto params = decode_params(*pj);
    if (!params) {
      int8_t e = kServerError;
      uint32_t codes[2] = {htonl(1), 0};
      t.ctl_.send_state(e);
      t.ctl_.send_all(codes, sizeof codes);
      return err("received an invalid parameter block: " + params.error().context);
    }
    t.p_ = *params;
    t.copy_text_ = t.p_.get_server_output;
    TestParams& p = t.p_;
    t.prepare_buffers();
    int n = p.bidirectional ? 2 * p.parallel : p.parallel;

    // UDP: the first socket must be bound before the client is told to connect
    auto udp_socket = [&]() -> UniqueFd {
      int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return {};
      UniqueFd u(fd);
      int one = 1, zero = 0;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (family == AF_INET6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, o.family == AF_INET6 ? &one : &zero, sizeof one);
      if (p.window > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &p.window, sizeof p.window);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &p.window, sizeof p.window);
      } else {
        int big = 4 << 20;  // keep bursts of small datagrams
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
      }
      sockaddr_storage ss{};
      socklen_t len = bind_addr.to_sockaddr(o.port, ss);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return {};
      return u;
    };
    UniqueFd next_udp;
    if (p.udp) {
      next_udp = udp_socket();
      if (!next_udp) return err("unable to create a new stream: " + errno_text(errno));
    }
    if (!t.ctl_.send_state(kCreateStreams)) return err("unable to send control message: " + errno_text(errno));
    for (int i = 0; i < n; ++i) {
      // client's sender streams are our receivers
      bool client_sender = p.bidirectional ? i < p.parallel : !p.reverse;
      if (!p.udp) {
        bool got = false;
        double until = mono() + kSetupTimeoutMs / 1000.0;
        while (!got && mono() < until) {
          UniqueFd s = accept_one(int((until - mono()) * 1000) + 1);
          if (!s) continue;
          Control c;
          c.fd = std::move(s);
          (void)core::set_nonblocking(c.fd.get());
          double cd = mono() + 5;
          while (c.rd.buffered() < kCookieSize && !c.eof && mono() < cd) {
            c.wait_readable(100);
            c.pump();
          }
          std::string ck;
          while (ck.size() < kCookieSize) {
            auto b = c.rd.take_state();
            if (!b) break;
            ck.push_back(char(*b));
          }
          if (ck != t.cookie_) {
            // another client while we set up: busy; garbage: dropped
            if (valid_cookie({reinterpret_cast<const uint8_t*>(ck.data()), ck.size()})) {
              int8_t d = kAccessDenied;
              (void)::send(c.fd.get(), &d, 1, MSG_NOSIGNAL);
            }
            continue;
          }
          (void)apply_socket_options(c.fd.get(), p, false);
          t.add_stream(std::move(c.fd), !client_sender);
          got = true;
        }
        if (!got) return err("unable to accept stream connection: timed out");
      } else {
        UniqueFd u = std::move(next_udp);
        pollfd pf{u.get(), POLLIN, 0};
        int r = ::poll(&pf, 1, kSetupTimeoutMs);
        if (r <= 0) return err("unable to receive the UDP stream handshake: timed out");
        uint8_t b[64];
        sockaddr_storage from{};
        socklen_t fl = sizeof from;
        ssize_t got = ::recvfrom(u.get(), b, sizeof b, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (got < 0) return err("unable to read from stream socket: " + errno_text(errno));
        if (::connect(u.get(), reinterpret_cast<sockaddr*>(&from), fl) != 0)
          return err("unable to connect stream socket: " + errno_text(errno));
        if (i + 1 < n) {
          next_udp = udp_socket();
          if (!next_udp) return err("unable to create a new stream: " + errno_text(errno));
        }
        if (::send(u.get(), kUdpConnectReply.data(), 4, 0) != 4)
          return err("unable to write to stream socket: " + errno_text(errno));
        t.add_stream(std::move(u), !client_sender);
      }
    }
    t.jstart_["test_start"] = t.test_start_json();
    t.print_connected();
    t.flush();
    if (!t.ctl_.send_state(kTestStart) || !t.ctl_.send_state(kTestRunning))
      return err("unable to send control message: " + errno_text(errno));
    t.print_interval_header();

    in_test = true;
    (void)loop.add_fd(listener.get(), EPOLLIN, [this](uint32_t) { deny_busy(); });
    core::ScopeExit unlisten([this] {
      if (loop.has_fd(listener.get())) (void)loop.remove_fd(listener.get());
    });
    bool done = false;
    t.start_data([&] { done = true; });
    while (!done && !stop) (void)loop.run_once(std::chrono::milliseconds(500));
    in_test = false;
    if (stop) {
      t.stop_data();
      t.ctl_.send_state(kServerTerminate);
      t.detach();
      return;
    }
    if (!t.error_.empty()) {
      if (t.peer_terminated_) {
        t.summary(nullptr);
        t.flush();
        std::fprintf(stderr, "iperf3: the client has terminated\n");
        return;
      }
      return err(t.error_);
    }
    t.stop_data();
    if (!t.ctl_.send_state(kExchangeResults)) return err("unable to send control message: " + errno_text(errno));
    auto cj = t.ctl_.json(kSetupTimeoutMs);
    if (!cj) return err(cj.error().context);
    auto peer_res = decode_results(*cj);
    if (!peer_res) return err("unable to receive results: " + peer_res.error().context);
    // the summary goes into our results when the client wants our output
    Json end = t.summary(&*peer_res);
    Results mine = t.local_results();
    if (p.get_server_output) mine.server_output_text = t.text_copy_;
    if (!t.ctl_.send_json(encode_results(mine))) return err("unable to send results: " + errno_text(errno));
    if (!t.ctl_.send_state(kDisplayResults)) return err("unable to send control message: " + errno_text(errno));
    auto d = t.ctl_.state(kSetupTimeoutMs);  // IPERF_DONE (or the client just closing)
    (void)d;
    if (t.json_) t.print_json(end);
    t.flush();
  }
};

}  // namespace

int run_server(const Options& o) {
  auto loop_r = EventLoop::create();
  if (!loop_r) {
    print_error(o, loop_r.error().message());
    return 1;
  }
  EventLoop& loop = **loop_r;
  Server srv(o, loop);
  if (auto st = srv.listen_tcp(); !st) {
    print_error(o, st.error().message());
    return 1;
  }
  bool got_signal = false;
  auto on_signal = [&](const signalfd_siginfo&) {
    got_signal = true;
    srv.stop = true;
  };
  (void)loop.add_signal(SIGINT, on_signal);
  (void)loop.add_signal(SIGTERM, on_signal);
  (void)loop.add_signal(SIGHUP, on_signal);
  (void)loop.add_signal(SIGPIPE, [](const signalfd_siginfo&) {});
  UniqueFd pending;
  (void)loop.add_fd(srv.listener.get(), EPOLLIN, [&](uint32_t) {
    if (srv.in_test || pending) {
      srv.deny_busy();
      return;
    }
    int c = ::accept4(srv.listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (c >= 0) pending.reset(c);
  });
  srv.banner();
  while (!srv.stop) {
    (void)loop.run_once(std::chrono::milliseconds(500));
    if (srv.stop) break;
    if (!pending) continue;
    (void)loop.remove_fd(srv.listener.get());  // stream connections arrive here during setup
    srv.serve(std::move(pending));
    pending.reset();
    if (o.one_off || srv.stop) break;
    ++srv.test_no;
    srv.banner();
    (void)loop.add_fd(srv.listener.get(), EPOLLIN, [&](uint32_t) {
      if (srv.in_test || pending) {
        srv.deny_busy();
        return;
      }
      int c = ::accept4(srv.listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) pending.reset(c);
    });
  }
  if (got_signal) {
    std::fflush(stdout);
    std::fprintf(stderr, "iperf3: interrupt - the server has terminated\n");
    return 1;
  }
  return srv.exit_code;
}

}  // namespace netshoot::applet::perf

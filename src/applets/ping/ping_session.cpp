// iputils ping semantics for one target: a probe every interval (-i), -c probes,
// then a linger for outstanding replies (twice the longest RTT, or -W when nothing
// answered), -w deadline, -f flood, -l preload, -O, SIGINT/SIGTERM → summary,
// SIGQUIT → status line. Exit: 0 replies, 1 none (or fewer than -c by -w), 2 error.
#include <netinet/in.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "format.h"
#include "netshoot/log.h"
#include "netshoot/output.h"
#include "prober.h"
#include "session.h"

namespace netshoot::applet::ping {
namespace {

using Clock = core::EventLoop::Clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

nanoseconds secs(double s) { return nanoseconds(int64_t(s * 1e9)); }

// The source address the kernel would use (iputils does this with a UDP connect):
// also the first check that a route exists.
core::Result<core::IpAddr> route_source(const core::IpAddr& dst, const std::string& iface) {
  auto s = core::open_udp_socket(dst.family());
  if (!s) return s.error();
  if (!iface.empty())
    if (auto st = apply_interface(s->get(), dst.family(), iface); !st) return st.error();
  sockaddr_storage ss;
  socklen_t len = dst.to_sockaddr(1025, ss);
  if (::connect(s->get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return core::os_error("connect");
  len = sizeof ss;
  if (::getsockname(s->get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) return core::os_error("getsockname");
  auto ep = core::Endpoint::from_sockaddr(ss, len);
  if (!ep) return core::make_error("getsockname: unexpected address");
  return ep->addr;
}

class PingSession {
 public:
  PingSession(Context& ctx, const Options& o, const ResolvedTarget& t)
      : ctx_(ctx), o_(o), t_(t), out_(core::Output::make(o.json)) {}

  int run();

 private:
  void send_one();
  void schedule_next(nanoseconds delay);
  void on_event(const ProbeEvent& ev);
  void check_done();
  void all_sent();
  void finish();
  std::string stamp(const timespec& t) const {
    return o_.timestamps ? fmt::format("[{}.{:06}] ", t.tv_sec, t.tv_nsec / 1000) : std::string();
  }
  bool tcp() const { return o_.probe == Probe::tcp; }
  core::Json base_json() const {
    core::Json j;
    j["target"] = t_.name;
    j["addr"] = addr_text_;
    return j;
  }

  Context& ctx_;
  const Options& o_;
  const ResolvedTarget& t_;
  std::unique_ptr<core::Output> out_;
  std::unique_ptr<core::EventLoop> loop_;
  std::unique_ptr<Prober> prober_;
  RttStats stats_;
  std::string addr_text_;
  bool resolve_names_ = false;
  Clock::time_point start_, last_send_;
  nanoseconds interval_{0};
  core::EventLoop::TimerId send_timer_ = 0, linger_timer_ = 0;
  bool sending_done_ = false, finished_ = false;
  uint16_t last_seq_ = 0;
  bool last_answered_ = true;
  uint64_t outstanding_ = 0;
  int max_outstanding_ = 0;
  std::unordered_map<uint16_t, core::EventLoop::TimerId> tcp_timeouts_;
};

int PingSession::run() {
  auto loop = core::EventLoop::create();
  if (!loop) {
    spdlog::error("{}", loop.error().message());
    return 2;
  }
  loop_ = std::move(*loop);
  addr_text_ = t_.addr.to_string();
  resolve_names_ = !o_.numeric && !t_.numeric && !o_.json;
  auto src = route_source(t_.addr, o_.interface);
  if (!src) {
    spdlog::error("{}", src.error().message());
    return 2;
  }
  ProberConfig pc = prober_config(o_);
  pc.first_seq = 1;
  pc.need_v4 = t_.addr.is_v4();
  pc.need_v6 = t_.addr.is_v6();
  auto handler = [this](const ProbeEvent& ev) { on_event(ev); };
  auto prober = tcp() ? open_tcp_prober(*loop_, pc, handler) : open_icmp_prober(*loop_, pc, handler);
  if (!prober) {
    spdlog::error("{}", prober.error().message());
    return 2;
  }
  prober_ = std::move(*prober);
  if (o_.verbose || ctx_.verbose) std::fprintf(stderr, "ping: using %s\n", prober_->describe().c_str());

  std::string from = o_.interface.empty() ? std::string() : src->to_string();
  std::string header = tcp() ? tcp_header(t_.name, addr_text_, o_.tcp_port)
                             : ping_header(t_.name, addr_text_, t_.addr.is_v6(), o_.size, from, o_.interface);
  if (!o_.pattern.empty() && !tcp()) {  // iputils announces the pattern before the header
    std::string hex;
    for (uint8_t b : o_.pattern) hex += fmt::format("{:02x}", b);
    header = "PATTERN: 0x" + hex + "\n" + header;
  }
  core::Json sj = base_json();
  sj["bytes"] = o_.size;
  sj["probe"] = tcp() ? "tcp" : "icmp";
  std::string desc = prober_->describe();
  sj["socket"] = tcp() ? "tcp" : desc.find("raw") != std::string::npos ? "raw" : "dgram";
  out_->record("start", sj, header);

  auto stop = [this](const signalfd_siginfo&) { finish(); };
  (void)loop_->add_signal(SIGINT, stop);
  (void)loop_->add_signal(SIGTERM, stop);
  (void)loop_->add_signal(SIGQUIT, [this](const signalfd_siginfo&) {
    std::fprintf(stderr, "\r%s\n", ping_status_line(stats_).c_str());
  });

  interval_ = secs(o_.interval_s);
  if (o_.flood && interval_ == nanoseconds(0)) interval_ = milliseconds(10);
  start_ = last_send_ = Clock::now();
  if (o_.deadline_s > 0) loop_->add_timer(secs(o_.deadline_s), [this] { finish(); });
  for (int i = 1; i < o_.preload && !sending_done_; ++i) send_one();
  send_one();
  while (!finished_) {
    auto r = loop_->run_once();
    if (!r) {
      spdlog::error("{}", r.error().message());
      return 2;
    }
  }
  bool fail = stats_.received == 0 || (o_.deadline_s > 0 && o_.count && stats_.received < *o_.count);
  return fail ? 1 : 0;
}

void PingSession::send_one() {
  if (finished_ || sending_done_) return;
  if (o_.count && stats_.transmitted >= *o_.count) return all_sent();
  uint32_t probe = uint32_t(stats_.transmitted + 1);
  auto sent = prober_->send(0, probe, t_.addr);
  if (sent.err == ENOBUFS || sent.err == EAGAIN || sent.err == ENOMEM) {  // queue full: retry shortly
    schedule_next(milliseconds(10));
    return;
  }
  if (o_.report_outstanding && stats_.transmitted > 0 && !last_answered_ && !o_.quiet)
    out_->record("no_answer", core::Json{{"target", t_.name}, {"seq", last_seq_}},
                 fmt::format("no answer yet for icmp_seq={}", last_seq_));
  ++stats_.transmitted;
  last_send_ = Clock::now();
  last_seq_ = sent.seq;
  last_answered_ = false;
  if (sent.err) {
    ++stats_.errors;
    if (!o_.quiet) spdlog::error("sendmsg: {}", std::strerror(sent.err));
  } else {
    ++outstanding_;
    max_outstanding_ = std::max<int>(max_outstanding_, int(outstanding_));
    if (o_.flood && !o_.quiet && !o_.json) out_->raw(".");
    if (tcp()) {
      uint16_t seq = sent.seq;
      double wait = o_.linger_set ? o_.linger_s : std::max(2.0, o_.interval_s);
      tcp_timeouts_[seq] = loop_->add_timer(secs(wait), [this, seq] {
        tcp_timeouts_.erase(seq);
        prober_->forget(seq);
        if (outstanding_) --outstanding_;
        core::Json j = base_json();
        j["seq"] = seq;
        if (!o_.quiet)
          out_->record("timeout", j, fmt::format("{}port {} from {}: tcp_seq={} timeout", stamp(core::realtime_now()),
                                                 o_.tcp_port, addr_text_, seq));
        check_done();
      });
    }
  }
  if (o_.count && stats_.transmitted >= *o_.count) return all_sent();
  schedule_next(interval_);
}

void PingSession::schedule_next(nanoseconds delay) {
  if (send_timer_) loop_->cancel_timer(send_timer_);
  send_timer_ = loop_->add_timer(delay, [this] {
    send_timer_ = 0;
    send_one();
  });
}

void PingSession::all_sent() {
  sending_done_ = true;
  if (send_timer_) loop_->cancel_timer(send_timer_), send_timer_ = 0;
  check_done();
  if (finished_ || o_.deadline_s > 0) return;  // with -w, the deadline ends it
  // Linger: twice the longest RTT (at least one interval) once something answered,
  // else -W (10 s by default).
  nanoseconds wait = secs(o_.linger_s);
  if (stats_.received) wait = std::max(nanoseconds(stats_.max_us * 2000), interval_);
  if (tcp() && !o_.linger_set) wait = std::max(wait, secs(std::max(2.0, o_.interval_s)));
  if (linger_timer_) loop_->cancel_timer(linger_timer_);
  linger_timer_ = loop_->add_timer_at(last_send_ + wait, [this] { finish(); });
}

void PingSession::check_done() {
  if (finished_) return;
  if (o_.count && stats_.received + stats_.errors >= *o_.count) return finish();
  if (o_.deadline_s > 0 && stats_.errors) return finish();
  if (tcp() && sending_done_ && outstanding_ == 0) return finish();
}

void PingSession::on_event(const ProbeEvent& ev) {
  if (finished_) return;
  if (ev.seq == last_seq_) last_answered_ = true;
  if (tcp()) {
    if (auto it = tcp_timeouts_.find(ev.seq); it != tcp_timeouts_.end()) {
      loop_->cancel_timer(it->second);
      tcp_timeouts_.erase(it);
    }
  }
  if (!ev.duplicate && outstanding_ && ev.kind != EventKind::icmp_error) --outstanding_;
  std::string ts = stamp(ev.when);
  core::Json j = base_json();
  j["from"] = ev.from.to_string();
  j["seq"] = ev.seq;
  if (ev.kind == EventKind::reply || ev.kind == EventKind::refused) {
    bool corrupt = ev.bad_checksum;
    if (corrupt) ++stats_.corrupted;
    else if (ev.duplicate) ++stats_.duplicates;
    else ++stats_.received;
    int64_t us = ev.rtt_ns >= 0 ? ev.rtt_ns / 1000 : -1;
    if (us >= 0 && !corrupt) stats_.add_rtt(us);
    ReplyLine r;
    r.bytes = ev.bytes;
    r.from = display_from(ev.from, resolve_names_);
    r.seq = ev.seq;
    r.ttl = ev.ttl;
    r.rtt_us = us;
    r.dup = ev.duplicate;
    r.bad_checksum = ev.bad_checksum;
    r.truncated = ev.truncated;
    r.timestamp = ts;
    if (tcp()) {
      r.tcp_state = ev.kind == EventKind::reply ? "open" : "refused (RST)";
      r.port = o_.tcp_port;
      j["state"] = ev.kind == EventKind::reply ? "open" : "refused";
    } else {
      j["bytes"] = ev.bytes;
      j["ttl"] = ev.ttl;
    }
    j["rtt_ms"] = ms_or_null(us);
    j["dup"] = ev.duplicate;
    j["time"] = double(ev.when.tv_sec) + double(ev.when.tv_nsec) / 1e9;
    std::string text = ping_reply_line(r);
    if (ev.wrong_byte >= 0) {
      text += fmt::format("\nwrong data byte #{} should be 0x{:x} but was 0x{:x}", ev.wrong_byte, ev.wrong_expected,
                          ev.wrong_got);
      j["wrong_byte"] = ev.wrong_byte;
    }
    if (o_.flood && !o_.json) {
      if (!o_.quiet) out_->raw("\b \b");
    } else if (!o_.quiet) {
      out_->record("reply", j, text);
    }
    // Flood: the next probe goes as soon as the previous one is answered.
    if (o_.flood && !o_.interval_set && outstanding_ == 0 && !sending_done_) schedule_next(nanoseconds(0));
  } else {
    ++stats_.errors;
    std::string what = ev.kind == EventKind::icmp_error ? icmp_error_text(ev.v6, ev.icmp_type, ev.icmp_code, ev.icmp_info)
                       : ev.err == EMSGSIZE ? fmt::format("local error: message too long, mtu={}", ev.icmp_info)
                                            : std::string(std::strerror(ev.err));
    j["error"] = what;
    if (ev.kind == EventKind::icmp_error) j["icmp_type"] = ev.icmp_type, j["icmp_code"] = ev.icmp_code;
    j["time"] = double(ev.when.tv_sec) + double(ev.when.tv_nsec) / 1e9;
    std::string text = fmt::format("{}From {} {}_seq={} {}", ts, display_from(ev.from, resolve_names_),
                                   tcp() ? "tcp" : "icmp", ev.seq, what);
    if (o_.flood && !o_.json) {
      if (!o_.quiet) out_->raw("E");
    } else if (!o_.quiet) {
      out_->record("error", j, text);
    }
  }
  check_done();
}

void PingSession::finish() {
  if (finished_) return;
  finished_ = true;
  int64_t elapsed = duration_cast<milliseconds>(last_send_ - start_).count();
  bool timed = prober_ && prober_->timed();
  int64_t ipg = stats_.transmitted > 1 ? duration_cast<std::chrono::microseconds>(last_send_ - start_).count() /
                                             int64_t(stats_.transmitted - 1)
                                       : 0;
  std::string text = "\n" + ping_summary(t_.name, stats_, elapsed, timed, o_.flood ? 0 : max_outstanding_, o_.flood, ipg);
  out_->record("summary", summary_json(t_.name, addr_text_, stats_, elapsed), text);
  out_->flush();
  loop_->stop();
}

}  // namespace

int run_ping_session(Context& ctx, const Options& o, const ResolvedTarget& target) {
  PingSession s(ctx, o, target);
  return s.run();
}

}  // namespace netshoot::applet::ping

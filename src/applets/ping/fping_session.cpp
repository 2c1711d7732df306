// fping semantics: every target in flight at once over one socket per family.
// Sends are paced globally (-i, 1 ms by default) from one FIFO of ready hosts, and
// at most kMaxActive hosts are being probed at a time (each unresolved on-link
// address holds a kernel neighbour entry for ~3 s; the table overflows at 1024).
//   default: one probe per host, retried after -t ms (times -B per retry, -r times);
//            "is alive" on the first reply, "is unreachable" after the last timeout
//            or at once on an ICMP error (e.g. the kernel's own ARP failure).
//   -c/-C/-l: probes every -p ms per host, per-reply lines, a summary per host.
// Exit: 0 all alive, 1 some unreachable, 2 unknown host, 3 usage (parser), 4 system.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>

#include <fmt/format.h>

#include "format.h"
#include "netshoot/log.h"
#include "netshoot/output.h"
#include "prober.h"
#include "session.h"

namespace netshoot::applet::ping {
namespace {

using Clock = core::EventLoop::Clock;
using std::chrono::nanoseconds;

constexpr size_t kMaxActive = 512;

struct Host {
  ResolvedTarget t;
  std::string display;
  RttStats stats;
  std::vector<int64_t> rtt_ns;  // per probe: -1 no answer (yet)
  int tries = 0;                // default mode: probes sent
  double timeout_ms = 0;
  bool started = false, done = false, alive = false;
  core::EventLoop::TimerId timer = 0;
  int64_t first_rtt_ns = -1;
};

class FpingSession {
 public:
  FpingSession(Context& ctx, const Options& o, std::vector<ResolvedTarget> targets)
      : ctx_(ctx), o_(o), out_(core::Output::make(o.json)) {
    for (auto& t : targets) {
      Host h;
      h.t = std::move(t);
      h.display = h.t.name;
      hosts_.push_back(std::move(h));
    }
  }
  int run();

 private:
  bool counting() const { return o_.count.has_value() || o_.loop; }
  void activate_more();
  void make_ready(uint32_t i) {
    ready_.push_back(i);
    pump_soon();
  }
  void pump_soon();
  void pump();
  void send(uint32_t i);
  void on_timeout(uint32_t i, uint32_t probe);
  void on_event(const ProbeEvent& ev);
  void host_done(uint32_t i);
  void finish();
  void print_summaries();
  core::Json host_json(const Host& h) const {
    core::Json j;
    j["target"] = h.t.name;
    j["addr"] = h.t.addr.to_string();
    return j;
  }

  Context& ctx_;
  const Options& o_;
  std::unique_ptr<core::Output> out_;
  std::unique_ptr<core::EventLoop> loop_;
  std::unique_ptr<Prober> prober_;
  std::vector<Host> hosts_;
  std::deque<uint32_t> ready_;
  size_t next_start_ = 0, active_ = 0, remaining_ = 0;
  Clock::time_point start_, next_allowed_;
  nanoseconds interval_{0};
  core::EventLoop::TimerId pump_timer_ = 0;
  bool finished_ = false;
  uint64_t sent_total_ = 0, replies_total_ = 0, icmp_other_ = 0, timeouts_ = 0;
};

int FpingSession::run() {
  auto loop = core::EventLoop::create();
  if (!loop) {
    spdlog::error("{}", loop.error().message());
    return 4;
  }
  loop_ = std::move(*loop);
  ProberConfig pc = prober_config(o_);
  pc.first_seq = 0;
  for (auto& h : hosts_) {
    if (!h.t.error.empty()) continue;
    (h.t.addr.is_v4() ? pc.need_v4 : pc.need_v6) = true;
    if (o_.reverse_names) {
      if (auto n = reverse_name(h.t.addr)) h.display = *n;
    } else if (o_.show_addr) {
      h.display = h.t.addr.to_string();
    }
    ++remaining_;
  }
  auto handler = [this](const ProbeEvent& ev) { on_event(ev); };
  if (remaining_ > 0) {
    auto prober = o_.probe == Probe::tcp ? open_tcp_prober(*loop_, pc, handler) : open_icmp_prober(*loop_, pc, handler);
    if (!prober) {
      spdlog::error("{}", prober.error().message());
      return 4;
    }
    prober_ = std::move(*prober);
    if (o_.verbose || ctx_.verbose) std::fprintf(stderr, "fping: using %s\n", prober_->describe().c_str());
  }
  auto stop = [this](const signalfd_siginfo&) { finish(); };
  (void)loop_->add_signal(SIGINT, stop);
  (void)loop_->add_signal(SIGTERM, stop);
  (void)loop_->add_signal(SIGQUIT, [this](const signalfd_siginfo&) { print_summaries(); });
  interval_ = nanoseconds(int64_t(o_.interval_s * 1e9));
  start_ = next_allowed_ = Clock::now();
  activate_more();
  if (remaining_ == 0) finish();
  while (!finished_) {
    auto r = loop_->run_once();
    if (!r) {
      spdlog::error("{}", r.error().message());
      return 4;
    }
  }
  bool unknown = false, dead = false;
  for (const auto& h : hosts_) {
    if (!h.t.error.empty()) unknown = true;
    else if (!h.alive) dead = true;
  }
  return unknown ? 2 : dead ? 1 : 0;
}

void FpingSession::activate_more() {
  while (active_ < kMaxActive && next_start_ < hosts_.size()) {
    uint32_t i = uint32_t(next_start_++);
    Host& h = hosts_[i];
    if (!h.t.error.empty()) continue;
    h.started = true;
    h.timeout_ms = o_.fping_timeout_ms;
    ++active_;
    make_ready(i);
  }
}

void FpingSession::pump_soon() {
  if (pump_timer_ || finished_) return;
  auto now = Clock::now();
  auto at = std::max(now, next_allowed_);
  pump_timer_ = loop_->add_timer_at(at, [this] {
    pump_timer_ = 0;
    pump();
  });
}

void FpingSession::pump() {
  auto now = Clock::now();
  // Catch up after timer slack, but never burst more than a few probes.
  if (next_allowed_ < now - interval_ * 4) next_allowed_ = now - interval_ * 4;
  int budget = 256;  // then let replies be read
  while (!ready_.empty() && !finished_ && budget-- > 0) {
    if (interval_.count() > 0 && next_allowed_ > now) break;
    uint32_t i = ready_.front();
    ready_.pop_front();
    send(i);
    next_allowed_ += interval_;
  }
  if (!ready_.empty()) pump_soon();
}

void FpingSession::send(uint32_t i) {
  Host& h = hosts_[i];
  if (h.done) return;
  uint32_t probe = counting() ? uint32_t(h.stats.transmitted) : uint32_t(h.tries);
  auto sent = prober_->send(i, probe, h.t.addr);
  if (sent.err == ENOBUFS || sent.err == EAGAIN || sent.err == ENOMEM) {
    ready_.push_front(i);
    next_allowed_ = Clock::now() + std::chrono::milliseconds(10);
    return;
  }
  ++sent_total_;
  ++h.stats.transmitted;
  ++h.tries;
  if (counting()) h.rtt_ns.push_back(-1);
  if (sent.err && !o_.quiet) spdlog::error("error while sending ping: {}", std::strerror(sent.err));
  double wait_ms = h.timeout_ms;
  h.timer = loop_->add_timer(nanoseconds(int64_t(wait_ms * 1e6)), [this, i, probe] { on_timeout(i, probe); });
  if (counting()) {
    bool more = o_.loop || h.stats.transmitted < *o_.count;
    if (more)
      loop_->add_timer(nanoseconds(int64_t(o_.period_ms * 1e6)), [this, i] {
        if (!hosts_[i].done) make_ready(i);
      });
  } else {
    h.timeout_ms *= o_.backoff;
  }
}

void FpingSession::on_timeout(uint32_t i, uint32_t probe) {
  Host& h = hosts_[i];
  if (h.done) return;
  ++timeouts_;
  if (counting()) {
    if (o_.json && probe < h.rtt_ns.size() && h.rtt_ns[probe] < 0) {
      core::Json j = host_json(h);
      j["seq"] = probe;
      out_->record("timeout", j, {});
    }
    if (!o_.loop && h.stats.transmitted >= *o_.count && probe + 1 == h.stats.transmitted) host_done(i);
    return;
  }
  if (h.alive) return;
  if (h.tries > o_.retries) {
    host_done(i);
    return;
  }
  make_ready(i);
}

void FpingSession::on_event(const ProbeEvent& ev) {
  if (finished_ || ev.target >= hosts_.size()) return;
  Host& h = hosts_[ev.target];
  if (ev.kind == EventKind::icmp_error || ev.kind == EventKind::local_error) {
    ++icmp_other_;
    std::string what = ev.kind == EventKind::icmp_error ? fping_icmp_text(ev.v6, ev.icmp_type, ev.icmp_code)
                                                        : std::string(std::strerror(ev.err));
    // One line per host and verdict: the kernel sends an error for every probe it
    // had queued behind a failed ARP lookup.
    if (!o_.quiet && !o_.json && (counting() || !h.done))
      std::fprintf(stderr, "%s from %s for ICMP Echo sent to %s\n", what.c_str(), ev.from.to_string().c_str(),
                   h.t.addr.to_string().c_str());
    if (o_.json) {
      core::Json j = host_json(h);
      j["from"] = ev.from.to_string();
      j["seq"] = ev.probe;
      j["error"] = what;
      out_->record("error", j, {});
    }
    // The network said no: in the default mode there is nothing left to retry for.
    if (!counting() && !h.alive && !h.done) host_done(ev.target);
    return;
  }
  if (h.done && !counting()) return;
  if (ev.duplicate) return;
  if (counting() && (ev.probe >= h.rtt_ns.size() || h.rtt_ns[ev.probe] >= 0)) return;
  ++replies_total_;
  ++h.stats.received;
  int64_t rtt_ns = ev.rtt_ns >= 0 ? ev.rtt_ns : 0;
  h.stats.add_rtt(rtt_ns / 1000);
  bool first = !h.alive;
  h.alive = true;
  if (h.first_rtt_ns < 0) h.first_rtt_ns = rtt_ns;
  core::Json j = host_json(h);
  j["from"] = ev.from.to_string();
  j["seq"] = ev.probe;
  j["bytes"] = ev.bytes;
  j["ttl"] = ev.ttl;
  j["rtt_ms"] = double(rtt_ns) / 1e6;
  j["dup"] = false;
  j["time"] = double(ev.when.tv_sec) + double(ev.when.tv_nsec) / 1e9;
  std::string ts = o_.timestamps ? fmt::format("[{}.{:05}] ", ev.when.tv_sec, ev.when.tv_nsec / 10000) : "";
  if (counting()) {
    h.rtt_ns[ev.probe] = rtt_ns;
    int loss = int((h.stats.transmitted - h.stats.received) * 100 / h.stats.transmitted);
    if (!o_.quiet) {
      out_->record("reply", j,
                   ts + fping_reply_line(h.display, ev.probe, ev.bytes, double(rtt_ns) / 1e6,
                                         double(h.stats.avg_us()) / 1e3, loss));
    }
    bool last = !o_.loop && h.stats.transmitted >= *o_.count && ev.probe + 1 == *o_.count;
    if (last) host_done(ev.target);
    return;
  }
  if (first) {
    if (!o_.unreach_only && !o_.quiet) {
      // -a / -u: bare names, one a line (fping prints them so, for scripts).
      std::string text = ts + h.display + (o_.alive_only ? "" : " is alive");
      if (o_.elapsed) text += " (" + format_fping_ms(double(rtt_ns) / 1e6) + " ms)";
      out_->record("reply", j, text);
    }
    host_done(ev.target);
  }
}

void FpingSession::host_done(uint32_t i) {
  Host& h = hosts_[i];
  if (h.done) return;
  h.done = true;
  if (h.timer) loop_->cancel_timer(h.timer);
  if (!counting() && !h.alive) {
    core::Json j = host_json(h);
    j["alive"] = false;
    if (o_.json) out_->record("host", j, {});
    else if (!o_.alive_only && !o_.quiet)
      out_->record("host", j, h.display + (o_.unreach_only ? "" : " is unreachable"));
  } else if (!counting() && o_.json) {
    core::Json j = host_json(h);
    j["alive"] = true;
    j["rtt_ms"] = double(h.first_rtt_ns) / 1e6;
    out_->record("host", j, {});
  }
  --active_;
  --remaining_;
  activate_more();
  if (remaining_ == 0) finish();
}

void FpingSession::print_summaries() {
  std::string err;
  if (counting() && !o_.json) {
    if (!o_.quiet) err += "\n";
    for (const auto& h : hosts_) {
      if (!h.t.error.empty()) continue;
      if (o_.per_probe_summary) {
        err += h.display + " :";
        for (int64_t r : h.rtt_ns) err += " " + (r >= 0 ? format_fping_ms(double(r) / 1e6) : std::string("-"));
        err += "\n";
      } else {
        const auto& s = h.stats;
        err += fping_summary_line(h.display, s.transmitted, s.received, double(s.min_us) / 1e3, double(s.avg_us()) / 1e3,
                                  double(s.max_us) / 1e3) + "\n";
      }
    }
  }
  if (o_.json && counting()) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_).count();
    for (const auto& h : hosts_) {
      if (!h.t.error.empty()) continue;
      core::Json j = summary_json(h.t.name, h.t.addr.to_string(), h.stats, ms);
      j["alive"] = h.alive;
      out_->record("summary", j, {});
    }
  }
  if (o_.stats && !o_.json) {
    size_t alive = 0, unreach = 0, unknown = 0;
    RttStats all;
    for (const auto& h : hosts_) {
      if (!h.t.error.empty()) ++unknown;
      else if (h.alive) ++alive;
      else ++unreach;
      if (h.stats.has_rtt()) {
        if (!all.has_rtt() || h.stats.min_us < all.min_us) all.min_us = h.stats.min_us;
        if (!all.has_rtt() || h.stats.max_us > all.max_us) all.max_us = h.stats.max_us;
        all.sum_us += h.stats.sum_us;
        all.timed_rtts += h.stats.timed_rtts;
      }
    }
    double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    err += fmt::format("\n {:>7} targets\n {:>7} alive\n {:>7} unreachable\n {:>7} unknown addresses\n\n"
                       " {:>7} timeouts (waiting for response)\n {:>7} ICMP Echos sent\n"
                       " {:>7} ICMP Echo Replies received\n {:>7} other ICMP received\n\n",
                       hosts_.size(), alive, unreach, unknown, timeouts_, sent_total_, replies_total_, icmp_other_);
    if (all.has_rtt())
      err += fmt::format(" {} ms (min round trip time)\n {} ms (avg round trip time)\n {} ms (max round trip time)\n",
                         format_fping_ms(double(all.min_us) / 1e3), format_fping_ms(double(all.avg_us()) / 1e3),
                         format_fping_ms(double(all.max_us) / 1e3));
    err += fmt::format(" {:12.3f} sec (elapsed real time)\n", secs);
  }
  out_->flush();
  if (!err.empty()) std::fputs(err.c_str(), stderr);
}

void FpingSession::finish() {
  if (finished_) return;
  finished_ = true;
  // Hosts still in flight (SIGINT) count as unreachable, as fping reports them.
  if (!counting())
    for (uint32_t i = 0; i < hosts_.size(); ++i)
      if (hosts_[i].started && !hosts_[i].done && hosts_[i].t.error.empty()) {
        hosts_[i].done = true;
        if (!hosts_[i].alive && !o_.alive_only && !o_.quiet && !o_.json)
          out_->record("host", {}, hosts_[i].display + (o_.unreach_only ? "" : " is unreachable"));
      }
  print_summaries();
  loop_->stop();
}

}  // namespace

int run_fping_session(Context& ctx, const Options& o, std::vector<ResolvedTarget> targets) {
  FpingSession s(ctx, o, std::move(targets));
  return s.run();
}

}  // namespace netshoot::applet::ping

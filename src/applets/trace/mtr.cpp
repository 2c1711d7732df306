// mtr's cycles: one probe per TTL per cycle, all TTLs of a cycle at once, cycles -i
// apart. A probe is lost when its wait runs out; the wait adapts like traceroute's
// (a multiple of the answers seen from the same hop or from later hops in the same
// cycle, never below kMinWait, never above -G/--timeout), so `mtr -r -c 1` ends as
// soon as the cycle's answers are in instead of after a fixed grace period.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>

#include "engine.h"
#include "netshoot/log.h"

namespace netshoot::applet::trace {

using core::IpAddr;
using core::Json;

namespace {
constexpr double kMinWait = 0.25;  // seconds
}

core::Status MtrRun::start() {
  auto s = Session::open(o_, dst_, [this](size_t i, const Reply& r, double rtt) {
    Slot& x = slots_[i];
    if (x.done) return;
    x.done = true;
    x.rtt_ms = rtt;
    stats_[size_t(x.ttl)].add_sent();
    stats_[size_t(x.ttl)].add_reply(rtt, r.from);
    if (r.kind == Reply::Kind::reached || r.kind == Reply::Kind::unreachable)
      dest_ttl_ = dest_ttl_ ? std::min(dest_ttl_, x.ttl) : x.ttl;
  });
  if (!s) return s.error();
  session_ = std::move(*s);
  stats_.assign(size_t(o_.max_ttl) + 1, HopStats{});
  next_cycle_ = Clock::now();
  return {};
}

void MtrRun::send_cycle() {
  const int limit = dest_ttl_ ? dest_ttl_ : o_.max_ttl;
  const bool v6 = dst_.is_v6();
  const int size = o_.packet_len >= 0 ? o_.packet_len : v6 ? 84 : 64;  // mtr's default psize
  cycle_start_.push_back(slots_.size());
  auto now = Clock::now();
  for (int ttl = o_.first_ttl; ttl <= limit; ++ttl) {
    size_t i = slots_.size();
    slots_.push_back(Slot{ttl, cycle_, now, false, -1});
    if (int e = session_->send(i, 0, ttl, size); e) {
      spdlog::debug("send ttl {}: {}", ttl, std::strerror(e));
      slots_[i].done = true;
      stats_[size_t(ttl)].add_sent();
    }
  }
  ++cycle_;
  next_cycle_ += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.interval));
}

double MtrRun::wait_for(const Slot& s) const {
  double w = o_.timeout;
  const HopStats& h = stats_[size_t(s.ttl)];
  if (h.received > 0 && o_.wait_here > 0) w = std::min(w, std::max(kMinWait, h.worst / 1000.0 * o_.wait_here));
  double near = 0;
  size_t b = cycle_start_[size_t(s.cycle)];
  for (size_t i = b; i < slots_.size() && slots_[i].cycle == s.cycle; ++i)
    if (slots_[i].ttl > s.ttl && slots_[i].rtt_ms >= 0 && (!dest_ttl_ || slots_[i].ttl <= dest_ttl_))
      near = std::max(near, slots_[i].rtt_ms);
  if (near > 0 && o_.wait_near > 0) w = std::min(w, std::max(kMinWait, near / 1000.0 * o_.wait_near));
  return w;
}

Clock::time_point MtrRun::next_event() const { return next_cycle_; }

void MtrRun::step(Clock::time_point until) {
  auto now = Clock::now();
  while ((o_.cycles <= 0 || cycle_ < o_.cycles) && now >= next_cycle_) send_cycle();
  auto deadline = until;
  if (o_.cycles <= 0 || cycle_ < o_.cycles) deadline = std::min(deadline, next_cycle_);
  for (size_t i = first_open_; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (s.done) continue;
    if (dest_ttl_ && s.ttl > dest_ttl_) {  // beyond the destination: not a hop
      s.done = true;
      session_->forget(i);
      continue;
    }
    auto d = s.sent + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(wait_for(s)));
    if (d <= now) {
      s.done = true;
      session_->forget(i);
      stats_[size_t(s.ttl)].add_sent();
    } else {
      deadline = std::min(deadline, d);
    }
  }
  while (first_open_ < slots_.size() && slots_[first_open_].done) ++first_open_;
  if (finished()) return;
  session_->wait(deadline);
}

bool MtrRun::finished() const {
  return o_.cycles > 0 && cycle_ >= o_.cycles && first_open_ >= slots_.size();
}

std::vector<HopStats> MtrRun::hops() const {
  int last = dest_ttl_;
  if (!last)
    for (int ttl = o_.max_ttl; ttl >= o_.first_ttl && !last; --ttl)
      if (stats_[size_t(ttl)].received > 0) last = ttl;
  if (!last) last = o_.first_ttl;
  return {stats_.begin() + o_.first_ttl, stats_.begin() + last + 1};
}

void MtrRun::reset() {
  for (auto& h : stats_) h = HopStats{};
}

std::string local_hostname() {
  char b[256] = {};
  if (::gethostname(b, sizeof b - 1) != 0) return "localhost";
  std::string s = b;
  return s;
}

int run_mtr(const Context& ctx, const Options& o, const Target& t) {
  MtrRun run(o, t.addr);
  if (auto st = run.start(); !st) {
    spdlog::error("{}", st.error().message());
    return 1;
  }
  time_t start = ::time(nullptr);
  auto t0 = Clock::now();
  while (!run.finished()) run.step(Clock::now() + std::chrono::seconds(1));
  auto hops = run.hops();
  NameCache names(o.numeric);
  NameFn name = [&](const IpAddr& a) { return names.name(a); };
  auto out = core::Output::make(ctx.json);
  out->set_batch(true);
  if (out->json()) {
    Json j;
    j["host"] = t.host;
    j["address"] = t.addr.to_string();
    j["local"] = local_hostname();
    j["method"] = method_name(o.method);
    j["cycles"] = o.cycles;
    j["interval_s"] = o.interval;
    j["start"] = int64_t(start);
    out->record("start", j, "");
    for (size_t i = 0; i < hops.size(); ++i)
      out->record("hop", mtr_hop_json(o.first_ttl + int(i), hops[i], name, o.numeric), "");
    Json sum;
    sum["hops"] = hops.size();
    sum["destination_reached"] = !hops.empty() && !hops.back().addrs.empty() && hops.back().addrs.front() == t.addr;
    sum["elapsed_ms"] = std::round(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    out->record("summary", sum, "");
  } else {
    out->raw(format_mtr_report(o, local_hostname(), start, hops, name));
  }
  out->flush();
  return 0;
}

}  // namespace netshoot::applet::trace

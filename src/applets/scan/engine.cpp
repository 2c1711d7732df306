// The probe scheduler (see engine.h).
#include "engine.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <deque>

namespace netshoot::applet::scan {

int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Scheduler::Scheduler(size_t hosts, size_t per_host, const Timing& t, const Options& o)
    : items_(hosts * per_host), host_srtt_(hosts, -1), host_start_(hosts, 0), per_host_(per_host), t_(t), o_(o) {}

int64_t Scheduler::rto_ns() const {
  double ms = srtt_ < 0 ? t_.initial_rtt_ms : (srtt_ + 4 * rttvar_) / 1e6;
  ms = std::clamp(ms, t_.min_rtt_ms, t_.max_rtt_ms);
  return int64_t(ms * 1e6);
}

int Scheduler::allowed_tries() const {
  // Scale the tries with the latest try that ever got an answer: on a clean path
  // a silent port costs 4 probes; once answers are seen to need retries (loss),
  // the limit grows fast (cheap: silent ports wait in parallel, RTO each).
  return std::min(t_.max_retries + 1, std::max(max_ok_try_ * 2 + 2, 4));
}

void Scheduler::answer(size_t item, PortState st, Reason r, int ttl, int64_t when) {
  if (item >= items_.size()) return;
  auto& it = items_[item];
  if (it.done) return;
  it.done = true;
  ++done_;
  it.state = st;
  it.reason = r;
  it.ttl = int16_t(ttl);
  if (it.in_flight) {
    it.in_flight = false;
    --inflight_;
  }
  if (it.tries > max_ok_try_) max_ok_try_ = it.tries;
  if (it.tries == 1 && it.last_send > 0) {  // Karn: only unambiguous samples
    double rtt = double(std::max<int64_t>(when - it.last_send, 1000));
    if (srtt_ < 0) {
      srtt_ = rtt;
      rttvar_ = rtt / 2;
    } else {
      rttvar_ = 0.75 * rttvar_ + 0.25 * std::fabs(srtt_ - rtt);
      srtt_ = 0.875 * srtt_ + 0.125 * rtt;
    }
    size_t h = item / per_host_;
    host_srtt_[h] = host_srtt_[h] < 0 ? rtt : 0.875 * host_srtt_[h] + 0.125 * rtt;
  } else {
    size_t h = item / per_host_;
    if (host_srtt_[h] < 0) host_srtt_[h] = std::max<int64_t>(when - it.last_send, 1000);
  }
  if (on_answer) on_answer(item, it);
}

double Scheduler::progress() const {
  if (items_.empty() || done_ == items_.size()) return 1.0;
  const double allowed = allowed_tries();
  double work = 0;
  for (auto& it : items_) work += it.done ? 1.0 : std::min(1.0, it.tries / allowed);
  progress_seen_ = std::max(progress_seen_, work / double(items_.size()));
  return progress_seen_;
}

size_t Scheduler::hosts_completed() const {
  size_t n = 0;
  for (size_t h = 0; h < hosts(); ++h) {
    bool all = true;
    for (size_t i = h * per_host_; i < (h + 1) * per_host_ && all; ++i) all = items_[i].done;
    n += all;
  }
  return n;
}

void Scheduler::run(Prober& p, const std::vector<size_t>& order) {
  struct Out {
    size_t item;
    int64_t sent;  // expiry is sent + the current RTO: early probes benefit from later RTT samples
    uint8_t tries;
  };
  std::deque<Out> outstanding;
  std::deque<size_t> retry;
  std::vector<size_t> parked;
  size_t next = 0;
  size_t window = size_t(std::max(1, t_.max_window));
  const int pkts = std::max(1, p.packets_per_send());
  // --max-rate: one send slot per `pkts / max_rate` seconds. --min-rate: the scan
  // delay of slow templates never holds us below that rate, and the window may be
  // overrun while the packets sent so far are fewer than min_rate * elapsed.
  const double min_rate = o_.min_rate, max_rate = o_.max_rate;
  // A hard gap (--max-rate) is never shortened; the soft one (the template's scan
  // delay) gives way whenever --min-rate is behind.
  const int64_t hard_gap = max_rate > 0 ? int64_t(1e9 * pkts / max_rate) : 0;
  const int64_t soft_gap = t_.scan_delay_ms > 0 ? int64_t(t_.scan_delay_ms * 1e6) : 0;
  int64_t next_hard = 0, next_soft = 0;
  const int64_t start = now_ns();
  auto behind = [&](int64_t now) {
    return min_rate > 0 && double(packets_sent_) < min_rate * double(now - start) / 1e9;
  };
  host_timed_out_.assign(hosts(), 0);
  bool any_deadline = false;
  for (int64_t d : host_deadline_) any_deadline |= d > 0;
  int64_t next_progress = progress_every_ns > 0 ? start + progress_every_ns : 0;
  int64_t next_deadline = 0;  // the earliest deadline still pending (INT64_MAX: none)
  auto expire_hosts = [&](int64_t now) {
    if (now < next_deadline) return;
    next_deadline = INT64_MAX;
    for (size_t h = 0; h < host_deadline_.size() && h < hosts(); ++h) {
      if (host_timed_out_[h] || host_deadline_[h] <= 0) continue;
      if (now < host_deadline_[h]) {
        next_deadline = std::min(next_deadline, host_deadline_[h]);
        continue;
      }
      bool left = false;
      for (size_t i = h * per_host_; i < (h + 1) * per_host_; ++i) {
        auto& it = items_[i];
        if (it.done) continue;
        left = true;
        it.done = true;
        ++done_;
        it.state = PortState::unknown;
        it.reason = Reason::none;
        if (it.in_flight) {
          it.in_flight = false;
          --inflight_;
          p.cancel(i);
        }
      }
      if (left) host_timed_out_[h] = 1;
    }
  };
  std::vector<pollfd> pfds;
  for (;;) {
    int64_t now = now_ns();
    if (any_deadline) expire_hosts(now);
    if (next_progress && now >= next_progress) {
      if (on_progress) on_progress(*this);
      next_progress = now + progress_every_ns;
    }
    // expire probes that got no answer in time
    const int64_t rto = rto_ns();
    while (!outstanding.empty() && outstanding.front().sent + rto <= now) {
      Out o = outstanding.front();
      outstanding.pop_front();
      auto& it = items_[o.item];
      if (it.done || !it.in_flight || it.tries != o.tries) continue;
      it.in_flight = false;
      --inflight_;
      p.cancel(o.item);
      if (it.tries < allowed_tries()) retry.push_back(o.item);
      else parked.push_back(o.item);
    }
    // send while the window (or --min-rate) and the rate limits allow
    bool blocked = false;
    while (now >= next_hard && ((inflight_ < window && now >= next_soft) || behind(now))) {
      size_t item;
      if (!retry.empty()) {
        item = retry.front();
        retry.pop_front();
      } else if (next < order.size()) {
        item = order[next++];
      } else {
        break;
      }
      auto& it = items_[item];
      if (it.done) continue;
      int err = p.send(item, it.tries + 1);
      if (err == EAGAIN || err == ENOBUFS || err == EWOULDBLOCK) {
        retry.push_front(item);
        blocked = true;
        break;
      }
      it.tries++;
      it.last_send = now;
      packets_sent_ += uint64_t(pkts);
      if (hard_gap) next_hard = std::max(next_hard + hard_gap, now);
      if (soft_gap) next_soft = std::max(next_soft + soft_gap, now);
      if (err != 0) {  // cannot send at all: give up on it (state stays as no response)
        it.done = true;
        ++done_;
        auto [st, r] = no_response_state(o_.technique);
        it.state = st, it.reason = r;
        continue;
      }
      if (it.done) continue;  // answered synchronously (connect to a local port)
      it.in_flight = true;
      ++inflight_;
      outstanding.push_back({item, now, it.tries});
      if ((next & 63) == 0 || hard_gap || soft_gap) {  // keep reading while sending a long burst
        p.drain(*this);
        now = now_ns();
      }
    }
    if (inflight_ == 0 && retry.empty() && next >= order.size()) {
      // Re-check given-up items: later answers may have raised the try limit.
      std::vector<size_t> keep;
      for (size_t i : parked)
        if (!items_[i].done && items_[i].tries < allowed_tries()) retry.push_back(i);
        else keep.push_back(i);
      parked.swap(keep);
      if (retry.empty()) break;
      continue;
    }
    // wait for replies, the next expiry, the next send slot, a deadline
    const bool more = !retry.empty() || next < order.size();
    int64_t wake = outstanding.empty() ? now + 1000000 : outstanding.front().sent + rto_ns();
    if (more && inflight_ < window && (hard_gap || soft_gap)) wake = std::min(wake, std::max(next_hard, next_soft));
    if (min_rate > 0 && more)
      wake = std::min(wake, std::max(next_hard, start + int64_t(double(packets_sent_ + 1) * 1e9 / min_rate)));
    if (next_progress) wake = std::min(wake, next_progress);
    if (any_deadline) wake = std::min(wake, next_deadline);
    if (blocked) wake = std::min(wake, now + 200000);
    int64_t wait = std::max<int64_t>(wake - now, 0);
    if (inflight_ < window && !blocked && more && hard_gap == 0 && soft_gap == 0) wait = 0;
    pfds.clear();
    p.fds(pfds);
    timespec ts{time_t(wait / 1000000000), long(wait % 1000000000)};
    ::ppoll(pfds.data(), pfds.size(), &ts, nullptr);
    p.drain(*this);
  }
  // whatever is left never answered
  for (auto& it : items_) {
    if (it.done) continue;
    auto [st, r] = no_response_state(o_.technique);
    it.state = st, it.reason = r;
  }
  for (size_t i = 0; i < items_.size(); ++i)
    if (items_[i].in_flight) p.cancel(i);
}

}  // namespace netshoot::applet::scan

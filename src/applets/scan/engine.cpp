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
  const double max_rate = o_.max_rate;
  const int64_t gap_ns = max_rate > 0 ? int64_t(1e9 / max_rate)
                         : t_.scan_delay_ms > 0 ? int64_t(t_.scan_delay_ms * 1e6) : 0;
  int64_t next_send = 0;
  const int64_t host_timeout = o_.host_timeout_s > 0 ? int64_t(o_.host_timeout_s * 1e9) : 0;
  const int64_t start = now_ns();
  std::vector<pollfd> pfds;
  for (;;) {
    int64_t now = now_ns();
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
    if (host_timeout && now - start > host_timeout) break;
    // send while the window and the rate allow
    bool blocked = false;
    while (inflight_ < window && (gap_ns == 0 || now >= next_send)) {
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
      if (err != 0) {  // cannot send at all: give up on it (state stays as no response)
        it.done = true;
        auto [st, r] = no_response_state(o_.technique);
        it.state = st, it.reason = r;
        continue;
      }
      if (it.done) continue;  // answered synchronously (connect to a local port)
      it.in_flight = true;
      ++inflight_;
      outstanding.push_back({item, now, it.tries});
      if (gap_ns) next_send = std::max(next_send + gap_ns, now);
      if ((next & 63) == 0) {  // keep reading while sending a long burst
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
    // wait for replies, the next expiry, or the next send slot
    int64_t wake = outstanding.empty() ? now + 1000000 : outstanding.front().sent + rto_ns();
    if (gap_ns && !retry.empty()) wake = std::min(wake, next_send);
    if (gap_ns && next < order.size()) wake = std::min(wake, next_send);
    if (blocked) wake = std::min(wake, now + 200000);
    int64_t wait = std::max<int64_t>(wake - now, 0);
    if (inflight_ < window && !blocked && (!retry.empty() || next < order.size()) && gap_ns == 0) wait = 0;
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

// The probe scheduler shared by every scan technique: many probes in flight, an
// adaptive retransmission timeout from measured RTTs (srtt + 4 rttvar, clamped by
// the timing template), retries that grow only while retries are seen to pay off
// (nmap's idea of "max successful try"), and optional rate limits.
// A Prober sends one probe for an item (host x port) and reports replies back.
#pragma once

#include <poll.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "netshoot/addr.h"
#include "scan.h"

namespace netshoot::applet::scan {

int64_t now_ns() noexcept;

class Scheduler;

class Prober {
 public:
  virtual ~Prober() = default;
  // 0 sent; EAGAIN/ENOBUFS: try again later; other errno: the item is given up.
  virtual int send(size_t item, int attempt) = 0;
  virtual void cancel(size_t /*item*/) {}
  virtual void fds(std::vector<pollfd>& out) = 0;
  virtual void drain(Scheduler& s) = 0;
  // Packets one send() puts on the wire (for --min-rate / --max-rate).
  virtual int packets_per_send() const { return 1; }
};

struct ItemResult {
  PortState state = PortState::unknown;
  Reason reason = Reason::none;
  int16_t ttl = -1;
  uint8_t tries = 0;
  bool done = false;
  bool in_flight = false;
  int64_t last_send = 0;
};

class Scheduler {
 public:
  // items = hosts * per_host; item / per_host is the host index.
  Scheduler(size_t hosts, size_t per_host, const Timing& t, const Options& o);

  // A reply for an item (ignored when the item already has a definite answer).
  void answer(size_t item, PortState st, Reason r, int ttl, int64_t when_ns);
  // Runs until every item is answered or given up. `order` lists items to send.
  void run(Prober& p, const std::vector<size_t>& order);

  const ItemResult& result(size_t item) const { return items_[item]; }
  bool host_answered(size_t h) const { return host_srtt_[h] >= 0; }
  double host_srtt_s(size_t h) const { return host_srtt_[h] / 1e9; }
  size_t per_host() const { return per_host_; }
  // Called for -d output: item answered with a definite state.
  std::function<void(size_t, const ItemResult&)> on_answer;

  // --host-timeout: per host, a CLOCK_MONOTONIC deadline (0 = none). A host past
  // its deadline is given up: its items stay unknown and host_timed_out() is set.
  void set_host_deadlines(std::vector<int64_t> d) { host_deadline_ = std::move(d); }
  bool host_timed_out(size_t h) const { return h < host_timed_out_.size() && host_timed_out_[h]; }
  // Progress (-v / --stats-every): called every progress_every_ns while running.
  std::function<void(const Scheduler&)> on_progress;
  int64_t progress_every_ns = 0;
  // Work done: answered items count whole, the others by tries spent of the tries
  // allowed (a silent port is 1/4 done after its first probe of 4). Never decreases.
  double progress() const;
  size_t hosts_completed() const;  // hosts whose every item is done
  size_t hosts() const { return host_srtt_.size(); }
  uint64_t packets_sent() const { return packets_sent_; }

 private:
  int64_t rto_ns() const;
  int allowed_tries() const;

  std::vector<ItemResult> items_;
  std::vector<double> host_srtt_;  // ns, -1 unknown
  std::vector<int64_t> host_start_;
  size_t per_host_;
  Timing t_;
  Options o_;
  double srtt_ = -1, rttvar_ = 0;  // ns
  int max_ok_try_ = 1;
  size_t inflight_ = 0;
  size_t done_ = 0;
  mutable double progress_seen_ = 0;
  uint64_t packets_sent_ = 0;
  std::vector<int64_t> host_deadline_;
  std::vector<uint8_t> host_timed_out_;
};

}  // namespace netshoot::applet::scan

// The probing session shared by the traceroute and mtr drivers: a Prober, an epoll
// loop over its sockets, and the table of probes in flight by wire id.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "netshoot/event_loop.h"
#include "prober.h"

namespace netshoot::applet::trace {

using Clock = std::chrono::steady_clock;

class Session {
 public:
  // Called with the caller's slot number, the reply and its round-trip time.
  using OnReply = std::function<void(size_t slot, const Reply&, double rtt_ms)>;

  static core::Result<std::unique_ptr<Session>> open(const Options& o, const core::IpAddr& dst, OnReply cb);

  Prober& prober() { return *prober_; }
  core::EventLoop& loop() { return *loop_; }
  // Sends a probe for `slot`; 0 or an errno. The id is recycled when answered or forgotten.
  int send(size_t slot, uint16_t flow, int ttl, int size);
  // Stops matching replies to a slot (it timed out).
  void forget(size_t slot);
  // Waits for replies until `deadline` (or the first batch of them).
  void wait(Clock::time_point deadline);

 private:
  struct InFlight {
    size_t slot = 0;
    uint16_t flow = 0;
    bool used = false;
    timespec sent{};
  };
  Session() = default;
  void on_reply(const Reply& r, const timespec& rx);

  std::unique_ptr<Prober> prober_;
  std::unique_ptr<core::EventLoop> loop_;
  std::vector<InFlight> ids_;
  std::vector<uint32_t> slot_id_;  // slot -> id + 1 (0: none)
  uint32_t next_id_ = 0;
  OnReply cb_;
};

// mtr's cycles, stepped by the report driver and the live view alike.
class MtrRun {
 public:
  MtrRun(const Options& o, const core::IpAddr& dst) : o_(o), dst_(dst) {}
  core::Status start();
  // Sends due cycles, waits for replies until the next event or `until`.
  void step(Clock::time_point until);
  // All cycles sent and every probe of them answered or timed out.
  bool finished() const;
  int cycles_sent() const { return cycle_; }
  // The hops to show: first_ttl .. destination (or the last hop that answered).
  std::vector<HopStats> hops() const;
  void reset();
  bool privileged() const { return session_ && session_->prober().privileged(); }
  Clock::time_point next_event() const;
  core::EventLoop& loop() { return session_->loop(); }

 private:
  struct Slot {
    int ttl = 0, cycle = 0;
    Clock::time_point sent;
    bool done = false;
    double rtt_ms = -1;  // answered: >= 0
  };
  void send_cycle();
  double wait_for(const Slot& s) const;

  const Options& o_;
  core::IpAddr dst_;
  std::unique_ptr<Session> session_;
  std::vector<Slot> slots_;
  size_t first_open_ = 0;  // slots before this are all done
  std::vector<HopStats> stats_;       // by ttl
  std::vector<size_t> cycle_start_;   // first slot of each cycle
  int dest_ttl_ = 0;                  // 0 = not reached yet
  int cycle_ = 0;
  Clock::time_point next_cycle_;
};

}  // namespace netshoot::applet::trace

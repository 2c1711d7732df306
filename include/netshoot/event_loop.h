// A single-threaded epoll event loop with fd watches, monotonic timers (one timerfd
// + a min-heap) and signals (signalfd).
//
// Everything may be called from inside callbacks: adding/removing fds, timers and
// signals, stop(). A callback removed while events for it are pending in the same
// round is not called. Do not call run()/run_once() from inside a callback.
// Not thread-safe: use it from one thread.
#pragma once

#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "netshoot/fd.h"
#include "netshoot/result.h"

namespace netshoot::core {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux
  using TimePoint = Clock::time_point;
  using Duration = Clock::duration;
  using FdCallback = std::function<void(uint32_t events)>;   // EPOLLIN, EPOLLOUT, EPOLLERR, ...
  using TimerCallback = std::function<void()>;
  using SignalCallback = std::function<void(const signalfd_siginfo&)>;
  using TimerId = uint64_t;  // never 0 for a valid timer

  // Creates the epoll fd and the timerfd.
  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Watches fd (not owned) for `events` (EPOLLIN | EPOLLOUT | EPOLLET ...).
  // EEXIST if already watched.
  Status add_fd(int fd, uint32_t events, FdCallback cb);
  Status modify_fd(int fd, uint32_t events);
  // Stops watching; the fd must still be open (remove before closing).
  Status remove_fd(int fd);
  bool has_fd(int fd) const { return fds_.count(fd) != 0; }

  // One-shot timers. Timers with the same deadline fire in the order added.
  TimerId add_timer(Duration delay, TimerCallback cb);
  TimerId add_timer_at(TimePoint deadline, TimerCallback cb);
  // Fires every `period`, first after one period, until cancelled. Deadlines advance
  // by whole periods (no drift); missed periods are skipped, not replayed.
  TimerId add_periodic(Duration period, TimerCallback cb);
  // False if the timer already fired or was cancelled.
  bool cancel_timer(TimerId id);
  size_t pending_timers() const { return timers_.size(); }

  // Blocks `signo` for the process (thread) and delivers it through a signalfd.
  // One callback per signal; the previous signal mask is restored on destruction.
  Status add_signal(int signo, SignalCallback cb);
  Status remove_signal(int signo);

  // Runs until stop() or until there is nothing left to wait for (no fds, timers
  // or signals).
  Status run();
  // Waits at most `timeout` (forever if nullopt, not at all if zero) and dispatches
  // what is ready. Returns the number of callbacks invoked.
  Result<int> run_once(std::optional<Duration> timeout = std::nullopt);
  // run() returns after the current dispatch round.
  void stop() { stop_ = true; }
  bool stopped() const { return stop_; }
  // Busy polling: while on, waits never sleep (epoll_wait with a zero timeout);
  // timers still fire on time. For a reader of a fast stream whose every wakeup
  // would cost the sending side more than the spinning costs here.
  void set_busy_poll(bool on) { busy_poll_ = on; }
  bool busy_poll() const { return busy_poll_; }

  static TimePoint now() { return Clock::now(); }

 private:
  struct FdEntry {
    FdCallback cb;
    uint32_t events = 0;
    uint32_t gen = 0;
  };
  struct Timer {
    TimerCallback cb;
    Duration period{0};  // > 0 for periodic timers
    TimePoint deadline;
  };
  struct HeapItem {
    TimePoint deadline;
    TimerId id;
    // min-heap on (deadline, id): std::push_heap wants "less" = lower priority
    bool operator<(const HeapItem& o) const {
      return deadline != o.deadline ? deadline > o.deadline : id > o.id;
    }
  };

  EventLoop() = default;
  Status arm_timerfd();
  int dispatch_timers();
  int dispatch_signals();
  void push_timer(TimerId id, TimePoint deadline);
  bool has_work() const;

  UniqueFd epfd_, timerfd_, sigfd_;
  std::unordered_map<int, std::shared_ptr<FdEntry>> fds_;
  uint32_t next_gen_ = 1;
  std::unordered_map<TimerId, Timer> timers_;
  std::vector<HeapItem> heap_;
  TimerId next_timer_ = 1;
  std::optional<TimePoint> armed_;
  std::unordered_map<int, std::shared_ptr<SignalCallback>> signals_;
  sigset_t sigmask_{};       // signals routed to sigfd_
  sigset_t saved_mask_{};    // the thread's mask before the first add_signal
  bool mask_saved_ = false;
  bool stop_ = false;
  bool busy_poll_ = false;
  std::vector<epoll_event> events_;
  std::vector<TimerId> due_;
};

}  // namespace netshoot::core

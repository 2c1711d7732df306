// Single-threaded epoll loop: fds, timerfd-driven timer heap, signalfd.
#include "netshoot/event_loop.h"

#include <pthread.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace netshoot::core {

namespace {

constexpr uint64_t tag(int fd, uint32_t gen) { return uint64_t(gen) << 32 | uint32_t(fd); }

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  std::unique_ptr<EventLoop> loop(new EventLoop());
  loop->epfd_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!loop->epfd_) return os_error("epoll_create1");
  loop->timerfd_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!loop->timerfd_) return os_error("timerfd_create(CLOCK_MONOTONIC)");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = tag(loop->timerfd_.get(), 0);
  if (::epoll_ctl(loop->epfd_.get(), EPOLL_CTL_ADD, loop->timerfd_.get(), &ev) < 0)
    return os_error("epoll_ctl(ADD timerfd)");
  sigemptyset(&loop->sigmask_);
  sigemptyset(&loop->saved_mask_);
  loop->events_.resize(64);
  return loop;
}

EventLoop::~EventLoop() {
  if (mask_saved_) {
    // Unblock only what we blocked and that was not blocked before.
    sigset_t unblock;
    sigemptyset(&unblock);
    bool any = false;
    for (int s = 1; s < NSIG; ++s)
      if (sigismember(&sigmask_, s) == 1 && sigismember(&saved_mask_, s) != 1) sigaddset(&unblock, s), any = true;
    if (any) ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
  }
}

// ---- fds ------------------------------------------------------------------------

Status EventLoop::add_fd(int fd, uint32_t events, FdCallback cb) {
  if (fd < 0) {
    errno = EBADF;
    return os_error("epoll_ctl(ADD fd " + std::to_string(fd) + ")");
  }
  if (fds_.count(fd)) {
    errno = EEXIST;
    return os_error("epoll_ctl(ADD fd " + std::to_string(fd) + ")");
  }
  auto e = std::make_shared<FdEntry>();
  e->cb = std::move(cb);
  e->events = events;
  e->gen = next_gen_++;
  if (next_gen_ == 0) next_gen_ = 1;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag(fd, e->gen);
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
    return os_error("epoll_ctl(ADD fd " + std::to_string(fd) + ")");
  fds_.emplace(fd, std::move(e));
  return {};
}

Status EventLoop::modify_fd(int fd, uint32_t events) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    errno = ENOENT;
    return os_error("epoll_ctl(MOD fd " + std::to_string(fd) + ")");
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = tag(fd, it->second->gen);
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, fd, &ev) < 0)
    return os_error("epoll_ctl(MOD fd " + std::to_string(fd) + ")");
  it->second->events = events;
  return {};
}

Status EventLoop::remove_fd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    errno = ENOENT;
    return os_error("epoll_ctl(DEL fd " + std::to_string(fd) + ")");
  }
  fds_.erase(it);  // pending events for it are skipped (generation check)
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr) < 0 && errno != EBADF && errno != ENOENT)
    return os_error("epoll_ctl(DEL fd " + std::to_string(fd) + ")");
  return {};
}

// ---- timers ---------------------------------------------------------------------

void EventLoop::push_timer(TimerId id, TimePoint deadline) {
  heap_.push_back(HeapItem{deadline, id});
  std::push_heap(heap_.begin(), heap_.end());
}

EventLoop::TimerId EventLoop::add_timer(Duration delay, TimerCallback cb) {
  return add_timer_at(now() + delay, std::move(cb));
}

EventLoop::TimerId EventLoop::add_timer_at(TimePoint deadline, TimerCallback cb) {
  TimerId id = next_timer_++;
  timers_.emplace(id, Timer{std::move(cb), Duration{0}, deadline});
  push_timer(id, deadline);
  return id;
}

EventLoop::TimerId EventLoop::add_periodic(Duration period, TimerCallback cb) {
  if (period <= Duration::zero()) period = std::chrono::nanoseconds(1);
  TimerId id = next_timer_++;
  TimePoint d = now() + period;
  timers_.emplace(id, Timer{std::move(cb), period, d});
  push_timer(id, d);
  return id;
}

bool EventLoop::cancel_timer(TimerId id) {
  if (timers_.erase(id) == 0) return false;
  // Lazy deletion; compact when stale entries dominate.
  if (heap_.size() > 64 && heap_.size() > 2 * timers_.size() + 16) {
    heap_.clear();
    for (const auto& [tid, t] : timers_) heap_.push_back(HeapItem{t.deadline, tid});
    std::make_heap(heap_.begin(), heap_.end());
  }
  return true;
}

Status EventLoop::arm_timerfd() {
  // Drop cancelled entries from the top so we do not wake up for nothing.
  while (!heap_.empty()) {
    auto it = timers_.find(heap_.front().id);
    if (it != timers_.end() && it->second.deadline == heap_.front().deadline) break;
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.pop_back();
  }
  itimerspec its{};
  if (heap_.empty()) {
    if (!armed_) return {};
    armed_.reset();
  } else {
    TimePoint d = heap_.front().deadline;
    if (armed_ && *armed_ == d) return {};
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_since_epoch()).count();
    if (ns <= 0) ns = 1;  // an all-zero it_value would disarm
    its.it_value.tv_sec = time_t(ns / 1000000000);
    its.it_value.tv_nsec = long(ns % 1000000000);
    armed_ = d;
  }
  if (::timerfd_settime(timerfd_.get(), TFD_TIMER_ABSTIME, &its, nullptr) < 0) {
    armed_.reset();
    return os_error("timerfd_settime");
  }
  return {};
}

int EventLoop::dispatch_timers() {
  if (heap_.empty()) return 0;
  TimePoint t = now();
  std::vector<TimerId> due;
  due.swap(due_);  // reuse capacity; safe if a callback re-enters run_once
  due.clear();
  while (!heap_.empty() && heap_.front().deadline <= t) {
    HeapItem top = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.pop_back();
    auto it = timers_.find(top.id);
    if (it != timers_.end() && it->second.deadline == top.deadline) due.push_back(top.id);
  }
  if (!due.empty()) armed_.reset();  // the armed deadline has been consumed
  int n = 0;
  for (TimerId id : due) {
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;  // cancelled by an earlier callback
    Timer& tm = it->second;
    if (tm.period > Duration::zero()) {
      TimePoint next = tm.deadline + tm.period;
      if (next <= t) next += ((t - next) / tm.period + 1) * tm.period;
      tm.deadline = next;
      push_timer(id, next);
      TimerCallback cb = std::move(tm.cb);
      cb();
      ++n;
      auto again = timers_.find(id);  // may have been cancelled inside
      if (again != timers_.end() && !again->second.cb) again->second.cb = std::move(cb);
    } else {
      TimerCallback cb = std::move(tm.cb);
      timers_.erase(it);
      cb();
      ++n;
    }
  }
  due.clear();
  if (due_.capacity() < due.capacity()) due_.swap(due);
  return n;
}

// ---- signals --------------------------------------------------------------------

Status EventLoop::add_signal(int signo, SignalCallback cb) {
  if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP) {
    errno = EINVAL;
    return os_error("add_signal(" + std::to_string(signo) + ")");
  }
  if (!mask_saved_) {
    if (int e = ::pthread_sigmask(SIG_BLOCK, nullptr, &saved_mask_); e != 0) {
      errno = e;
      return os_error("pthread_sigmask");
    }
    mask_saved_ = true;
  }
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signo);
  if (int e = ::pthread_sigmask(SIG_BLOCK, &one, nullptr); e != 0) {
    errno = e;
    return os_error("pthread_sigmask(SIG_BLOCK)");
  }
  sigaddset(&sigmask_, signo);
  if (!sigfd_) {
    sigfd_.reset(::signalfd(-1, &sigmask_, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!sigfd_) return os_error("signalfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = tag(sigfd_.get(), 0);
    if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, sigfd_.get(), &ev) < 0) {
      sigfd_.reset();
      return os_error("epoll_ctl(ADD signalfd)");
    }
  } else if (::signalfd(sigfd_.get(), &sigmask_, 0) < 0) {
    return os_error("signalfd(update)");
  }
  signals_[signo] = std::make_shared<SignalCallback>(std::move(cb));
  return {};
}

Status EventLoop::remove_signal(int signo) {
  if (signals_.erase(signo) == 0) {
    errno = ENOENT;
    return os_error("remove_signal(" + std::to_string(signo) + ")");
  }
  sigdelset(&sigmask_, signo);
  if (sigfd_ && ::signalfd(sigfd_.get(), &sigmask_, 0) < 0) return os_error("signalfd(update)");
  if (sigismember(&saved_mask_, signo) != 1) {
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    ::pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
  }
  return {};
}

int EventLoop::dispatch_signals() {
  int n = 0;
  signalfd_siginfo si;
  while (sigfd_) {
    ssize_t r = ::read(sigfd_.get(), &si, sizeof si);
    if (r != ssize_t(sizeof si)) break;  // EAGAIN or error
    auto it = signals_.find(int(si.ssi_signo));
    if (it == signals_.end()) continue;
    auto cb = it->second;  // keep alive if removed inside
    (*cb)(si);
    ++n;
  }
  return n;
}

// ---- running --------------------------------------------------------------------

bool EventLoop::has_work() const { return !fds_.empty() || !timers_.empty() || !signals_.empty(); }

Result<int> EventLoop::run_once(std::optional<Duration> timeout) {
  if (auto st = arm_timerfd(); !st) return st.error();
  int ms = -1;
  if (timeout) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(*timeout).count();
    if (us <= 0) ms = 0;
    else ms = int(std::min<int64_t>((us + 999) / 1000, INT32_MAX));
  }
  if (busy_poll_) ms = 0;
  int nev = ::epoll_wait(epfd_.get(), events_.data(), int(events_.size()), ms);
  if (nev < 0) {
    if (errno == EINTR) return 0;
    return os_error("epoll_wait");
  }
  int calls = 0;
  bool timer_ready = false, signal_ready = false;
  for (int i = 0; i < nev; ++i) {
    uint64_t t = events_[size_t(i)].data.u64;
    int fd = int(uint32_t(t));
    uint32_t gen = uint32_t(t >> 32);
    if (gen == 0) {
      if (fd == timerfd_.get()) timer_ready = true;
      else if (sigfd_ && fd == sigfd_.get()) signal_ready = true;
      continue;
    }
    auto it = fds_.find(fd);
    if (it == fds_.end() || it->second->gen != gen) continue;  // removed meanwhile
    std::shared_ptr<FdEntry> e = it->second;  // keep the callback alive during the call
    e->cb(events_[size_t(i)].events);
    ++calls;
  }
  if (timer_ready) {
    uint64_t expirations;
    [[maybe_unused]] ssize_t r = ::read(timerfd_.get(), &expirations, sizeof expirations);
    armed_.reset();
  }
  calls += dispatch_timers();
  if (signal_ready) calls += dispatch_signals();
  if (nev == int(events_.size()) && events_.size() < 4096) events_.resize(events_.size() * 2);
  if (auto st = arm_timerfd(); !st) return st.error();
  return calls;
}

Status EventLoop::run() {
  stop_ = false;
  while (!stop_ && has_work()) {
    auto r = run_once();
    if (!r) return r.error();
  }
  return {};
}

}  // namespace netshoot::core

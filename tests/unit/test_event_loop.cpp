#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "netshoot/event_loop.h"

using namespace netshoot::core;
using namespace std::chrono_literals;

namespace {
std::unique_ptr<EventLoop> make_loop() {
  auto r = EventLoop::create();
  REQUIRE(r.ok());
  return std::move(r.value());
}

struct SocketPair {
  UniqueFd a, b;
  SocketPair() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};
}  // namespace

TEST_CASE("event_loop: timers fire in deadline order", "[event]") {
  auto loop = make_loop();
  std::vector<int> order;
  auto start = EventLoop::now();
  EventLoop::TimePoint fired30{}, fired10{};
  loop->add_timer(30ms, [&] { order.push_back(30); fired30 = EventLoop::now(); });
  loop->add_timer(10ms, [&] { order.push_back(10); fired10 = EventLoop::now(); });
  loop->add_timer(20ms, [&] { order.push_back(20); });
  loop->add_timer(20ms, [&] { order.push_back(21); });  // same deadline-ish: added later
  loop->add_timer(0ms, [&] { order.push_back(0); });
  REQUIRE(loop->run().ok());
  CHECK(order == std::vector<int>{0, 10, 20, 21, 30});
  // lower bounds only: never early
  CHECK(fired10 - start >= 10ms);
  CHECK(fired30 - start >= 30ms);
  CHECK(loop->pending_timers() == 0);
}

TEST_CASE("event_loop: same deadline fires in insertion order", "[event]") {
  auto loop = make_loop();
  std::vector<int> order;
  auto d = EventLoop::now() + 5ms;
  for (int i = 0; i < 10; ++i) loop->add_timer_at(d, [&order, i] { order.push_back(i); });
  REQUIRE(loop->run().ok());
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("event_loop: cancel timers, including from callbacks", "[event]") {
  auto loop = make_loop();
  std::vector<int> order;
  auto t1 = loop->add_timer(5ms, [&] { order.push_back(1); });
  EventLoop::TimerId t3 = 0;
  loop->add_timer(10ms, [&] {
    order.push_back(2);
    CHECK(loop->cancel_timer(t3));
  });
  t3 = loop->add_timer(20ms, [&] { order.push_back(3); });
  loop->add_timer(25ms, [&] { order.push_back(4); });
  CHECK(loop->cancel_timer(t1));
  CHECK_FALSE(loop->cancel_timer(t1));
  CHECK_FALSE(loop->cancel_timer(0));
  REQUIRE(loop->run().ok());
  CHECK(order == std::vector<int>{2, 4});
}

TEST_CASE("event_loop: many cancelled timers are compacted", "[event]") {
  auto loop = make_loop();
  int fired = 0;
  for (int i = 0; i < 1000; ++i) {
    auto id = loop->add_timer(1h, [&] { ++fired; });
    loop->cancel_timer(id);
  }
  loop->add_timer(1ms, [&] { ++fired; });
  CHECK(loop->pending_timers() == 1);
  REQUIRE(loop->run().ok());
  CHECK(fired == 1);
}

TEST_CASE("event_loop: timers added from callbacks", "[event]") {
  auto loop = make_loop();
  std::vector<int> order;
  loop->add_timer(1ms, [&] {
    order.push_back(1);
    loop->add_timer(0ms, [&] {
      order.push_back(2);
      loop->add_timer(2ms, [&] { order.push_back(3); });
    });
  });
  REQUIRE(loop->run().ok());
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("event_loop: periodic timer until cancelled", "[event]") {
  auto loop = make_loop();
  int ticks = 0;
  auto start = EventLoop::now();
  EventLoop::TimerId id = 0;
  id = loop->add_periodic(2ms, [&] {
    if (++ticks == 5) loop->cancel_timer(id);
  });
  REQUIRE(loop->run().ok());
  CHECK(ticks == 5);
  CHECK(EventLoop::now() - start >= 10ms);
}

TEST_CASE("event_loop: fd readiness with a socketpair", "[event]") {
  auto loop = make_loop();
  SocketPair sp;
  std::string got;
  REQUIRE(loop->add_fd(sp.b.get(), EPOLLIN, [&](uint32_t ev) {
    CHECK((ev & EPOLLIN));
    char buf[64];
    ssize_t n;
    while ((n = ::read(sp.b.get(), buf, sizeof buf)) > 0) got.append(buf, size_t(n));
    if (got == "hello") REQUIRE(loop->remove_fd(sp.b.get()).ok());
  }).ok());
  CHECK(loop->has_fd(sp.b.get()));
  CHECK_FALSE(loop->add_fd(sp.b.get(), EPOLLIN, [](uint32_t) {}).ok());  // EEXIST
  loop->add_timer(5ms, [&] { REQUIRE(::write(sp.a.get(), "hello", 5) == 5); });
  REQUIRE(loop->run().ok());  // ends: fd removed, no timers left
  CHECK(got == "hello");
  CHECK_FALSE(loop->has_fd(sp.b.get()));
  CHECK_FALSE(loop->remove_fd(sp.b.get()).ok());
  CHECK_FALSE(loop->modify_fd(sp.b.get(), EPOLLIN).ok());
}

TEST_CASE("event_loop: modify_fd switches to EPOLLOUT", "[event]") {
  auto loop = make_loop();
  SocketPair sp;
  int outs = 0;
  REQUIRE(loop->add_fd(sp.a.get(), EPOLLIN, [&](uint32_t ev) {
    if (ev & EPOLLOUT) {
      ++outs;
      REQUIRE(loop->remove_fd(sp.a.get()).ok());
    }
  }).ok());
  REQUIRE(loop->modify_fd(sp.a.get(), EPOLLIN | EPOLLOUT).ok());
  REQUIRE(loop->run().ok());
  CHECK(outs == 1);
}

TEST_CASE("event_loop: a callback removing another ready fd suppresses its event", "[event]") {
  auto loop = make_loop();
  SocketPair p1, p2;
  int calls = 0;
  auto cb = [&](int self, int other) {
    return [&, self, other](uint32_t) {
      ++calls;
      char c;
      while (::read(self, &c, 1) > 0) {}
      REQUIRE(loop->remove_fd(self).ok());
      if (loop->has_fd(other)) REQUIRE(loop->remove_fd(other).ok());
    };
  };
  REQUIRE(loop->add_fd(p1.b.get(), EPOLLIN, cb(p1.b.get(), p2.b.get())).ok());
  REQUIRE(loop->add_fd(p2.b.get(), EPOLLIN, cb(p2.b.get(), p1.b.get())).ok());
  REQUIRE(::write(p1.a.get(), "x", 1) == 1);
  REQUIRE(::write(p2.a.get(), "y", 1) == 1);
  auto r = loop->run_once(100ms);
  REQUIRE(r.ok());
  CHECK(calls == 1);
  CHECK(*r == 1);
}

TEST_CASE("event_loop: signals through signalfd", "[event]") {
  auto loop = make_loop();
  int got = 0;
  REQUIRE(loop->add_signal(SIGUSR1, [&](const signalfd_siginfo& si) {
    got = int(si.ssi_signo);
    loop->stop();
  }).ok());
  loop->add_timer(1ms, [] { ::raise(SIGUSR1); });
  loop->add_timer(10s, [] { FAIL("signal not delivered"); });
  REQUIRE(loop->run().ok());
  CHECK(got == SIGUSR1);
  CHECK(loop->stopped());
  CHECK(loop->remove_signal(SIGUSR1).ok());
  CHECK_FALSE(loop->remove_signal(SIGUSR1).ok());
  CHECK_FALSE(loop->add_signal(SIGKILL, [](const signalfd_siginfo&) {}).ok());
}

TEST_CASE("event_loop: stop from a callback and run_once timeouts", "[event]") {
  auto loop = make_loop();
  int n = 0;
  loop->add_periodic(1ms, [&] {
    if (++n == 3) loop->stop();
  });
  REQUIRE(loop->run().ok());
  CHECK(n == 3);
  CHECK(loop->pending_timers() == 1);  // still armed, run() returned on stop

  // run_once with zero timeout does not block
  auto before = EventLoop::now();
  auto r = loop->run_once(0ms);
  REQUIRE(r.ok());
  CHECK(EventLoop::now() - before < 1s);

  // run() again continues (stop is reset)
  loop->add_timer(3ms, [&] { loop->stop(); });
  REQUIRE(loop->run().ok());
  CHECK(n > 3);

  // a timeout with nothing ready waits at least that long
  auto empty = make_loop();
  before = EventLoop::now();
  r = empty->run_once(15ms);
  REQUIRE(r.ok());
  CHECK(*r == 0);
  CHECK(EventLoop::now() - before >= 15ms);
  // run() with no work returns immediately
  REQUIRE(empty->run().ok());
}

TEST_CASE("event_loop: busy polling never sleeps, and timers still fire", "[event]") {
  auto loop = make_loop();
  SocketPair sp;
  int reads = 0;
  REQUIRE(loop->add_fd(sp.b.get(), EPOLLIN, [&](uint32_t) {
    char c;
    while (::read(sp.b.get(), &c, 1) == 1) ++reads;
  }).ok());
  bool fired = false;
  loop->add_timer(20ms, [&] { fired = true; });
  loop->set_busy_poll(true);
  CHECK(loop->busy_poll());
  // Nothing is ready: an unbounded wait returns at once instead of sleeping.
  auto t0 = EventLoop::now();
  auto r = loop->run_once();
  REQUIRE(r.ok());
  CHECK(r.value() == 0);
  CHECK(EventLoop::now() - t0 < 15ms);
  REQUIRE(::write(sp.a.get(), "x", 1) == 1);
  while (!fired) REQUIRE(loop->run_once().ok());
  CHECK(reads == 1);
  CHECK(EventLoop::now() - t0 >= 20ms);
  // Off again: the wait sleeps until the next timer.
  loop->set_busy_poll(false);
  bool later = false;
  loop->add_timer(10ms, [&] { later = true; });
  auto t1 = EventLoop::now();
  REQUIRE(loop->run_once().ok());
  CHECK(later);
  CHECK(EventLoop::now() - t1 >= 10ms);
}

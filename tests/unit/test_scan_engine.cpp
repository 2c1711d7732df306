// scan applet: the probe scheduler against a simulated target (no network): rate
// limits, --max-retries, per-host --host-timeout and progress callbacks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <vector>

#include "applets/scan/engine.h"

using namespace netshoot::applet::scan;

namespace {

// Items in `silent` never answer; the others answer "closed" on the next drain,
// unless their attempt is listed in `lose_first` (the first try is lost).
class FakeProber : public Prober {
 public:
  std::set<size_t> silent, lose_first;
  std::vector<std::pair<size_t, int64_t>> sends;  // item, time
  std::vector<size_t> pending;
  int send(size_t item, int attempt) override {
    sends.push_back({item, now_ns()});
    if (silent.count(item) || (attempt == 1 && lose_first.count(item))) return 0;
    pending.push_back(item);
    return 0;
  }
  void fds(std::vector<pollfd>&) override {}
  void drain(Scheduler& s) override {
    for (size_t i : pending) s.answer(i, PortState::closed, Reason::reset, 64, now_ns());
    pending.clear();
  }
  size_t sends_of(size_t item) const {
    return size_t(std::count_if(sends.begin(), sends.end(), [&](auto& p) { return p.first == item; }));
  }
};

Timing fast_timing() { return Timing{50, 10, 100, 10, 4096, 0}; }

std::vector<size_t> all(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

double secs(int64_t a, int64_t b) { return double(b - a) / 1e9; }

}  // namespace

TEST_CASE("scan engine: --max-rate spaces every probe", "[scan]") {
  Options o;
  o.max_rate = 1000;
  Scheduler s(1, 400, fast_timing(), o);
  FakeProber p;
  int64_t t0 = now_ns();
  s.run(p, all(400));
  double t = secs(t0, now_ns());
  CHECK(t >= 0.39);  // 400 probes at 1000/s
  CHECK(t < 2.0);
  REQUIRE(p.sends.size() == 400);
  // never more than ~rate x window in any 100 ms window
  for (size_t i = 0; i + 110 < p.sends.size(); ++i) CHECK(secs(p.sends[i].second, p.sends[i + 110].second) >= 0.1);
  for (size_t i = 0; i < 400; ++i) CHECK(s.result(i).state == PortState::closed);
}

TEST_CASE("scan engine: --min-rate beats a template's scan delay and window, with loss", "[scan]") {
  Options o;
  o.min_rate = 2000;
  Timing polite{100, 10, 100, 10, 1, 400};  // -T2-like: one probe at a time, 0.4 s apart
  Scheduler s(1, 300, polite, o);
  FakeProber p;
  for (size_t i = 0; i < 300; i += 3) p.lose_first.insert(i);  // a third of first tries lost
  int64_t t0 = now_ns();
  s.run(p, all(300));
  double t = secs(t0, now_ns());
  CHECK(t < 1.0);  // without --min-rate: 120 s
  for (size_t i = 0; i < 300; ++i) CHECK(s.result(i).state == PortState::closed);
  CHECK(p.sends.size() == 400);  // each lost first try sent again once
  // and the rate was held while waiting for the lost ones: 400 packets, >= ~2000/s
  CHECK(double(p.sends.size()) / secs(p.sends.front().second, p.sends.back().second) > 1500);
}

TEST_CASE("scan engine: --max-retries caps the tries of a silent item", "[scan]") {
  for (int retries : {0, 1, 2, 5}) {
    Options o;
    o.max_retries = retries;
    Timing t = fast_timing();
    t.max_retries = retries;
    Scheduler s(1, 3, t, o);
    FakeProber p;
    p.silent = {1};
    s.run(p, all(3));
    CHECK(p.sends_of(1) == size_t(std::min(retries + 1, 4)));  // 4: the cap while no retry ever paid off
    CHECK(p.sends_of(0) == 1);
    CHECK(s.result(1).state == PortState::filtered);
    CHECK(s.result(1).reason == Reason::no_response);
  }
}

TEST_CASE("scan engine: --host-timeout gives up on the slow host only", "[scan]") {
  Options o;
  Timing slow{2000, 2000, 2000, 3, 4096, 0};  // every silent try waits 2 s
  Scheduler s(2, 50, slow, o);
  FakeProber p;
  for (size_t i = 0; i < 50; ++i) p.silent.insert(i);  // host 0 never answers
  int64_t t0 = now_ns();
  s.set_host_deadlines({t0 + 300000000, t0 + 300000000});
  s.run(p, all(100));
  double t = secs(t0, now_ns());
  CHECK(t < 1.0);
  CHECK(t >= 0.29);
  CHECK(s.host_timed_out(0));
  CHECK(!s.host_timed_out(1));
  for (size_t i = 0; i < 50; ++i) CHECK(s.result(i).state == PortState::unknown);
  for (size_t i = 50; i < 100; ++i) CHECK(s.result(i).state == PortState::closed);
  CHECK(s.hosts_completed() == 2);
}

TEST_CASE("scan engine: progress callbacks rise to the end", "[scan]") {
  Options o;
  o.max_rate = 2000;
  Scheduler s(2, 300, fast_timing(), o);
  FakeProber p;
  std::vector<double> seen;
  s.progress_every_ns = 50000000;
  s.on_progress = [&](const Scheduler& sc) { seen.push_back(sc.progress()); };
  s.run(p, all(600));
  CHECK(seen.size() >= 4);  // 0.3 s of sending, every 50 ms
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  CHECK(s.progress() == 1.0);
}

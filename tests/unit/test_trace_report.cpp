// trace: hop lines, the mtr report's exact shape and mtr's statistics.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "applets/trace/trace.h"

using namespace netshoot;
using namespace netshoot::applet::trace;
using core::IpAddr;

namespace {

ProbeResult answered(int ttl, const IpAddr& from, double ms, Reply::Kind k = Reply::Kind::time_exceeded) {
  ProbeResult p;
  p.ttl = ttl;
  p.answered = true;
  p.rtt_ms = ms;
  p.reply.kind = k;
  p.reply.from = from;
  return p;
}

ProbeResult silent(int ttl) {
  ProbeResult p;
  p.ttl = ttl;
  return p;
}

HopStats stats(const IpAddr& a, std::initializer_list<double> rtts, int sent) {
  HopStats h;
  for (double r : rtts) h.add_reply(r, a);
  h.sent = sent;
  return h;
}

}  // namespace

TEST_CASE("trace report: traceroute header and hop lines", "[trace]") {
  Options o;
  o.program = "traceroute";
  CHECK(format_traceroute_header(o, "10.200.8.2", IpAddr::v4(10, 200, 8, 2), 60) ==
        "traceroute to 10.200.8.2 (10.200.8.2), 30 hops max, 60 byte packets");
  o.front = Front::tcptraceroute;
  o.port = 80;
  CHECK(format_traceroute_header(o, "web", IpAddr::v4(10, 0, 0, 1), 60) ==
        "Tracing the path to web (10.0.0.1) on TCP port 80 (http), 30 hops max");

  IpAddr r1 = IpAddr::v4(10, 200, 1, 2), r2 = IpAddr::v4(10, 200, 1, 3);
  CHECK(format_hop_line(1, {answered(1, r1, 0.047), answered(1, r1, 0.006), answered(1, r1, 0.004)}, true, {}, false) ==
        " 1  10.200.1.2  0.047 ms  0.006 ms  0.004 ms");
  CHECK(format_hop_line(4, {silent(4), silent(4), silent(4)}, true, {}, false) == " 4  * * *");
  CHECK(format_hop_line(12, {silent(12), answered(12, r1, 1.5), answered(12, r2, 2.25)}, true, {}, false) ==
        "12  * 10.200.1.2  1.500 ms 10.200.1.3  2.250 ms");
  NameFn name = [](const IpAddr& a) { return a == IpAddr::v4(10, 200, 1, 2) ? std::string("r1.lab") : std::string(); };
  CHECK(format_hop_line(1, {answered(1, r1, 0.5), answered(1, r2, 0.5)}, false, name, false) ==
        " 1  r1.lab (10.200.1.2)  0.500 ms 10.200.1.3 (10.200.1.3)  0.500 ms");

  auto unreach = answered(3, r1, 0.1, Reply::Kind::unreachable);
  std::snprintf(unreach.reply.note, sizeof unreach.reply.note, "!H");
  CHECK(format_hop_line(3, {unreach}, true, {}, false) == " 3  10.200.1.2  0.100 ms !H");
  auto open = answered(8, r1, 0.2, Reply::Kind::reached);
  open.reply.tcp = open.reply.tcp_open = true;
  CHECK(format_hop_line(8, {open}, true, {}, true) == " 8  10.200.1.2 [open]  0.200 ms");
  open.reply.tcp_open = false;
  CHECK(format_hop_line(8, {open}, true, {}, true) == " 8  10.200.1.2 [closed]  0.200 ms");
  auto mtu = answered(5, r1, 0.038);
  mtu.size = 1400;
  mtu.mtu_changed = true;
  CHECK(format_hop_line(5, {mtu}, true, {}, false) == " 5  10.200.1.2  0.038 ms F=1400");
}

TEST_CASE("trace report: mtr statistics as mtr computes them", "[trace]") {
  HopStats h = stats(IpAddr::v4(1, 2, 3, 4), {0.1, 0.3, 0.2}, 3);
  CHECK(h.received == 3);
  CHECK(h.last == Approx(0.2));
  CHECK(h.best == Approx(0.1));
  CHECK(h.worst == Approx(0.3));
  CHECK(h.avg == Approx(0.2));
  CHECK(h.stdev() == Approx(0.1));  // sample standard deviation (n - 1)
  CHECK(h.loss_pct() == 0.0);
  HopStats one = stats(IpAddr::v4(1, 2, 3, 4), {5.0}, 4);
  CHECK(one.stdev() == 0.0);
  CHECK(one.loss_pct() == Approx(75.0));
  HopStats none;
  none.sent = 2;
  CHECK(none.loss_pct() == 100.0);
}

TEST_CASE("trace report: the exact mtr report shape, narrow and wide", "[trace]") {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  Options o;
  o.front = Front::mtr;
  o.numeric = true;
  std::vector<HopStats> hops{stats(IpAddr::v4(10, 200, 1, 2), {0.3, 0.1, 0.1}, 3), HopStats{},
                             stats(IpAddr::v4(10, 200, 3, 2), {0.1, 0.1, 0.1}, 3)};
  hops[1].sent = 3;
  time_t start = 1795619486;  // 2026-11-25T15:11:26Z
  CHECK(format_mtr_report(o, "vm", start, hops, {}) ==
        "Start: 2026-11-25T15:11:26+0000\n"
        "HOST: vm                          Loss%   Snt   Last   Avg  Best  Wrst StDev\n"
        "  1.|-- 10.200.1.2                 0.0%     3    0.1   0.2   0.1   0.3   0.1\n"
        "  2.|-- ???                       100.0     3    0.0   0.0   0.0   0.0   0.0\n"
        "  3.|-- 10.200.3.2                 0.0%     3    0.1   0.1   0.1   0.1   0.0\n");
  o.wide = true;
  CHECK(format_mtr_report(o, "vm", start, {hops[0]}, {}) ==
        "Start: 2026-11-25T15:11:26+0000\n"
        "HOST: vm         Loss%   Snt   Last   Avg  Best  Wrst StDev\n"
        "  1.|-- 10.200.1.2  0.0%     3    0.1   0.2   0.1   0.3   0.1\n");
  // A second address seen at one hop gets its own line.
  HopStats two = stats(IpAddr::v4(10, 0, 0, 1), {1.0}, 2);
  two.add_reply(2.0, IpAddr::v4(10, 0, 0, 2));
  o.wide = false;
  std::string r = format_mtr_report(o, "vm", start, {two}, {});
  CHECK(r.find("\n    |-- 10.0.0.2\n") != std::string::npos);
}

TEST_CASE("trace report: JSON per hop", "[trace]") {
  auto j = hop_json(2, {answered(2, IpAddr::v4(10, 0, 0, 1), 0.1234), silent(2)}, {}, true);
  CHECK(j["ttl"] == 2);
  REQUIRE(j["probes"].size() == 2);
  CHECK(j["probes"][0]["address"] == "10.0.0.1");
  CHECK(j["probes"][0]["reply"] == "time_exceeded");
  CHECK(j["probes"][0]["rtt_ms"].get<double>() == Approx(0.123));
  CHECK(j["probes"][1]["reply"] == "timeout");
  CHECK(j["probes"][1]["address"].is_null());
  auto m = mtr_hop_json(1, stats(IpAddr::v4(10, 0, 0, 1), {1.0, 3.0}, 4), {}, true);
  CHECK(m["loss_pct"].get<double>() == Approx(50.0));
  CHECK(m["sent"] == 4);
  CHECK(m["received"] == 2);
  CHECK(m["stdev_ms"].get<double>() == Approx(1.414));
}

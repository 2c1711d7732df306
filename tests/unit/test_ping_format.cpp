// ping applet: statistics as iputils computes them, and the reply/summary line shapes
// of ping and fping. The applet's sources are compiled in.
#include <catch2/catch.hpp>

#include "applets/ping/format.h"

using namespace netshoot::applet::ping;

namespace {
RttStats stats_of(std::initializer_list<int64_t> us) {
  RttStats s;
  for (auto v : us) s.add_rtt(v);
  s.transmitted = s.received = us.size();
  return s;
}
}  // namespace

TEST_CASE("ping stats: integer microseconds, truncated avg, mdev like iputils", "[ping]") {
  // Values seen from iputils 20221126 on loopback:
  //   0.036 0.043 -> min/avg/max/mdev = 0.036/0.039/0.043/0.003
  //   0.014 0.043 -> 0.014/0.028/0.043/0.014
  auto s = stats_of({36, 43});
  CHECK(s.avg_us() == 39);
  CHECK(s.mdev_us() == 3);
  s = stats_of({14, 43});
  CHECK(s.avg_us() == 28);
  CHECK(s.mdev_us() == 14);
  s = stats_of({24});
  CHECK(s.mdev_us() == 0);
  s = stats_of({20000, 20500, 19800, 21000});
  CHECK(s.min_us == 19800);
  CHECK(s.max_us == 21000);
  CHECK(s.avg_us() == 20325);
  CHECK(s.mdev_us() == 465);  // population standard deviation (465.7), floored
  CHECK(isqrt(0) == 0);
  CHECK(isqrt(15) == 3);
  CHECK(isqrt(16) == 4);
  CHECK(isqrt(__int128(1) << 80) == int64_t(1) << 40);
}

TEST_CASE("ping stats: loss and ewma", "[ping]") {
  RttStats s;
  s.transmitted = 3;
  s.received = 2;
  CHECK(format_percent(s.loss_percent()) == "33.3333");
  s.received = 0;
  CHECK(format_percent(s.loss_percent()) == "100");
  s.add_rtt(1000);
  CHECK(s.ewma_us() == 1000);
  s.add_rtt(2000);
  CHECK(s.ewma_us() == 1125);  // 7/8 old + 1/8 new
}

TEST_CASE("ping reply line and RTT precision", "[ping]") {
  CHECK(format_reply_time(207) == "0.207");
  CHECK(format_reply_time(1234) == "1.23");
  CHECK(format_reply_time(20449) == "20.4");
  CHECK(format_reply_time(20450) == "20.5");
  CHECK(format_reply_time(123456) == "123");
  CHECK(format_ms3(20325) == "20.325");
  ReplyLine r;
  r.bytes = 64;
  r.from = "10.0.1.4";
  r.seq = 1;
  r.ttl = 64;
  r.rtt_us = 207;
  CHECK(ping_reply_line(r) == "64 bytes from 10.0.1.4: icmp_seq=1 ttl=64 time=0.207 ms");
  r.dup = true;
  r.from = "db (10.0.1.4)";
  r.timestamp = "[1700000000.123456] ";
  CHECK(ping_reply_line(r) == "[1700000000.123456] 64 bytes from db (10.0.1.4): icmp_seq=1 ttl=64 time=0.207 ms (DUP!)");
  ReplyLine small;
  small.bytes = 16;
  small.from = "127.0.0.1";
  small.ttl = 64;
  CHECK(ping_reply_line(small) == "16 bytes from 127.0.0.1: icmp_seq=1 ttl=64");
  ReplyLine t;
  t.from = "10.0.0.1";
  t.seq = 2;
  t.rtt_us = 300;
  t.tcp_state = "open";
  t.port = 80;
  CHECK(ping_reply_line(t) == "port 80 from 10.0.0.1: tcp_seq=2 open time=0.300 ms");
}

TEST_CASE("ping header, errors and summary", "[ping]") {
  CHECK(ping_header("10.0.1.4", "10.0.1.4", false, 56, "", "") == "PING 10.0.1.4 (10.0.1.4) 56(84) bytes of data.");
  CHECK(ping_header("::1", "::1", true, 56, "", "") == "PING ::1(::1) 56 data bytes");
  CHECK(ping_header("h", "10.0.0.1", false, 56, "10.0.0.2", "eth0") ==
        "PING h (10.0.0.1) from 10.0.0.2 eth0: 56(84) bytes of data.");
  CHECK(icmp_error_text(false, 3, 1, 0) == "Destination Host Unreachable");
  CHECK(icmp_error_text(false, 11, 0, 0) == "Time to live exceeded");
  CHECK(icmp_error_text(false, 3, 4, 1400) == "Frag needed and DF set (mtu = 1400)");
  CHECK(icmp_error_text(true, 1, 3, 0) == "Destination unreachable: Address unreachable");
  CHECK(icmp_error_text(true, 3, 0, 0) == "Time exceeded: Hop limit");
  CHECK(fping_icmp_text(false, 3, 1) == "ICMP Host Unreachable");

  auto s = stats_of({31, 45, 63});
  CHECK(ping_summary("127.0.0.1", s, 2031, true) ==
        "--- 127.0.0.1 ping statistics ---\n"
        "3 packets transmitted, 3 received, 0% packet loss, time 2031ms\n"
        "rtt min/avg/max/mdev = 0.031/0.046/0.063/0.013 ms");
  RttStats dead;
  dead.transmitted = 4;
  dead.errors = 3;
  CHECK(ping_summary("h", dead, 3060, true, 4) ==
        "--- h ping statistics ---\n"
        "4 packets transmitted, 0 received, +3 errors, 100% packet loss, time 3060ms\n"
        "pipe 4");
  s.duplicates = 1;
  CHECK(ping_summary("h", s, 0, true).find("3 received, +1 duplicates, 0% packet loss") != std::string::npos);
  CHECK(ping_status_line(stats_of({29, 52})) == "2/2 packets, 0% loss, min/avg/ewma/max = 0.029/0.040/0.031/0.052 ms");
}

TEST_CASE("fping lines", "[ping]") {
  CHECK(format_fping_ms(0.048) == "0.048");
  CHECK(format_fping_ms(1.234) == "1.23");
  CHECK(format_fping_ms(20.44) == "20.4");
  CHECK(format_fping_ms(123.4) == "123");
  CHECK(fping_reply_line("127.0.0.1", 0, 64, 0.048, 0.048, 0) ==
        "127.0.0.1 : [0], 64 bytes, 0.048 ms (0.048 avg, 0% loss)");
  CHECK(fping_summary_line("h1", 3, 3, 0.035, 0.040, 0.048) ==
        "h1 : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.035/0.040/0.048");
  CHECK(fping_summary_line("h2", 3, 0, 0, 0, 0) == "h2 : xmt/rcv/%loss = 3/0/100%");
  CHECK(fping_summary_line("h3", 3, 2, 1, 1, 1).find("3/2/33%") != std::string::npos);
  auto j = summary_json("h", "10.0.0.1", stats_of({1000}), 5);
  CHECK(j["rtt_avg_ms"] == 1.0);
  CHECK(summary_json("h", "10.0.0.1", RttStats{}, 5)["rtt_min_ms"].is_null());
}

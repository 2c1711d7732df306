// perf applet: iperf3's units and report lines (compared with lines iperf3 3.12
// printed), and option parsing.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "applets/perf/iperf2.h"
#include "applets/perf/options.h"
#include "applets/perf/proto.h"

using namespace netshoot::applet::perf;

namespace {
netshoot::core::Result<Options> parse(std::vector<std::string> a) {
  a.insert(a.begin(), "iperf3");
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  return parse_options(int(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("perf format: iperf3 units", "[perf]") {
  CHECK(format_bytes(1.60 * 1024 * 1024 * 1024) == "1.60 GBytes");
  CHECK(format_bytes(754.0 * 1024 * 1024) == " 754 MBytes");
  CHECK(format_bytes(322.0 * 1024) == " 322 KBytes");
  CHECK(format_bytes(11.9 * 1024 * 1024) == "11.9 MBytes");
  CHECK(format_bytes(1014.0 * 1024 * 1024) == "1014 MBytes");
  CHECK(format_bytes(0) == "0.00 Bytes");
  CHECK(format_bytes(512) == " 512 Bytes");
  CHECK(format_bits(13.7e9) == "13.7 Gbits");
  CHECK(format_bits(9.99e6) == "9.99 Mbits");
  CHECK(format_bits(100e6) == " 100 Mbits");
  CHECK(format_bits(999.96e6) == "1000 Mbits");  // the unit is picked before rounding, as iperf3 does
  CHECK(format_bits(0) == "0.00 bits");
  CHECK(format_bits(3.87e3) == "3.87 Kbits");
}

TEST_CASE("perf format: report lines as iperf3 3.12 prints them", "[perf]") {
  CHECK(header_tcp(true, true) == "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd");
  CHECK(header_tcp(true, false) == "[ ID] Interval           Transfer     Bitrate         Retr");
  CHECK(header_tcp(false, false) == "[ ID] Interval           Transfer     Bitrate");
  CHECK(header_tcp(true, true, true) == "[ ID][Role] Interval           Transfer     Bitrate         Retr  Cwnd");
  CHECK(header_udp(true) == "[ ID] Interval           Transfer     Bitrate         Total Datagrams");
  CHECK(header_udp(false) == "[ ID] Interval           Transfer     Bitrate         Jitter    Lost/Total Datagrams");

  // bytes/seconds chosen so the units round as in iperf3's own output lines
  auto pre = interval_prefix(label(5), 0, 1, 1.60 * 1024 * 1024 * 1024, 1.0);
  CHECK(pre == "[  5]   0.00-1.00   sec  1.60 GBytes  13.7 Gbits/sec");
  CHECK(tcp_interval(pre, 700, 2.79 * 1024 * 1024) ==
        "[  5]   0.00-1.00   sec  1.60 GBytes  13.7 Gbits/sec  700   2.79 MBytes       ");
  CHECK(tcp_interval(interval_prefix(label(5), 1, 2, 1.48 * 1024 * 1024 * 1024, 1.0), 135, 322 * 1024) ==
        "[  5]   1.00-2.00   sec  1.48 GBytes  12.7 Gbits/sec  135    322 KBytes       ");
  CHECK(tcp_interval(interval_prefix(label(6), 0, 1, 1.60 * 1024 * 1024 * 1024, 1.0), std::nullopt, std::nullopt) ==
        "[  6]   0.00-1.00   sec  1.60 GBytes  13.7 Gbits/sec                  ");
  CHECK(tcp_interval(interval_prefix(sum_label(), 0, 1, 3.65 * 1024 * 1024 * 1024, 1.0), 37031, std::nullopt) ==
        "[SUM]   0.00-1.00   sec  3.65 GBytes  31.4 Gbits/sec  37031             ");
  CHECK(tcp_summary(interval_prefix(label(5), 0, 2, 3.07 * 1024 * 1024 * 1024, 2.0), 835, true) ==
        "[  5]   0.00-2.00   sec  3.07 GBytes  13.2 Gbits/sec  835             sender");
  CHECK(tcp_summary(interval_prefix(label(5), 0, 2.0, 3.07 * 1024 * 1024 * 1024, 2.0), std::nullopt, false) ==
        "[  5]   0.00-2.00   sec  3.07 GBytes  13.2 Gbits/sec                  receiver");
  CHECK(label(5, "TX-C") == "[  5][TX-C]");
  CHECK(sum_label("RX-S") == "[SUM][RX-S]");

  // UDP
  CHECK(udp_sender_interval(interval_prefix(label(5), 0, 1, 1249000, 1.0), 1249) ==
        "[  5]   0.00-1.00   sec  1.19 MBytes  9.99 Mbits/sec  1249  ");
  CHECK(udp_stats(interval_prefix(label(6), 0, 1, 1249000, 1.0), 0.004, 0, 1249, "") ==
        "[  6]   0.00-1.00   sec  1.19 MBytes  9.99 Mbits/sec  0.004 ms  0/1249 (0%)  ");
  CHECK(udp_stats("P", 0.009, 442, 4313, "receiver") == "P  0.009 ms  442/4313 (10%)  receiver");
  CHECK(udp_stats("P", 0.008, 420, 4313, "receiver") == "P  0.008 ms  420/4313 (9.7%)  receiver");
  CHECK(udp_stats("P", 0, 0, 0, "sender") == "P  0.000 ms  0/0 (0%)  sender");
}

TEST_CASE("perf options: iperf3 flags", "[perf]") {
  auto o = parse({"-c", "10.0.0.2", "-p", "5999", "-t", "5", "-P", "4", "-R", "-J", "-l", "64K", "-w", "1M",
                  "--connect-timeout", "2000", "-i", "0.5", "-4"});
  REQUIRE(o);
  CHECK(o->host == "10.0.0.2");
  CHECK(o->port == 5999);
  CHECK(o->time == 5);
  CHECK(o->parallel == 4);
  CHECK(o->reverse);
  CHECK(o->json);
  CHECK(o->len == 65536);
  CHECK(o->window == 1048576);
  CHECK(o->connect_timeout_ms == 2000);
  CHECK(o->interval == 0.5);
  CHECK(o->family == AF_INET);
  o = parse({"-c", "h", "-u", "-b", "100M", "--bidir", "-n", "1G"});
  REQUIRE(o);
  CHECK(o->udp);
  CHECK(*o->rate == 100e6);  // rates are decimal
  CHECK(o->bytes == 1024ull * 1024 * 1024);  // sizes binary
  CHECK(o->bidir);
  o = parse({"-s", "-1", "-p", "5202"});
  REQUIRE(o);
  CHECK(o->server);
  CHECK(o->one_off);
  CHECK(parse({"-c", "h", "-b", "0"})->rate == 0.0);
  CHECK(parse({"-c", "h", "-b", "10M/100"})->rate == 10e6);  // burst accepted

  CHECK(!parse({}));
  CHECK(!parse({"-s", "-c", "h"}));
  CHECK(!parse({"-c", "h", "-P", "0"}));
  CHECK(!parse({"-c", "h", "-P", "x"}));
  CHECK(!parse({"-c", "h", "-b", "nonsense"}));
  CHECK(!parse({"-c", "h", "-b", "-5"}));
  CHECK(!parse({"-c", "h", "-p", "70000"}));
  CHECK(!parse({"-c", "h", "-R", "--bidir"}));
  CHECK(!parse({"-c", "h", "-u", "-l", "8"}));
  CHECK(!parse({"-c", "h", "-u", "-l", "70000"}));
  CHECK(!parse({"-c", "h", "--nosuch"}));
  CHECK(parse({"-c", "h", "-O", "2"})->omit == 2);
  CHECK(!parse({"-c", "h", "-u", "-O", "2"}));
  CHECK(!parse({"-c"}));
  CHECK(parse({"-c", "h", "-P", "0"}).error().message().find("parallel streams") != std::string::npos);
}

TEST_CASE("perf format: iperf 2 lines as iperf 2.1.8 prints them", "[perf]") {
  namespace i2 = netshoot::applet::perf::iperf2;
  CHECK(i2::label(1) == "[  1]");
  CHECK(i2::label(12) == "[ 12]");
  CHECK(i2::label(0) == "[SUM]");
  CHECK(std::string(i2::kHeader) == "[ ID] Interval       Transfer     Bandwidth");
  CHECK(std::string(i2::kDashes) == std::string(60, '-'));
  // lines iperf 2.1.8 printed, with the byte counts they stand for
  CHECK(i2::report_line(i2::label(1), 0, 2.0156, 3.20 * 1024 * 1024 * 1024) ==
        "[  1] 0.0000-2.0156 sec  3.20 GBytes  13.6 Gbits/sec");
  CHECK(i2::report_line(i2::label(0), 0, 2.0003, 7.234 * 1024 * 1024 * 1024) ==
        "[SUM] 0.0000-2.0003 sec  7.23 GBytes  31.1 Gbits/sec");
  CHECK(i2::report_line(i2::label(2), 2.0, 3.0152, 128 * 1024) ==
        "[  2] 2.0000-3.0152 sec   128 KBytes  1.03 Mbits/sec");
  CHECK(i2::report_line(i2::label(1), 9.0, 10.0, 1.67 * 1024 * 1024 * 1024) ==
        "[  1] 9.0000-10.0000 sec  1.67 GBytes  14.3 Gbits/sec");
  CHECK(std::string(i2::kUdpHeader) == "[ ID] Interval       Transfer     Bandwidth        Jitter   Lost/Total Datagrams");
  CHECK(i2::udp_report_line(i2::label(1), 0, 2.0096, 1787 * 1470.0, 0.002, 0, 1787) ==
        "[  1] 0.0000-2.0096 sec  2.51 MBytes  10.5 Mbits/sec   0.002 ms 0/1787 (0%)");
  CHECK(i2::udp_report_line(i2::label(1), 0, 2.0, 1000 * 1470.0, 0.25, 20, 1000) ==
        "[  1] 0.0000-2.0000 sec  1.40 MBytes  5.88 Mbits/sec   0.250 ms 20/1000 (2%)");
  CHECK(i2::window_line(131072, true) == "TCP window size:  128 KByte (default)");
  CHECK(i2::window_line(16384, true) == "TCP window size: 16.0 KByte (default)");
  CHECK(i2::window_line(65536, false) == "TCP window size: 64.0 KByte");
  CHECK(i2::connected_line(1, "10.236.1.1", 40890, "10.236.1.2", 9999, i2::TcpInit{14, 1448, 63}) ==
        "[  1] local 10.236.1.1 port 40890 connected with 10.236.1.2 port 9999 (icwnd/mss/irtt=14/1448/63)");
  CHECK(i2::connected_line(4, "10.0.3.3", 9999, "10.0.3.5", 35102, std::nullopt) ==
        "[  4] local 10.0.3.3 port 9999 connected with 10.0.3.5 port 35102");
}

// trace: the traceroute, tcptraceroute and mtr front ends fill one Options struct.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "applets/trace/trace.h"


using namespace netshoot::applet::trace;

namespace {

struct Parsed {
  Options o;
  std::optional<int> rc;
};

Parsed parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Parsed p;
  p.rc = parse_options(int(args.size()), argv.data(), p.o);
  return p;
}

}  // namespace

TEST_CASE("trace options: traceroute defaults and flags", "[trace]") {
  auto p = parse({"traceroute", "10.200.8.2"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.front == Front::traceroute);
  CHECK(p.o.method == Method::udp);
  CHECK(p.o.host == "10.200.8.2");
  CHECK(p.o.queries == 3);
  CHECK(p.o.max_ttl == 30);
  CHECK(p.o.first_ttl == 1);
  CHECK(p.o.wait_max == 5.0);
  CHECK(p.o.port == -1);
  CHECK_FALSE(p.o.numeric);

  p = parse({"traceroute", "-n", "-I", "-q", "1", "-w", "2,1,4", "-m", "12", "-f", "3", "-N", "4", "host", "100"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.numeric);
  CHECK(p.o.method == Method::icmp);
  CHECK(p.o.queries == 1);
  CHECK(p.o.wait_max == 2.0);
  CHECK(p.o.wait_here == 1.0);
  CHECK(p.o.wait_near == 4.0);
  CHECK(p.o.max_ttl == 12);
  CHECK(p.o.first_ttl == 3);
  CHECK(p.o.sim_queries == 4);
  CHECK(p.o.packet_len == 100);

  // Options after the host, as Linux traceroute allows; -T -p; -6; --mtu implies -F.
  p = parse({"traceroute", "10.0.0.1", "-T", "-p", "443", "--mtu", "--ecmp", "4", "-s", "10.0.0.9", "-i", "eth0"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.method == Method::tcp);
  CHECK(p.o.port == 443);
  CHECK(p.o.mtu);
  CHECK(p.o.dont_fragment);
  CHECK(p.o.ecmp == 4);
  CHECK(p.o.source == "10.0.0.9");
  CHECK(p.o.interface == "eth0");

  p = parse({"traceroute6", "::1"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.family == AF_INET6);
  p = parse({"traceroute", "-U", "h"});
  CHECK(p.o.port == 53);
  p = parse({"trace", "-M", "icmp", "--classic", "h"});
  CHECK(p.o.method == Method::icmp);
  CHECK(p.o.classic);
}

TEST_CASE("trace options: bad input is a usage error (2 for traceroute, 1 for mtr)", "[trace]") {
  for (auto args : std::vector<std::vector<std::string>>{
           {"traceroute"},
           {"traceroute", "-m", "0", "h"},
           {"traceroute", "-m", "300", "h"},
           {"traceroute", "-f", "0", "h"},
           {"traceroute", "-q", "11", "h"},
           {"traceroute", "-w", "x", "h"},
           {"traceroute", "-p", "70000", "h"},
           {"traceroute", "--bogus", "h"},
           {"traceroute", "h", "60", "extra"},
           {"tcptraceroute", "h", "nosuchservice"},
       }) {
    auto p = parse(args);
    INFO(args.back());
    REQUIRE(p.rc);
    CHECK(*p.rc == 2);
  }
  for (auto args : std::vector<std::vector<std::string>>{
           {"mtr"}, {"mtr", "-m", "0", "h"}, {"mtr", "-m", "300", "h"}, {"mtr", "-c", "0", "h"}, {"mtr", "--bogus", "h"}}) {
    auto p = parse(args);
    REQUIRE(p.rc);
    CHECK(*p.rc == 1);
  }
  auto p = parse({"traceroute", "--help"});
  REQUIRE(p.rc);
  CHECK(*p.rc == 0);
}

TEST_CASE("trace options: tcptraceroute HOST [PORT] and -p as the source port", "[trace]") {
  auto p = parse({"tcptraceroute", "10.0.0.1"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.front == Front::tcptraceroute);
  CHECK(p.o.method == Method::tcp);
  CHECK(p.o.port == 80);
  p = parse({"tcptraceroute", "-n", "-p", "40000", "-q", "1", "10.0.0.1", "https"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.port == 443);
  CHECK(p.o.src_port == 40000);
  CHECK(p.o.numeric);
  p = parse({"tcptraceroute", "10.0.0.1", "8080", "100"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.port == 8080);
  CHECK(p.o.packet_len == 100);
}

TEST_CASE("trace options: mtr report flags", "[trace]") {
  auto p = parse({"mtr", "-r", "-c", "3", "-n", "10.0.0.1"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.front == Front::mtr);
  CHECK(p.o.report);
  CHECK_FALSE(p.o.wide);
  CHECK(p.o.cycles == 3);
  CHECK(p.o.numeric);
  CHECK(p.o.method == Method::icmp);
  CHECK(p.o.interval == 1.0);
  CHECK_FALSE(p.o.live);

  p = parse({"mtr", "--report-wide", "--report-cycles=100", "-i", "0.01", "-T", "-P", "443", "h"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.report);
  CHECK(p.o.wide);
  CHECK(p.o.cycles == 100);
  CHECK(p.o.interval == 0.01);
  CHECK(p.o.method == Method::tcp);
  CHECK(p.o.port == 443);
  p = parse({"mtr", "-rwc1", "-u", "h"});
  REQUIRE_FALSE(p.rc);
  CHECK(p.o.wide);
  CHECK(p.o.cycles == 1);
  CHECK(p.o.method == Method::udp);
}

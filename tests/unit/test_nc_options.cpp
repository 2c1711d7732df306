// nc applet: option parsing and the exact netcat-openbsd 1.219 message shapes.
#include <catch2/catch.hpp>

#include <cerrno>

#include "applets/nc/options.h"

using namespace netshoot::applet::nc;

namespace {
netshoot::core::Result<Options> parse(std::vector<std::string> a) {
  a.insert(a.begin(), "nc");
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  return parse_options(int(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("nc options: client forms", "[nc]") {
  auto r = parse({"-vz", "-w", "2", "service-a", "8080"});
  REQUIRE(r.ok());
  CHECK(r->verbose == 1);
  CHECK(r->zero_io);
  CHECK(r->wait_s == 2);
  CHECK(r->host == "service-a");
  REQUIRE(r->ports == std::vector<uint16_t>{8080});

  r = parse({"-zvn", "10.0.0.2", "20-22", "80"});
  REQUIRE(r.ok());
  CHECK(r->numeric);
  CHECK(r->ports == std::vector<uint16_t>{20, 21, 22, 80});

  r = parse({"-z", "h", "25-20"});  // reversed ranges are swapped, like openbsd
  REQUIRE(r.ok());
  CHECK(r->ports.front() == 20);
  CHECK(r->ports.back() == 25);

  r = parse({"-N", "-q", "0", "-4", "-s", "10.0.0.1", "h", "http"});
  REQUIRE(r.ok());
  CHECK(r->shutdown_on_eof);
  CHECK(r->quit_s == 0);
  CHECK(r->family == AF_INET);
  CHECK(r->source == "10.0.0.1");
  CHECK(r->ports == std::vector<uint16_t>{80});
}

TEST_CASE("nc options: listen forms", "[nc]") {
  auto r = parse({"-l", "8080"});
  REQUIRE(r.ok());
  CHECK(r->listen);
  CHECK(r->ports == std::vector<uint16_t>{8080});
  CHECK(r->host.empty());

  r = parse({"-lk", "-p", "9000"});
  REQUIRE(r.ok());
  CHECK(r->keep);
  CHECK(r->ports == std::vector<uint16_t>{9000});

  r = parse({"-l", "127.0.0.1", "9000"});
  REQUIRE(r.ok());
  CHECK(r->host == "127.0.0.1");

  r = parse({"-lu", "-p", "5353", "::1"});
  REQUIRE(r.ok());
  CHECK(r->udp);
  CHECK(r->host == "::1");
}

TEST_CASE("nc options: errors read like netcat-openbsd", "[nc]") {
  auto r = parse({"h", "70000"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "port number too large: 70000");
  r = parse({"h"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "missing port number");
  r = parse({"-l"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "missing port number");
  r = parse({"-k", "h", "1"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "must use -l with -k");
  r = parse({"-X", "h", "1"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "invalid option -- 'X'");
  r = parse({"-w"});
  REQUIRE(!r.ok());
  r = parse({"-n", "h", "http"});  // -n: no service names
  REQUIRE(!r.ok());
  CHECK(r.error().context == "service \"http\" unknown");
}

TEST_CASE("nc messages: exact shapes", "[nc]") {
  CHECK(success_message("service-a", "10.0.0.2", 8080, false, false) ==
        "Connection to service-a (10.0.0.2) 8080 port [tcp/http-alt] succeeded!");
  CHECK(success_message("10.0.0.2", "10.0.0.2", 8080, false, false) ==
        "Connection to 10.0.0.2 8080 port [tcp/http-alt] succeeded!");
  CHECK(success_message("10.0.0.2", "10.0.0.2", 8080, false, true) ==
        "Connection to 10.0.0.2 8080 port [tcp/*] succeeded!");
  CHECK(success_message("h", "10.0.0.2", 18080, false, false) == "Connection to h (10.0.0.2) 18080 port [tcp/*] succeeded!");
  CHECK(success_message("h", "10.0.0.2", 53, true, false) == "Connection to h (10.0.0.2) 53 port [udp/domain] succeeded!");
  CHECK(failure_message("localhost", "127.0.0.1", 18081, false, false, ECONNREFUSED) ==
        "connect to localhost (127.0.0.1) port 18081 (tcp) failed: Connection refused");
  CHECK(failure_message("10.0.0.2", "10.0.0.2", 23, false, false, ETIMEDOUT) ==
        "connect to 10.0.0.2 port 23 (tcp) timed out: Operation now in progress");
  CHECK(failure_message("10.0.0.2", "10.0.0.2", 23, false, false, -ETIMEDOUT) ==
        "connect to 10.0.0.2 port 23 (tcp) failed: Connection timed out");
  CHECK(failure_message("10.0.0.2", "10.0.0.2", 6379, false, true, EHOSTUNREACH) ==
        "connect to 10.0.0.2 port 6379 (tcp) failed: No route to host");
}

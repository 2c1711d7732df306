// scan applet: nmap-style option parsing, error texts and timing templates.
#include <catch2/catch.hpp>

#include "applets/scan/scan.h"

using namespace netshoot::applet::scan;
using netshoot::core::L4Proto;

namespace {
netshoot::core::Result<Options> parse(std::vector<std::string> a, bool root = true) {
  a.insert(a.begin(), "nmap");
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  return parse_options(int(argv.size()), argv.data(), root);
}
}  // namespace

TEST_CASE("scan options: techniques and defaults", "[scan]") {
  auto r = parse({"10.0.0.1"});
  REQUIRE(r.ok());
  CHECK(r->technique == Technique::syn);  // root default
  CHECK(r->ports.count(L4Proto::tcp) == 1000);
  r = parse({"10.0.0.1"}, false);
  REQUIRE(r.ok());
  CHECK(r->technique == Technique::connect);  // unprivileged default
  r = parse({"-sS", "10.0.0.1"}, false);
  REQUIRE(!r.ok());
  CHECK(r.error().context == "You requested a scan type which requires root privileges.");
  r = parse({"-sU", "-p", "53", "h"});
  REQUIRE(r.ok());
  CHECK(r->technique == Technique::udp);
  r = parse({"-sS", "-sU", "-p", "U:53,T:80", "h"});
  REQUIRE(r.ok());
  CHECK(r->udp_too);
  CHECK(r->ports.contains(L4Proto::udp, 53));
  CHECK(!r->ports.contains(L4Proto::tcp, 53));
  CHECK(r->ports.contains(L4Proto::tcp, 80));
  r = parse({"-sn", "10.0.0.0/24"});
  REQUIRE(r.ok());
  CHECK(r->technique == Technique::ping_only);
}

TEST_CASE("scan options: ports", "[scan]") {
  auto r = parse({"-p-", "h"});
  REQUIRE(r.ok());
  CHECK(r->ports.count(L4Proto::tcp) == 65535);
  r = parse({"-p", "22,80,1000-2000", "h"});
  REQUIRE(r.ok());
  CHECK(r->ports.count(L4Proto::tcp) == 1003);
  r = parse({"-p1-10", "h"});
  REQUIRE(r.ok());
  CHECK(r->ports.count(L4Proto::tcp) == 10);
  r = parse({"--top-ports", "10", "h"});
  REQUIRE(r.ok());
  CHECK(r->ports.count(L4Proto::tcp) == 10);
  CHECK(r->ports.contains(L4Proto::tcp, 80));
  r = parse({"-F", "h"});
  REQUIRE(r.ok());
  CHECK(r->ports.count(L4Proto::tcp) == 100);
  r = parse({"-p", "70000", "h"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "Ports specified must be between 0 and 65535 inclusive");
  r = parse({"-p", "10-1", "h"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "Your port range 10-1 is backwards. Did you mean 1-10?");
  r = parse({"--top-ports", "0", "h"});
  REQUIRE(!r.ok());
}

TEST_CASE("scan options: timing and output", "[scan]") {
  auto r = parse({"-T4", "--max-retries", "3", "--min-rate=500", "--max-rate", "1000", "--host-timeout", "30s",
                  "--reason", "-n", "-oG", "-", "-dd", "-vv", "h"});
  REQUIRE(r.ok());
  CHECK(r->timing == 4);
  CHECK(r->max_retries == 3);
  CHECK(r->min_rate == 500);
  CHECK(r->max_rate == 1000);
  CHECK(r->host_timeout_s == 30);
  CHECK(r->reason);
  CHECK(r->no_dns);
  CHECK(r->out_grep == "-");
  CHECK(r->debug == 2);
  CHECK(r->verbose == 2);
  CHECK(timing_for(*r).max_retries == 3);
  r = parse({"-Taggressive", "h"});
  REQUIRE(r.ok());
  CHECK(r->timing == 4);
  r = parse({"-T9", "h"});
  REQUIRE(!r.ok());
  CHECK(r.error().context.rfind("Unknown timing mode (-T argument).", 0) == 0);
  r = parse({"--min-rate", "100", "--max-rate", "10", "h"});
  REQUIRE(!r.ok());
  r = parse({"--bogus", "h"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "unrecognized option '--bogus'");
  r = parse({"--host-timeout", "5m", "--max-rtt-timeout", "250ms", "h"});
  REQUIRE(r.ok());
  CHECK(r->host_timeout_s == 300);
  CHECK(timing_for(*r).max_rtt_ms == Approx(250));
  for (int t = 0; t <= 5; ++t) {
    Options o;
    o.timing = t;
    auto tm = timing_for(o);
    CHECK(tm.min_rtt_ms <= tm.max_rtt_ms);
    CHECK(tm.initial_rtt_ms <= tm.max_rtt_ms);
  }
}

TEST_CASE("scan options: --stats-every", "[scan]") {
  auto r = parse({"--stats-every", "2s", "h"});
  REQUIRE(r.ok());
  CHECK(r->stats_every_s == 2);
  r = parse({"--stats-every=500ms", "h"});
  REQUIRE(r.ok());
  CHECK(r->stats_every_s == Approx(0.5));
  r = parse({"--stats-every", "soon", "h"});
  REQUIRE(!r.ok());
  CHECK(r.error().context == "Bogus --stats-every argument specified");
}

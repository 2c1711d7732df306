// ping applet: both front ends (iputils ping and fping) filling the one Options struct.
// The applet's sources are not in a library; the units under test are compiled in.
#include <catch2/catch.hpp>

#include "applets/ping/options.h"
#include "applets/ping/prober.h"

using namespace netshoot::applet::ping;

namespace {
ParseResult ping(std::vector<std::string> a, bool root = false, const std::string& name = "ping") {
  return parse_ping_args(a, name, root);
}
ParseResult fping(std::vector<std::string> a, bool root = false) { return parse_fping_args(a, root); }
}  // namespace

TEST_CASE("ping options: iputils forms", "[ping]") {
  auto r = ping({"-c", "3", "-i", "0.5", "-W", "2", "-w", "10", "-s", "100", "-t", "12", "10.0.1.4"});
  REQUIRE(r.ok());
  const Options& o = r.options;
  CHECK(o.frontend == Frontend::ping);
  CHECK(*o.count == 3);
  CHECK(o.interval_s == 0.5);
  CHECK(o.linger_s == 2);
  CHECK(o.deadline_s == 10);
  CHECK(o.size == 100);
  CHECK(o.ttl == 12);
  CHECK(o.targets == std::vector<std::string>{"10.0.1.4"});

  // Clustered flags, attached values, options after the destination (GNU order).
  r = ping({"-qnc3", "host", "-DO", "-Ieth0", "-M", "do", "-4"});
  REQUIRE(r.ok());
  CHECK(r.options.quiet);
  CHECK(r.options.numeric);
  CHECK(*r.options.count == 3);
  CHECK(r.options.timestamps);
  CHECK(r.options.report_outstanding);
  CHECK(r.options.interface == "eth0");
  CHECK(r.options.pmtu == netshoot::core::PmtuDisc::do_);
  CHECK(r.options.family == AF_INET);
  CHECK(r.options.targets == std::vector<std::string>{"host"});

  CHECK(ping({"::1"}, false, "ping6").options.family == AF_INET6);
  r = ping({"--tcp", "443", "-c", "1", "web"});
  REQUIRE(r.ok());
  CHECK(r.options.probe == Probe::tcp);
  CHECK(r.options.tcp_port == 443);
  CHECK(ping({"--tcp=https", "web"}).options.tcp_port == 443);
  CHECK(ping({"--help"}).options.help);
  CHECK(ping({"-h"}).options.help);
}

TEST_CASE("ping options: errors are one line with exit code 2", "[ping]") {
  auto r = ping({"-t", "0", "h"});
  REQUIRE(!r.ok());
  CHECK(r.error->exit_code == 2);
  CHECK(r.error->message == "invalid argument: '0': out of range: 1 <= value <= 255");
  r = ping({"-t", "300", "h"});
  REQUIRE(!r.ok());
  CHECK(r.error->message.find("'300'") != std::string::npos);
  r = ping({"-i", "0.1", "h"});
  REQUIRE(!r.ok());
  CHECK(r.error->message == "cannot flood; minimal interval allowed for user is 200ms");
  CHECK(ping({"-i", "0.1", "h"}, true).ok());
  CHECK(!ping({"-f", "h"}).ok());
  CHECK(ping({"-f", "h"}, true).options.interval_s == 0);
  CHECK(!ping({}).ok());
  CHECK(ping({}).error->message == "usage error: Destination address required");
  CHECK(!ping({"-c", "x", "h"}).ok());
  CHECK(!ping({"-c", "0", "h"}).ok());
  CHECK(!ping({"-M", "maybe", "h"}).ok());
  CHECK(!ping({"-Z", "h"}).ok());
  CHECK(ping({"-Z", "h"}).error->message == "invalid option -- 'Z'");
  CHECK(!ping({"-c"}).ok());
  CHECK(!ping({"a", "b"}).ok());
  CHECK(!ping({"--tcp", "0", "h"}).ok());
}

TEST_CASE("fping options", "[ping]") {
  auto r = fping({"-a", "-g", "10.0.1.0/24"});
  REQUIRE(r.ok());
  CHECK(r.options.frontend == Frontend::fping);
  CHECK(r.options.alive_only);
  REQUIRE(r.options.targets.size() == 254);
  CHECK(r.options.targets.front() == "10.0.1.1");
  CHECK(r.options.targets.back() == "10.0.1.254");

  r = fping({"-g", "10.0.0.250", "10.0.1.2"});
  REQUIRE(r.ok());
  CHECK(r.options.targets.size() == 9);

  r = fping({"-c", "3", "-q", "h1", "h2", "h3"});
  REQUIRE(r.ok());
  CHECK(*r.options.count == 3);
  CHECK(r.options.quiet);
  CHECK(r.options.targets.size() == 3);
  CHECK(r.options.fping_timeout_ms == 500);

  r = fping({"-u", "-r", "1", "-t", "200", "-p", "20", "-i", "5", "-e", "-s", "h"});
  REQUIRE(r.ok());
  CHECK(r.options.unreach_only);
  CHECK(r.options.retries == 1);
  CHECK(r.options.fping_timeout_ms == 200);
  CHECK(r.options.period_ms == 20);
  CHECK(r.options.interval_s == Approx(0.005));
  CHECK(r.options.elapsed);
  CHECK(r.options.stats);

  // -c with a short period: the timeout follows the period (fping does so).
  CHECK(fping({"-c", "2", "-p", "100", "h"}).options.fping_timeout_ms == 100);
  CHECK(fping({"-C", "2", "h"}).options.per_probe_summary);

  // fping's exit code for bad arguments is 3; risky intervals need root.
  CHECK(fping({"-Z", "h"}).error->exit_code == 3);
  CHECK(!fping({"-p", "5", "h"}).ok());
  CHECK(fping({"-p", "5", "h"}, true).ok());
  CHECK(!fping({"-g", "10.0.0.0/8"}).ok());
  CHECK(!fping({"-g", "nonsense"}).ok());
  CHECK(!fping({}).ok());
}

TEST_CASE("fping -g expansion", "[ping]") {
  auto r = expand_generate({"192.0.2.0/30"});
  REQUIRE(r);
  CHECK(*r == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
  r = expand_generate({"2001:db8::/126"});
  REQUIRE(r);
  CHECK(r->size() == 4);
  CHECK(!expand_generate({"192.0.2.9", "192.0.2.1"}));
  CHECK(!expand_generate({"192.0.2.1", "2001:db8::1"}));
}

TEST_CASE("ping options: -p payload pattern", "[ping]") {
  auto r = ping({"-p", "ff00ab", "10.0.1.4"});
  REQUIRE(r.ok());
  CHECK(r.options.pattern == std::vector<uint8_t>{0xff, 0x00, 0xab});
  CHECK_FALSE(ping({"-p", "zz", "10.0.1.4"}).ok());
  CHECK_FALSE(ping({"-p", std::string(34, 'a'), "10.0.1.4"}).ok());

  // The payload repeats the pattern; a reply is checked against the same fill.
  std::vector<uint8_t> pat{0xff, 0x00, 0xab};
  std::vector<uint8_t> buf(56);
  fill_payload(buf.data(), buf.size(), pat);
  CHECK(buf[16] == pat[16 % 3]);
  CHECK(buf[55] == pat[55 % 3]);
  uint8_t want = 0, got = 0;
  CHECK(check_payload(buf.data(), buf.size(), want, got, pat) == -1);
  buf[40] ^= 0x01;
  CHECK(check_payload(buf.data(), buf.size(), want, got, pat) == 40);
  CHECK(want == pat[40 % 3]);
}

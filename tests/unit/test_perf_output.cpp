// perf applet: -V's CPU utilization line (compared with a line iperf3 3.12 printed),
// --json-stream's event lines, and the options that select them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "applets/perf/options.h"
#include "applets/perf/session.h"

using namespace netshoot::applet::perf;

namespace {
netshoot::core::Result<Options> parse(std::vector<std::string> a) {
  a.insert(a.begin(), "iperf3");
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  return parse_options(int(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("perf: the CPU utilization line of -V", "[perf][unit]") {
  // iperf3 3.12 -c 127.0.0.1 -t 1 -V printed this line
  CHECK(cpu_utilization_line(true, 3.5, 2.7, 0.8, 1.7, 0.0, 1.7) ==
        "CPU Utilization: local/sender 3.5% (2.7%u/0.8%s), remote/receiver 1.7% (0.0%u/1.7%s)");
  // and with -R (this side receives)
  CHECK(cpu_utilization_line(false, 6.1, 4.7, 1.4, 6.1, 4.1, 2.0) ==
        "CPU Utilization: local/receiver 6.1% (4.7%u/1.4%s), remote/sender 6.1% (4.1%u/2.0%s)");
  // rounding as printf's %.1f, more than one CPU busy
  CHECK(cpu_utilization_line(true, 150.04, 100.06, 49.98, 0, 0, 0) ==
        "CPU Utilization: local/sender 150.0% (100.1%u/50.0%s), remote/receiver 0.0% (0.0%u/0.0%s)");
}

TEST_CASE("perf: --json-stream event lines", "[perf][unit]") {
  Json data;
  data["sum"]["bytes"] = 1234;
  data["sum"]["sender"] = true;
  std::string line = json_event_line("interval", data);
  REQUIRE(!line.empty());
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // one line, whatever the data holds
  auto j = nlohmann::json::parse(line);
  CHECK(j["event"] == "interval");
  CHECK(j["data"]["sum"]["bytes"] == 1234);
  CHECK(line.rfind("{\"event\":\"interval\",\"data\":", 0) == 0);  // event first, as iperf3 3.17
  // strings with newlines stay on one line
  std::string err = json_event_line("error", Json("bad\nthing"));
  CHECK(err.find('\n') == err.size() - 1);
  CHECK(nlohmann::json::parse(err)["data"] == "bad\nthing");
}

TEST_CASE("perf: --json-stream and -V options", "[perf][unit]") {
  auto o = parse({"-c", "h", "--json-stream"});
  REQUIRE(o);
  CHECK(o->json);
  CHECK(o->json_stream);
  CHECK(!o->verbose);
  o = parse({"-c", "h", "-V"});
  REQUIRE(o);
  CHECK(o->verbose);
  CHECK(!o->json_stream);
  o = parse({"-s", "--verbose", "-J"});
  REQUIRE(o);
  CHECK(o->verbose);
  CHECK(o->json);
  CHECK(!o->json_stream);
}

// arping against iputils arping in namespaces this test creates: the same lines
// (reply times aside: iputils adds a constant 0.5 ms to the fraction it prints, we
// print the measured time) and the same exit codes for replies, silence,
// duplicate address detection, deadlines and bad input; --check-neigh against
// `ip neigh show nud incomplete|failed`.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;
using nlohmann::json;

namespace {

RunResult ours(const Netns& ns, std::vector<std::string> args) {
  args.insert(args.begin(), {"--netns", ns.name()});
  return run_netshoot(args);
}

std::string no_times(const std::string& s) {
  static const std::regex ms(R"(  [0-9]+\.[0-9]{3}ms)");
  return std::regex_replace(s, ms, "  Tms");
}

std::vector<std::string> sorted_lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream is(s);
  for (std::string l; std::getline(is, l);)
    if (!l.empty()) v.push_back(l);
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("arping: lines and exit codes equal iputils arping", "[arping][netview]") {
  if (!have_tool("arping")) {
    WARN("SKIP: arping (Debian package iputils-arping) not installed");
    return;
  }
  Netns a{"ap-a"}, b{"ap-b"};
  veth_link(a, "apa", "10.69.0.1/24", b, "apb", "10.69.0.2/24");
  const std::vector<std::vector<std::string>> cmds = {
      {"-I", "apa", "-c", "3", "10.69.0.2"},        // replies: exit 0, unicast after the first
      {"-I", "apa", "-c", "2", "-D", "10.69.0.2"},  // duplicate found: exit 1, stops at the first
      {"-I", "apa", "-c", "2", "-D", "10.69.0.9"},  // address free: exit 0
      {"-I", "apa", "-c", "2", "-w", "1", "10.69.0.9"},  // silence: exit 1
      {"-c", "1", "10.69.0.2"},                     // interface from the route
      {"-I", "apa", "-c", "1", "-f", "-q", "10.69.0.2"},
      {"-I", "nosuch", "-c", "1", "10.69.0.2"},     // exit 2, "Device nosuch not available."
  };
  for (const auto& c : cmds) {
    std::vector<std::string> real{"arping"}, mine{"arping"};
    real.insert(real.end(), c.begin(), c.end());
    mine.insert(mine.end(), c.begin(), c.end());
    RunResult r = a.exec(real), m = ours(a, mine);
    std::string label;
    for (const auto& w : c) label += w + " ";
    INFO("arping " << label << "\niputils: " << describe(r) << "\nnetshoot: " << describe(m));
    CHECK(m.exit == r.exit);
    CHECK(no_times(m.out) == no_times(r.out));
    CHECK(m.err == r.err);
  }
  // The replies really came from b's MAC.
  std::string mac = b.exec({"cat", "/sys/class/net/apb/address"}).out;
  mac.erase(mac.find_last_not_of('\n') + 1);
  std::transform(mac.begin(), mac.end(), mac.begin(), ::toupper);
  RunResult m = ours(a, {"arping", "-I", "apa", "-c", "1", "10.69.0.2"});
  CHECK(m.out.find("[" + mac + "]") != std::string::npos);

  RunResult j = ours(a, {"arping", "--json", "-I", "apa", "-c", "1", "10.69.0.2"});
  REQUIRE(j.exit == 0);
  json reply = json::parse(j.out.substr(0, j.out.find('\n')));
  CHECK(reply["type"] == "reply");
  CHECK(reply["mac"] == mac);

  // Bad input: one line, usage exit code.
  m = ours(a, {"arping", "-I", "apa", "fd00::1"});
  CHECK(m.exit == 2);
  CHECK(m.err == "arping: fd00::1: arping is IPv4 only (IPv6 uses neighbour discovery: ndisc6)\n");
  m = ours(a, {"arping", "-I", "apa", "-c", "x", "10.69.0.2"});
  CHECK(m.exit == 2);
}

TEST_CASE("arping --check-neigh lists INCOMPLETE and FAILED entries as ip neigh does", "[arping][netview]") {
  Netns a{"ap-c"}, b{"ap-d"};
  veth_link(a, "apc", "10.70.0.1/24", b, "apd", "10.70.0.2/24");
  RunResult m = ours(a, {"arping", "--check-neigh"});
  CHECK(m.exit == 0);
  // Two addresses nobody answers for: their entries go INCOMPLETE, then FAILED.
  a.exec({"ping", "-c", "1", "-W", "1", "10.70.0.9"});
  a.exec({"ping", "-c", "1", "-W", "1", "10.70.0.8"});
  REQUIRE(a.exec({"ping", "-c", "1", "-W", "1", "10.70.0.2"}).exit == 0);  // one that resolves
  RunResult inc = a.exec({"ip", "neigh", "show", "nud", "incomplete"});
  RunResult fail = a.exec({"ip", "neigh", "show", "nud", "failed"});
  m = ours(a, {"arping", "--check-neigh", "-q"});
  RunResult inc2 = a.exec({"ip", "neigh", "show", "nud", "incomplete"});
  INFO("ip: " << inc.out << fail.out << "\nnetshoot: " << describe(m));
  CHECK(m.exit == 1);
  if (inc.out == inc2.out) {  // no state change in between
    CHECK(sorted_lines(m.out) == sorted_lines(inc.out + fail.out));
  }
  CHECK(m.out.find("10.70.0.9 dev apc ") != std::string::npos);
  CHECK(m.out.find("10.70.0.2") == std::string::npos);
  m = ours(a, {"arping", "--check-neigh", "-I", "nosuch"});
  CHECK(m.exit == 2);
}

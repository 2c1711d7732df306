// conntrack -L / -C / -S against conntrack-tools in namespaces this test creates,
// with entries from real flows: an established TCP connection, an unreplied UDP
// datagram, ICMP and ICMPv6 echoes. Lines are compared whole except the timeout
// column (it counts down between the two runs); order is the kernel's hash order
// for both tools, compared as sorted lists.
#include <catch2/catch.hpp>

#include <algorithm>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
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

// Sorted lines, the timeout (the number after "PROTO NUM") replaced by T.
std::vector<std::string> normalized(const std::string& out) {
  static const std::regex timeout(R"(^((ipv[46] +[0-9]+ +)?[a-z0-9]+ +[0-9]+ +)[0-9]+)");
  std::vector<std::string> v;
  std::istringstream is(out);
  for (std::string l; std::getline(is, l);) v.push_back(std::regex_replace(l, timeout, "$1T"));
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("conntrack -L/-C/-S equal conntrack-tools' for real flows", "[conntrack][netview]") {
  if (!have_tool("conntrack") || !have_tool("nft") || !have_tool("nc")) {
    WARN("SKIP: needs conntrack (Debian package conntrack), nft and nc");
    return;
  }
  Netns a{"ct-a"}, b{"ct-b"};
  veth_link(a, "cta", "10.67.0.1/24", b, "ctb", "10.67.0.2/24");
  a.ip("addr add fd67::1/64 dev cta nodad");
  b.ip("addr add fd67::2/64 dev ctb nodad");
  // A rule that uses conntrack makes the namespace track connections.
  RunResult load = a.exec({"nft", "-f", "-"},
                          RunOptions{30000, "table inet t {\n chain in {\n  type filter hook input priority 0;\n"
                                            "  ct state new counter\n }\n}\n", {}});
  REQUIRE(load.exit == 0);

  Background server({"nc", "-l", "-p", "5601"}, a.name());
  REQUIRE(wait_until([&] { return a.exec({"ss", "-Htln", "sport = :5601"}).out.find("5601") != std::string::npos; }));
  Background client({"sh", "-c", "(echo hello; sleep 60) | nc 10.67.0.1 5601"}, b.name());
  REQUIRE(b.exec({"ping", "-c", "1", "-W", "1", "10.67.0.1"}).exit == 0);
  REQUIRE(b.exec({"ping", "-c", "1", "-W", "1", "fd67::1"}).exit == 0);
  b.exec({"sh", "-c", "echo x | nc -u -w1 10.67.0.1 5602"});
  REQUIRE(wait_until([&] {
    return a.exec({"conntrack", "-L", "-p", "tcp", "--dport", "5601"}).out.find("ESTABLISHED") != std::string::npos;
  }));

  const std::vector<std::vector<std::string>> cmds = {
      {"-L"}, {"-L", "-p", "tcp", "--dport", "5601"}, {"-L", "-p", "udp"}, {"-L", "-f", "ipv6"},
      {"-L", "-o", "extended"}, {"-L", "-p", "icmp"}, {"-L", "-p", "tcp", "--dport", "9"}};
  for (const auto& c : cmds) {
    std::vector<std::string> real{"conntrack"}, mine{"conntrack"};
    real.insert(real.end(), c.begin(), c.end());
    mine.insert(mine.end(), c.begin(), c.end());
    RunResult r, m;
    bool same = false;
    for (int i = 0; i < 4 && !same; ++i) {  // an entry may expire between the runs
      r = a.exec(real);
      m = ours(a, mine);
      same = r.exit == 0 && m.exit == 0 && normalized(r.out) == normalized(m.out);
      if (!same) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    std::string label;
    for (const auto& w : c) label += w + " ";
    INFO("conntrack " << label << "\nconntrack-tools:\n" << r.out << r.err << "netshoot:\n" << describe(m));
    CHECK(same);
  }
  // The full listing really holds the flows we made.
  RunResult all = ours(a, {"conntrack", "-L"});
  CHECK(all.out.find("ESTABLISHED src=10.67.0.2 dst=10.67.0.1") != std::string::npos);
  CHECK(all.out.find("[UNREPLIED]") != std::string::npos);
  CHECK(all.out.find("icmpv6   58 ") != std::string::npos);
  CHECK(all.err.find("flow entries have been shown") != std::string::npos);

  RunResult rc = a.exec({"conntrack", "-C"}), mc = ours(a, {"conntrack", "-C"});
  CHECK(rc.out == mc.out);
  CHECK(std::stoi(mc.out) >= 4);
  RunResult rs = a.exec({"conntrack", "-S"}), ms = ours(a, {"conntrack", "-S"});
  INFO("conntrack-tools:\n" << rs.out << "netshoot:\n" << ms.out);
  CHECK(rs.out == ms.out);

  // --json: one flow per line, as many as the text listing.
  RunResult js = ours(a, {"conntrack", "--json", "-L", "-p", "tcp"});
  REQUIRE(js.exit == 0);
  json j = json::parse(js.out.substr(0, js.out.find('\n')));
  CHECK(j["type"] == "flow");
  CHECK(j["proto"] == "tcp");
  CHECK(j["orig"]["dport"] == 5601);
  CHECK(j["state"] == "ESTABLISHED");
}

TEST_CASE("conntrack: bad input is a one-line usage error", "[conntrack][netview]") {
  RunResult m = run_netshoot({"conntrack", "-L", "-p", "bogus"});
  CHECK(m.exit == 2);
  CHECK(m.err.rfind("conntrack: unknown protocol 'bogus'\n", 0) == 0);
  m = run_netshoot({"conntrack", "-L", "--dport", "80"});
  CHECK(m.exit == 2);
  CHECK(m.err.find("-p") != std::string::npos);
  m = run_netshoot({"conntrack", "-D"});
  CHECK(m.exit == 2);
  CHECK(m.err.find("read-only") != std::string::npos);
  m = run_netshoot({"conntrack"});
  CHECK(m.exit == 2);
  m = run_netshoot({"conntrack", "-L", "-s", "10.0.0.300"});
  CHECK(m.exit == 2);
}

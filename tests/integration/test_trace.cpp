// trace (traceroute, tcptraceroute, mtr) over a real chain of router namespaces:
//   client -- r1 -- r2 -- r3 -- target      link i = 10.210.i.0/24 (.1 left, .2 right)
// so hop i answers from 10.210.i.2 and the target is 10.210.4.2. Compared with the
// real traceroute on the same chain. Traffic never leaves the namespaces.
#include <catch2/catch.hpp>

#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;

namespace {

constexpr int kHops = 4;
const std::string kTarget = "10.210.4.2";

std::string hop_addr(int i) { return "10.210." + std::to_string(i) + ".2"; }

struct Chain {
  std::vector<std::unique_ptr<Netns>> ns;  // 0 = client, kHops = target
  Chain() {
    for (int i = 0; i <= kHops; ++i) ns.push_back(std::make_unique<Netns>("trc" + std::to_string(i)));
    for (int i = 1; i <= kHops; ++i)
      veth_link(*ns[i - 1], "trca" + std::to_string(i), "10.210." + std::to_string(i) + ".1/24", *ns[i],
                "trcb" + std::to_string(i), hop_addr(i) + "/24");
    for (int i = 0; i <= kHops; ++i) {
      // Forwarding, and no ICMP rate limits: many probes in a short time must all be answered.
      REQUIRE(ns[i]->exec({"sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0",
                           "net.ipv4.icmp_msgs_per_sec=100000"}).exit == 0);
      for (int j = i + 2; j <= kHops; ++j)
        ns[i]->ip("route add 10.210." + std::to_string(j) + ".0/24 via 10.210." + std::to_string(i + 1) + ".2");
      for (int j = 1; j < i; ++j)
        ns[i]->ip("route add 10.210." + std::to_string(j) + ".0/24 via 10.210." + std::to_string(i) + ".1");
    }
  }
  const Netns& client() const { return *ns[0]; }
  const Netns& at(int i) const { return *ns[size_t(i)]; }
  RunResult trace(std::vector<std::string> args, int timeout_ms = 20000) const {
    args.insert(args.begin(), netshoot_bin());
    return client().exec(args, {timeout_ms, {}, {}});
  }
  void nft(const Netns& n, const std::string& ruleset) const {
    RunResult r = n.exec({"nft", "-f", "-"}, {10000, ruleset, {}});
    INFO(describe(r));
    REQUIRE(r.exit == 0);
  }
};

// "N addr" per hop line of traceroute output ("N *" for a silent hop).
std::vector<std::string> hop_lines(const std::string& out) {
  std::vector<std::string> v;
  std::istringstream in(out);
  std::string line;
  static const std::regex hop(R"(^\s*(\d+)\s+(\S+))");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, hop)) v.push_back(m[1].str() + " " + m[2].str());
  }
  return v;
}

std::vector<std::string> expected_hops() {
  std::vector<std::string> v;
  for (int i = 1; i <= kHops; ++i) v.push_back(std::to_string(i) + " " + hop_addr(i));
  return v;
}

}  // namespace

TEST_CASE("trace: UDP, ICMP and TCP probes list the chain's hops in order, like traceroute", "[trace]") {
  Chain c;
  RunResult r = c.trace({"traceroute", "-n", kTarget});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  CHECK(r.out.rfind("traceroute to 10.210.4.2 (10.210.4.2), 30 hops max, 60 byte packets\n", 0) == 0);
  CHECK(hop_lines(r.out) == expected_hops());  // the closed UDP port of the target ends it
  CHECK(std::regex_search(r.out, std::regex(R"(\n 1  10\.210\.1\.2  \d+\.\d{3} ms  \d+\.\d{3} ms  \d+\.\d{3} ms\n)")));

  if (have_tool("traceroute")) {
    RunResult real = c.client().exec({"traceroute", "-n", kTarget});
    INFO(describe(real));
    CHECK(hop_lines(real.out) == hop_lines(r.out));
  } else {
    WARN("SKIP comparison: traceroute not installed");
  }

  r = c.trace({"traceroute", "-n", "-I", kTarget});
  INFO(describe(r));
  CHECK(hop_lines(r.out) == expected_hops());

  r = c.trace({"traceroute", "-n", "--classic", kTarget});
  INFO(describe(r));
  CHECK(hop_lines(r.out) == expected_hops());

  // TCP: an open port (a listener in the target) and a closed one.
  Background listener({"python3", "-c",
                       "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                       "s.bind(('0.0.0.0',8080))\ns.listen(16)\ntime.sleep(60)"},
                      c.at(kHops).name());
  REQUIRE(wait_until([&] { return c.at(kHops).exec({"ss", "-Hltn", "sport = :8080"}).out.find("8080") != std::string::npos; }));
  r = c.trace({"traceroute", "-n", "-T", "-p", "8080", kTarget});
  INFO(describe(r));
  CHECK(hop_lines(r.out) == expected_hops());
  r = c.trace({"tcptraceroute", "-n", kTarget, "8080"});
  INFO(describe(r));
  CHECK(hop_lines(r.out) == expected_hops());
  CHECK(r.out.find("Tracing the path to 10.210.4.2 (10.210.4.2) on TCP port 8080") != std::string::npos);
  CHECK(r.out.find(" 4  10.210.4.2 [open]  ") != std::string::npos);
  r = c.trace({"tcptraceroute", "-n", kTarget, "8081"});
  INFO(describe(r));
  CHECK(hop_lines(r.out) == expected_hops());
  CHECK(r.out.find(" 4  10.210.4.2 [closed]  ") != std::string::npos);
}

TEST_CASE("trace: a router that drops its ICMP errors shows * and costs no full wait", "[trace]") {
  Chain c;
  c.nft(c.at(2), "table inet t {\n chain o {\n  type filter hook output priority 0;\n  icmp type time-exceeded drop\n }\n}\n");
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = c.trace({"traceroute", "-n", kTarget});
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  auto want = expected_hops();
  want[1] = "2 *";
  CHECK(hop_lines(r.out) == want);
  CHECK(r.out.find("\n 2  * * *\n") != std::string::npos);
  CHECK(ms < 1000);  // the silent hop is given up once later hops answered (-w NEAR)

  // JSON: one object per hop plus a summary.
  r = c.trace({"traceroute", "-n", "--json", kTarget});
  INFO(describe(r));
  std::istringstream in(r.out);
  std::string line;
  std::vector<nlohmann::json> objs;
  while (std::getline(in, line)) objs.push_back(nlohmann::json::parse(line));
  REQUIRE(objs.size() == size_t(kHops) + 2);
  CHECK(objs[0]["type"] == "start");
  CHECK(objs[2]["type"] == "hop");
  CHECK(objs[2]["ttl"] == 2);
  CHECK(objs[2]["probes"][0]["reply"] == "timeout");
  CHECK(objs[4]["probes"][0]["address"] == kTarget);
  CHECK(objs[4]["probes"][0]["reply"] == "reached");
  CHECK(objs.back()["type"] == "summary");
  CHECK(objs.back()["destination_reached"] == true);
}

TEST_CASE("trace: mtr report mode, no loss, then 30% random loss at the target", "[trace]") {
  Chain c;
  RunResult r = c.trace({"mtr", "-r", "-c", "3", "-n", kTarget});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  std::istringstream in(r.out);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  REQUIRE(lines.size() == size_t(kHops) + 2);
  CHECK(lines[0].rfind("Start: ", 0) == 0);
  CHECK(lines[1].find(" Loss%   Snt   Last   Avg  Best  Wrst StDev") == 33);
  for (int i = 1; i <= kHops; ++i) {
    const std::string& l = lines[size_t(i) + 1];
    CHECK(l.rfind("  " + std::to_string(i) + ".|-- " + hop_addr(i), 0) == 0);
    CHECK(l.substr(33, 12) == "  0.0%     3");
    CHECK(l.size() == 76);
  }

  // 30% drop each way at the target: about 1 - 0.7^2 = 51% of the last hop's probes lost.
  c.nft(c.at(kHops), "table inet t {\n chain i {\n  type filter hook input priority 0;\n  numgen random mod 100 < 30 drop\n }\n"
                     " chain o {\n  type filter hook output priority 0;\n  numgen random mod 100 < 30 drop\n }\n}\n");
  r = c.trace({"mtr", "-r", "-c", "200", "-i", "0.01", "-n", "--json", kTarget}, 30000);
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  std::istringstream js(r.out);
  double last_loss = -1;
  int last_ttl = 0, sent = 0;
  std::vector<double> router_loss;
  while (std::getline(js, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] != "hop") continue;
    if (j["address"] == kTarget) {
      last_loss = j["loss_pct"].get<double>();
      last_ttl = j["ttl"].get<int>();
      sent = j["sent"].get<int>();
    } else {
      router_loss.push_back(j["loss_pct"].get<double>());
    }
  }
  CHECK(last_ttl == kHops);
  CHECK(sent == 200);
  CHECK(last_loss > 38.0);  // binomial, n = 200, p = 0.51: sd 3.5 points; ±13 is > 3.5 sd
  CHECK(last_loss < 64.0);
  for (double l : router_loss) CHECK(l == 0.0);
}

TEST_CASE("trace: --mtu finds the link with the smaller MTU", "[trace]") {
  Chain c;
  c.at(2).ip("link set trca3 mtu 1400");
  c.at(3).ip("link set trcb3 mtu 1400");
  RunResult r = c.trace({"traceroute", "-n", "--mtu", kTarget});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  CHECK(hop_lines(r.out) == expected_hops());
  CHECK(std::regex_search(r.out, std::regex(R"(\n 1  10\.210\.1\.2  \S+ ms F=1500 )")));
  CHECK(std::regex_search(r.out, std::regex(R"(\n 3  10\.210\.3\.2  \S+ ms F=1400 )")));
  CHECK(r.out.find("\npmtu 1400\n") != std::string::npos);
  // Without --mtu, -F with a 1500-byte packet stops at the router that cannot forward it.
  r = c.trace({"traceroute", "-n", "-F", kTarget, "1500"});
  INFO(describe(r));
  CHECK(r.out.find(" 3  10.210.2.2  ") != std::string::npos);
  CHECK(r.out.find("!F-1400") != std::string::npos);
}

TEST_CASE("trace: bad input is one line on stderr and the tools' exit codes", "[trace]") {
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string msg;
  };
  for (const auto& k : std::vector<Case>{
           {{"traceroute", "nosuchhost.invalid"}, 2, "nosuchhost.invalid"},
           {{"traceroute", "-4", "::1"}, 2, "Address family for hostname not supported"},
           {{"traceroute", "-m", "0", "127.0.0.1"}, 2, "first hop out of range"},
           {{"traceroute", "-m", "300", "127.0.0.1"}, 2, "max hops cannot be more than 255"},
           {{"traceroute"}, 2, "missing host"},
           {{"mtr", "-r", "nosuchhost.invalid"}, 1, "nosuchhost.invalid"},
           {{"mtr", "-r", "-m", "300", "127.0.0.1"}, 1, "max ttl"},
       }) {
    std::vector<std::string> args = k.args;
    RunResult r = run_netshoot(args, {10000, {}, {}});
    INFO(args[0] << " ... " << describe(r));
    CHECK(r.exit == k.code);
    CHECK(r.out.empty());
    CHECK(r.err.find(k.msg) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("trace: a target one hop away answers all three probes, as with traceroute", "[trace]") {
  // The target's ICMP error budget is a burst of 6: it must go to hop 1's own
  // probes, not to scouts sent past the destination. (Echo replies, -I, are not
  // rate limited, so the runs need no pause between them.)
  Netns a(unique_name("tr1a")), b(unique_name("tr1b"));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  veth_link(a, "t1a", "10.211.0.1/24", b, "t1b", "10.211.0.2/24");
  for (const char* method : {"", "-I"}) {
    std::vector<std::string> args{"traceroute", "-n", "10.211.0.2"};
    if (*method) args.insert(args.begin() + 1, method);
    std::vector<std::string> argv{netshoot_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_in(a.name(), argv);
    INFO(describe(r));
    REQUIRE(r.exit == 0);
    static const std::regex three(R"(\n 1  10\.211\.0\.2  [0-9.]+ ms  [0-9.]+ ms  [0-9.]+ ms\n)");
    CHECK(std::regex_search(r.out, three));
  }
}

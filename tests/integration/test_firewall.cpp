// firewall / nft against the real nft in namespaces this test creates: the same
// ruleset (families inet, ip, ip6, bridge, netdev; base chains, named and anonymous
// sets, maps, rules with counters that real traffic moved) listed by both, text
// byte for byte and `-j` JSON parsed.
//
// Known differences, not compared: nft 1.0.6's JSON omits "dev" of a netdev chain
// (its text shows `device "lo"`) and "dynamic" among set flags (its text shows it);
// ours carries both, so they are removed before comparing.
// The metainfo object names the program and its version, so it differs by design.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;
using nlohmann::json;

namespace {

const char* kRuleset = R"(table inet filter {
  set blocked {
    type ipv4_addr
    elements = { 10.9.0.1, 10.9.0.7, 10.9.0.3 }
  }
  set ports {
    type inet_service
    flags interval
    elements = { 22, 8000-8080, 9000 }
  }
  set nets6 {
    type ipv6_addr
    flags interval
    elements = { fd00::/8, ::1 }
  }
  set peers {
    type ipv4_addr
    counter
    elements = { 10.66.0.2, 10.66.0.3 }
  }
  map vm {
    type inet_service : verdict
    elements = { 2222 : accept, 2223 : drop }
  }
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr @peers
    ct state established,related counter accept
    ct state invalid drop
    iifname "lo" accept
    meta l4proto icmp counter accept
    ip saddr @blocked counter drop
    ip saddr 10.0.0.0/8 tcp dport 22 counter accept
    tcp dport { 80, 443 } accept
    tcp dport @ports accept
    tcp dport vmap @vm
    udp dport 53 accept
    ip6 saddr @nets6 accept
    ip6 saddr fd00::/8 accept
    meta mark 0x10 jump mychain
    limit rate 10/second log prefix "in: " accept
    tcp dport 25 reject with tcp reset
    tcp dport 1000-2000 counter drop comment "a range"
    reject with icmpx admin-prohibited
  }
  chain mychain {
    numgen random mod 100 < 5 drop
    oifname "eth0" return
    ip daddr 10.1.2.3 counter goto other
  }
  chain other {
    ip ttl 64 accept
    ip saddr 10.128.0.0/9 accept
    tcp flags syn accept
    ct mark set meta mark
  }
}
table ip nat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "eth0" masquerade
    ip saddr 10.0.0.0/24 snat to 192.0.2.1
  }
  chain pre {
    type nat hook prerouting priority dstnat;
    tcp dport 8080 dnat to 10.0.0.2:80
  }
}
table ip6 t6 {
  chain forward6 {
    type filter hook forward priority -10; policy drop;
    ip6 daddr ::1 drop
    icmpv6 type echo-request accept
    meta l4proto ipv6-icmp counter
  }
}
table bridge br {
  chain f {
    type filter hook forward priority -195;
    ether type arp accept
  }
}
table inet extra {
  counter c1 {
  }
  quota q1 {
    over 100 mbytes
  }
  set dyn {
    type ipv4_addr
    flags dynamic,timeout
    timeout 1m
    size 1024
  }
  set slow {
    type ipv4_addr
    timeout 2d3s
  }
  map nm {
    type ipv4_addr : ipv4_addr
    elements = { 10.0.0.1 : 192.168.0.1 }
  }
  chain c {
    add @dyn { ip saddr }
    update @dyn { ip saddr timeout 10s }
    ct count over 2 drop
    quota over 10 mbytes drop
    counter name "c1"
    ip6 nexthdr tcp accept
    meta iifname "eth*" accept
    iifname != "lo" accept
    tcp flags & (syn|ack) == syn accept
    ip saddr != { 10.0.0.1, 10.0.0.2 } drop
    ct state vmap { established : accept, invalid : drop }
    meta mark set ct mark
    ip protocol icmp icmp type { echo-request, echo-reply } accept
    udp dport 67 udp sport 68 accept
    fib saddr . iif oif missing drop
    icmpv6 type nd-neighbor-solicit accept
    ip ttl < 10 drop
    ip dscp cs1 accept
    ip dscp != 0x3f accept
    ip6 ecn ect0 accept
    ip version 4 accept
  }
  chain n {
    type nat hook prerouting priority dstnat;
    dnat ip to ip daddr map @nm
  }
}
table netdev nd {
  chain in {
    type filter hook ingress device lo priority 0;
  }
}
)";

RunResult ours(const Netns& ns, std::vector<std::string> args) {
  args.insert(args.begin(), {"--netns", ns.name()});
  return run_netshoot(args);
}

// nft's {"nftables": [...]} without metainfo, "dev" dropped from chains.
json items(const std::string& out) {
  json j = json::parse(out);
  json v = json::array();
  for (auto& it : j.at("nftables")) {
    if (it.contains("metainfo")) continue;
    if (it.contains("chain")) it["chain"].erase("dev");
    // nft 1.0.6's JSON leaves "dynamic" out of set flags (its text shows it); we keep it.
    if (it.contains("set") && it["set"].contains("flags")) {
      json f = json::array();
      for (const auto& x : it["set"]["flags"])
        if (x != "dynamic") f.push_back(x);
      it["set"]["flags"] = f;
    }
    v.push_back(it);
  }
  return v;
}

}  // namespace

TEST_CASE("nft list ruleset: our text and -j equal the real nft's", "[firewall][netview]") {
  if (!have_tool("nft")) {
    WARN("SKIP: nft (nftables) not installed");
    return;
  }
  Netns a{"fw-a"}, b{"fw-b"};
  veth_link(a, "fwa", "10.66.0.1/24", b, "fwb", "10.66.0.2/24");
  RunResult load = a.exec({"nft", "-f", "-"}, RunOptions{30000, kRuleset, {}});
  REQUIRE(load.exit == 0);
  // Real traffic moves the counters of the icmp rule (and conntrack's).
  RunResult ping = b.exec({"ping", "-c", "3", "-i", "0.2", "-W", "1", "10.66.0.1"});
  INFO(describe(ping));
  REQUIRE(ping.exit == 0);

  RunResult r = a.exec({"nft", "list", "ruleset"});
  RunResult m = ours(a, {"nft", "list", "ruleset"});
  REQUIRE(r.exit == 0);
  INFO("nft:\n" << r.out << "\nnetshoot:\n" << describe(m));
  CHECK(m.exit == 0);
  CHECK(m.out == r.out);
  // the counters really moved (so the comparison covers non-zero values)
  CHECK(r.out.find("meta l4proto icmp counter packets 0 ") == std::string::npos);
  CHECK(r.out.find("10.66.0.2 counter packets 0 ") == std::string::npos);

  RunResult rj = a.exec({"nft", "-j", "list", "ruleset"});
  RunResult mj = ours(a, {"nft", "-j", "list", "ruleset"});
  REQUIRE(rj.exit == 0);
  REQUIRE(mj.exit == 0);
  json real = items(rj.out), mine = items(mj.out);
  REQUIRE(real.size() == mine.size());
  for (size_t i = 0; i < real.size(); ++i) {
    INFO("nft:      " << real[i].dump() << "\nnetshoot: " << mine[i].dump());
    CHECK(real[i] == mine[i]);
  }

  // One table, with and without the family (nft's default family is ip).
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"list", "table", "inet", "filter"}, {"list", "table", "nat"}, {"list", "table", "ip6", "t6"},
           {"list", "chain", "inet", "filter", "input"}, {"list", "chain", "nat", "pre"},
           {"list", "set", "inet", "filter", "ports"}, {"list", "map", "inet", "filter", "vm"}, {"list", "tables"}}) {
    std::vector<std::string> real_cmd{"nft"}, mine_cmd{"nft"};
    real_cmd.insert(real_cmd.end(), args.begin(), args.end());
    mine_cmd.insert(mine_cmd.end(), args.begin(), args.end());
    RunResult rt = a.exec(real_cmd), mt = ours(a, mine_cmd);
    INFO(args.back() << "\nnft:\n" << rt.out << "\nnetshoot:\n" << describe(mt));
    CHECK(rt.exit == 0);
    CHECK(mt.out == rt.out);
    if (args[1] == "chain" || args[1] == "set") {
      real_cmd.insert(real_cmd.begin() + 1, "-j");
      mine_cmd.insert(mine_cmd.begin() + 1, "-j");
      RunResult rjt = a.exec(real_cmd), mjt = ours(a, mine_cmd);
      REQUIRE(mjt.exit == 0);
      CHECK(items(rjt.out) == items(mjt.out));
    }
  }
  RunResult nochain = ours(a, {"nft", "list", "chain", "inet", "filter", "nosuch"});
  CHECK(nochain.exit == 1);
  CHECK(nochain.err == "nft: list chain inet filter nosuch: no such chain\n");

  // --json: one object per line, each with its kind.
  RunResult lines = ours(a, {"firewall", "--json"});
  REQUIRE(lines.exit == 0);
  size_t rules = 0;
  for (size_t pos = 0; pos < lines.out.size();) {
    size_t nl = lines.out.find('\n', pos);
    json j = json::parse(lines.out.substr(pos, nl - pos));
    REQUIRE(j.contains(j.at("type").get<std::string>()));
    rules += j["type"] == "rule";
    pos = nl == std::string::npos ? lines.out.size() : nl + 1;
  }
  size_t real_rules = 0;
  for (const auto& it : real) real_rules += it.contains("rule");
  CHECK(rules == real_rules);
}

TEST_CASE("nft: empty ruleset, unknown table, bad input", "[firewall][netview]") {
  if (!have_tool("nft")) {
    WARN("SKIP: nft (nftables) not installed");
    return;
  }
  Netns a{"fw-e"};
  RunResult r = a.exec({"nft", "list", "ruleset"}), m = ours(a, {"nft", "list", "ruleset"});
  CHECK(r.out.empty());
  CHECK(m.exit == 0);
  CHECK(m.out == r.out);
  RunResult rj = a.exec({"nft", "-j", "list", "ruleset"}), mj = ours(a, {"nft", "-j", "list", "ruleset"});
  REQUIRE(mj.exit == 0);
  CHECK(items(rj.out) == items(mj.out));

  m = ours(a, {"nft", "list", "table", "inet", "nosuch"});
  CHECK(m.exit == 1);
  CHECK(m.err == "nft: list table inet nosuch: no such table\n");
  m = ours(a, {"nft", "add", "table", "inet", "x"});
  CHECK(m.exit == 2);
  CHECK(m.err.find("read-only") != std::string::npos);
  m = ours(a, {"nft", "list", "ruleset", "ipx"});
  CHECK(m.exit == 2);
  CHECK(m.err == "nft: unknown family 'ipx'\n");
}

TEST_CASE("nft: iptables-nft compat matches and targets are named, not guessed", "[firewall][netview]") {
  if (!have_tool("nft") || !have_tool("iptables-nft")) {
    WARN("SKIP: nft or iptables-nft not installed");
    return;
  }
  Netns a{"fw-x"};
  REQUIRE(a.exec({"iptables-nft", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-m", "conntrack", "--ctstate",
                  "ESTABLISHED", "-j", "ACCEPT"}).exit == 0);
  REQUIRE(a.exec({"iptables-nft", "-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"}).exit == 0);
  RunResult m = ours(a, {"nft", "list", "ruleset"});
  INFO(describe(m));
  REQUIRE(m.exit == 0);
  // the native parts decoded, the xtables parts named
  CHECK(m.out.find("\t\ttcp dport 22 xt match \"conntrack\" counter packets 0 bytes 0 accept\n") != std::string::npos);
  CHECK(m.out.find("\t\toifname \"eth0\" counter packets 0 bytes 0 xt target \"MASQUERADE\"\n") != std::string::npos);
  RunResult r = a.exec({"nft", "list", "ruleset"});
  // every line that has no xtables part is nft's own
  std::istringstream rs(r.out), ms(m.out);
  for (std::string rl, ml; std::getline(rs, rl) && std::getline(ms, ml);)
    if (ml.find("xt ") == std::string::npos) CHECK(rl == ml);
}

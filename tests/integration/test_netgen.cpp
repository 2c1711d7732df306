// netgen and hping3 against real hosts in namespaces: exact counts between two
// hosts, random loss (nftables numgen) and reordering (delayfwd jitter) reported
// within tolerance, three replicas behind one name, crafted packets checked
// field by field by tcpdump (checksums "correct"), SYN to open/closed ports, the
// real hping3's line shapes, Ctrl-C statistics and bad input.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <set>
#include <thread>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;
using nlohmann::json;

namespace {

bool has(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

std::vector<json> json_lines(const std::string& out) {
  std::vector<json> v;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(pos, end - pos);
    if (!line.empty() && line[0] == '{') v.push_back(json::parse(line));
    pos = end + 1;
  }
  return v;
}

std::vector<json> of_type(const std::vector<json>& v, const std::string& type) {
  std::vector<json> r;
  for (auto& j : v)
    if (j.value("type", "") == type) r.push_back(j);
  return r;
}

// Two hosts on one veth: A 10.247.0.1 / fd47::1, B 10.247.0.2 / fd47::2.
struct Pair {
  std::string an = unique_name("nga"), bn = unique_name("ngb");
  Netns a{an}, b{bn};
  Pair() {
    veth_link(a, "eth0", "10.247.0.1/24", b, "eth0", "10.247.0.2/24");
    a.ip("addr add fd47::1/64 dev eth0 nodad");
    b.ip("addr add fd47::2/64 dev eth0 nodad");
    REQUIRE(wait_until([&] { return a.exec({"ping", "-c1", "-W1", "10.247.0.2"}).exit == 0; }));
  }
  RunResult ng(const Netns& n, std::vector<std::string> args, const RunOptions& o = {}) {
    args.insert(args.begin(), netshoot_bin());
    return n.exec(args, o);
  }
};

// Interrupts a background run the way Ctrl-C does and waits for it to finish.
std::string interrupt(Background& bg) {
  ::kill(-bg.pid(), SIGINT);
  REQUIRE(wait_until([&] { return !bg.running(); }, 5000));
  return bg.output();
}

bool listening_udp(const Netns& n, int port) {
  return has(n.exec({"ss", "-Hlun", "sport = :" + std::to_string(port)}).out, std::to_string(port));
}

}  // namespace

TEST_CASE("netgen: the seed's form, message by message", "[netgen]") {
  Pair p;
  Background lis({netshoot_bin(), "netgen", "-l", "5000"}, p.bn);
  REQUIRE(wait_until([&] { return listening_udp(p.b, 5000); }));
  auto r = p.ng(p.a, {"netgen", "-i", "0.2", "-c", "3", "-d", "1", "10.247.0.2", "5000"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(has(r.out, "Listener started on port 5000\n"));
  CHECK(has(r.out, "Sending traffic to 10.247.0.2 on port 5000 every 0.2 seconds\n"));
  CHECK(has(r.out, "Sent 1 messages to 10.247.0.2:5000\n"));
  CHECK(has(r.out, "Sent 3 messages to 10.247.0.2:5000\n"));
  CHECK_FALSE(has(r.out, "Sent 4 messages"));
  std::string out = interrupt(lis);
  INFO(out);
  CHECK(has(out, "Listener started on port 5000\n"));
  CHECK(std::regex_search(out, std::regex("Received message 0 from 10\\.247\\.0\\.1:\\d+ \\(sender [0-9a-f]{8}, 64 bytes, delay [0-9.]+ ms\\)")));
  CHECK(has(out, "Received message 2 from 10.247.0.1"));
  CHECK(std::regex_search(out, std::regex("From 10\\.247\\.0\\.1 \\(sender [0-9a-f]{8}\\): 3 received, 0 lost \\(0\\.0%\\), 0 duplicated, 0 reordered")));
}

TEST_CASE("netgen: the listener counts exactly what was sent (UDP at 20k/s, TCP, IPv6)", "[netgen]") {
  Pair p;
  struct Case {
    std::vector<std::string> flags;
    std::string target;
    int count;
  };
  int port = 5100;
  for (const Case& c : std::vector<Case>{{{"-r", "20000"}, "10.247.0.2", 20000},
                                         {{"--tcp", "-r", "5000"}, "10.247.0.2", 3000},
                                         {{"-6", "-r", "5000", "-s", "1200"}, "fd47::2", 3000}}) {
    ++port;
    bool tcp = c.flags[0] == "--tcp";
    std::vector<std::string> largs{netshoot_bin(), "--json", "netgen", "-q", "-l", std::to_string(port)};
    if (tcp) largs.push_back("--tcp");
    Background lis(largs, p.bn);
    REQUIRE(wait_until([&] {
      return has(p.b.exec({"ss", tcp ? "-Hltn" : "-Hlun", "sport = :" + std::to_string(port)}).out, std::to_string(port));
    }));
    std::vector<std::string> sargs{"--json", "netgen", "--no-listen", "-c", std::to_string(c.count)};
    sargs.insert(sargs.end(), c.flags.begin(), c.flags.end());
    sargs.push_back(c.target);
    sargs.push_back(std::to_string(port));
    auto r = p.ng(p.a, sargs);
    INFO(describe(r));
    REQUIRE(r.exit == 0);
    auto sent = of_type(json_lines(r.out), "sender_summary");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0]["sent"] == c.count);
    CHECK(sent[0]["errors"] == 0);
    // Let the last messages land, then Ctrl-C.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::string out = interrupt(lis);
    INFO(out);
    auto peers = of_type(json_lines(out), "receiver_summary");
    REQUIRE(peers.size() == 1);
    CHECK(peers[0]["from"] == (c.target == "fd47::2" ? "fd47::1" : "10.247.0.1"));
    CHECK(peers[0]["received"] == c.count);
    CHECK(peers[0]["lost"] == 0);
    CHECK(peers[0]["duplicated"] == 0);
    CHECK(peers[0]["reordered"] == 0);
    CHECK(peers[0]["first_seq"] == 0);
    CHECK(peers[0]["last_seq"] == c.count - 1);
    CHECK(peers[0]["delay_min_ms"].get<double>() >= 0);
    CHECK(peers[0]["delay_max_ms"].get<double>() < 1000);
  }
}

TEST_CASE("netgen: random loss and reordering through a router are reported within tolerance", "[netgen]") {
  const std::string p = unique_name("ngd");
  const std::string topo = std::string(NETSHOOT_SOURCE_DIR) + "/tests/tools/delay-topology.sh";
  struct Down {
    std::string topo, p;
    ~Down() { run({topo, "down", p}); }
  } down{topo, p};
  // 5 ms +/- 4 ms each way: packets overtake each other in the delay queue.
  REQUIRE(run({topo, "up", p, NETSHOOT_DELAYFWD, "--delay", "5", "--jitter", "4"}).exit == 0);
  REQUIRE(wait_until([&] { return run_in(p + "-a", {"ping", "-c1", "-W1", "10.77.2.2"}).exit == 0; }));
  // 10 % of the messages dropped at random on the router.
  REQUIRE(run_in(p + "-r", {"nft", "add table ip loss; add chain ip loss fw { type filter hook forward priority 0; }; "
                                   "add rule ip loss fw iifname ra udp dport 5200 numgen random mod 100 < 10 drop"})
              .exit == 0);
  Background lis({netshoot_bin(), "--json", "netgen", "-q", "-l", "5200"}, p + "-b");
  REQUIRE(wait_until([&] { return has(run_in(p + "-b", {"ss", "-Hlun", "sport = :5200"}).out, "5200"); }));
  const int n = 3000;
  // An independent reference for the delay at the same time: ping's RTT over the same path.
  Background ping({"ping", "-q", "-c", "40", "-i", "0.05", "10.77.2.2"}, p + "-a");
  auto r = run_in(p + "-a", {netshoot_bin(), "--json", "netgen", "--no-listen", "-r", "1000", "-c",
                             std::to_string(n), "10.77.2.2", "5200"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string out = interrupt(lis);
  INFO(out);
  auto peers = of_type(json_lines(out), "receiver_summary");
  REQUIRE(peers.size() == 1);
  auto& s = peers[0];
  uint64_t received = s["received"], lost = s["lost"];
  // The loss estimate: binomial sigma = sqrt(0.1 * 0.9 / 3000) = 0.55 %; 4 sigma.
  CHECK(s["loss_pct"].get<double>() == Approx(10.0).margin(2.2));
  // Every message is either received or counted lost, but for losses at the very
  // ends of the run, which no receiver can see.
  CHECK(received + lost <= uint64_t(n));
  CHECK(received + lost >= uint64_t(n) - 5);
  CHECK(s["duplicated"] == 0);
  CHECK(s["reordered"].get<uint64_t>() > 0);
  // One-way delay on one host's clock: 5 ms +/- 4 ms plus the forwarder's scheduling,
  // which ping sees too: half its average RTT, measured during the same seconds.
  REQUIRE(wait_until([&] { return !ping.running(); }, 10000));
  std::smatch m;
  std::string pout = ping.output();
  INFO(pout);
  REQUIRE(std::regex_search(pout, m, std::regex("= ([0-9.]+)/([0-9.]+)/([0-9.]+)/")));
  double ping_one_way = std::stod(m[2]) / 2;
  CHECK(s["delay_min_ms"].get<double>() >= 0.9);
  CHECK(s["delay_avg_ms"].get<double>() >= 3.0);
  CHECK(s["delay_avg_ms"].get<double>() == Approx(ping_one_way).margin(2.0));
}

TEST_CASE("netgen: three replicas behind one name all hear each other", "[netgen]") {
  std::string sw = unique_name("ngs");
  Netns s(sw);
  s.ip("link add br0 type bridge");
  s.ip("link set br0 up");
  std::vector<std::unique_ptr<Netns>> reps;
  std::vector<std::string> dirs;
  std::string hosts = "127.0.0.1 localhost\n10.248.0.1 srvc\n10.248.0.2 srvc\n10.248.0.3 srvc\n";
  struct Cleanup {
    std::vector<std::string>& dirs;
    ~Cleanup() {
      for (auto& d : dirs) std::filesystem::remove_all(d);
    }
  } cleanup{dirs};
  for (int i = 1; i <= 3; ++i) {
    reps.push_back(std::make_unique<Netns>(unique_name("ngr" + std::to_string(i))));
    const Netns& r = *reps.back();
    std::string port = "p" + std::to_string(i);
    REQUIRE(run({"ip", "link", "add", "name", "eth0", "netns", r.name(), "type", "veth", "peer", "name", port,
                 "netns", sw}).exit == 0);
    r.ip("addr add 10.248.0." + std::to_string(i) + "/24 dev eth0");
    r.ip("link set eth0 up");
    s.ip("link set " + port + " master br0");
    s.ip("link set " + port + " up");
    // `ip netns exec` mounts /etc/netns/NS/hosts over /etc/hosts: the name has three addresses.
    dirs.push_back("/etc/netns/" + r.name());
    std::filesystem::create_directories(dirs.back());
    std::ofstream(dirs.back() + "/hosts") << hosts;
  }
  REQUIRE(wait_until([&] { return reps[0]->exec({"ping", "-c1", "-W1", "10.248.0.3"}).exit == 0; }));
  std::vector<std::unique_ptr<Background>> runs;
  for (auto& r : reps)
    runs.push_back(std::make_unique<Background>(
        std::vector<std::string>{netshoot_bin(), "--json", "netgen", "-i", "0.1", "-c", "10", "-d", "3", "srvc", "5300"},
        r->name()));
  for (size_t i = 0; i < runs.size(); ++i) {
    REQUIRE(wait_until([&] { return !runs[i]->running(); }, 10000));
    std::string out = runs[i]->output();
    INFO("replica " << i + 1 << ": " << out);
    auto lines = json_lines(out);
    auto sending = of_type(lines, "sending");
    REQUIRE(sending.size() == 1);
    CHECK(sending[0]["addresses"] == json::array({"10.248.0.1", "10.248.0.2", "10.248.0.3"}));
    auto sent = of_type(lines, "sender_summary");
    REQUIRE(sent.size() == 3);
    for (auto& x : sent) CHECK(x["sent"] == 10);
    auto peers = of_type(lines, "receiver_summary");
    std::set<std::string> from;
    for (auto& x : peers) {
      from.insert(x["from"].get<std::string>());
      // A replica that came up a moment after another misses that one's first message
      // (nobody listened yet); everything from then on arrives.
      CHECK(x["last_seq"] == 9);
      CHECK(x["first_seq"].get<int>() <= 1);
      CHECK(x["received"].get<int>() == 10 - x["first_seq"].get<int>());
      CHECK(x["lost"] == 0);
    }
    CHECK(from == std::set<std::string>{"10.248.0.1", "10.248.0.2", "10.248.0.3"});
  }
}

TEST_CASE("netgen craft: tcpdump sees exactly the requested fields, checksums correct", "[netgen]") {
  if (!have_tool("tcpdump")) {
    WARN("tcpdump not installed: crafted packets not checked");
    return;
  }
  Pair p;
  struct Case {
    std::vector<std::string> args;
    std::string filter;
    std::vector<std::string> expect;
  };
  for (const Case& c : std::vector<Case>{
           {{"--tcp", "-p", "81", "--flags", "SAF", "--ttl", "7", "--tos", "0x10", "--id", "4242", "--df", "--seq",
             "1000", "--ack", "2000", "--win", "512", "-g", "3333", "--data-string", "hello", "10.247.0.2"},
            "tcp",
            {"tos 0x10, ttl 7, id 4242, offset 0, flags [DF], proto TCP (6), length 45",
             "10.247.0.1.3333 > 10.247.0.2.81: Flags [FS.], cksum 0x", "(correct), seq 1000:1005, ack 2000, win 512, length 5"}},
           {{"--udp", "-p", "53", "-g", "4444", "--ttl", "33", "--id", "77", "--data-length", "12", "10.247.0.2"},
            "udp",
            {"ttl 33, id 77, offset 0, flags [none], proto UDP (17), length 40",
             "10.247.0.1.4444 > 10.247.0.2.53: [udp sum ok]"}},
           {{"--udp", "-p", "53", "--id", "78", "--frag-off", "1480", "--mf", "--data-length", "16", "10.247.0.2"},
            "ip[6:2] & 0x3fff != 0",
            {"id 78, offset 1480, flags [+], proto UDP (17), length 44"}},
           {{"--icmp", "--ttl", "9", "--data-string", "ping", "10.247.0.2"},
            "icmp[icmptype] == icmp-echo",
            {"ttl 9,", "proto ICMP (1), length 32", "10.247.0.1 > 10.247.0.2: ICMP echo request, id"}},
           {{"-6", "--tcp", "-p", "82", "--flags", "S", "--ttl", "5", "--tos", "0x20", "-g", "5555", "--seq", "7",
             "--win", "1000", "fd47::2"},
            "ip6 and tcp",
            {"(class 0x20, hlim 5, next-header TCP (6) payload length: 20)",
             "fd47::1.5555 > fd47::2.82: Flags [S], cksum 0x", "(correct), seq 7, win 1000, length 0"}},
           {{"-6", "--udp", "-p", "54", "-g", "5556", "fd47::2"},
            "ip6 and udp",
            {"hlim 64, next-header UDP (17) payload length: 8)", "fd47::1.5556 > fd47::2.54: [udp sum ok]"}},
       }) {
    Background cap({"tcpdump", "-i", "eth0", "-n", "-vv", "-l", "-c", "1", c.filter}, p.bn);
    REQUIRE(wait_until([&] { return has(cap.output(), "listening on"); }));
    std::vector<std::string> args{"netgen", "craft", "-c", "1"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = p.ng(p.a, args);
    INFO(describe(r));
    CHECK(has(r.out, "SENT ("));
    REQUIRE(wait_until([&] { return !cap.running(); }, 5000));
    std::string out = cap.output();
    INFO(out);
    for (auto& e : c.expect) CHECK(has(out, e));
    CHECK_FALSE(has(out, "incorrect"));
    CHECK_FALSE(has(out, "bad cksum"));
    CHECK_FALSE(has(out, "wrong"));
  }
}

TEST_CASE("hping3 -S: open port answers SA, closed port RA; the real hping3's lines", "[netgen]") {
  Pair p;
  Background srv({netshoot_bin(), "nc", "-l", "-k", "8080"}, p.bn);
  REQUIRE(wait_until([&] { return has(p.b.exec({"ss", "-Hltn", "sport = :8080"}).out, "8080"); }));
  auto norm = [](const std::string& s) { return std::regex_replace(s, std::regex("rtt=[0-9.]+ ms"), "rtt=X ms"); };
  auto ours = p.ng(p.a, {"hping3", "-S", "-p", "8080", "-c", "3", "-i", "u100000", "10.247.0.2"});
  INFO(describe(ours));
  CHECK(ours.exit == 0);
  CHECK(has(ours.out, "HPING 10.247.0.2 (eth0 10.247.0.2): S set, 40 headers + 0 data bytes\n"));
  for (int i = 0; i < 3; ++i)
    CHECK(std::regex_search(ours.out, std::regex("len=44 ip=10\\.247\\.0\\.2 ttl=64 DF id=0 sport=8080 flags=SA seq=" +
                                                 std::to_string(i) + " win=\\d+ rtt=[0-9.]+ ms\n")));
  CHECK(has(ours.err, "--- 10.247.0.2 hping statistic ---\n3 packets transmitted, 3 packets received, 0% packet loss\n"
                      "round-trip min/avg/max = "));
  auto closed = p.ng(p.a, {"hping3", "-S", "-p", "8081", "-c", "2", "-i", "u100000", "10.247.0.2"});
  INFO(describe(closed));
  CHECK(std::regex_search(closed.out, std::regex("len=40 ip=10\\.247\\.0\\.2 ttl=64 DF id=0 sport=8081 flags=RA seq=1 win=0 rtt=")));
  CHECK(has(closed.err, "2 packets transmitted, 2 packets received, 0% packet loss"));
  if (have_tool("hping3")) {
    auto real = p.a.exec({"hping3", "-S", "-p", "8080", "-c", "3", "-i", "u100000", "10.247.0.2"});
    INFO(describe(real));
    CHECK(norm(real.out) == norm(ours.out));
    auto real_closed = p.a.exec({"hping3", "-S", "-p", "8081", "-c", "2", "-i", "u100000", "10.247.0.2"});
    CHECK(norm(real_closed.out) == norm(closed.out));
  }
  // UDP to a closed port: ICMP port unreachable, matched to its probe.
  auto udp = p.ng(p.a, {"hping3", "-2", "-p", "53", "-s", "3000", "-c", "2", "-i", "u100000", "10.247.0.2"});
  INFO(describe(udp));
  CHECK(has(udp.out, "HPING 10.247.0.2 (eth0 10.247.0.2): udp mode set, 28 headers + 0 data bytes"));
  CHECK(has(udp.out, "ICMP Port Unreachable from ip=10.247.0.2 name=UNKNOWN\nstatus=0 port=3001 seq=1\n"));
  // ICMP echo.
  auto icmp = p.ng(p.a, {"hping3", "-1", "-c", "2", "-i", "u100000", "-d", "20", "10.247.0.2"});
  INFO(describe(icmp));
  CHECK(has(icmp.out, "icmp mode set, 28 headers + 20 data bytes"));
  CHECK(std::regex_search(icmp.out, std::regex("len=48 ip=10\\.247\\.0\\.2 ttl=64 id=\\d+ icmp_seq=1 rtt=")));
  // --json: the same replies as objects.
  auto js = p.ng(p.a, {"--json", "hping3", "-S", "-p", "8080", "-c", "2", "-i", "u100000", "10.247.0.2"});
  auto lines = json_lines(js.out);
  auto replies = of_type(lines, "reply");
  REQUIRE(replies.size() == 2);
  CHECK(replies[1]["flags"] == "SA");
  CHECK(replies[1]["seq"] == 1);
  CHECK(replies[1]["sport"] == 8080);
  auto sum = of_type(lines, "summary");
  REQUIRE(sum.size() == 1);
  CHECK(sum[0]["transmitted"] == 2);
  CHECK(sum[0]["received"] == 2);
}

TEST_CASE("hping3: Ctrl-C prints the statistics so far; spoofed source and IPv6", "[netgen]") {
  Pair p;
  Background run({netshoot_bin(), "hping3", "-S", "-p", "8090", "-i", "u20000", "10.247.0.2"}, p.an);
  REQUIRE(wait_until([&] { return has(run.output(), "seq=5 "); }));
  std::string out = interrupt(run);
  INFO(out);
  CHECK(std::regex_search(out, std::regex("--- 10\\.247\\.0\\.2 hping statistic ---\n(\\d+) packets transmitted, \\d+ packets received")));
  // -a: the packet leaves with the given source (the reply goes there, not to us).
  if (have_tool("tcpdump")) {
    Background cap({"tcpdump", "-i", "eth0", "-n", "-l", "-c", "1", "tcp"}, p.bn);
    REQUIRE(wait_until([&] { return has(cap.output(), "listening on"); }));
    auto r = p.ng(p.a, {"hping3", "-S", "-p", "8091", "-c", "1", "-a", "10.247.0.99", "-s", "7000", "-M", "5", "10.247.0.2"});
    REQUIRE(wait_until([&] { return !cap.running(); }, 5000));
    CHECK(has(cap.output(), "10.247.0.99.7000 > 10.247.0.2.8091: Flags [S], seq 5, win 64, length 0"));
    CHECK(r.exit == 1);  // no reply reaches us
    CHECK(has(r.err, "1 packets transmitted, 0 packets received, 100% packet loss"));
  }
  auto v6 = p.ng(p.a, {"hping3", "-S", "-p", "8092", "-c", "1", "fd47::2"});
  INFO(describe(v6));
  CHECK(has(v6.out, "HPING fd47::2 (eth0 fd47::2): S set, 60 headers + 0 data bytes"));
  CHECK(std::regex_search(v6.out, std::regex("len=60 ip=fd47::2 ttl=64 sport=8092 flags=RA seq=0 win=0 rtt=")));
}

TEST_CASE("netgen / hping3: bad input is one clear line and exit 2", "[netgen]") {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  for (const Case& c : std::vector<Case>{
           {{"netgen", "craft", "--flags", "SZ", "127.0.0.1"}, "netgen: bad TCP flags \"SZ\": unknown flag letter 'Z'"},
           {{"netgen", "craft", "--frag-off", "65536", "127.0.0.1"}, "fragment offset 65536 is past 65528"},
           {{"hping3", "-g", "65535", "127.0.0.1"}, "hping3: fragment offset 65535 is past 65528"},
           {{"netgen", "craft", "--data-file", "/nonexistent/p.bin", "127.0.0.1"},
            "payload file /nonexistent/p.bin: No such file or directory"},
           {{"hping3", "-E", "/nonexistent/p.bin", "127.0.0.1"}, "payload file /nonexistent/p.bin"},
           {{"netgen", "--rate", "0", "127.0.0.1", "5000"}, "netgen: rate must be a positive number"},
           {{"netgen", "craft", "--rate", "0", "127.0.0.1"}, "rate must be a positive number"},
           {{"netgen", "nosuchhost.invalid", "5000"}, "netgen: nosuchhost.invalid"},
           {{"netgen", "127.0.0.1"}, "usage: netgen"},
           {{"nping", "--tcp", "-p", "70000", "127.0.0.1"}, "nping: destination port 70000 out of range (0-65535)"},
           {{"nping", "--tcp", "--flags", "SZ", "127.0.0.1"}, "nping: bad TCP flags \"SZ\": unknown flag letter 'Z'"},
           {{"nping", "--delay", "garbage", "127.0.0.1"}, "nping: invalid delay 'garbage'"},
           {{"nping", "--tcp-connect", "--udp", "127.0.0.1"}, "nping: choose one of --tcp-connect, --tcp, --udp, --icmp"},
           {{"nping", "-e", "nosuchif0", "127.0.0.1"}, "nping: interface nosuchif0: no such device"},
       }) {
    RunOptions opts;
    opts.timeout_ms = 10000;
    auto r = run_netshoot(c.args, opts);
    INFO(describe(r));
    CHECK(r.exit == 2);
    CHECK(has(r.err, c.err));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}

TEST_CASE("nping --tcp: open port SA, closed port RA; nping's lines, statistics and the real nping's shapes",
          "[netgen]") {
  Pair p;
  Background srv({netshoot_bin(), "nc", "-l", "-k", "8080"}, p.bn);
  REQUIRE(wait_until([&] { return has(p.b.exec({"ss", "-Hltn", "sport = :8080"}).out, "8080"); }));
  auto count = [](const std::string& s, const std::regex& re) {
    return std::distance(std::sregex_iterator(s.begin(), s.end(), re), std::sregex_iterator());
  };
  // Every number masked: what is left is the shape of the lines.
  auto shape = [](const std::string& s) { return std::regex_replace(s, std::regex("[0-9]+(\\.[0-9]+)?"), "N"); };
  const std::regex head("^\nStarting Nping [0-9.]+ \\( https://nmap\\.org/nping \\) at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\S+\n");
  const std::string sent = "SENT \\(\\d+\\.\\d{4}s\\) TCP 10\\.247\\.0\\.1:(\\d+) > 10\\.247\\.0\\.2:";
  const std::string rtts = " \nMax rtt: \\d+\\.\\d{3}ms \\| Min rtt: \\d+\\.\\d{3}ms \\| Avg rtt: \\d+\\.\\d{3}ms\n";
  const std::string done = "Nping done: 1 IP address pinged in \\d+\\.\\d\\d seconds\n$";

  auto open = p.ng(p.a, {"nping", "--tcp", "-p", "8080", "-c", "2", "--delay", "200ms", "10.247.0.2"});
  INFO(describe(open));
  CHECK(open.exit == 0);
  CHECK(std::regex_search(open.out, head));
  CHECK(count(open.out, std::regex(sent + "8080 S ttl=64 id=\\d+ iplen=40  seq=\\d+ win=1480 \n")) == 2);
  CHECK(count(open.out, std::regex("RCVD \\(\\d+\\.\\d{4}s\\) TCP 10\\.247\\.0\\.2:8080 > 10\\.247\\.0\\.1:\\d+ SA "
                                   "ttl=64 id=0 iplen=44  seq=\\d+ win=\\d+ <mss \\d+>\n")) == 2);
  CHECK(std::regex_search(open.out, std::regex(rtts + "Raw packets sent: 2 \\(80B\\) \\| Rcvd: 2 \\(88B\\) \\| Lost: 0 "
                                               "\\(0\\.00%\\)\n" + done)));
  // nping keeps one source port for every probe; the replies come back to it.
  std::smatch m;
  REQUIRE(std::regex_search(open.out, m, std::regex(sent)));
  CHECK(count(open.out, std::regex("> 10\\.247\\.0\\.1:" + m[1].str() + " SA ")) == 2);

  // The closed port, through a link named nping (argv[0] dispatch).
  auto dir = std::filesystem::temp_directory_path() / unique_name("npingbin");
  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink(netshoot_bin(), dir / "nping");
  auto closed = p.a.exec({(dir / "nping").string(), "--tcp", "-p", "8081", "-c", "2", "--delay", "200ms", "10.247.0.2"});
  std::filesystem::remove_all(dir);
  INFO(describe(closed));
  CHECK(closed.exit == 0);
  CHECK(std::regex_search(closed.out, head));
  CHECK(count(closed.out, std::regex(sent + "8081 S ttl=64 id=\\d+ iplen=40  seq=\\d+ win=1480 \n")) == 2);
  CHECK(count(closed.out, std::regex("RCVD \\(\\d+\\.\\d{4}s\\) TCP 10\\.247\\.0\\.2:8081 > 10\\.247\\.0\\.1:\\d+ RA "
                                     "ttl=64 id=0 iplen=40  seq=0 win=0 \n")) == 2);
  CHECK_FALSE(has(closed.out, " SA "));
  CHECK(std::regex_search(closed.out, std::regex(rtts + "Raw packets sent: 2 \\(80B\\) \\| Rcvd: 2 \\(80B\\) \\| Lost: 0 "
                                                 "\\(0\\.00%\\)\n" + done)));

  // Two ports: round-robin (8080, 8081, 8080, 8081), each reply matched to its port.
  auto both = p.ng(p.a, {"nping", "--tcp", "-p", "8080,8081", "--flags", "syn", "-c", "2", "--delay", "100ms", "10.247.0.2"});
  INFO(describe(both));
  std::vector<std::string> order;
  const std::regex line("(SENT|RCVD) \\(\\S+\\) TCP 10\\.247\\.0\\.\\d:(\\d+) > 10\\.247\\.0\\.\\d:(\\d+) ");
  for (std::sregex_iterator it(both.out.begin(), both.out.end(), line), end; it != end; ++it)
    order.push_back((*it)[1].str() + ((*it)[1] == "SENT" ? (*it)[3] : (*it)[2]).str());
  CHECK(order == std::vector<std::string>{"SENT8080", "RCVD8080", "SENT8081", "RCVD8081", "SENT8080", "RCVD8080",
                                          "SENT8081", "RCVD8081"});
  CHECK(has(both.out, "Raw packets sent: 4 (160B) | Rcvd: 4 (168B) | Lost: 0 (0.00%)\n"));

  // UDP to a closed port: the ICMP port unreachable; ICMP echo (the default mode).
  auto udp = p.ng(p.a, {"nping", "--udp", "-p", "9", "-c", "1", "10.247.0.2"});
  INFO(describe(udp));
  CHECK(std::regex_search(udp.out, std::regex("SENT \\(\\d+\\.\\d{4}s\\) UDP 10\\.247\\.0\\.1:53 > 10\\.247\\.0\\.2:9 "
                                              "ttl=64 id=\\d+ iplen=28 \nRCVD \\(\\d+\\.\\d{4}s\\) ICMP \\[10\\.247\\.0\\.2 > "
                                              "10\\.247\\.0\\.1 Port unreachable \\(type=3/code=3\\) \\] IP \\[ttl=64 "
                                              "id=\\d+ iplen=56 \\]\n")));
  CHECK(has(udp.out, "Raw packets sent: 1 (28B) | Rcvd: 1 (56B) | Lost: 0 (0.00%)\n"));
  auto icmp = p.ng(p.a, {"nping", "-c", "2", "--delay", "100ms", "--data-length", "10", "10.247.0.2"});
  INFO(describe(icmp));
  for (int seq = 1; seq <= 2; ++seq) {
    std::string s = std::to_string(seq);
    CHECK(std::regex_search(icmp.out, std::regex("SENT \\(\\d+\\.\\d{4}s\\) ICMP \\[10\\.247\\.0\\.1 > 10\\.247\\.0\\.2 "
                                                 "Echo request \\(type=8/code=0\\) id=\\d+ seq=" + s + "\\] IP \\[ttl=64 "
                                                 "id=\\d+ iplen=38 \\]\nRCVD \\(\\d+\\.\\d{4}s\\) ICMP \\[10\\.247\\.0\\.2 "
                                                 "> 10\\.247\\.0\\.1 Echo reply \\(type=0/code=0\\) id=\\d+ seq=" + s +
                                                 "\\] IP \\[ttl=64 id=\\d+ iplen=38 \\]\n")));
  }
  CHECK(has(icmp.out, "Raw packets sent: 2 (76B) | Rcvd: 2 (76B) | Lost: 0 (0.00%)\n"));
  // -q: statistics only; -N: nothing captured, all "lost".
  auto q = p.ng(p.a, {"nping", "--tcp", "-p", "8080", "-c", "1", "-q", "10.247.0.2"});
  CHECK_FALSE(has(q.out, "SENT"));
  CHECK_FALSE(has(q.out, "RCVD"));
  CHECK(has(q.out, "\nMax rtt: "));
  CHECK_FALSE(has(q.out, " \nMax rtt: "));
  auto nocap = p.ng(p.a, {"nping", "--tcp", "-p", "8080", "-c", "1", "-N", "10.247.0.2"});
  CHECK(has(nocap.out, "SENT ("));
  CHECK_FALSE(has(nocap.out, "RCVD"));
  CHECK(has(nocap.out, "Max rtt: N/A | Min rtt: N/A | Avg rtt: N/A\nRaw packets sent: 1 (40B) | Rcvd: 0 (0B) | Lost: 1 (100.00%)\n"));

  // --tcp-connect: a handshake per probe, no raw sockets.
  auto conn = p.ng(p.a, {"nping", "--tcp-connect", "-p", "8080,8081", "-c", "1", "--delay", "200ms", "10.247.0.2"});
  INFO(describe(conn));
  CHECK(conn.exit == 0);
  CHECK(std::regex_search(conn.out, std::regex("SENT \\(\\d+\\.\\d{4}s\\) Starting TCP Handshake > 10\\.247\\.0\\.2:8080\n"
                                               "RCVD \\(\\d+\\.\\d{4}s\\) Handshake with 10\\.247\\.0\\.2:8080 completed\n"
                                               "SENT \\(\\d+\\.\\d{4}s\\) Starting TCP Handshake > 10\\.247\\.0\\.2:8081\n"
                                               "RCVD \\(\\d+\\.\\d{4}s\\) Possible TCP RST received from "
                                               "10\\.247\\.0\\.2:8081 --> Connection refused\n \n")));
  CHECK(std::regex_search(conn.out, std::regex("Max rtt: \\d+\\.\\d{3}ms \\| Min rtt: \\d+\\.\\d{3}ms \\| Avg rtt: "
                                               "\\d+\\.\\d{3}ms\nTCP connection attempts: 2 \\| Successful connections: "
                                               "1 \\| Failed: 1 \\(50\\.00%\\)\n" + done)));

  if (have_tool("nping")) {
    struct Run { std::vector<std::string> args; const RunResult* ours; };
    for (const Run& r : std::vector<Run>{
             {{"--tcp", "-p", "8080", "-c", "2", "--delay", "200ms", "10.247.0.2"}, &open},
             {{"--tcp", "-p", "8081", "-c", "2", "--delay", "200ms", "10.247.0.2"}, &closed},
             {{"--udp", "-p", "9", "-c", "1", "10.247.0.2"}, &udp},
             {{"-c", "2", "--delay", "100ms", "--data-length", "10", "10.247.0.2"}, &icmp},
             {{"--tcp", "-p", "8080", "-c", "1", "-q", "10.247.0.2"}, &q},
             {{"--tcp", "-p", "8080", "-c", "1", "-N", "10.247.0.2"}, &nocap},
             {{"--tcp-connect", "-p", "8080,8081", "-c", "1", "--delay", "200ms", "10.247.0.2"}, &conn}}) {
      std::vector<std::string> argv{"nping"};
      argv.insert(argv.end(), r.args.begin(), r.args.end());
      auto real = p.a.exec(argv);
      INFO(describe(real));
      CHECK(shape(real.out) == shape(r.ours->out));
    }
  }
}

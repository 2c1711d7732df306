// ping / fping against real hosts in namespaces, compared with iputils ping and fping
// where that helps. Topologies:
//   Line:  A 10.232.1.2 --- R (10.232.1.1 | 10.232.2.1) --- B 10.232.2.2 (+ fd32:1::/64, fd32:2::/64)
//   Lan:   a bridge namespace, 20 hosts 10.233.0.1-20 (every 5th link down), client .254
#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;

namespace {

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

struct Line {
  Netns a{"ping-a"}, r{"ping-r"}, b{"ping-b"};
  Line() {
    veth_link(a, "pa0", "10.232.1.2/24", r, "pr1", "10.232.1.1/24");
    veth_link(r, "pr2", "10.232.2.1/24", b, "pb0", "10.232.2.2/24");
    a.ip("route add 10.232.2.0/24 via 10.232.1.1");
    b.ip("route add 10.232.1.0/24 via 10.232.2.1");
    r.exec({"sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1", "net.ipv4.icmp_ratelimit=0"});
    a.ip("addr add fd32:1::2/64 dev pa0 nodad");
    r.ip("addr add fd32:1::1/64 dev pr1 nodad");
    r.ip("addr add fd32:2::1/64 dev pr2 nodad");
    b.ip("addr add fd32:2::2/64 dev pb0 nodad");
    a.ip("-6 route add fd32:2::/64 via fd32:1::1");
    b.ip("-6 route add fd32:1::/64 via fd32:2::1");
    REQUIRE(wait_until([&] { return a.exec({"ping", "-c1", "-W1", "10.232.2.2"}).exit == 0; }));
  }
  RunResult ns(const std::vector<std::string>& args, const RunOptions& o = {}) {
    std::vector<std::string> argv{netshoot_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    return a.exec(argv, o);
  }
};

const std::regex kReply(R"(^64 bytes from 10\.232\.2\.2: icmp_seq=(\d+) ttl=63 time=\d+\.\d+ ms$)");

}  // namespace

TEST_CASE("ping: replies, summary and exit 0 like iputils", "[ping]") {
  Line l;
  RunResult ours = l.ns({"ping", "-c", "3", "-i", "0.2", "10.232.2.2"});
  RunResult theirs = l.a.exec({"ping", "-c", "3", "-i", "0.2", "10.232.2.2"});
  INFO(describe(ours) << "\niputils: " << describe(theirs));
  CHECK(ours.exit == 0);
  CHECK(theirs.exit == 0);
  std::istringstream in(ours.out);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  REQUIRE(lines.size() == 8);
  CHECK(lines[0] == "PING 10.232.2.2 (10.232.2.2) 56(84) bytes of data.");
  for (int i = 1; i <= 3; ++i) {
    std::smatch m;
    REQUIRE(std::regex_match(lines[size_t(i)], m, kReply));
    CHECK(m[1] == std::to_string(i));
  }
  CHECK(lines[4].empty());
  CHECK(lines[5] == "--- 10.232.2.2 ping statistics ---");
  CHECK(std::regex_match(lines[6], std::regex(R"(3 packets transmitted, 3 received, 0% packet loss, time \d+ms)")));
  CHECK(std::regex_match(lines[7], std::regex(R"(rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms)")));
  // Same header and summary shape as iputils (numbers aside).
  std::regex digits(R"(\d+(\.\d+)?)");
  CHECK(std::regex_replace(ours.out, digits, "N") == std::regex_replace(theirs.out, digits, "N"));
}

TEST_CASE("ping: dead host with -c/-W/-w exits 1", "[ping]") {
  Line l;
  // 10.232.1.99 is on A's subnet but nobody has it: ARP fails, nothing answers.
  RunResult r = l.ns({"ping", "-c", "1", "-W", "1", "10.232.1.99"});
  INFO(describe(r));
  CHECK(r.exit == 1);
  CHECK(has(r.out, "1 packets transmitted, 0 received, 100% packet loss"));
  RunResult ip = l.a.exec({"ping", "-c", "1", "-W", "1", "10.232.1.99"});
  CHECK(ip.exit == 1);
  r = l.ns({"ping", "-w", "1", "-i", "0.2", "10.232.1.99"});
  INFO(describe(r));
  CHECK(r.exit == 1);
  // -c with -w: fewer replies than -c by the deadline is a failure too.
  r = l.ns({"ping", "-c", "5", "-w", "1", "-i", "0.2", "10.232.2.2"});
  CHECK(r.exit == 0);
}

TEST_CASE("ping: ICMP errors from a router: unreachable and TTL exceeded", "[ping]") {
  Line l;
  REQUIRE(l.r.exec({"nft", "add table ip pingtest; add chain ip pingtest fw { type filter hook forward priority 0; }; "
                           "add rule ip pingtest fw ip daddr 10.232.2.77 reject with icmp type host-unreachable"})
              .exit == 0);
  RunResult r = l.ns({"ping", "-c", "2", "-i", "0.2", "10.232.2.77"});
  INFO(describe(r));
  CHECK(r.exit == 1);
  CHECK(has(r.out, "From 10.232.1.1 icmp_seq=1 Destination Host Unreachable"));
  CHECK(has(r.out, "From 10.232.1.1 icmp_seq=2 Destination Host Unreachable"));
  CHECK(has(r.out, "2 packets transmitted, 0 received, +2 errors, 100% packet loss"));
  RunResult ip = l.a.exec({"ping", "-c", "2", "-i", "0.2", "10.232.2.77"});
  CHECK(ip.exit == r.exit);
  CHECK(has(ip.out, "From 10.232.1.1 icmp_seq=1 Destination Host Unreachable"));

  r = l.ns({"ping", "-c", "1", "-t", "1", "10.232.2.2"});
  INFO(describe(r));
  CHECK(r.exit == 1);
  CHECK(has(r.out, "From 10.232.1.1 icmp_seq=1 Time to live exceeded"));
  r = l.ns({"ping", "-c", "1", "-t", "2", "10.232.2.2"});
  CHECK(r.exit == 0);
  // IPv6 hop limit.
  r = l.ns({"ping", "-6", "-c", "1", "-t", "1", "fd32:2::2"});
  INFO(describe(r));
  CHECK(has(r.out, "From fd32:1::1 icmp_seq=1 Time exceeded: Hop limit"));
}

TEST_CASE("ping: IPv6, JSON, TCP", "[ping]") {
  Line l;
  RunResult r = l.ns({"ping6", "-c", "2", "-i", "0.2", "fd32:2::2"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(has(r.out, "PING fd32:2::2(fd32:2::2) 56 data bytes"));
  CHECK(std::regex_search(r.out, std::regex(R"(64 bytes from fd32:2::2: icmp_seq=2 ttl=63 time=)")));

  r = l.ns({"--json", "ping", "-c", "2", "-i", "0.2", "10.232.2.2"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  std::istringstream in(r.out);
  std::string line;
  int replies = 0, summaries = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);  // throws (fails the test) on bad JSON
    if (j["type"] == "reply") {
      ++replies;
      CHECK(j["from"] == "10.232.2.2");
      CHECK(j["rtt_ms"].get<double>() > 0);
      CHECK(j["ttl"] == 63);
    } else if (j["type"] == "summary") {
      ++summaries;
      CHECK(j["transmitted"] == 2);
      CHECK(j["received"] == 2);
      CHECK(j["loss_pct"] == 0);
    }
  }
  CHECK(replies == 2);
  CHECK(summaries == 1);

  Background server({"python3", "-c",
                     "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                     "s.bind(('0.0.0.0',18080))\ns.listen(64)\ntime.sleep(60)"},
                    l.b.name());
  REQUIRE(wait_until([&] { return has(l.b.exec({"ss", "-ltn"}).out, ":18080"); }));
  r = l.ns({"ping", "--tcp", "18080", "-c", "2", "-i", "0.2", "10.232.2.2"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(has(r.out, "port 18080 from 10.232.2.2: tcp_seq=1 open time="));
  r = l.ns({"ping", "--tcp", "18081", "-c", "1", "10.232.2.2"});
  CHECK(has(r.out, "tcp_seq=1 refused (RST)"));
  l.b.exec({"nft", "add table ip t; add chain ip t inp { type filter hook input priority 0; }; "
                   "add rule ip t inp tcp dport 18082 drop"});
  r = l.ns({"ping", "--tcp", "18082", "-c", "1", "-W", "0.5", "10.232.2.2"});
  INFO(describe(r));
  CHECK(r.exit == 1);
  CHECK(has(r.out, "tcp_seq=1 timeout"));
}

TEST_CASE("ping: unprivileged ICMP datagram socket, and the error when neither works", "[ping]") {
  Line l;
  const std::vector<std::string> nobody{"setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"};
  l.a.exec({"sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"});
  auto as_nobody = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = nobody;
    argv.push_back(netshoot_bin());
    argv.insert(argv.end(), args.begin(), args.end());
    return l.a.exec(argv);
  };
  RunResult r = as_nobody({"ping", "-v", "-c", "2", "-i", "0.2", "10.232.2.2"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(has(r.err, "ICMP datagram socket"));
  CHECK(std::regex_search(r.out, std::regex(R"(64 bytes from 10\.232\.2\.2: icmp_seq=2 ttl=63 time=)")));
  r = as_nobody({"ping", "-c", "1", "-t", "1", "10.232.2.2"});  // errors via the error queue
  INFO(describe(r));
  CHECK(has(r.out, "From 10.232.1.1 icmp_seq=1 Time to live exceeded"));
  r = as_nobody({"ping", "-c", "1", "-i", "0.1", "10.232.2.2"});
  CHECK(r.exit == 2);
  CHECK(has(r.err, "ping: cannot flood; minimal interval allowed for user is 200ms"));

  l.a.exec({"sysctl", "-qw", "net.ipv4.ping_group_range=1 0"});
  r = as_nobody({"ping", "-c", "1", "10.232.2.2"});
  INFO(describe(r));
  CHECK(r.exit == 2);
  CHECK(has(r.err, "CAP_NET_RAW"));
  CHECK(has(r.err, "ping_group_range"));
}

TEST_CASE("ping: bad input gives one-line errors and exit 2", "[ping]") {
  Line l;
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  for (const Case& c : std::vector<Case>{
           {{"ping", "-c1", "nosuchhost.invalid"}, "ping: nosuchhost.invalid: "},
           {{"ping", "-4", "-c1", "fd32:2::2"}, "Address family for hostname not supported"},
           {{"ping", "-t", "0", "10.232.2.2"}, "out of range"},
           {{"ping", "-t", "300", "10.232.2.2"}, "out of range"},
           {{"ping", "-I", "eth9", "-c1", "10.232.2.2"}, "ping: unknown interface 'eth9'"},
           {{"ping", "-c1", "10.99.99.99"}, "Network is unreachable"},
       }) {
    RunResult r = l.ns(c.args);
    INFO(c.args.back() << ": " << describe(r));
    CHECK(r.exit == 2);
    CHECK(has(r.err, c.err));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  RunResult r = l.ns({"fping", "nosuchhost.invalid", "10.232.2.2"});
  CHECK(r.exit == 2);
  CHECK(has(r.out, "10.232.2.2 is alive"));
}

TEST_CASE("ping: RTT with 20 ms added delay, and 30 % loss", "[ping]") {
  const std::string p = unique_name("pd");
  const std::string topo = std::string(NETSHOOT_SOURCE_DIR) + "/tests/tools/delay-topology.sh";
  struct Down {
    std::string topo, p;
    ~Down() { run({topo, "down", p}); }
  } down{topo, p};
  REQUIRE(run({topo, "up", p, NETSHOOT_DELAYFWD, "--delay", "10"}).exit == 0);
  REQUIRE(wait_until([&] { return run_in(p + "-a", {"ping", "-c1", "-W1", "10.77.2.2"}).exit == 0; }));
  RunResult r = run_in(p + "-a", {netshoot_bin(), "--json", "ping", "-q", "-c", "20", "-i", "0.05", "10.77.2.2"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  auto last = r.out.substr(r.out.rfind('{', r.out.size() - 2));
  auto j = nlohmann::json::parse(last);
  CHECK(j["rtt_avg_ms"].get<double>() == Approx(20.0).margin(3.0));
  CHECK(j["rtt_min_ms"].get<double>() >= 19.5);

  // 30 % loss on the way out only, where requests enter the router (they cross its
  // forward hook twice: in from A, and back out of the delay tun): 300 probes at 10 ms.
  REQUIRE(run_in(p + "-r", {"nft", "add table ip loss; add chain ip loss fw { type filter hook forward priority 0; }; "
                                   "add rule ip loss fw iifname ra icmp type echo-request numgen random mod 100 < 30 drop"})
              .exit == 0);
  r = run_in(p + "-a", {netshoot_bin(), "--json", "ping", "-q", "-c", "300", "-i", "0.01", "-W", "1", "10.77.2.2"});
  INFO(describe(r));
  last = r.out.substr(r.out.rfind('{', r.out.size() - 2));
  j = nlohmann::json::parse(last);
  double loss = j["loss_pct"].get<double>();
  // Binomial: sigma = sqrt(0.3 * 0.7 / 300) = 2.65 %; allow 4 sigma.
  CHECK(loss == Approx(30.0).margin(10.6));
  CHECK(j["transmitted"] == 300);
}

TEST_CASE("fping: a /24 sweep finds exactly the live hosts", "[ping]") {
  Netns sw{"pings-sw"}, c{"pings-c"};
  sw.ip("link add br0 type bridge stp_state 0 forward_delay 0");
  sw.ip("link set br0 up");
  sw.ip("link add pc type veth peer name eth0 netns pings-c");
  sw.ip("link set pc master br0 up");
  c.ip("addr add 10.233.0.254/24 dev eth0");
  c.ip("link set eth0 up");
  std::vector<std::unique_ptr<Netns>> hosts;
  std::vector<std::string> live{"10.233.0.254"};
  for (int i = 1; i <= 20; ++i) {
    hosts.push_back(std::make_unique<Netns>("pings-h" + std::to_string(i)));
    const Netns& h = *hosts.back();
    sw.ip("link add p" + std::to_string(i) + " type veth peer name eth0 netns " + h.name());
    sw.ip("link set p" + std::to_string(i) + " master br0 up");
    h.ip("addr add 10.233.0." + std::to_string(i) + "/24 dev eth0");
    if (i % 5 != 0) {
      h.ip("link set eth0 up");
      live.push_back("10.233.0." + std::to_string(i));
    }
  }
  std::sort(live.begin(), live.end());
  REQUIRE(wait_until([&] { return c.exec({"ping", "-c1", "-W1", "10.233.0.1"}).exit == 0; }));
  auto sorted_lines = [](const std::string& s) {
    std::vector<std::string> v;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) v.push_back(l);
    std::sort(v.begin(), v.end());
    return v;
  };
  RunOptions slow;
  slow.timeout_ms = 20000;
  c.ip("neigh flush all");
  RunResult r = c.exec({netshoot_bin(), "fping", "-a", "-g", "10.233.0.0/24"}, slow);
  INFO(describe(r));
  CHECK(r.exit == 1);  // some unreachable
  CHECK(sorted_lines(r.out) == live);
  // Real fping over a smaller block (a /24 takes fping ~7 s): the same answer.
  c.ip("neigh flush all");
  RunResult f = c.exec({"fping", "-a", "-g", "10.233.0.0/27"}, slow);
  c.ip("neigh flush all");
  RunResult o = c.exec({netshoot_bin(), "fping", "-a", "-g", "10.233.0.0/27"}, slow);
  CHECK(sorted_lines(f.out) == sorted_lines(o.out));
  CHECK(f.exit == o.exit);

  // -c summaries and the default output.
  r = c.exec({netshoot_bin(), "fping", "-c", "2", "-p", "100", "-q", "10.233.0.1", "10.233.0.5"});
  INFO(describe(r));
  CHECK(r.exit == 1);
  CHECK(std::regex_search(r.err, std::regex(R"(10\.233\.0\.1 : xmt/rcv/%loss = 2/2/0%, min/avg/max = [\d.]+/[\d.]+/[\d.]+)")));
  CHECK(has(r.err, "10.233.0.5 : xmt/rcv/%loss = 2/0/100%"));
  r = c.exec({netshoot_bin(), "fping", "-r", "0", "-t", "200", "10.233.0.2", "10.233.0.10"});
  CHECK(has(r.out, "10.233.0.2 is alive"));
  CHECK(has(r.out, "10.233.0.10 is unreachable"));
  r = c.exec({netshoot_bin(), "fping", "-u", "-r", "0", "-t", "200", "10.233.0.2", "10.233.0.10"});
  CHECK(r.out == "10.233.0.10\n");
}

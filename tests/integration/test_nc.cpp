// nc against real peers in namespaces, compared with netcat-openbsd where it is
// installed: a 100 MB transfer (sha256), -z over a range, the exact -v messages
// (names from /etc/netns/NS/hosts, which `ip netns exec` mounts over /etc/hosts).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <fstream>
#include <regex>
#include <string>

#include "harness.h"

using namespace netshoot::test;

namespace {

bool has(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

struct NcPair {
  std::string cn = unique_name("ncc"), tn = unique_name("nct");
  std::string hosts_dir = "/etc/netns/" + cn;
  Netns c{cn}, t{tn};
  NcPair() {
    veth_link(c, "ncc0", "10.234.1.1/24", t, "nct0", "10.234.1.2/24");
    c.ip("addr add fd34::1/64 dev ncc0 nodad");
    t.ip("addr add fd34::2/64 dev nct0 nodad");
    std::filesystem::create_directories(hosts_dir);
    std::ofstream(hosts_dir + "/hosts") << "127.0.0.1 localhost\n10.234.1.2 service-a\nfd34::2 service-a6\n";
    // port 9 drops (timeouts), 7 rejects with admin-prohibited
    REQUIRE(t.exec({"nft", "add table inet nct; add chain inet nct in { type filter hook input priority 0; }; "
                           "add rule inet nct in tcp dport 9 drop; "
                           "add rule inet nct in tcp dport 7 reject with icmpx type admin-prohibited"}).exit == 0);
    REQUIRE(wait_until([&] { return c.exec({"ping", "-c1", "-W1", "10.234.1.2"}).exit == 0; }));
  }
  ~NcPair() { std::filesystem::remove_all(hosts_dir); }
  RunResult nc(const std::vector<std::string>& args, const RunOptions& o = {}) {
    std::vector<std::string> argv{netshoot_bin(), "nc"};
    argv.insert(argv.end(), args.begin(), args.end());
    return c.exec(argv, o);
  }
};

}  // namespace

TEST_CASE("nc: 100 MB through nc -l / nc arrives byte-identical", "[nc][integration]") {
  NcPair p;
  std::string dir = "/tmp/" + unique_name("ncxfer");
  std::filesystem::create_directories(dir);
  REQUIRE(sh("head -c 100000000 /dev/urandom > " + dir + "/in").exit == 0);
  Background srv({"sh", "-c", netshoot_bin() + " nc -l -p 9100 > " + dir + "/out"}, p.tn);
  REQUIRE(wait_until([&] { return p.t.exec({"ss", "-Hltn", "sport = :9100"}).out.find("9100") != std::string::npos; }));
  auto r = p.c.exec({"sh", "-c", netshoot_bin() + " nc -N 10.234.1.2 9100 < " + dir + "/in"}, {.timeout_ms = 50000});
  INFO(describe(r));
  CHECK(r.exit == 0);
  REQUIRE(wait_until([&] { return !srv.running(); }, 10000));
  auto a = sh("sha256sum < " + dir + "/in"), b = sh("sha256sum < " + dir + "/out");
  CHECK(a.out == b.out);
  // and the other way: the listener sends (-N), the client receives, over IPv6
  Background srv6({"sh", "-c", netshoot_bin() + " nc -6 -N -l -p 9101 < " + dir + "/in"}, p.tn);
  REQUIRE(wait_until([&] { return p.t.exec({"ss", "-Hltn", "sport = :9101"}).out.find("9101") != std::string::npos; }));
  r = p.c.exec({"sh", "-c", netshoot_bin() + " nc -6 fd34::2 9101 < /dev/null > " + dir + "/out6"}, {.timeout_ms = 50000});
  CHECK(r.exit == 0);
  auto c6 = sh("sha256sum < " + dir + "/out6");
  CHECK(a.out == c6.out);
  std::filesystem::remove_all(dir);
}

TEST_CASE("nc: -z over a range reports the open ones - messages as netcat-openbsd", "[nc][integration]") {
  NcPair p;
  Background l1({netshoot_bin(), "nc", "-lk", "7001"}, p.tn);
  Background l2({netshoot_bin(), "nc", "-lk", "8080"}, p.tn);
  Background l3({netshoot_bin(), "nc", "-6", "-lk", "8080"}, p.tn);  // -l binds IPv4 only, as openbsd's
  REQUIRE(wait_until([&] { return p.t.exec({"ss", "-Hltn", "sport = :8080"}).out.find("8080") != std::string::npos; }));
  auto r = p.nc({"-vz", "10.234.1.2", "7000-7002"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(has(r.err, "nc: connect to 10.234.1.2 port 7000 (tcp) failed: Connection refused\n"));
  CHECK(has(r.err, "Connection to 10.234.1.2 7001 port [tcp/*] succeeded!\n"));
  CHECK(has(r.err, "nc: connect to 10.234.1.2 port 7002 (tcp) failed: Connection refused\n"));
  r = p.nc({"-z", "10.234.1.2", "7000"});
  CHECK(r.exit == 1);
  CHECK(r.err.empty());
  r = p.nc({"-vz", "service-a", "8080"});
  CHECK(r.exit == 0);
  CHECK(r.err == "Connection to service-a (10.234.1.2) 8080 port [tcp/http-alt] succeeded!\n");
  r = p.nc({"-vz", "-6", "service-a6", "8080"});
  CHECK(r.exit == 0);
  CHECK(r.err == "Connection to service-a6 (fd34::2) 8080 port [tcp/http-alt] succeeded!\n");

  if (!have_tool("nc.openbsd")) {
    WARN("nc.openbsd not installed: message comparison skipped");
    return;
  }
  // same arguments, same stderr (after the program name), same exit code
  std::vector<std::vector<std::string>> cases = {
      {"-vz", "service-a", "8080"},         {"-vzn", "10.234.1.2", "8080"}, {"-vz", "service-a", "7000"},
      {"-vz", "10.234.1.2", "7000-7002"},   {"-vz", "-w", "1", "10.234.1.2", "9"},
      {"-vz", "-w", "1", "10.234.1.2", "7"}, {"-vz", "10.234.1.2", "70000"},
      {"-z", "10.234.1.2", "7001"}};
  for (auto& args : cases) {
    auto ours = p.nc(args);
    std::vector<std::string> theirs_argv{"nc.openbsd"};
    theirs_argv.insert(theirs_argv.end(), args.begin(), args.end());
    auto theirs = p.c.exec(theirs_argv);
    std::string te = std::regex_replace(theirs.err, std::regex("nc\\.openbsd: "), "nc: ");
    INFO("args: " << args[0] << " " << args.back());
    CHECK(ours.err == te);
    CHECK(ours.exit == theirs.exit);
  }
}

TEST_CASE("nc: listener -v lines and relay both ways and bad input", "[nc][integration]") {
  NcPair p;
  Background l({"sh", "-c", netshoot_bin() + " nc -lvn -p 7100 < /dev/null"}, p.tn);
  REQUIRE(wait_until([&] { return p.t.exec({"ss", "-Hltn", "sport = :7100"}).out.find("7100") != std::string::npos; }));
  auto r = p.nc({"-N", "10.234.1.2", "7100"}, {.input = "hello\n"});
  CHECK(r.exit == 0);
  REQUIRE(wait_until([&] { return !l.running(); }));
  auto out = l.output();
  CHECK(has(out, "Listening on 0.0.0.0 7100\n"));
  CHECK(std::regex_search(out, std::regex("Connection received on 10\\.234\\.1\\.1 [0-9]+\n")));
  CHECK(has(out, "hello\n"));
  r = p.nc({"10.234.1.2"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nc: missing port number\n");
  r = p.nc({"-vz", "nosuch.invalid", "80"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nc: getaddrinfo for host \"nosuch.invalid\" port 80: Name or service not known\n");
  r = p.nc({"-vz", "10.234.1.2", "99999"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nc: port number too large: 99999\n");
}

namespace {

double seconds_of(const std::function<void()>& f) {
  auto a = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

bool udp_bound(const Netns& ns, int port) {
  return ns.exec({"ss", "-Hlun", "sport = :" + std::to_string(port)}).out.find(std::to_string(port)) != std::string::npos;
}

}  // namespace

TEST_CASE("nc: UDP listener -u -l -p prints what arrives with openbsd's -v lines", "[nc][integration]") {
  NcPair p;
  std::vector<std::string> listeners{netshoot_bin() + " nc"};
  if (have_tool("nc.openbsd")) listeners.push_back("nc.openbsd");
  else WARN("nc.openbsd not installed: comparison skipped");
  int port = 9200;
  std::vector<std::string> logs;
  for (auto& l : listeners) {
    ++port;
    Background srv({"sh", "-c", l + " -u -l -v -n -p " + std::to_string(port) + " < /dev/null"}, p.tn);
    REQUIRE(wait_until([&] { return udp_bound(p.t, port); }));
    // our client sends one datagram and quits 1 s after stdin ends
    auto r = p.nc({"-u", "-q", "1", "10.234.1.2", std::to_string(port)}, {.input = "hello over udp\n"});
    INFO(describe(r));
    CHECK(r.exit == 0);
    REQUIRE(wait_until([&] { return has(srv.output(), "hello over udp\n"); }));
    std::string out = std::regex_replace(srv.output(), std::regex("nc\\.openbsd: "), "nc: ");
    CHECK(std::regex_match(out, std::regex("Bound on 0\\.0\\.0\\.0 " + std::to_string(port) +
                                           "\nConnection received on 10\\.234\\.1\\.1 [0-9]+\nhello over udp\n")));
    logs.push_back(std::regex_replace(out, std::regex("[0-9]+\n"), "N\n"));
  }
  if (logs.size() == 2) CHECK(logs[0] == logs[1]);  // port numbers aside, the same text
}

TEST_CASE("nc: -q SECS quits that long after stdin EOF, as netcat-openbsd", "[nc][integration]") {
  NcPair p;
  // a listener that never closes its side
  Background srv({"sh", "-c", netshoot_bin() + " nc -lk -p 9400 < /dev/null > /dev/null"}, p.tn);
  REQUIRE(wait_until([&] { return p.t.exec({"ss", "-Hltn", "sport = :9400"}).out.find("9400") != std::string::npos; }));
  std::vector<std::string> clients{netshoot_bin()};
  if (have_tool("nc.openbsd")) clients.push_back("nc.openbsd");
  for (auto& c : clients) {
    std::vector<std::string> base = c == "nc.openbsd" ? std::vector<std::string>{"nc.openbsd"}
                                                        : std::vector<std::string>{c, "nc"};
    INFO(base[0]);
    auto with = [&](std::vector<std::string> args) {
      args.insert(args.begin(), base.begin(), base.end());
      return args;
    };
    RunResult r;
    double t = seconds_of([&] { r = p.c.exec(with({"-q", "1", "10.234.1.2", "9400"}), {.input = "x\n"}); });
    CHECK(r.exit == 0);
    CHECK(t > 0.9);
    CHECK(t < 3);
    t = seconds_of([&] { r = p.c.exec(with({"-q", "0", "10.234.1.2", "9400"}), {.input = "x\n"}); });
    CHECK(r.exit == 0);
    CHECK(t < 0.9);
    // without -q: waits for the peer, forever
    r = p.c.exec(with({"10.234.1.2", "9400"}), {.timeout_ms = 2500, .input = "x\n"});
    CHECK(r.timed_out);
  }
}

TEST_CASE("nc: -s ADDR picks the source address - a foreign one fails as netcat-openbsd", "[nc][integration]") {
  NcPair p;
  p.c.ip("addr add 10.234.1.11/24 dev ncc0");
  Background l({"sh", "-c", netshoot_bin() + " nc -lvn -p 9500 < /dev/null"}, p.tn);
  REQUIRE(wait_until([&] { return p.t.exec({"ss", "-Hltn", "sport = :9500"}).out.find("9500") != std::string::npos; }));
  auto r = p.nc({"-N", "-s", "10.234.1.11", "10.234.1.2", "9500"}, {.input = "from .11\n"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  REQUIRE(wait_until([&] { return !l.running(); }));
  CHECK(std::regex_search(l.output(), std::regex("Connection received on 10\\.234\\.1\\.11 [0-9]+\nfrom \\.11\n")));
  // UDP as well
  Background lu({"sh", "-c", netshoot_bin() + " nc -u -lvn -p 9501 < /dev/null"}, p.tn);
  REQUIRE(wait_until([&] { return udp_bound(p.t, 9501); }));
  r = p.nc({"-u", "-q", "0", "-s", "10.234.1.11", "10.234.1.2", "9501"}, {.input = "u\n"});
  CHECK(r.exit == 0);
  REQUIRE(wait_until([&] { return has(lu.output(), "u\n"); }));
  CHECK(has(lu.output(), "Connection received on 10.234.1.11 "));
  // errors: an address we do not have, an address of the other family
  std::vector<std::vector<std::string>> bad = {{"-s", "10.9.9.9", "10.234.1.2", "9500"},
                                               {"-v", "-s", "10.9.9.9", "10.234.1.2", "9500"},
                                               {"-s", "fd34::1", "10.234.1.2", "9500"}};
  for (auto& args : bad) {
    r = p.nc(args);
    CHECK(r.exit == 1);
    CHECK(r.err.rfind("nc: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    if (!have_tool("nc.openbsd")) continue;
    std::vector<std::string> argv{"nc.openbsd"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto theirs = p.c.exec(argv);
    INFO(args[1] << " " << args[2]);
    CHECK(r.err == std::regex_replace(theirs.err, std::regex("nc\\.openbsd: "), "nc: "));
    CHECK(r.exit == theirs.exit);
  }
}

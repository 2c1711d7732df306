// nc against real peers in namespaces, compared with netcat-openbsd where it is
// installed: a 100 MB transfer (sha256), -z over a range, the exact -v messages
// (names from /etc/netns/NS/hosts, which `ip netns exec` mounts over /etc/hosts).
#include <catch2/catch.hpp>

#include <filesystem>
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

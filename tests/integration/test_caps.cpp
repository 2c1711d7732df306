// Capabilities: raw-socket applets give up CAP_NET_RAW/CAP_NET_ADMIN once their
// sockets are open (nmap: all of them, before its first probe), and a copy of the
// binary with file capabilities works for a numeric non-root user (the image's
// `--user 65532`, Kubernetes runAsNonRoot).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

#include "harness.h"

using namespace netshoot::test;

namespace {

bool has(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

// CapEff/CapPrm of a process as a bit mask; nullopt when it is gone.
std::optional<uint64_t> cap_field(pid_t pid, const std::string& field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1), nullptr, 16);
  return std::nullopt;
}

constexpr uint64_t kNetAdmin = 1ull << 12, kNetRaw = 1ull << 13;

// Waits until the applet has printed `marker` (its sockets are open), then checks
// that neither network capability is left in its effective or permitted set.
void check_dropped(const std::string& what, Background& bg, const std::string& marker) {
  INFO(what);
  REQUIRE(wait_until([&] { return has(bg.output(), marker); }, 5000));
  auto eff = cap_field(bg.pid(), "CapEff");
  auto prm = cap_field(bg.pid(), "CapPrm");
  REQUIRE(eff);
  REQUIRE(prm);
  CHECK((*eff & (kNetRaw | kNetAdmin)) == 0);
  CHECK((*prm & (kNetRaw | kNetAdmin)) == 0);
  CHECK(*eff != 0);  // root keeps its other capabilities (e.g. to write files anywhere)
}

}  // namespace

TEST_CASE("caps: ping, traceroute, tcpdump and arping drop the network capabilities after opening sockets",
          "[caps][integration]") {
  Netns a{unique_name("cpa")}, b{unique_name("cpb")};
  veth_link(a, "ca0", "10.241.0.1/24", b, "cb0", "10.241.0.2/24");
  {
    Background bg({netshoot_bin(), "ping", "-n", "-i", "0.2", "-c", "50", "10.241.0.2"}, a.name());
    check_dropped("ping", bg, "bytes from 10.241.0.2");
  }
  {
    Background bg({netshoot_bin(), "tcpdump", "-n", "-l", "-i", "ca0", "icmp"}, a.name());
    REQUIRE(wait_until([&] { return has(bg.output(), "listening on ca0"); }, 5000));
    Background ping({netshoot_bin(), "ping", "-n", "-i", "0.2", "-c", "10", "10.241.0.2"}, a.name());
    check_dropped("tcpdump", bg, "ICMP echo request");
  }
  {
    Background bg({netshoot_bin(), "mtr", "-n", "-c", "30", "-i", "0.2", "--report", "10.241.0.2"}, a.name());
    // mtr --report prints at the end only: its sockets are open once the process has
    // been running for a moment without an error.
    ::usleep(800 * 1000);
    REQUIRE(bg.running());
    auto eff = cap_field(bg.pid(), "CapEff");
    REQUIRE(eff);
    CHECK((*eff & (kNetRaw | kNetAdmin)) == 0);
  }
  {
    Background bg({netshoot_bin(), "arping", "-I", "ca0", "-c", "20", "10.241.0.2"}, a.name());
    check_dropped("arping", bg, "Unicast reply from 10.241.0.2");
  }
}

// nmap opens every raw and packet socket its phases use (ARP, raw TCP + ICMP)
// before the first probe and drops the capabilities then: checked while the ARP
// ping, the SYN scan and the IPv6 ping scan run (slowed by --max-rate), and the
// states found afterwards are still right.
TEST_CASE("caps: nmap -sS and -sn drop the network capabilities before the first probe", "[caps][integration]") {
  Netns a{unique_name("cna")}, b{unique_name("cnb")};
  veth_link(a, "cn0", "10.242.0.1/24", b, "cnb0", "10.242.0.2/24");
  a.ip("addr add fd42::1/64 dev cn0 nodad");
  b.ip("addr add fd42::2/64 dev cnb0 nodad");
  auto r = b.exec({"nft", "add table inet t; add chain inet t in { type filter hook input priority 0; }; "
                          "add rule inet t in tcp dport 2001 drop; "
                          "add rule inet t in tcp dport 2002 reject with icmpx type admin-prohibited"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  Background listener({"python3", "-c",
                       "import socket, time\n"
                       "s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)\n"
                       "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)\n"
                       "s.bind(('::', 2000)); s.listen(64)\n"
                       "print('ready', flush=True)\n"
                       "time.sleep(300)\n"},
                      b.name());
  REQUIRE(wait_until([&] { return has(listener.output(), "ready"); }));
  REQUIRE(wait_until([&] { return a.exec({"ping", "-c1", "-W1", "10.242.0.2"}).exit == 0; }));
  auto line = [](const std::string& out, const std::string& re) {  // a line of `out` matches
    std::istringstream in(out);
    std::regex rx(re);
    for (std::string l; std::getline(in, l);)
      if (std::regex_search(l, rx)) return true;
    return false;
  };
  {
    // one host on the segment: ARP first, then the SYN scan (about 2.5 s at 400/s)
    Background bg({netshoot_bin(), "nmap", "-n", "-v", "--reason", "-sS", "--max-rate", "400", "-p",
                   "1-1000,2000-2002", "10.242.0.2"},
                  a.name());
    check_dropped("nmap -sS", bg, "Initiating SYN Stealth Scan");
    REQUIRE(wait_until([&] { return !bg.running(); }, 30000));
    std::string out = bg.output();
    INFO(out);
    CHECK(has(out, "Host is up, received arp-response"));
    CHECK(line(out, "^2000/tcp +open +\\S+ +syn-ack ttl 64$"));
    CHECK(line(out, "^2001/tcp +filtered +\\S+ +no-response$"));
    CHECK(line(out, "^2002/tcp +filtered +\\S+ +admin-prohibited ttl 64$"));
    CHECK(has(out, "Not shown: 1000 closed tcp ports (reset)"));
    CHECK(has(out, "Nmap done: 1 IP address (1 host up)"));
  }
  {
    // -sn over an on-link /26: ARP requests on an AF_PACKET socket (about 2 s at 100/s)
    Background bg({netshoot_bin(), "nmap", "-n", "-v", "-sn", "--max-rate", "100", "10.242.0.0/26"}, a.name());
    check_dropped("nmap -sn", bg, "Initiating ARP Ping Scan");
    REQUIRE(wait_until([&] { return !bg.running(); }, 30000));
    std::string out = bg.output();
    INFO(out);
    CHECK(has(out, "Nmap scan report for 10.242.0.2\nHost is up"));
    CHECK(has(out, "Nmap done: 64 IP addresses (2 hosts up)"));
  }
  {
    // IPv6 -sn: ICMPv6 echo + SYN 443 + ACK 80 on raw sockets (about 2 s at 60/s)
    Background bg({netshoot_bin(), "nmap", "-n", "-v", "-6", "-sn", "--max-rate", "60", "fd42::/124"}, a.name());
    check_dropped("nmap -6 -sn", bg, "Initiating Ping Scan");
    REQUIRE(wait_until([&] { return !bg.running(); }, 30000));
    std::string out = bg.output();
    INFO(out);
    CHECK(has(out, "Nmap scan report for fd42::2\nHost is up"));
    CHECK(has(out, "Nmap done: 16 IP addresses (2 hosts up)"));
  }
}

TEST_CASE("caps: file capabilities let a numeric non-root user ping and capture", "[caps][integration]") {
  if (!have_tool("setcap") || !have_tool("setpriv")) {
    WARN("setcap/setpriv missing (libcap2-bin, util-linux): skipped");
    return;
  }
  Netns a{unique_name("cpu")};
  std::string dir = "/tmp/netshoot-caps-" + std::to_string(::getpid());
  REQUIRE(sh("rm -rf " + dir + " && mkdir -p " + dir + " && chmod 755 " + dir + " && cp " + netshoot_bin() +
             " " + dir + "/netshoot && chmod 755 " + dir + "/netshoot").exit == 0);
  auto as_user = [&](const std::string& args) {
    return sh("ip netns exec " + a.name() + " setpriv --reuid=65532 --regid=65532 --clear-groups " +
              "--inh-caps=-all " + dir + "/netshoot " + args);
  };
  // Without file capabilities: no raw socket, no ICMP socket for gid 65532 (the
  // namespace's ping_group_range is "1 0"), no capture.
  a.exec({"sysctl", "-qw", "net.ipv4.ping_group_range=1 0"});
  auto r = as_user("ping -n -c 1 -W 1 127.0.0.1");
  CHECK(r.exit != 0);
  r = as_user("tcpdump -n -i lo -c 1");
  CHECK(r.exit != 0);
  CHECK(has(r.err, "ermission"));

  REQUIRE(sh("setcap cap_net_raw,cap_net_admin+p " + dir + "/netshoot").exit == 0);
  r = as_user("ping -n -c 2 -i 0.2 127.0.0.1");
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(has(r.out, "2 packets transmitted, 2 received"));
  // A container without CAP_NET_ADMIN in its bounding set (Docker's default): the
  // exec still works ("+p", not "+ep") and ping has its raw socket.
  r = sh("ip netns exec " + a.name() + " setpriv --bounding-set=-net_admin --reuid=65532 --regid=65532 " +
         "--clear-groups --inh-caps=-all " + dir + "/netshoot ping -n -c 1 127.0.0.1");
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(has(r.out, "1 packets transmitted, 1 received"));
  {
    Background cap({"setpriv", "--reuid=65532", "--regid=65532", "--clear-groups", dir + "/netshoot", "tcpdump",
                    "-n", "-l", "-i", "lo", "-c", "2", "icmp"},
                   a.name());
    REQUIRE(wait_until([&] { return has(cap.output(), "listening on lo"); }, 5000));
    as_user("ping -n -c 2 -i 0.2 127.0.0.1");
    CHECK(wait_until([&] { return has(cap.output(), "2 packets captured"); }, 5000));
    INFO(cap.output());
    CHECK(has(cap.output(), "ICMP echo request"));
  }
  {
    // nmap as that user: -sT, watching ICMP errors on a raw socket thanks to the
    // file capabilities, which it drops before its first connect()
    Background scan({"setpriv", "--reuid=65532", "--regid=65532", "--clear-groups", "--inh-caps=-all",
                     dir + "/netshoot", "nmap", "-n", "-v", "--max-rate", "400", "-p", "1-1000", "127.0.0.1"},
                    a.name());
    REQUIRE(wait_until([&] { return has(scan.output(), "Initiating Connect Scan"); }, 5000));
    auto eff = cap_field(scan.pid(), "CapEff");
    auto prm = cap_field(scan.pid(), "CapPrm");
    REQUIRE(eff);
    REQUIRE(prm);
    CHECK((*eff & (kNetRaw | kNetAdmin)) == 0);
    CHECK((*prm & (kNetRaw | kNetAdmin)) == 0);
    REQUIRE(wait_until([&] { return !scan.running(); }, 30000));
    INFO(scan.output());
    CHECK(has(scan.output(), "Not shown: 1000 closed tcp ports (conn-refused)"));
    CHECK(has(scan.output(), "Nmap done: 1 IP address (1 host up)"));
  }
  sh("rm -rf " + dir);
}

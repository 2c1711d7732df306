// scan (nmap) against a target namespace whose nftables ruleset accepts, drops and
// rejects (tcp reset, icmp admin-prohibited, icmp port-unreachable): every port's
// state and reason must equal the truth derived from the ruleset, for -sS, -sT and
// -sU, over IPv4 and IPv6, and again with 5 % random loss both ways. -sn over a
// small /24 bridge finds exactly the live hosts. Bad input gives nmap's errors.
#include <catch2/catch.hpp>

#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "harness.h"

using namespace netshoot::test;

namespace {

bool has(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

// port/proto -> "state reason"
std::map<std::string, std::string> parse_ports(const std::string& out) {
  std::map<std::string, std::string> m;
  std::istringstream in(out);
  std::string line;
  std::regex re("^([0-9]+/(tcp|udp))\\s+(\\S+)\\s+\\S+\\s+(\\S+)");
  std::smatch sm;
  while (std::getline(in, line))
    if (std::regex_search(line, sm, re)) m[sm[1]] = sm[3].str() + " " + sm[4].str();
  return m;
}

const char* kListener = R"PY(
import selectors, socket, sys
sel = selectors.DefaultSelector()
for p in (2000, 2001, 2003, 2005, 2010, 2011):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", p)); s.listen(1024); s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
u.bind(("::", 53)); u.setblocking(False)
sel.register(u, selectors.EVENT_READ)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        try:
            if key.fileobj is u:
                d, a = u.recvfrom(2048)
                if len(d) >= 12: u.sendto(d[:2] + b"\x81\x80" + d[4:], a)  # a DNS responder: echo the question
            else:
                c, _ = key.fileobj.accept(); c.close()
        except OSError:
            pass
)PY";

struct Target {
  std::string cn = unique_name("scc"), tn = unique_name("sct");
  Netns c{cn}, t{tn};
  std::unique_ptr<Background> listener;
  Target() {
    veth_link(c, "scc0", "10.235.1.1/24", t, "sct0", "10.235.1.2/24");
    c.ip("addr add fd35::1/64 dev scc0 nodad");
    t.ip("addr add fd35::2/64 dev sct0 nodad");
    t.exec({"sysctl", "-qw", "net.ipv4.icmp_ratelimit=0", "net.ipv4.icmp_msgs_per_sec=100000", "net.ipv6.icmp.ratelimit=0"});
    std::string rules =
        "add table inet sc; add chain inet sc in { type filter hook input priority 0; }; "
        "add rule inet sc in tcp dport { 2001, 2002 } drop; "
        "add rule inet sc in tcp dport 2003 reject with tcp reset; "
        "add rule inet sc in tcp dport 2004 reject with icmpx type admin-prohibited; "
        "add rule inet sc in tcp dport 2005 reject with icmpx type port-unreachable; "
        "add rule inet sc in udp dport 2006 drop; "
        "add rule inet sc in udp dport 2007 reject with icmpx type admin-prohibited";
    auto r = t.exec({"nft", rules});
    INFO(describe(r));
    REQUIRE(r.exit == 0);
    listener = std::make_unique<Background>(std::vector<std::string>{"python3", "-c", kListener}, tn);
    REQUIRE(wait_until([&] { return has(listener->output(), "ready"); }));
    REQUIRE(wait_until([&] { return c.exec({"ping", "-c1", "-W1", "10.235.1.2"}).exit == 0; }));
    REQUIRE(wait_until([&] { return c.exec({"ping", "-c1", "-W1", "fd35::2"}).exit == 0; }));
  }
  void loss(int pct) {
    std::string n = std::to_string(pct);
    auto r = t.exec({"nft", "add table inet loss; "
                            "add chain inet loss in { type filter hook input priority -10; }; "
                            "add chain inet loss out { type filter hook output priority -10; }; "
                            "add rule inet loss in numgen random mod 100 < " + n + " drop; "
                            "add rule inet loss out numgen random mod 100 < " + n + " drop"});
    REQUIRE(r.exit == 0);
  }
  RunResult scan(const std::vector<std::string>& args) {
    std::vector<std::string> argv{netshoot_bin(), "nmap"};
    argv.insert(argv.end(), args.begin(), args.end());
    return c.exec(argv, {.timeout_ms = 60000});
  }
};

// The truth from the ruleset, per technique and family.
std::map<std::string, std::string> tcp_truth(bool syn, bool v6) {
  std::map<std::string, std::string> m;
  for (int p = 1995; p <= 2015; ++p) m[std::to_string(p) + "/tcp"] = syn ? "closed reset" : "closed conn-refused";
  for (int p : {2000, 2010, 2011}) m[std::to_string(p) + "/tcp"] = "open syn-ack";
  m["2001/tcp"] = m["2002/tcp"] = "filtered no-response";
  m["2003/tcp"] = syn ? "closed reset" : "closed conn-refused";
  if (syn) {
    m["2004/tcp"] = "filtered admin-prohibited";
    m["2005/tcp"] = "filtered port-unreach";
  } else {
    // connect(): the kernel maps ICMP to errno (v4 admin-prohibited -> EHOSTUNREACH,
    // v6 -> EACCES; port unreachable -> ECONNREFUSED), as nmap -sT sees it
    m["2004/tcp"] = v6 ? "filtered admin-prohibited" : "filtered host-unreach";
    m["2005/tcp"] = "closed conn-refused";
  }
  return m;
}

}  // namespace

TEST_CASE("scan: -sS and -sT states and reasons equal the ruleset's truth and IPv4 and IPv6", "[scan][integration]") {
  Target tg;
  for (bool v6 : {false, true}) {
    for (bool syn : {true, false}) {
      std::vector<std::string> args{"-n", syn ? "-sS" : "-sT", "--reason", "-p", "1995-2015"};
      if (v6) args.push_back("-6");
      args.push_back(v6 ? "fd35::2" : "10.235.1.2");
      auto r = tg.scan(args);
      INFO(describe(r));
      REQUIRE(r.exit == 0);
      CHECK(parse_ports(r.out) == tcp_truth(syn, v6));
      CHECK(has(r.out, "Host is up"));
      CHECK(std::regex_search(r.out, std::regex("Nmap done: 1 IP address \\(1 host up\\) scanned in [0-9.]+ seconds")));
    }
  }
}

TEST_CASE("scan: a host that is not there is reported down - -oG - replaces the normal output", "[scan][integration]") {
  Target tg;
  auto r = tg.scan({"-n", "-sS", "--max-retries", "1", "-p", "80", "10.235.1.77"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(!has(r.out, "Nmap scan report"));
  CHECK(has(r.out, "Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn\n"));
  CHECK(has(r.out, "Nmap done: 1 IP address (0 hosts up) scanned in "));
  r = tg.scan({"-n", "-sS", "-p", "2000,2001,2003", "-oG", "-", "10.235.1.2"});
  CHECK(r.exit == 0);
  CHECK(!has(r.out, "Nmap scan report"));
  CHECK(has(r.out, "Host: 10.235.1.2 ()\tStatus: Up\n"));
  CHECK(has(r.out, "Host: 10.235.1.2 ()\tPorts: 2000/open/tcp//cisco-sccp///, 2001/filtered/tcp//dc///, "
                   "2003/closed/tcp//"));
  CHECK(std::regex_search(r.out, std::regex("# Nmap done at .* -- 1 IP address \\(1 host up\\) scanned in")));
}

TEST_CASE("scan: -sU with a DNS responder and drop and admin-prohibited and closed", "[scan][integration]") {
  Target tg;
  for (const char* addr : {"10.235.1.2", "fd35::2"}) {
    auto r = tg.scan({"-n", "-sU", "--reason", "-p", "53,2006,2007,2008", addr});
    INFO(describe(r));
    REQUIRE(r.exit == 0);
    auto m = parse_ports(r.out);
    CHECK(m["53/udp"] == "open udp-response");
    CHECK(m["2006/udp"] == "open|filtered no-response");
    CHECK(m["2007/udp"] == "filtered admin-prohibited");
    CHECK(m["2008/udp"] == "closed port-unreach");
  }
}

TEST_CASE("scan: 5 % random loss both ways and retransmits recover every state", "[scan][integration]") {
  Target tg;
  tg.loss(5);
  for (bool v6 : {false, true}) {
    for (bool syn : {true, false}) {
      std::vector<std::string> args{"-n", syn ? "-sS" : "-sT", "--reason", "-p", "1995-2015"};
      if (v6) args.push_back("-6");
      args.push_back(v6 ? "fd35::2" : "10.235.1.2");
      auto r = tg.scan(args);
      INFO(describe(r));
      REQUIRE(r.exit == 0);
      CHECK(parse_ports(r.out) == tcp_truth(syn, v6));
    }
  }
  // the whole range: only the listeners open, the dropped pair filtered
  auto r = tg.scan({"-n", "-sS", "-p-", "10.235.1.2"});
  REQUIRE(r.exit == 0);
  CHECK(has(r.out, "Not shown: 65528 closed tcp ports (reset)"));
  std::regex row("^([0-9]+/tcp)\\s+(\\S+)");
  std::map<std::string, std::string> rows;
  std::istringstream in(r.out);
  std::string line;
  std::smatch sm;
  while (std::getline(in, line))
    if (std::regex_search(line, sm, row)) rows[sm[1]] = sm[2];
  std::map<std::string, std::string> want;
  for (int p : {2000, 2010, 2011}) want[std::to_string(p) + "/tcp"] = "open";
  for (int p : {2001, 2002, 2004, 2005}) want[std::to_string(p) + "/tcp"] = "filtered";
  INFO(r.out);
  CHECK(rows == want);
}

TEST_CASE("scan: -sn over a /24 finds exactly the live hosts", "[scan][integration]") {
  std::string bn = unique_name("snb");
  Netns br{bn};
  br.ip("link add br0 type bridge");
  br.ip("link set br0 up");
  std::vector<std::unique_ptr<Netns>> hosts;
  // .1 .2 .3 (drops everything: found by ARP) .4, and the scanner at .254
  std::vector<int> live{1, 2, 3, 4, 254};
  for (int h : live) {
    auto ns = std::make_unique<Netns>(unique_name("snh") + "-" + std::to_string(h));
    std::string a = "snh" + std::to_string(h), b = "snb" + std::to_string(h);
    REQUIRE(run({"ip", "link", "add", a, "netns", ns->name(), "type", "veth", "peer", "name", b, "netns", bn}).exit == 0);
    ns->ip("addr add 10.236.0." + std::to_string(h) + "/24 dev " + a);
    ns->ip("link set " + a + " up");
    br.ip("link set " + b + " master br0");
    br.ip("link set " + b + " up");
    hosts.push_back(std::move(ns));
  }
  REQUIRE(hosts[2]->exec({"nft", "add table inet d; add chain inet d in { type filter hook input priority 0; policy drop; }"}).exit == 0);
  Netns& me = *hosts.back();
  REQUIRE(wait_until([&] { return me.exec({"ping", "-c1", "-W1", "10.236.0.1"}).exit == 0; }));
  auto r = me.exec({netshoot_bin(), "nmap", "-n", "-sn", "10.236.0.0/24"}, {.timeout_ms = 60000});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  std::vector<std::string> found;
  std::regex re("Nmap scan report for (\\S+)");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), re), end; it != end; ++it) found.push_back((*it)[1]);
  std::vector<std::string> want;
  for (int h : live) want.push_back("10.236.0." + std::to_string(h));
  std::sort(found.begin(), found.end());
  std::sort(want.begin(), want.end());
  CHECK(found == want);
  CHECK(has(r.out, "Nmap done: 256 IP addresses (5 hosts up)"));
}

TEST_CASE("scan: bad input gives nmap's one-line errors", "[scan][integration]") {
  // in an empty namespace, so that a regression could never send anything out
  Netns ns{unique_name("scbad")};
  auto run_netshoot = [&](std::vector<std::string> args) {
    args.insert(args.begin(), netshoot_bin());
    return ns.exec(args);
  };
  auto r = run_netshoot({"nmap", "-p", "70000", "127.0.0.1"});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "Ports specified must be between 0 and 65535 inclusive\nQUITTING!\n"));
  r = run_netshoot({"nmap", "-p", "10-1", "127.0.0.1"});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "Your port range 10-1 is backwards. Did you mean 1-10?"));
  r = run_netshoot({"nmap", "-sS", "-p", "80", "10.0.0.0/8"});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "refusing to scan 16777216 addresses"));
  r = run_netshoot({"nmap", "-p", "80"});
  CHECK(r.exit == 0);  // as nmap: a warning and an empty run
  CHECK(has(r.err, "WARNING: No targets were specified, so 0 hosts scanned."));
  CHECK(has(r.out, "Nmap done: 0 IP addresses (0 hosts up)"));
  r = run_netshoot({"nmap", "-T9", "127.0.0.1"});
  CHECK(r.exit == 1);
  r = run_netshoot({"nmap", "--bogus", "127.0.0.1"});
  CHECK(r.exit == 1);
}

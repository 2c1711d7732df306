// scan (nmap) against a target namespace whose nftables ruleset accepts, drops and
// rejects (tcp reset, icmp admin-prohibited, icmp port-unreachable): every port's
// state and reason must equal the truth derived from the ruleset, for -sS, -sT and
// -sU, over IPv4 and IPv6, and again with 5 % random loss both ways. -sn over a
// small /24 bridge finds exactly the live hosts. Bad input gives nmap's errors.
#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <cstdio>
#include <fstream>
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
  auto r = me.exec({netshoot_bin(), "nmap", "-n", "-sn", "--reason", "10.236.0.0/24"}, {.timeout_ms = 60000});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  auto reports = [](const std::string& out) {  // address -> its report block
    std::map<std::string, std::string> m;
    std::regex re("Nmap scan report for (\\S+)\n((?:(?!Nmap ).*\n)*)");
    for (std::sregex_iterator it(out.begin(), out.end(), re), end; it != end; ++it) m[(*it)[1]] = (*it)[2];
    return m;
  };
  auto ours = reports(r.out);
  std::map<std::string, std::string> want;
  for (int h : live) want["10.236.0." + std::to_string(h)] = "";
  std::map<std::string, std::string> found;
  for (auto& [a, _] : ours) found[a] = "";
  CHECK(found == want);
  CHECK(has(r.out, "Nmap done: 256 IP addresses (5 hosts up)"));
  // the neighbours answered our ARP requests (even .3, which drops all IP); our own address needs no probe
  for (int h : {1, 2, 3, 4}) {
    std::string a = "10.236.0." + std::to_string(h);
    CHECK(std::regex_search(ours[a], std::regex("^Host is up, received arp-response \\([0-9.]+s latency\\)\\.\n"
                                                "MAC Address: ([0-9A-F]{2}:){5}[0-9A-F]{2} \\(Unknown\\)\n$")));
  }
  CHECK(ours["10.236.0.254"] == "Host is up, received localhost-response.\n");
  if (!have_tool("nmap")) {
    WARN("nmap not installed: comparison skipped");
    return;
  }
  // real nmap in the same namespace: the same hosts, the same MAC lines
  auto n = me.exec({"nmap", "-n", "-sn", "--reason", "10.236.0.0/24"}, {.timeout_ms = 60000});
  INFO(describe(n));
  REQUIRE(n.exit == 0);
  auto theirs = reports(n.out);
  REQUIRE(theirs.size() == ours.size());
  for (auto& [a, block] : theirs) {
    INFO(a);
    std::regex mac("MAC Address: .*\n");
    std::smatch m1, m2;
    bool h1 = std::regex_search(block, m1, mac), h2 = std::regex_search(ours[a], m2, mac);
    CHECK(h1 == h2);
    if (h1 && h2) CHECK(m1.str() == m2.str());
    std::regex reason("received (\\S+?)[ .]");
    CHECK((std::regex_search(block, m1, reason) && std::regex_search(ours[a], m2, reason) && m1[1] == m2[1]));
  }
}

TEST_CASE("scan: -sn probes routed hosts with ICMP and TCP and on-link ones with ARP", "[scan][integration]") {
  // c (10.237.1.1) -- r (10.237.1.2 | 10.237.2.1, forwarding) -- t (10.237.2.2); c routes 10.237.2.0/24 via r
  std::string cn = unique_name("srtc"), rn = unique_name("srtr"), tn = unique_name("srtt"), dn = unique_name("srtd");
  Netns c{cn}, rt{rn}, t{tn}, d{dn};
  veth_link(c, "src0", "10.237.1.1/24", rt, "srr0", "10.237.1.2/24");
  veth_link(rt, "srr1", "10.237.2.1/24", t, "srt0", "10.237.2.2/24");
  veth_link(rt, "srr2", "10.237.3.1/24", d, "srd0", "10.237.3.2/24");
  REQUIRE(rt.exec({"sysctl", "-qw", "net.ipv4.ip_forward=1"}).exit == 0);
  c.ip("route add 10.237.2.0/24 via 10.237.1.2");
  c.ip("route add 10.237.3.0/24 via 10.237.1.2");
  t.ip("route add 10.237.1.0/24 via 10.237.2.1");
  d.ip("route add 10.237.1.0/24 via 10.237.3.1");
  // d drops everything: routed, so no ARP can find it (nmap reports it down too)
  REQUIRE(d.exec({"nft", "add table inet d; add chain inet d in { type filter hook input priority 0; policy drop; }"}).exit == 0);
  REQUIRE(wait_until([&] { return c.exec({"ping", "-c1", "-W1", "10.237.2.2"}).exit == 0; }));
  // first t answers ICMP echo only, later TCP only
  REQUIRE(t.exec({"nft", "add table inet e; add chain inet e in { type filter hook input priority 0; }; "
                         "add rule inet e in meta l4proto tcp drop"}).exit == 0);
  auto r = c.exec({netshoot_bin(), "nmap", "-n", "-sn", "--reason", "10.237.2.2", "10.237.1.2", "10.237.3.2"},
                  {.timeout_ms = 60000});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  CHECK(std::regex_search(r.out, std::regex("Nmap scan report for 10\\.237\\.2\\.2\nHost is up, received echo-reply ttl 63 "
                                            "\\([0-9.]+s latency\\)\\.\n")));
  CHECK(std::regex_search(r.out, std::regex("Nmap scan report for 10\\.237\\.1\\.2\nHost is up, received arp-response "
                                            "\\([0-9.]+s latency\\)\\.\nMAC Address: ")));
  CHECK(!has(r.out, "10.237.3.2"));
  CHECK(has(r.out, "Nmap done: 3 IP addresses (2 hosts up)"));
  // the routed one also answers the TCP probes when ICMP echo is filtered
  REQUIRE(t.exec({"nft", "flush chain inet e in; add rule inet e in icmp type echo-request drop"}).exit == 0);
  r = c.exec({netshoot_bin(), "nmap", "-n", "-sn", "--reason", "10.237.2.2"}, {.timeout_ms = 60000});
  INFO(describe(r));
  CHECK(std::regex_search(r.out, std::regex("Host is up, received (reset|syn-ack) ttl 63 ")));
  if (!have_tool("nmap")) {
    WARN("nmap not installed: comparison skipped");
    return;
  }
  // nmap in the same namespace agrees on which hosts are up
  auto n = c.exec({"nmap", "-n", "-sn", "10.237.2.2", "10.237.1.2", "10.237.3.2"}, {.timeout_ms = 60000});
  INFO(describe(n));
  CHECK(has(n.out, "Nmap done: 3 IP addresses (2 hosts up)"));
  r = c.exec({netshoot_bin(), "nmap", "-n", "-sn", "10.237.2.2", "10.237.1.2", "10.237.3.2"}, {.timeout_ms = 60000});
  CHECK(has(r.out, "Nmap done: 3 IP addresses (2 hosts up)"));
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
  CHECK(r.exit == 1);  // nmap's warning and empty run, but a failure for scripts
  CHECK(has(r.err, "WARNING: No targets were specified, so 0 hosts scanned."));
  CHECK(has(r.out, "Nmap done: 0 IP addresses (0 hosts up)"));
  // unresolvable: no route in this namespace, so the resolver fails at once
  r = run_netshoot({"nmap", "-p", "80", "no-such-host.invalid"});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "Failed to resolve \"no-such-host.invalid\"."));
  r = run_netshoot({"nmap", "-T9", "127.0.0.1"});
  CHECK(r.exit == 1);
  r = run_netshoot({"nmap", "--bogus", "127.0.0.1"});
  CHECK(r.exit == 1);
}

namespace {

double seconds_of(const std::function<void()>& f) {
  auto a = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

// Packets to `port` counted by an nftables counter in the target (a fresh table per call).
struct PortCounter {
  Target& tg;
  PortCounter(Target& t, int port) : tg(t) {
    (void)tg.t.exec({"nft", "delete table inet cnt"});
    REQUIRE(tg.t.exec({"nft", "add table inet cnt; add chain inet cnt in { type filter hook input priority -20; }; "
                              "add rule inet cnt in tcp dport " + std::to_string(port) + " counter"}).exit == 0);
  }
  long packets() {
    auto r = tg.t.exec({"nft", "list table inet cnt"});
    std::smatch m;
    if (!std::regex_search(r.out, m, std::regex("packets ([0-9]+)"))) return -1;
    return std::stol(m[1]);
  }
};

}  // namespace

TEST_CASE("scan: --max-rate paces probes and --min-rate overrides a slow template", "[scan][integration]") {
  Target tg;
  RunResult r;
  // 2000 closed ports = 2000 probes (no loss, no retries): at 500 packets/s >= 4 s
  double t = seconds_of([&] { r = tg.scan({"-n", "-sS", "--max-rate", "500", "-p", "10001-12000", "10.235.1.2"}); });
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  CHECK(has(r.out, "2000 closed tcp ports (reset)"));
  CHECK(t >= 3.9);
  CHECK(t < 12);
  // the same without the limit is far quicker (the limit is what made it slow)
  double fast = seconds_of([&] { r = tg.scan({"-n", "-sS", "-p", "10001-12000", "10.235.1.2"}); });
  CHECK(has(r.out, "2000 closed tcp ports (reset)"));
  CHECK(fast < 2.5);
  // -sT counts its SYNs the same way: 600 connects at 300/s >= 2 s
  t = seconds_of([&] { r = tg.scan({"-n", "-sT", "--max-rate", "300", "-p", "10001-10600", "10.235.1.2"}); });
  CHECK(has(r.out, "600 closed tcp ports (conn-refused)"));
  CHECK(t >= 1.95);
  // -T2 waits 0.4 s between probes (300 ports: 2 minutes); --min-rate 300 keeps
  // the rate up: about a second
  t = seconds_of([&] { r = tg.scan({"-n", "-sS", "-T2", "--min-rate", "300", "-p", "10001-10300", "10.235.1.2"}); });
  INFO(describe(r));
  CHECK(has(r.out, "300 closed tcp ports (reset)"));
  CHECK(t < 8);
}

TEST_CASE("scan: --min-rate keeps sending under 5 % loss and every state stays right", "[scan][integration]") {
  Target tg;
  tg.loss(5);
  RunResult r;
  double t = seconds_of([&] {
    r = tg.scan({"-n", "-sS", "-T2", "--min-rate", "400", "--reason", "-p", "1995-2015,10001-10200", "10.235.1.2"});
  });
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  // closed ports are folded ("Not shown"); the other rows must be the truth's
  std::map<std::string, std::string> want;
  for (auto& [k, v] : tcp_truth(true, false))
    if (v != "closed reset") want[k] = v;
  CHECK(parse_ports(r.out) == want);
  CHECK(has(r.out, "Not shown: 214 closed tcp ports (reset)"));
  CHECK(t < 25);  // -T2 alone: 221 probes x 0.4 s = 88 s at the very least
}

TEST_CASE("scan: --max-retries caps the probes per silent port (counted by nftables)", "[scan][integration]") {
  Target tg;
  for (int retries : {0, 2}) {
    PortCounter cnt(tg, 2001);  // dropped by the ruleset: never answered
    auto r = tg.scan({"-n", "-sS", "--reason", "--max-retries", std::to_string(retries), "-p", "2000,2001", "10.235.1.2"});
    INFO(describe(r));
    REQUIRE(r.exit == 0);
    CHECK(parse_ports(r.out)["2001/tcp"] == "filtered no-response");
    // a lone silent port gets its whole allowance: 1 + retries probes, never more
    CHECK(cnt.packets() == retries + 1);
  }
  PortCounter cnt(tg, 2001);
  auto r = tg.scan({"-n", "-sT", "--max-retries", "0", "-p", "2001", "10.235.1.2"});
  CHECK(r.exit == 0);
  CHECK(cnt.packets() == 1);
}

TEST_CASE("scan: --host-timeout gives up on one host only and reports it as nmap does", "[scan][integration]") {
  Target tg;
  // a second address whose ports 3000-3099 are silent; the first one's are closed
  tg.t.ip("addr add 10.235.1.3/24 dev sct0");
  REQUIRE(tg.t.exec({"nft", "add rule inet sc in ip daddr 10.235.1.3 tcp dport 3000-3099 drop"}).exit == 0);
  std::string grep = "/tmp/" + unique_name("scto") + ".gnmap";
  RunResult r;
  // every silent probe waits 2 s and may be sent 4 times: 8 s without the timeout
  double t = seconds_of([&] {
    r = tg.scan({"-n", "-sS", "-p", "3000-3099", "--initial-rtt-timeout", "2s", "--min-rtt-timeout", "2s",
                 "--max-retries", "3", "--host-timeout", "1500ms", "-oG", grep, "10.235.1.2", "10.235.1.3"});
  });
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  CHECK(t < 6);
  CHECK(std::regex_search(r.out, std::regex("Nmap scan report for 10\\.235\\.1\\.3\nHost is up \\([0-9.]+s latency\\)\\.\n"
                                            "Skipping host 10\\.235\\.1\\.3 due to host timeout\n")));
  CHECK(!has(r.out, "Skipping host 10.235.1.2"));
  CHECK(has(r.out, "Not shown: 100 closed tcp ports (reset)"));  // the other host is complete
  CHECK(has(r.out, "Nmap done: 2 IP addresses (2 hosts up)"));
  std::ifstream in(grep);
  std::string g((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(has(g, "Host: 10.235.1.3 ()\tStatus: Up\nHost: 10.235.1.3 ()\tStatus: Timeout\n"));
  std::remove(grep.c_str());
}

TEST_CASE("scan: -v phase lines and --stats-every progress lines in nmap's shape", "[scan][integration]") {
  Target tg;
  // 800 probes at 200/s: about 4 s, progress every second
  auto r = tg.scan({"-n", "-v", "-sS", "--max-rate", "200", "--stats-every", "1s", "-p", "10001-10800", "10.235.1.2"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  CHECK(std::regex_search(r.out, std::regex("\nInitiating SYN Stealth Scan at [0-9]{2}:[0-9]{2}\n"
                                            "Scanning 10\\.235\\.1\\.2 \\[800 ports\\]\n")));
  CHECK(std::regex_search(r.out, std::regex("\nCompleted SYN Stealth Scan at [0-9]{2}:[0-9]{2}, [0-9]+\\.[0-9]{2}s "
                                            "elapsed \\(800 total ports\\)\n")));
  std::regex stats("Stats: 0:00:0[0-9] elapsed; 0 hosts completed \\(1 up\\), 1 undergoing SYN Stealth Scan\n"
                   "SYN Stealth Scan Timing: About ([0-9]+\\.[0-9]{2})% done; ETC: [0-9]{2}:[0-9]{2} "
                   "\\(0:00:[0-9]{2} remaining\\)\n");
  std::vector<double> pct;
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), stats), end; it != end; ++it)
    pct.push_back(std::stod((*it)[1]));
  CHECK(pct.size() >= 2);
  CHECK(pct.size() <= 6);
  for (size_t i = 1; i < pct.size(); ++i) CHECK(pct[i] > pct[i - 1]);
  for (double p : pct) CHECK((p > 0 && p < 100));
  // -v alone on a short scan: no progress lines (nmap prints them every 30 s)
  r = tg.scan({"-n", "-v", "-sS", "-p", "10001-10100", "10.235.1.2"});
  CHECK(!has(r.out, "Timing: About"));
  CHECK(has(r.out, "Scanning 10.235.1.2 [100 ports]"));
  if (!have_tool("nmap")) {
    WARN("nmap not installed: comparison skipped");
    return;
  }
  // the phase lines equal nmap's, clock times and elapsed seconds masked
  auto phases = [](const std::string& out) {
    std::string v;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line))
      if (std::regex_search(line, std::regex("^(Initiating|Scanning|Completed) ")))
        v += std::regex_replace(std::regex_replace(line, std::regex("[0-9]{2}:[0-9]{2}"), "HH:MM"),
                                std::regex("[0-9.]+s elapsed"), "Xs elapsed") + "\n";
    return v;
  };
  r = tg.scan({"-n", "-v", "-sS", "-p", "1995-2015", "10.235.1.2"});
  auto n = tg.c.exec({"nmap", "-n", "-v", "-sS", "-p", "1995-2015", "10.235.1.2"}, {.timeout_ms = 60000});
  INFO(describe(n));
  CHECK(!phases(r.out).empty());
  CHECK(phases(r.out) == phases(n.out));
}

TEST_CASE("scan: -oN writes the normal report to a file", "[scan][integration]") {
  Target tg;
  std::string f = "/tmp/" + unique_name("scon") + ".nmap";
  auto r = tg.scan({"-n", "-sS", "--reason", "-p", "1995-2015", "-oN", f, "10.235.1.2"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  std::ifstream in(f);
  std::string n((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(std::regex_search(n, std::regex("^# Nmap 7\\.93 scan initiated .* as: .*-oN " + f + " 10\\.235\\.1\\.2\n")));
  CHECK(parse_ports(n) == tcp_truth(true, false));
  CHECK(has(n, "Nmap scan report for 10.235.1.2\nHost is up, received "));
  CHECK(std::regex_search(n, std::regex("# Nmap done at .* -- 1 IP address \\(1 host up\\) scanned in [0-9.]+ seconds\n$")));
  // the report block is the same text as on stdout
  auto a = r.out.find("Nmap scan report"), b = n.find("Nmap scan report");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  CHECK(n.substr(b, n.find("\n\n", b) - b) == r.out.substr(a, r.out.find("\n\n", a) - a));
  std::remove(f.c_str());
  // an unwritable file is a clear error
  r = tg.scan({"-n", "-sS", "-p", "2000", "-oN", "/nonexistent/dir/x.nmap", "10.235.1.2"});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "/nonexistent/dir/x.nmap"));
}

TEST_CASE("scan: one host on the segment is ARPed first - the report equals nmap's", "[scan][integration]") {
  Target tg;
  auto block = [](const std::string& out) {  // the report, latency figures masked
    auto a = out.find("Nmap scan report");
    auto b = out.find("\nNmap done");
    std::string s = a == std::string::npos ? "" : out.substr(a, b - a);
    s = std::regex_replace(s, std::regex("\\([0-9.]+s latency\\)"), "(Xs latency)");
    // service names come from different tables (nmap-services has more): compare
    // port, state and reason, with the columns' padding squeezed
    s = std::regex_replace(s, std::regex("([0-9]+/tcp) +(\\S+) +\\S+ +"), "$1 $2 ");
    return std::regex_replace(s, std::regex("PORT +STATE +SERVICE +REASON"), "PORT STATE REASON");
  };
  auto r = tg.scan({"-n", "-sS", "--reason", "-p", "1995-2015", "10.235.1.2"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  CHECK(std::regex_search(r.out, std::regex("Host is up, received arp-response \\([0-9.]+s latency\\)\\.\n")));
  CHECK(std::regex_search(r.out, std::regex("\nMAC Address: ([0-9A-F]{2}:){5}[0-9A-F]{2} \\(Unknown\\)\n")));
  // a missing neighbour: down after the ARP tries, without a port scan
  auto d = tg.scan({"-n", "-sS", "-p", "1-1000", "10.235.1.99"});
  CHECK(has(d.out, "Nmap done: 1 IP address (0 hosts up)"));
  if (!have_tool("nmap")) {
    WARN("nmap not installed: comparison skipped");
    return;
  }
  auto n = tg.c.exec({"nmap", "-n", "-sS", "--reason", "-p", "1995-2015", "10.235.1.2"}, {.timeout_ms = 60000});
  INFO(describe(n));
  REQUIRE(n.exit == 0);
  CHECK(block(r.out) == block(n.out));
}

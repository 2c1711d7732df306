// The dns applet (dig, drill, nslookup, host, dns resolve/bench) against real
// servers in namespaces: nsd as a fake root (10.53.0.1) and the example.test. zone
// (10.53.0.2, fd00:53::2), unbound with local-data as a pod's resolver (10.53.0.3),
// and a hostile UDP responder (10.53.0.4, spoofing from 10.53.0.5). The real dig,
// nslookup, host and getent (with a tcpdump capture) are the references.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;
using nlohmann::json;

namespace {

const std::string kData = std::string(NETSHOOT_SOURCE_DIR) + "/tests/data/dns";

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

std::string nsd_conf(const std::string& dir, const std::string& tag, const std::vector<std::string>& addrs,
                     const std::string& zone, const std::string& file) {
  std::string c = "server:\n";
  for (const auto& a : addrs) c += "  ip-address: " + a + "\n";
  c += "  port: 53\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"" + kData + "\"\n  database: \"\"\n";
  c += "  zonelistfile: \"" + dir + "/" + tag + ".zonelist\"\n  xfrdfile: \"" + dir + "/" + tag + ".xfrd\"\n";
  c += "  pidfile: \"" + dir + "/" + tag + ".pid\"\n  server-count: 1\n  nsid: \"ascii_" + tag + "\"\n";
  c += "remote-control:\n  control-enable: no\nzone:\n  name: \"" + zone + "\"\n  zonefile: \"" + file + "\"\n";
  return c;
}

// The whole lab, built once for the file (nsd and unbound start in ~100 ms each).
struct Lab {
  Netns auth{"dnsauth"};
  Netns cli{"dnscli"};
  std::string dir;
  std::unique_ptr<Background> root, child, resolver, hostile;
  bool ok = false;

  Lab() {
    if (!have_tool("nsd") || !have_tool("unbound") || !have_tool("dig")) return;
    veth_link(auth, "dnsa", "10.53.0.1/24", cli, "dnsc", "10.53.0.100/24");
    for (const char* a : {"10.53.0.2/24", "10.53.0.3/24", "10.53.0.4/24", "10.53.0.5/24"})
      auth.ip(std::string("addr add ") + a + " dev dnsa");
    auth.ip("addr add fd00:53::2/64 dev dnsa nodad");
    cli.ip("addr add fd00:53::100/64 dev dnsc nodad");
    char tmpl[] = "/tmp/netshoot-dns-XXXXXX";
    dir = ::mkdtemp(tmpl);
    write_file(dir + "/root.conf", nsd_conf(dir, "root", {"10.53.0.1"}, ".", "root.zone"));
    write_file(dir + "/child.conf", nsd_conf(dir, "child", {"10.53.0.2", "fd00:53::2"}, "example.test.", "example.test.zone"));
    write_file(dir + "/unbound.conf",
               "server:\n  interface: 10.53.0.3\n  port: 53\n  username: \"\"\n  chroot: \"\"\n  directory: \"" + dir +
                   "\"\n  pidfile: \"" + dir + "/unbound.pid\"\n  do-daemonize: no\n  use-syslog: no\n"
                   "  num-threads: 1\n  do-ip6: no\n  access-control: 0.0.0.0/0 allow\n  module-config: \"iterator\"\n"
                   "  local-zone: \".\" static\n"
                   "  local-data: \"api.example.com. 300 IN A 192.0.2.10\"\n"
                   "  local-data: \"api.example.com. 300 IN AAAA 2001:db8::10\"\n"
                   "  local-data: \"web.a.svc.cluster.local. 300 IN A 10.0.0.7\"\n"
                   "remote-control:\n  control-enable: no\n");
    write_file(dir + "/resolv.conf",
               "nameserver 10.53.0.3\nsearch a.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n");
    // the client's own resolv.conf for dig/nslookup/host without @server
    write_file(dir + "/plain-resolv.conf", "nameserver 10.53.0.2\n");
    root = std::make_unique<Background>(std::vector<std::string>{"nsd", "-d", "-c", dir + "/root.conf"}, auth.name());
    child = std::make_unique<Background>(std::vector<std::string>{"nsd", "-d", "-c", dir + "/child.conf"}, auth.name());
    resolver = std::make_unique<Background>(std::vector<std::string>{"unbound", "-d", "-c", dir + "/unbound.conf"}, auth.name());
    hostile = std::make_unique<Background>(
        std::vector<std::string>{"python3", kData + "/hostile_dns.py", "10.53.0.4", "10.53.0.5"}, auth.name());
    ok = wait_until([&] {
      return cli.exec({"dig", "@10.53.0.2", "example.test", "+short", "+tries=1", "+timeout=1"}).out.find("192.0.2.1") !=
                 std::string::npos &&
             cli.exec({"dig", "@10.53.0.1", ".", "SOA", "+short", "+tries=1", "+timeout=1"}).exit == 0 &&
             cli.exec({"dig", "@10.53.0.3", "api.example.com", "+short", "+tries=1", "+timeout=1"}).out.find("192.0.2.10") !=
                 std::string::npos &&
             cli.exec({"dig", "@10.53.0.4", "ok.test", "+short", "+tries=1", "+timeout=1"}).out.find("192.0.2.66") !=
                 std::string::npos;
    }, 15000);
  }
  ~Lab() {
    hostile.reset();
    resolver.reset();
    child.reset();
    root.reset();
    if (!dir.empty()) sh("rm -rf " + dir);
  }

  // netshoot run inside the client namespace, through the applet name.
  RunResult ns(std::vector<std::string> args, int timeout_ms = 20000) const {
    args.insert(args.begin(), netshoot_bin());
    RunOptions o;
    o.timeout_ms = timeout_ms;
    return cli.exec(args, o);
  }
};

Lab& lab() {
  static Lab l;
  return l;
}

#define REQUIRE_LAB()                                                          \
  Lab& L = lab();                                                              \
  if (!L.ok) {                                                                 \
    WARN("SKIP: nsd/unbound/dig missing or the lab did not come up");         \
    return;                                                                    \
  }

// "name ttl class type rdata" with single spaces, from dig's +noall +answer text.
std::multiset<std::string> dig_records(const std::string& text) {
  std::multiset<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == ';') continue;
    std::istringstream l(line);
    std::string name, ttl, cls, type, rest, w;
    l >> name >> ttl >> cls >> type;
    while (l >> w) rest += (rest.empty() ? "" : " ") + w;
    out.insert(name + " " + ttl + " " + cls + " " + type + " " + rest);
  }
  return out;
}

std::multiset<std::string> json_records(const json& msg) {
  std::multiset<std::string> out;
  for (const auto& rr : msg["answer"]) {
    std::istringstream l(rr["rdata"].get<std::string>());
    std::string rest, w;
    while (l >> w) rest += (rest.empty() ? "" : " ") + w;
    out.insert(rr["name"].get<std::string>() + " " + std::to_string(rr["ttl"].get<uint32_t>()) + " " +
               rr["class"].get<std::string>() + " " + rr["type"].get<std::string>() + " " + rest);
  }
  return out;
}

json first_json(const std::string& out) {
  std::istringstream in(out);
  std::string line;
  std::getline(in, line);
  return json::parse(line);
}

}  // namespace

TEST_CASE("dns: our records equal dig's for every record type, wildcard, CNAME chain, DNAME", "[dns]") {
  REQUIRE_LAB();
  const std::vector<std::pair<std::string, std::string>> queries = {
      {"example.test", "SOA"},       {"example.test", "NS"},          {"example.test", "A"},
      {"example.test", "AAAA"},      {"example.test", "MX"},          {"example.test", "TXT"},
      {"example.test", "SPF"},       {"example.test", "CAA"},         {"example.test", "HINFO"},
      {"example.test", "SSHFP"},     {"example.test", "DNSKEY"},      {"example.test", "CDNSKEY"},
      {"example.test", "CDS"},       {"example.test", "NSEC3PARAM"},  {"example.test", "HTTPS"},
      {"sub.example.test", "DS"},    {"_svc.example.test", "SVCB"},   {"svc.example.test", "SVCB"},
      {"_443._tcp.example.test", "TLSA"}, {"_sip._udp.example.test", "SRV"}, {"naptr.example.test", "NAPTR"},
      {"sig.example.test", "RRSIG"}, {"nsec.example.test", "NSEC"},
      {"null.example.test", "NULL"}, {"unknown.example.test", "TYPE65280"}, {"ptr.example.test", "PTR"},
      {"dname.example.test", "DNAME"}, {"x.dname.example.test", "A"}, {"www.example.test", "A"},
      {"anything.wild.example.test", "A"}, {"anything.wild.example.test", "TXT"}, {"big.example.test", "TXT"},
  };
  for (const auto& [name, type] : queries) {
    INFO(name << " " << type);
    auto theirs = L.cli.exec({"dig", "@10.53.0.2", name, type, "+noall", "+answer"});
    REQUIRE(theirs.exit == 0);
    auto ours = L.ns({"dig", "--json", "@10.53.0.2", name, type});
    INFO(describe(ours));
    REQUIRE(ours.exit == 0);
    json m = first_json(ours.out);
    CHECK(m["type"] == "dns_message");
    auto want = dig_records(theirs.out);
    CHECK(!want.empty());
    CHECK(json_records(m) == want);
  }
  // The text form lines up exactly with dig's too (columns, escapes).
  auto theirs = L.cli.exec({"dig", "@10.53.0.2", "www.example.test", "+noall", "+answer", "+question"});
  auto ours = L.ns({"dig", "@10.53.0.2", "www.example.test", "+noall", "+answer", "+question"});
  CHECK(ours.out == theirs.out);
}

TEST_CASE("dns: dig's full output shape, NXDOMAIN exit 0, +short, -x, IPv6 transport", "[dns]") {
  REQUIRE_LAB();
  auto normalise = [](std::string s) {
    std::string out;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(";; WHEN:", 0) == 0 || line.rfind(";; Query time:", 0) == 0 || line.rfind("; <<>>", 0) == 0) continue;
      if (auto p = line.find(", id: "); p != std::string::npos) line.resize(p);
      if (auto p = line.find("; COOKIE: "); p == 0) line = "; COOKIE";
      out += line + "\n";
    }
    return out;
  };
  for (std::vector<std::string> q : {std::vector<std::string>{"@10.53.0.2", "www.example.test", "+nsid"},
                                    {"@10.53.0.2", "nosuch.example.test"},
                                    {"@10.53.0.2", "big.example.test", "TXT"},
                                    {"@10.53.0.2", "-x", "192.0.2.1"},
                                    {"@fd00:53::2", "example.test", "MX", "+tcp"}}) {
    std::vector<std::string> real = {"dig"};
    real.insert(real.end(), q.begin(), q.end());
    std::vector<std::string> ours = {"dig"};
    ours.insert(ours.end(), q.begin(), q.end());
    auto a = L.cli.exec(real);
    auto b = L.ns(ours);
    INFO(describe(b));
    CHECK(b.exit == a.exit);
    CHECK(normalise(b.out) == normalise(a.out));
  }
  auto s = L.ns({"dig", "@10.53.0.2", "www.example.test", "+short"});
  CHECK(s.out == "web.example.test.\ncdn.example.test.\n192.0.2.80\n");
  // default server from resolv.conf (a file given explicitly)
  s = L.ns({"dig", "--resolv-conf", L.dir + "/plain-resolv.conf", "example.test", "+short"});
  CHECK(s.out == "192.0.2.1\n");
}

TEST_CASE("dns: truncation retries over TCP, +ignore keeps the TC answer", "[dns]") {
  REQUIRE_LAB();
  auto r = L.ns({"dig", "--json", "@10.53.0.2", "big.example.test", "TXT"});
  REQUIRE(r.exit == 0);
  json m = first_json(r.out);
  CHECK(m["tcp_fallback"] == true);
  CHECK(m["transport"] == "tcp");
  CHECK(m["answer"].size() == 1);
  r = L.ns({"dig", "--json", "@10.53.0.2", "big.example.test", "TXT", "+ignore"});
  m = first_json(r.out);
  CHECK(m["header"]["flags"]["tc"] == true);
  CHECK(m["transport"] == "udp");
}

TEST_CASE("dns: +trace walks from overridden root hints to the child zone", "[dns]") {
  REQUIRE_LAB();
  auto r = L.ns({"dig", "+trace", "www.example.test", "--root-hints", kData + "/root.hints"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  CHECK(r.out.find(".\t\t\t86400\tIN\tNS\ta.root.test.") != std::string::npos);
  CHECK(r.out.find("example.test.\t\t86400\tIN\tNS\tns1.example.test.") != std::string::npos);
  CHECK(r.out.find("from 10.53.0.1#53(a.root.test)") != std::string::npos);
  CHECK(r.out.find("cdn.example.test.\t300\tIN\tA\t192.0.2.80\n;; Received") != std::string::npos);
  CHECK(r.out.find("from 10.53.0.2#53(ns1.example.test)") != std::string::npos);
  // the env var works as well, and drill -T is the same walk
  RunOptions env;
  env.env = {"NETSHOOT_ROOT_HINTS=" + kData + "/root.hints"};
  auto d = L.cli.exec({netshoot_bin(), "dns", "trace", "nosuch.example.test"}, env);
  CHECK(d.exit == 0);
  CHECK(d.out.find("IN\tSOA\tns1.example.test.") != std::string::npos);
}

TEST_CASE("dns: nslookup and host print what the real ones print", "[dns]") {
  REQUIRE_LAB();
  for (std::vector<std::string> c : {std::vector<std::string>{"nslookup", "www.example.test", "10.53.0.2"},
                                    {"nslookup", "-type=mx", "example.test", "10.53.0.2"},
                                    {"nslookup", "nosuch.example.test", "10.53.0.2"},
                                    {"host", "www.example.test", "10.53.0.2"},
                                    {"host", "-t", "txt", "example.test", "10.53.0.2"},
                                    {"host", "nosuch.example.test", "10.53.0.2"},
                                    {"host", "-t", "soa", "example.test", "10.53.0.2"}}) {
    auto a = L.cli.exec(c);
    auto b = L.ns(c);
    INFO(describe(b));
    CHECK(b.exit == a.exit);
    CHECK(b.out == a.out);
  }
  // search list: nslookup/host apply it (with /etc/resolv.conf really replaced), dig does not
  write_file(L.dir + "/search-resolv.conf", "nameserver 10.53.0.3\nsearch a.svc.cluster.local\n");
  auto in_mountns = [&](const std::string& cmd) {
    return L.cli.exec({"unshare", "-m", "sh", "-c",
                       "mount --bind " + L.dir + "/search-resolv.conf /etc/resolv.conf && " + cmd});
  };
  for (std::string c : {"host web", "nslookup web", "dig web +short"}) {
    auto a = in_mountns(c);
    auto b = in_mountns(netshoot_bin() + " " + c);
    INFO(c << ": " << describe(b));
    CHECK(b.exit == a.exit);
    CHECK(b.out == a.out);
  }
  CHECK(in_mountns(netshoot_bin() + " host web").out == "web.a.svc.cluster.local has address 10.0.0.7\n");
}

TEST_CASE("dns: drill's shape, -V 5 shows the query first", "[dns]") {
  REQUIRE_LAB();
  auto r = L.ns({"drill", "-V", "5", "www.example.test", "@10.53.0.2"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  auto q = r.out.find(";; flags: rd ; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 0 \n");
  auto a = r.out.find(";; flags: qr aa rd ; QUERY: 1, ANSWER: 3, AUTHORITY: 1, ADDITIONAL: 1 \n");
  CHECK(q != std::string::npos);
  CHECK(a != std::string::npos);
  CHECK(q < a);
  CHECK(r.out.find(";; MSG SIZE  rcvd: 0\n") != std::string::npos);
  if (have_tool("drill")) {
    auto theirs = L.cli.exec({"drill", "www.example.test", "@10.53.0.2"});
    auto body = [](const std::string& s) { return s.substr(s.find(";; QUESTION SECTION:"), s.find(";; Query time") - s.find(";; QUESTION SECTION:")); };
    auto ours = L.ns({"drill", "www.example.test", "@10.53.0.2"});
    CHECK(body(ours.out) == body(theirs.out));
  }
}

TEST_CASE("dns resolve: the queries glibc sends with ndots:5 and a search list, and the diagnosis", "[dns]") {
  REQUIRE_LAB();
  if (!have_tool("tcpdump") || !have_tool("tshark") || !have_tool("unshare")) {
    WARN("SKIP: tcpdump/tshark/unshare missing");
    return;
  }
  // Debian's own resolver (getent → glibc) in a mount namespace where our resolv.conf is /etc/resolv.conf.
  std::string pcap = L.dir + "/glibc.pcap";
  {
    Background cap({"tcpdump", "-i", "dnsa", "-Z", "root", "--immediate-mode", "-U", "-n", "-w", pcap, "udp port 53 and dst host 10.53.0.3"}, L.auth.name());
    REQUIRE(wait_until([&] { struct stat st {}; return ::stat(pcap.c_str(), &st) == 0; }, 5000));
    ::usleep(300000);
    auto g = L.cli.exec({"unshare", "-m", "sh", "-c",
                         "mount --bind " + L.dir + "/resolv.conf /etc/resolv.conf && getent ahosts api.example.com"});
    INFO(describe(g));
    CHECK(g.out.find("192.0.2.10") != std::string::npos);
    ::usleep(300000);
    cap.stop();
  }
  auto t = run({"tshark", "-r", pcap, "-T", "fields", "-e", "dns.qry.name", "-e", "dns.qry.type"});
  INFO("tshark: " << describe(t));
  std::vector<std::string> glibc;
  std::istringstream in(t.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    std::replace(line.begin(), line.end(), '\t', ' ');
    glibc.push_back(line);
  }
  REQUIRE(glibc.size() == 8);

  // Ours, in the same kind of mount namespace (the real /etc/resolv.conf path).
  auto r = L.cli.exec({"unshare", "-m", "sh", "-c",
                       "mount --bind " + L.dir + "/resolv.conf /etc/resolv.conf && " + netshoot_bin() +
                           " dns resolve --json api.example.com"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  std::vector<std::string> ours;
  json summary;
  std::istringstream jin(r.out);
  for (std::string line; std::getline(jin, line);) {
    json j = json::parse(line);
    if (j["type"] == "dns_query") {
      std::string name = j["name"];
      name.pop_back();  // tshark prints names without the trailing dot
      ours.push_back(name + " " + (j["qtype"] == "A" ? "1" : j["qtype"] == "AAAA" ? "28" : "?"));
    } else if (j["type"] == "dns_resolve") {
      summary = j;
    }
  }
  CHECK(ours == glibc);
  CHECK(summary["addresses"] == json::array({"192.0.2.10", "2001:db8::10"}));
  CHECK(summary["diagnosis"] ==
        "6 of 8 queries were NXDOMAIN search-list candidates: ndots:5 makes 'api.example.com' (2 dots) try the "
        "search list first; use a trailing dot or lower ndots");
  // The text form, and a trailing dot costs no extra query.
  auto txt = L.ns({"dns", "resolve", "--resolv-conf", L.dir + "/resolv.conf", "api.example.com."});
  CHECK(txt.exit == 0);
  CHECK(txt.out.find("diagnosis") == std::string::npos);
  CHECK(txt.out.find("-> 192.0.2.10 2001:db8::10") != std::string::npos);
}

TEST_CASE("dns: a hostile server gives clear errors and exit 9, never a crash or a hang", "[dns]") {
  REQUIRE_LAB();
  auto t0 = std::chrono::steady_clock::now();
  for (const char* name : {"loop.test", "past.test", "longlabel.test", "trunc.test", "garbage.test"}) {
    auto r = L.ns({"dig", "@10.53.0.4", name, "+tries=2", "+timeout=2"});
    INFO(name << ": " << describe(r));
    CHECK(r.exit == 9);
    CHECK(r.out.find("malformed DNS message") != std::string::npos);
  }
  for (const char* name : {"wrongid.test", "wrongsrc.test", "silent.test"}) {
    auto r = L.ns({"dig", "@10.53.0.4", name, "+tries=1", "+timeout=1"});
    INFO(name << ": " << describe(r));
    CHECK(r.exit == 9);
    CHECK(r.out.find(";; no servers could be reached") != std::string::npos);
    CHECK(r.out.find("timed out") != std::string::npos);
  }
  auto sf = L.ns({"dig", "@10.53.0.4", "servfail.test"});
  CHECK(sf.exit == 0);
  CHECK(sf.out.find("status: SERVFAIL") != std::string::npos);
  auto hs = L.ns({"host", "servfail.test", "10.53.0.4"});
  CHECK(hs.exit == 1);
  CHECK(hs.out.find("Host servfail.test not found: 2(SERVFAIL)") != std::string::npos);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(secs < 15);
  // usage errors
  auto u = L.ns({"dig", "+bogus"});
  CHECK(u.exit == 1);
  CHECK(u.err.find("invalid option: +bogus") != std::string::npos);
}

TEST_CASE("dns bench and dig -f: many queries in flight", "[dns]") {
  REQUIRE_LAB();
  write_file(L.dir + "/names.txt", "api.example.com A\napi.example.com AAAA\nnope.example.com A\n");
  auto r = L.ns({"dns", "bench", "--json", "-s", "10.53.0.3", "-d", L.dir + "/names.txt", "-n", "3000", "-c", "50"});
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  json j = first_json(r.out);
  CHECK(j["sent"] == 3000);
  CHECK(j["completed"] == 3000);
  CHECK(j["rcodes"]["NOERROR"] == 2000);
  CHECK(j["rcodes"]["NXDOMAIN"] == 1000);
  CHECK(j["qps"].get<double>() > 100);
  r = L.ns({"dns", "bench", "-s", "10.53.0.3", "-d", L.dir + "/names.txt", "-l", "1", "-Q", "200"});
  CHECK(r.exit == 0);
  CHECK(r.out.find("Queries per second:") != std::string::npos);

  write_file(L.dir + "/batch.txt", "www.example.test\nexample.test MX\nnosuch.example.test\ncdn.example.test AAAA\n");
  r = L.ns({"dig", "@10.53.0.2", "-f", L.dir + "/batch.txt", "+short"});
  CHECK(r.exit == 0);
  CHECK(r.out == "web.example.test.\ncdn.example.test.\n192.0.2.80\n10 mail.example.test.\n20 mail2.example.test.\n2001:db8::80\n");
}

// tcpdump / ngrep: our decoder's output against the real tcpdump on the same pcap,
// live capture in namespaces, -w files read back by tshark, signals, bad input.
// One recording (real TCP/UDP/ICMP/ICMPv6/ARP/DNS and VXLAN traffic) is made once.
#include <sys/mount.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;

namespace {

bool has(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

size_t lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

std::string tmpdir() {
  static std::string d = [] {
    char t[] = "/tmp/capture-it.XXXXXX";
    return std::string(mkdtemp(t));
  }();
  return d;
}

struct Topo {
  Netns a{"cap-a"}, b{"cap-b"};
  std::string pcap = tmpdir() + "/mixed.pcap";
  std::string any_pcap = tmpdir() + "/any.pcap";
  Topo() {
    veth_link(a, "ca0", "10.241.0.1/24", b, "cb0", "10.241.0.2/24");
    a.ip("addr add fd41::1/64 dev ca0 nodad");
    b.ip("addr add fd41::2/64 dev cb0 nodad");
    a.ip("link add vx0 type vxlan id 42 remote 10.241.0.2 dstport 4789 dev ca0");
    b.ip("link add vx0 type vxlan id 42 remote 10.241.0.1 dstport 4789 dev cb0");
    a.ip("addr add 10.242.0.1/24 dev vx0");
    b.ip("addr add 10.242.0.2/24 dev vx0");
    a.ip("link set vx0 up");
    b.ip("link set vx0 up");
  }
  ~Topo() { std::filesystem::remove_all(tmpdir()); }
  void traffic() {
    a.exec({"ping", "-c", "2", "-i", "0.2", "10.241.0.2"});
    a.exec({"ping", "-c", "1", "-s", "2000", "10.241.0.2"});
    a.exec({"ping", "-6", "-c", "2", "-i", "0.2", "fd41::2"});
    a.exec({"ping", "-c", "2", "-i", "0.2", "10.242.0.2"});
    // IPv4 options: record route and both timestamp kinds.
    a.exec({"ping", "-c", "1", "-R", "10.241.0.2"});
    a.exec({"ping", "-c", "1", "-T", "tsonly", "10.241.0.2"});
    a.exec({"ping", "-c", "1", "-T", "tsandaddr", "10.241.0.2"});
    // HTTP on port 80 (request and response lines, headers, a body without CRLF).
    Background web({"python3", "-c", R"(import socket
s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
s.bind(('0.0.0.0',80));s.listen()
c,_=s.accept();d=c.recv(65536)
c.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');c.close())"},
                   b.name());
    wait_until([&] { return b.exec({"ss", "-ltn", "sport = :80"}).out.find(":80") != std::string::npos; });
    a.exec({"python3", "-c", R"(import socket
s=socket.create_connection(('10.241.0.2',80))
s.sendall(b'GET /index.html HTTP/1.1\r\nHost: cap-b\r\nUser-Agent: t\r\n\r\n')
while s.recv(65536): pass
s.close())"});
    Background srv({"python3", "-c",
                    "import socket\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                    "s.bind(('0.0.0.0',9999));s.listen()\nc,_=s.accept();d=c.recv(65536)\n"
                    "c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\n'+b'x'*3000);c.close()"},
                   b.name());
    wait_until([&] { return b.exec({"ss", "-ltn", "sport = :9999"}).out.find("9999") != std::string::npos; });
    a.exec({"python3", "-c",
            "import socket,struct\ns=socket.create_connection(('10.241.0.2',9999))\n"
            "s.sendall(b'GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n'+bytes(range(256)))\n"
            "while s.recv(65536): pass\ns.close()\n"
            "u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.sendto(b'hello udp',('10.241.0.2',5000))\n"
            "u6=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);u6.sendto(b'hello udp6',('fd41::2',5000))\n"
            "q=struct.pack('>HHHHHH',0x1234,0x0100,1,0,0,0)+b'\\x07example\\x03com\\x00'+struct.pack('>HH',1,1)\n"
            "u.sendto(q,('10.241.0.2',53))\n"
            "r=struct.pack('>HHHHHH',0x1234,0x8180,1,1,0,0)+b'\\x07example\\x03com\\x00'+struct.pack('>HH',1,1)"
            "+b'\\xc0\\x0c'+struct.pack('>HHIH',1,1,300,4)+bytes([93,184,216,34])\n"
            "v=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);v.bind(('10.241.0.1',53));v.sendto(r,('10.241.0.2',40000))\n"});
    // DNS at -v/-vv/-vvv: an EDNS query with a cookie, an answer with many record
    // types plus authority and additional sections, an NXDOMAIN with its SOA.
    a.exec({"python3", "-c", R"(import socket,struct
def name(n): return b''.join(bytes([len(p)])+p.encode() for p in n.split('.') if p)+b'\0'
def rr(n,t,d,ttl=300): return name(n)+struct.pack('>HHIH',t,1,ttl,len(d))+d
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
opt=b'\0'+struct.pack('>HHIH',41,1232,0x8000,12)+struct.pack('>HH',10,8)+b'cookie01'
u.sendto(struct.pack('>6H',0x2222,0x0120,1,0,0,1)+name('example.com')+struct.pack('>HH',255,1)+opt,('10.241.0.2',53))
an=[rr('example.com',1,bytes([93,184,216,34])),rr('example.com',28,bytes.fromhex('26062800022000010248189325c81946')),
    rr('example.com',15,struct.pack('>H',10)+name('mail.example.com')),rr('example.com',16,b'\x0bhello world\x03foo'),
    rr('www.example.com',5,name('alias.example.net'),ttl=90061),rr('example.com',2,name('ns1.example.com'),ttl=3600),
    rr('_sip._udp.example.com',33,struct.pack('>HHH',1,2,5060)+name('sip.example.com')),
    rr('34.216.184.93.in-addr.arpa',12,name('host.example.com')),rr('example.com',65,b'\x00\x01\x00',ttl=60)]
soa=rr('example.com',6,name('ns1.example.com')+name('hostmaster.example.com')+struct.pack('>5I',2024010101,7200,3600,1209600,300),ttl=3600)
ar=[rr('ns1.example.com',1,bytes([192,0,2,53])),b'\0'+struct.pack('>HHIH',41,1232,0,0)]
v=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);v.bind(('10.241.0.1',53))
v.sendto(struct.pack('>6H',0x2222,0x85a0,1,len(an),1,len(ar))+name('example.com')+struct.pack('>HH',255,1)+b''.join(an)+soa+b''.join(ar),('10.241.0.2',40000))
v.sendto(struct.pack('>6H',0x3333,0x8183,1,0,1,0)+name('nope.example.com')+struct.pack('>HH',1,1)+soa,('10.241.0.2',40001)))"});
  }
};

Topo& recorded() {
  static std::unique_ptr<Topo> t = [] {
    auto p = std::make_unique<Topo>();
    Background td({"tcpdump", "--immediate-mode", "-i", "ca0", "-U", "-w", p->pcap}, p->a.name());
    Background ta({"tcpdump", "--immediate-mode", "-i", "any", "-U", "-w", p->any_pcap}, p->a.name());
    // Traffic starts only once both captures are open (a fixed sleep lost the
    // first packets, the ARP request among them, on a loaded machine).
    wait_until([&] {
      return td.output().find("listening on") != std::string::npos &&
             ta.output().find("listening on") != std::string::npos;
    }, 10000);
    usleep(100000);
    p->traffic();
    usleep(300000);
    ::kill(td.pid(), SIGINT), ::kill(ta.pid(), SIGINT);
    wait_until([&] { return !td.running() && !ta.running(); });
    return p;
  }();
  return *t;
}

void same_as_tcpdump(const std::string& file, const std::vector<std::string>& flags) {
  std::vector<std::string> t{"tcpdump"}, n{"tcpdump"};
  t.insert(t.end(), flags.begin(), flags.end()), n.insert(n.end(), flags.begin(), flags.end());
  t.insert(t.end(), {"-r", file}), n.insert(n.end(), {"-r", file});
  auto rt = run(t);
  auto rn = run_netshoot(n);
  INFO("flags: " << [&] { std::string s; for (auto& f : flags) s += f + " "; return s; }());
  REQUIRE(rt.exit == 0);
  REQUIRE(rn.exit == 0);
  CHECK(lines(rn.out) == lines(rt.out));
  std::istringstream a(rt.out), b(rn.out);
  std::string la, lb;
  int diffs = 0;
  while (std::getline(a, la) && std::getline(b, lb)) {
    if (la != lb && diffs++ < 5) {
      INFO("tcpdump:  " << la << "\nnetshoot: " << lb);
      CHECK(la == lb);
    }
  }
  CHECK(diffs == 0);
  CHECK(rn.err == rt.err);  // the "reading from file ..." banner
}

}  // namespace

TEST_CASE("capture: -r output equals tcpdump's, line for line", "[capture][integration]") {
  Topo& t = recorded();
  auto n = run({"tcpdump", "-nn", "-r", t.pcap});
  REQUIRE(lines(n.out) > 30);
  CHECK(has(n.out, "VXLAN, flags [I] (0x08), vni 42"));
  CHECK(has(n.out, "ARP, Request who-has"));
  CHECK(has(n.out, "A? example.com."));
  // The -v details this recording is there for: tcpdump prints them, so must we.
  auto v = run({"tcpdump", "-nn", "-vv", "-r", t.pcap});
  CHECK(has(v.out, "options (NOP,RR 10.241.0.1,"));
  CHECK(has(v.out, "options (timestamp TS{TSONLY"));
  CHECK(has(v.out, "TS{TS+ADDR"));
  CHECK(has(v.out, "HTTP, length: "));
  CHECK(has(v.out, "\tGET /index.html HTTP/1.1\n\tHost: cap-b\n"));
  CHECK(has(v.out, "\thello [|http]"));
  CHECK(has(v.out, "ar: . OPT UDPsize=1232 DO [COOKIE 636f6f6b69653031]"));
  CHECK(has(v.out, "ns: example.com. SOA ns1.example.com. hostmaster.example.com. 2024010101"));
  CHECK(has(v.out, "MX mail.example.com. 10"));
  for (auto flags : std::vector<std::vector<std::string>>{
           {"-nn"}, {"-nn", "-v"}, {"-nn", "-vv"}, {"-nn", "-e"}, {"-nn", "-x"}, {"-nn", "-X"},
           {"-nn", "-XX"}, {"-nn", "-A"}, {"-nn", "-q"}, {"-nn", "-tt"}, {"-nn", "-ttt"}, {"-n"},
           {"-nn", "-vvv"}, {"-nn", "-e", "-vv"}})
    same_as_tcpdump(t.pcap, flags);
  // -i any: Linux cooked v2 with interface names (resolved in the recording's namespace).
  for (auto flags : std::vector<std::vector<std::string>>{{"-nn"}, {"-nn", "-e"}, {"-nn", "-v"}}) {
    std::vector<std::string> tn{"tcpdump"}, nn{netshoot_bin(), "tcpdump"};
    tn.insert(tn.end(), flags.begin(), flags.end()), nn.insert(nn.end(), flags.begin(), flags.end());
    tn.insert(tn.end(), {"-r", t.any_pcap}), nn.insert(nn.end(), {"-r", t.any_pcap});
    auto rt = t.a.exec(tn), rn = t.a.exec(nn);
    CHECK(rn.exit == 0);
    CHECK(rn.out == rt.out);
  }
  // A filter on a file, with a port name resolved by our services table.
  auto rt = run({"tcpdump", "-nn", "-r", t.pcap, "udp port 53"});
  auto rn = run_netshoot({"tcpdump", "-nn", "-r", t.pcap, "udp", "port", "domain"});
  CHECK(rn.exit == 0);
  CHECK(rn.out == rt.out);
  CHECK(lines(rn.out) == 5);  // the query and response of the first exchange, then three of the second
}

TEST_CASE("capture: --json, --grep and ngrep on a file", "[capture][integration]") {
  Topo& t = recorded();
  auto j = run_netshoot({"tcpdump", "--json", "-nn", "-r", t.pcap});
  REQUIRE(j.exit == 0);
  auto text = run_netshoot({"tcpdump", "-nn", "-r", t.pcap});
  // The text output as one record per packet (a tunnel's inner line continues its
  // packet): each starts with its "HH:MM:SS.uuuuuu " timestamp.
  std::vector<std::string> records;
  {
    std::istringstream tin(text.out);
    std::string tl;
    while (std::getline(tin, tl)) {
      bool ts = tl.size() > 16 && tl[2] == ':' && tl[5] == ':' && tl[8] == '.' && tl[15] == ' ';
      if (ts) records.push_back(tl.substr(16));
      else if (!records.empty()) records.back() += "\n" + tl;
    }
  }
  CHECK(lines(j.out) == records.size());  // one object per packet
  // Every object has the documented schema; layers are outermost first.
  std::istringstream in(j.out);
  std::string l;
  size_t k = 0;
  int tcp = 0, vxlan_inner = 0, dns = 0, quoted = 0;
  while (std::getline(in, l) && k < records.size()) {
    std::string tl = records[k++];
    auto o = nlohmann::json::parse(l);
    CHECK(o["type"] == "packet");
    CHECK(o["time"].is_number());
    CHECK(o["caplen"].is_number_unsigned());
    CHECK(o["len"].is_number_unsigned());
    REQUIRE(o["layers"].is_array());
    REQUIRE(!o["layers"].empty());
    CHECK(o["layers"][0]["layer"] == "ethernet");
    CHECK(tl == o["summary"].get<std::string>());  // the text record without its timestamp
    std::vector<std::string> names;
    for (auto& x : o["layers"]) names.push_back(x["layer"]);
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "tcp") {
        ++tcp;
        CHECK(i >= 2);
        CHECK((names[i - 1] == "ipv4" || names[i - 1] == "ipv6"));
        CHECK(o["layers"][i]["sport"].is_number());
        CHECK(o["layers"][i]["flags"].is_string());
      }
      if (names[i] == "vxlan") {
        REQUIRE(i + 2 < names.size());
        CHECK(o["layers"][i]["vni"] == 42);
        CHECK(names[i + 1] == "ethernet");
        CHECK((names[i + 2] == "ipv4" || names[i + 2] == "ipv6" || names[i + 2] == "arp"));
        ++vxlan_inner;
      }
      if (names[i] == "dns" && o["layers"][i]["qr"] == true && !o["layers"][i]["answers"].empty()) {
        CHECK(o["layers"][i]["questions"][0]["name"] == "example.com");
        CHECK(o["layers"][i]["answers"][0]["type"] == "A");
        CHECK(o["layers"][i]["answers"][0]["data"] == "93.184.216.34");
        ++dns;
      }
      if (names[i] == "icmp" && o["layers"][i].contains("quoted")) {
        CHECK(o["layers"][i]["quoted"][0]["layer"] == "ipv4");
        ++quoted;
      }
    }
  }
  CHECK(tcp > 10);
  CHECK(vxlan_inner >= 4);
  CHECK(dns >= 2);
  CHECK(quoted >= 1);
  // jq agrees the stream is JSON and sees the ipv4 source of the first ICMP echo.
  if (have_tool("jq")) {
    auto q = sh("'" + netshoot_bin() + "' tcpdump --json -nn -r " + t.pcap +
                " icmp | jq -r 'select(.layers[2].type == 8) | .layers[1].src' | head -1");
    CHECK(q.out == "10.241.0.1\n");
  }
  auto g = run_netshoot({"tcpdump", "-nn", "-r", t.pcap, "--grep", "HTTP/1\\.0 200"});
  CHECK(g.exit == 0);
  CHECK(lines(g.out) == 1);
  CHECK(has(g.out, "10.241.0.2.9999 > 10.241.0.1."));
  auto ng = run_netshoot({"ngrep", "-q", "-W", "byline", "-I", t.pcap, "GET /", "tcp"});
  CHECK(ng.exit == 0);
  CHECK(has(ng.out, "T 10.241.0.1:"));
  CHECK(has(ng.out, "-> 10.241.0.2:9999 [AP]"));
  CHECK(has(ng.out, "GET / HTTP/1.0.\nHost: x."));
}

TEST_CASE("capture: live -c N, -w read back by tshark, SIGINT leaves a complete file", "[capture][integration]") {
  Topo& t = recorded();
  Background pinger({"ping", "-i", "0.05", "10.241.0.2"}, t.a.name());
  // -c 5 stops after exactly five packets.
  auto r = t.a.exec({netshoot_bin(), "tcpdump", "-i", "ca0", "-nn", "-c", "5", "icmp"}, {.timeout_ms = 10000});
  CHECK(r.exit == 0);
  CHECK(lines(r.out) == 5);
  CHECK(has(r.err, "listening on ca0, link-type EN10MB (Ethernet), snapshot length 262144 bytes"));
  CHECK(has(r.err, "5 packets captured"));
  std::string f = tmpdir() + "/live.pcap";
  r = t.a.exec({netshoot_bin(), "tcpdump", "-i", "ca0", "-c", "7", "-w", f, "icmp"}, {.timeout_ms = 10000});
  CHECK(r.exit == 0);
  if (have_tool("tshark")) {
    auto ts = sh("tshark -r " + f + " 2>/dev/null | wc -l");
    CHECK(std::stoi(ts.out) == 7);
  }
  // SIGINT mid-capture: counts on stderr, the file complete and readable.
  std::string g = tmpdir() + "/sigint.pcap";
  Background cap({netshoot_bin(), "tcpdump", "-i", "ca0", "-w", g}, t.a.name());
  usleep(1200000);
  ::kill(cap.pid(), SIGINT);
  REQUIRE(wait_until([&] { return !cap.running(); }, 5000));
  CHECK(has(cap.output(), "packets captured"));
  CHECK(has(cap.output(), "packets received by filter"));
  CHECK(has(cap.output(), "packets dropped by kernel"));
  auto rd = run({"tcpdump", "-nn", "-r", g});
  CHECK(rd.exit == 0);
  CHECK(lines(rd.out) >= 10);
  if (have_tool("tshark")) CHECK(sh("tshark -r " + g + " >/dev/null 2>&1").exit == 0);
  // -i any: SLL2 lines with interface names.
  r = t.a.exec({netshoot_bin(), "tcpdump", "-i", "any", "-nn", "-c", "2", "icmp"}, {.timeout_ms = 10000});
  CHECK(r.exit == 0);
  CHECK(has(r.out, "ca0   Out IP 10.241.0.1 > 10.241.0.2: ICMP echo request"));
}

TEST_CASE("capture: bad input and errors", "[capture][integration]") {
  Topo& t = recorded();
  std::string d = tmpdir();
  // Truncated pcap: the packets before the cut, then libpcap's message, exit 1.
  sh("head -c 3000 " + t.pcap + " > " + d + "/trunc.pcap");
  auto r = run_netshoot({"tcpdump", "-nn", "-r", d + "/trunc.pcap"});
  CHECK(r.exit == 1);
  CHECK(lines(r.out) >= 3);
  CHECK(has(r.err, "truncated dump file"));
  // Garbage header.
  sh("head -c 200 /dev/urandom > " + d + "/garbage.pcap");
  r = run_netshoot({"tcpdump", "-r", d + "/garbage.pcap"});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "unknown file format"));
  // Unknown interface.
  r = t.a.exec({netshoot_bin(), "tcpdump", "-i", "eth9"});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "tcpdump: eth9: No such device exists"));
  // Bad filter: libpcap's message.
  r = run_netshoot({"tcpdump", "-r", t.pcap, "tcp", "port"});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "can't parse filter expression: syntax error"));
  // Full disk on -w: a clear error, and what was written stays readable.
  std::string mnt = d + "/tiny";
  sh("mkdir -p " + mnt);
  REQUIRE(::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") == 0);
  // Live traffic of ~1.4 kB packets fills the 64k filesystem after ~45 of 400.
  Background pinger({"ping", "-i", "0.01", "-s", "1400", "10.241.0.2"}, t.a.name());
  r = t.a.exec({netshoot_bin(), "tcpdump", "-i", "ca0", "-c", "400", "-w", mnt + "/full.pcap"}, {.timeout_ms = 20000});
  CHECK(r.exit == 1);
  CHECK(has(r.err, "No space left on device"));
  auto rd = run({"tcpdump", "-nn", "-r", mnt + "/full.pcap"});
  CHECK(rd.exit == 0);
  CHECK(lines(rd.out) > 10);
  ::umount(mnt.c_str());
}

TEST_CASE("capture: without -n, host and port names equal tcpdump's (hosts file, then PTR)", "[capture][integration]") {
  if (!have_tool("dnsmasq") || !have_tool("unshare")) {
    WARN("SKIP: needs dnsmasq and unshare");
    return;
  }
  Topo& t = recorded();
  std::string d = tmpdir();
  {
    std::ofstream h(d + "/hosts");
    h << "127.0.0.1 localhost\n10.241.0.1 alpha.test alpha\nfd41::2 beta6.test\n";
    std::ofstream r(d + "/resolv.conf");
    r << "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n";
  }
  // A DNS server inside the namespace: PTR (and A) records for two addresses the
  // hosts file does not name; everything else gets no name.
  Background dns({"dnsmasq", "-k", "-C", "/dev/null", "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1",
                  "--bind-interfaces", "--port=53", "--user=root", "--pid-file=",
                  "--host-record=beta.dns.test,10.241.0.2", "--host-record=inner.dns.test,10.242.0.2"},
                 t.a.name());
  REQUIRE(wait_until([&] { return t.a.exec({"ss", "-lun", "sport = :53"}).out.find("127.0.0.1:53") != std::string::npos; }));
  for (auto flags : std::vector<std::vector<std::string>>{{}, {"-v"}, {"-e"}, {"-N"}, {"-vv", "-e"}}) {
    std::vector<std::string> tn{"tcpdump"}, nn{netshoot_bin(), "tcpdump"};
    tn.insert(tn.end(), flags.begin(), flags.end()), nn.insert(nn.end(), flags.begin(), flags.end());
    tn.insert(tn.end(), {"-r", t.pcap}), nn.insert(nn.end(), {"-r", t.pcap});
    auto rt = run_with_files(t.a.name(), d + "/hosts", d + "/resolv.conf", tn);
    auto rn = run_with_files(t.a.name(), d + "/hosts", d + "/resolv.conf", nn);
    INFO("flags: " << (flags.empty() ? std::string("(none)") : flags[0]));
    REQUIRE(rt.exit == 0);
    REQUIRE(rn.exit == 0);
    CHECK(lines(rn.out) == lines(rt.out));
    std::istringstream a(rt.out), b(rn.out);
    std::string la, lb;
    int diffs = 0;
    while (std::getline(a, la) && std::getline(b, lb)) {
      if (la != lb && diffs++ < 5) {
        INFO("tcpdump:  " << la << "\nnetshoot: " << lb);
        CHECK(la == lb);
      }
    }
    CHECK(diffs == 0);
    if (flags.empty()) {
      // Names from both sources and port names really appear (the comparison
      // above would also pass if both printed numbers).
      CHECK(has(rn.out, "IP alpha.test > beta.dns.test: ICMP echo request"));
      CHECK(has(rn.out, "beta.dns.test.http > alpha.test."));
      CHECK(has(rn.out, "IP6 fd41::1 > beta6.test: ICMP6, echo request"));
      CHECK(has(rn.out, ".domain: "));
      CHECK(has(rn.out, "inner.dns.test"));
    }
  }
  // Names in the filter go through our resolver: a hosts name and a DNS name.
  for (std::string host : {"alpha.test", "beta.dns.test"}) {
    auto rt = run({"tcpdump", "-nn", "-r", t.pcap, "icmp and host " + std::string(host == "alpha.test" ? "10.241.0.1" : "10.241.0.2")});
    auto rn = run_with_files(t.a.name(), d + "/hosts", d + "/resolv.conf",
                             {netshoot_bin(), "tcpdump", "-nn", "-r", t.pcap, "icmp", "and", "host", host});
    CHECK(rn.exit == 0);
    CHECK(lines(rn.out) >= 4);
    CHECK(rn.out == rt.out);
  }
  auto bad = run_with_files(t.a.name(), d + "/hosts", d + "/resolv.conf",
                            {netshoot_bin(), "tcpdump", "-nn", "-r", t.pcap, "host", "nosuch.test"});
  CHECK(bad.exit == 1);
  CHECK(has(bad.err, "tcpdump: unknown host 'nosuch.test'"));
  CHECK(lines(bad.err) == 1);
}

namespace {

// name → (packets, bytes) of every regular file in dir.
std::map<std::string, std::pair<long, long>> pcap_files(const std::string& dir) {
  std::map<std::string, std::pair<long, long>> m;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    auto r = run({"tcpdump", "-r", e.path().string()});
    long n = r.exit == 0 ? long(lines(r.out)) : -1;
    m[e.path().filename().string()] = {n, long(e.file_size())};
  }
  return m;
}

}  // namespace

TEST_CASE("capture: -C/-W/-G rotation names and counts equal tcpdump's", "[capture][integration]") {
  std::string d = tmpdir() + "/rot";
  // A 3.5 MB input: 2500 frames of 1400 bytes, written by tcpdump from our own
  // recording's first ICMP echo request made bigger (any valid frames would do).
  std::filesystem::create_directories(d);
  std::string big = d + "/../big.pcap";
  {
    std::ofstream f(big, std::ios::binary);
    auto put32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
    auto put16 = [&](uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
    put32(0xa1b2c3d4), put16(2), put16(4), put32(0), put32(0), put32(262144), put32(1);
    for (uint32_t i = 0; i < 2500; ++i) {
      std::string fr(1400, '\0');
      const unsigned char hdr[] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5};  // local experimental ethertype
      std::memcpy(fr.data(), hdr, sizeof hdr);
      put32(1700000000 + i / 100), put32(i % 100 * 10000), put32(uint32_t(fr.size())), put32(uint32_t(fr.size()));
      f.write(fr.data(), std::streamsize(fr.size()));
    }
  }
  for (auto flags : std::vector<std::vector<std::string>>{{"-C", "1"}, {"-C", "1", "-W", "3"}, {"-C", "2", "-W", "12"}}) {
    std::string td = d + "/t", nd = d + "/n";
    std::filesystem::remove_all(td), std::filesystem::remove_all(nd);
    std::filesystem::create_directories(td), std::filesystem::create_directories(nd);
    // -Z root: tcpdump opens the later files after dropping to its own user otherwise.
    std::vector<std::string> ta{"tcpdump", "-Z", "root", "-r", big, "-w", td + "/f"},
        na{"tcpdump", "-Z", "root", "-r", big, "-w", nd + "/f"};
    ta.insert(ta.end(), flags.begin(), flags.end()), na.insert(na.end(), flags.begin(), flags.end());
    auto rt = run(ta);
    auto rn = run_netshoot(na);
    INFO("flags: " << flags[0] << " " << flags[1] << (flags.size() > 2 ? " " + flags[2] + " " + flags[3] : ""));
    REQUIRE(rt.exit == 0);
    CHECK(rn.exit == 0);
    auto ft = pcap_files(td), fn = pcap_files(nd);
    CHECK(ft.size() >= 2);
    CHECK(fn == ft);  // same names, same packet counts, same sizes
    for (auto& [name, v] : fn) {
      CHECK(v.first > 0);
      if (have_tool("tshark")) CHECK(sh("tshark -r " + nd + "/" + name + " >/dev/null 2>&1").exit == 0);
    }
  }
  // -G with -W: time-based names from strftime, and the capture ends by itself after
  // W files, like tcpdump's. Live, on a link carrying pings.
  Topo& t = recorded();
  Background pinger({"ping", "-i", "0.05", "10.241.0.2"}, t.a.name());
  std::string td = d + "/gt", nd = d + "/gn";
  std::filesystem::create_directories(td), std::filesystem::create_directories(nd);
  Background tg({"tcpdump", "-Z", "root", "-i", "ca0", "-G", "1", "-W", "3", "-w", td + "/g-%Y%m%d-%H%M%S.pcap", "icmp"}, t.a.name());
  Background ng({netshoot_bin(), "tcpdump", "-i", "ca0", "-G", "1", "-W", "3", "-w", nd + "/g-%Y%m%d-%H%M%S.pcap", "icmp"}, t.a.name());
  CHECK(wait_until([&] { return !tg.running() && !ng.running(); }, 15000));
  auto ft = pcap_files(td), fn = pcap_files(nd);
  CHECK(ft.size() == 3);
  CHECK(fn.size() == ft.size());
  bool first = true;
  for (auto& [name, v] : fn) {
    CHECK(name.size() == std::string("g-20260101-000000.pcap").size());
    CHECK(name.starts_with("g-20"));
    // Files rotate on the first packet of a new -G period (whole seconds, as tcpdump
    // counts them), so the first file may end empty when the capture opened it in the
    // last few ms of a second; every later file starts with the packet that opened it.
    if (!first) CHECK(v.first > 0);
    first = false;
    if (have_tool("tshark")) CHECK(sh("tshark -r " + nd + "/" + name + " >/dev/null 2>&1").exit == 0);
  }
}

TEST_CASE("capture: -B sets the kernel buffer; bad values are usage errors", "[capture][integration]") {
  Topo& t = recorded();
  Background pinger({"ping", "-i", "0.05", "10.241.0.2"}, t.a.name());
  auto r = t.a.exec({netshoot_bin(), "tcpdump", "-B", "64", "-i", "ca0", "-nn", "-c", "3", "icmp"},
                    {.timeout_ms = 10000});
  CHECK(r.exit == 0);
  CHECK(lines(r.out) == 3);
  for (const char* bad : {"0", "-5", "x", "99999999999"}) {
    auto b = run_netshoot({"tcpdump", "-B", bad, "-r", t.pcap});
    CHECK(b.exit == 2);
    CHECK(has(b.err, std::string("invalid buffer size ") + bad));
  }
}

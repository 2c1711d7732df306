// tcpdump / ngrep: our decoder's output against the real tcpdump on the same pcap,
// live capture in namespaces, -w files read back by tshark, signals, bad input.
// One recording (real TCP/UDP/ICMP/ICMPv6/ARP/DNS and VXLAN traffic) is made once.
#include <sys/mount.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
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
  for (auto flags : std::vector<std::vector<std::string>>{
           {"-nn"}, {"-nn", "-v"}, {"-nn", "-vv"}, {"-nn", "-e"}, {"-nn", "-x"}, {"-nn", "-X"},
           {"-nn", "-XX"}, {"-nn", "-A"}, {"-nn", "-q"}, {"-nn", "-tt"}, {"-nn", "-ttt"}, {"-n"}})
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
  CHECK(lines(rn.out) == 2);
}

TEST_CASE("capture: --json, --grep and ngrep on a file", "[capture][integration]") {
  Topo& t = recorded();
  auto j = run_netshoot({"tcpdump", "--json", "-nn", "-r", t.pcap, "tcp"});
  REQUIRE(j.exit == 0);
  std::istringstream in(j.out);
  std::string l;
  int n = 0;
  while (std::getline(in, l)) {
    auto o = nlohmann::json::parse(l);
    CHECK(o["type"] == "packet");
    CHECK(o["transport"] == "tcp");
    CHECK(o.contains("summary"));
    ++n;
  }
  CHECK(n > 5);
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

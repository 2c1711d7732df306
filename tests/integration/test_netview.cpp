// ip / ss / netstat / bridge / ifconfig / route against the real iproute2, net-tools
// and bridge-utils in the same namespaces: iproute2's JSON (parsed) and text must
// match ours; sockets as sets of (state, local, peer).
//
// Fields of `ip -j` we do not fill (none of them appear in this test's setup, so
// the comparison below is of whole objects): link "linkinfo" beyond info_kind (-d),
// stats64 over_errors/carrier_errors (0 here), addr "address" for peers only.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;
using nlohmann::json;

namespace {

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream is(s);
  for (std::string w; is >> w;) v.push_back(w);
  return v;
}

// A namespace with a bit of everything: v4+v6 addresses, a default route with a
// metric, a multipath route, a policy rule and its table, static neighbours, a
// bridge with a veth port and a static fdb entry; its peer namespace holds the far
// end of the veth.
struct Lab {
  Netns a{"nv-a"};
  Netns b{"nv-b"};
  Lab() {
    veth_link(a, "nva", "10.77.0.1/24", b, "nvb", "10.77.0.2/24");
    a.ip("addr add fd77::1/64 dev nva nodad");
    a.ip("route add default via 10.77.0.254 dev nva metric 204");
    a.ip("route add 10.78.0.0/16 nexthop via 10.77.0.2 weight 1 nexthop via 10.77.0.3 weight 2");
    a.ip("rule add from 10.77.0.0/24 lookup 100 pref 1000");
    a.ip("rule add fwmark 0x10/0xff iif nva lookup 100 pref 1001");
    a.ip("route add 10.79.0.0/16 via 10.77.0.4 table 100");
    a.ip("neigh add 10.77.0.9 lladdr 02:42:0a:00:01:04 dev nva nud permanent");
    a.ip("neigh add fd77::9 lladdr 02:42:0a:00:01:05 dev nva nud permanent");
    a.ip("link add nvbr type bridge");
    a.ip("link add nvp0 type veth peer name nvp1");
    a.ip("link set nvp0 master nvbr");
    a.ip("link set nvbr up");
    a.ip("link set nvp0 up");
    a.ip("link set nvp1 up");
    a.ip("addr add 10.76.0.1/24 brd + dev nvbr");
    REQUIRE(a.exec({"bridge", "fdb", "add", "02:11:22:33:44:55", "dev", "nvp0", "master", "static"}).exit == 0);
    // VLAN tables exist only where the kernel has CONFIG_BRIDGE_VLAN_FILTERING; without it
    // both tools print an empty table, which the comparison below still checks.
    vlan_filtering = a.exec({"ip", "link", "set", "nvbr", "type", "bridge", "vlan_filtering", "1"}).exit == 0;
    if (vlan_filtering) {
      a.exec({"bridge", "vlan", "add", "vid", "10-20", "dev", "nvp0"});
      a.exec({"bridge", "vlan", "add", "vid", "5", "dev", "nvp0", "pvid", "untagged"});
      a.exec({"bridge", "vlan", "add", "vid", "30", "dev", "nvbr", "self"});
    }
  }
  bool vlan_filtering = false;
};

RunResult ours(const Netns& ns, std::vector<std::string> args) {
  args.insert(args.begin(), {"--netns", ns.name()});
  return run_netshoot(args);
}

// Runs both a few times: IPv6 DAD and operstate settle asynchronously.
template <typename Cmp>
bool agree(Cmp cmp) {
  for (int i = 0; i < 4; ++i) {
    if (cmp()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
  }
  return cmp();
}

using SockSet = std::set<std::tuple<std::string, std::string, std::string>>;

// (state, local, peer) from an ss table with a State column first.
SockSet sock_set(const std::string& out) {
  SockSet s;
  std::istringstream is(out);
  std::string line;
  std::getline(is, line);  // header
  while (std::getline(is, line)) {
    auto w = words(line);
    if (w.size() >= 5) s.emplace(w[0], w[3], w[4]);
  }
  return s;
}

}  // namespace

TEST_CASE("ip -j: our JSON equals iproute2's for addr, link, route, neigh, rule", "[ip][netview]") {
  Lab lab;
  const std::vector<std::string> cmds[] = {
      {"addr"}, {"link"}, {"route"}, {"-6", "route"}, {"route", "show", "table", "all"}, {"route", "show", "table", "100"},
      {"neigh"}, {"rule"}, {"-6", "rule"}, {"-br", "addr"}, {"-br", "link"}, {"addr", "show", "dev", "nva"},
      {"route", "get", "10.78.1.1"}, {"route", "get", "10.77.0.1"}, {"route", "get", "fd77::9"},
      {"route", "get", "10.79.0.1", "from", "10.77.0.1"}, {"route", "get", "10.79.0.1", "mark", "16"}};
  for (const auto& c : cmds) {
    std::vector<std::string> real{"ip", "-j"}, mine{"ip", "-j"};
    real.insert(real.end(), c.begin(), c.end());
    mine.insert(mine.end(), c.begin(), c.end());
    std::string label;
    for (const auto& w : c) label += w + " ";
    RunResult r, m;
    bool same = agree([&] {
      r = lab.a.exec(real);
      m = ours(lab.a, mine);
      if (r.exit != 0 || m.exit != 0) return false;
      return json::parse(r.out) == json::parse(m.out);
    });
    INFO("ip -j " << label << "\niproute2: " << r.out << "\nnetshoot: " << describe(m));
    CHECK(same);
  }
}

TEST_CASE("ip text: -br addr, route, neigh, route get, rule are iproute2's bytes", "[ip][netview]") {
  Lab lab;
  const std::vector<std::string> cmds[] = {
      {"-br", "addr"}, {"-br", "link"}, {"route"}, {"-6", "route"}, {"route", "show", "table", "all"},
      {"route", "show", "dev", "nva"}, {"neigh"}, {"neigh", "show", "dev", "nva"}, {"rule"},
      {"route", "get", "10.78.1.1"}, {"route", "get", "10.77.0.1"}, {"route", "get", "fd77::9"},
      {"route", "get", "10.79.0.1", "from", "10.77.0.1"}, {"addr"}, {"link"}, {"-o", "addr"}};
  for (const auto& c : cmds) {
    std::vector<std::string> real{"ip"}, mine{"ip"};
    real.insert(real.end(), c.begin(), c.end());
    mine.insert(mine.end(), c.begin(), c.end());
    std::string label;
    for (const auto& w : c) label += w + " ";
    RunResult r, m;
    bool same = agree([&] {
      r = lab.a.exec(real);
      m = ours(lab.a, mine);
      return r.exit == 0 && m.exit == 0 && r.out == m.out;
    });
    INFO("ip " << label << "\niproute2:\n" << r.out << "netshoot:\n" << describe(m));
    CHECK(same);
  }
  // ip -n NAME enters the named namespace itself.
  RunResult m = run_netshoot({"ip", "-n", "nv-b", "-br", "addr", "show", "dev", "nvb"});
  INFO(describe(m));
  CHECK(m.exit == 0);
  CHECK(m.out.find("10.77.0.2/24") != std::string::npos);
  // ip netns list shows both.
  m = run_netshoot({"ip", "netns", "list"});
  CHECK(m.out.find("nv-a") != std::string::npos);
  CHECK(m.out.find("nv-b") != std::string::npos);
  m = run_netshoot({"ip", "-j", "netns", "list"});
  CHECK(json::parse(m.out).is_array());
}

TEST_CASE("bridge fdb/link, brctl show, route -n, ifconfig match the real tools", "[bridge][netview]") {
  Lab lab;
  for (const auto& c : std::vector<std::vector<std::string>>{
           {"fdb", "show"}, {"fdb", "show", "br", "nvbr"}, {"link"}, {"vlan"}, {"vlan", "show", "dev", "nvp0"},
           {"-c", "vlan", "show"}, {"vlan", "show", "vid", "12"}}) {
    std::vector<std::string> real{"bridge"}, mine{"bridge"}, realj{"bridge", "-j"}, minej{"bridge", "-j"};
    for (const auto& w : c) real.push_back(w), mine.push_back(w), realj.push_back(w), minej.push_back(w);
    // Learned (dynamic) entries may appear between the two runs: retry.
    RunResult r, m;
    bool same = agree([&] {
      r = lab.a.exec(real);
      m = ours(lab.a, mine);
      return r.exit == m.exit && r.out == m.out;
    });
    INFO("bridge " << c[0] << "\nreal:\n" << r.out << "ours:\n" << describe(m));
    CHECK(same);
    same = agree([&] {
      r = lab.a.exec(realj);
      m = ours(lab.a, minej);
      return m.exit == 0 && json::parse(r.out) == json::parse(m.out);
    });
    CHECK(same);
  }
  if (lab.vlan_filtering) {
    RunResult m = ours(lab.a, {"bridge", "vlan", "show", "dev", "nvp0"});
    INFO(describe(m));
    CHECK(m.out.find("nvp0              5 PVID Egress Untagged\n") != std::string::npos);
  } else {
    WARN("bridge vlan: this kernel has no VLAN filtering on bridges; compared empty tables only");
  }
  if (have_tool("brctl")) {
    RunResult r = lab.a.exec({"brctl", "show"}), m = ours(lab.a, {"brctl", "show"});
    INFO("real:\n" << r.out << "ours:\n" << describe(m));
    CHECK(r.out == m.out);
  } else {
    WARN("SKIP: brctl (bridge-utils) not installed");
  }
  if (have_tool("route")) {
    RunResult r = lab.a.exec({"route", "-n"}), m = ours(lab.a, {"route", "-n"});
    INFO("real:\n" << r.out << "ours:\n" << describe(m));
    CHECK(r.out == m.out);
    // ifconfig: the same lines except the order of inet6 lines (net-tools reads a hash table).
    r = lab.a.exec({"ifconfig", "nvbr"});
    m = ours(lab.a, {"ifconfig", "nvbr"});
    auto sorted = [](const std::string& s) {
      std::vector<std::string> v;
      std::istringstream is(s);
      for (std::string l; std::getline(is, l);)
        if (l.find("packets") == std::string::npos) v.push_back(l);  // counters move
      std::sort(v.begin(), v.end());
      return v;
    };
    INFO("real:\n" << r.out << "ours:\n" << describe(m));
    CHECK(sorted(r.out) == sorted(m.out));
  } else {
    WARN("SKIP: net-tools not installed");
  }
}

TEST_CASE("ss and netstat: the same sockets as iproute2 and net-tools, with PID/Program name", "[ss][netview]") {
  Lab lab;
  Background srv({"python3", "-c",
                  "import socket,time\n"
                  "l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                  "l.bind(('0.0.0.0',18080)); l.listen(8)\n"
                  "l6=socket.socket(socket.AF_INET6); l6.bind(('::',18443)); l6.listen(8)\n"
                  "u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind(('127.0.0.1',15353))\n"
                  "c=socket.create_connection(('127.0.0.1',18080)); a,_=l.accept()\n"
                  "print('ready',flush=True); time.sleep(60)\n"},
                 lab.a.name());
  REQUIRE(wait_until([&] { return srv.output().find("ready") != std::string::npos; }, 10000));

  for (const auto& flags : {std::string("-tln"), std::string("-tan"), std::string("-uan")}) {
    RunResult r = lab.a.exec({"ss", flags}), m = ours(lab.a, {"ss", flags});
    INFO("ss " << flags << "\nreal:\n" << r.out << "ours:\n" << describe(m));
    CHECK(m.exit == 0);
    CHECK(sock_set(r.out) == sock_set(m.out));
    CHECK(!sock_set(m.out).empty());
  }
  // Filters: state, sport, dport.
  RunResult m = ours(lab.a, {"ss", "-tn", "state", "established", "sport = :18080"});
  INFO(describe(m));
  CHECK(m.out.find("127.0.0.1:18080") != std::string::npos);
  CHECK(m.out.find("LISTEN") == std::string::npos);
  RunResult r = lab.a.exec({"ss", "-tn", "state", "established", "dport = :18080"});
  m = ours(lab.a, {"ss", "-tn", "state", "established", "dport = :18080"});
  CHECK(words(r.out).size() == words(m.out).size());
  CHECK(m.out.find("127.0.0.1:18080") != std::string::npos);

  // -p: users:(("python3",pid=N,fd=3)) for the listener.
  m = ours(lab.a, {"ss", "-tlnp", "sport = :18080"});
  INFO(describe(m));
  CHECK(m.out.find("users:((\"python3\",pid=") != std::string::npos);

  // netstat -tulpn: the listener's line is net-tools' own line.
  r = lab.a.exec({"netstat", "-tulpn"});
  m = ours(lab.a, {"netstat", "-tulpn"});
  INFO("real:\n" << r.out << "ours:\n" << describe(m));
  auto line_with = [](const std::string& out, const std::string& needle) {
    std::istringstream is(out);
    for (std::string l; std::getline(is, l);)
      if (l.find(needle) != std::string::npos) return l;
    return std::string();
  };
  for (const char* port : {":18080 ", ":18443 ", ":15353 "}) {
    CHECK(!line_with(m.out, port).empty());
    CHECK(line_with(r.out, port) == line_with(m.out, port));
  }
  CHECK(line_with(m.out, ":18080 ").find("/python3") != std::string::npos);
  CHECK(line_with(r.out, "Proto") == line_with(m.out, "Proto"));

  // ss -s parses and counts our established pair.
  m = ours(lab.a, {"ss", "-s"});
  CHECK(m.out.find("estab 2,") != std::string::npos);

  // --all-netns from the host finds the listener in nv-a, labelled with its name.
  m = run_netshoot({"ss", "--all-netns", "-tln"});
  INFO(describe(m));
  CHECK(m.exit == 0);
  bool found = false;
  std::istringstream is(m.out);
  for (std::string l; std::getline(is, l);)
    if (l.rfind("nv-a ", 0) == 0 && l.find(":18080") != std::string::npos) found = true;
  CHECK(found);
  m = run_netshoot({"--json", "ss", "--all-netns", "-tln", "sport = :18080"});
  CHECK(m.out.find("\"netns\":\"nv-a\"") != std::string::npos);
}

TEST_CASE("ss text is iproute2's bytes; netstat's lines are net-tools'", "[ss][netview]") {
  // Listeners v4, dual-stack v6 ("*"), v6only ("[::]") and on ::1; established pairs
  // over 127.0.0.1, ::1 and v4-mapped (a v4 client on the dual-stack listener); UDP.
  Netns a{"nv-sst"};
  Background srv({"python3", "-c",
                  "import socket,time\n"
                  "S=socket.socket; A6=socket.AF_INET6; keep=[]\n"
                  "def lis(fam,addr,port,v6only=None):\n"
                  "  l=S(fam); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                  "  if v6only is not None: l.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,v6only)\n"
                  "  l.bind((addr,port)); l.listen(8); keep.append(l); return l\n"
                  "l4=lis(socket.AF_INET,'0.0.0.0',18080); l6=lis(A6,'::',18443,0); lis(A6,'::',18444,1)\n"
                  "lis(A6,'::1',18445); lis(socket.AF_INET,'127.0.0.1',22)\n"
                  "for l,addr,port in ((l4,'127.0.0.1',18080),(l6,'::1',18443),(l6,'127.0.0.1',18443)):\n"
                  "  for i in range(3):\n"
                  "    c=socket.create_connection((addr,port)); s,_=l.accept(); keep+=[c,s]\n"
                  "u=S(socket.AF_INET,socket.SOCK_DGRAM); u.bind(('127.0.0.1',15353)); keep.append(u)\n"
                  "u6=S(A6,socket.SOCK_DGRAM); u6.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,1)\n"
                  "u6.bind(('::',15354)); keep.append(u6)\n"
                  "print('ready',flush=True); time.sleep(60)\n"},
                 a.name());
  REQUIRE(wait_until([&] { return srv.output().find("ready") != std::string::npos; }, 10000));
  const std::vector<std::string> cmds[] = {
      {"-tan"}, {"-tln"}, {"-uan"}, {"-tuan"}, {"-tanH"}, {"-ta"}, {"-4tan"}, {"-6tan"}, {"-tulpn"},
      {"-tn", "state", "established"}, {"-tn", "sport", "=", ":18443"}, {"-tan", "dport", ">", ":18000"}};
  for (const auto& c : cmds) {
    std::vector<std::string> real{"ss"}, mine{"ss"};
    real.insert(real.end(), c.begin(), c.end());
    mine.insert(mine.end(), c.begin(), c.end());
    RunResult r, m;
    // Sockets may move between the two reads (TIME-WAIT timers): compare again if so.
    bool same = agree([&] {
      r = a.exec(real);
      m = ours(a, mine);
      return r.exit == 0 && m.exit == 0 && r.out == m.out;
    });
    INFO("ss " << c[0] << (c.size() > 1 ? " " + c[1] : "") << "\nreal:\n" << r.out << "ours:\n" << describe(m));
    CHECK(same);
    CHECK(!m.out.empty());
  }
  if (!have_tool("netstat")) {
    WARN("SKIP: net-tools not installed");
    return;
  }
  auto sorted = [](const std::string& s) {
    std::vector<std::string> v;
    std::istringstream is(s);
    for (std::string l; std::getline(is, l);) v.push_back(l);
    std::sort(v.begin(), v.end());
    return v;
  };
  for (const char* flags : {"-tan", "-tuan", "-tan6", "-tanW"}) {
    RunResult r, m;
    bool same = agree([&] {
      r = a.exec({"netstat", flags});
      m = ours(a, {"netstat", flags});
      return r.exit == 0 && m.exit == 0 && sorted(r.out) == sorted(m.out);
    });
    INFO("netstat " << flags << "\nreal:\n" << r.out << "ours:\n" << describe(m));
    CHECK(same);
  }
}

TEST_CASE("ip/ss bad input: one clear line and the exit code", "[ip][ss][netview]") {
  Lab lab;
  RunResult r = ours(lab.a, {"ip", "link", "show", "dev", "eth9"});
  CHECK(r.exit == 1);
  CHECK(r.err == "Device \"eth9\" does not exist.\n");
  r = ours(lab.a, {"ip", "addr", "show", "eth9"});
  CHECK(r.exit == 1);
  r = ours(lab.a, {"ip", "route", "show", "dev", "eth9"});
  CHECK(r.err == "Cannot find device \"eth9\"\n");
  r = ours(lab.a, {"bridge", "vlan", "show", "dev", "eth9"});
  CHECK(r.exit == 1);
  CHECK(r.err == "Cannot find device \"eth9\"\n");
  r = ours(lab.a, {"bridge", "vlan", "show", "vid", "4096"});
  CHECK(r.exit == 1);
  CHECK(r.err == "Invalid VLAN ID \"4096\"\n");
  r = ours(lab.a, {"ip", "route", "show", "table", "nosuch"});
  CHECK(r.exit == 1);
  CHECK(r.err.find("table id value is invalid") != std::string::npos);
  r = ours(lab.a, {"ip", "-6", "route", "get", "10.0.0.1"});
  CHECK(r.exit == 1);
  CHECK(r.err == "Error: inet6 prefix is expected rather than \"10.0.0.1\".\n");
  r = ours(lab.a, {"ip", "route", "get", "10.0.0.1", "from", "fd77::1"});
  CHECK(r.err == "Error: inet prefix is expected rather than \"fd77::1\".\n");
  r = ours(lab.a, {"ip", "route", "add", "10.1.0.0/16", "dev", "nva"});
  CHECK(r.exit == 1);
  CHECK(r.err.find("read-only") != std::string::npos);
  r = run_netshoot({"ip", "-n", "nv-nosuch", "link"});
  CHECK(r.exit == 1);
  r = ours(lab.a, {"ss", "-tn", "state", "bogus"});
  CHECK(r.exit == 2);
  CHECK(r.err.find("bogus") != std::string::npos);
  r = ours(lab.a, {"ss", "-tn", "sport", "=", ":notaport"});
  CHECK(r.exit == 2);
  r = ours(lab.a, {"ifconfig", "eth9"});
  CHECK(r.exit == 1);
  CHECK(r.err == "eth9: error fetching interface information: Device not found\n");
  r = ours(lab.a, {"bridge", "fdb", "show", "br", "nosuchbr"});
  CHECK(r.exit == 1);
}

// ---- ss --all-netns and a real container --------------------------------------------
// Podman as test_containers.cpp runs it (runc, a local busybox image, its Docker API
// socket); skipped visibly when podman cannot run containers here.
namespace {

const std::string kNvDir = "/run/netshoot-test";
const std::string kNvSock = kNvDir + "/nv-docker.sock";
const std::string kNvConf = kNvDir + "/nv-containers.conf";
const std::string kNvWeb = "ns-nv-web";
const std::string kNvImage = "localhost/bb:latest";

std::string nv_prepare_podman() {
  if (!have_tool("podman") || !have_tool("runc") || ::access("/bin/busybox", X_OK) != 0)
    return "podman, runc or /bin/busybox missing";
  sh("mkdir -p " + kNvDir);
  std::ofstream(kNvConf) << "[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = \"runc\"\n";
  ::setenv("CONTAINERS_CONF", kNvConf.c_str(), 1);
  if (sh("podman image exists " + kNvImage).exit != 0) {
    RunResult r = sh("set -e; d=$(mktemp -d); mkdir -p $d/bin; cp /bin/busybox $d/bin/; "
                     "tar -C $d -c . | podman import - " + kNvImage + "; rm -rf $d");
    if (r.exit != 0) return "cannot import a busybox image: " + r.err;
  }
  return {};
}

}  // namespace

TEST_CASE("ss --all-netns labels a podman container's listener with its name", "[ss][netview][podman]") {
  std::string why = nv_prepare_podman();
  if (!why.empty()) {
    WARN("SKIP: " << why);
    return;
  }
  sh("podman rm -f -t 0 " + kNvWeb + " >/dev/null 2>&1");
  RunOptions slow;
  slow.timeout_ms = 120000;
  RunResult r = sh("podman run -d --name " + kNvWeb + " --network none " + kNvImage +
                   " /bin/busybox httpd -f -p 18088", slow);
  if (r.exit != 0) {
    WARN("SKIP: podman run failed: " << r.err.substr(0, 300));
    return;
  }
  struct Cleanup {
    ~Cleanup() { sh("podman rm -f -t 0 " + kNvWeb + " >/dev/null 2>&1"); }
  } cleanup;
  ::unlink(kNvSock.c_str());
  Background service({"podman", "system", "service", "--time", "0", "unix://" + kNvSock});
  bool up = wait_until([] {
    struct stat st {};
    return ::stat(kNvSock.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
  }, 20000);
  REQUIRE(up);
  RunOptions env;
  env.env = {"DOCKER_HOST=unix://" + kNvSock};
  RunResult m;
  bool found = wait_until([&] {
    m = run_netshoot({"ss", "--all-netns", "-tln", "sport = :18088"}, env);
    std::istringstream is(m.out);
    for (std::string l; std::getline(is, l);)
      if (l.rfind(kNvWeb + " ", 0) == 0 && l.find(":18088") != std::string::npos) return true;
    return false;
  }, 10000);
  INFO(describe(m));
  CHECK(found);
}

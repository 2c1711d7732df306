// Capabilities: raw-socket applets give up CAP_NET_RAW/CAP_NET_ADMIN once their
// sockets are open, and a copy of the binary with file capabilities works for a
// numeric non-root user (the image's `--user 65532`, Kubernetes runAsNonRoot).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <optional>
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
  sh("rm -rf " + dir);
}

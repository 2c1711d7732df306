// A real container (podman, runc, a busybox image made locally) reached through
// podman's Docker-compatible API socket: docker.h list/inspect/stats, netns target
// resolution by container name, nsenter --container, netns list with names.
// Setup follows /work/shared/notes/containers.md. Traffic stays inside the
// machine: the container sits on an --internal network this test creates.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "netshoot/docker.h"
#include "netshoot/netns.h"

using namespace netshoot::test;
namespace core = netshoot::core;

namespace {

const std::string kDir = "/run/netshoot-test";
const std::string kSock = kDir + "/docker.sock";
const std::string kConf = kDir + "/containers.conf";
const std::string kNet = "netshoot-test-net";
const std::string kWeb = "ns-test-web";
const std::string kStopped = "ns-test-stopped";
const std::string kImage = "localhost/bb:latest";

void remove_leftovers() {
  sh("podman rm -f -t 0 " + kWeb + " " + kStopped + " >/dev/null 2>&1");
  sh("podman network rm -f " + kNet + " >/dev/null 2>&1");
}

// Installs podman when missing; returns why it cannot run containers, or "".
std::string prepare_podman() {
  if (!have_tool("podman") || !have_tool("runc") || ::access("/bin/busybox", X_OK) != 0) {
    RunOptions o;
    o.timeout_ms = 600000;
    o.env = {"DEBIAN_FRONTEND=noninteractive"};
    RunResult r = sh("apt-get install -y podman runc busybox-static", o);
    if (r.exit != 0 || !have_tool("podman")) return "podman could not be installed: " + r.err.substr(0, 300);
  }
  sh("mkdir -p " + kDir);
  // No CAP_SYS_RESOURCE for crun's rlimits, cgroup v1 hybrid: runc, no default ulimits.
  std::ofstream(kConf) << "[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = \"runc\"\n";
  ::setenv("CONTAINERS_CONF", kConf.c_str(), 1);
  if (sh("podman image exists " + kImage).exit != 0) {
    RunResult r = sh("set -e; d=$(mktemp -d); mkdir -p $d/bin; cp /bin/busybox $d/bin/; "
                     "tar -C $d -c . | podman import - " + kImage + "; rm -rf $d");
    if (r.exit != 0) return "cannot import a busybox image: " + r.err;
  }
  return {};
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("containers: a podman container through the Docker API, nsenter --container, --netns",
          "[containers][docker][nsenter][netns]") {
  std::string why = prepare_podman();
  if (!why.empty()) {
    WARN("SKIP: " << why);
    return;
  }
  remove_leftovers();
  struct Cleanup {
    ~Cleanup() { remove_leftovers(); }
  } cleanup;

  RunResult r = sh("podman network create --internal " + kNet);
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  r = sh("podman run -d --name " + kWeb + " --network " + kNet + " " + kImage + " /bin/busybox httpd -f -p 8080");
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  r = sh("podman create --name " + kStopped + " --network " + kNet + " " + kImage + " /bin/busybox sleep 1");
  INFO(describe(r));
  REQUIRE(r.exit == 0);
  std::string pid = trim(sh("podman inspect " + kWeb + " --format '{{.State.Pid}}'").out);
  std::string ip = trim(sh("podman inspect " + kWeb + " --format '{{(index .NetworkSettings.Networks \"" + kNet +
                           "\").IPAddress}}'").out);
  INFO("container pid " << pid << " ip " << ip);
  REQUIRE(std::atoi(pid.c_str()) > 0);
  REQUIRE(ip.rfind("10.", 0) == 0);

  ::unlink(kSock.c_str());
  Background service({"podman", "system", "service", "--time", "0", "unix://" + kSock});
  bool up = wait_until([] {
    struct stat st {};
    return ::stat(kSock.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
  }, 20000);
  INFO(service.output());
  REQUIRE(up);
  ::setenv("DOCKER_HOST", ("unix://" + kSock).c_str(), 1);

  // ---- docker.h against the real API ----
  auto client = core::DockerClient::connect();
  REQUIRE(client.ok());
  CHECK(client->socket_path() == kSock);
  auto list = client->list_containers(false);
  INFO((list ? std::string() : list.error().message()));
  REQUIRE(list.ok());
  bool listed = false;
  for (const auto& c : *list) {
    if (std::find(c.names.begin(), c.names.end(), kWeb) == c.names.end()) continue;
    listed = true;
    CHECK(c.state == "running");
    CHECK(c.image.find("bb") != std::string::npos);
    CHECK(c.id.size() >= 12);
  }
  CHECK(listed);
  auto all = client->list_containers(true);
  REQUIRE(all.ok());
  bool stopped_listed = false;
  for (const auto& c : *all)
    if (std::find(c.names.begin(), c.names.end(), kStopped) != c.names.end()) stopped_listed = true;
  CHECK(stopped_listed);

  auto info = client->inspect(kWeb);
  INFO((info ? std::string() : info.error().message()));
  REQUIRE(info.ok());
  CHECK(info->name == kWeb);
  CHECK(info->running);
  CHECK(std::to_string(info->pid) == pid);
  bool has_net = false;
  for (const auto& n : info->networks)
    if (n.network == kNet) has_net = n.ip == ip;
  CHECK(has_net);
  auto stats = client->stats_once(kWeb);
  INFO((stats ? std::string() : stats.error().message()));
  REQUIRE(stats.ok());
  CHECK(stats->contains("memory_stats"));
  CHECK(stats->contains("pids_stats"));

  auto missing = client->inspect("ns-test-no-such-container");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message() == "no such container: ns-test-no-such-container");

  // ---- target resolution by name ----
  auto t = core::resolve_ns_target(kWeb, "net");
  INFO((t ? std::string() : t.error().message()));
  REQUIRE(t.ok());
  CHECK(t->container == kWeb);
  CHECK(ns_inode(t->path) == ns_inode("/proc/" + pid + "/ns/net"));
  auto stopped = core::resolve_ns_target(kStopped, "net");
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.error().message().rfind("container " + kStopped + " is not running", 0) == 0);

  // ---- the binary ----
  // nsenter --container: host tools see the container's address and its listener
  // on 8080 (0x1F90, state 0A = LISTEN in /proc/net/tcp).
  r = run_netshoot({"nsenter", "--container", kWeb, "ip", "-o", "-4", "addr"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find(" " + ip + "/") != std::string::npos);
  r = run_netshoot({"nsenter", "--container", kWeb, "cat", "/proc/net/tcp", "/proc/net/tcp6"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find(":1F90 00000000:0000 0A") + r.out.find(":1F90 00000000000000000000000000000000:0000 0A") !=
        2 * std::string::npos);
  // -m -u too: the container's own files (its hostname from its UTS namespace).
  r = run_netshoot({"nsenter", "--container", kWeb, "-m", "-u", "-n", "/bin/busybox", "hostname"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(trim(r.out) == info->hostname);
  // The global --netns and nsenter --netns with a container name.
  r = run_netshoot({"nsenter", "--netns", kWeb, "ip", "-o", "-4", "addr"});
  INFO(describe(r));
  CHECK(r.out.find(" " + ip + "/") != std::string::npos);
  r = run_netshoot({"netns", "list", "--netns", kWeb});
  INFO(describe(r));
  CHECK(r.exit == 0);
  bool marked = false;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("*net:[", 0) == 0) marked = line.find(kWeb) != std::string::npos;
  CHECK(marked);
  r = run_netshoot({"netns", "--json"});
  INFO(describe(r));
  bool named = false;
  std::istringstream jl(r.out);
  for (std::string line; std::getline(jl, line);) {
    auto j = nlohmann::json::parse(line);
    for (const auto& c : j["containers"])
      if (c == kWeb) named = j["inode"] == ns_inode("/proc/" + pid + "/ns/net");
  }
  CHECK(named);

  // ---- errors ----
  r = run_netshoot({"nsenter", "--container", "ns-test-no-such-container", "true"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nsenter: no such container: ns-test-no-such-container\n");
  r = run_netshoot({"nsenter", "--container", kStopped, "true"});
  CHECK(r.exit == 1);
  CHECK(r.err.find("nsenter: container " + kStopped + " is not running") == 0);
  r = run_netshoot({"netns", "--netns", "ns-test-no-such-container"});
  CHECK(r.exit == 1);
  CHECK(r.err.find("no such container: ns-test-no-such-container") != std::string::npos);
  r = run_netshoot({"nsenter", "--container", kWeb, "true"}, RunOptions{30000, {}, {"DOCKER_HOST=unix:///nonexistent/d.sock"}});
  CHECK(r.exit == 1);
  CHECK(r.err.find("no container API socket found (tried /nonexistent/d.sock)") != std::string::npos);

  ::unsetenv("DOCKER_HOST");
  service.stop();
  ::unlink(kSock.c_str());
}

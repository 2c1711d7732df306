// nsenter and netns against real network namespaces: the built binary, run the way
// users run it (netshoot nsenter ..., a busybox-style "nsenter" symlink, --netns).
#include <catch2/catch.hpp>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;

namespace {

// Two namespaces joined by a veth pair: A = 10.231.0.1/24, B = 10.231.0.2/24.
struct TwoHosts {
  Netns a{"nsenter-a"};
  Netns b{"nsenter-b"};
  TwoHosts() { veth_link(a, "nse-a", "10.231.0.1/24", b, "nse-b", "10.231.0.2/24"); }
};

// A process sitting in a netns; its PID's /proc/PID/ns/net is that namespace.
struct Sleeper {
  Background proc;
  explicit Sleeper(const Netns& ns) : proc({"sleep", "60"}, ns.name()) {
    unsigned long want = ns_inode(ns.path());
    REQUIRE(want != 0);
    bool in = wait_until([&] { return ns_inode("/proc/" + std::to_string(proc.pid()) + "/ns/net") == want; });
    REQUIRE(in);
  }
  std::string pid() const { return std::to_string(proc.pid()); }
};

}  // namespace

TEST_CASE("nsenter: --net=/run/netns/X runs the command in that netns", "[nsenter]") {
  TwoHosts h;
  RunResult r = run_netshoot({"nsenter", "--net=/run/netns/nsenter-a", "ip", "-o", "addr"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("10.231.0.1/24") != std::string::npos);
  CHECK(r.out.find("10.231.0.2/24") == std::string::npos);

  // The short form with an attached file, and /var/run spelled out.
  r = run_netshoot({"nsenter", "-n/var/run/netns/nsenter-b", "ip", "-o", "-4", "addr", "show", "dev", "nse-b"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("10.231.0.2/24") != std::string::npos);

  // The command's own flags after it are untouched, also after "--".
  r = run_netshoot({"nsenter", "--net=/run/netns/nsenter-a", "--", "ip", "-n", "nsenter-b", "-o", "addr"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("10.231.0.2/24") != std::string::npos);
}

TEST_CASE("nsenter: the seed command with a docker-style netns file and sh", "[nsenter]") {
  struct stat st {};
  if (::stat("/var/run/docker", &st) == 0) {
    WARN("SKIP: /var/run/docker exists (a real docker?); not creating a fake docker netns file there");
    return;
  }
  TwoHosts h;
  const std::string dir = "/var/run/docker/netns";
  const std::string file = dir + "/1-9tp0f348do";
  REQUIRE(sh("mkdir -p " + dir + " && touch " + file).exit == 0);
  struct Cleanup {
    std::string file;
    ~Cleanup() {
      ::umount2(file.c_str(), MNT_DETACH);
      sh("rm -f " + file + " && rmdir /var/run/docker/netns /var/run/docker");
    }
  } cleanup{file};
  REQUIRE(::mount("/run/netns/nsenter-a", file.c_str(), nullptr, MS_BIND, nullptr) == 0);

  // Verbatim: nsenter --net=/var/run/docker/netns/1-9tp0f348do sh  (commands on stdin)
  RunOptions o;
  o.input = "ip -o -4 addr\nexit 3\n";
  RunResult r = run_netshoot({"nsenter", "--net=" + file, "sh"}, o);
  INFO(describe(r));
  CHECK(r.exit == 3);
  CHECK(r.out.find("10.231.0.1/24") != std::string::npos);

  // netns list shows docker's file with the namespace.
  r = run_netshoot({"netns", "list"});
  INFO(describe(r));
  CHECK(r.out.find(file) != std::string::npos);
}

TEST_CASE("nsenter: -t PID -n enters the netns of a process", "[nsenter]") {
  TwoHosts h;
  Sleeper s(h.a);
  RunResult r = run_netshoot({"nsenter", "-t", s.pid(), "-n", "ip", "-o", "addr"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("10.231.0.1/24") != std::string::npos);

  // --target PID --net, and -a (every namespace of the target that differs from ours:
  // here only net).
  r = run_netshoot({"nsenter", "--target", s.pid(), "--net", "ip", "-o", "addr"});
  CHECK(r.out.find("10.231.0.1/24") != std::string::npos);
  r = run_netshoot({"nsenter", "-t", s.pid(), "-a", "ip", "-o", "addr"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("10.231.0.1/24") != std::string::npos);
  // -m -u too: same mount and UTS namespace as ours, joining them is harmless.
  r = run_netshoot({"nsenter", "-t", s.pid(), "-n", "-m", "-u", "-i", "ip", "-o", "addr"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("10.231.0.1/24") != std::string::npos);
  // The netshoot option: --netns with a PID, a name, a path.
  for (std::string t : {s.pid(), std::string("nsenter-a"), std::string("/run/netns/nsenter-a")}) {
    r = run_netshoot({"nsenter", "--netns", t, "ip", "-o", "addr"});
    INFO(t << ": " << describe(r));
    CHECK(r.exit == 0);
    CHECK(r.out.find("10.231.0.1/24") != std::string::npos);
  }
}

TEST_CASE("nsenter: exit status of the command is propagated", "[nsenter]") {
  TwoHosts h;
  const std::string net = "--net=/run/netns/nsenter-a";
  CHECK(run_netshoot({"nsenter", net, "true"}).exit == 0);
  CHECK(run_netshoot({"nsenter", net, "sh", "-c", "exit 7"}).exit == 7);
  CHECK(run_netshoot({"nsenter", net, "sh", "-c", "kill -TERM $$"}).exit == 128 + 15);
  RunResult r = run_netshoot({"nsenter", net, "/nonexistent/netshoot-command"});
  CHECK(r.exit == 127);
  CHECK(r.err == "nsenter: failed to execute /nonexistent/netshoot-command: No such file or directory\n");
  r = run_netshoot({"nsenter", net, "/etc/passwd"});  // not executable
  CHECK(r.exit == 126);
  CHECK(r.err == "nsenter: failed to execute /etc/passwd: Permission denied\n");
  // No command: $SHELL (or /bin/sh) reads stdin.
  RunOptions o;
  o.input = "exit 5\n";
  o.env = {"SHELL=/bin/sh"};
  CHECK(run_netshoot({"nsenter", net}, o).exit == 5);
}

TEST_CASE("nsenter: -p forks so that the command is in the target's PID namespace", "[nsenter]") {
  // unshare --pid --fork: the child sleep is PID 1 of a new PID namespace.
  Background u({"unshare", "--pid", "--fork", "sleep", "60"});
  std::string child;
  bool found = wait_until([&] {
    RunResult r = sh("cat /proc/" + std::to_string(u.pid()) + "/task/*/children 2>/dev/null");
    std::string s = r.out;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
    if (s.empty()) return false;
    child = s.substr(0, s.find(' '));
    std::string a = "/proc/" + child + "/ns/pid";
    return ns_inode(a) != 0 && ns_inode(a) != ns_inode("/proc/self/ns/pid");
  });
  REQUIRE(found);
  RunResult r = run_netshoot({"nsenter", "-t", child, "-p", "sh", "-c", "echo $$; exit 3"});
  INFO(describe(r));
  CHECK(r.exit == 3);
  int inner = std::atoi(r.out.c_str());
  CHECK(inner > 1);
  CHECK(inner < 50);  // a small PID: the new namespace's numbering
  // -F: no fork; the command stays in our PID namespace (its PID is a host PID).
  r = run_netshoot({"nsenter", "-t", child, "-p", "-F", "sh", "-c", "echo $$"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(std::atoi(r.out.c_str()) != inner);
}

TEST_CASE("nsenter: clear one-line errors", "[nsenter]") {
  RunResult r = run_netshoot({"nsenter", "-t", "999999", "-n", "true"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nsenter: cannot open /proc/999999/ns/net: No such process\n");

  r = run_netshoot({"nsenter", "--net=/run/netns/netshoot-no-such-ns", "true"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nsenter: cannot open /run/netns/netshoot-no-such-ns: No such file or directory\n");

  r = run_netshoot({"nsenter", "-n", "true"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nsenter: neither filename nor target pid supplied for ns/net\n");

  r = run_netshoot({"nsenter", "--net=/etc/passwd", "true"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nsenter: /etc/passwd is not a namespace file\n");

  r = run_netshoot({"nsenter", "--bogus"});
  CHECK(r.exit == 1);
  CHECK(r.err.find("unrecognized option '--bogus'") != std::string::npos);

  r = run_netshoot({"nsenter", "-t"});
  CHECK(r.exit == 1);
  CHECK(r.err.find("requires an argument") != std::string::npos);

  // Without CAP_SYS_ADMIN: the namespace file opens, joining it is refused.
  if (have_tool("setpriv")) {
    Netns n("nsenter-c");
    r = run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
             netshoot_bin(), "nsenter", "--net=" + n.path(), "true"});
    INFO(describe(r));
    CHECK(r.exit == 1);
    CHECK(r.err ==
          "nsenter: reassociate to namespace 'ns/net' failed: Operation not permitted (needs CAP_SYS_ADMIN)\n");
  }
}

TEST_CASE("nsenter: busybox-style symlink name and --help", "[nsenter]") {
  TwoHosts h;
  char tmpl[] = "/tmp/netshoot-links-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string link = dir + "/nsenter";
  REQUIRE(::symlink(netshoot_bin().c_str(), link.c_str()) == 0);
  RunResult r = run({link, "--net=/run/netns/nsenter-b", "ip", "-o", "addr"});
  ::unlink(link.c_str());
  ::rmdir(dir.c_str());
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("10.231.0.2/24") != std::string::npos);

  r = run_netshoot({"nsenter", "--help"});
  CHECK(r.exit == 0);
  CHECK(r.out.find("Examples:") != std::string::npos);
  CHECK(r.out.find("--net=/var/run/docker/netns/") != std::string::npos);
  r = run_netshoot({"netns", "--help"});
  CHECK(r.exit == 0);
  CHECK(r.out.find("Examples:") != std::string::npos);
}

TEST_CASE("netns: list shows named namespaces, processes, and --netns marks the current one", "[netns]") {
  TwoHosts h;
  Sleeper s(h.b);
  unsigned long ino_a = ns_inode(h.a.path()), ino_b = ns_inode(h.b.path());
  REQUIRE(ino_a != 0);

  RunResult r = run_netshoot({"netns", "list"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.rfind("NETNS", 0) == 0);
  CHECK(r.out.find("net:[" + std::to_string(ino_a) + "]") != std::string::npos);
  CHECK(r.out.find("nsenter-a") != std::string::npos);
  CHECK(r.out.find("nsenter-b") != std::string::npos);
  CHECK(r.out.find("*net:[" + std::to_string(ns_inode("/proc/self/ns/net")) + "]") != std::string::npos);

  // `netshoot netns` alone lists too.
  CHECK(run_netshoot({"netns"}).out == r.out);

  // JSON: one object per namespace; B holds our sleeper.
  r = run_netshoot({"netns", "list", "--json"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  bool saw_a = false, saw_b = false;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    CHECK(j["type"] == "netns");
    if (j["inode"] == ino_a) {
      saw_a = true;
      CHECK(j["names"] == nlohmann::json::array({"nsenter-a"}));
      CHECK(j["nprocs"] == 0);
    }
    if (j["inode"] == ino_b) {
      saw_b = true;
      CHECK(j["nprocs"] == 1);
      CHECK(j["pids"][0] == s.proc.pid());
      CHECK(j["process"] == "sleep");
    }
  }
  CHECK(saw_a);
  CHECK(saw_b);

  // The global --netns option of another applet: the current namespace becomes A.
  r = run_netshoot({"netns", "--netns", "nsenter-a", "list"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("*net:[" + std::to_string(ino_a) + "]") != std::string::npos);
  r = run_netshoot({"netns", "--netns", s.pid(), "--json"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("\"current\":true") != std::string::npos);
  bool current_is_b = false;
  std::istringstream l2(r.out);
  for (std::string line; std::getline(l2, line);) {
    auto j = nlohmann::json::parse(line);
    if (j["current"] == true) current_is_b = j["inode"] == ino_b;
  }
  CHECK(current_is_b);

  r = run_netshoot({"netns", "--netns", "netshoot-no-such-target"});
  CHECK(r.exit == 1);
  CHECK(r.err.find("netns: --netns netshoot-no-such-target: unknown namespace target") == 0);
}

TEST_CASE("nsenter: -U user namespace credentials, -r/-w root and working directory", "[nsenter]") {
  // unshare -U -r: a user namespace where we are uid 0 (mapped to our root).
  Background u({"unshare", "--user", "--map-root-user", "sleep", "60"});
  std::string pid = std::to_string(u.pid());
  bool in = wait_until([&] { return ns_inode("/proc/" + pid + "/ns/user") != ns_inode("/proc/self/ns/user"); });
  REQUIRE(in);
  RunResult r = run_netshoot({"nsenter", "-t", pid, "-U", "sh", "-c", "id -u; id -g; cat /proc/self/uid_map"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.rfind("0\n0\n", 0) == 0);
  CHECK(r.out.find("0          0          1") != std::string::npos);  // the target's map
  r = run_netshoot({"nsenter", "-t", pid, "-a", "cat", "/proc/self/uid_map"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("0          0          1") != std::string::npos);

  // --root=DIR --wd=DIR, and -w alone: the target's working directory.
  r = run_netshoot({"nsenter", "--root=/", "--wd=/usr/share", "pwd"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out == "/usr/share\n");
  Background in_etc({"sh", "-c", "cd /etc && exec sleep 60"});
  bool moved = wait_until([&] {
    char buf[256] = {};
    ssize_t n = ::readlink(("/proc/" + std::to_string(in_etc.pid()) + "/cwd").c_str(), buf, sizeof buf - 1);
    return n > 0 && std::string(buf, static_cast<size_t>(n)) == "/etc";
  });
  REQUIRE(moved);
  r = run_netshoot({"nsenter", "-t", std::to_string(in_etc.pid()), "-r", "-w", "pwd"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out == "/etc\n");
  r = run_netshoot({"nsenter", "-w", "pwd"});
  CHECK(r.exit == 1);
  CHECK(r.err == "nsenter: neither filename nor target pid supplied for cwd\n");
}

TEST_CASE("netns: options after 'list' and --no-containers", "[netns]") {
  Netns a("nsenter-a");
  RunResult r = run_netshoot({"netns", "list", "--no-containers", "--max-pids", "1"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(r.out.find("nsenter-a") != std::string::npos);
  r = run_netshoot({"netns", "bogus"});
  CHECK(r.exit == 2);
}

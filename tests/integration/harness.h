// Helpers for integration tests: run commands (the built netshoot binary and real
// peer tools) with captured output and a timeout, network namespaces and veth
// links that clean up after themselves, background processes killed with their
// process group.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace netshoot::test {

struct RunResult {
  int exit = -1;           // exit status; 128+N when killed by signal N
  std::string out;         // stdout
  std::string err;         // stderr
  bool timed_out = false;  // killed after the timeout
};

struct RunOptions {
  int timeout_ms = 30000;
  std::string input;                 // written to stdin (then closed)
  std::vector<std::string> env;      // extra "NAME=VALUE" (or "NAME" to unset)
};

// Runs argv (no shell; argv[0] is looked up in PATH) and waits for it.
RunResult run(const std::vector<std::string>& argv, const RunOptions& opts = {});
// Runs a /bin/sh -c command line.
RunResult sh(const std::string& command, const RunOptions& opts = {});
// Runs argv inside network namespace `ns` (ip netns exec NS ...).
RunResult run_in(const std::string& ns, const std::vector<std::string>& argv, const RunOptions& opts = {});
// The same in a private mount namespace where `hosts` and `resolv` are
// bind-mounted over /etc/hosts and /etc/resolv.conf (no name ever leaves the
// test's namespaces).
RunResult run_with_files(const std::string& ns, const std::string& hosts, const std::string& resolv,
                         const std::vector<std::string>& argv, const RunOptions& opts = {});

// The netshoot binary under test, and a run of it: run_netshoot(args...).
std::string netshoot_bin();
RunResult run_netshoot(const std::vector<std::string>& args, const RunOptions& opts = {});

// For diagnostics in CHECK/INFO: "exit=1 out=... err=...".
std::string describe(const RunResult& r);

// True when `tool` is found in PATH.
bool have_tool(const std::string& tool);

// Polls `cond` every 20 ms until it is true or `timeout_ms` passed.
bool wait_until(const std::function<bool()>& cond, int timeout_ms = 5000);

// Inode of a namespace file (/run/netns/X, /proc/PID/ns/net); 0 when unreadable.
unsigned long ns_inode(const std::string& path);

// A named network namespace (ip netns add NAME), with lo up; deleted on destruction.
// A leftover of the same name from an earlier failed run is deleted first.
class Netns {
 public:
  explicit Netns(std::string name);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }
  bool ok() const { return ok_; }
  RunResult exec(const std::vector<std::string>& argv, const RunOptions& opts = {}) const {
    return run_in(name_, argv, opts);
  }
  // Runs "ip ARGS..." inside the namespace; REQUIREs success when `must` is set.
  RunResult ip(const std::string& args, bool must = true) const;

 private:
  std::string name_;
  bool ok_ = false;
};

// A veth pair between two namespaces, addressed and up: link(a, "va", "10.1.0.1/24", b, "vb", "10.1.0.2/24").
// The pair disappears with either namespace.
void veth_link(const Netns& a, const std::string& if_a, const std::string& addr_a, const Netns& b,
               const std::string& if_b, const std::string& addr_b);

// A process running in the background in its own process group (and, optionally,
// network namespace); the group is killed (TERM, then KILL) on destruction.
// stdout+stderr go to a temporary file readable through output().
class Background {
 public:
  explicit Background(const std::vector<std::string>& argv, const std::string& netns = {},
                      const std::vector<std::string>& env = {});
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  pid_t pid() const { return pid_; }
  bool running();                 // not exited yet
  std::string output() const;     // what it wrote so far
  void stop();                    // kill the group and reap (idempotent)

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  bool reaped_ = false;
};

// A unique-ish name for test objects: PREFIX plus the test process id (short
// enough for interface names when prefix is ≤ 8 characters).
std::string unique_name(const std::string& prefix);

}  // namespace netshoot::test

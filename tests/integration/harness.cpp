#include "harness.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace netshoot::test {
namespace {

using Clock = std::chrono::steady_clock;

int status_to_exit(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void apply_env(const std::vector<std::string>& env) {
  for (const auto& e : env) {
    auto eq = e.find('=');
    if (eq == std::string::npos) ::unsetenv(e.c_str());
    else ::setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
  }
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> v;
  for (const auto& a : argv) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

void reset_child_signals() {
  for (int s : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) ::signal(s, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& opts) {
  RunResult r;
  if (argv.empty()) return r;
  ::signal(SIGPIPE, SIG_IGN);  // a child that does not read its stdin must not kill us
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    r.err = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  auto args = c_argv(argv);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    reset_child_signals();
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    apply_env(opts.env);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "harness: exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    r.err = std::string("fork: ") + std::strerror(errno);
    ::close(in[1]), ::close(out[0]), ::close(err[0]);
    return r;
  }
  ::setpgid(pid, pid);  // both sides, so the group exists before we may kill it
  int in_fd = in[1];
  size_t in_off = 0;
  if (opts.input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int fds[2] = {out[0], err[0]};
  std::string* sinks[2] = {&r.out, &r.err};
  auto deadline = Clock::now() + std::chrono::milliseconds(opts.timeout_ms);
  bool reaped = false;
  int status = 0;
  char buf[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[3];
    int n = 0;
    int idx[3];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) p[n] = {fds[i], POLLIN, 0}, idx[n++] = i;
    if (in_fd >= 0) p[n] = {in_fd, POLLOUT, 0}, idx[n++] = 2;
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    int rc = ::poll(p, static_cast<nfds_t>(n), std::min(left, 50));
    if (rc < 0 && errno != EINTR) break;
    for (int k = 0; k < n && rc > 0; ++k) {
      if (!p[k].revents) continue;
      if (idx[k] == 2) {
        ssize_t w = ::write(in_fd, opts.input.data() + in_off, opts.input.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) in_off = opts.input.size();
        if (in_off >= opts.input.size()) ::close(in_fd), in_fd = -1;
        continue;
      }
      int i = idx[k];
      ssize_t got = ::read(fds[i], buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i]);
        fds[i] = -1;
      }
    }
    // The child is gone but something it started still holds the pipes: drain
    // what is there and stop (daemons must not make us wait for the timeout).
    if (!reaped && ::waitpid(pid, &status, WNOHANG) == pid) reaped = true;
    if (reaped && rc == 0) break;
  }
  for (int i = 0; i < 2; ++i)
    if (fds[i] >= 0) ::close(fds[i]);
  if (in_fd >= 0) ::close(in_fd);
  if (r.timed_out && !reaped) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  }
  if (!reaped) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  r.exit = status_to_exit(status);
  return r;
}

RunResult sh(const std::string& command, const RunOptions& opts) { return run({"/bin/sh", "-c", command}, opts); }

RunResult run_in(const std::string& ns, const std::vector<std::string>& argv, const RunOptions& opts) {
  std::vector<std::string> full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full, opts);
}

RunResult run_with_files(const std::string& ns, const std::string& hosts, const std::string& resolv,
                         const std::vector<std::string>& argv, const RunOptions& opts) {
  std::vector<std::string> cmd{"unshare", "-m", "sh", "-c",
                               "mount --bind \"$1\" /etc/hosts && mount --bind \"$2\" /etc/resolv.conf && shift 2 && exec \"$@\"",
                               "sh", hosts, resolv};
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  return run_in(ns, cmd, opts);
}

std::string netshoot_bin() {
#ifdef NETSHOOT_BIN
  return NETSHOOT_BIN;
#else
  return "netshoot";
#endif
}

RunResult run_netshoot(const std::vector<std::string>& args, const RunOptions& opts) {
  std::vector<std::string> full = {netshoot_bin()};
  full.insert(full.end(), args.begin(), args.end());
  return run(full, opts);
}

std::string describe(const RunResult& r) {
  std::ostringstream s;
  s << "exit=" << r.exit << (r.timed_out ? " (timed out)" : "") << "\n--- stdout ---\n" << r.out
    << "\n--- stderr ---\n" << r.err;
  return s.str();
}

bool have_tool(const std::string& tool) {
  return sh("command -v '" + tool + "' >/dev/null 2>&1").exit == 0;
}

bool wait_until(const std::function<bool()>& cond, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (cond()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

unsigned long ns_inode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<unsigned long>(st.st_ino);
}

std::string unique_name(const std::string& prefix) { return prefix + std::to_string(::getpid() % 100000); }

// ---- Netns ---------------------------------------------------------------------------------

Netns::Netns(std::string name) : name_(std::move(name)) {
  run({"ip", "netns", "del", name_});  // a leftover from a failed run
  RunResult r = run({"ip", "netns", "add", name_});
  INFO("ip netns add " << name_ << ": " << describe(r));
  REQUIRE(r.exit == 0);
  ok_ = true;
  ip("link set lo up");
}

Netns::~Netns() {
  if (ok_) run({"ip", "netns", "del", name_});
}

RunResult Netns::ip(const std::string& args, bool must) const {
  RunResult r = sh("ip -n '" + name_ + "' " + args);
  if (must) {
    INFO("ip -n " << name_ << " " << args << ": " << describe(r));
    REQUIRE(r.exit == 0);
  }
  return r;
}

void veth_link(const Netns& a, const std::string& if_a, const std::string& addr_a, const Netns& b,
               const std::string& if_b, const std::string& addr_b) {
  RunResult r = run({"ip", "link", "add", "name", if_a, "netns", a.name(), "type", "veth", "peer", "name", if_b,
                     "netns", b.name()});
  INFO("ip link add veth: " << describe(r));
  REQUIRE(r.exit == 0);
  a.ip("addr add " + addr_a + " dev " + if_a);
  b.ip("addr add " + addr_b + " dev " + if_b);
  a.ip("link set " + if_a + " up");
  b.ip("link set " + if_b + " up");
}

// ---- Background -----------------------------------------------------------------------------

Background::Background(const std::vector<std::string>& argv, const std::string& netns,
                       const std::vector<std::string>& env) {
  std::vector<std::string> full;
  if (!netns.empty()) full = {"ip", "netns", "exec", netns};
  full.insert(full.end(), argv.begin(), argv.end());
  char tmpl[] = "/tmp/netshoot-bg-XXXXXX";
  int log = ::mkstemp(tmpl);
  log_path_ = tmpl;
  auto args = c_argv(full);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    reset_child_signals();
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    apply_env(env);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "harness: exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  if (pid_ > 0) ::setpgid(pid_, pid_);
  if (log >= 0) ::close(log);
}

bool Background::running() {
  if (reaped_ || pid_ <= 0) return false;
  int status;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

std::string Background::output() const {
  std::ifstream f(log_path_);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

void Background::stop() {
  if (pid_ <= 0 || reaped_) return;
  ::kill(-pid_, SIGTERM);
  bool gone = wait_until([&] { return !running(); }, 3000);
  if (!gone) {
    ::kill(-pid_, SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
}

Background::~Background() {
  stop();
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

}  // namespace netshoot::test

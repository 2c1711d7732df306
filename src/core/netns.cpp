#include "netshoot/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

namespace netshoot::core {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

Result<NetnsTarget> open_path(std::string path, int pid) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT && pid > 0) return make_error("no such process: " + std::to_string(pid));
    errno = e;
    return os_error("open " + path, "CAP_SYS_ADMIN");
  }
  NetnsTarget t;
  t.fd.reset(fd);
  t.path = std::move(path);
  t.pid = pid;
  return t;
}

}  // namespace

Result<NetnsTarget> resolve_ns_target(std::string_view target, std::string_view ns) {
  if (target.empty()) return make_error("empty namespace target");
  if (target.find('/') != std::string_view::npos) return open_path(std::string(target), 0);
  if (all_digits(target)) {
    int pid = std::stoi(std::string(target));
    return open_path("/proc/" + std::string(target) + "/ns/" + std::string(ns), pid);
  }
  if (ns == "net") {
    std::string named = "/run/netns/" + std::string(target);
    struct stat st {};
    if (::stat(named.c_str(), &st) == 0) return open_path(named, 0);
  }
  return make_error("unknown namespace target '" + std::string(target) +
                    "': not a path, a PID or a named netns");
}

Status enter_netns(const NetnsTarget& target) {
  if (::setns(target.fd.get(), CLONE_NEWNET) != 0)
    return os_error("setns " + target.path, "CAP_SYS_ADMIN");
  return {};
}

Result<NetnsGuard> NetnsGuard::enter(const NetnsTarget& target) {
  int old = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (old < 0) return os_error("open /proc/thread-self/ns/net");
  UniqueFd old_fd(old);
  if (auto st = enter_netns(target); !st) return st.error();
  return NetnsGuard(std::move(old_fd));
}

NetnsGuard::~NetnsGuard() {
  if (old_) (void)::setns(old_.get(), CLONE_NEWNET);
}

}  // namespace netshoot::core

// ss / netstat: socket inode -> process map, and the endpoint/table formatting.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "applets/ss/ss.h"

namespace netshoot::applet::ss {
namespace {

bool all_digits(const char* s) {
  if (*s == '\0') return false;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

std::string read_small(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

ProcMap scan_processes() {
  ProcMap map;
  DIR* proc = ::opendir("/proc");
  if (!proc) return map;
  while (dirent* pe = ::readdir(proc)) {
    if (!all_digits(pe->d_name)) continue;
    std::string base = std::string("/proc/") + pe->d_name;
    DIR* fds = ::opendir((base + "/fd").c_str());
    if (!fds) continue;
    std::string comm, program;
    bool named = false;
    while (dirent* fe = ::readdir(fds)) {
      if (!all_digits(fe->d_name)) continue;
      char link[64];
      ssize_t n = ::readlinkat(::dirfd(fds), fe->d_name, link, sizeof link - 1);
      if (n <= 9 || std::memcmp(link, "socket:[", 8) != 0) continue;
      link[n] = '\0';
      uint32_t inode = static_cast<uint32_t>(std::strtoul(link + 8, nullptr, 10));
      if (!named) {
        comm = read_small(base + "/comm");
        if (!comm.empty() && comm.back() == '\n') comm.pop_back();
        std::string cmd = read_small(base + "/cmdline");
        cmd = cmd.substr(0, cmd.find('\0'));
        if (size_t sl = cmd.rfind('/'); sl != std::string::npos) cmd = cmd.substr(sl + 1);
        if (size_t sp = cmd.find(' '); sp != std::string::npos && cmd.find(':') != std::string::npos) cmd.resize(sp);
        program = cmd.empty() ? comm : cmd;
        named = true;
      }
      map.emplace(inode, ProcRef{std::atoi(pe->d_name), std::atoi(fe->d_name), comm, program});
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return map;
}

std::string users_column(const ProcMap& procs, uint32_t inode) {
  auto [b, e] = procs.equal_range(inode);
  if (b == e) return {};
  std::vector<const ProcRef*> refs;
  for (auto it = b; it != e; ++it) refs.push_back(&it->second);
  std::sort(refs.begin(), refs.end(), [](auto* x, auto* y) { return std::tie(x->pid, x->fd) > std::tie(y->pid, y->fd); });
  std::string s = "users:(";
  for (size_t i = 0; i < refs.size(); ++i)
    s += fmt::format("{}(\"{}\",pid={},fd={})", i ? "," : "", refs[i]->comm, refs[i]->pid, refs[i]->fd);
  return s + ")";
}

size_t ss_host(char* buf, const core::IpAddr& a, std::string_view dev, bool v6only) {
  size_t n;
  if (a.is_v6() && a.is_unspecified() && !v6only) {
    buf[0] = '*';
    n = 1;
  } else if (a.is_v6()) {
    buf[0] = '[';
    n = 1 + a.format(buf + 1, core::IpAddr::kMaxStringLen);
    buf[n++] = ']';
  } else {
    n = a.format(buf, core::IpAddr::kMaxStringLen);
  }
  if (!dev.empty()) {
    size_t d = std::min<size_t>(dev.size(), 16);  // IFNAMSIZ
    buf[n++] = '%';
    std::memcpy(buf + n, dev.data(), d);
    n += d;
  }
  return n;
}

size_t ss_port(char* buf, uint16_t port, bool numeric, bool udp) {
  if (port == 0) {
    buf[0] = '*';
    return 1;
  }
  if (!numeric) {
    auto name = core::service_name(port, udp ? core::L4Proto::udp : core::L4Proto::tcp);
    if (!name.empty()) {
      size_t n = std::min<size_t>(name.size(), 64);
      std::memcpy(buf, name.data(), n);
      return n;
    }
  }
  return static_cast<size_t>(std::to_chars(buf, buf + 8, port).ptr - buf);
}

std::pair<std::string, std::string> ss_endpoint(const core::IpAddr& a, uint16_t port, const std::string& dev,
                                                bool numeric, bool udp, bool v6only) {
  char h[96], p[72];
  size_t hn = ss_host(h, a, dev, v6only), pn = ss_port(p, port, numeric, udp);
  return {std::string(h, hn), std::string(p, pn)};
}

std::string netstat_endpoint(const core::IpAddr& a, uint16_t port) {
  return a.to_string() + ":" + (port == 0 ? std::string("*") : std::to_string(port));
}

std::string netstat_state(uint8_t state, bool udp) {
  static const char* const kNames[] = {"",          "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
                                       "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
                                       "CLOSE_WAIT", "LAST_ACK",   "LISTEN",    "CLOSING",
                                       "NEW_SYN_RECV"};
  if (udp && state == 7) return "";
  if (state < std::size(kNames)) return kNames[state];
  return std::to_string(state);
}

}  // namespace netshoot::applet::ss

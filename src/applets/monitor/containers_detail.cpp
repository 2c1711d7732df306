// The detail of one container: its processes (from its cgroup), its interfaces
// with addresses (rtnetlink inside its network namespace), its listening sockets
// (its namespace's /proc/PID/net tables, matched to its processes' fds) and the
// per-interface throughput since the previous look.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "containers.h"
#include "netshoot/netlink.h"
#include "netshoot/netns.h"

namespace netshoot::applet::monitor {
namespace {

std::vector<int> pids_by_proc_scan(const std::string& id) {
  std::vector<int> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::string t;
    if (core::read_small_file(std::string("/proc/") + e->d_name + "/cgroup", t) && t.find(id) != std::string::npos)
      out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

bool read_proc(int pid, ProcInfo& p, uint64_t& ticks) {
  std::string t;
  std::string base = "/proc/" + std::to_string(pid);
  if (!core::read_small_file(base + "/stat", t)) return false;
  size_t open = t.find('('), close = t.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= t.size()) return false;
  std::string comm = t.substr(open + 1, close - open - 1);
  p.pid = pid;
  p.state = t[close + 2];
  // Fields after the state: ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  unsigned long long ut = 0, st = 0;
  long long rss = 0;
  if (std::sscanf(t.c_str() + close + 4,
                  "%*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %*u %*u %lld", &ut, &st,
                  &rss) == 3) {
    ticks = ut + st;
    p.rss = rss > 0 ? uint64_t(rss) * uint64_t(::sysconf(_SC_PAGESIZE)) : 0;
  }
  std::string cmd;
  if (core::read_small_file(base + "/cmdline", cmd) && !cmd.empty()) {
    while (!cmd.empty() && cmd.back() == '\0') cmd.pop_back();
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    for (char& c : cmd)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    p.cmd = cmd;
  } else {
    p.cmd = "[" + comm + "]";
  }
  return true;
}

// socket inode -> "comm(pid)" over the container's processes.
std::map<uint64_t, std::string> socket_owners(const std::vector<ProcInfo>& procs) {
  std::map<uint64_t, std::string> out;
  for (const auto& p : procs) {
    std::string dir = "/proc/" + std::to_string(p.pid) + "/fd";
    DIR* d = ::opendir(dir.c_str());
    if (!d) continue;
    std::string label = p.cmd.substr(0, p.cmd.find(' '));
    if (size_t sl = label.rfind('/'); sl != std::string::npos) label.erase(0, sl + 1);
    label += "(" + std::to_string(p.pid) + ")";
    int n = 0;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.' || ++n > 4096) continue;
      char buf[64];
      ssize_t len = ::readlinkat(::dirfd(d), e->d_name, buf, sizeof buf - 1);
      if (len <= 8) continue;
      buf[len] = 0;
      if (std::strncmp(buf, "socket:[", 8) == 0) out.emplace(std::strtoull(buf + 8, nullptr, 10), label);
    }
    ::closedir(d);
  }
  return out;
}

}  // namespace

Detail read_detail(const ContainerRow& row, const core::CgroupMounts& m, const Detail* prev, double dt) {
  Detail d;
  d.id = row.id;
  if (!row.running) {
    d.error = "container is " + row.state;
    return d;
  }
  std::vector<int> pids = row.cgroup.empty() ? pids_by_proc_scan(row.id) : core::cgroup_procs(m, row.cgroup);
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  if (pids.size() > 500) pids.resize(500);
  std::map<int, uint64_t> old_ticks;
  if (prev && prev->id == row.id)
    for (const auto& p : prev->procs) old_ticks[p.pid] = p.ticks;
  long hz = ::sysconf(_SC_CLK_TCK);
  for (int pid : pids) {
    ProcInfo p;
    uint64_t ticks = 0;
    if (!read_proc(pid, p, ticks)) continue;  // exited meanwhile
    p.ticks = ticks;
    if (auto it = old_ticks.find(pid); it != old_ticks.end() && dt > 0.05 && ticks >= it->second && hz > 0)
      p.cpu_percent = double(ticks - it->second) / double(hz) / dt * 100.0;
    d.procs.push_back(std::move(p));
  }

  int pid = row.pid > 0 ? row.pid : (d.procs.empty() ? 0 : d.procs.front().pid);
  if (pid <= 0) {
    d.error = "no process of the container is visible here";
    return d;
  }
  std::string base = "/proc/" + std::to_string(pid) + "/net/";
  std::string t;
  std::map<std::string, IfCounters> counters;
  if (core::read_small_file(base + "dev", t))
    for (auto& c : parse_net_dev(t)) counters[c.name] = c;
  std::map<std::string, std::pair<uint64_t, uint64_t>> old_bytes;
  if (prev && prev->id == row.id)
    for (const auto& i : prev->ifs) old_bytes[i.name] = {i.rx_bytes, i.tx_bytes};

  // Interfaces and addresses from inside the namespace.
  bool from_netlink = false;
  auto target = core::open_ns_file("/proc/" + std::to_string(pid) + "/ns/net", "net", pid);
  if (target) {
    auto guard = core::NetnsGuard::enter(*target);
    if (guard) {
      auto links = core::dump_links();
      auto addrs = core::dump_addresses();
      if (links) {
        from_netlink = true;
        for (const auto& l : *links) {
          IfInfo i;
          i.name = l.name;
          i.state = l.operstate_name();
          if (l.loopback()) i.state = l.up() ? "UP" : "DOWN";
          i.mac = l.loopback() ? "" : core::format_lladdr(l.address);
          if (addrs)
            for (const auto& a : *addrs)
              if (a.ifindex == l.index)
                i.addrs.push_back(a.own().to_string() + "/" + std::to_string(a.prefixlen));
          d.ifs.push_back(std::move(i));
        }
      } else {
        d.error = links.error().message();
      }
    } else {
      d.error = guard.error().message();
    }
  } else {
    d.error = target.error().message();
  }
  if (!from_netlink)
    for (const auto& [name, c] : counters) {
      IfInfo i;
      i.name = name;
      i.state = "?";
      d.ifs.push_back(std::move(i));
    }
  for (auto& i : d.ifs) {
    auto c = counters.find(i.name);
    if (c == counters.end()) continue;
    i.rx_bytes = c->second.rx_bytes;
    i.tx_bytes = c->second.tx_bytes;
    if (auto o = old_bytes.find(i.name); o != old_bytes.end() && dt > 0.05) {
      if (i.rx_bytes >= o->second.first) i.rx_rate = double(i.rx_bytes - o->second.first) / dt;
      if (i.tx_bytes >= o->second.second) i.tx_rate = double(i.tx_bytes - o->second.second) / dt;
    }
  }

  auto owners = socket_owners(d.procs);
  for (const char* proto : {"tcp", "tcp6", "udp", "udp6"}) {
    if (!core::read_small_file(base + proto, t)) continue;
    for (auto& l : parse_proc_net_listeners(t, proto)) {
      if (auto o = owners.find(l.inode); o != owners.end()) l.process = o->second;
      d.listeners.push_back(std::move(l));
    }
  }
  return d;
}

}  // namespace netshoot::applet::monitor

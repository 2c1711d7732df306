// ss: the sockets' sources: sock_diag dumps, and every network namespace of the
// host (named, docker's, per-process) labelled with the container owning it.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>

#include "applets/ss/ss.h"
#include "netshoot/docker.h"
#include "netshoot/log.h"

namespace netshoot::applet::ss {

core::Result<std::vector<core::InetSocket>> dump_inet(int protocol, bool v4, bool v6, uint32_t states,
                                                      bool tcp_details) {
  std::vector<core::InetSocket> all;
  for (int family : {AF_INET, AF_INET6}) {
    if ((family == AF_INET && !v4) || (family == AF_INET6 && !v6)) continue;
    auto r = core::dump_inet_sockets(family, protocol, states, tcp_details);
    if (!r) {
      if (protocol == IPPROTO_RAW && r.error().code == ENOENT) continue;  // no raw_diag module
      return r.error();
    }
    if (all.empty()) all = std::move(*r);
    else all.insert(all.end(), std::make_move_iterator(r->begin()), std::make_move_iterator(r->end()));
  }
  return all;
}

namespace {

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

std::vector<HostNetns> host_namespaces() {
  std::map<ino_t, HostNetns> by_ino;
  std::vector<ino_t> order;
  auto add = [&](const std::string& path, const std::string& label) -> HostNetns* {
    ino_t ino = inode_of(path);
    if (ino == 0) return nullptr;
    auto [it, fresh] = by_ino.try_emplace(ino);
    if (fresh) {
      it->second.path = path;
      it->second.label = label;
      order.push_back(ino);
    }
    return &it->second;
  };
  ino_t self = inode_of("/proc/self/ns/net");
  add("/proc/self/ns/net", "host");
  for (const auto& n : list_dir("/run/netns")) add("/run/netns/" + n, n);
  for (const auto& n : list_dir("/var/run/docker/netns")) add("/var/run/docker/netns/" + n, "docker:" + n);
  for (const auto& p : list_dir("/proc")) {
    if (!std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    std::string path = "/proc/" + p + "/ns/net";
    if (by_ino.count(inode_of(path))) continue;
    std::ifstream f("/proc/" + p + "/comm");
    std::string comm;
    std::getline(f, comm);
    add(path, p + "/" + comm);
  }
  // Containers (Docker Engine API, or podman's compatible socket): best effort.
  if (auto client = core::DockerClient::connect()) {
    client->set_timeout_ms(3000);
    if (auto list = client->list_containers(false)) {
      for (const auto& c : *list) {
        auto info = client->inspect(c.id);
        if (!info || !info->running) continue;
        std::string name = info->name.empty() ? c.id.substr(0, 12) : info->name;
        ino_t ino = info->pid > 0 ? inode_of("/proc/" + std::to_string(info->pid) + "/ns/net") : 0;
        if (ino == 0 && !info->netns_path.empty()) ino = inode_of(info->netns_path);
        auto it = by_ino.find(ino);
        if (it == by_ino.end()) continue;
        if (it->second.container.empty()) it->second.container = name;
        else it->second.container += "," + name;
        it->second.label = it->second.container;
      }
    } else {
      spdlog::debug("containers: {}", list.error().message());
    }
  }
  std::vector<HostNetns> out;
  for (ino_t ino : order) {
    HostNetns n = by_ino[ino];
    n.current = ino == self;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace netshoot::applet::ss

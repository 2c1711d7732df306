// netns: list every network namespace on the host: named ones (ip netns), docker's,
// and those only held by processes, with their netns id, container and processes.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "netshoot/applet.h"
#include "netshoot/docker.h"
#include "netshoot/log.h"
#include "netshoot/netns.h"
#include "netshoot/output.h"

namespace netshoot::applet::netns {
namespace {

using core::Json;

struct Options {
  bool containers = true;
  std::string socket;
  size_t max_pids = 5;
};

struct NsInfo {
  uint64_t inode = 0;
  std::vector<std::string> names;       // /run/netns/NAME -> NAME
  std::vector<std::string> paths;       // every file that names it
  std::vector<std::string> containers;  // container names
  std::vector<int> pids;                // sorted
  std::string process;                  // comm of the lowest PID
  int nsid = -1;
  bool current = false;
};

using NsMap = std::map<uint64_t, NsInfo>;  // by inode: every nsfs inode is one namespace

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// Adds the namespace file at `path` (when it really is a mounted netns).
NsInfo* add_file(NsMap& map, const std::string& path) {
  auto t = core::open_ns_file(path, "net");
  if (!t) {
    spdlog::debug("skipping {}: {}", path, t.error().message());
    return nullptr;
  }
  struct stat st {};
  if (::fstat(t->fd.get(), &st) != 0) return nullptr;
  NsInfo& ns = map[st.st_ino];
  ns.inode = st.st_ino;
  ns.paths.push_back(path);
  return &ns;
}

std::string read_comm(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/comm");
  std::string s;
  std::getline(f, s);
  return s;
}

void scan_processes(NsMap& map) {
  for (const auto& e : list_dir("/proc")) {
    if (e.empty() || !std::all_of(e.begin(), e.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    struct stat st {};
    if (::stat(("/proc/" + e + "/ns/net").c_str(), &st) != 0) continue;  // gone, or not ours to see
    NsInfo& ns = map[st.st_ino];
    ns.inode = st.st_ino;
    ns.pids.push_back(std::stoi(e));
  }
  for (auto& [ino, ns] : map) {
    std::sort(ns.pids.begin(), ns.pids.end());
    for (int pid : ns.pids) {
      ns.process = read_comm(pid);
      if (!ns.process.empty()) break;
    }
  }
}

void add_containers(NsMap& map, const Options& o) {
  auto client = core::DockerClient::connect(o.socket);
  if (!client) {
    spdlog::debug("containers: {}", client.error().message());
    return;
  }
  client->set_timeout_ms(3000);
  auto list = client->list_containers(false);
  if (!list) {
    spdlog::debug("containers: {}", list.error().message());
    return;
  }
  for (const auto& c : *list) {
    auto info = client->inspect(c.id);
    if (!info || !info->running) continue;
    std::string name = info->name.empty() ? c.id.substr(0, 12) : info->name;
    struct stat st {};
    bool found = false;
    if (info->pid > 0 && ::stat(("/proc/" + std::to_string(info->pid) + "/ns/net").c_str(), &st) == 0)
      found = true;
    else if (!info->netns_path.empty() && ::stat(info->netns_path.c_str(), &st) == 0)
      found = true;
    if (!found) continue;
    NsInfo& ns = map[st.st_ino];
    ns.inode = st.st_ino;
    if (std::find(ns.containers.begin(), ns.containers.end(), name) == ns.containers.end())
      ns.containers.push_back(name);
  }
}

NsMap collect(const Options& o) {
  NsMap map;
  for (const auto& n : list_dir("/run/netns"))
    if (NsInfo* ns = add_file(map, "/run/netns/" + n)) ns->names.push_back(n);
  for (const auto& n : list_dir("/var/run/docker/netns")) add_file(map, "/var/run/docker/netns/" + n);
  scan_processes(map);
  if (o.containers) add_containers(map, o);

  struct stat self {};
  if (::stat("/proc/self/ns/net", &self) == 0) {
    NsInfo& ns = map[self.st_ino];
    ns.inode = self.st_ino;
    ns.current = true;
  }
  // netns ids, as assigned by the current namespace.
  for (auto& [ino, ns] : map) {
    std::string path = !ns.paths.empty() ? ns.paths.front()
                       : !ns.pids.empty() ? "/proc/" + std::to_string(ns.pids.front()) + "/ns/net"
                                          : std::string("/proc/self/ns/net");
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    core::UniqueFd owned(fd);
    if (auto id = core::netns_id(fd)) ns.nsid = *id;
  }
  return map;
}

std::string join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string pid_summary(const NsInfo& ns, size_t max) {
  if (ns.pids.empty()) return "-";
  std::string s;
  for (size_t i = 0; i < ns.pids.size() && i < max; ++i) s += (i ? "," : "") + std::to_string(ns.pids[i]);
  if (ns.pids.size() > max) s += ",...";
  return s;
}

std::string names_text(const NsInfo& ns) {
  std::vector<std::string> v = ns.names;
  for (const auto& p : ns.paths)
    if (p.rfind("/run/netns/", 0) != 0) v.push_back(p);  // docker's and other files: the full path
  return v.empty() ? "-" : join(v);
}

int list(const Context& ctx, const Options& o) {
  NsMap map = collect(o);
  auto out = core::Output::make(ctx.json);
  out->set_batch(true);

  struct Row {
    const NsInfo* ns;
    std::string cols[7];
  };
  std::vector<Row> rows;
  const char* header[7] = {"NETNS", "NSID", "NAME", "CONTAINER", "PROCS", "PIDS", "COMMAND"};
  size_t width[7];
  for (int i = 0; i < 7; ++i) width[i] = std::string_view(header[i]).size();
  for (const auto& [ino, ns] : map) {
    Row r{&ns, {}};
    r.cols[0] = (ns.current ? "*net:[" : "net:[") + std::to_string(ino) + "]";
    r.cols[1] = ns.nsid >= 0 ? std::to_string(ns.nsid) : "-";
    r.cols[2] = names_text(ns);
    r.cols[3] = ns.containers.empty() ? "-" : join(ns.containers);
    r.cols[4] = std::to_string(ns.pids.size());
    r.cols[5] = pid_summary(ns, o.max_pids);
    r.cols[6] = ns.process.empty() ? "-" : ns.process;
    for (int i = 0; i < 7; ++i) width[i] = std::max(width[i], r.cols[i].size());
    rows.push_back(std::move(r));
  }
  auto format = [&](const std::string* cols) {
    std::string line;
    for (int i = 0; i < 7; ++i) {
      line += cols[i];
      if (i < 6) line += std::string(width[i] - cols[i].size() + 2, ' ');
    }
    return line;
  };
  std::string head[7];
  for (int i = 0; i < 7; ++i) head[i] = header[i];
  out->text(format(head));
  for (const auto& r : rows) {
    const NsInfo& ns = *r.ns;
    Json j;
    j["netns"] = "net:[" + std::to_string(ns.inode) + "]";
    j["inode"] = ns.inode;
    j["nsid"] = ns.nsid >= 0 ? Json(ns.nsid) : Json(nullptr);
    j["names"] = ns.names;
    j["paths"] = ns.paths;
    j["containers"] = ns.containers;
    j["nprocs"] = ns.pids.size();
    std::vector<int> first(ns.pids.begin(), ns.pids.begin() + std::min(ns.pids.size(), size_t{32}));
    j["pids"] = first;
    j["process"] = ns.process.empty() ? Json(nullptr) : Json(ns.process);
    j["current"] = ns.current;
    out->record("netns", j, format(r.cols));
  }
  out->flush();
  return kExitOk;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  CLI::App app{"List network namespaces: named (ip netns), docker's and per-process ones, with\n"
               "their netns id, container and processes. '*' marks the current namespace.",
               "netns"};
  Options o;
  bool no_containers = false;
  app.add_flag("--no-containers", no_containers, "do not ask the container API for container names");
  app.add_option("--socket", o.socket, "container API socket (default: DOCKER_HOST, docker's, podman's)");
  app.add_option("--max-pids", o.max_pids, "PIDs shown per namespace in the text table")->capture_default_str();
  app.fallthrough();  // before add_subcommand: options may follow "list"
  app.add_subcommand("list", "list network namespaces (the default)");
  app.require_subcommand(0, 1);
  app.footer(
      "Examples:\n"
      "  netshoot netns                          every netns on the host\n"
      "  netshoot netns list --json              one JSON object per namespace\n"
      "  netshoot netns --netns web              ids as seen from container web's netns\n"
      "  netshoot netns --no-containers          skip the container API lookup\n"
      "  nsenter --net=/run/netns/NAME sh        then enter one (see nsenter --help)\n");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  o.containers = !no_containers;
  return list(ctx, o);
}

}  // namespace netshoot::applet::netns

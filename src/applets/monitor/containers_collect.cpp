// Collection for the containers view: one API list per refresh (names, states,
// images), then the numbers straight from each container's cgroup files and its
// own network namespace (/proc/PID/net/dev). With no API, the container cgroups
// are found by walking the cgroup filesystem and named from the runtimes' state
// files. When the host's cgroups are not visible (netshoot itself in a container
// with only the API socket mounted), the API's stats call supplies the numbers.
#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "containers.h"

namespace netshoot::applet::monitor {
namespace {

using nlohmann::json;

double now_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

uint64_t host_mem_total() {
  static uint64_t total = [] {
    std::string t;
    if (!core::read_small_file("/proc/meminfo", t)) return uint64_t(0);
    size_t p = t.find("MemTotal:");
    if (p == std::string::npos) return uint64_t(0);
    return uint64_t(std::strtoull(t.c_str() + p + 9, nullptr, 10)) * 1024;
  }();
  return total;
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string jstr(const json& j, const char* k) {
  if (!j.is_object()) return {};
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<uint64_t> ju64(const json& j, const char* k) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(k);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    return v < 0 ? std::nullopt : std::optional<uint64_t>(uint64_t(v));
  }
  double d = it->get<double>();
  return d < 0 ? std::nullopt : std::optional<uint64_t>(uint64_t(d));
}

const json& jobj(const json& j, const char* k) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(k);
  return it == j.end() ? kNull : *it;
}

// Sums the counters of every interface but loopback.
bool read_net_totals(int pid, uint64_t& rx, uint64_t& tx) {
  std::string t;
  if (pid <= 0 || !core::read_small_file("/proc/" + std::to_string(pid) + "/net/dev", t)) return false;
  rx = tx = 0;
  for (const auto& c : parse_net_dev(t)) {
    if (c.name == "lo") continue;
    rx += c.rx_bytes;
    tx += c.tx_bytes;
  }
  return true;
}

// Annotations of an OCI bundle's config.json -> "namespace/pod/container".
std::string name_from_bundle(const std::string& path) {
  std::string t;
  if (!core::read_small_file(path, t)) return {};
  auto doc = json::parse(t, nullptr, false);
  const json& a = jobj(doc, "annotations");
  if (!a.is_object()) return {};
  std::string ns = jstr(a, "io.kubernetes.cri.sandbox-namespace");
  std::string pod = jstr(a, "io.kubernetes.cri.sandbox-name");
  std::string ctr = jstr(a, "io.kubernetes.cri.container-name");
  if (jstr(a, "io.kubernetes.cri.container-type") == "sandbox") ctr = "POD";
  if (pod.empty()) {  // CRI-O
    ns = jstr(a, "io.kubernetes.pod.namespace");
    pod = jstr(a, "io.kubernetes.pod.name");
    ctr = jstr(a, "io.kubernetes.container.name");
    if (jstr(a, "io.kubernetes.cri-o.ContainerType") == "sandbox") ctr = "POD";
  }
  if (pod.empty()) return {};
  std::string n = ns.empty() ? pod : ns + "/" + pod;
  return ctr.empty() ? n : n + "/" + ctr;
}

}  // namespace

std::vector<IfCounters> parse_net_dev(std::string_view text) {
  std::vector<IfCounters> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    std::string line(text.substr(pos, e - pos));
    pos = e + 1;
    size_t colon = line.find(':');
    if (colon == std::string::npos || line.find('|') != std::string::npos) continue;
    IfCounters c;
    size_t b = line.find_first_not_of(' ');
    c.name = line.substr(b, colon - b);
    unsigned long long v[16] = {};
    int n = std::sscanf(line.c_str() + colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                        &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    if (n < 10 || c.name.empty()) continue;
    c.rx_bytes = v[0];
    c.rx_packets = v[1];
    c.tx_bytes = v[8];
    c.tx_packets = v[9];
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Listener> parse_proc_net_listeners(std::string_view text, std::string_view proto) {
  std::vector<Listener> out;
  bool v6 = proto.size() > 3 && proto.back() == '6';
  bool tcp = proto.substr(0, 3) == "tcp";
  size_t pos = text.find('\n');  // skip the header
  while (pos != std::string_view::npos && pos < text.size()) {
    size_t start = pos + 1;
    size_t e = text.find('\n', start);
    std::string line(text.substr(start, e == std::string_view::npos ? std::string_view::npos : e - start));
    pos = e;
    char local[64] = {}, remote[64] = {};
    unsigned st = 0;
    unsigned long long inode = 0;
    // sl local rem st tx:rx tr:when retr uid timeout inode
    if (std::sscanf(line.c_str(), " %*s %63s %63s %x %*s %*s %*s %*s %*s %llu", local, remote, &st, &inode) != 4)
      continue;
    if (tcp ? st != 0x0A : st != 0x07) continue;
    std::string_view rem = remote;
    if (!tcp && rem.substr(rem.find(':') + 1) != "0000") continue;  // connected UDP
    std::string_view loc = local;
    size_t colon = loc.find(':');
    if (colon == std::string_view::npos) continue;
    std::string hex(loc.substr(0, colon));
    unsigned port = unsigned(std::strtoul(std::string(loc.substr(colon + 1)).c_str(), nullptr, 16));
    char buf[INET6_ADDRSTRLEN] = {};
    if (!v6 && hex.size() == 8) {
      uint32_t a = uint32_t(std::strtoul(hex.c_str(), nullptr, 16));  // network order read as a host word
      in_addr ia{};
      ia.s_addr = a;
      ::inet_ntop(AF_INET, &ia, buf, sizeof buf);
    } else if (v6 && hex.size() == 32) {
      in6_addr ia{};
      for (int w = 0; w < 4; ++w) {
        uint32_t word = uint32_t(std::strtoul(hex.substr(size_t(w) * 8, 8).c_str(), nullptr, 16));
        std::memcpy(&ia.s6_addr[w * 4], &word, 4);
      }
      ::inet_ntop(AF_INET6, &ia, buf, sizeof buf);
    } else {
      continue;
    }
    Listener l;
    l.proto = std::string(proto);
    l.local = v6 ? "[" + std::string(buf) + "]:" + std::to_string(port) : std::string(buf) + ":" + std::to_string(port);
    l.inode = inode;
    out.push_back(std::move(l));
  }
  return out;
}

std::string name_from_process(int pid, const std::string& id) {
  static const char* kBundles[] = {
      "/run/containerd/io.containerd.runtime.v2.task/k8s.io/",
      "/run/containerd/io.containerd.runtime.v2.task/moby/",
      "/run/containerd/io.containerd.runtime.v2.task/default/",
      "/run/containers/storage/overlay-containers/",  // CRI-O: <id>/userdata/config.json
  };
  for (const char* b : kBundles) {
    std::string dir = std::string(b) + id;
    std::string n = name_from_bundle(dir + "/config.json");
    if (n.empty()) n = name_from_bundle(dir + "/userdata/config.json");
    if (!n.empty()) return n;
  }
  std::string h;
  if (pid > 0 && core::read_small_file("/proc/" + std::to_string(pid) + "/root/etc/hostname", h)) {
    while (!h.empty() && (h.back() == '\n' || h.back() == ' ')) h.pop_back();
    if (!h.empty() && h.size() < 254 && h.find('\n') == std::string::npos) return h;
  }
  return {};
}

std::vector<ContainerRow> runtime_state_rows(const std::string& root) {
  std::vector<ContainerRow> out;
  // docker: one config.v2.json per container.
  std::string ddir = root + "/var/lib/docker/containers";
  if (DIR* d = ::opendir(ddir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (!is_hex64(e->d_name)) continue;
      std::string t;
      if (!core::read_small_file(ddir + "/" + e->d_name + "/config.v2.json", t)) continue;
      auto doc = json::parse(t, nullptr, false);
      if (!doc.is_object()) continue;
      ContainerRow r;
      r.id = e->d_name;
      r.runtime = "docker";
      r.name = jstr(doc, "Name");
      if (!r.name.empty() && r.name[0] == '/') r.name.erase(0, 1);
      r.image = jstr(jobj(doc, "Config"), "Image");
      const json& st = jobj(doc, "State");
      auto flag = [&](const char* k) { const json& v = jobj(st, k); return v.is_boolean() && v.get<bool>(); };
      if (flag("Running")) r.state = flag("Paused") ? "paused" : "running";
      else if (jstr(st, "StartedAt").rfind("0001-", 0) == 0) r.state = "created";
      else r.state = "exited";
      out.push_back(std::move(r));
    }
    ::closedir(d);
  }
  // podman: its storage's container list (state lives in a database we do not read:
  // containers without a cgroup are reported as "stopped").
  std::string t;
  if (core::read_small_file(root + "/var/lib/containers/storage/overlay-containers/containers.json", t)) {
    auto doc = json::parse(t, nullptr, false);
    if (doc.is_array()) {
      for (const auto& c : doc) {
        ContainerRow r;
        r.id = jstr(c, "id");
        if (!is_hex64(r.id)) continue;
        r.runtime = "podman";
        const json& names = jobj(c, "names");
        if (names.is_array() && !names.empty() && names[0].is_string()) r.name = names[0].get<std::string>();
        auto meta = json::parse(jstr(c, "metadata"), nullptr, false);
        r.image = jstr(meta, "image-name");
        r.state = "stopped";
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

core::Result<Collector> Collector::make(const CollectorConfig& cfg) {
  Collector c;
  c.cfg_ = cfg;
  c.mounts_ = core::CgroupMounts::detect();
  if (!cfg.no_api) {
    const char* dh = std::getenv("DOCKER_HOST");
    bool explicit_socket = !cfg.socket.empty() || (dh && *dh);
    auto path = core::find_docker_socket(cfg.socket);
    if (!path) {
      if (explicit_socket) return path.error();
    } else {
      core::DockerClient client(*path, cfg.api_timeout_ms);
      auto list = client.list_containers(true);  // a socket that is no API fails here
      if (!list) {
        if (explicit_socket) return list.error();
        c.warning_ = list.error().message() + "; reading the cgroup filesystem instead";
      } else {
        c.client_ = std::move(client);
        c.source_ = "api unix://" + *path;
      }
    }
  }
  if (!c.client_) {
    if (!c.mounts_.found())
      return core::make_error("no container API socket and no cgroup filesystem found (is /sys/fs/cgroup mounted?)");
    c.source_ = c.mounts_.v2 ? "cgroup v2" : "cgroup v1";
  }
  return c;
}

void Collector::fill_from_cgroup(ContainerRow& r) {
  core::CgroupStats s = core::read_cgroup_stats(mounts_, r.cgroup);
  cpu_scratch_ = s.cpu_ns;
  r.mem_used = s.mem_used();
  uint64_t host = host_mem_total();
  if (s.mem_limit && (host == 0 || *s.mem_limit < host)) {
    r.mem_limit = s.mem_limit;
    r.mem_limited = true;
  } else if (host) {
    r.mem_limit = host;
  }
  r.io_read = s.io_read;
  r.io_write = s.io_write;
  r.pids = s.pids;
}

void Collector::fill_from_api_stats(ContainerRow& r) {
  if (!client_) return;
  auto doc = client_->get_json("/containers/" + core::url_encode_segment(r.id) + "/stats?stream=false&one-shot=true");
  if (!doc) return;
  r.source = "api-stats";
  const json& cpu = jobj(jobj(*doc, "cpu_stats"), "cpu_usage");
  cpu_scratch_ = ju64(cpu, "total_usage");
  const json& mem = jobj(*doc, "memory_stats");
  if (auto u = ju64(mem, "usage")) {
    const json& ms = jobj(mem, "stats");
    uint64_t inactive = ju64(ms, "total_inactive_file").value_or(ju64(ms, "inactive_file").value_or(0));
    r.mem_used = *u > inactive ? *u - inactive : 0;
  }
  if (auto l = ju64(mem, "limit")) {
    uint64_t host = host_mem_total();
    r.mem_limit = *l;
    r.mem_limited = host == 0 || *l < host;
  }
  if (!r.net_rx) {
    const json& nets = jobj(*doc, "networks");
    if (nets.is_object()) {
      uint64_t rx = 0, tx = 0;
      for (auto it = nets.begin(); it != nets.end(); ++it) {
        rx += ju64(*it, "rx_bytes").value_or(0);
        tx += ju64(*it, "tx_bytes").value_or(0);
      }
      r.net_rx = rx;
      r.net_tx = tx;
    }
  }
  const json& io = jobj(jobj(*doc, "blkio_stats"), "io_service_bytes_recursive");
  if (io.is_array()) {
    uint64_t rd = 0, wr = 0;
    for (const auto& e : io) {
      std::string op = jstr(e, "op");
      uint64_t v = ju64(e, "value").value_or(0);
      if (op == "Read" || op == "read") rd += v;
      else if (op == "Write" || op == "write") wr += v;
    }
    r.io_read = rd;
    r.io_write = wr;
  }
  r.pids = ju64(jobj(*doc, "pids_stats"), "current");
}

void Collector::rates(ContainerRow& r, double now) {
  Prev& p = prev_[r.id];
  double dt = now - p.t;
  bool have = p.t > 0 && dt > 0.05;
  auto rate = [&](const std::optional<uint64_t>& cur, const std::optional<uint64_t>& old) -> std::optional<double> {
    if (!have || !cur || !old || *cur < *old) return std::nullopt;
    return double(*cur - *old) / dt;
  };
  r.cpu_ns = cpu_scratch_;
  if (auto c = rate(cpu_scratch_, p.cpu_ns)) r.cpu_percent = *c / 1e9 * 100.0;
  r.net_rx_rate = rate(r.net_rx, p.net_rx);
  r.net_tx_rate = rate(r.net_tx, p.net_tx);
  r.io_read_rate = rate(r.io_read, p.io_r);
  r.io_write_rate = rate(r.io_write, p.io_w);
  p.t = now;
  p.cpu_ns = cpu_scratch_;
  p.net_rx = r.net_rx;
  p.net_tx = r.net_tx;
  p.io_r = r.io_read;
  p.io_w = r.io_write;
}

// Reads one running container whose cgroup is known: numbers from the cgroup
// files, network counters from the namespace of one of its processes.
void Collector::read_running(ContainerRow& r, double now) {
  cpu_scratch_.reset();
  if (!r.cgroup.empty()) {
    fill_from_cgroup(r);
    ApiFacts& f = facts_[r.id];
    if (f.pid <= 0 || !f.pid_ok) {
      auto procs = core::cgroup_procs(mounts_, r.cgroup);
      if (!procs.empty()) {
        f.pid = *std::min_element(procs.begin(), procs.end());
        f.pid_ok = true;
      }
    }
    if (f.pid_ok) r.pid = f.pid;
  }
  uint64_t rx = 0, tx = 0;
  if (r.pid > 0 && read_net_totals(r.pid, rx, tx)) {
    r.net_rx = rx;
    r.net_tx = tx;
  } else if (r.pid > 0) {
    facts_[r.id].pid_ok = false;  // the process went away: look again next time
    facts_[r.id].inspected = false;
    r.pid = 0;
  }
  if (r.cgroup.empty()) fill_from_api_stats(r);
  rates(r, now);
}

std::vector<ContainerRow> Collector::from_cgroups() {
  double now = now_s();
  std::vector<ContainerRow> rows;
  auto found = core::find_container_cgroups(mounts_);
  bool unknown = false;
  for (const auto& c : found)
    if (!names_.count(c.id)) unknown = true;
  if (names_time_ < 0 || now - names_time_ > 10 || (unknown && now - names_time_ > 1)) {
    stored_.clear();
    for (auto& r : runtime_state_rows()) {
      if (!r.name.empty()) names_[r.id] = r.name;
      stored_[r.id] = std::move(r);
    }
    names_time_ = now;
  }
  std::map<std::string, bool> seen;
  for (const auto& c : found) {
    if (seen[c.id]) continue;
    seen[c.id] = true;
    ContainerRow r;
    r.id = c.id;
    r.runtime = c.runtime;
    r.cgroup = c.path;
    r.pod_uid = c.pod_uid;
    r.running = true;
    r.state = "running";
    r.source = "cgroup";
    if (auto it = stored_.find(c.id); it != stored_.end()) {
      r.image = it->second.image;
      if (it->second.state == "paused") r.state = "paused";
    }
    read_running(r, now);
    auto nit = names_.find(c.id);
    if (nit == names_.end() || nit->second.empty()) {
      std::string n = name_from_process(r.pid, c.id);
      names_[c.id] = n;  // cached either way: looked up once
      nit = names_.find(c.id);
    }
    r.name = nit->second.empty() ? r.short_id() : nit->second;
    rows.push_back(std::move(r));
  }
  for (const auto& [id, s] : stored_) {
    if (seen.count(id)) continue;
    ContainerRow r = s;
    if (r.state == "running" || r.state == "paused") r.state = "exited";  // its cgroup is gone
    r.source = "cgroup";
    if (r.name.empty()) r.name = r.short_id();
    rows.push_back(std::move(r));
  }
  // Forget what no longer exists.
  for (auto it = prev_.begin(); it != prev_.end();) it = seen.count(it->first) ? std::next(it) : prev_.erase(it);
  for (auto it = facts_.begin(); it != facts_.end();) it = seen.count(it->first) ? std::next(it) : facts_.erase(it);
  return rows;
}

std::vector<ContainerRow> Collector::sample(std::string* api_error) {
  if (api_error) api_error->clear();
  if (!client_) return from_cgroups();
  double now = now_s();
  bool rescanned = false;
  bool fresh = last_list_t_ < 0 || now - last_list_t_ >= kListMaxAge - 0.05;
  if (mounts_.found()) {
    // The cgroup walk is cheap; the API list is not (for the daemon): list only
    // when a container cgroup appeared or went away, or the list is old.
    std::string ids;
    cgroups_.clear();
    for (auto& c : core::find_container_cgroups(mounts_)) {
      cgroups_[c.id] = c;
      ids += c.id;
    }
    rescanned = true;
    if (ids != last_cg_ids_) fresh = true;
    last_cg_ids_ = ids;
  } else {
    fresh = true;
  }
  if (fresh) {
    auto list = client_->list_containers(true);
    if (!list) {
      if (api_error) *api_error = list.error().message();
      last_list_t_ = -1;
      return from_cgroups();
    }
    last_list_ = std::move(*list);
    last_list_t_ = now;
  }
  std::vector<ContainerRow> rows;
  std::map<std::string, bool> seen;
  for (auto& s : last_list_) {
    ContainerRow r;
    r.id = s.id;
    r.name = s.names.empty() ? s.id.substr(0, 12) : s.names[0];
    r.image = s.image;
    r.state = s.state.empty() ? "unknown" : s.state;
    r.running = r.state == "running" || r.state == "paused";
    r.source = "api";
    r.runtime = "container";  // refined from the cgroup's name below
    seen[r.id] = true;
    if (r.running) {
      auto cg = cgroups_.find(r.id);
      if (cg == cgroups_.end() && !rescanned && mounts_.found()) {
        rescanned = true;
        cgroups_.clear();
        for (auto& c : core::find_container_cgroups(mounts_)) cgroups_[c.id] = c;
        cg = cgroups_.find(r.id);
      }
      if (cg != cgroups_.end()) {
        r.cgroup = cg->second.path;
        r.runtime = cg->second.runtime;
        r.pod_uid = cg->second.pod_uid;
      }
      ApiFacts& f = facts_[r.id];
      if (!f.inspected || f.state != r.state) {  // once per container (and state change)
        f.inspected = true;
        if (auto info = client_->inspect(r.id)) {
          f.pid = info->pid;
          // Our /proc shows this PID only when we share the host's PID namespace.
          std::string pcg = f.pid > 0 ? core::process_cgroup(mounts_, f.pid) : std::string();
          f.pid_ok = f.pid > 0 && pcg.find(r.id) != std::string::npos;
        }
        f.state = r.state;
      }
      if (f.pid_ok) r.pid = f.pid;
      read_running(r, now);
    }
    rows.push_back(std::move(r));
  }
  for (auto it = prev_.begin(); it != prev_.end();) it = seen.count(it->first) ? std::next(it) : prev_.erase(it);
  for (auto it = facts_.begin(); it != facts_.end();) it = seen.count(it->first) ? std::next(it) : facts_.erase(it);
  return rows;
}

void History::push(const ContainerRow& r, size_t keep) {
  rx.push_back(r.net_rx_rate.value_or(0));
  tx.push_back(r.net_tx_rate.value_or(0));
  cpu.push_back(r.cpu_percent.value_or(0));
  while (rx.size() > keep) rx.pop_front();
  while (tx.size() > keep) tx.pop_front();
  while (cpu.size() > keep) cpu.pop_front();
}

}  // namespace netshoot::applet::monitor

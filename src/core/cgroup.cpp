// Container cgroups read straight from the cgroup filesystem (v1, v2, hybrid).
// Every read is one open/read/close of a small pseudo-file, so a refresh of many
// containers stays cheap.
#include "netshoot/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

namespace netshoot::core {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t e = s.find(sep, pos);
    if (e == std::string_view::npos) e = s.size();
    out.push_back(s.substr(pos, e - pos));
    pos = e + 1;
  }
  return out;
}

bool parse_u64(std::string_view s, uint64_t& out) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    uint64_t nv = v * 10 + uint64_t(c - '0');
    if (nv / 10 != v) return false;
    v = nv;
  }
  out = v;
  return true;
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  return true;
}

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Mount points in /proc/mounts escape space, tab, newline and backslash as \ooo.
std::string unescape_mount(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out += static_cast<char>(v);
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

void walk(const std::string& root, const std::string& rel, int depth, int max_depth,
          std::vector<CgroupContainer>& out) {
  std::string dir = root + rel;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string child = rel + "/" + std::string(name);
    if (auto c = match_container_cgroup(child)) {
      out.push_back(std::move(*c));
      continue;
    }
    if (depth + 1 < max_depth) walk(root, child, depth + 1, max_depth, out);
  }
  ::closedir(d);
}

}  // namespace

bool read_small_file(const std::string& path, std::string& out) {
  out.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
    if (out.size() > (1u << 20)) break;  // pseudo-files here are small; stay bounded
  }
  ::close(fd);
  return true;
}

const std::string& CgroupMounts::walk_root() const {
  if (v2) return unified;
  if (!memory.empty()) return memory;
  if (!pids.empty()) return pids;
  return cpuacct;
}

CgroupMounts CgroupMounts::parse(std::string_view text) {
  CgroupMounts m;
  for (std::string_view line : split(text, '\n')) {
    auto f = split(line, ' ');
    if (f.size() < 4) continue;
    if (f[2] == "cgroup2") {
      if (m.unified.empty()) m.unified = unescape_mount(f[1]);
    } else if (f[2] == "cgroup") {
      for (std::string_view opt : split(f[3], ',')) {
        std::string mp = unescape_mount(f[1]);
        if (opt == "cpuacct" && m.cpuacct.empty()) m.cpuacct = mp;
        else if (opt == "memory" && m.memory.empty()) m.memory = mp;
        else if (opt == "blkio" && m.blkio.empty()) m.blkio = mp;
        else if (opt == "pids" && m.pids.empty()) m.pids = mp;
      }
    }
  }
  // Pure v2: no v1 controller holds the statistics.
  m.v2 = m.memory.empty() && m.cpuacct.empty() && m.pids.empty() && !m.unified.empty();
  return m;
}

CgroupMounts CgroupMounts::detect() {
  std::string text;
  if (!read_small_file("/proc/self/mounts", text)) return {};
  return parse(text);
}

std::optional<CgroupContainer> match_container_cgroup(std::string_view rel) {
  size_t slash = rel.rfind('/');
  std::string_view name = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
  std::string_view parent = slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash);
  if (name.size() > 6 && name.substr(name.size() - 6) == ".scope") name.remove_suffix(6);
  CgroupContainer c;
  struct Prefix {
    std::string_view prefix;
    const char* runtime;
  };
  static constexpr Prefix kPrefixes[] = {
      {"docker-", "docker"}, {"libpod-", "podman"}, {"cri-containerd-", "containerd"},
      {"crio-", "cri-o"},    {"containerd-", "containerd"},
  };
  std::string_view id;
  for (const auto& p : kPrefixes) {
    if (starts_with(name, p.prefix)) {
      id = name.substr(p.prefix.size());
      c.runtime = p.runtime;
      break;
    }
  }
  if (c.runtime.empty()) {
    id = name;
    if (parent.find("docker") != std::string_view::npos) c.runtime = "docker";
    else if (parent.find("libpod") != std::string_view::npos) c.runtime = "podman";
    else if (parent.find("kubepods") != std::string_view::npos) c.runtime = "containerd";
    else c.runtime = "container";
  }
  if (!is_hex64(id)) return std::nullopt;  // also rejects libpod-conmon-<id>, crio-conmon-<id>
  c.id = std::string(id);
  c.path = std::string(rel);
  if (rel.find("kubepods") != std::string_view::npos) {
    for (std::string_view seg : split(parent, '/')) {
      // kubepods-besteffort-pod<uid with _>.slice (systemd) or pod<uid> (cgroupfs)
      size_t p = seg.rfind("pod");
      if (p == std::string_view::npos) continue;
      std::string_view uid = seg.substr(p + 3);
      if (uid.size() > 6 && uid.substr(uid.size() - 6) == ".slice") uid.remove_suffix(6);
      if (uid.size() < 32) continue;
      std::string u(uid);
      for (char& ch : u)
        if (ch == '_') ch = '-';
      c.pod_uid = u;
    }
  }
  return c;
}

std::vector<CgroupContainer> find_container_cgroups(const CgroupMounts& m, int max_depth) {
  std::vector<CgroupContainer> out;
  const std::string& root = m.walk_root();
  if (root.empty()) return out;
  walk(root, "", 0, max_depth, out);
  return out;
}

std::optional<uint64_t> cgroup_keyed_value(std::string_view text, std::string_view key) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t e = text.find('\n', pos);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = text.substr(pos, e - pos);
    if (line.size() > key.size() && starts_with(line, key) && line[key.size()] == ' ') {
      uint64_t v;
      if (parse_u64(line.substr(key.size() + 1), v)) return v;
      return std::nullopt;
    }
    pos = e + 1;
  }
  return std::nullopt;
}

std::optional<uint64_t> cgroup_number(std::string_view text) {
  uint64_t v;
  if (parse_u64(text, v)) return v;
  return std::nullopt;
}

std::optional<uint64_t> cgroup_limit_value(std::string_view text) {
  auto v = cgroup_number(text);
  if (!v || *v >= (uint64_t(1) << 62)) return std::nullopt;  // "max", or v1's PAGE_COUNTER_MAX
  return v;
}

bool parse_blkio_v1(std::string_view text, uint64_t& read, uint64_t& write) {
  read = write = 0;
  bool any = false;
  for (std::string_view line : split(text, '\n')) {
    auto f = split(line, ' ');
    if (f.size() != 3) continue;
    uint64_t v;
    if (!parse_u64(f[2], v)) continue;
    if (f[1] == "Read") read += v, any = true;
    else if (f[1] == "Write") write += v, any = true;
  }
  return any || text.find("Total") != std::string_view::npos;
}

bool parse_io_stat_v2(std::string_view text, uint64_t& read, uint64_t& write) {
  read = write = 0;
  for (std::string_view line : split(text, '\n')) {
    for (std::string_view kv : split(line, ' ')) {
      uint64_t v;
      if (starts_with(kv, "rbytes=") && parse_u64(kv.substr(7), v)) read += v;
      else if (starts_with(kv, "wbytes=") && parse_u64(kv.substr(7), v)) write += v;
    }
  }
  return true;
}

std::optional<uint64_t> CgroupStats::mem_used() const {
  if (!mem_usage) return std::nullopt;
  uint64_t inactive = mem_inactive_file.value_or(0);
  return *mem_usage > inactive ? *mem_usage - inactive : 0;
}

CgroupStats read_cgroup_stats(const CgroupMounts& m, const std::string& rel) {
  CgroupStats s;
  std::string t;
  if (m.v2) {
    const std::string base = m.unified + rel + "/";
    if (read_small_file(base + "cpu.stat", t))
      if (auto v = cgroup_keyed_value(t, "usage_usec")) s.cpu_ns = *v * 1000;
    if (read_small_file(base + "memory.current", t)) s.mem_usage = cgroup_number(t);
    if (read_small_file(base + "memory.max", t)) s.mem_limit = cgroup_limit_value(t);
    if (read_small_file(base + "memory.stat", t)) s.mem_inactive_file = cgroup_keyed_value(t, "inactive_file");
    if (read_small_file(base + "io.stat", t)) {
      uint64_t r, w;
      parse_io_stat_v2(t, r, w);
      s.io_read = r;
      s.io_write = w;
    }
    if (read_small_file(base + "pids.current", t)) s.pids = cgroup_number(t);
    return s;
  }
  if (!m.cpuacct.empty() && read_small_file(m.cpuacct + rel + "/cpuacct.usage", t)) s.cpu_ns = cgroup_number(t);
  if (!m.memory.empty()) {
    const std::string base = m.memory + rel + "/";
    if (read_small_file(base + "memory.usage_in_bytes", t)) s.mem_usage = cgroup_number(t);
    if (read_small_file(base + "memory.limit_in_bytes", t)) s.mem_limit = cgroup_limit_value(t);
    if (read_small_file(base + "memory.stat", t)) s.mem_inactive_file = cgroup_keyed_value(t, "total_inactive_file");
  }
  if (!m.blkio.empty()) {
    const std::string base = m.blkio + rel + "/";
    uint64_t r, w;
    if ((read_small_file(base + "blkio.throttle.io_service_bytes_recursive", t) ||
         read_small_file(base + "blkio.throttle.io_service_bytes", t)) &&
        parse_blkio_v1(t, r, w)) {
      s.io_read = r;
      s.io_write = w;
    }
  }
  if (!m.pids.empty() && read_small_file(m.pids + rel + "/pids.current", t)) s.pids = cgroup_number(t);
  return s;
}

std::vector<int> cgroup_procs(const CgroupMounts& m, const std::string& rel) {
  std::vector<int> out;
  std::string t;
  const std::string& root = m.walk_root();
  if (root.empty() || !read_small_file(root + rel + "/cgroup.procs", t)) return out;
  for (std::string_view line : split(t, '\n')) {
    uint64_t v;
    if (parse_u64(line, v) && v > 0 && v < (1u << 30)) out.push_back(int(v));
  }
  // Processes in sub-cgroups (systemd inside a container, podman's "container" leaf).
  const std::string dir = root + rel;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_type != DT_DIR || e->d_name[0] == '.') continue;
      auto sub = cgroup_procs(m, rel + "/" + e->d_name);
      out.insert(out.end(), sub.begin(), sub.end());
      if (out.size() > 100000) break;
    }
    ::closedir(d);
  }
  return out;
}

std::string process_cgroup(const CgroupMounts& m, int pid) {
  std::string t;
  if (!read_small_file("/proc/" + std::to_string(pid) + "/cgroup", t)) return {};
  // v1 lines: "4:memory:/path"; v2: "0::/path".
  std::string_view want = m.v2 ? "" : (!m.memory.empty() ? "memory" : !m.pids.empty() ? "pids" : "cpuacct");
  for (std::string_view line : split(t, '\n')) {
    size_t a = line.find(':');
    if (a == std::string_view::npos) continue;
    size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    std::string_view ctrls = line.substr(a + 1, b - a - 1);
    bool hit = m.v2 ? ctrls.empty() && line.substr(0, a) == "0" : false;
    if (!m.v2)
      for (std::string_view c : split(ctrls, ','))
        if (c == want) hit = true;
    if (hit) return std::string(line.substr(b + 1));
  }
  return {};
}

}  // namespace netshoot::core

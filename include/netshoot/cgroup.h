// Containers seen through the cgroup filesystem, with no container API: where the
// hierarchies are mounted (cgroup v1, v2 or the hybrid of both), which cgroups
// belong to containers (docker, podman/libpod, containerd, CRI-O, kubepods), and
// their CPU, memory, block I/O and PID counters read straight from the files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netshoot::core {

// Where the hierarchies are. A pure v2 host has only `unified`; a v1 or hybrid
// host has the per-controller mounts (and maybe an empty `unified`).
struct CgroupMounts {
  bool v2 = false;          // statistics come from the unified hierarchy
  std::string unified;      // cgroup2 mount point ("" when none)
  std::string cpuacct;      // v1 mount points of the controllers ("" when absent)
  std::string memory;
  std::string blkio;
  std::string pids;

  bool found() const { return v2 ? !unified.empty() : !(memory.empty() && cpuacct.empty() && pids.empty()); }
  // The hierarchy whose directories name the containers.
  const std::string& walk_root() const;

  // From /proc/self/mounts text (fields: device mountpoint type options ...).
  static CgroupMounts parse(std::string_view mounts_text);
  // Reads /proc/self/mounts.
  static CgroupMounts detect();
};

struct CgroupContainer {
  std::string id;        // 64 hex digits
  std::string runtime;   // "docker", "podman", "containerd", "cri-o", "container"
  std::string path;      // path relative to the hierarchy root: "/libpod_parent/libpod-<id>"
  std::string pod_uid;   // Kubernetes pod UID when the path runs through kubepods ("" otherwise)
};

// Recognises a container cgroup by its path relative to the hierarchy root:
//   /docker/<id>, /system.slice/docker-<id>.scope           docker
//   /libpod_parent/libpod-<id>, /machine.slice/libpod-<id>.scope   podman
//   .../cri-containerd-<id>.scope, /kubepods/.../pod<uid>/<id>     containerd
//   .../crio-<id>.scope                                      cri-o
// Monitor cgroups (libpod-conmon-*, crio-conmon-*) are not containers.
std::optional<CgroupContainer> match_container_cgroup(std::string_view rel_path);

// Every container cgroup under the hierarchy root (a matched directory is not
// descended into: its sub-cgroups belong to it). Bounded depth.
std::vector<CgroupContainer> find_container_cgroups(const CgroupMounts& m, int max_depth = 10);

struct CgroupStats {
  std::optional<uint64_t> cpu_ns;             // CPU time used, nanoseconds
  std::optional<uint64_t> mem_usage;          // bytes charged (page cache included)
  std::optional<uint64_t> mem_inactive_file;  // reclaimable page cache in that usage
  std::optional<uint64_t> mem_limit;          // nullopt: no limit
  std::optional<uint64_t> io_read;            // block I/O bytes
  std::optional<uint64_t> io_write;
  std::optional<uint64_t> pids;               // tasks in the cgroup

  // Memory in use as `docker stats` counts it: usage minus inactive page cache.
  std::optional<uint64_t> mem_used() const;
};

// Reads the counters of the cgroup at `rel_path`; counters whose files are missing
// stay nullopt (a cgroup that vanished gives an all-empty result).
CgroupStats read_cgroup_stats(const CgroupMounts& m, const std::string& rel_path);

// Host PIDs of the processes in the cgroup (cgroup.procs), empty when gone.
std::vector<int> cgroup_procs(const CgroupMounts& m, const std::string& rel_path);

// The cgroup path of a process in the statistics hierarchy (from /proc/PID/cgroup),
// "" when unreadable.
std::string process_cgroup(const CgroupMounts& m, int pid);

// ---- parsers (exposed for tests) ----
// Value of "KEY VALUE" line in a flat keyed file (memory.stat, cpu.stat).
std::optional<uint64_t> cgroup_keyed_value(std::string_view text, std::string_view key);
// A single-number file ("123\n"); "max" and v1's "unlimited" sentinel (>= 2^62) give nullopt.
std::optional<uint64_t> cgroup_limit_value(std::string_view text);
std::optional<uint64_t> cgroup_number(std::string_view text);
// blkio.throttle.io_service_bytes (v1): sums "MAJ:MIN Read N" / "MAJ:MIN Write N".
bool parse_blkio_v1(std::string_view text, uint64_t& read, uint64_t& write);
// io.stat (v2): sums rbytes= / wbytes= over devices.
bool parse_io_stat_v2(std::string_view text, uint64_t& read, uint64_t& write);

// Reads a small pseudo-file whole; false when it cannot be opened.
bool read_small_file(const std::string& path, std::string& out);

}  // namespace netshoot::core

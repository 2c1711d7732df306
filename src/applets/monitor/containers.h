// The containers view (ctop): what one refresh knows about each container, how it
// is collected (Docker Engine API list + cgroup files, or cgroup files alone), and
// how rows are sorted, filtered and drawn. Pure formatting lives apart from I/O so
// the unit tests can drive it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/cgroup.h"
#include "netshoot/docker.h"
#include "netshoot/output.h"
#include "netshoot/result.h"

namespace netshoot::applet::monitor {

// One container at one refresh. Counters are totals since the container started;
// rates are per second over the last refresh (nullopt until two samples exist).
struct ContainerRow {
  std::string id;        // full ID (64 hex)
  std::string name;
  std::string image;
  std::string state;     // running, exited, created, paused, stopped (cgroup path: no cgroup)
  std::string runtime;   // docker, podman, containerd, cri-o, container
  std::string source;    // "api", "cgroup", "api-stats" (numbers from the API's stats call)
  std::string cgroup;    // cgroup path relative to the hierarchy ("" when unknown)
  std::string pod_uid;
  int pid = 0;           // a process of the container (host PID namespace), 0 if unknown
  bool running = false;

  std::optional<double> cpu_percent;       // of one CPU (200 = two cores busy)
  std::optional<uint64_t> cpu_ns;          // CPU time used since the start, ns
  std::optional<uint64_t> mem_used;        // usage minus inactive page cache
  std::optional<uint64_t> mem_limit;       // the limit, or the host's memory when unlimited
  bool mem_limited = false;                // mem_limit is the container's own limit
  std::optional<uint64_t> net_rx, net_tx;  // bytes, all interfaces but lo
  std::optional<double> net_rx_rate, net_tx_rate;  // bytes/s
  std::optional<uint64_t> io_read, io_write;        // block I/O bytes
  std::optional<double> io_read_rate, io_write_rate;
  std::optional<uint64_t> pids;

  std::string short_id() const { return id.substr(0, 12); }
};

// ---- collection ----

struct CollectorConfig {
  std::string socket;        // --socket PATH ("" = discover)
  bool no_api = false;       // --cgroup: cgroup filesystem and /proc only
  int api_timeout_ms = 3000;
};

// Keeps the previous readings so each sample() yields rates; caches per-container
// facts that do not change (PID, cgroup path) so a refresh costs one API list call
// (when an API is used) plus a few small file reads per running container.
class Collector {
 public:
  // Decides the source: an explicit socket (--socket, DOCKER_HOST) must answer;
  // a default socket that fails is reported through warning() and the cgroup
  // filesystem is used instead.
  static core::Result<Collector> make(const CollectorConfig& cfg);

  // One refresh; the error says why the API could not be read (the rows then come
  // from the cgroup filesystem alone).
  std::vector<ContainerRow> sample(std::string* api_error = nullptr);

  const std::string& source() const { return source_; }   // "api unix:///...", "cgroup v1"
  const std::string& warning() const { return warning_; }
  const core::CgroupMounts& mounts() const { return mounts_; }
  bool uses_api() const { return client_.has_value(); }

 private:
  struct Prev {
    double t = 0;
    std::optional<uint64_t> cpu_ns, net_rx, net_tx, io_r, io_w;
  };
  struct ApiFacts {
    int pid = 0;
    bool pid_ok = false;  // /proc/PID belongs to this container (same PID namespace)
    bool inspected = false;
    std::string state;
  };
  void fill_from_cgroup(ContainerRow& r);
  void read_running(ContainerRow& r, double now);
  void fill_from_api_stats(ContainerRow& r);
  void rates(ContainerRow& r, double now);
  std::vector<ContainerRow> from_cgroups();

  CollectorConfig cfg_;
  std::optional<core::DockerClient> client_;
  core::CgroupMounts mounts_;
  std::string source_, warning_;
  std::map<std::string, core::CgroupContainer> cgroups_;  // by ID, refreshed on a miss
  double cgroups_time_ = -1;
  std::map<std::string, ApiFacts> facts_;
  std::map<std::string, Prev> prev_;
  std::map<std::string, std::string> names_;               // no-API path: ID -> name
  std::map<std::string, ContainerRow> stored_;             // no-API path: containers known from runtime state files
  double names_time_ = -1;
  std::optional<uint64_t> cpu_scratch_;  // CPU ns of the container being read
  // The API list is reused while the set of container cgroups is unchanged, for at
  // most kListMaxAge seconds: a start or an exit changes the set and lists again.
  static constexpr double kListMaxAge = 10;
  std::vector<core::ContainerSummary> last_list_;
  double last_list_t_ = -1;
  std::string last_cg_ids_;
};

// Names and states that runtimes keep on disk, for the no-API path: docker's
// /var/lib/docker/containers/ID/config.v2.json, podman's storage containers.json,
// and the OCI bundle annotations of containerd / CRI-O (Kubernetes pod/container).
// Rows for containers with no cgroup carry state "exited" (docker: from its file)
// or "stopped" (podman: known to storage, no cgroup).
std::vector<ContainerRow> runtime_state_rows(const std::string& root_prefix = "");
// Name of a running container from its bundle or its /etc/hostname, "" if none.
std::string name_from_process(int pid, const std::string& id);

// ---- /proc parsers (exposed for tests) ----

struct IfCounters {
  std::string name;
  uint64_t rx_bytes = 0, rx_packets = 0, tx_bytes = 0, tx_packets = 0;
};
// /proc/PID/net/dev
std::vector<IfCounters> parse_net_dev(std::string_view text);

struct Listener {
  std::string proto;     // tcp, tcp6, udp, udp6
  std::string local;     // "0.0.0.0:8080", "[::]:53"
  uint64_t inode = 0;
  std::string process;   // "httpd(1234)" when found among the container's processes
};
// /proc/PID/net/{tcp,tcp6,udp,udp6}: TCP sockets in LISTEN, UDP sockets bound and unconnected.
std::vector<Listener> parse_proc_net_listeners(std::string_view text, std::string_view proto);

// ---- the view ----

enum class SortKey { kState, kName, kId, kCpu, kMem, kNet, kIo, kPids };
std::string_view sort_key_name(SortKey k);
std::optional<SortKey> parse_sort_key(std::string_view s);
SortKey next_sort_key(SortKey k);

struct ViewOptions {
  SortKey sort = SortKey::kState;
  bool reverse = false;
  bool show_all = true;       // false: running only
  std::string filter;         // substring of name, ID or image
};

// Sorts and filters in place (stable; ties by name).
void arrange_rows(std::vector<ContainerRow>& rows, const ViewOptions& v);

// 1536 -> "1.5K", 0 -> "0B"; rates get "/s" from the caller.
std::string human_bytes(double bytes);
std::string cpu_text(const std::optional<double>& pct);

// The --once / stream table (plain text, one line per container, header first).
std::string format_table(const std::vector<ContainerRow>& rows);
// The JSON record of a row (see the schema in the usage text).
core::Json row_json(const ContainerRow& r, uint64_t sample, double time);

// ---- detail (the selected container) ----

struct ProcInfo {
  int pid = 0;
  char state = '?';
  double cpu_percent = -1;   // < 0: not known yet
  uint64_t rss = 0;
  uint64_t ticks = 0;        // utime + stime, clock ticks
  std::string cmd;
};
struct IfInfo {
  std::string name;
  std::string state;                  // UP / DOWN / ...
  std::string mac;
  std::vector<std::string> addrs;     // "10.88.0.5/16"
  std::optional<double> rx_rate, tx_rate;
  uint64_t rx_bytes = 0, tx_bytes = 0;
};
struct Detail {
  std::string id;
  std::vector<ProcInfo> procs;
  std::vector<IfInfo> ifs;
  std::vector<Listener> listeners;
  std::string error;                  // why something could not be read
};

// Reads the detail of a running container (processes from its cgroup, interfaces
// and listeners from its network namespace). `prev` carries the previous detail
// of the same container for rates; dt is the seconds since it was taken.
Detail read_detail(const ContainerRow& row, const core::CgroupMounts& m, const Detail* prev, double dt);

// Rate history for the detail view's throughput lines.
struct History {
  std::deque<double> rx, tx, cpu;
  void push(const ContainerRow& r, size_t keep = 120);
};

// ---- screen rendering (lines with ANSI attributes, each at most `width` columns) ----

struct Screen {
  int width = 80, height = 24;
};

struct LiveState {
  ViewOptions view;
  size_t selected = 0;          // index into the arranged rows
  std::string selected_id;      // follows the container across re-sorts
  size_t top = 0;               // first row shown
  bool detail = false;
  bool filter_editing = false;
  std::string filter_edit;      // text being typed after '/'
  std::string status;           // last error or hint
  std::string source;
  double interval = 1.0;
};

std::vector<std::string> render_list(const std::vector<ContainerRow>& rows, LiveState& st, const Screen& scr);
std::vector<std::string> render_detail(const ContainerRow& row, const Detail& d, const History* h,
                                       const LiveState& st, const Screen& scr);
// The whole frame: "too small" message when the screen cannot hold the view.
std::vector<std::string> too_small(const Screen& scr);
bool screen_too_small(const Screen& scr);

// Removes ANSI escape sequences (tests, width checks).
std::string strip_ansi(std::string_view s);

}  // namespace netshoot::applet::monitor

// monitor containers / ctop: per-container CPU, memory, network, block I/O and
// PIDs, live in a full-screen view or as tables / JSON for scripts.
#include "containers.h"

#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "monitor.h"
#include "term.h"

namespace netshoot::applet::monitor {
namespace {

constexpr const char* kUsage = R"(Usage: ctop [OPTIONS]
       netshoot monitor [containers] [OPTIONS]

Per-container CPU, memory, network and block I/O, like ctop. Containers come from
the Docker Engine API (DOCKER_HOST, /var/run/docker.sock or podman's socket: one
list call per refresh); the numbers are read from each container's cgroup files
and its own network namespace (/proc/PID/net/dev). With no API socket (or with
--cgroup) containers are found in the cgroup filesystem (v1 or v2; docker,
podman, containerd/kubepods, CRI-O) and named from the runtimes' state files.

Options:
  --once               print one table and exit (two samples 0.5 s apart for CPU %)
  --count N            print N tables, one per interval, then exit
  -i, --interval SEC   refresh interval in seconds (default 1, at least 0.1)
  --json               one JSON object per container per sample (global option)
  -a, --active         running containers only (default: all, exited too)
  -s, --sort KEY       state (default), name, id, cpu, mem, net, io, pids
  -r, --reverse        reverse the sort order
  -f, --filter TEXT    containers whose name, image or ID prefix contains TEXT
  -H, --socket PATH    API socket (unix://PATH or PATH) instead of discovery
  --cgroup             ignore the API: cgroup filesystem and /proc only
  --timeout MS         API request timeout (default 3000)

Live view keys: Up/Down or j/k select, Enter detail (processes, interfaces and
addresses, listening sockets, throughput), s sort (cycles), r reverse, / filter,
a all/running, q or Esc quit (Esc/Left leaves the detail view).

CPU % is of one CPU (200% = two cores busy). MEM is usage minus inactive page
cache (as docker stats counts it) / the limit, or the host's memory when none.
NET RX/TX and IO R/W are totals since the container started.

JSON (--json), one object per container per sample:
  {"type":"container","sample":N,"time":UNIX_SECONDS,"id","name","image","state",
   "running","runtime","source":"api|cgroup|api-stats","pid","cpu_percent",
   "cpu_total_seconds",
   "mem_used_bytes","mem_limit_bytes","mem_limited","mem_percent","net_rx_bytes",
   "net_tx_bytes","net_rx_bytes_per_sec","net_tx_bytes_per_sec","io_read_bytes",
   "io_write_bytes","io_read_bytes_per_sec","io_write_bytes_per_sec","pids",
   "cgroup","pod_uid"}   (null where unknown: rates need two samples)

Examples:
  ctop                                  live view
  ctop --once -s cpu                    one table, busiest first
  netshoot monitor --json --count 5 -i 2 | jq -c '{name,cpu_percent,mem_used_bytes}'
  ctop --cgroup --once                  no API socket: what the cgroups show
)";

struct Options {
  bool once = false;
  long count = 0;  // 0: until interrupted
  double interval = 1.0;
  bool json = false;
  ViewOptions view;
  CollectorConfig collector;
};

int usage_error(const std::string& name, const std::string& msg) {
  std::fprintf(stderr, "%s: %s\nTry `%s --help' for more information.\n", name.c_str(), msg.c_str(), name.c_str());
  return kExitUsage;
}

double wall_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

double mono_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

void sleep_s(double s) {
  if (s <= 0) return;
  timespec ts{};
  ts.tv_sec = time_t(s);
  ts.tv_nsec = long((s - double(ts.tv_sec)) * 1e9);
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int run_batch(const std::string& name, Options& o, Collector& col, core::Output& out) {
  std::string err;
  col.sample(&err);  // the baseline for rates
  if (!err.empty()) std::fprintf(stderr, "%s: %s\n", name.c_str(), err.c_str());
  long n = o.once ? 1 : o.count;
  double next = mono_now() + (o.once ? std::min(o.interval, 0.5) : o.interval);
  for (long i = 1; n == 0 || i <= n; ++i) {
    sleep_s(next - mono_now());
    next += o.interval;
    if (next < mono_now()) next = mono_now() + o.interval;
    auto rows = col.sample(&err);
    if (!err.empty()) std::fprintf(stderr, "%s: %s\n", name.c_str(), err.c_str());
    arrange_rows(rows, o.view);
    if (o.json) {
      double t = wall_now();
      for (const auto& r : rows) out.record("container", row_json(r, uint64_t(i), t), "");
    } else {
      std::string table = format_table(rows);
      if (!table.empty() && table.back() == '\n') table.pop_back();
      if (i > 1) out.text("");
      out.text(table);
    }
    out.flush();
    if (std::ferror(stdout)) return kExitFailure;  // the reader went away
  }
  return kExitOk;
}

int run_live(const std::string& name, Options& o, Collector& col) {
  auto term = term::Terminal::open();
  if (!term) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), term.error().message().c_str());
    return kExitFailure;
  }
  LiveState st;
  st.view = o.view;
  st.interval = o.interval;
  st.source = col.source();
  std::string warn = col.warning();
  std::string err;
  auto rows = col.sample(&err);
  double last_sample = mono_now();
  double next = last_sample + o.interval;
  st.status = !err.empty() ? "API: " + err : warn;
  std::map<std::string, History> hist;
  Detail detail;
  double detail_t = 0;
  auto selected_row = [&](std::vector<ContainerRow>& arranged) -> const ContainerRow* {
    for (const auto& r : arranged)
      if (r.id == st.selected_id) return &r;
    return nullptr;
  };
  for (;;) {
    std::vector<ContainerRow> arranged = rows;
    arrange_rows(arranged, st.view);
    term::Size ts = (*term)->size();
    Screen scr{ts.width, ts.height};
    std::vector<std::string> lines;
    const ContainerRow* sel = selected_row(arranged);
    if (st.detail && sel) {
      auto h = hist.find(sel->id);
      lines = render_detail(*sel, detail, h == hist.end() ? nullptr : &h->second, st, scr);
    } else {
      st.detail = false;
      lines = render_list(arranged, st, scr);
      sel = selected_row(arranged);
    }
    (*term)->draw(lines);

    bool resized = false;
    int wait_ms = int(std::max(0.0, (next - mono_now()) * 1000));
    auto keys = (*term)->wait(wait_ms, resized);
    for (const auto& k : keys) {
      using term::Key;
      if (k.key == Key::kEof) return kExitOk;
      if (st.filter_editing) {
        if (k.key == Key::kChar && st.filter_edit.size() < 64) st.filter_edit += k.ch;
        else if (k.key == Key::kBackspace && !st.filter_edit.empty()) st.filter_edit.pop_back();
        else if (k.key == Key::kEnter) st.view.filter = st.filter_edit, st.filter_editing = false, st.top = 0;
        else if (k.key == Key::kEsc) st.filter_editing = false;
        continue;
      }
      if (st.detail) {
        if (k.key == Key::kEsc || k.key == Key::kLeft || k.key == Key::kBackspace ||
            (k.key == Key::kChar && (k.ch == 'q' || k.ch == 'h')))
          st.detail = false;
        continue;
      }
      size_t count = arranged.size();
      size_t page = scr.height > 4 ? size_t(scr.height - 3) : 1;
      auto select = [&](size_t i) {
        if (count == 0) return;
        st.selected = std::min(i, count - 1);
        st.selected_id = arranged[st.selected].id;
      };
      if (k.key == Key::kEsc || (k.key == Key::kChar && (k.ch == 'q' || k.ch == 'Q'))) return kExitOk;
      if (k.key == Key::kUp || (k.key == Key::kChar && k.ch == 'k')) select(st.selected > 0 ? st.selected - 1 : 0);
      else if (k.key == Key::kDown || (k.key == Key::kChar && k.ch == 'j')) select(st.selected + 1);
      else if (k.key == Key::kPageUp) select(st.selected > page ? st.selected - page : 0);
      else if (k.key == Key::kPageDown) select(st.selected + page);
      else if (k.key == Key::kHome || (k.key == Key::kChar && k.ch == 'g')) select(0);
      else if (k.key == Key::kEnd || (k.key == Key::kChar && k.ch == 'G')) select(count ? count - 1 : 0);
      else if (k.key == Key::kEnter || k.key == Key::kRight || (k.key == Key::kChar && k.ch == 'l')) {
        if (sel) {
          st.detail = true;
          detail = read_detail(*sel, col.mounts(), nullptr, 0);
          detail_t = mono_now();
        }
      } else if (k.key == Key::kChar && k.ch == 's') st.view.sort = next_sort_key(st.view.sort);
      else if (k.key == Key::kChar && (k.ch == 'r' || k.ch == 'S')) st.view.reverse = !st.view.reverse;
      else if (k.key == Key::kChar && k.ch == 'a') st.view.show_all = !st.view.show_all;
      else if (k.key == Key::kChar && k.ch == '/') st.filter_editing = true, st.filter_edit.clear();  // empty + Enter clears
    }
    if (mono_now() >= next) {
      rows = col.sample(&err);
      double now = mono_now();
      st.status = err.empty() ? std::string() : "API: " + err;
      for (const auto& r : rows)
        if (r.running) hist[r.id].push(r);
      for (auto it = hist.begin(); it != hist.end();) {
        bool live = false;
        for (const auto& r : rows) live |= r.id == it->first && r.running;
        it = live ? std::next(it) : hist.erase(it);
      }
      if (st.detail) {
        for (const auto& r : rows)
          if (r.id == st.selected_id) {
            Detail d = read_detail(r, col.mounts(), &detail, now - detail_t);
            detail = std::move(d);
            detail_t = now;
          }
      }
      last_sample = now;
      next += o.interval;
      if (next < now) next = now + o.interval;
    }
  }
}

}  // namespace

int run_containers(Context& ctx, int argc, char** argv) {
  std::string name = argc > 0 && argv[0] ? argv[0] : "ctop";
  if (name != "ctop") name = "monitor";
  Options o;
  o.json = ctx.json;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "--once") {
      o.once = true;
    } else if (a == "--json" || a == "-j") {
      o.json = true;
    } else if (a == "--count" || a == "-n") {
      const char* v = value();
      char* end = nullptr;
      long n = v ? std::strtol(v, &end, 10) : -1;
      if (!v || *end || n < 1 || n > 100000000) return usage_error(name, std::string("bad count '") + (v ? v : "") + "' (a positive number)");
      o.count = n;
    } else if (a == "--interval" || a == "-i" || a == "-d") {
      const char* v = value();
      char* end = nullptr;
      double s = v ? std::strtod(v, &end) : -1;
      if (!v || *end || !(s >= 0.1 && s <= 3600))
        return usage_error(name, std::string("bad interval '") + (v ? v : "") + "' (seconds, 0.1 to 3600)");
      o.interval = s;
    } else if (a == "-a" || a == "--active" || a == "--running") {
      o.view.show_all = false;
    } else if (a == "--all") {
      o.view.show_all = true;
    } else if (a == "-s" || a == "--sort") {
      const char* v = value();
      auto k = v ? parse_sort_key(v) : std::nullopt;
      if (!k) return usage_error(name, std::string("unknown sort key '") + (v ? v : "") + "' (state, name, id, cpu, mem, net, io, pids)");
      o.view.sort = *k;
    } else if (a == "-r" || a == "--reverse") {
      o.view.reverse = true;
    } else if (a == "-f" || a == "--filter") {
      const char* v = value();
      if (!v) return usage_error(name, "--filter needs a text");
      o.view.filter = v;
    } else if (a == "-H" || a == "--socket" || a == "--host") {
      const char* v = value();
      if (!v || !*v) return usage_error(name, "--socket needs a path");
      std::string_view s = v;
      if (s.find("://") != std::string_view::npos && s.rfind("unix://", 0) != 0)
        return usage_error(name, "only unix:// sockets are supported: " + std::string(s));
      o.collector.socket = v;
    } else if (a == "--cgroup" || a == "--no-api") {
      o.collector.no_api = true;
    } else if (a == "--timeout") {
      const char* v = value();
      char* end = nullptr;
      long ms = v ? std::strtol(v, &end, 10) : -1;
      if (!v || *end || ms < 10 || ms > 600000) return usage_error(name, std::string("bad timeout '") + (v ? v : "") + "' (milliseconds)");
      o.collector.api_timeout_ms = int(ms);
    } else {
      return usage_error(name, "unknown argument '" + std::string(a) + "'");
    }
  }
  if (o.once && o.count) return usage_error(name, "--once and --count exclude each other");
  if (!o.collector.socket.empty() && o.collector.no_api) return usage_error(name, "--socket and --cgroup exclude each other");

  auto col = Collector::make(o.collector);
  if (!col) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), col.error().message().c_str());
    return kExitFailure;
  }
  if (!col->warning().empty() && !ctx.quiet && (o.once || o.count || o.json || !::isatty(STDOUT_FILENO)))
    std::fprintf(stderr, "%s: %s\n", name.c_str(), col->warning().c_str());

  bool live = !o.once && !o.count && !o.json && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
  if (live) return run_live(name, o, *col);
  auto out = core::Output::make(o.json);
  return run_batch(name, o, *col, *out);
}

}  // namespace netshoot::applet::monitor

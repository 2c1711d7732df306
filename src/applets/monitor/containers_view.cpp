// Formatting for the containers view: units, sorting and filtering, the --once
// table, the JSON records, and the live screens (list and detail) as lines that
// never exceed the terminal's width.
#include <cmath>
#include <cstdio>
#include <ctime>
#include <algorithm>

#include "containers.h"

namespace netshoot::applet::monitor {
namespace {

constexpr const char* kReverse = "\x1b[7m";
constexpr const char* kBold = "\x1b[1m";
constexpr const char* kReset = "\x1b[0m";
constexpr const char* kGreen = "\x1b[32m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kYellow = "\x1b[33m";

int state_rank(const ContainerRow& r) {
  if (r.state == "running") return 0;
  if (r.state == "paused") return 1;
  if (r.state == "restarting") return 2;
  if (r.state == "created") return 3;
  return 4;
}

std::string pair_text(const std::optional<uint64_t>& a, const std::optional<uint64_t>& b) {
  if (!a && !b) return "-";
  return (a ? human_bytes(double(*a)) : std::string("-")) + " / " + (b ? human_bytes(double(*b)) : std::string("-"));
}

// Pads or cuts `s` to exactly w columns (ASCII content).
std::string fit(std::string_view s, size_t w, bool right = false) {
  if (s.size() > w) return w == 0 ? std::string() : std::string(s.substr(0, w));
  std::string pad(w - s.size(), ' ');
  return right ? pad + std::string(s) : std::string(s) + pad;
}

std::string state_color(const ContainerRow& r) {
  if (r.state == "running") return kGreen;
  if (r.state == "paused" || r.state == "created") return kYellow;
  return kRed;
}

struct Column {
  const char* title;
  size_t width;
  bool right;
  SortKey key;
  int priority;  // lower stays longer when the screen is narrow
};

// Display order; NAME's width is computed.
const Column kColumns[] = {
    {"STATE", 7, false, SortKey::kState, 3},    {"NAME", 0, false, SortKey::kName, 0},
    {"CID", 12, false, SortKey::kId, 7},        {"CPU", 6, true, SortKey::kCpu, 1},
    {"MEM", 13, true, SortKey::kMem, 2},        {"NET RX/TX", 13, true, SortKey::kNet, 4},
    {"IO R/W", 13, true, SortKey::kIo, 5},      {"PIDS", 5, true, SortKey::kPids, 6},
};

std::string cell(const ContainerRow& r, size_t col) {
  switch (col) {
    case 0: return r.state;
    case 1: return r.name;
    case 2: return r.short_id();
    case 3: return r.running ? cpu_text(r.cpu_percent) : "-";
    case 4: return r.running ? pair_text(r.mem_used, r.mem_limit) : "-";
    case 5: return r.running ? pair_text(r.net_rx, r.net_tx) : "-";
    case 6: return r.running ? pair_text(r.io_read, r.io_write) : "-";
    case 7: return r.running && r.pids ? std::to_string(*r.pids) : "-";
  }
  return {};
}

double net_rate(const ContainerRow& r) { return r.net_rx_rate.value_or(-1) + r.net_tx_rate.value_or(0); }
double io_total(const ContainerRow& r) { return double(r.io_read.value_or(0) + r.io_write.value_or(0)) - (r.io_read ? 0 : 1); }

std::string rate_text(const std::optional<double>& r) { return r ? human_bytes(*r) + "/s" : std::string("-"); }

std::string sparkline(const std::deque<double>& v, size_t width, double& peak) {
  static const char kRamp[] = " .:-=+*#%@";
  peak = 0;
  size_t n = std::min(v.size(), width);
  for (size_t i = v.size() - n; i < v.size(); ++i) peak = std::max(peak, v[i]);
  std::string s(width - n, ' ');
  for (size_t i = v.size() - n; i < v.size(); ++i) {
    int lvl = peak > 0 ? int(std::lround(v[i] / peak * 9)) : 0;
    s += kRamp[std::clamp(lvl, 0, 9)];
  }
  return s;
}

}  // namespace

std::string_view sort_key_name(SortKey k) {
  switch (k) {
    case SortKey::kState: return "state";
    case SortKey::kName: return "name";
    case SortKey::kId: return "id";
    case SortKey::kCpu: return "cpu";
    case SortKey::kMem: return "mem";
    case SortKey::kNet: return "net";
    case SortKey::kIo: return "io";
    case SortKey::kPids: return "pids";
  }
  return "state";
}

std::optional<SortKey> parse_sort_key(std::string_view s) {
  for (SortKey k : {SortKey::kState, SortKey::kName, SortKey::kId, SortKey::kCpu, SortKey::kMem, SortKey::kNet,
                    SortKey::kIo, SortKey::kPids})
    if (sort_key_name(k) == s) return k;
  if (s == "cid") return SortKey::kId;
  return std::nullopt;
}

SortKey next_sort_key(SortKey k) {
  switch (k) {
    case SortKey::kState: return SortKey::kName;
    case SortKey::kName: return SortKey::kId;
    case SortKey::kId: return SortKey::kCpu;
    case SortKey::kCpu: return SortKey::kMem;
    case SortKey::kMem: return SortKey::kNet;
    case SortKey::kNet: return SortKey::kIo;
    case SortKey::kIo: return SortKey::kPids;
    case SortKey::kPids: return SortKey::kState;
  }
  return SortKey::kState;
}

void arrange_rows(std::vector<ContainerRow>& rows, const ViewOptions& v) {
  rows.erase(std::remove_if(rows.begin(), rows.end(),
                            [&](const ContainerRow& r) {
                              if (!v.show_all && !r.running) return true;
                              if (v.filter.empty()) return false;
                              return r.name.find(v.filter) == std::string::npos &&
                                     r.id.rfind(v.filter, 0) != 0 && r.image.find(v.filter) == std::string::npos;
                            }),
             rows.end());
  // Numbers sort biggest first, words A to Z; reverse flips either.
  auto less = [&](const ContainerRow& a, const ContainerRow& b) -> int {
    auto num = [](double x, double y) { return x > y ? -1 : x < y ? 1 : 0; };
    switch (v.sort) {
      case SortKey::kState: return state_rank(a) - state_rank(b);
      case SortKey::kName: return a.name.compare(b.name);
      case SortKey::kId: return a.id.compare(b.id);
      case SortKey::kCpu: return num(a.cpu_percent.value_or(-1), b.cpu_percent.value_or(-1));
      case SortKey::kMem: return num(double(a.mem_used.value_or(0)) - (a.mem_used ? 0 : 1),
                                     double(b.mem_used.value_or(0)) - (b.mem_used ? 0 : 1));
      case SortKey::kNet: return num(net_rate(a), net_rate(b));
      case SortKey::kIo: return num(io_total(a), io_total(b));
      case SortKey::kPids: return num(double(a.pids.value_or(0)) - (a.pids ? 0 : 1), double(b.pids.value_or(0)) - (b.pids ? 0 : 1));
    }
    return 0;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const ContainerRow& a, const ContainerRow& b) {
    int c = less(a, b);
    if (v.reverse) c = -c;
    if (c != 0) return c < 0;
    int n = a.name.compare(b.name);
    return n != 0 ? n < 0 : a.id < b.id;
  });
}

std::string human_bytes(double b) {
  static const char kUnits[] = "BKMGTPE";
  if (!(b >= 0)) return "-";
  int u = 0;
  while (b >= 1024 && u < 6) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%.0fB", b);
  else if (b < 10) std::snprintf(buf, sizeof buf, "%.1f%c", b, kUnits[u]);
  else std::snprintf(buf, sizeof buf, "%.0f%c", b, kUnits[u]);
  return buf;
}

std::string cpu_text(const std::optional<double>& pct) {
  if (!pct) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, *pct < 100 ? "%.1f%%" : "%.0f%%", *pct);
  return buf;
}

std::string format_table(const std::vector<ContainerRow>& rows) {
  size_t name_w = 4;
  for (const auto& r : rows) name_w = std::max(name_w, r.name.size());
  name_w = std::min<size_t>(name_w, 64);
  std::string out;
  auto line = [&](auto get) {
    std::string l;
    for (size_t c = 0; c < std::size(kColumns); ++c) {
      size_t w = c == 1 ? name_w : kColumns[c].width;
      std::string v = get(c);
      if (c == 1 && v.size() > w) v = v.substr(0, w);
      // Wide values are not cut here: a script gets the whole number.
      l += (c ? "  " : "") + (v.size() >= w ? v : fit(v, w, kColumns[c].right));
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line([](size_t c) { return std::string(kColumns[c].title); });
  for (const auto& r : rows) line([&](size_t c) { return cell(r, c); });
  return out;
}

core::Json row_json(const ContainerRow& r, uint64_t sample, double time) {
  core::Json j;
  auto opt = [](const auto& o) -> core::Json { return o ? core::Json(*o) : core::Json(nullptr); };
  j["sample"] = sample;
  j["time"] = std::round(time * 1000) / 1000;
  j["id"] = r.id;
  j["name"] = r.name;
  j["image"] = r.image;
  j["state"] = r.state;
  j["running"] = r.running;
  j["runtime"] = r.runtime;
  j["source"] = r.source;
  j["pid"] = r.pid > 0 ? core::Json(r.pid) : core::Json(nullptr);
  j["cpu_percent"] = r.cpu_percent ? core::Json(std::round(*r.cpu_percent * 100) / 100) : core::Json(nullptr);
  j["cpu_total_seconds"] = r.cpu_ns ? core::Json(double(*r.cpu_ns) / 1e9) : core::Json(nullptr);
  j["mem_used_bytes"] = opt(r.mem_used);
  j["mem_limit_bytes"] = opt(r.mem_limit);
  j["mem_limited"] = r.mem_limited;
  j["mem_percent"] = r.mem_used && r.mem_limit && *r.mem_limit
                         ? core::Json(std::round(double(*r.mem_used) / double(*r.mem_limit) * 10000) / 100)
                         : core::Json(nullptr);
  j["net_rx_bytes"] = opt(r.net_rx);
  j["net_tx_bytes"] = opt(r.net_tx);
  j["net_rx_bytes_per_sec"] = r.net_rx_rate ? core::Json(std::round(*r.net_rx_rate)) : core::Json(nullptr);
  j["net_tx_bytes_per_sec"] = r.net_tx_rate ? core::Json(std::round(*r.net_tx_rate)) : core::Json(nullptr);
  j["io_read_bytes"] = opt(r.io_read);
  j["io_write_bytes"] = opt(r.io_write);
  j["io_read_bytes_per_sec"] = r.io_read_rate ? core::Json(std::round(*r.io_read_rate)) : core::Json(nullptr);
  j["io_write_bytes_per_sec"] = r.io_write_rate ? core::Json(std::round(*r.io_write_rate)) : core::Json(nullptr);
  j["pids"] = opt(r.pids);
  j["cgroup"] = r.cgroup.empty() ? core::Json(nullptr) : core::Json(r.cgroup);
  j["pod_uid"] = r.pod_uid.empty() ? core::Json(nullptr) : core::Json(r.pod_uid);
  return j;
}

bool screen_too_small(const Screen& scr) { return scr.width < 40 || scr.height < 6; }

std::vector<std::string> too_small(const Screen& scr) {
  std::vector<std::string> out;
  std::string size = std::to_string(scr.width) + "x" + std::to_string(scr.height);
  for (const std::string& l : {std::string("terminal too small"), size + ", need 40x6", std::string("q quits")}) {
    if (int(out.size()) >= std::max(scr.height, 1)) break;
    out.push_back(fit(l, size_t(std::max(scr.width, 1))));
  }
  return out;
}

std::vector<std::string> render_list(const std::vector<ContainerRow>& rows, LiveState& st, const Screen& scr) {
  if (screen_too_small(scr)) return too_small(scr);
  const size_t W = size_t(scr.width);
  std::vector<std::string> out;
  // Columns that fit, NAME widening into what is left.
  std::vector<bool> shown(std::size(kColumns), true);
  auto fixed = [&] {
    size_t w = 0, n = 0;
    for (size_t c = 0; c < std::size(kColumns); ++c)
      if (shown[c]) w += (c == 1 ? 12 : kColumns[c].width), ++n;
    return w + (n - 1);
  };
  for (int prio = 7; prio > 0 && fixed() > W; --prio)
    for (size_t c = 0; c < std::size(kColumns); ++c)
      if (kColumns[c].priority == prio) shown[c] = false;
  size_t name_w = std::min<size_t>(12 + (W - std::min(W, fixed())), 40);

  size_t running = 0;
  for (const auto& r : rows) running += r.running;
  char clock[16];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  std::strftime(clock, sizeof clock, "%H:%M:%S", &tm);
  std::string head = " ctop  " + std::to_string(rows.size()) + " shown, " + std::to_string(running) + " running  sort:" +
                     std::string(sort_key_name(st.view.sort)) + (st.view.reverse ? "(rev)" : "") +
                     (st.view.show_all ? "" : "  running only") +
                     (st.view.filter.empty() ? "" : "  filter:" + st.view.filter) + "  " + st.source;
  std::string right = std::string(clock) + " ";
  head = fit(head, W > right.size() ? W - right.size() : 0) + (W > right.size() ? right : "");
  out.push_back(kReverse + fit(head, W) + kReset);

  std::string titles;
  bool first = true;
  for (size_t c = 0; c < std::size(kColumns); ++c) {
    if (!shown[c]) continue;
    std::string t = kColumns[c].title;
    if (kColumns[c].key == st.view.sort) t += st.view.reverse ? "^" : "v";
    titles += (first ? "" : " ") + fit(t, c == 1 ? name_w : kColumns[c].width, kColumns[c].right);
    first = false;
  }
  out.push_back(kBold + fit(titles, W) + kReset);

  size_t body = size_t(scr.height) - 3;
  // Keep the selection on the same container across refreshes and re-sorts.
  if (!st.selected_id.empty()) {
    for (size_t i = 0; i < rows.size(); ++i)
      if (rows[i].id == st.selected_id) st.selected = i;
  }
  if (rows.empty()) st.selected = 0;
  else if (st.selected >= rows.size()) st.selected = rows.size() - 1;
  st.selected_id = rows.empty() ? std::string() : rows[st.selected].id;
  if (st.selected < st.top) st.top = st.selected;
  if (st.selected >= st.top + body) st.top = st.selected - body + 1;
  if (st.top > 0 && st.top + body > rows.size()) st.top = rows.size() > body ? rows.size() - body : 0;

  for (size_t i = st.top; i < rows.size() && out.size() < 2 + body; ++i) {
    const auto& r = rows[i];
    std::string l;
    bool sel = i == st.selected;
    first = true;
    for (size_t c = 0; c < std::size(kColumns); ++c) {
      if (!shown[c]) continue;
      std::string v = fit(cell(r, c), c == 1 ? name_w : kColumns[c].width, kColumns[c].right);
      if (!first) l += ' ';
      first = false;
      l += (c == 0 && !sel) ? state_color(r) + v + kReset : v;
    }
    if (sel) l = kReverse + fit(strip_ansi(l), W) + kReset;
    out.push_back(l);
  }
  if (rows.empty()) out.push_back(fit(st.view.filter.empty() ? "  no containers" : "  no container matches the filter", W));
  while (out.size() < size_t(scr.height) - 1) out.push_back("");
  std::string foot;
  if (st.filter_editing) foot = "filter: " + st.filter_edit + "_   (Enter apply, Esc cancel)";
  else if (!st.status.empty()) foot = st.status;
  else foot = "Up/Down/j/k select  Enter detail  s sort  r reverse  / filter  a all/running  q quit";
  out.push_back(fit(foot, W));
  return out;
}

std::vector<std::string> render_detail(const ContainerRow& r, const Detail& d, const History* h, const LiveState& st,
                                       const Screen& scr) {
  if (screen_too_small(scr)) return too_small(scr);
  const size_t W = size_t(scr.width), H = size_t(scr.height);
  std::vector<std::string> out;
  auto add = [&](const std::string& s) {
    if (out.size() < H - 1) out.push_back(fit(s, W));
  };
  out.push_back(kReverse + fit(" " + r.name + "  " + r.short_id() + "  " + r.state + "  " + r.image +
                                   (r.pid > 0 ? "  pid " + std::to_string(r.pid) : "") + "  " + r.runtime,
                               W) +
                kReset);
  std::string mem = pair_text(r.mem_used, r.mem_limit);
  if (r.mem_used && r.mem_limit && *r.mem_limit) {
    char pct[16];
    std::snprintf(pct, sizeof pct, " (%.1f%%)", double(*r.mem_used) * 100.0 / double(*r.mem_limit));
    mem += pct;
  }
  add("CPU " + cpu_text(r.cpu_percent) + "   MEM " + mem + "   PIDS " + (r.pids ? std::to_string(*r.pids) : "-"));
  add("NET rx " + rate_text(r.net_rx_rate) + " tx " + rate_text(r.net_tx_rate) + " (total " +
      pair_text(r.net_rx, r.net_tx) + ")   IO r " + rate_text(r.io_read_rate) + " w " + rate_text(r.io_write_rate) +
      " (total " + pair_text(r.io_read, r.io_write) + ")");
  if (h && W > 30) {
    size_t sw = W - 22;
    double peak = 0;
    std::string s = sparkline(h->rx, sw, peak);
    add("rx  |" + s + "| " + human_bytes(peak) + "/s");
    s = sparkline(h->tx, sw, peak);
    add("tx  |" + s + "| " + human_bytes(peak) + "/s");
    s = sparkline(h->cpu, sw, peak);
    add("cpu |" + s + "| " + cpu_text(peak));
  }
  if (!d.error.empty()) add("note: " + d.error);
  // Remaining rows shared by the three sections, each getting at least its title + 1.
  auto section = [&](const std::string& title, const std::vector<std::string>& lines, size_t budget) {
    if (out.size() >= H - 1) return;
    out.push_back(kBold + fit(title, W) + kReset);
    size_t n = 0;
    for (const auto& l : lines) {
      if (n + 1 >= budget && lines.size() > n + 1) {
        add("  ... " + std::to_string(lines.size() - n) + " more");
        return;
      }
      add(l);
      ++n;
    }
    if (lines.empty()) add("  (none)");
  };
  std::vector<std::string> ifl, lsl, prl;
  for (const auto& i : d.ifs) {
    std::string addrs;
    for (const auto& a : i.addrs) addrs += (addrs.empty() ? "" : " ") + a;
    ifl.push_back("  " + fit(i.name, 10) + " " + fit(i.state, 7) + " " + fit(i.mac, 17) + " rx " +
                  fit(rate_text(i.rx_rate), 9, true) + " tx " + fit(rate_text(i.tx_rate), 9, true) + "  " + addrs);
  }
  for (const auto& l : d.listeners) lsl.push_back("  " + fit(l.proto, 5) + " " + fit(l.local, 28) + " " + l.process);
  for (const auto& p : d.procs) {
    std::string cpu = p.cpu_percent < 0 ? "-" : cpu_text(p.cpu_percent);
    prl.push_back("  " + fit(std::to_string(p.pid), 7, true) + " " + std::string(1, p.state) + " " + fit(cpu, 6, true) +
                  " " + fit(human_bytes(double(p.rss)), 6, true) + "  " + p.cmd);
  }
  size_t left = H - 1 > out.size() ? H - 1 - out.size() : 0;
  size_t b_if = std::max<size_t>(2, std::min(ifl.size() + 1, left / 3));
  size_t b_ls = std::max<size_t>(2, std::min(lsl.size() + 1, left / 3));
  section("INTERFACES", ifl, b_if);
  section("LISTENING", lsl, b_ls);
  section("PROCESSES (PID S CPU RSS CMD)", prl, H);
  while (out.size() < H - 1) out.push_back("");
  out.push_back(fit(st.status.empty() ? "Esc/q/Left back  (refresh every " + std::to_string(int(st.interval * 1000)) + " ms)"
                                      : st.status,
                    W));
  return out;
}

std::string strip_ansi(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

}  // namespace netshoot::applet::monitor

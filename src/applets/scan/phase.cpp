// nmap's -v phase lines ("Initiating SYN Stealth Scan at 12:34", "Scanning HOST [N
// ports]", "Completed ...") and progress lines ("Stats: ..." and "... Timing: About
// 45.20% done; ETC: 12:34 (0:00:06 remaining)") for --stats-every and long -v scans.
#include <cstdio>
#include <ctime>

#include "stages.h"

namespace netshoot::applet::scan {

namespace {
int64_t g_start_ns = 0;  // the run's start, for "Stats: H:MM:SS elapsed"
}  // namespace

std::string now_text(const char* fmt) {
  char b[64];
  time_t t = time(nullptr);
  std::strftime(b, sizeof b, fmt, localtime(&t));
  return b;
}

void set_run_start(int64_t ns) { g_start_ns = ns; }

const char* technique_name(Technique t) {
  switch (t) {
    case Technique::syn: return "SYN Stealth Scan";
    case Technique::connect: return "Connect Scan";
    case Technique::udp: return "UDP Scan";
    default: return "Ping Scan";
  }
}

Phase::Phase(const Options& o, std::string name, size_t hosts, size_t per_host, const char* unit, std::string one_host)
    : o_(o), name_(std::move(name)), hosts_(hosts), per_host_(per_host), t0_(now_ns()) {
  if (!o_.verbose) return;
  std::string target = hosts == 1 ? one_host : std::to_string(hosts) + " hosts";
  std::string what = std::to_string(per_host) + " " + unit + (per_host == 1 ? "" : "s") + (hosts == 1 ? "" : "/host");
  line("Initiating " + name_ + " at " + now_text("%H:%M"));
  line("Scanning " + target + " [" + what + "]");
}

void Phase::attach(Scheduler& s, const std::function<size_t()>& up_count) {
  if (o_.stats_every_s > 0) s.progress_every_ns = int64_t(o_.stats_every_s * 1e9);
  else if (o_.verbose) s.progress_every_ns = 30000000000LL;  // nmap -v: about every 30 s
  else return;
  s.on_progress = [this, up_count](const Scheduler& sc) {
    double elapsed = (now_ns() - t0_) / 1e9;
    if (o_.stats_every_s > 0) {
      size_t done = sc.hosts_completed();
      line("Stats: " + format_clock((now_ns() - g_start_ns) / 1e9) + " elapsed; " + std::to_string(done) +
           (done == 1 ? " host" : " hosts") + " completed (" + std::to_string(up_count()) + " up), " +
           std::to_string(sc.hosts() - done) + " undergoing " + name_);
    }
    line(format_timing_line(name_, sc.progress(), elapsed, time(nullptr)));
  };
}

Phase::~Phase() {
  if (!o_.verbose) return;
  char b[32];
  std::snprintf(b, sizeof b, "%.2fs", (now_ns() - t0_) / 1e9);
  bool ping = name_.find("Ping") != std::string::npos;
  std::string total = ping ? std::to_string(hosts_) + " total hosts" : std::to_string(hosts_ * per_host_) + " total ports";
  line("Completed " + name_ + " at " + now_text("%H:%M") + ", " + b + " elapsed (" + total + ")");
}

void Phase::line(const std::string& l) const {
  std::FILE* f = o_.json ? stderr : stdout;
  std::fprintf(f, "%s\n", l.c_str());
  std::fflush(f);
}

}  // namespace netshoot::applet::scan

// nmap-style command line for the scan applet. Errors read like nmap's (the caller
// prints them followed by "QUITTING!" and exits 1).
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "scan.h"

namespace netshoot::applet::scan {

using core::make_error;
using core::Result;

std::string usage() {
  return "Usage: nmap [Scan Type(s)] [Options] {target specification}\n"
         "Nmap-compatible port scanner (netshoot scan).\n"
         "TARGETS: names, addresses, CIDR (10.0.0.0/24), ranges (10.0.0.1-20, 10.0.1-3.*), -iL FILE\n"
         "  -sS  SYN scan with crafted packets (default as root)   -sT  connect() scan (default otherwise)\n"
         "  -sU  UDP scan (DNS/NTP/SNMP payloads)                   -sn  host discovery only\n"
         "  -Pn  treat hosts as up        -n  no reverse DNS       -6  IPv6 targets\n"
         "  -p SPEC  22,80,1000-2000 | - | U:53,T:80   --top-ports N   -F (top 100)   -r (in order)\n"
         "  -T0..5  timing template  --min-rate/--max-rate PPS  --max-retries N  --host-timeout TIME\n"
         "  --stats-every TIME  progress lines (also at -v on scans longer than 30 s)\n"
         "  --min-rtt-timeout/--max-rtt-timeout/--initial-rtt-timeout TIME\n"
         "  --reason  --open  -v  -d/-dd  -oN FILE  -oG FILE (- for stdout)  --json (global)\n"
         "  --allow-large-scan  permit more than 65536 target addresses\n"
         "Examples:\n"
         "  nmap -p 80,443 10.0.0.0/24\n"
         "  nmap -n -sS -p- --reason 10.0.0.2\n"
         "  nmap -sU -p 53,123,161 kube-dns.kube-system\n"
         "  nmap -sn 10.244.1.0/24\n"
         "Exit status: 0 scan done (whatever the states), 1 error.\n";
}

Timing timing_for(const Options& o) {
  // nmap's templates (initial, min, max RTT timeout ms; retries). Our minimum RTT
  // timeout is lower than nmap's 100 ms: the adaptive timeout follows measured RTTs.
  static const Timing t[6] = {
      {300000, 100, 300000, 10, 1, 300000}, {15000, 100, 15000, 10, 1, 15000},
      {1000, 100, 10000, 10, 1, 400},       {1000, 10, 10000, 10, 4096, 0},
      {500, 10, 1250, 6, 8192, 0},          {250, 5, 300, 2, 16384, 0}};
  Timing r = t[o.timing];
  if (o.max_retries >= 0) r.max_retries = o.max_retries;
  if (o.min_rtt_ms >= 0) r.min_rtt_ms = o.min_rtt_ms;
  if (o.max_rtt_ms >= 0) r.max_rtt_ms = o.max_rtt_ms;
  if (o.initial_rtt_ms >= 0) r.initial_rtt_ms = o.initial_rtt_ms;
  if (r.min_rtt_ms > r.max_rtt_ms) r.max_rtt_ms = r.min_rtt_ms;
  return r;
}

namespace {

// nmap time specs: "30" (seconds), "500ms", "30s", "5m", "2h".
Result<double> parse_time_s(std::string_view s, const char* opt) {
  char* end = nullptr;
  std::string str(s);
  double v = std::strtod(str.c_str(), &end);
  std::string_view unit(end);
  if (end == str.c_str() || v < 0 || !std::isfinite(v))
    return make_error(std::string("Bogus ") + opt + " argument specified");
  if (unit.empty() || unit == "s") return v;
  if (unit == "ms") return v / 1000;
  if (unit == "m") return v * 60;
  if (unit == "h") return v * 3600;
  return make_error(std::string("Bogus ") + opt + " argument specified");
}

Result<long> parse_num(std::string_view s, const char* opt) {
  std::string str(s);
  char* end = nullptr;
  long v = std::strtol(str.c_str(), &end, 10);
  if (end == str.c_str() || *end || v < 0) return make_error(std::string("Bogus ") + opt + " argument specified");
  return v;
}

// Port spec checks nmap makes before parsing: 65536+, backwards ranges.
Result<core::PortSet> parse_ports(std::string spec) {
  if (spec == "-") spec = "1-65535";
  std::string_view s = spec;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view tok = s.substr(i, j - i);
    if (tok.size() > 2 && tok[1] == ':') tok = tok.substr(2);
    auto dash = tok.find('-');
    auto num = [](std::string_view t) -> long {
      if (t.empty() || t.find_first_not_of("0123456789") != std::string_view::npos) return -1;
      return t.size() > 6 ? 999999 : std::strtol(std::string(t).c_str(), nullptr, 10);
    };
    long a = num(dash == std::string_view::npos ? tok : tok.substr(0, dash));
    long b = dash == std::string_view::npos ? a : num(tok.substr(dash + 1));
    if (a > 65535 || b > 65535) return make_error("Ports specified must be between 0 and 65535 inclusive");
    if (a >= 0 && b >= 0 && a > b)
      return make_error("Your port range " + std::to_string(a) + "-" + std::to_string(b) +
                        " is backwards. Did you mean " + std::to_string(b) + "-" + std::to_string(a) + "?");
    i = j + 1;
  }
  auto r = core::PortSet::parse(spec);
  if (!r) return make_error("Error #487: Your port specifications are illegal: " + r.error().message());
  return r;
}

}  // namespace

Result<Options> parse_options(int argc, char** argv, bool is_root) {
  Options o;
  bool tcp_scan = false, udp_scan = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string val;
    bool has_val = false;
    if (a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      if (eq != std::string::npos) { val = a.substr(eq + 1); a = a.substr(0, eq); has_val = true; }
    }
    auto need = [&](const char* what) -> Result<std::string> {
      if (has_val) return val;
      if (i + 1 >= argc) return make_error(std::string("option ") + what + " requires an argument");
      return std::string(argv[++i]);
    };
#define NEED(var, what)            \
  auto var##_r = need(what);       \
  if (!var##_r) return var##_r.error(); \
  std::string var = *var##_r;
    if (a == "-h" || a == "--help") { o.help = true; return o; }
    if (a == "-V" || a == "--version") { o.version = true; return o; }
    if (a == "-sS") { o.technique = Technique::syn; tcp_scan = true; o.technique_set = true; continue; }
    if (a == "-sT") { o.technique = Technique::connect; tcp_scan = true; o.technique_set = true; continue; }
    if (a == "-sU") { udp_scan = true; continue; }
    if (a == "-sn" || a == "-sP") { o.technique = Technique::ping_only; o.technique_set = true; continue; }
    if (a == "-Pn" || a == "-PN" || a == "-P0") { o.no_ping = true; continue; }
    if (a == "-n") { o.no_dns = true; continue; }
    if (a == "-R") { o.no_dns = false; continue; }
    if (a == "-r") { o.sequential = true; continue; }
    if (a == "-F") { o.top_ports = 100; continue; }
    if (a == "-6") { o.family = AF_INET6; continue; }
    if (a == "--reason") { o.reason = true; continue; }
    if (a == "--open") { o.open_only = true; continue; }
    if (a == "--allow-large-scan") { o.allow_huge = true; continue; }
    if (a.size() >= 2 && a[0] == '-' && a[1] == 'v' && a.find_first_not_of('v', 1) == std::string::npos) {
      o.verbose += int(a.size() - 1);
      continue;
    }
    if (a.size() >= 2 && a[0] == '-' && a[1] == 'd' && a.find_first_not_of('d', 1) == std::string::npos) {
      o.debug += int(a.size() - 1);
      continue;
    }
    if (a.size() == 3 && a[0] == '-' && a[1] == 'd' && a[2] >= '0' && a[2] <= '9') { o.debug = a[2] - '0'; continue; }
    if (a.rfind("-T", 0) == 0 && a.size() > 2) {
      std::string t = a.substr(2);
      static const char* names[] = {"paranoid", "sneaky", "polite", "normal", "aggressive", "insane"};
      int v = -1;
      if (t.size() == 1 && t[0] >= '0' && t[0] <= '5') v = t[0] - '0';
      for (int k = 0; k < 6; ++k) {
        std::string low;
        for (char c : t) low += char(std::tolower(static_cast<unsigned char>(c)));
        if (low == names[k]) v = k;
      }
      if (v < 0)
        return make_error("Unknown timing mode (-T argument).  Use either \"Paranoid\", \"Sneaky\", \"Polite\", "
                          "\"Normal\", \"Aggressive\", \"Insane\" or a number from 0 (Paranoid) to 5 (Insane)");
      o.timing = v;
      continue;
    }
    if (a == "-p-") { auto p = parse_ports("-"); o.ports = *p; o.ports_set = true; continue; }
    if (a.rfind("-p", 0) == 0 && a != "-p" && a.size() > 2 && a[2] != '-') {
      auto p = parse_ports(a.substr(2));
      if (!p) return p.error();
      o.ports = *p; o.ports_set = true;
      continue;
    }
    if (a == "-p") {
      NEED(v, "-p");
      auto p = parse_ports(v);
      if (!p) return p.error();
      o.ports = *p; o.ports_set = true;
      continue;
    }
    if (a == "--top-ports") {
      NEED(v, "--top-ports");
      auto n = parse_num(v, "--top-ports");
      if (!n || *n < 1) return make_error("Number of ports to scan must be greater than 0");
      o.top_ports = size_t(*n);
      continue;
    }
    if (a == "-iL") { NEED(v, "-iL"); o.input_list = v; continue; }
    if (a == "-oG") { NEED(v, "-oG"); o.out_grep = v; continue; }
    if (a == "-oN") { NEED(v, "-oN"); o.out_normal = v; continue; }
    if (a == "--min-rate" || a == "--max-rate") {
      NEED(v, a.c_str());
      char* end = nullptr;
      double r = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end || r <= 0) return make_error("Argument to " + a + " must be a number greater than 0.0");
      (a == "--min-rate" ? o.min_rate : o.max_rate) = r;
      continue;
    }
    if (a == "--max-retries") {
      NEED(v, "--max-retries");
      auto n = parse_num(v, "--max-retries");
      if (!n) return n.error();
      o.max_retries = int(std::min(*n, 50L));
      continue;
    }
    if (a == "--host-timeout" || a == "--stats-every" || a == "--min-rtt-timeout" || a == "--max-rtt-timeout" ||
        a == "--initial-rtt-timeout") {
      NEED(v, a.c_str());
      auto t = parse_time_s(v, a.c_str());
      if (!t) return t.error();
      if (a == "--host-timeout") o.host_timeout_s = *t;
      else if (a == "--stats-every") o.stats_every_s = *t;
      else if (a == "--min-rtt-timeout") o.min_rtt_ms = *t * 1000;
      else if (a == "--max-rtt-timeout") o.max_rtt_ms = *t * 1000;
      else o.initial_rtt_ms = *t * 1000;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') return make_error("unrecognized option '" + a + "'");
    o.targets.push_back(a);
#undef NEED
  }
  if (!o.technique_set && !udp_scan) o.technique = is_root ? Technique::syn : Technique::connect;
  if (udp_scan) {
    if (tcp_scan) o.udp_too = true;
    else if (o.technique != Technique::ping_only) o.technique = Technique::udp;
  }
  if (o.technique == Technique::syn && !is_root)
    return make_error("You requested a scan type which requires root privileges.");
  if (o.min_rate > 0 && o.max_rate > 0 && o.min_rate > o.max_rate)
    return make_error("--min-rate=" + std::to_string(int(o.min_rate)) + " must be less than or equal to --max-rate");
  // Default ports: nmap's top 1000 (top 100 for UDP is our choice for speed? no: nmap's top 1000)
  if (!o.ports_set) {
    size_t n = o.top_ports ? o.top_ports : 1000;
    o.ports = core::PortSet{};
    for (auto p : core::top_ports(core::L4Proto::tcp, n)) o.ports.add(core::L4Proto::tcp, p);
    for (auto p : core::top_ports(core::L4Proto::udp, n)) o.ports.add(core::L4Proto::udp, p);
  }
  return o;
}

}  // namespace netshoot::applet::scan

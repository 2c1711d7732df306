// perf option parsing (iperf3 3.12 flags) and report line formatting.
#include "options.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "proto.h"

namespace netshoot::applet::perf {

using core::make_error;

std::string usage() {
  return "Usage: iperf3 [-s|-c host] [options]\n"
         "       iperf3 [-h|--help] [-v|--version]\n\n"
         "Throughput tests, wire-compatible with iperf3 (either end may be the real iperf3).\n\n"
         "Server or Client:\n"
         "  -p, --port      #         server port to listen on/connect to (default 5201)\n"
         "  -i, --interval  #         seconds between periodic reports (0: none)\n"
         "  -J, --json                output in JSON format (iperf3's schema)\n"
         "  --json-stream             output in line-delimited JSON format: one object\n"
         "                            per event (start, interval, end), flushed per line\n"
         "  -V, --verbose             more detailed output (CPU utilization of both ends)\n"
         "  --forceflush              force flushing output at every interval\n"
         "  -B, --bind      <host>    bind to this local address\n"
         "  --rcv-timeout   #         idle receive timeout in ms (default 120000)\n"
         "Server specific:\n"
         "  -s, --server              run in server mode\n"
         "  -1, --one-off             handle one client connection then exit\n"
         "Client specific:\n"
         "  -c, --client    <host>    run in client mode, connecting to <host>\n"
         "  -u, --udp                 use UDP rather than TCP\n"
         "  -b, --bitrate   #[KMG]    target bitrate in bits/sec per stream (0 = unlimited;\n"
         "                            default 1 Mbit/sec for UDP, unlimited for TCP)\n"
         "  -t, --time      #         time in seconds to transmit for (default 10)\n"
         "  -n, --bytes     #[KMG]    number of bytes to transmit (instead of -t)\n"
         "  -k, --blockcount #[KMG]   number of blocks (packets) to transmit\n"
         "  -l, --length    #[KMG]    length of buffer to read or write (TCP 128 KB, UDP path MSS)\n"
         "  -P, --parallel  #         number of parallel client streams to run\n"
         "  -R, --reverse             run in reverse mode (server sends, client receives)\n"
         "  --bidir                   run in bidirectional mode\n"
         "  -w, --window    #[KMG]    set window size / socket buffer size\n"
         "  -C, --congestion <algo>   set TCP congestion control algorithm\n"
         "  -M, --set-mss   #         set TCP maximum segment size\n"
         "  -N, --no-delay            set TCP no delay, disabling Nagle's Algorithm\n"
         "  -Z, --zerocopy            TCP senders use sendfile() from a memfd (no copy per write)\n"
         "  -4, --version4 / -6, --version6   only use IPv4 / IPv6\n"
         "  -O, --omit N              omit the first n seconds (TCP slow start; TCP only)\n"
         "  -T, --title str           prefix every output line with this string\n"
         "  --get-server-output       get results from server\n"
         "  --udp-counters-64bit      use 64-bit counters in UDP test packets\n"
         "  --connect-timeout #       timeout for control connection setup (ms)\n";
}

namespace {

bool parse_int(std::string_view s, long lo, long hi, long& out) {
  if (s.empty() || s.size() > 20) return false;
  std::string t(s);
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(t.c_str(), &end, 10);
  if (errno || *end || v < lo || v > hi) return false;
  out = v;
  return true;
}

bool parse_double(std::string_view s, double& out) {
  if (s.empty() || s.size() > 30) return false;
  std::string t(s);
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (*end || !std::isfinite(v)) return false;
  out = v;
  return true;
}

struct Spec {
  const char* long_name;
  char short_name;
  bool arg;
};

constexpr Spec kSpecs[] = {
    {"server", 's', false},       {"client", 'c', true},        {"port", 'p', true},
    {"one-off", '1', false},      {"version4", '4', false},     {"version6", '6', false},
    {"bind", 'B', true},          {"time", 't', true},          {"bytes", 'n', true},
    {"blockcount", 'k', true},    {"parallel", 'P', true},      {"reverse", 'R', false},
    {"bidir", 0, false},          {"length", 'l', true},        {"window", 'w', true},
    {"bitrate", 'b', true},       {"bandwidth", 0, true},       {"udp", 'u', false},
    {"interval", 'i', true},      {"json", 'J', false},         {"connect-timeout", 0, true},
    {"omit", 'O', true},          {"set-mss", 'M', true},       {"no-delay", 'N', false},
    {"congestion", 'C', true},    {"title", 'T', true},         {"get-server-output", 0, false},
    {"forceflush", 0, false},     {"udp-counters-64bit", 0, false}, {"rcv-timeout", 0, true},
    {"help", 'h', false},         {"version", 'v', false},      {"verbose", 'V', false},
    {"format", 'f', true},        {"daemon", 'D', false},       {"zerocopy", 'Z', false},
    {"json-stream", 0, false},
};

const Spec* find_short(char c) {
  for (const auto& s : kSpecs)
    if (s.short_name == c) return &s;
  return nullptr;
}
const Spec* find_long(std::string_view n) {
  for (const auto& s : kSpecs)
    if (n == s.long_name) return &s;
  return nullptr;
}

core::Status apply(Options& o, const Spec& s, std::string_view v) {
  std::string name = s.long_name;
  long n = 0;
  double d = 0;
  auto bad = [&](const char* what) { return make_error(std::string("parameter error - ") + what); };
  if (name == "server") o.server = true;
  else if (name == "client") o.host = std::string(v);
  else if (name == "port") {
    if (!parse_int(v, 1, 65535, n)) return bad("invalid port number");
    o.port = uint16_t(n);
  } else if (name == "one-off") o.one_off = true;
  else if (name == "version4") o.family = AF_INET;
  else if (name == "version6") o.family = AF_INET6;
  else if (name == "bind") o.bind = std::string(v);
  else if (name == "time") {
    if (!parse_double(v, d) || d < 0 || d > 86400) return bad("test duration valid values are 0 to 86400 seconds");
    o.time = d;
  } else if (name == "bytes" || name == "blockcount") {
    auto x = parse_size(v, false);
    if (!x || *x < 1) return bad("invalid number of bytes or blocks");
    (name == "bytes" ? o.bytes : o.blocks) = uint64_t(*x);
  } else if (name == "parallel") {
    if (!parse_int(v, 1, 128, n)) return bad("number of parallel streams must be between 1 and 128");
    o.parallel = int(n);
  } else if (name == "reverse") o.reverse = true;
  else if (name == "bidir") o.bidir = true;
  else if (name == "length") {
    auto x = parse_size(v, false);
    if (!x || *x < 1 || *x > 128.0 * 1024 * 1024) return bad("block size too large or invalid");
    o.len = int(*x);
  } else if (name == "window") {
    auto x = parse_size(v, false);
    if (!x || *x < 1 || *x > 512.0 * 1024 * 1024) return bad("invalid window size");
    o.window = int(*x);
  } else if (name == "bitrate" || name == "bandwidth") {
    auto x = parse_size(v, true);
    if (!x) return bad("invalid bitrate");
    o.rate = *x;
  } else if (name == "udp") o.udp = true;
  else if (name == "interval") {
    if (!parse_double(v, d) || (d != 0 && (d < 0.1 || d > 60)))
      return bad("report interval must be between 0.1 and 60 seconds, or 0");
    o.interval = d;
  } else if (name == "json") o.json = true;
  else if (name == "json-stream") o.json = o.json_stream = true;
  else if (name == "verbose") o.verbose = true;
  else if (name == "connect-timeout") {
    if (!parse_int(v, 1, 86400000, n)) return bad("invalid connect timeout");
    o.connect_timeout_ms = int(n);
  } else if (name == "omit") {
    if (!parse_int(v, 0, 600, n)) return bad("bogus value for --omit");
    o.omit = int(n);
  } else if (name == "set-mss") {
    if (!parse_int(v, 1, 9216, n)) return bad("TCP MSS too large (maximum = 9216 bytes)");
    o.mss = int(n);
  } else if (name == "no-delay") o.nodelay = true;
  else if (name == "congestion") o.congestion = std::string(v);
  else if (name == "title") o.title = std::string(v);
  else if (name == "get-server-output") o.get_server_output = true;
  else if (name == "forceflush") o.forceflush = true;
  else if (name == "udp-counters-64bit") o.udp64 = true;
  else if (name == "rcv-timeout") {
    if (!parse_int(v, 1, 86400000, n)) return bad("invalid receive timeout");
    o.rcv_timeout_ms = int(n);
  } else if (name == "help") o.help = true;
  else if (name == "version") o.version = true;
  else if (name == "zerocopy") o.zerocopy = true;
  // -f, -D: accepted and ignored
  return {};
}

}  // namespace

core::Result<Options> parse_options(int argc, char** argv) {
  Options o;
  bool any_client_opt = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.size() >= 2 && a[0] == '-' && a[1] == '-') {
      std::string_view name = a.substr(2), val;
      bool has_val = false;
      if (auto eq = name.find('='); eq != std::string_view::npos) {
        val = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_val = true;
      }
      const Spec* s = find_long(name);
      if (!s) return make_error("parameter error - unrecognized option '" + std::string(a) + "'");
      if (s->arg && !has_val) {
        if (i + 1 >= argc) return make_error("parameter error - option '--" + std::string(name) + "' requires an argument");
        val = argv[++i];
      }
      if (auto st = apply(o, *s, val); !st) return st.error();
      any_client_opt |= s->short_name != 's' && s->short_name != '1';
      continue;
    }
    if (a.size() < 2 || a[0] != '-') return make_error("parameter error - unexpected argument '" + std::string(a) + "'");
    for (size_t k = 1; k < a.size(); ++k) {
      const Spec* s = find_short(a[k]);
      if (!s) return make_error(std::string("parameter error - invalid option -- '") + a[k] + "'");
      std::string_view val;
      if (s->arg) {
        if (k + 1 < a.size()) val = a.substr(k + 1);
        else if (i + 1 < argc) val = argv[++i];
        else return make_error(std::string("parameter error - option requires an argument -- '") + a[k] + "'");
        k = a.size();
      }
      if (auto st = apply(o, *s, val); !st) return st.error();
    }
  }
  if (o.help || o.version) return o;
  if (o.server && !o.host.empty()) return make_error("parameter error - cannot be both server and client");
  if (!o.server && o.host.empty()) return make_error("parameter error - must either be a client (-c) or server (-s)");
  if (o.reverse && o.bidir) return make_error("parameter error - cannot be both reverse and bidirectional");
  if (o.udp && o.omit > 0)
    return make_error("parameter error - -O with -u is not supported by this build (the ends disagree on "
                      "packet numbering after the warm-up)");
  if (o.rate && *o.rate > 0 && *o.rate < 1) return make_error("parameter error - invalid bitrate");
  if (o.udp && o.len > 65507) return make_error("parameter error - block size too large (maximum = 65507 bytes)");
  if (o.udp && o.len > 0 && o.len < int(udp_header_size(o.udp64)))
    return make_error("parameter error - block size too small (minimum = " +
                      std::to_string(udp_header_size(o.udp64)) + " bytes)");
  (void)any_client_opt;
  return o;
}

// ---- report lines ---------------------------------------------------------------------

std::string header_tcp(bool retr, bool cwnd, bool role) {
  std::string h = role ? "[ ID][Role] Interval           Transfer     Bitrate"
                       : "[ ID] Interval           Transfer     Bitrate";
  if (retr) h += "         Retr";
  if (cwnd) h += "  Cwnd";
  return h;
}

std::string header_udp(bool sender_interval, bool role) {
  std::string h = role ? "[ ID][Role] Interval           Transfer     Bitrate"
                       : "[ ID] Interval           Transfer     Bitrate";
  return h + (sender_interval ? "         Total Datagrams" : "         Jitter    Lost/Total Datagrams");
}

std::string label(int id, const char* role) {
  char b[32];
  if (role) std::snprintf(b, sizeof b, "[%3d][%s]", id, role);
  else std::snprintf(b, sizeof b, "[%3d]", id);
  return b;
}

std::string sum_label(const char* role) {
  return role ? std::string("[SUM][") + role + "]" : std::string("[SUM]");
}

std::string interval_prefix(const std::string& lab, double start, double end, double bytes,
                            double seconds) {
  double bps = seconds > 0 ? bytes * 8 / seconds : 0;
  char b[160];
  std::snprintf(b, sizeof b, "%s %6.2f-%-6.2f sec  %s  %s/sec", lab.c_str(), start, end,
                format_bytes(bytes).c_str(), format_bits(bps).c_str());
  return b;
}

std::string tcp_interval(const std::string& prefix, std::optional<int64_t> retr,
                         std::optional<uint64_t> cwnd) {
  char b[96];
  if (retr && cwnd)
    std::snprintf(b, sizeof b, "  %3lld   %s       ", (long long)*retr, format_bytes(double(*cwnd)).c_str());
  else if (retr)
    std::snprintf(b, sizeof b, "  %3lld             ", (long long)*retr);
  else
    std::snprintf(b, sizeof b, "                  ");
  return prefix + b;
}

std::string tcp_summary(const std::string& prefix, std::optional<int64_t> retr, bool sender) {
  char b[96];
  if (retr) std::snprintf(b, sizeof b, "  %3lld             %s", (long long)*retr, sender ? "sender" : "receiver");
  else std::snprintf(b, sizeof b, "                  %s", sender ? "sender" : "receiver");
  return prefix + b;
}

std::string udp_sender_interval(const std::string& prefix, int64_t packets) {
  return prefix + "  " + std::to_string(packets) + "  ";
}

std::string udp_stats(const std::string& prefix, double jitter_ms, int64_t lost, int64_t total,
                      const char* tail) {
  double pct = total > 0 ? 100.0 * double(lost) / double(total) : 0.0;
  char b[128];
  std::snprintf(b, sizeof b, "  %5.3f ms  %lld/%lld (%.2g%%)  %s", jitter_ms, (long long)lost,
                (long long)total, pct, tail);
  return prefix + b;
}

std::string cpu_utilization_line(bool local_sender, double total, double user, double sys,
                                 double remote_total, double remote_user, double remote_sys) {
  char b[200];
  std::snprintf(b, sizeof b,
                "CPU Utilization: local/%s %.1f%% (%.1f%%u/%.1f%%s), remote/%s %.1f%% (%.1f%%u/%.1f%%s)",
                local_sender ? "sender" : "receiver", total, user, sys, local_sender ? "receiver" : "sender",
                remote_total, remote_user, remote_sys);
  return b;
}

}  // namespace netshoot::applet::perf

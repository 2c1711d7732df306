// perf / iperf3: command-line options (iperf3 3.12 spelling) and the text lines
// of its reports, apart from the socket code so that unit tests reach both.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "netshoot/result.h"

namespace netshoot::applet::perf {

struct Options {
  bool server = false;         // -s
  std::string host;            // -c HOST
  uint16_t port = 5201;        // -p
  bool one_off = false;        // -1
  int family = AF_UNSPEC;      // -4 / -6
  std::string bind;            // -B
  double time = 10;            // -t
  uint64_t bytes = 0;          // -n
  uint64_t blocks = 0;         // -k
  int parallel = 1;            // -P
  bool reverse = false;        // -R
  bool bidir = false;          // --bidir
  int len = 0;                 // -l (0: 128 KiB for TCP, the path MSS for UDP)
  int window = 0;              // -w
  std::optional<double> rate;  // -b bits/s (UDP default 1 Mbit/s; 0 = unlimited)
  bool udp = false;            // -u
  double interval = 1;         // -i (0: no interval reports)
  bool json = false;           // -J / --json
  bool json_stream = false;    // --json-stream: one {"event":...,"data":...} line per event
  bool verbose = false;        // -V
  bool zerocopy = false;       // -Z: TCP senders sendfile() the block from a memfd
  int connect_timeout_ms = -1; // --connect-timeout
  int omit = 0;                // -O
  int mss = 0;                 // -M
  bool nodelay = false;        // -N
  std::string congestion;      // -C
  std::string title;           // -T
  bool get_server_output = false;
  bool forceflush = false;
  bool udp64 = false;          // --udp-counters-64bit
  int rcv_timeout_ms = 120000; // --rcv-timeout (receiver idle limit)
  bool help = false;
  bool version = false;
};

// Parses argv[1..]. Errors carry iperf3's message (printed as "iperf3: MESSAGE").
core::Result<Options> parse_options(int argc, char** argv);
std::string usage();

// ---- report lines (iperf3's text shape) --------------------------------------------

inline constexpr const char* kSeparator = "- - - - - - - - - - - - - - - - - - - - - - - - -";
// Column headers. `role`: the bidirectional form "[ ID][Role]".
std::string header_tcp(bool retr, bool cwnd, bool role = false);
std::string header_udp(bool sender_interval, bool role = false);

// "[  5]" / "[SUM]" / "[  5][TX-C]".
std::string label(int id, const char* role = nullptr);
std::string sum_label(const char* role = nullptr);

// "[  5]   0.00-1.00   sec  1.60 GBytes  13.7 Gbits/sec" (no trailing columns).
std::string interval_prefix(const std::string& label, double start, double end, double bytes,
                            double seconds);
// TCP interval: sender with retransmits and cwnd, SUM sender with retransmits,
// receiver without either.
std::string tcp_interval(const std::string& prefix, std::optional<int64_t> retr,
                         std::optional<uint64_t> cwnd);
// TCP summary line ending in "sender" / "receiver".
std::string tcp_summary(const std::string& prefix, std::optional<int64_t> retr, bool sender);
// UDP sender interval ("  1249  ").
std::string udp_sender_interval(const std::string& prefix, int64_t packets);
// UDP receiver interval or summary: jitter (ms), lost/total (percent); `tail` is
// "", "sender" or "receiver".
std::string udp_stats(const std::string& prefix, double jitter_ms, int64_t lost, int64_t total,
                      const char* tail);

// -V: "CPU Utilization: local/sender 5.3% (0.2%u/5.1%s), remote/receiver 12.0% (...)";
// `local_sender`: this side's role in the direction reported. Percentages of wall time.
std::string cpu_utilization_line(bool local_sender, double total, double user, double sys,
                                 double remote_total, double remote_user, double remote_sys);

}  // namespace netshoot::applet::perf

// ping applet: the options both front ends fill (iputils `ping`/`ping6` and `fping`),
// and the parsers. Setup only: nothing here touches a socket.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netshoot/result.h"
#include "netshoot/socket.h"

namespace netshoot::applet::ping {

enum class Frontend { ping, fping };
enum class Probe { icmp, tcp };

struct Options {
  Frontend frontend = Frontend::ping;
  Probe probe = Probe::icmp;
  uint16_t tcp_port = 0;          // --tcp PORT
  int family = 0;                 // 0 (any), AF_INET (-4), AF_INET6 (-6 / ping6)
  std::vector<std::string> targets;
  bool generate = false;          // fping -g: targets are CIDR blocks or a start/end pair

  // ---- probing (both) ----
  std::optional<uint64_t> count;  // -c (fping: -c / -C)
  double interval_s = 1.0;        // ping -i: between probes; fping -i: between any two sends
  bool interval_set = false;
  size_t size = 56;               // ICMP payload bytes (ping -s, fping -b)
  std::vector<uint8_t> pattern;   // ping -p: up to 16 bytes repeated through the payload
  int ttl = -1;                   // ping -t, fping -H
  int tos = -1;                   // ping -Q, fping -O
  std::string interface;          // -I NAME (or a source address)
  std::optional<core::PmtuDisc> pmtu;  // ping -M do|dont|want|probe, fping -M (do)
  int verbose = 0;                // -v
  bool quiet = false;             // -q
  bool numeric = false;           // ping -n (fping: names are never looked up unless -d/-n)
  bool json = false;              // --json (from the driver)

  // ---- iputils ----
  double deadline_s = 0;          // -w (0: none)
  double linger_s = 10;           // -W
  bool linger_set = false;
  bool timestamps = false;        // -D
  bool report_outstanding = false;  // -O
  bool flood = false;             // -f
  int preload = 0;                // -l

  // ---- fping ----
  double fping_timeout_ms = 500;  // -t: first timeout (grows by backoff per retry)
  bool fping_timeout_set = false;
  int retries = 3;                // -r
  double backoff = 1.5;           // -B
  double period_ms = 1000;        // -p: between probes to one host (-c, -C, -l)
  bool alive_only = false;        // -a
  bool unreach_only = false;      // -u
  bool elapsed = false;           // -e
  bool stats = false;             // -s
  bool loop = false;              // -l
  bool per_probe_summary = false; // -C: "h : 0.05 0.06 -"
  bool reverse_names = false;     // -d / -n: print the reverse name of each target
  bool show_addr = false;         // -A

  bool help = false;
  bool version = false;
};

// Parsing gives the options, or a one-line message (without the program name) and
// the exit status to use (2 for usage errors, as iputils and fping do).
struct ParseError {
  std::string message;
  int exit_code = 2;
};

struct ParseResult {
  Options options;
  std::optional<ParseError> error;
  bool ok() const { return !error; }
};

// `invoked` is argv[0]'s name: ping6 implies -6. is_root: whether intervals below
// 200 ms and flooding are allowed.
ParseResult parse_ping_args(const std::vector<std::string>& args, const std::string& invoked, bool is_root);
ParseResult parse_fping_args(const std::vector<std::string>& args, bool is_root);

// Shared helpers (also used by the tests).
std::optional<double> parse_number(const std::string& s);
// Expands fping -g operands ("10.0.0.0/24" or "10.0.0.1 10.0.0.20") to addresses.
core::Result<std::vector<std::string>> expand_generate(const std::vector<std::string>& operands);

std::string ping_usage(const std::string& invoked);
std::string fping_usage();

}  // namespace netshoot::applet::ping

// scan / nmap: shared types. Options (nmap-style front end), per-port results with
// nmap's states and reasons, the classification of replies, and output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/result.h"

namespace netshoot::applet::scan {

enum class Technique : uint8_t { syn, connect, udp, ping_only };
enum class PortState : uint8_t { unknown, open, closed, filtered, unfiltered, open_filtered };
enum class Reason : uint8_t {
  none, syn_ack, reset, conn_refused, no_response, port_unreach, admin_prohibited, host_unreach,
  net_unreach, proto_unreach, host_prohibited, net_prohibited, udp_response, echo_reply, arp_response,
  localhost_response, user_set, time_exceeded, nd_response
};
const char* state_name(PortState s) noexcept;
const char* reason_name(Reason r) noexcept;

struct Options {
  Technique technique = Technique::syn;
  bool technique_set = false;
  bool udp_too = false;          // -sS -sU together
  core::PortSet ports;
  bool ports_set = false;
  size_t top_ports = 0;          // --top-ports / -F
  bool sequential = false;       // -r
  std::vector<std::string> targets;  // as written
  std::string input_list;        // -iL FILE
  bool no_ping = false;          // -Pn
  bool no_dns = false;           // -n
  bool reason = false;           // --reason
  bool open_only = false;        // --open
  int verbose = 0;               // -v
  int debug = 0;                 // -d
  int timing = 3;                // -T0..5
  double min_rate = 0, max_rate = 0;  // packets per second, 0 = unset
  int max_retries = -1;          // -1 = timing default
  double host_timeout_s = 0;
  double stats_every_s = 0;      // --stats-every
  double min_rtt_ms = -1, max_rtt_ms = -1, initial_rtt_ms = -1;
  int family = AF_INET;          // -6
  std::string out_grep, out_normal;  // -oG / -oN
  bool allow_huge = false;       // --allow-large-scan
  bool json = false;             // global --json (progress lines then go to stderr)
  bool help = false;
  bool version = false;
};

core::Result<Options> parse_options(int argc, char** argv, bool is_root);
std::string usage();

// Timing template values (nmap's -T tables, with our floor for local links).
struct Timing {
  double initial_rtt_ms, min_rtt_ms, max_rtt_ms;
  int max_retries;
  int max_window;
  double scan_delay_ms;
};
Timing timing_for(const Options& o);

struct PortResult {
  uint16_t port = 0;
  core::L4Proto proto = core::L4Proto::tcp;
  PortState state = PortState::unknown;
  Reason reason = Reason::none;
  int ttl = -1;
};

struct HostResult {
  core::IpAddr addr;
  std::string name;        // as given (for "Nmap scan report for NAME (ADDR)")
  std::string rdns;        // reverse name when looked up
  bool up = false;
  Reason up_reason = Reason::none;
  int up_ttl = -1;
  double latency_s = -1;
  std::vector<PortResult> ports;  // in port order
  bool timed_out = false;    // --host-timeout expired ("Skipping host ... due to host timeout")
  int64_t deadline_ns = 0;   // --host-timeout: CLOCK_MONOTONIC deadline once its scan started
  std::vector<uint8_t> mac;  // from an ARP reply (directly connected hosts)
};

// Reply classification (pure, unit-tested).
// A TCP reply to a SYN: SYN|ACK -> open/syn-ack; RST -> closed/reset.
std::optional<std::pair<PortState, Reason>> classify_tcp_flags(uint8_t flags) noexcept;
// An ICMP/ICMPv6 destination unreachable quoting one of our probes.
std::pair<PortState, Reason> classify_icmp(bool v6, uint8_t type, uint8_t code, core::L4Proto proto) noexcept;
// A connect() result (errno, 0 = connected).
std::pair<PortState, Reason> classify_connect(int err) noexcept;
// The errno the kernel gives connect() for an ICMP error (icmp_err_convert /
// icmpv6_err_convert), for -sT seeing ICMP on a raw socket.
int icmp_to_errno(bool v6, uint8_t type, uint8_t code) noexcept;
// The state of a port that never answered.
std::pair<PortState, Reason> no_response_state(Technique t) noexcept;

// Output (format.cpp).
std::string format_latency(double seconds);
std::string format_host(const HostResult& h, const Options& o);  // report block, text
std::string format_grepable(const HostResult& h, const Options& o);
std::string format_elapsed(double s);
// nmap's progress lines (-v on long scans, --stats-every): "H:MM:SS"; "SYN Stealth
// Scan Timing: About 45.20% done; ETC: 12:34 (0:00:06 remaining)" (ETC from `now`).
std::string format_clock(double seconds);
std::string format_timing_line(const std::string& scan_name, double fraction, double elapsed_s, time_t now);

}  // namespace netshoot::applet::scan

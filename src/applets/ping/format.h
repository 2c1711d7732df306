// Text and JSON shapes of ping's and fping's output. Pure functions (unit-tested).
//
// JSON schema (--json, one object per line, stable; times in milliseconds as
// numbers, "time" is the UNIX receive time in seconds):
//   {"type":"start","target":T,"addr":A,"bytes":56,"probe":"icmp"|"tcp","socket":"raw"|"dgram"|"tcp"}
//   {"type":"reply","target":T,"addr":A,"from":F,"seq":N,"bytes":64,"ttl":64,"rtt_ms":0.207,
//    "dup":false,"time":1700000000.123456}            (+ "state":"open"|"refused" for --tcp)
//   {"type":"error","target":T,"addr":A,"from":F,"seq":N,"error":"Destination Host Unreachable",
//    "icmp_type":3,"icmp_code":1,"time":...}
//   {"type":"timeout","target":T,"addr":A,"seq":N}   (--tcp probes and fping probes without answer)
//   {"type":"summary","target":T,"addr":A,"transmitted":3,"received":3,"duplicates":0,"errors":0,
//    "loss_pct":0,"time_ms":2003,"rtt_min_ms":..,"rtt_avg_ms":..,"rtt_max_ms":..,"rtt_mdev_ms":..}
//    (rtt_* are null without replies; fping adds "alive":true|false)
#pragma once

#include <cstdint>
#include <string>

#include "netshoot/output.h"
#include "stats.h"

namespace netshoot::applet::ping {

// iputils per-reply RTT: 3 decimals below 1 ms, 2 below 10, 1 below 100, else whole ms.
std::string format_reply_time(int64_t us);
// "%ld.%03ld" of microseconds (the summary's figures).
std::string format_ms3(int64_t us);
// fping's figures: 3 decimals below 1 ms, 2 below 10, 1 below 100, else none.
std::string format_fping_ms(double ms);
// "%g" of a loss percentage: 0, 33.3333, 100.
std::string format_percent(double p);

// "Destination Host Unreachable", "Time to live exceeded", "Destination unreachable:
// Address unreachable" (IPv6) ...
std::string icmp_error_text(bool v6, uint8_t type, uint8_t code, uint32_t info);
// fping's stderr form: "ICMP Host Unreachable".
std::string fping_icmp_text(bool v6, uint8_t type, uint8_t code);

struct ReplyLine {
  size_t bytes = 64;
  std::string from;  // "10.0.0.1" or "name (10.0.0.1)"
  uint16_t seq = 1;
  int ttl = -1;
  int64_t rtt_us = -1;
  bool dup = false;
  bool bad_checksum = false;
  bool truncated = false;
  std::string timestamp;  // -D: "[1700000000.123456] "
  std::string tcp_state;  // --tcp: "open" / "refused (RST)"
  uint16_t port = 0;
};
// "64 bytes from 10.0.1.4: icmp_seq=1 ttl=64 time=0.207 ms"
std::string ping_reply_line(const ReplyLine& r);

// "PING host (addr) 56(84) bytes of data." / "PING ::1(::1) 56 data bytes"
std::string ping_header(const std::string& name, const std::string& addr, bool v6, size_t size,
                        const std::string& from_addr, const std::string& interface);
std::string tcp_header(const std::string& name, const std::string& addr, uint16_t port);

// The closing block, without the leading empty line:
//   --- NAME ping statistics ---
//   3 packets transmitted, 3 received, 0% packet loss, time 2003ms
//   rtt min/avg/max/mdev = 0.031/0.045/0.063/0.013 ms
std::string ping_summary(const std::string& name, const RttStats& s, int64_t elapsed_ms, bool timed,
                         int pipe = 0, bool show_ipg = false, int64_t ipg_us = 0);
// SIGQUIT: "3/3 packets, 0% loss, min/avg/ewma/max = 0.029/0.040/0.039/0.052 ms"
std::string ping_status_line(const RttStats& s);

// fping: "h : [0], 64 bytes, 0.05 ms (0.05 avg, 0% loss)"
std::string fping_reply_line(const std::string& name, uint32_t probe, size_t bytes, double rtt_ms,
                             double avg_ms, int loss_pct);
// "h : xmt/rcv/%loss = 3/3/0%, min/avg/max = 0.05/0.06/0.08"
std::string fping_summary_line(const std::string& name, uint64_t xmt, uint64_t rcv, double min_ms, double avg_ms,
                               double max_ms);

// JSON helpers: milliseconds from microseconds/nanoseconds, null when negative.
core::Json ms_or_null(int64_t us);
core::Json summary_json(const std::string& target, const std::string& addr, const RttStats& s, int64_t elapsed_ms);

}  // namespace netshoot::applet::ping

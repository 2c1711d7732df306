// Output shapes familiar from iputils ping and fping (written from their documented
// and observed output, not their code).
#include "format.h"

#include <fmt/format.h>

namespace netshoot::applet::ping {

std::string format_reply_time(int64_t us) {
  if (us < 0) us = 0;
  // Rounded to the shown precision; the thresholds move by the rounding amount.
  if (us >= 100000 - 500) return fmt::format("{}", (us + 500) / 1000);
  if (us >= 10000 - 50) return fmt::format("{}.{:01}", (us + 50) / 1000, ((us + 50) % 1000) / 100);
  if (us >= 1000 - 5) return fmt::format("{}.{:02}", (us + 5) / 1000, ((us + 5) % 1000) / 10);
  return fmt::format("{}.{:03}", us / 1000, us % 1000);
}

std::string format_ms3(int64_t us) {
  if (us < 0) us = 0;
  return fmt::format("{}.{:03}", us / 1000, us % 1000);
}

std::string format_fping_ms(double ms) {
  if (ms < 0) return fmt::format("{:.2g}", ms);
  if (ms < 1.0) return fmt::format("{:.3f}", ms);
  if (ms < 10.0) return fmt::format("{:.2f}", ms);
  if (ms < 100.0) return fmt::format("{:.1f}", ms);
  return fmt::format("{:.0f}", ms);
}

std::string format_percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", p);
  return buf;
}

std::string icmp_error_text(bool v6, uint8_t type, uint8_t code, uint32_t info) {
  if (v6) {
    switch (type) {
      case 1: {
        static const char* const k[] = {"No route", "Administratively prohibited", "Beyond scope of source address",
                                        "Address unreachable", "Port unreachable", "Source address failed ingress/egress policy",
                                        "Reject route to destination"};
        return std::string("Destination unreachable: ") + (code < 7 ? k[code] : "Unknown code " + std::to_string(code));
      }
      case 2: return fmt::format("Packet too big: mtu={}", info);
      case 3: return code == 0 ? "Time exceeded: Hop limit" : "Time exceeded: Defragmentation failure";
      case 4: return fmt::format("Parameter problem: code {} pointer {}", code, info);
      default: return fmt::format("ICMPv6 type {} code {}", type, code);
    }
  }
  switch (type) {
    case 3: {
      static const char* const k[] = {"Destination Net Unreachable", "Destination Host Unreachable",
                                      "Destination Protocol Unreachable", "Destination Port Unreachable",
                                      "", "Source Route Failed", "Destination Net Unknown",
                                      "Destination Host Unknown", "Source Host Isolated",
                                      "Destination Net Prohibited", "Destination Host Prohibited",
                                      "Destination Net Unreachable for Type of Service",
                                      "Destination Host Unreachable for Type of Service", "Packet filtered",
                                      "Precedence Violation", "Precedence Cutoff"};
      if (code == 4) return fmt::format("Frag needed and DF set (mtu = {})", info & 0xffff);
      return code < 16 ? k[code] : fmt::format("Dest Unreachable, Bad Code: {}", code);
    }
    case 4: return "Source Quench";
    case 5: return code == 0 ? "Redirect Network" : code == 1 ? "Redirect Host" : "Redirect";
    case 11: return code == 0 ? "Time to live exceeded" : "Frag reassembly time exceeded";
    case 12: return fmt::format("Parameter problem: pointer = {}", info >> 24);
    default: return fmt::format("Bad ICMP type: {}", type);
  }
}

std::string fping_icmp_text(bool v6, uint8_t type, uint8_t code) {
  if (v6) return type == 3 ? "ICMPv6 Time Exceeded" : "ICMPv6 " + icmp_error_text(true, type, code, 0);
  if (type == 11) return "ICMP Time Exceeded";
  if (type == 3) {
    static const char* const k[] = {"Network Unreachable", "Host Unreachable", "Protocol Unreachable",
                                    "Port Unreachable", "Unreachable (Fragmentation Needed)",
                                    "Unreachable (Source Route Failed)", "Unreachable (Destination Network Unknown)",
                                    "Unreachable (Destination Host Unknown)", "Unreachable (Source Host Isolated)",
                                    "Unreachable (Communication with Network Prohibited)",
                                    "Unreachable (Communication with Host Prohibited)",
                                    "Unreachable (Network Unreachable For Type Of Service)",
                                    "Unreachable (Host Unreachable For Type Of Service)",
                                    "Unreachable (Communication Administratively Prohibited)",
                                    "Unreachable (Host Precedence Violation)",
                                    "Unreachable (Precedence cutoff in effect)"};
    return std::string("ICMP ") + (code < 16 ? k[code] : "Unreachable");
  }
  return "ICMP " + icmp_error_text(false, type, code, 0);
}

std::string ping_reply_line(const ReplyLine& r) {
  std::string s = r.timestamp;
  if (!r.tcp_state.empty()) {
    s += fmt::format("port {} from {}: tcp_seq={} {}", r.port, r.from, r.seq, r.tcp_state);
  } else {
    s += fmt::format("{} bytes from {}: icmp_seq={}", r.bytes, r.from, r.seq);
    if (r.ttl >= 0) s += fmt::format(" ttl={}", r.ttl);
  }
  if (r.rtt_us >= 0) s += " time=" + format_reply_time(r.rtt_us) + " ms";
  if (r.dup) s += " (DUP!)";
  if (r.bad_checksum) s += " (BAD CHECKSUM!)";
  if (r.truncated) s += " (truncated)";
  return s;
}

std::string ping_header(const std::string& name, const std::string& addr, bool v6, size_t size,
                        const std::string& from_addr, const std::string& interface) {
  std::string from;
  if (!from_addr.empty() || !interface.empty()) {
    from = " from " + from_addr;
    if (!interface.empty() && interface != from_addr) from += (from_addr.empty() ? "" : " ") + interface;
    from += v6 ? "" : ":";
  }
  if (v6) return fmt::format("PING {}({}){} {} data bytes", name, addr, from, size);
  return fmt::format("PING {} ({}){} {}({}) bytes of data.", name, addr, from, size, size + 28);
}

std::string tcp_header(const std::string& name, const std::string& addr, uint16_t port) {
  return fmt::format("PING {} ({}) TCP port {}: connect probes.", name, addr, port);
}

std::string ping_summary(const std::string& name, const RttStats& s, int64_t elapsed_ms, bool timed, int pipe,
                         bool show_ipg, int64_t ipg_us) {
  std::string out = fmt::format("--- {} ping statistics ---\n", name);
  out += fmt::format("{} packets transmitted, {} received", s.transmitted, s.received);
  if (s.duplicates) out += fmt::format(", +{} duplicates", s.duplicates);
  if (s.corrupted) out += fmt::format(", +{} corrupted", s.corrupted);
  if (s.errors) out += fmt::format(", +{} errors", s.errors);
  if (s.transmitted) out += ", " + format_percent(s.loss_percent()) + "% packet loss";
  out += fmt::format(", time {}ms", elapsed_ms);
  if (timed && s.has_rtt()) {
    out += fmt::format("\nrtt min/avg/max/mdev = {}/{}/{}/{} ms", format_ms3(s.min_us), format_ms3(s.avg_us()),
                       format_ms3(s.max_us), format_ms3(s.mdev_us()));
    if (pipe > 1) out += fmt::format(", pipe {}", pipe);
    if (show_ipg) out += fmt::format(", ipg/ewma {}/{} ms", format_ms3(ipg_us), format_ms3(s.ewma_us()));
  } else if (pipe > 1) {
    out += fmt::format("\npipe {}", pipe);
  }
  return out;
}

std::string ping_status_line(const RttStats& s) {
  int loss = s.transmitted ? int((s.transmitted - std::min(s.received, s.transmitted)) * 100 / s.transmitted) : 0;
  std::string out = fmt::format("{}/{} packets, {}% loss", s.received, s.transmitted, loss);
  if (s.has_rtt())
    out += fmt::format(", min/avg/ewma/max = {}/{}/{}/{} ms", format_ms3(s.min_us), format_ms3(s.avg_us()),
                       format_ms3(s.ewma_us()), format_ms3(s.max_us));
  return out;
}

std::string fping_reply_line(const std::string& name, uint32_t probe, size_t bytes, double rtt_ms, double avg_ms,
                             int loss_pct) {
  return fmt::format("{} : [{}], {} bytes, {} ms ({} avg, {}% loss)", name, probe, bytes, format_fping_ms(rtt_ms),
                     format_fping_ms(avg_ms), loss_pct);
}

std::string fping_summary_line(const std::string& name, uint64_t xmt, uint64_t rcv, double min_ms, double avg_ms,
                               double max_ms) {
  uint64_t loss = xmt ? (xmt - std::min(rcv, xmt)) * 100 / xmt : 0;
  std::string s = fmt::format("{} : xmt/rcv/%loss = {}/{}/{}%", name, xmt, rcv, loss);
  if (rcv) s += fmt::format(", min/avg/max = {}/{}/{}", format_fping_ms(min_ms), format_fping_ms(avg_ms),
                            format_fping_ms(max_ms));
  return s;
}

core::Json ms_or_null(int64_t us) {
  if (us < 0) return nullptr;
  return double(us) / 1000.0;
}

core::Json summary_json(const std::string& target, const std::string& addr, const RttStats& s, int64_t elapsed_ms) {
  core::Json j;
  j["target"] = target;
  j["addr"] = addr;
  j["transmitted"] = s.transmitted;
  j["received"] = s.received;
  j["duplicates"] = s.duplicates;
  j["errors"] = s.errors;
  j["loss_pct"] = s.loss_percent();
  j["time_ms"] = elapsed_ms;
  bool r = s.has_rtt();
  j["rtt_min_ms"] = r ? ms_or_null(s.min_us) : nullptr;
  j["rtt_avg_ms"] = r ? ms_or_null(s.avg_us()) : nullptr;
  j["rtt_max_ms"] = r ? ms_or_null(s.max_us) : nullptr;
  j["rtt_mdev_ms"] = r ? ms_or_null(s.mdev_us()) : nullptr;
  return j;
}

}  // namespace netshoot::applet::ping

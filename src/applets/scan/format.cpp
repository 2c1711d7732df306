// nmap's normal and grepable output shapes.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "scan.h"

namespace netshoot::applet::scan {

std::string format_latency(double s) {
  // two significant digits, fixed notation: 0.52s, 0.000028s, 0.0000050s
  if (s <= 0) return "0.0000010s";
  int decimals = std::max(0, 1 - int(std::floor(std::log10(s))));
  char b[64];
  std::snprintf(b, sizeof b, "%.*fs", decimals, s);
  return b;
}

std::string format_elapsed(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", s);
  return b;
}

std::string format_clock(double s) {
  long t = s < 0 ? 0 : long(s + 0.5);
  char b[32];
  std::snprintf(b, sizeof b, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  return b;
}

std::string format_timing_line(const std::string& scan_name, double f, double elapsed_s, time_t now) {
  char b[160];
  if (f <= 0 || elapsed_s <= 0) {
    std::snprintf(b, sizeof b, "%s Timing: About %.2f%% done", scan_name.c_str(), 0.0);
    return b;
  }
  double remaining = elapsed_s * (1 - f) / f;
  time_t etc = now + time_t(remaining + 0.5);
  char hm[16];
  std::strftime(hm, sizeof hm, "%H:%M", localtime(&etc));
  std::snprintf(b, sizeof b, "%s Timing: About %.2f%% done; ETC: %s (%s remaining)", scan_name.c_str(), f * 100, hm,
                format_clock(remaining).c_str());
  return b;
}

namespace {

std::string mac_line(const HostResult& h) {
  if (h.mac.size() != 6) return "";
  char b[64];
  std::snprintf(b, sizeof b, "MAC Address: %02X:%02X:%02X:%02X:%02X:%02X (Unknown)", h.mac[0], h.mac[1], h.mac[2],
                h.mac[3], h.mac[4], h.mac[5]);
  return b;
}

std::string service_of(const PortResult& p) {
  auto sv = core::service_name(p.port, p.proto);
  return sv.empty() ? "unknown" : std::string(sv);
}

std::string reason_text(Reason r, int ttl) {
  std::string s = reason_name(r);
  if (ttl >= 0 && r != Reason::no_response) s += " ttl " + std::to_string(ttl);
  return s;
}

// States nmap folds into "Not shown": more than 25 ports in that state.
constexpr size_t kFoldOver = 25;

}  // namespace

std::string format_host(const HostResult& h, const Options& o) {
  std::string out = "Nmap scan report for ";
  std::string addr = h.addr.to_string();
  std::string shown = !h.rdns.empty() ? h.rdns : (!h.name.empty() && h.name != addr ? h.name : "");
  out += shown.empty() ? addr : shown + " (" + addr + ")";
  out += "\n";
  if (!h.up) return out + "Host is down.";
  out += "Host is up";
  if (o.reason && h.up_reason != Reason::none) out += ", received " + reason_text(h.up_reason, h.up_ttl);
  if (h.latency_s >= 0) out += " (" + format_latency(h.latency_s) + " latency)";
  out += ".";
  if (h.timed_out) return out + "\nSkipping host " + (shown.empty() ? addr : shown + " (" + addr + ")") +
                          " due to host timeout";
  std::string mac = mac_line(h);
  if (o.technique == Technique::ping_only && !o.udp_too && h.ports.empty())
    return mac.empty() ? out : out + "\n" + mac;
  out += "\n";
  if (!mac.empty()) mac = "\n" + mac;

  // count states (per protocol, nmap says "closed tcp ports")
  std::map<std::pair<PortState, core::L4Proto>, std::map<Reason, size_t>> groups;
  std::map<std::pair<PortState, core::L4Proto>, size_t> counts;
  for (auto& p : h.ports) {
    counts[{p.state, p.proto}]++;
    groups[{p.state, p.proto}][p.reason]++;
  }
  std::vector<std::pair<PortState, core::L4Proto>> folded;
  for (auto& [k, n] : counts)
    if (n > kFoldOver || (o.open_only && k.first != PortState::open)) folded.push_back(k);
  std::sort(folded.begin(), folded.end(), [&](auto& a, auto& b) { return counts[a] > counts[b]; });
  std::string notshown;
  for (auto& k : folded) {
    if (!notshown.empty()) notshown += ", ";
    notshown += std::to_string(counts[k]) + " " + state_name(k.first) + " " + std::string(core::to_string(k.second)) +
                " ports (";
    auto& rs = groups[k];
    if (rs.size() == 1) {
      notshown += reason_name(rs.begin()->first);
    } else {
      std::vector<std::pair<size_t, Reason>> v;
      for (auto& [r, n] : rs) v.push_back({n, r});
      std::sort(v.rbegin(), v.rend());
      for (size_t i = 0; i < v.size(); ++i)
        notshown += (i ? ", " : "") + std::to_string(v[i].first) + " " + reason_name(v[i].second);
    }
    notshown += ")";
  }
  std::vector<const PortResult*> rows;
  for (auto& p : h.ports) {
    bool fold = false;
    for (auto& k : folded) fold |= (k.first == p.state && k.second == p.proto);
    if (!fold) rows.push_back(&p);
  }
  if (rows.empty()) {
    out += "All " + std::to_string(h.ports.size()) + " scanned ports on " + (shown.empty() ? addr : shown + " (" + addr + ")") +
           " are in ignored states.\n";
    if (!notshown.empty()) out += "Not shown: " + notshown + "\n";
    out.pop_back();
    return out + mac;
  }
  if (!notshown.empty()) out += "Not shown: " + notshown + "\n";
  else out += "\n";
  size_t wp = 4, ws = 5, wv = 7;
  for (auto* p : rows) {
    wp = std::max(wp, std::to_string(p->port).size() + 1 + core::to_string(p->proto).size());
    ws = std::max(ws, std::string(state_name(p->state)).size());
    wv = std::max(wv, service_of(*p).size());
  }
  out += fmt::format("{:<{}}{:<{}}", "PORT", wp + 1, "STATE", ws + 1) +
         (o.reason ? fmt::format("{:<{}}REASON", "SERVICE", wv + 1) : "SERVICE") + "\n";
  for (auto* p : rows) {
    std::string line = fmt::format("{:<{}}{:<{}}", fmt::format("{}/{}", p->port, core::to_string(p->proto)), wp + 1,
                                   state_name(p->state), ws + 1);
    if (o.reason) line += fmt::format("{:<{}}", service_of(*p), wv + 1) + reason_text(p->reason, p->ttl);
    else line += service_of(*p);
    out += line + "\n";
  }
  out.pop_back();  // the sink adds the newline
  return out + mac;
}

std::string format_grepable(const HostResult& h, const Options& o) {
  std::string addr = h.addr.to_string();
  std::string head = "Host: " + addr + " (" + h.rdns + ")\t";
  std::string out = head + "Status: " + (h.up ? "Up" : "Down") + "\n";
  if (h.up && h.timed_out) return out + head + "Status: Timeout\n";
  if (!h.up || h.ports.empty()) return out;
  std::map<PortState, size_t> counts;
  for (auto& p : h.ports) counts[p.state]++;
  PortState ignored = PortState::unknown;
  size_t most = 0;
  for (auto& [s, n] : counts)
    if (n > kFoldOver && n > most) most = n, ignored = s;
  std::string ports;
  for (auto& p : h.ports) {
    if (p.state == ignored) continue;
    if (!ports.empty()) ports += ", ";
    auto sv = core::service_name(p.port, p.proto);
    ports += std::to_string(p.port) + "/" + state_name(p.state) + "/" + std::string(core::to_string(p.proto)) + "//" +
             std::string(sv) + "///";
  }
  out += head + "Ports: " + ports;
  if (ignored != PortState::unknown) out += "\tIgnored State: " + std::string(state_name(ignored)) + " (" + std::to_string(most) + ")";
  out += "\n";
  return out;
}

}  // namespace netshoot::applet::scan

// Text and JSON forms of a flows report (see flows_report.h).
#include "flows_report.h"

#include <cstdio>
#include <string_view>

#include <fmt/format.h>

namespace netshoot::applet::monitor::flows {

namespace {

constexpr size_t kPrintWidth = 40;  // iftop's host column
constexpr size_t kRuleWidth = kPrintWidth + 52;

// Exactly w columns: padded, or cut as iftop cuts long host names.
std::string pad(std::string_view s, size_t w) { return fmt::format("{:<{}.{}}", s, w, w); }

std::string col10(const std::string& s) {
  char b[32];
  std::snprintf(b, sizeof b, "%10s", s.c_str());
  return b;
}

std::string host_text(const Report&, const Line& l, bool src, const Labels& labels) {
  core::IpAddr a = key_addr(l.key, src);
  uint16_t port = src ? l.key.src_port : l.key.dst_port;
  std::string service = port && labels.service ? labels.service(port, l.key.proto) : std::string();
  return host_column(labels.host ? labels.host(a) : a.to_string(), port, service, l.key.family == 6, kPrintWidth);
}

const char* proto_name(uint8_t p) {
  switch (p) {
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case 58: return "ipv6-icmp";
    default: return nullptr;
  }
}

core::Json columns(const double v[kDivisions]) {
  core::Json j;
  j["2s"] = v[0] * 8, j["10s"] = v[1] * 8, j["40s"] = v[2] * 8;
  return j;
}

}  // namespace

core::IpAddr key_addr(const FlowKey& k, bool src) {
  const auto& b = src ? k.src : k.dst;
  return core::IpAddr::from_bytes({b.data(), size_t(k.family == 4 ? 4 : 16)});
}

std::string text_report(const Report& r, const Labels& labels, const TextOptions& o) {
  std::string out;
  std::string rule(kRuleWidth, '-');
  out += "   # " + pad("Host name (port/service if enabled)", kPrintWidth - 1) + "     " + col10("last 2s") + " " +
         col10("last 10s") + " " + col10("last 40s") + " " + col10("cumulative") + "\n";
  out += rule + "\n";
  size_t n = 0;
  for (const auto& l : r.lines) {
    if (o.max_lines && n >= o.max_lines) break;
    ++n;
    char num[16];
    std::snprintf(num, sizeof num, "%4zu ", n);
    out += num + host_text(r, l, true, labels) + " =>";
    for (double v : l.sent) out.append(1, ' ').append(col10(readable_size(v, o.bytes)));
    out.append(1, ' ').append(col10(readable_size(double(l.total_sent), true))).append(1, '\n');
    out += "     " + host_text(r, l, false, labels) + " <=";
    for (double v : l.recv) out.append(1, ' ').append(col10(readable_size(v, o.bytes)));
    out.append(1, ' ').append(col10(readable_size(double(l.total_recv), true))).append(1, '\n');
  }
  out += rule + "\n";
  auto totals = [&](const char* label, auto value) {
    out += pad(label, kPrintWidth + 8) + " ";
    for (int d = 0; d < kDivisions; ++d)
      out += col10(readable_size(value(d), o.bytes)) + (d == kDivisions - 1 ? "\n" : " ");
  };
  totals("Total send rate:", [&](int d) { return r.sent[d]; });
  totals("Total receive rate:", [&](int d) { return r.recv[d]; });
  totals("Total send and receive rate:", [&](int d) { return r.sent[d] + r.recv[d]; });
  out += rule + "\n";
  out += pad("Peak rate (sent/received/total):", kPrintWidth + 8) + " " + col10(readable_size(r.peak_sent, o.bytes)) +
         " " + col10(readable_size(r.peak_recv, o.bytes)) + " " + col10(readable_size(r.peak_total, o.bytes)) + "\n";
  out += pad("Cumulative (sent/received/total):", kPrintWidth + 8) + " " +
         col10(readable_size(double(r.cum_sent), true)) + " " + col10(readable_size(double(r.cum_recv), true)) + " " +
         col10(readable_size(double(r.cum_sent + r.cum_recv), true)) + "\n";
  out += std::string(kRuleWidth, '=') + "\n\n";
  return out;
}

core::Json json_report(const Report& r, const Labels& labels, bool ports, bool names, size_t max_lines) {
  core::Json flows = core::Json::array();
  size_t n = 0;
  for (const auto& l : r.lines) {
    if (max_lines && n >= max_lines) break;
    core::Json f;
    f["rank"] = ++n;
    core::IpAddr s = key_addr(l.key, true), d = key_addr(l.key, false);
    f["src"] = s.to_string();
    f["dst"] = d.to_string();
    if (names && labels.host) f["src_name"] = labels.host(s), f["dst_name"] = labels.host(d);
    if (ports) {
      if (const char* p = proto_name(l.key.proto)) f["protocol"] = p;
      else f["protocol"] = l.key.proto;
      if (l.key.src_port || l.key.dst_port) f["src_port"] = l.key.src_port, f["dst_port"] = l.key.dst_port;
    }
    f["sent_bps"] = columns(l.sent);
    f["recv_bps"] = columns(l.recv);
    f["sent_bytes"] = l.total_sent;
    f["recv_bytes"] = l.total_recv;
    flows.push_back(std::move(f));
  }
  core::Json j;
  j["flows"] = std::move(flows);
  double both[kDivisions];
  for (int i = 0; i < kDivisions; ++i) both[i] = r.sent[i] + r.recv[i];
  j["totals"] = {{"sent_bps", columns(r.sent)}, {"recv_bps", columns(r.recv)}, {"total_bps", columns(both)}};
  j["peak_bps"] = {{"sent", r.peak_sent * 8}, {"recv", r.peak_recv * 8}, {"total", r.peak_total * 8}};
  j["cumulative_bytes"] = {{"sent", r.cum_sent}, {"recv", r.cum_recv}, {"total", r.cum_sent + r.cum_recv}};
  return j;
}

}  // namespace netshoot::applet::monitor::flows

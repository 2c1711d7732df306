// Text and JSON shapes: traceroute's header and hop lines, mtr's report, the
// statistics behind it, and reverse names through the project's resolver.
#include <cmath>
#include <cstdio>
#include <ctime>

#include "netshoot/resolver.h"
#include "trace.h"

namespace netshoot::applet::trace {

using core::IpAddr;
using core::Json;

// ---- statistics (mtr's running mean and sum of squared deviations) ----------------

void HopStats::add_reply(double ms, const IpAddr& from) {
  ++received;
  last = ms;
  if (received == 1) {
    best = worst = avg = ms;
    m2 = 0;
  } else {
    best = std::min(best, ms);
    worst = std::max(worst, ms);
    double old = avg;
    avg += (ms - old) / received;
    m2 += (ms - old) * (ms - avg);
  }
  for (const auto& a : addrs)
    if (a == from) return;
  addrs.push_back(from);
}

double HopStats::stdev() const { return received > 1 ? std::sqrt(m2 / (received - 1)) : 0.0; }

// ---- names ------------------------------------------------------------------------

std::string NameCache::name(const IpAddr& a) {
  if (numeric_) return {};
  for (const auto& [addr, n] : cache_)
    if (addr == a) return n;
  std::string n;
  core::dns::ResolverConfig cfg;
  cfg.timeout_ms = 1000;
  auto r = core::dns::reverse_lookup(a, cfg);
  if (r) n = *r;
  cache_.emplace_back(a, n);
  return n;
}

// ---- traceroute -------------------------------------------------------------------

std::string format_traceroute_header(const Options& o, const std::string& host, const IpAddr& addr,
                                     int packet_len) {
  std::string a = addr.to_string();
  if (o.front == Front::tcptraceroute) {
    int port = o.port >= 0 ? o.port : 80;
    auto svc = core::service_name(uint16_t(port), core::L4Proto::tcp);
    std::string s = "Tracing the path to " + host + " (" + a + ") on TCP port " + std::to_string(port);
    if (!svc.empty()) s += " (" + std::string(svc) + ")";
    return s + ", " + std::to_string(o.max_ttl) + " hops max";
  }
  std::string s = "traceroute to " + host + " (" + a + "), " + std::to_string(o.max_ttl) + " hops max, " +
                  std::to_string(packet_len) + " byte packets";
  if (o.ecmp > 1) s += ", " + std::to_string(o.ecmp) + " flows";
  return s;
}

namespace {

std::string addr_text(const IpAddr& a, bool numeric, const NameFn& name) {
  std::string s = a.to_string();
  if (numeric) return s;
  std::string n = name ? name(a) : std::string();
  return (n.empty() ? s : n) + " (" + s + ")";
}

void append_ms(std::string& line, double ms) {
  char b[32];
  std::snprintf(b, sizeof b, "  %.3f ms", ms);
  line += b;
}

}  // namespace

std::string format_hop_line(int ttl, const std::vector<ProbeResult>& probes, bool numeric, const NameFn& name,
                            bool tcp_markers) {
  char b[16];
  std::snprintf(b, sizeof b, "%2d ", ttl);
  std::string line = b;
  const IpAddr* shown = nullptr;
  for (const auto& p : probes) {
    if (!p.answered) {
      line += " *";
      continue;
    }
    if (!shown || *shown != p.reply.from) {
      shown = &p.reply.from;
      line += ' ';
      line += addr_text(p.reply.from, numeric, name);
      if (tcp_markers && p.reply.tcp) line += p.reply.tcp_open ? " [open]" : " [closed]";
    }
    append_ms(line, p.rtt_ms);
    if (p.mtu_changed) line += " F=" + std::to_string(p.size);
    if (p.reply.note[0]) line += std::string(" ") + p.reply.note;
  }
  return line;
}

namespace {

const char* reply_kind(const ProbeResult& p) {
  if (!p.answered) return "timeout";
  switch (p.reply.kind) {
    case Reply::Kind::time_exceeded: return "time_exceeded";
    case Reply::Kind::reached: return "reached";
    case Reply::Kind::unreachable: return "unreachable";
    default: return "other";
  }
}

}  // namespace

Json hop_json(int ttl, const std::vector<ProbeResult>& probes, const NameFn& name, bool numeric) {
  Json hop;
  hop["ttl"] = ttl;
  Json arr = Json::array();
  for (const auto& p : probes) {
    Json j;
    j["flow"] = p.flow;
    j["reply"] = reply_kind(p);
    if (p.answered) {
      j["address"] = p.reply.from.to_string();
      std::string n = numeric || !name ? std::string() : name(p.reply.from);
      j["name"] = n.empty() ? Json(nullptr) : Json(n);
      j["rtt_ms"] = std::round(p.rtt_ms * 1000.0) / 1000.0;
      j["icmp_type"] = p.reply.icmp_type;
      j["icmp_code"] = p.reply.icmp_code;
      j["note"] = p.reply.note[0] ? Json(p.reply.note) : Json(nullptr);
      if (p.reply.mtu) j["mtu"] = p.reply.mtu;
      if (p.reply.tcp)
        j["tcp"] = p.reply.tcp_open ? "open" : "closed";
    } else {
      j["address"] = nullptr;
      j["rtt_ms"] = nullptr;
    }
    j["size"] = p.size;
    arr.push_back(std::move(j));
  }
  hop["probes"] = std::move(arr);
  return hop;
}

// ---- mtr --------------------------------------------------------------------------

namespace {

// One mtr data field: the value printed with a leading space, cut to the width.
void field(std::string& line, size_t width, const char* fmt, double v) {
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  std::string s = b;
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  line += s.substr(0, width);
}

std::string mtr_name(const HopStats& h, const IpAddr& a, const NameFn& name, bool numeric) {
  if (h.received == 0) return "???";
  if (numeric || !name) return a.to_string();
  std::string n = name(a);
  return n.empty() ? a.to_string() : n;
}

}  // namespace

std::string format_mtr_report(const Options& o, const std::string& local_host, time_t start,
                              const std::vector<HopStats>& hops, const NameFn& name) {
  std::vector<std::string> names;
  size_t widest = 0;
  for (const auto& h : hops) {
    names.push_back(mtr_name(h, h.addrs.empty() ? IpAddr{} : h.addrs.front(), name, o.numeric));
    widest = std::max(widest, names.back().size());
  }
  const size_t name_w = o.wide ? widest : 25;  // mtr: 33 columns before the data, or as wide as needed
  char tbuf[64];
  std::tm tm{};
  ::localtime_r(&start, &tm);
  std::strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string out = std::string("Start: ") + tbuf + "\n";

  auto pad = [](std::string s, size_t w, bool cut) {
    if (s.size() < w) s.append(w - s.size(), ' ');
    else if (cut) s.resize(w);
    return s;
  };
  out += pad("HOST: " + local_host, name_w + (o.wide ? 6 : 8), !o.wide);  // mtr -w: 2 columns short, as mtr
  out += " Loss%   Snt   Last   Avg  Best  Wrst StDev\n";
  for (size_t i = 0; i < hops.size(); ++i) {
    const HopStats& h = hops[i];
    char b[32];
    std::snprintf(b, sizeof b, "%3zu.|-- ", i + size_t(o.first_ttl));
    std::string line = b;
    line += pad(names[i], name_w, !o.wide);
    field(line, 6, " %4.1f%%", h.loss_pct());
    field(line, 6, " %5.0f", double(h.sent));
    field(line, 7, " %6.1f", h.last);
    field(line, 6, " %5.1f", h.avg);
    field(line, 6, " %5.1f", h.best);
    field(line, 6, " %5.1f", h.worst);
    field(line, 6, " %5.1f", h.stdev());
    out += line + "\n";
    for (size_t k = 1; k < h.addrs.size(); ++k)
      out += "    |-- " + mtr_name(h, h.addrs[k], name, o.numeric) + "\n";
  }
  return out;
}

Json mtr_hop_json(int ttl, const HopStats& h, const NameFn& name, bool numeric) {
  auto r3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
  Json j;
  j["ttl"] = ttl;
  j["address"] = h.addrs.empty() ? Json(nullptr) : Json(h.addrs.front().to_string());
  std::string n = h.addrs.empty() || numeric || !name ? std::string() : name(h.addrs.front());
  j["name"] = n.empty() ? Json(nullptr) : Json(n);
  Json all = Json::array();
  for (const auto& a : h.addrs) all.push_back(a.to_string());
  j["addresses"] = std::move(all);
  j["loss_pct"] = std::round(h.loss_pct() * 10.0) / 10.0;
  j["sent"] = h.sent;
  j["received"] = h.received;
  j["last_ms"] = r3(h.last);
  j["avg_ms"] = r3(h.avg);
  j["best_ms"] = r3(h.best);
  j["worst_ms"] = r3(h.worst);
  j["stdev_ms"] = r3(h.stdev());
  return j;
}

}  // namespace netshoot::applet::trace

// conntrack (read-only): `conntrack -L [-p PROTO] [--sport N] [--dport N] [-s ADDR]
// [-d ADDR] [-f ipv4|ipv6] [-o extended]`, `conntrack -C` and `conntrack -S`,
// through ctnetlink, printed in conntrack-tools' shape; --json: one object per flow.
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "netshoot/addr.h"
#include "netshoot/applet.h"
#include "netshoot/conntrack.h"
#include "netshoot/output.h"

namespace netshoot::applet::conntrack {
namespace {

using core::Json;
namespace ct = core::ct;

constexpr const char* kUsage =
    "Usage: conntrack -L [-p PROTO] [--sport PORT] [--dport PORT] [-s ADDR] [-d ADDR]\n"
    "                    [-f ipv4|ipv6] [-o extended]     list the connection tracking table\n"
    "       conntrack -C                                  count the entries\n"
    "       conntrack -S                                  per-CPU statistics\n"
    "Filters apply to the original direction. Read-only: -D, -F, -U, -I are left to conntrack-tools.\n";

struct Options {
  enum class Cmd { none, list, count, stats } cmd = Cmd::none;
  std::optional<uint8_t> proto;
  std::optional<uint16_t> sport, dport;
  std::optional<core::IpAddr> src, dst;
  int family = 0;  // AF_UNSPEC
  bool extended = false;
};

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "conntrack: %s\nTry `conntrack -h' for more information.\n", msg.c_str());
  return kExitUsage;
}

bool parse_port(const char* s, uint16_t& out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!*s || *end || v < 0 || v > 65535) return false;
  out = static_cast<uint16_t>(v);
  return true;
}

bool parse_proto(std::string_view s, uint8_t& out) {
  static const std::pair<const char*, uint8_t> names[] = {
      {"tcp", IPPROTO_TCP}, {"udp", IPPROTO_UDP}, {"icmp", IPPROTO_ICMP}, {"icmpv6", IPPROTO_ICMPV6},
      {"sctp", IPPROTO_SCTP}, {"udplite", IPPROTO_UDPLITE}, {"dccp", IPPROTO_DCCP}, {"gre", IPPROTO_GRE}};
  for (const auto& [n, v] : names)
    if (s == n) { out = v; return true; }
  uint16_t num;
  std::string str(s);
  if (parse_port(str.c_str(), num) && num < 256) { out = static_cast<uint8_t>(num); return true; }
  return false;
}

std::string tuple_text(const ct::Tuple& t) {
  std::string s = "src=" + t.src.to_string() + " dst=" + t.dst.to_string() + " ";
  if (t.sport && t.dport) s += "sport=" + std::to_string(*t.sport) + " dport=" + std::to_string(*t.dport) + " ";
  if (t.icmp_type)
    s += "type=" + std::to_string(*t.icmp_type) + " code=" + std::to_string(t.icmp_code.value_or(0)) +
         " id=" + std::to_string(t.icmp_id.value_or(0)) + " ";
  return s;
}

Json tuple_json(const ct::Tuple& t) {
  Json j{{"src", t.src.to_string()}, {"dst", t.dst.to_string()}};
  if (t.sport) j["sport"] = *t.sport;
  if (t.dport) j["dport"] = *t.dport;
  if (t.icmp_type) {
    j["type"] = *t.icmp_type;
    j["code"] = t.icmp_code.value_or(0);
    j["id"] = t.icmp_id.value_or(0);
  }
  return j;
}

bool selected(const Options& o, const ct::Entry& e) {
  if (o.proto && e.orig.proto != *o.proto) return false;
  if (o.sport && e.orig.sport != o.sport) return false;
  if (o.dport && e.orig.dport != o.dport) return false;
  if (o.src && !(e.orig.src == *o.src)) return false;
  if (o.dst && !(e.orig.dst == *o.dst)) return false;
  return true;
}

std::string entry_text(const Options& o, const ct::Entry& e) {
  std::string s;
  if (o.extended) s += fmt::format("{:<8} {} ", e.family == AF_INET6 ? "ipv6" : "ipv4", e.family);
  s += fmt::format("{:<8} {} {} ", ct::proto_name(e.orig.proto), int(e.orig.proto), e.timeout);
  if (e.tcp_state) s += ct::tcp_state_name(*e.tcp_state) + " ";
  s += tuple_text(e.orig);
  auto counters = [&](const auto& c) {
    if (c) s += "packets=" + std::to_string(c->first) + " bytes=" + std::to_string(c->second) + " ";
  };
  counters(e.counters_orig);
  if (!(e.status & IPS_SEEN_REPLY)) s += "[UNREPLIED] ";
  s += tuple_text(e.reply);
  counters(e.counters_reply);
  if (e.status & IPS_ASSURED) s += "[ASSURED] ";
  if (e.status & IPS_HW_OFFLOAD) s += "[HW_OFFLOAD] ";
  else if (e.status & IPS_OFFLOAD) s += "[OFFLOAD] ";
  if (e.mark) s += "mark=" + std::to_string(*e.mark) + " ";
  if (e.zone) s += "zone=" + std::to_string(*e.zone) + " ";
  if (e.use) s += "use=" + std::to_string(*e.use) + " ";
  if (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Json entry_json(const ct::Entry& e) {
  Json j{{"family", e.family == AF_INET6 ? "ipv6" : "ipv4"}, {"proto", ct::proto_name(e.orig.proto)},
         {"protonum", e.orig.proto}, {"timeout", e.timeout}};
  if (e.tcp_state) j["state"] = ct::tcp_state_name(*e.tcp_state);
  j["orig"] = tuple_json(e.orig);
  j["reply"] = tuple_json(e.reply);
  Json flags = Json::array();
  if (!(e.status & IPS_SEEN_REPLY)) flags.push_back("UNREPLIED");
  if (e.status & IPS_ASSURED) flags.push_back("ASSURED");
  if (e.status & IPS_OFFLOAD) flags.push_back("OFFLOAD");
  j["flags"] = flags;
  if (e.mark) j["mark"] = *e.mark;
  if (e.zone) j["zone"] = *e.zone;
  if (e.use) j["use"] = *e.use;
  if (e.counters_orig) j["orig"]["packets"] = e.counters_orig->first, j["orig"]["bytes"] = e.counters_orig->second;
  if (e.counters_reply) j["reply"]["packets"] = e.counters_reply->first, j["reply"]["bytes"] = e.counters_reply->second;
  j["id"] = e.id;
  return j;
}

int fail(const core::Error& e) {
  std::fprintf(stderr, "conntrack: %s\n", e.message().c_str());
  return kExitFailure;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)what;
      return argv[++i];
    };
    auto set_cmd = [&](Options::Cmd c) {
      if (o.cmd != Options::Cmd::none && o.cmd != c) return false;
      o.cmd = c;
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "-L" || a == "--dump") {
      if (!set_cmd(Options::Cmd::list)) return usage_error("only one command at a time");
      if (i + 1 < argc && (std::string_view(argv[i + 1]) == "conntrack")) ++i;  // the default table
    } else if (a == "-C" || a == "--count") {
      if (!set_cmd(Options::Cmd::count)) return usage_error("only one command at a time");
    } else if (a == "-S" || a == "--stats") {
      if (!set_cmd(Options::Cmd::stats)) return usage_error("only one command at a time");
    } else if (a == "-p" || a == "--proto" || a == "--protonum") {
      const char* v = value("PROTO");
      uint8_t p;
      if (!v || !parse_proto(v, p)) return usage_error(std::string("unknown protocol '") + (v ? v : "") + "'");
      o.proto = p;
    } else if (a == "--sport" || a == "--orig-port-src" || a == "--dport" || a == "--orig-port-dst") {
      const char* v = value("PORT");
      uint16_t p;
      if (!v || !parse_port(v, p)) return usage_error(std::string("bad port '") + (v ? v : "") + "' for " + std::string(a));
      (a == "--sport" || a == "--orig-port-src" ? o.sport : o.dport) = p;
    } else if (a == "-s" || a == "--src" || a == "--orig-src" || a == "-d" || a == "--dst" || a == "--orig-dst") {
      const char* v = value("ADDR");
      auto ip = v ? core::IpAddr::try_parse(v) : std::nullopt;
      if (!ip) return usage_error(std::string("bad address '") + (v ? v : "") + "' for " + std::string(a));
      (a == "-s" || a == "--src" || a == "--orig-src" ? o.src : o.dst) = *ip;
    } else if (a == "-f" || a == "--family") {
      const char* v = value("FAMILY");
      std::string_view f = v ? v : "";
      if (f == "ipv4") o.family = AF_INET;
      else if (f == "ipv6") o.family = AF_INET6;
      else return usage_error("unknown family '" + std::string(f) + "' (ipv4 or ipv6)");
    } else if (a == "-o" || a == "--output") {
      const char* v = value("FORMAT");
      if (!v) return usage_error("-o needs a format");
      std::string_view f = v;
      if (f == "extended") o.extended = true;
      else return usage_error("unsupported output format '" + std::string(f) + "' (extended)");
    } else if (a == "-D" || a == "-F" || a == "-U" || a == "-I" || a == "-E" || a == "--delete" ||
               a == "--flush" || a == "--update" || a == "--create" || a == "--event") {
      return usage_error("read-only: " + std::string(a) + " is left to conntrack-tools (-L, -C and -S are supported)");
    } else {
      return usage_error("unknown option '" + std::string(a) + "'");
    }
  }
  if (o.cmd == Options::Cmd::none) return usage_error("no command given (-L, -C or -S)");
  if ((o.sport || o.dport) && !o.proto) return usage_error("you need to supply the `-p' option for --sport/--dport");
  auto out = core::Output::make(ctx.json);

  if (o.cmd == Options::Cmd::count) {
    auto g = ct::global_stats();
    if (!g) return fail(g.error());
    Json j{{"count", g->entries}};
    if (g->max_entries) j["max"] = *g->max_entries;
    out->record("count", j, std::to_string(g->entries));
    out->flush();
    return kExitOk;
  }
  if (o.cmd == Options::Cmd::stats) {
    auto st = ct::cpu_stats();
    if (!st) return fail(st.error());
    for (const auto& c : *st) {
      char head[32];
      std::snprintf(head, sizeof(head), "cpu=%-4u\t", c.cpu);
      std::string line = head;
      Json j{{"cpu", c.cpu}};
      for (const auto& [id, v] : c.counters) {
        std::string n = ct::cpu_stat_name(id);
        if (n.empty()) continue;
        line += n + "=" + std::to_string(v) + " ";
        j[n] = v;
      }
      out->record("cpu_stats", j, line);
    }
    out->flush();
    return kExitOk;
  }

  auto entries = ct::dump_entries(o.family);
  if (!entries) return fail(entries.error());
  size_t shown = 0;
  for (const auto& e : *entries) {
    if (!selected(o, e)) continue;
    ++shown;
    out->record("flow", entry_json(e), entry_text(o, e));
  }
  out->flush();
  if (!ctx.json) std::fprintf(stderr, "conntrack (netshoot): %zu flow entries have been shown.\n", shown);
  return kExitOk;
}

}  // namespace netshoot::applet::conntrack

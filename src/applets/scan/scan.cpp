// scan / nmap: the applet entry. Targets -> (discovery) -> TCP and UDP port scans
// on the shared scheduler -> nmap-shaped reports (normal, -oN, -oG, --json).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>

#include "netshoot/applet.h"
#include "netshoot/caps.h"
#include "netshoot/netlink.h"
#include "netshoot/output.h"
#include "netshoot/resolver.h"
#include "probers.h"
#include "stages.h"

namespace netshoot::applet::scan {
namespace {

using core::IpAddr;

constexpr uint64_t kHugeScan = 65536;

// Expands targets: addresses/ranges/CIDR via TargetList, names via our resolver.
core::Result<std::vector<HostResult>> expand_targets(const Options& o) {
  std::vector<std::string> specs = o.targets;
  if (!o.input_list.empty()) {
    std::ifstream in(o.input_list == "-" ? "/dev/stdin" : o.input_list);
    if (!in) return core::make_error("Failed to open input file " + o.input_list + " for reading");
    std::string w;
    while (in >> w)
      if (w[0] != '#') specs.push_back(w);
  }
  std::vector<HostResult> hosts;
  uint64_t total = 0;
  for (auto& s : specs) {
    auto tl = core::TargetList::parse(s, {});
    if (!tl) return core::make_error("Error parsing target \"" + s + "\": " + tl.error().message());
    total += tl->size();
    if (total > kHugeScan && !o.allow_huge)
      return core::make_error("refusing to scan " + std::to_string(total) + " addresses (more than " +
                              std::to_string(kHugeScan) + "); narrow the targets or pass --allow-large-scan");
    auto cur = tl->cursor();
    core::Target t;
    while (cur.next(t)) {
      HostResult h;
      if (t.is_name()) {
        auto r = core::dns::resolve_host(t.name, o.family);
        if (!r || r->empty()) {
          std::fprintf(stderr, "Failed to resolve \"%s\".\n", t.name.c_str());
          continue;
        }
        h.addr = (*r)[0].addr;
        h.name = t.name;
      } else {
        h.addr = t.addr;
      }
      hosts.push_back(std::move(h));
    }
  }
  return hosts;
}

}  // namespace

// Runs one technique over `hosts` (one family) and `ports`; fills results.
core::Status scan_ports(const Options& o, SocketPool& pool, std::vector<HostResult*>& hosts, core::L4Proto proto,
                        Technique tech) {
  ScanSet set;
  for (auto* h : hosts) set.hosts.push_back(h->addr);
  auto ports = o.sequential ? o.ports.ordered(proto) : o.ports.shuffled(proto, uint64_t(now_ns()));
  if (ports.empty() || set.hosts.empty()) return {};
  set.ports = ports;
  set.index();
  int family = set.hosts[0].family();
  Timing t = timing_for(o);
  Options oo = o;
  oo.technique = tech;
  core::Result<std::unique_ptr<Prober>> p = core::make_error("");
  if (tech == Technique::syn) {
    p = make_syn_prober(set, family, pool);
  } else if (tech == Technique::connect) {
    size_t w = 0;
    p = make_connect_prober(set, family, &w, pool);
    if (w) t.max_window = std::min<int>(t.max_window, int(w));
  } else {
    p = make_udp_prober(set, family);
    // UDP: closed ports answer with ICMP (rate-limited by most kernels); keep the window modest
    t.max_window = std::min(t.max_window, 256);
  }
  if (!p) return p.error();
  Scheduler sched(set.hosts.size(), set.ports.size(), t, oo);
  if (o.host_timeout_s > 0) {
    // the clock of a host starts with its first port scan phase and runs on across phases
    std::vector<int64_t> deadlines;
    for (auto* h : hosts) {
      if (!h->deadline_ns) h->deadline_ns = now_ns() + int64_t(o.host_timeout_s * 1e9);
      deadlines.push_back(h->timed_out ? 1 : h->deadline_ns);
    }
    sched.set_host_deadlines(std::move(deadlines));
  }
  Phase phase(o, technique_name(tech), set.hosts.size(), set.ports.size(), "port", set.hosts[0].to_string());
  phase.attach(sched, [&] { return set.hosts.size(); });
  if (o.verbose || o.debug) {
    sched.on_answer = [&](size_t item, const ItemResult& r) {
      bool show = r.state == PortState::open ? (o.verbose || o.debug) : o.debug >= 2;
      if (!show) return;
      std::fprintf(o.json ? stderr : stdout, "Discovered %s port %u/%s on %s\n", state_name(r.state),
                   set.ports[item % set.ports.size()],
                  std::string(core::to_string(proto)).c_str(), set.hosts[item / set.ports.size()].to_string().c_str());
    };
  }
  std::vector<size_t> order;
  order.reserve(set.hosts.size() * set.ports.size());
  for (size_t pi = 0; pi < set.ports.size(); ++pi)
    for (size_t hi = 0; hi < set.hosts.size(); ++hi) order.push_back(hi * set.ports.size() + pi);
  sched.run(**p, order);
  std::fflush(stdout);
  for (size_t hi = 0; hi < hosts.size(); ++hi) {
    auto* h = hosts[hi];
    if (sched.host_timed_out(hi) || h->timed_out) {
      // nmap reports the host as up with no port table; the time spent says it answered
      h->timed_out = true;
      h->ports.clear();
      if (!h->up) {
        h->up = true;
        if (h->up_reason == Reason::none) h->up_reason = o.no_ping ? Reason::user_set : Reason::no_response;
      }
      if (sched.host_answered(hi)) h->latency_s = sched.host_srtt_s(hi);
      continue;
    }
    for (size_t pi = 0; pi < set.ports.size(); ++pi) {
      const auto& r = sched.result(hi * set.ports.size() + pi);
      h->ports.push_back({set.ports[pi], proto, r.state, r.reason, r.ttl});
      // any answer from the host itself proves it is up; "unreachable" from our
      // own stack or a router (ARP failed, no route) says the opposite
      bool from_host = r.reason != Reason::no_response && r.reason != Reason::none &&
                       r.reason != Reason::host_unreach && r.reason != Reason::net_unreach &&
                       r.reason != Reason::time_exceeded;
      if (from_host && !h->up) {
        h->up = true;
        h->up_reason = r.reason;
        h->up_ttl = r.ttl;
      }
    }
    std::sort(h->ports.begin(), h->ports.end(), [](const PortResult& a, const PortResult& b) {
      return a.proto != b.proto ? a.proto < b.proto : a.port < b.port;
    });
    if (sched.host_answered(hi)) {
      double l = sched.host_srtt_s(hi);
      h->latency_s = h->latency_s < 0 ? l : std::min(h->latency_s, l);
    }
  }
  return {};
}

int run(Context& ctx, int argc, char** argv) {
  const bool root = ::geteuid() == 0;
  auto po = parse_options(argc, argv, root);
  if (!po) {
    std::fprintf(stderr, "%s\nQUITTING!\n", po.error().message().c_str());
    return 1;
  }
  Options& o = *po;
  if (o.help) { std::fputs(usage().c_str(), stdout); return 0; }
  if (o.version) { std::printf("Nmap-compatible netshoot scan %s\n", NETSHOOT_VERSION); return 0; }
  if (ctx.verbose > o.verbose) o.verbose = ctx.verbose;
  o.json = ctx.json;
  set_run_start(now_ns());
  // -oG - : the grepable lines replace the normal output on stdout, as nmap does
  std::FILE* devnull = o.out_grep == "-" ? std::fopen("/dev/null", "w") : nullptr;
  auto out = core::Output::make(ctx.json, devnull ? devnull : stdout);
  const int64_t t0 = now_ns();
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  out->text("Starting Nmap-compatible netshoot scan " NETSHOOT_VERSION " at " + now_text("%Y-%m-%d %H:%M %Z"));
  out->flush();
  auto targets = expand_targets(o);
  if (!targets) {
    std::fprintf(stderr, "%s\nQUITTING!\n", targets.error().message().c_str());
    return 1;
  }
  auto& hosts = *targets;
  std::unique_ptr<std::ofstream> grep_file, normal_file;
  std::ostream* grep = nullptr;
  std::ostringstream grep_stdout;
  const std::string initiated = "# Nmap 7.93 scan initiated " + now_text("%a %b %e %H:%M:%S %Y") + " as: " + cmdline + "\n";
  if (!o.out_grep.empty()) {
    if (o.out_grep == "-") {
      grep = &grep_stdout;
    } else {
      grep_file = std::make_unique<std::ofstream>(o.out_grep);
      if (!*grep_file) {
        std::fprintf(stderr, "Failed to open grepable output file %s for writing\nQUITTING!\n", o.out_grep.c_str());
        return 1;
      }
      grep = grep_file.get();
    }
    *grep << initiated;
  }
  if (!o.out_normal.empty()) {
    normal_file = std::make_unique<std::ofstream>(o.out_normal);
    if (!*normal_file) {
      std::fprintf(stderr, "Failed to open normal output file %s for writing\nQUITTING!\n", o.out_normal.c_str());
      return 1;
    }
    *normal_file << initiated;
  }
  if (hosts.empty()) {
    std::fprintf(stderr, "WARNING: No targets were specified, so 0 hosts scanned.\n");
    out->text("Nmap done: 0 IP addresses (0 hosts up) scanned in " + format_elapsed((now_ns() - t0) / 1e9) + " seconds");
    out->flush();
    return 1;  // nmap says 0 here; an empty or unresolvable target list is an error for scripts
  }
  // Group by family and plan each group's phases: host discovery (-sn; before the
  // port scans of several hosts, or of one host on our Ethernet segment, which is
  // ARPed first as nmap does), then the TCP and UDP port scans.
  const bool raw = root;
  struct Group {
    int family;
    std::vector<HostResult*> hosts;
    bool arp_first = false;  // one host on our segment: discovery (ARP) before its port scan
    bool discover = false;
  };
  std::vector<Group> groups;
  for (int fam : {AF_INET, AF_INET6}) {
    Group g{fam, {}};
    for (auto& h : hosts)
      if (h.addr.family() == fam) g.hosts.push_back(&h);
    if (g.hosts.empty()) continue;
    if (o.technique != Technique::ping_only && !o.no_ping && g.hosts.size() == 1)
      g.arp_first = raw && fam == AF_INET && arp_route(g.hosts[0]->addr);
    g.discover = o.technique == Technique::ping_only || (!o.no_ping && (g.hosts.size() > 1 || g.arp_first));
    groups.push_back(std::move(g));
  }
  // Every privileged socket those phases may use is opened now, before the first
  // probe (an error waits for the phase that needs the socket), and then
  // CAP_NET_RAW/CAP_NET_ADMIN are given up for good, as ping and traceroute do.
  SocketPool pool;
  for (auto& g : groups) {
    if (g.discover) {
      if (raw) {
        // directly connected IPv4 hosts get ARP, the others (routed, IPv6) ICMP and TCP
        if (g.family == AF_INET) reserve_arp_socket(pool);
        if (!g.arp_first) reserve_raw_sockets(pool, g.family);
      } else {
        reserve_connect_sockets(pool, g.family);
      }
    }
    if (o.technique == Technique::syn) reserve_raw_sockets(pool, g.family);
    else if (o.technique == Technique::connect) reserve_connect_sockets(pool, g.family);
  }
  core::drop_network_capabilities();
  for (auto& g : groups) {
    std::vector<HostResult*>& group = g.hosts;
    std::vector<HostResult*> to_scan;
    if (o.technique == Technique::ping_only) {
      if (auto st = discover(o, pool, group, raw); !st) {
        std::fprintf(stderr, "%s\nQUITTING!\n", st.error().message().c_str());
        return 1;
      }
      continue;
    }
    if (o.no_ping) {
      for (auto* h : group) h->up = true, h->up_reason = Reason::user_set;
      to_scan = group;
    } else if (group.size() > 1) {
      if (auto st = discover(o, pool, group, raw); !st) {
        std::fprintf(stderr, "%s\nQUITTING!\n", st.error().message().c_str());
        return 1;
      }
      for (auto* h : group)
        if (h->up) to_scan.push_back(h);
    } else if (g.arp_first) {
      // one host on our Ethernet segment: an ARP request first, as nmap does
      if (auto st = discover(o, pool, group, raw); !st) {
        std::fprintf(stderr, "%s\nQUITTING!\n", st.error().message().c_str());
        return 1;
      }
      if (group[0]->up) to_scan = group;
    } else {
      to_scan = group;  // one routed host: the port scan itself tells whether it is up
    }
    core::Status st;
    if (o.technique == Technique::syn || o.technique == Technique::connect)
      st = scan_ports(o, pool, to_scan, core::L4Proto::tcp, o.technique);
    if (st && (o.technique == Technique::udp || o.udp_too))
      st = scan_ports(o, pool, to_scan, core::L4Proto::udp, Technique::udp);
    if (!st) {
      std::fprintf(stderr, "%s\nQUITTING!\n", st.error().message().c_str());
      return 1;
    }
    if (o.no_ping)
      for (auto* h : group) h->up = true;
  }
  size_t up = 0;
  for (auto& h : hosts) {
    if (h.up && !o.no_dns) {
      core::dns::ResolverConfig cfg;
      cfg.timeout_ms = 500;
      if (auto r = core::dns::reverse_lookup(h.addr, cfg)) h.rdns = *r;
    }
    if (h.up) ++up;
    if (!h.up) {  // nmap lists down hosts of a range only at -v
      if (hosts.size() > 1 && o.verbose && !out->json())
        out->text("Nmap scan report for " + h.addr.to_string() + " [host down]");
      continue;
    }
    std::string text = format_host(h, o);
    if (out->json()) {
      core::Json ports = core::Json::array();
      for (auto& p : h.ports)
        ports.push_back({{"port", p.port}, {"proto", std::string(core::to_string(p.proto))},
                         {"state", state_name(p.state)}, {"reason", reason_name(p.reason)},
                         {"ttl", p.ttl >= 0 ? core::Json(p.ttl) : core::Json()},
                         {"service", std::string(core::service_name(p.port, p.proto))}});
      out->record("host",
                  {{"addr", h.addr.to_string()}, {"name", h.name}, {"rdns", h.rdns}, {"up", h.up}, {"timed_out", h.timed_out},
                   {"mac", h.mac.empty() ? core::Json() : core::Json(core::format_lladdr(h.mac))},
                   {"reason", reason_name(h.up_reason)},
                   {"latency_s", h.latency_s >= 0 ? core::Json(h.latency_s) : core::Json()}, {"ports", ports}},
                  text);
    } else {
      out->text(text);
    }
    if (o.technique != Technique::ping_only) out->text("");
    if (normal_file) *normal_file << text << "\n\n";
    if (grep) *grep << format_grepable(h, o);
  }
  std::string done_tail = std::to_string(hosts.size()) + (hosts.size() == 1 ? " IP address (" : " IP addresses (") +
                          std::to_string(up) + (up == 1 ? " host up)" : " hosts up)") + " scanned in " +
                          format_elapsed((now_ns() - t0) / 1e9) + " seconds";
  if (up == 0 && hosts.size() == 1)
    out->text("Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn");
  out->record("summary", {{"addresses", hosts.size()}, {"up", up}, {"elapsed_s", (now_ns() - t0) / 1e9}},
              "Nmap done: " + done_tail);
  out->flush();
  if (normal_file) *normal_file << "# Nmap done at " << now_text("%a %b %e %H:%M:%S %Y") << " -- " << done_tail << "\n";
  if (grep) {
    *grep << "# Nmap done at " << now_text("%a %b %e %H:%M:%S %Y") << " -- " << done_tail << "\n";
    if (grep == &grep_stdout) {
      std::fputs(grep_stdout.str().c_str(), stdout);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace netshoot::applet::scan

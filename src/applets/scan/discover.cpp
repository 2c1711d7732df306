// Host discovery as nmap does it: our own addresses need no probe (localhost-response);
// directly connected IPv4 hosts on Ethernet get crafted ARP requests (arp-response,
// their MAC); routed and IPv6 hosts get ICMP echo + TCP SYN to 443 + ACK to 80, or
// connect() to 80 and 443 without raw sockets.
#include <linux/neighbour.h>

#include <algorithm>

#include "netshoot/netlink.h"
#include "probers.h"
#include "stages.h"

namespace netshoot::applet::scan {

// -sn, and the ping stage before port scans (see stages.h).
core::Status discover(const Options& o, SocketPool& pool, std::vector<HostResult*>& hosts, bool raw) {
  if (hosts.empty()) return {};
  ScanSet set;
  for (auto* h : hosts) set.hosts.push_back(h->addr);
  set.index();
  Timing t = timing_for(o);
  t.max_retries = std::min(t.max_retries, 2);
  // neighbour resolution of on-link hosts happens before the first probe leaves:
  // do not let fast answers from other hosts shrink the timeout below that
  t.min_rtt_ms = std::max(t.min_rtt_ms, 100.0);
  if (!raw) {
    Options oo = o;
    oo.ports = core::PortSet{};
    oo.ports.add(core::L4Proto::tcp, 80);
    oo.ports.add(core::L4Proto::tcp, 443);
    oo.sequential = true;
    std::vector<HostResult*> tmp;
    std::vector<HostResult> copies(hosts.size());
    for (size_t i = 0; i < hosts.size(); ++i) copies[i].addr = hosts[i]->addr, tmp.push_back(&copies[i]);
    if (auto st = scan_ports(oo, pool, tmp, core::L4Proto::tcp, Technique::connect); !st) return st;
    for (size_t i = 0; i < hosts.size(); ++i) {
      bool up = false;
      for (auto& p : copies[i].ports)
        if (p.reason == Reason::syn_ack || p.reason == Reason::conn_refused) up = true;
      if (up) {
        hosts[i]->up = true;
        hosts[i]->up_reason = copies[i].up_reason;
        hosts[i]->latency_s = copies[i].latency_s;
      }
    }
    return {};
  }
  // Directly connected IPv4 hosts on Ethernet: ARP, as nmap does; the rest (routed,
  // IPv6, local addresses) get ICMP echo + SYN 443 + ACK 80.
  std::vector<HostResult*> arp_hosts, ip_hosts;
  std::vector<ArpRoute> routes;
  for (auto* h : hosts) {
    if (is_local_address(h->addr)) {  // no probe: our own address
      h->up = true;
      h->up_reason = Reason::localhost_response;
      continue;
    }
    auto rt = h->addr.is_v4() ? arp_route(h->addr) : std::nullopt;
    if (rt) arp_hosts.push_back(h), routes.push_back(std::move(*rt));
    else ip_hosts.push_back(h);
  }
  if (!arp_hosts.empty()) {
    ScanSet as;
    for (auto* h : arp_hosts) as.hosts.push_back(h->addr);
    as.index();
    std::vector<std::vector<uint8_t>> macs;
    auto p = make_arp_prober(as, std::move(routes), &macs, pool);
    if (!p) return p.error();
    Options oo = o;
    oo.technique = Technique::ping_only;
    Timing ta = t;  // a segment answers ARP in well under a millisecond: do not wait 1 s per try
    if (o.initial_rtt_ms < 0 && o.timing >= 3) ta.initial_rtt_ms = std::min(ta.initial_rtt_ms, 500.0);
    Scheduler sched(as.hosts.size(), 1, ta, oo);
    std::vector<size_t> order(as.hosts.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    {
      Phase phase(o, "ARP Ping Scan", as.hosts.size(), 1, "port", as.hosts[0].to_string());
      phase.attach(sched, [&] {
        size_t n = 0;
        for (size_t i = 0; i < as.hosts.size(); ++i) n += sched.result(i).reason == Reason::arp_response;
        return n;
      });
      sched.run(**p, order);
    }
    for (size_t i = 0; i < arp_hosts.size(); ++i) {
      if (sched.result(i).reason != Reason::arp_response) continue;
      arp_hosts[i]->up = true;
      arp_hosts[i]->up_reason = Reason::arp_response;
      arp_hosts[i]->mac = macs[i];
      if (sched.host_answered(i)) arp_hosts[i]->latency_s = sched.host_srtt_s(i);
    }
  }
  if (ip_hosts.empty()) return {};
  set.hosts.clear();
  for (auto* h : ip_hosts) set.hosts.push_back(h->addr);
  set.index();
  set.ports.clear();
  auto p = make_discovery_prober(set, set.hosts[0].family(), true, pool);
  if (!p) return p.error();
  Options oo = o;
  oo.technique = Technique::ping_only;
  Scheduler sched(set.hosts.size(), 1, t, oo);
  std::vector<size_t> order(set.hosts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  {
    Phase phase(o, "Ping Scan", set.hosts.size(), 3, "port", set.hosts[0].to_string());
    phase.attach(sched, [&] {
      size_t n = 0;
      for (size_t i = 0; i < set.hosts.size(); ++i) n += sched.result(i).done;
      return n;
    });
    sched.run(**p, order);
  }
  // IPv6: on-link hosts that answered neighbour solicitation are up even when they
  // drop every probe (the kernel resolved them while we sent). No crafted NDP yet.
  auto neigh = set.hosts[0].is_v6() ? core::dump_neighbours(AF_INET6)
                                    : core::Result<std::vector<core::Neighbour>>(core::make_error("v4"));
  for (size_t i = 0; i < ip_hosts.size(); ++i) {
    const auto& r = sched.result(i);
    if (r.reason != Reason::no_response && r.reason != Reason::none) {
      ip_hosts[i]->up = true;
      ip_hosts[i]->up_reason = r.reason;
      ip_hosts[i]->up_ttl = r.ttl;
      if (sched.host_answered(i)) ip_hosts[i]->latency_s = sched.host_srtt_s(i);
    } else if (neigh) {
      for (auto& n : *neigh) {
        if (n.address == ip_hosts[i]->addr && n.lladdr.size() > 0 &&
            (n.state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT))) {
          ip_hosts[i]->up = true;
          ip_hosts[i]->up_reason = Reason::nd_response;
        }
      }
    }
  }
  return {};
}

}  // namespace netshoot::applet::scan

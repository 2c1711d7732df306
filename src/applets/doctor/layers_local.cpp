// doctor layers 1-3: the resolver as glibc would use it, the route the kernel
// picks, and the next hop's neighbour entry with a fresh ARP request.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "applets/doctor/layers.h"
#include "netshoot/fd.h"
#include "netshoot/packet.h"
#include "netshoot/resolver.h"
#include "netshoot/socket.h"

namespace netshoot::applet::doctor {
namespace {

namespace dns = core::dns;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string strip_dot(std::string s) {
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

const char* outcome_name(dns::QueryAttempt::Outcome o) {
  switch (o) {
    case dns::QueryAttempt::Outcome::Response: return "response";
    case dns::QueryAttempt::Outcome::Timeout: return "timeout";
    case dns::QueryAttempt::Outcome::Error: return "error";
  }
  return "?";
}

}  // namespace

// ---- 1 resolver ---------------------------------------------------------------------

Check check_resolver(const Options& o, std::optional<IpAddr>& addr) {
  Check c;
  c.layer = "resolver";
  const std::string& host = o.target.host;
  if (auto numeric = IpAddr::try_parse(host)) {
    if (o.family && numeric->family() != o.family) {
      c.status = Status::fail;
      c.fault = "nodata";
      c.summary = host + " is not an " + (o.family == AF_INET ? "IPv4" : "IPv6") + " address";
      c.message = c.summary;
      return c;
    }
    addr = *numeric;
    c.status = Status::skip;
    c.summary = host + " is an address: nothing to resolve";
    c.data = {{"name", host}, {"numeric", true}};
    return c;
  }

  auto conf = dns::load_resolv_conf(o.resolv_conf);
  if (!conf) {
    c.status = Status::fail;
    c.fault = "timeout";
    c.summary = "cannot read " + o.resolv_conf + ": " + conf.error().message();
    c.message = c.summary;
    return c;
  }
  std::vector<std::string> servers;
  for (const auto& s : conf->servers()) servers.push_back(s.addr.to_string());
  std::string conf_line = fmt::format("{}{}: nameserver {}; search {}; ndots:{} timeout:{} attempts:{}",
                                      o.resolv_conf, conf->from_file ? "" : " (missing: defaults)",
                                      join(servers, ", "), conf->search.empty() ? "(none)" : join(conf->search, " "),
                                      conf->ndots, conf->timeout, conf->attempts);
  c.details.push_back(conf_line);
  auto candidates = dns::search_candidates(host, *conf);
  size_t dots = std::count(host.begin(), host.end(), '.');
  bool absolute = !host.empty() && host.back() == '.';
  std::string order;
  if (absolute)
    order = "absolute name: only itself";
  else if (static_cast<int>(dots) >= conf->ndots)
    order = fmt::format("{} dot{} >= ndots:{}: the name as given first, then the search list", dots,
                        dots == 1 ? "" : "s", conf->ndots);
  else
    order = fmt::format("{} dot{} < ndots:{}: the search list first, the name as given last", dots,
                        dots == 1 ? "" : "s", conf->ndots);
  std::vector<std::string> cand_plain;
  for (const auto& n : candidates) cand_plain.push_back(strip_dot(n));
  c.details.push_back("order: " + order + " (" + join(cand_plain, ", ") + ")");

  dns::ResolverConfig cfg;
  cfg.resolv_conf = *conf;
  cfg.hosts_path = o.hosts;
  cfg.timeout_ms = std::max(50, std::min(conf->timeout * 1000, static_cast<int>(o.timeout_s * 1000)));
  dns::RecordingObserver obs;
  auto t0 = Clock::now();
  auto res = dns::resolve_host(host, o.family ? o.family : AF_UNSPEC, cfg, &obs);
  // Nobody answered: try twice more before calling the nameserver dead. An answer
  // on a retry means queries get lost on the way (the path layer will say where).
  auto all_timeouts = [&]() {
    for (const auto& a : obs.attempts)
      if (a.outcome == dns::QueryAttempt::Outcome::Timeout) return true;
    return false;
  };
  int retries = 0;
  while (!res && all_timeouts() && retries < 2) {
    ++retries;
    res = dns::resolve_host(host, o.family ? o.family : AF_UNSPEC, cfg, &obs);
  }
  double elapsed = ms_since(t0);

  auto attempts = obs.attempts;
  std::sort(attempts.begin(), attempts.end(),
            [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
  Json queries = Json::array();
  for (const auto& a : attempts) {
    std::string result;
    if (a.outcome == dns::QueryAttempt::Outcome::Response)
      result = dns::rcode_to_string(a.rcode) + (a.rcode == 0 ? fmt::format(" {} answer{}", a.answer_count,
                                                                           a.answer_count == 1 ? "" : "s")
                                                             : "");
    else if (a.outcome == dns::QueryAttempt::Outcome::Timeout)
      result = "timed out";
    else
      result = "error: " + a.error;
    c.details.push_back(fmt::format("  {:<40} {:<5} @{:<22} {:<18} {:.1f} ms", a.name, dns::type_to_string(a.qtype),
                                    a.server.to_string() + (a.transport == dns::Transport::Tcp ? "/tcp" : ""),
                                    result, a.elapsed_ms));
    queries.push_back({{"name", a.name},
                       {"type", dns::type_to_string(a.qtype)},
                       {"server", a.server.to_string()},
                       {"transport", dns::transport_name(a.transport)},
                       {"outcome", outcome_name(a.outcome)},
                       {"rcode", a.outcome == dns::QueryAttempt::Outcome::Response
                                     ? Json(dns::rcode_to_string(a.rcode))
                                     : Json(nullptr)},
                       {"answers", a.answer_count},
                       {"error", a.error.empty() ? Json(nullptr) : Json(a.error)},
                       {"ms", a.elapsed_ms}});
  }
  c.data = {{"name", host},
            {"retries", retries},
            {"resolv_conf", o.resolv_conf},
            {"nameservers", servers},
            {"search", conf->search},
            {"ndots", conf->ndots},
            {"timeout", conf->timeout},
            {"attempts", conf->attempts},
            {"candidates", cand_plain},
            {"hosts_matches", obs.hosts_matches},
            {"queries", queries},
            {"ms", elapsed}};

  if (res) {
    const auto& first = res->front();
    addr = first.addr;
    std::vector<std::string> all;
    for (const auto& r : *res) all.push_back(r.addr.to_string());
    c.data["addresses"] = all;
    const char* source = first.source == dns::AddressSource::Hosts ? "hosts file" : "DNS";
    c.status = retries ? Status::warn : Status::pass;
    if (retries)
      c.details.push_back(fmt::format("answered only on retry {} (glibc, with attempts:{}, {}): queries or answers are lost",
                                      retries, conf->attempts, conf->attempts > retries ? "retries too" : "gives up before"));
    c.summary = fmt::format("{} -> {} ({}{}, {} quer{}, {:.1f} ms)", host, join(all, " "), source,
                            first.canonical_name.empty() || first.canonical_name == host
                                ? ""
                                : ", canonical " + first.canonical_name,
                            attempts.size(), attempts.size() == 1 ? "y" : "ies", elapsed);
    return c;
  }

  // Which failure: nobody answered, or what the answers said.
  c.status = Status::fail;
  std::set<std::string> timed_out;
  std::map<std::string, uint16_t> best;  // candidate -> most telling rcode
  bool any_response = false;
  for (const auto& a : attempts) {
    if (a.outcome != dns::QueryAttempt::Outcome::Response) {
      timed_out.insert(a.server.to_string() + (a.outcome == dns::QueryAttempt::Outcome::Error ? " (" + a.error + ")" : " timed out"));
      continue;
    }
    any_response = true;
    // NOERROR (nodata) beats any other answer for one name: the other type may exist
    auto it = best.find(a.name);
    if (it == best.end()) best.emplace(a.name, a.rcode);
    else if (a.rcode == dns::rcode::NOERROR) it->second = a.rcode;
  }
  size_t nx = 0, nodata = 0, servfail = 0, refused = 0;
  for (const auto& [name, rc] : best) {
    if (rc == dns::rcode::NXDOMAIN) ++nx;
    else if (rc == dns::rcode::NOERROR) ++nodata;
    else if (rc == dns::rcode::SERVFAIL) ++servfail;
    else if (rc == dns::rcode::REFUSED) ++refused;
  }
  size_t unanswered = 0;
  for (const auto& a : attempts) unanswered += a.outcome != dns::QueryAttempt::Outcome::Response;
  if (!any_response) {
    c.fault = "timeout";
    std::vector<std::string> t(timed_out.begin(), timed_out.end());
    c.summary = "no nameserver answered: " + (t.empty() ? res.error().message() : join(t, ", "));
  } else if (unanswered) {
    // some answers came, others never did, even on retries: lossy, not NXDOMAIN
    c.fault = "timeout";
    std::vector<std::string> t(timed_out.begin(), timed_out.end());
    c.summary = fmt::format("{} of {} queries got no answer ({}), even on retries", unanswered, attempts.size(),
                            join(t, ", "));
  } else if (nodata) {
    c.fault = "nodata";
    c.summary = fmt::format("{} exists but has no {} record", host,
                            o.family == AF_INET6 ? "AAAA" : o.family == AF_INET ? "A" : "A or AAAA");
  } else if (servfail) {
    c.fault = "servfail";
    c.summary = fmt::format("SERVFAIL from the nameserver for {} of {} names tried", servfail, best.size());
  } else if (nx) {
    c.fault = "nxdomain";
    std::vector<std::string> each;
    for (const auto& n : candidates)
      if (auto it = best.find(n); it != best.end())
        each.push_back(strip_dot(n) + (it->second == dns::rcode::NXDOMAIN ? "" : " (" + dns::rcode_to_string(it->second) + ")"));
    c.summary = "NXDOMAIN for every name tried: " + join(each, ", ");
    if (!absolute && !conf->search.empty())
      c.summary += fmt::format(" (search {}; {})", join(conf->search, " "), order);
  } else {
    c.fault = "refused";
    c.summary = fmt::format("the nameserver REFUSED {} of {} names tried (recursion not offered to us?)", refused,
                            best.size());
  }
  if (!timed_out.empty() && any_response)
    c.details.push_back("also: " + join(std::vector<std::string>(timed_out.begin(), timed_out.end()), ", "));
  c.message = c.summary;
  return c;
}

// ---- 2 route ------------------------------------------------------------------------

namespace {

// The unreachable/blackhole/prohibit route or rule that covers `dst`, for the
// kernel's bare errno.
std::string special_route_for(const IpAddr& dst, uint8_t& type) {
  type = 0;
  auto routes = core::dump_routes(dst.family());
  std::string found;
  int best = -1;
  if (routes) {
    for (const auto& r : *routes) {
      if (r.type != RTN_BLACKHOLE && r.type != RTN_UNREACHABLE && r.type != RTN_PROHIBIT) continue;
      bool covers = r.dst_len == 0 || (r.dst && core::Cidr(*r.dst, r.dst_len).contains(dst));
      if (covers && r.dst_len > best) {
        best = r.dst_len;
        type = r.type;
        found = fmt::format("{} {} table {}", core::route_type_name(r.type), r.destination(),
                            core::route_table_name(r.table));
      }
    }
  }
  if (!found.empty()) return found;
  auto rules = core::dump_rules(dst.family());
  if (rules) {
    for (const auto& r : *rules) {
      if (r.action < 6 || r.action > 8) continue;  // FR_ACT_BLACKHOLE/UNREACHABLE/PROHIBIT
      bool covers = !r.dst || core::Cidr(*r.dst, r.dst_len).contains(dst);
      if (!covers) continue;
      type = r.action == 6 ? RTN_BLACKHOLE : r.action == 7 ? RTN_UNREACHABLE : RTN_PROHIBIT;
      return fmt::format("rule {}: {}", r.priority, r.action_name());
    }
  }
  return {};
}

bool default_rule(const core::Rule& r) {
  return r.action == 1 && !r.src && !r.dst && r.iifname.empty() && r.oifname.empty() && !r.fwmark &&
         ((r.priority == 0 && r.table == 255) || (r.priority == 32766 && r.table == 254) ||
          (r.priority == 32767 && r.table == 253));
}

}  // namespace

Check check_route(const IpAddr& dst, std::optional<PathInfo>& path) {
  Check c;
  c.layer = "route";
  Json rules_json = Json::array();
  if (auto rules = core::dump_rules(dst.family())) {
    for (const auto& r : *rules) {
      if (default_rule(r)) continue;
      std::string sel = r.src ? "from " + core::Cidr(*r.src, r.src_len).to_string() : "from all";
      if (r.dst) sel += " to " + core::Cidr(*r.dst, r.dst_len).to_string();
      if (r.fwmark) sel += fmt::format(" fwmark {:#x}", *r.fwmark);
      if (!r.iifname.empty()) sel += " iif " + r.iifname;
      if (!r.oifname.empty()) sel += " oif " + r.oifname;
      std::string line = fmt::format("rule {}: {} {} {}", r.priority, sel, r.action_name(),
                                     r.action == 1 ? core::route_table_name(r.table) : "");
      c.details.push_back(line);
      rules_json.push_back(line);
    }
  }
  auto rt = core::route_get(dst);
  if (!rt) {
    int e = rt.error().code;
    uint8_t type = 0;
    std::string special = special_route_for(dst, type);
    c.status = Status::fail;
    if (type == RTN_BLACKHOLE || (e == EINVAL && !special.empty())) {
      c.fault = "blackhole";
      c.summary = dst.to_string() + " matches a blackhole: " + special + " (packets are silently discarded)";
    } else if (type == RTN_PROHIBIT || e == EACCES) {
      c.fault = "prohibit";
      c.summary = dst.to_string() + " is prohibited: " + (special.empty() ? "route get: permission denied" : special);
    } else if (type == RTN_UNREACHABLE || e == EHOSTUNREACH) {
      c.fault = "unreachable";
      c.summary = dst.to_string() + " is unreachable: " + (special.empty() ? rt.error().message() : special);
    } else {
      c.fault = "no-route";
      c.summary = "no route to " + dst.to_string() + ": no route covers it and there is no default route (" +
                  rt.error().message() + ")";
    }
    c.message = c.summary;
    c.data = {{"error", rt.error().message()}, {"rules", rules_json}};
    return c;
  }
  PathInfo p;
  p.route = *rt;
  p.dst = dst;
  p.local = rt->type == RTN_LOCAL;
  p.nexthop = rt->gateway ? *rt->gateway : dst;
  if (rt->prefsrc) p.src = *rt->prefsrc;
  else p.src = IpAddr::any(dst.family());
  if (auto link = core::link_by_index(rt->oif)) p.link = *link;
  p.mtu = rt->mtu ? rt->mtu : (p.link.mtu ? p.link.mtu : 1500);

  std::string line = dst.to_string();
  if (rt->gateway) line += " via " + rt->gateway->to_string();
  line += " dev " + (p.link.name.empty() ? std::to_string(rt->oif) : p.link.name);
  if (rt->prefsrc) line += " src " + rt->prefsrc->to_string();
  line += " table " + core::route_table_name(rt->table);
  if (p.local) line = "local " + line;
  c.data = {{"destination", dst.to_string()},
            {"type", core::route_type_name(rt->type)},
            {"gateway", rt->gateway ? Json(rt->gateway->to_string()) : Json(nullptr)},
            {"dev", p.link.name},
            {"src", rt->prefsrc ? Json(rt->prefsrc->to_string()) : Json(nullptr)},
            {"table", core::route_table_name(rt->table)},
            {"mtu", p.mtu},
            {"interface_mtu", p.link.mtu},
            {"rules", rules_json}};
  if (!p.local && !p.link.loopback()) {
    if (!p.link.up()) {
      c.status = Status::fail;
      c.fault = "interface-down";
      c.summary = line + ": interface " + p.link.name + " is down";
      c.message = c.summary;
      return c;
    }
    if (!p.link.lower_up()) {
      c.status = Status::fail;
      c.fault = "interface-down";
      c.summary = line + ": interface " + p.link.name + " has no carrier (NO-CARRIER: the other end is down)";
      c.message = c.summary;
      return c;
    }
  }
  c.status = Status::pass;
  c.summary = line + fmt::format(" (mtu {})", p.mtu);
  path = p;
  return c;
}

// ---- 3 neighbour --------------------------------------------------------------------

namespace {

struct ArpAnswer {
  bool answered = false;
  std::vector<uint8_t> mac;
  double rtt_ms = 0;
  int sent = 0;
  std::string error;  // the socket could not be used
};

ArpAnswer unusable(std::string why) {
  ArpAnswer a;
  a.error = std::move(why);
  return a;
}

// The loop ARP and ND share: up to three requests 250 ms apart, the first answer
// within 1.1 s wins. `send` returns 0 or an errno; `answer` reads what is queued
// and fills the MAC when it is the reply we wait for.
ArpAnswer solicit(int fd, const std::function<int()>& send,
                  const std::function<bool(std::vector<uint8_t>&)>& answer) {
  ArpAnswer a;
  auto start = Clock::now();
  auto next_send = start;
  while (ms_since(start) < 1100) {
    if (a.sent < 3 && Clock::now() >= next_send) {
      if (int e = send(); e != 0) {
        a.error = std::string("sendto: ") + std::strerror(e);
        return a;
      }
      ++a.sent;
      next_send = Clock::now() + std::chrono::milliseconds(250);
    }
    pollfd pfd{fd, POLLIN, 0};
    ::poll(&pfd, 1, 20);
    if (answer(a.mac)) {
      a.answered = true;
      a.rtt_ms = ms_since(start) - (a.sent - 1) * 250.0;
      return a;
    }
  }
  return a;
}

// Who-has over AF_PACKET (the kernel adds the Ethernet header).
ArpAnswer arp_probe(const core::Link& link, const IpAddr& src, const IpAddr& target) {
  int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ARP));
  if (fd < 0) return unusable(std::string("AF_PACKET socket: ") + std::strerror(errno));
  core::UniqueFd guard(fd);
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_ARP);
  ll.sll_ifindex = link.index;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll) < 0)
    return unusable(std::string("bind: ") + std::strerror(errno));
  uint8_t req[28] = {0, 1, 8, 0, 6, 4, 0, 1};
  std::memcpy(req + 8, link.address.data(), 6);
  std::memcpy(req + 14, src.data(), 4);
  std::memcpy(req + 24, target.data(), 4);
  sockaddr_ll to = ll;
  to.sll_halen = 6;
  std::memset(to.sll_addr, 0xff, 6);
  return solicit(
      fd,
      [&] { return ::sendto(fd, req, sizeof req, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0 ? errno : 0; },
      [&](std::vector<uint8_t>& mac) {
        uint8_t buf[128];
        while (::recv(fd, buf, sizeof buf, 0) >= 28) {
          if (buf[6] == 0 && buf[7] == 2 && std::memcmp(buf + 14, target.data(), 4) == 0) {
            mac.assign(buf + 8, buf + 14);
            return true;
          }
        }
        return false;
      });
}

// Neighbour solicitation on a raw ICMPv6 socket (hop limit 255, to the target's
// solicited-node group, our MAC as source link-layer option).
ArpAnswer nd_probe(const core::Link& link, const IpAddr& target) {
  auto sock = core::open_raw_socket(AF_INET6, IPPROTO_ICMPV6);
  if (!sock) return unusable(sock.error().message());
  int fd = sock->get();
  int hops = 255;
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
  ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &link.index, sizeof link.index);
  if (auto st = core::bind_to_device(fd, link.name); !st) return unusable(st.error().message());
  uint8_t req[32] = {core::icmp6::neighbor_solicit, 0};
  std::memcpy(req + 8, target.data(), 16);
  req[24] = core::icmp6::opt_source_lladdr;
  req[25] = 1;  // 8 bytes
  std::memcpy(req + 26, link.address.data(), 6);
  std::array<uint8_t, 16> group = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
  group[13] = target.data()[13], group[14] = target.data()[14], group[15] = target.data()[15];
  core::Endpoint to{IpAddr::v6(group, static_cast<uint32_t>(link.index)), 0};
  return solicit(
      fd, [&] { return core::send_to(fd, {req, sizeof req}, &to); },
      [&](std::vector<uint8_t>& mac) {
        uint8_t buf[1500];
        core::RecvInfo info;
        while (core::receive(fd, buf, info, MSG_DONTWAIT) == 0) {
          core::Icmpv6View na;
          if (core::Icmpv6View::parse({buf, info.length}, na) != core::PacketError::none ||
              na.type() != core::icmp6::neighbor_advert || na.target() != target.with_scope(0))
            continue;
          auto opts = na.ndp_options();
          core::NdpOption opt;
          while (opts.next(opt))
            if (opt.type == core::icmp6::opt_target_lladdr && opt.data.size() >= 6)
              mac.assign(opt.data.begin(), opt.data.begin() + 6);
          return true;
        }
        return false;
      });
}

// The kernel's entry for `addr` on `ifindex` (scope ids aside).
std::optional<core::Neighbour> neighbour_entry(const IpAddr& addr, int ifindex) {
  auto all = core::dump_neighbours(addr.family());
  if (!all) return std::nullopt;
  for (const auto& n : *all)
    if (n.ifindex == ifindex && n.address.with_scope(0) == addr.with_scope(0)) return n;
  return std::nullopt;
}

}  // namespace

Check check_neighbour(const PathInfo& p) {
  Check c;
  c.layer = "neighbour";
  if (p.local || p.link.loopback()) {
    c.status = Status::skip;
    c.summary = "local delivery: no neighbour";
    return c;
  }
  if ((p.link.flags & IFF_NOARP) || p.link.type != ARPHRD_ETHER) {
    c.status = Status::skip;
    c.summary = p.link.name + " has no link-layer neighbours (point-to-point or NOARP)";
    return c;
  }
  const IpAddr& nh = p.nexthop;
  auto before = neighbour_entry(nh, p.link.index);
  std::string before_state = before ? before->state_name() : "none";
  c.details.push_back(fmt::format("{} dev {}: {}{}", nh.to_string(), p.link.name, before_state,
                                  before && !before->lladdr.empty() ? " lladdr " + core::format_lladdr(before->lladdr)
                                                                    : ""));
  Json data = {{"address", nh.to_string()}, {"dev", p.link.name}, {"state_before", before_state}};

  bool answered = false;
  std::string how;
  std::vector<uint8_t> mac;
  if (nh.is_v4() && p.link.address.size() == 6 && !p.src.is_unspecified()) {
    auto a = arp_probe(p.link, p.src, nh);
    if (a.error.empty()) {
      answered = a.answered;
      mac = a.mac;
      how = answered ? fmt::format("ARP reply in {:.2f} ms", a.rtt_ms)
                     : fmt::format("{} ARP requests, no reply", a.sent);
      data["arp_requests"] = a.sent;
      data["arp_rtt_ms"] = answered ? Json(a.rtt_ms) : Json(nullptr);
    }
  } else if (nh.is_v6() && p.link.address.size() == 6) {
    auto a = nd_probe(p.link, nh);
    if (a.error.empty()) {
      answered = a.answered;
      mac = a.mac;
      how = answered ? fmt::format("neighbour advertisement in {:.2f} ms", a.rtt_ms)
                     : fmt::format("{} neighbour solicitations, no advertisement", a.sent);
      data["nd_solicitations"] = a.sent;
      data["nd_rtt_ms"] = answered ? Json(a.rtt_ms) : Json(nullptr);
    }
  }
  std::optional<core::Neighbour> after;
  if (how.empty()) {
    // No raw socket (or IPv6): let the kernel resolve it and watch its table.
    auto s = core::open_udp_socket(nh.family());
    if (s) {
      core::Endpoint ep{nh, 9};
      if (nh.is_link_local() && nh.is_v6()) ep.addr = nh.with_scope(p.link.index);
      uint8_t z = 0;
      core::send_to(s->get(), {&z, 0}, &ep);
    }
    auto t0 = Clock::now();
    while (ms_since(t0) < 3500) {
      after = neighbour_entry(nh, p.link.index);
      if (after && (after->state & (NUD_REACHABLE | NUD_PERMANENT | NUD_NOARP | NUD_FAILED))) break;
      if (after && (after->state & (NUD_STALE | NUD_DELAY | NUD_PROBE)) && !after->lladdr.empty() &&
          ms_since(t0) > 1000)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    answered = after && !(after->state & (NUD_FAILED | NUD_INCOMPLETE)) && after->state != 0;
    if (answered && after) mac = after->lladdr;
    how = fmt::format("kernel {} resolution: {}", nh.is_v4() ? "ARP" : "ND", after ? after->state_name() : "no entry");
  }
  if (!after) after = neighbour_entry(nh, p.link.index);
  std::string state_now = after ? after->state_name() : "none";
  data["state"] = state_now;
  data["lladdr"] = mac.empty() ? Json(nullptr) : Json(core::format_lladdr(mac));
  data["answered"] = answered;
  c.data = data;
  std::string role = p.route.gateway ? "gateway " : "";
  if (answered) {
    c.status = Status::pass;
    c.summary = fmt::format("{}{} is-at {} on {} ({}; table {})", role, nh.to_string(), core::format_lladdr(mac),
                            p.link.name, how, state_now);
  } else {
    c.status = Status::fail;
    c.fault = "no-answer";
    c.summary = fmt::format("{}{} on {} does not answer {} ({}; neighbour state {})", role, nh.to_string(),
                            p.link.name, nh.is_v4() ? "ARP" : "neighbour solicitation", how, state_now);
    c.message = c.summary;
  }
  return c;
}

}  // namespace netshoot::applet::doctor

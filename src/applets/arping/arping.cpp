// arping: ARP requests on one interface through AF_PACKET, in iputils arping's
// shape and exit codes (`arping -I IFACE [-c N] [-w S] [-D] [-f] [-b] [-q] [-s SRC] ADDR`),
// plus `arping --check-neigh [-I IFACE]`: the neighbour entries stuck in INCOMPLETE
// or FAILED (addresses that never answered ARP/NDP), exit 1 when there are any.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/neighbour.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "netshoot/addr.h"
#include "netshoot/applet.h"
#include "netshoot/caps.h"
#include "netshoot/fd.h"
#include "netshoot/neigh_format.h"
#include "netshoot/netlink.h"
#include "netshoot/output.h"

namespace netshoot::applet::arping {
namespace {

using core::Json;

constexpr const char* kUsage =
    "Usage: arping [-fqbDh] [-c COUNT] [-w TIMEOUT] [-i INTERVAL] [-s SOURCE] -I IFACE DESTINATION\n"
    "  -f  quit on the first reply          -q  quiet\n"
    "  -b  keep broadcasting, no unicast    -D  duplicate address detection (exit 0: no duplicate)\n"
    "  -c  stop after COUNT requests (with -w: after COUNT replies)\n"
    "  -w  stop after TIMEOUT seconds       -i  seconds between requests (default 1)\n"
    "  -s  source IPv4 address (default: the one the kernel would use)\n"
    "       arping --check-neigh [-I IFACE]   list INCOMPLETE/FAILED neighbour entries (exit 1 if any)\n"
    "Exit: 0 replies received (-D: none), 1 none (-D: a duplicate answered), 2 error.\n";

struct Options {
  std::string iface;
  std::string target;
  std::string source;
  long count = -1;
  double deadline = 0;  // seconds, 0 = none
  double interval = 1.0;
  bool dad = false, first = false, quiet = false, broadcast_only = false, check_neigh = false;
};

struct ArpPacket {
  uint16_t htype, ptype;
  uint8_t hlen, plen;
  uint16_t op;
  uint8_t sha[6];
  uint8_t spa[4];
  uint8_t tha[6];
  uint8_t tpa[4];
} __attribute__((packed));

double now_s() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

std::string mac_upper(const uint8_t* m) {
  char b[18];
  std::snprintf(b, sizeof(b), "%02X:%02X:%02X:%02X:%02X:%02X", m[0], m[1], m[2], m[3], m[4], m[5]);
  return b;
}

int error2(const std::string& msg) {
  std::fprintf(stderr, "arping: %s\n", msg.c_str());
  return 2;
}

// The neighbour entries that never resolved: INCOMPLETE (being resolved, no answer
// yet) and FAILED (gave up), as `ip neigh` prints them.
int check_neigh(Context& ctx, const Options& o) {
  int ifindex = 0;
  if (!o.iface.empty()) {
    auto idx = core::ifindex_by_name(o.iface);
    if (!idx) return error2("Device " + o.iface + " not available.");
    ifindex = *idx;
  }
  auto neigh = core::dump_neighbours();
  if (!neigh) return error2(neigh.error().message());
  auto links = core::dump_links();
  if (!links) return error2(links.error().message());
  std::map<int, std::string> names;
  for (const auto& l : *links) names[l.index] = l.name;
  auto out = core::Output::make(ctx.json);
  int bad = 0;
  for (const auto& n : *neigh) {
    if (ifindex && n.ifindex != ifindex) continue;
    if (!(n.state & (NUD_INCOMPLETE | NUD_FAILED))) continue;
    ++bad;
    // iproute2's `ip neigh` line and JSON object
    auto it = names.find(n.ifindex);
    std::string dev = it != names.end() ? it->second : "if" + std::to_string(n.ifindex);
    out->record("neigh", core::neigh_json(n, dev), core::format_neigh(n, dev));
  }
  if (!ctx.json && !o.quiet)
    out->text(bad ? std::to_string(bad) + " unresolved neighbour entr" + (bad == 1 ? "y" : "ies")
                  : std::string("no INCOMPLETE or FAILED neighbour entries"));
  out->flush();
  return bad ? kExitFailure : kExitOk;
}

bool parse_num(const char* s, double& out) {
  char* end = nullptr;
  out = std::strtod(s, &end);
  return *s && !*end && std::isfinite(out) && out >= 0;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto need = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "-h" || a == "--help") { std::fputs(kUsage, stdout); return kExitOk; }
    if (a == "--check-neigh") { o.check_neigh = true; continue; }
    if (a.size() >= 2 && a[0] == '-' && a[1] != '-') {
      for (size_t k = 1; k < a.size(); ++k) {
        char c = a[k];
        if (c == 'f') o.first = true;
        else if (c == 'q') o.quiet = true;
        else if (c == 'b') o.broadcast_only = true;
        else if (c == 'D') { o.dad = true; o.first = true; }
        else if (c == 'c' || c == 'w' || c == 'i' || c == 'I' || c == 's') {
          const char* v = k + 1 < a.size() ? argv[i] + k + 1 : need();
          if (!v) return error2(std::string("option requires an argument -- '") + c + "'");
          double d = 0;
          if (c == 'I') o.iface = v;
          else if (c == 's') o.source = v;
          else if (!parse_num(v, d)) return error2(std::string("invalid argument: '") + v + "'");
          else if (c == 'c') { if (d < 1 || d != std::floor(d)) return error2(std::string("invalid argument: '") + v + "'"); o.count = static_cast<long>(d); }
          else if (c == 'w') o.deadline = d;
          else if (c == 'i') { if (d < 0.2) return error2("minimal interval is 0.2 seconds"); o.interval = d; }
          break;
        } else if (c == 'U' || c == 'A') {
          return error2(std::string("-") + c + " (unsolicited ARP) is not supported: netshoot only probes");
        } else {
          return error2(std::string("invalid option -- '") + c + "'\n" + kUsage);
        }
      }
      continue;
    }
    if (!o.target.empty()) return error2("too many arguments\n" + std::string(kUsage));
    o.target = std::string(a);
  }
  if (o.check_neigh) return check_neigh(ctx, o);
  if (o.target.empty()) { std::fputs(kUsage, stderr); return 2; }

  in_addr dst{};
  if (inet_pton(AF_INET, o.target.c_str(), &dst) != 1) {
    auto any = core::IpAddr::try_parse(o.target);
    if (any && any->is_v6()) return error2(o.target + ": arping is IPv4 only (IPv6 uses neighbour discovery: ndisc6)");
    return error2(o.target + ": not an IPv4 address");
  }
  core::IpAddr target = core::IpAddr::from_in(dst);

  // The interface: -I, else the one the route to the target uses.
  core::Link link;
  if (!o.iface.empty()) {
    auto l = core::link_by_name(o.iface);
    if (!l) return error2("Device " + o.iface + " not available.");
    link = *l;
  } else {
    auto r = core::route_get(target);
    if (!r || r->oif == 0) return error2("no route to " + o.target + " (give the interface with -I)");
    auto l = core::link_by_index(r->oif);
    if (!l) return error2(l.error().message());
    link = *l;
  }
  if (link.loopback() || (link.flags & IFF_NOARP)) return error2("Interface \"" + link.name + "\" is not ARPable");
  if (!link.up()) return error2("Interface \"" + link.name + "\" is down");
  if (link.address.size() != 6) return error2("Interface \"" + link.name + "\" has no Ethernet address");

  // Source address: -s, 0.0.0.0 for -D, else what the kernel would pick.
  in_addr src{};
  if (!o.source.empty()) {
    if (inet_pton(AF_INET, o.source.c_str(), &src) != 1) return error2(o.source + ": not an IPv4 address");
  } else if (!o.dad) {
    core::UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!probe) return error2(std::string("socket: ") + std::strerror(errno));
    if (setsockopt(probe.get(), SOL_SOCKET, SO_BINDTODEVICE, link.name.c_str(),
                   static_cast<socklen_t>(link.name.size() + 1)) < 0)
      return error2(std::string("SO_BINDTODEVICE: ") + std::strerror(errno));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(1025);
    sa.sin_addr = dst;
    // connect() on UDP only selects a route and source; nothing is sent.
    if (connect(probe.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0)
      return error2(std::string("connect: ") + std::strerror(errno));
    socklen_t len = sizeof(sa);
    if (getsockname(probe.get(), reinterpret_cast<sockaddr*>(&sa), &len) < 0)
      return error2(std::string("getsockname: ") + std::strerror(errno));
    src = sa.sin_addr;
  }

  core::UniqueFd fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
  if (!fd) {
    int e = errno;
    return error2(std::string("socket(AF_PACKET): ") + std::strerror(e) + (e == EPERM ? " (needs CAP_NET_RAW)" : ""));
  }
  sockaddr_ll me{};
  me.sll_family = AF_PACKET;
  me.sll_protocol = htons(ETH_P_ARP);
  me.sll_ifindex = link.index;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&me), sizeof(me)) < 0)
    return error2(std::string("bind: ") + std::strerror(errno));
  core::drop_network_capabilities();  // the packet socket is all it needs

  auto out = core::Output::make(ctx.json);
  char srcs[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &src, srcs, sizeof(srcs));
  if (!o.quiet) out->text("ARPING " + target.to_string() + " from " + srcs + " " + link.name);
  out->flush();

  uint8_t peer_mac[6];
  std::memset(peer_mac, 0xff, 6);
  bool unicast = false;
  long sent = 0, broadcasts = 0, received = 0;
  long attempts = 0;   // requests tried, sent or not: -c counts these
  int send_errno = 0;  // the last sendto() failure
  double start = now_s(), last_sent = 0, next_send = start;
  bool done = false;

  auto send_probe = [&]() -> bool {
    ArpPacket p{};
    p.htype = htons(ARPHRD_ETHER);
    p.ptype = htons(ETH_P_IP);
    p.hlen = 6;
    p.plen = 4;
    p.op = htons(ARPOP_REQUEST);
    std::memcpy(p.sha, link.address.data(), 6);
    std::memcpy(p.spa, &src, 4);
    std::memcpy(p.tha, peer_mac, 6);
    std::memcpy(p.tpa, &dst, 4);
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = link.index;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, peer_mac, 6);
    ++attempts;
    if (sendto(fd.get(), &p, sizeof(p), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0) {
      send_errno = errno;
      return false;
    }
    ++sent;
    if (!unicast) ++broadcasts;
    last_sent = now_s();
    return true;
  };

  while (!done) {
    double t = now_s();
    bool may_send = o.count < 0 || attempts < o.count;
    // A request due at the deadline still goes out (iputils: -w 1 sends two).
    bool due = t >= next_send - 0.0005 && (o.deadline <= 0 || next_send <= start + o.deadline + 0.0005);
    if (may_send && due) {
      // As iputils: a request the kernel refuses (a device going down, a full
      // queue) is not counted as sent, and the next one goes out on schedule.
      send_probe();
      next_send = start + static_cast<double>(attempts) * o.interval;
      continue;
    }
    if (o.deadline > 0 && t - start >= o.deadline) break;
    // After the last request: wait one interval for its reply (iputils' timing),
    // unless a deadline rules.
    if (!may_send && o.deadline <= 0 && (t - last_sent >= o.interval || received >= sent)) break;
    double until = may_send ? next_send : last_sent + o.interval;
    if (o.deadline > 0) until = std::min(until, start + o.deadline);
    int wait_ms = static_cast<int>(std::ceil(std::max(0.0, until - t) * 1000));
    pollfd pfd{fd.get(), POLLIN, 0};
    int n = poll(&pfd, 1, wait_ms);
    if (n < 0 && errno != EINTR) return error2(std::string("poll: ") + std::strerror(errno));
    if (n <= 0) continue;
    uint8_t buf[256];
    sockaddr_ll from{};
    socklen_t flen = sizeof(from);
    ssize_t len = recvfrom(fd.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &flen);
    double rt = now_s();
    if (len < static_cast<ssize_t>(sizeof(ArpPacket))) continue;
    if (from.sll_pkttype != PACKET_HOST && from.sll_pkttype != PACKET_BROADCAST) continue;
    ArpPacket p;
    std::memcpy(&p, buf, sizeof(p));
    if (ntohs(p.op) != ARPOP_REPLY || ntohs(p.ptype) != ETH_P_IP || p.hlen != 6 || p.plen != 4) continue;
    if (std::memcmp(p.spa, &dst, 4) != 0) continue;               // from the address we asked for
    if (!o.dad && std::memcmp(p.tpa, &src, 4) != 0) continue;     // and to us
    if (o.dad && std::memcmp(p.tha, link.address.data(), 6) != 0) continue;
    ++received;
    long usecs = std::lround((rt - last_sent) * 1e6);
    char ms[32];
    std::snprintf(ms, sizeof(ms), "%ld.%03ldms", usecs / 1000, usecs % 1000);
    const char* kind = from.sll_pkttype == PACKET_HOST ? "Unicast" : "Broadcast";
    std::string line = std::string(kind) + " reply from " + target.to_string() + " [" + mac_upper(p.sha) + "]";
    in_addr tpa;
    std::memcpy(&tpa, p.tpa, 4);
    if (tpa.s_addr != src.s_addr) {
      char b[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &tpa, b, sizeof(b));
      line += std::string(" for ") + b;
    }
    if (std::memcmp(p.tha, link.address.data(), 6) != 0) line += " [" + mac_upper(p.tha) + "]";
    line += std::string("  ") + ms;
    if (!o.quiet || ctx.json)
      out->record("reply", Json{{"from", target.to_string()}, {"mac", mac_upper(p.sha)}, {"unicast", from.sll_pkttype == PACKET_HOST},
                                {"rtt_ms", static_cast<double>(usecs) / 1000.0}}, line);
    out->flush();
    if (!o.broadcast_only) {
      std::memcpy(peer_mac, p.sha, 6);
      unicast = true;
    }
    if (o.first) done = true;
    if (o.deadline > 0 && o.count > 0 && received >= o.count) done = true;
  }
  if (!o.quiet || ctx.json)
    out->record("summary", Json{{"sent", sent}, {"broadcasts", broadcasts}, {"received", received}},
                "Sent " + std::to_string(sent) + " probes (" + std::to_string(broadcasts) + " broadcast(s))\nReceived " +
                    std::to_string(received) + " response(s)");
  out->flush();
  if (sent == 0 && send_errno != 0) return error2(std::string("sendto: ") + std::strerror(send_errno));
  if (o.dad) return received ? kExitFailure : kExitOk;
  return received ? kExitOk : kExitFailure;
}

}  // namespace netshoot::applet::arping

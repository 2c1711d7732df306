// netstat: net-tools' `netstat -tulpn` shape over the same sock_diag dumps as ss
// (always numeric; -r prints the routing table as `route -n`).
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <cstdio>

#include <fmt/format.h>

#include "applets/ss/ss.h"
#include "netshoot/output.h"

namespace netshoot::applet::ip {
int run_route(Context& ctx, int argc, char** argv);
}

namespace netshoot::applet::ss {
namespace {

using core::Json;
using core::state_bit;
using core::TcpState;

constexpr const char* kUsage =
    "Usage: netstat [-tuwlanpW46] [-r]\n"
    "  -t tcp  -u udp  -w raw  -l listening only  -a all  -p PID/Program name\n"
    "  -n numeric (always on)  -W wide addresses  -4/-6  -r routing table\n";

// "host:port" into buf (>= 96 bytes), net-tools' way: port 0 is "*", ::ffff:a.b.c.d
// is a.b.c.d, and without
// -W a long address is cut to the 23-column field, keeping the port.
std::string_view endpoint(char* buf, const core::IpAddr& a, uint16_t port, bool wide) {
  char host[core::IpAddr::kMaxStringLen + 8];
  // net-tools prints a v4-mapped address of a tcp6 socket as the bare IPv4 one.
  size_t hn = a.unmapped().format(host, sizeof host);
  char pb[8];
  size_t pn = port ? static_cast<size_t>(std::to_chars(pb, pb + sizeof pb, port).ptr - pb) : 1;
  if (!port) pb[0] = '*';
  if (!wide && hn + 1 + pn > 23) hn = 23 > pn + 1 ? 23 - pn - 1 : 0;
  std::memcpy(buf, host, hn);
  buf[hn] = ':';
  std::memcpy(buf + hn + 1, pb, pn);
  return {buf, hn + 1 + pn};
}

void pad_left(std::string& out, std::string_view s, size_t w) {
  out.append(s);
  if (s.size() < w) out.append(w - s.size(), ' ');
}

void pad_right(std::string& out, std::string_view s, size_t w) {
  if (s.size() < w) out.append(w - s.size(), ' ');
  out.append(s);
}

std::string_view netstat_state_name(uint8_t state, bool udp) {
  static const char* const kNames[] = {"",          "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
                                       "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
                                       "CLOSE_WAIT", "LAST_ACK",   "LISTEN",    "CLOSING",
                                       "NEW_SYN_RECV"};
  if (udp && state == 7) return "";
  if (state < std::size(kNames)) return kNames[state];
  return "UNKNOWN";
}

}  // namespace

int run_netstat(Context& ctx, int argc, char** argv) {
  bool tcp = false, udp = false, raw = false, listening = false, all = false, procs_on = false, wide = false;
  bool v4 = false, v6 = false, route = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") { std::fputs(kUsage, stdout); return kExitOk; }
    if (a == "--tcp") { tcp = true; continue; }
    if (a == "--udp") { udp = true; continue; }
    if (a == "--listening") { listening = true; continue; }
    if (a == "--all") { all = true; continue; }
    if (a == "--program") { procs_on = true; continue; }
    if (a == "--numeric" || a == "--wide") { wide = wide || a == "--wide"; continue; }
    if (a == "--inet") { v4 = true; continue; }
    if (a == "--inet6") { v6 = true; continue; }
    if (a == "--route") { route = true; continue; }
    if (a.size() < 2 || a[0] != '-' || a[1] == '-') {
      std::fprintf(stderr, "netstat: unknown argument '%s'\n%s", argv[i], kUsage);
      return kExitUsage;
    }
    for (char c : a.substr(1)) {
      switch (c) {
        case 't': tcp = true; break;
        case 'u': udp = true; break;
        case 'w': raw = true; break;
        case 'l': listening = true; break;
        case 'a': all = true; break;
        case 'p': procs_on = true; break;
        case 'n': case 'e': case 'o': case 'v': break;
        case 'W': wide = true; break;
        case '4': v4 = true; break;
        case '6': v6 = true; break;
        case 'r': route = true; break;
        default:
          std::fprintf(stderr, "netstat: invalid option -- '%c'\n%s", c, kUsage);
          return kExitUsage;
      }
    }
  }
  if (route) {
    char name[] = "route", n[] = "-n";
    char* av[] = {name, n, nullptr};
    return ip::run_route(ctx, 2, av);
  }
  if (!tcp && !udp && !raw) tcp = udp = raw = true;
  if (!v4 && !v6) v4 = v6 = true;
  const uint32_t kAll = 0x1ffe;
  uint32_t listen_states = state_bit(TcpState::listen) | state_bit(TcpState::close);
  uint32_t states = all ? kAll : listening ? listen_states : kAll & ~listen_states;

  auto out = core::Output::make(ctx.json);
  out->set_batch(true);
  out->text(std::string("Active Internet connections (") +
            (all ? "servers and established" : listening ? "only servers" : "w/o servers") + ")");
  std::string head = fmt::format("{:<5} {:>6} {:>6} {:<23} {:<23} {:<11}", "Proto", "Recv-Q", "Send-Q",
                                 "Local Address", "Foreign Address", "State");
  if (procs_on) head += fmt::format(" {:<20}", "PID/Program name");
  out->text(head);
  ProcMap procs;
  if (procs_on) procs = scan_processes();
  struct P { bool on; int proto; const char* name; };
  for (const P& p : {P{tcp, IPPROTO_TCP, "tcp"}, P{udp, IPPROTO_UDP, "udp"}, P{raw, IPPROTO_RAW, "raw"}}) {
    if (!p.on) continue;
    const bool is_udp = p.proto != IPPROTO_TCP;
    const std::string proto4 = p.name, proto6 = proto4 + "6";
    // Text lines of v6 sockets wait here while one TCP dump brings both families:
    // net-tools lists /proc/net/tcp before /proc/net/tcp6.
    std::string held;
    bool hold6 = false;
    size_t emitted = 0;
    std::string line;
    char lbuf[96], pbuf[96];
    auto on_socket = [&](const core::InetSocket& s) {
      if (!(states & (1u << s.state))) return;
      const std::string& proto = s.family == AF_INET6 ? proto6 : proto4;
      std::string_view local = endpoint(lbuf, s.local, s.local_port, wide);
      std::string_view peer = endpoint(pbuf, s.remote, s.remote_port, wide);
      std::string_view state = netstat_state_name(s.state, is_udp);
      // /proc/net/tcp (what net-tools reads) shows a listener's Send-Q as 0, not its backlog.
      uint32_t wq = s.state == static_cast<uint8_t>(TcpState::listen) ? 0 : s.wqueue;
      line.clear();
      // "{:<5} {:>6} {:>6} {:<23} {:<23} {:<11}"
      char n1[16], n2[16];
      std::string_view rq(n1, static_cast<size_t>(std::to_chars(n1, n1 + sizeof n1, s.rqueue).ptr - n1));
      std::string_view sq(n2, static_cast<size_t>(std::to_chars(n2, n2 + sizeof n2, wq).ptr - n2));
      pad_left(line, proto, 5);
      line.push_back(' ');
      pad_right(line, rq, 6);
      line.push_back(' ');
      pad_right(line, sq, 6);
      line.push_back(' ');
      pad_left(line, local, 23);
      line.push_back(' ');
      pad_left(line, peer, 23);
      line.push_back(' ');
      pad_left(line, state, 11);
      Json j;
      if (ctx.json)
        j = Json{{"proto", proto}, {"recv_q", s.rqueue}, {"send_q", wq}, {"local", local},
                 {"foreign", peer}, {"state", state}};
      if (procs_on) {
        auto [b, e] = procs.equal_range(s.inode);
        std::string who = "-";
        if (b != e) {
          auto best = std::min_element(b, e, [](const auto& x, const auto& y) { return x.second.pid < y.second.pid; });
          who = std::to_string(best->second.pid) + "/" + best->second.program;
          if (ctx.json) {
            j["pid"] = best->second.pid;
            j["program"] = best->second.program;
          }
        }
        if (who.size() > 20) who.resize(20);
        line.push_back(' ');
        pad_left(line, who, 20);
      }
      if (ctx.json) {
        out->record("socket", j, line);
      } else if (hold6 && s.family == AF_INET6) {
        held += line;
        held.push_back('\n');
      } else {
        line.push_back('\n');
        out->raw(line);
      }
      ++emitted;
    };
    auto dump = [&](int family) -> core::Status {
      auto st = core::for_each_inet_socket(family, p.proto, states, false, on_socket);
      if (!st && p.proto == IPPROTO_RAW && st.error().code == ENOENT) return {};  // no raw_diag module
      // NLM_F_DUMP_INTR after lines went out cannot be undone: an error as any other.
      return st;
    };
    core::Status st;
    // A combined dump that failed after lines went out is an error, not a retry.
    const bool hold6_tried = p.proto == IPPROTO_TCP && v4 && v6 && !ctx.json;
    if (hold6_tried) {
      hold6 = true;
      st = dump(AF_UNSPEC);
      hold6 = false;
      if (st) out->raw(held);
    } else {
      st = core::Error{EINVAL, "", {}};
    }
    if (!st && emitted == 0) {  // per family (TCPDIAG_GETSOCK unavailable, UDP, raw, JSON)
      held.clear();
      st = {};
      for (int fam : {AF_INET, AF_INET6}) {
        if ((fam == AF_INET && !v4) || (fam == AF_INET6 && !v6)) continue;
        if (st = dump(fam); !st) break;
      }
    }
    if (!st) {
      std::fprintf(stderr, "netstat: %s\n", st.error().message().c_str());
      return kExitFailure;
    }
  }
  out->flush();
  return kExitOk;
}

}  // namespace netshoot::applet::ss

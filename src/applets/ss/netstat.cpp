// netstat: net-tools' `netstat -tulpn` shape over the same sock_diag dumps as ss
// (always numeric; -r prints the routing table as `route -n`).
#include <netinet/in.h>

#include <algorithm>
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

// net-tools cuts long addresses to the column, keeping the port.
std::string fit(std::string host, const std::string& port, bool wide) {
  std::string s = host + ":" + port;
  if (wide || s.size() <= 23) return s;
  size_t keep = 23 > port.size() + 1 ? 23 - port.size() - 1 : 0;
  return host.substr(0, keep) + ":" + port;
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
    for (int fam : {AF_INET, AF_INET6}) {
      if ((fam == AF_INET && !v4) || (fam == AF_INET6 && !v6)) continue;
      auto socks = dump_inet(p.proto, fam == AF_INET, fam == AF_INET6, states);
      if (!socks) {
        std::fprintf(stderr, "netstat: %s\n", socks.error().message().c_str());
        return kExitFailure;
      }
      std::string proto = std::string(p.name) + (fam == AF_INET6 ? "6" : "");
      bool is_udp = p.proto != IPPROTO_TCP;
      for (const auto& s : *socks) {
        if (!(states & (1u << s.state))) continue;
        std::string local = fit(s.local.to_string(), s.local_port ? std::to_string(s.local_port) : "*", wide);
        std::string peer = fit(s.remote.to_string(), s.remote_port ? std::to_string(s.remote_port) : "*", wide);
        std::string state = netstat_state(s.state, is_udp);
        // /proc/net/tcp (what net-tools reads) shows a listener's Send-Q as 0, not its backlog.
        uint32_t wq = s.state == static_cast<uint8_t>(TcpState::listen) ? 0 : s.wqueue;
        std::string line = fmt::format("{:<5} {:>6} {:>6} {:<23} {:<23} {:<11}", proto, s.rqueue, wq, local,
                                       peer, state);
        Json j{{"proto", proto}, {"recv_q", s.rqueue}, {"send_q", wq}, {"local", local},
               {"foreign", peer}, {"state", state}};
        if (procs_on) {
          auto [b, e] = procs.equal_range(s.inode);
          std::string who = "-";
          if (b != e) {
            auto best = std::min_element(b, e, [](const auto& x, const auto& y) { return x.second.pid < y.second.pid; });
            who = std::to_string(best->second.pid) + "/" + best->second.program;
            j["pid"] = best->second.pid;
            j["program"] = best->second.program;
          }
          if (who.size() > 20) who.resize(20);
          line += fmt::format(" {:<20}", who);
        }
        out->record("socket", j, line);
      }
    }
  }
  out->flush();
  return kExitOk;
}

}  // namespace netshoot::applet::ss

// `nping --tcp-connect`: unprivileged TCP connect probes (one handshake per probe,
// ports round-robin), nping's "Starting TCP Handshake" / "Handshake ... completed"
// lines and its connection statistics.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include <fmt/format.h>

#include "netgen.h"
#include "netshoot/addr.h"
#include "netshoot/applet.h"
#include "netshoot/fd.h"
#include "netshoot/output.h"
#include "netshoot/resolver.h"
#include "netshoot/socket.h"

namespace netshoot::applet::netgen {
namespace {

using Clock = std::chrono::steady_clock;
using core::IpAddr;
using core::Json;


double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int run_connect(Context& ctx, const CraftOptions& o) {
  auto out = core::Output::make(ctx.json);
  IpAddr dst;
  if (auto a = IpAddr::try_parse(o.host)) {
    dst = *a;
  } else {
    auto r = core::dns::resolve_host(o.host, o.family ? o.family : AF_UNSPEC);
    if (!r) {
      std::fprintf(stderr, "nping: %s\n", r.error().message().c_str());
      return kExitUsage;
    }
    if (r->empty()) {
      std::fprintf(stderr, "nping: %s: No address associated with hostname\n", o.host.c_str());
      return kExitUsage;
    }
    dst = (*r)[0].addr;
  }
  if (o.family && dst.family() != o.family) {
    std::fprintf(stderr, "nping: %s: Address family for hostname not supported\n", o.host.c_str());
    return kExitUsage;
  }
  std::optional<IpAddr> source;
  if (!o.source.empty()) {
    source = IpAddr::try_parse(o.source);
    if (!source || source->family() != dst.family()) {
      std::fprintf(stderr, "nping: source address '%s' is not an address of the target's family\n", o.source.c_str());
      return kExitUsage;
    }
  }
  const std::string where = dst.to_string();

  char when[64] = "";
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm);
  out->record("start", Json{{"target", o.host}, {"address", dst.to_string()}, {"mode", "tcp-connect"}},
              fmt::format("\nStarting Nping 0.7.93 ( https://nmap.org/nping ) at {}", when));
  out->flush();

  StopSignals stop_signals;

  const std::vector<uint16_t> ports = o.dst_ports.empty() ? std::vector<uint16_t>{80} : o.dst_ports;
  uint64_t attempts = 0, ok = 0;
  double rtt_min = 0, rtt_max = 0, rtt_sum = 0;
  auto t0 = Clock::now();
  auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval_s));
  auto next = t0;
  uint64_t total = o.count ? o.count * ports.size() : 0;
  for (uint64_t i = 0; !g_stop && (total == 0 || i < total); ++i) {
    while (!g_stop && Clock::now() < next) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
      ::poll(nullptr, 0, int(std::clamp<long long>(ms, 1, 100)));
    }
    if (g_stop) break;
    next += interval;
    uint16_t port = ports[size_t(i % ports.size())];
    std::string target = dst.is_v4() ? fmt::format("{}:{}", where, port) : fmt::format("[{}]:{}", where, port);
    core::UniqueFd fd(::socket(dst.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      std::fprintf(stderr, "nping: socket: %s\n", std::strerror(errno));
      break;
    }
    if (!o.interface.empty()) {
      if (auto b = core::bind_to_device(fd.get(), o.interface); !b) {
        std::fprintf(stderr, "nping: %s\n", b.error().message().c_str());
        break;
      }
    }
    if (o.ttl != 64) {
      int ttl = o.ttl;
      if (dst.is_v4()) ::setsockopt(fd.get(), IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
      else ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
    }
    if (o.src_port || source) {
      int one = 1;
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_storage ss{};
      socklen_t sl = (source ? *source : IpAddr::any(dst.family())).to_sockaddr(o.src_port.value_or(0), ss);
      if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), sl) != 0) {
        std::fprintf(stderr, "nping: bind: %s\n", std::strerror(errno));
        break;
      }
    }
    sockaddr_storage ss{};
    socklen_t sl = dst.to_sockaddr(port, ss);
    auto start = Clock::now();
    ++attempts;
    Json pj{{"seq", i}, {"time_s", since(t0)}, {"dst", dst.to_string()}, {"dport", port}, {"protocol", "tcp-connect"}};
    if (!o.quiet && !o.hide_sent)
      out->record("probe", pj, fmt::format("SENT ({:.4f}s) Starting TCP Handshake > {}", since(t0), target));
    int err = 0;
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), sl) != 0) err = errno;
    if (err == EINPROGRESS) {
      // The answer, or give up when the next probe is due (1 s after the last one).
      auto deadline = (total && i + 1 == total) ? start + std::chrono::seconds(1) : std::max(next, start + interval);
      err = ETIMEDOUT;
      while (!g_stop) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (ms <= 0) break;
        pollfd p{fd.get(), POLLOUT, 0};
        if (::poll(&p, 1, int(std::min<long long>(ms, 100))) > 0) {
          socklen_t len = sizeof err;
          ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
          break;
        }
      }
    }
    double rtt = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    Json rj{{"seq", i}, {"from", dst.to_string()}, {"sport", port}, {"rtt_ms", rtt}};
    std::string text;
    if (err == 0) {
      ++ok;
      if (ok == 1 || rtt < rtt_min) rtt_min = rtt;
      if (ok == 1 || rtt > rtt_max) rtt_max = rtt;
      rtt_sum += rtt;
      rj["result"] = "connected";
      text = fmt::format("RCVD ({:.4f}s) Handshake with {} completed", since(t0), target);
    } else if (err == ECONNREFUSED) {
      rj["result"] = "refused";
      text = fmt::format("RCVD ({:.4f}s) Possible TCP RST received from {} --> Connection refused", since(t0), target);
    } else if (err != ETIMEDOUT) {
      rj["result"] = std::strerror(err);
      text = fmt::format("RCVD ({:.4f}s) {} --> {}", since(t0), target, std::strerror(err));
    }
    if (!text.empty() && !o.quiet) out->record("reply", rj, text);
    out->flush();
  }
  stop_signals.restore();

  double secs = since(t0);
  uint64_t failed = attempts - ok;
  double fail_pct = attempts ? 100.0 * double(failed) / double(attempts) : 0;
  Json sj{{"target", o.host}, {"address", dst.to_string()}, {"attempts", attempts}, {"connected", ok},
          {"failed", failed}, {"failed_pct", fail_pct}, {"seconds", secs}};
  sj["rtt_min_ms"] = ok ? Json(rtt_min) : Json(nullptr);
  sj["rtt_avg_ms"] = ok ? Json(rtt_sum / double(ok)) : Json(nullptr);
  sj["rtt_max_ms"] = ok ? Json(rtt_max) : Json(nullptr);
  if (ctx.json) {
    out->record("summary", sj, "");
  } else {
    std::string s;
    if (!o.quiet) s += " \n";
    if (ok)
      s += fmt::format("Max rtt: {:.3f}ms | Min rtt: {:.3f}ms | Avg rtt: {:.3f}ms\n", rtt_max, rtt_min,
                       rtt_sum / double(ok));
    else
      s += "Max rtt: N/A | Min rtt: N/A | Avg rtt: N/A\n";
    s += fmt::format("TCP connection attempts: {} | Successful connections: {} | Failed: {} ({:.2f}%)\n", attempts,
                     ok, failed, fail_pct);
    s += fmt::format("Nping done: 1 IP address pinged in {:.2f} seconds", secs);
    out->text(s);
  }
  out->flush();
  return kExitOk;
}

}  // namespace netshoot::applet::netgen

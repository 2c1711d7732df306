// perf called as `iperf`: iperf 2's command line and text output. The real iperf 2.1.8
// client opens plain TCP streams; its first bytes are a small test header whose flags
// ask for nothing the server must answer by default, so the server simply counts the
// bytes. Our client sends zero-filled buffers, whose header flags (0) ask for nothing.
#include "iperf2.h"
#include "netshoot/addr.h"
#include "netshoot/resolver.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "proto.h"

namespace netshoot::applet::perf::iperf2 {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace
std::atomic<bool> g_stop{false};
namespace {
void on_signal(int) { g_stop = true; }

}  // namespace
std::mutex g_out;
void emit(const std::string& s) {
  std::lock_guard lk(g_out);
  std::fputs(s.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}
std::vector<SockAddr> resolve(const std::string& host, int port, int family, std::string* error) {
  std::vector<SockAddr> out;
  auto add = [&](const core::IpAddr& a) {
    if (family != AF_UNSPEC && a.family() != family) return;
    SockAddr s;
    s.len = a.to_sockaddr(uint16_t(port), s.ss);
    s.family = a.family();
    out.push_back(s);
  };
  if (auto a = core::IpAddr::try_parse(host)) {
    add(*a);
    if (out.empty()) *error = "Address family for hostname not supported";
    return out;
  }
  core::dns::ResolverConfig cfg;
  auto r = core::dns::resolve_host(host, family, cfg);
  if (!r) {
    *error = r.error().message();
    return out;
  }
  for (const auto& x : *r) add(x.addr);
  if (out.empty()) *error = "Name or service not known";
  return out;
}

namespace {


const char* kUsage =
    "Usage: iperf [-s|-c host] [options]\n"
    "  -s             run in server mode\n"
    "  -c HOST        run in client mode, connecting to HOST\n"
    "  -p PORT        server port (default 5001)\n"
    "  -t SEC         time to transmit (default 10 s)\n"
    "  -n BYTES       number of bytes to transmit (instead of -t)\n"
    "  -i SEC         seconds between periodic reports\n"
    "  -P N           number of parallel client streams\n"
    "  -l LEN         length of buffer to write (default 128 KByte)\n"
    "  -w SIZE        TCP window size (socket buffer size)\n"
    "  -B HOST        bind to HOST\n"
    "  -N             set TCP no delay\n"
    "  -u             UDP instead of TCP (datagrams of 1470 bytes unless -l)\n"
    "  -b RATE        UDP bits/sec, K/M/G 1024-based as iperf 2 (default 1M)\n"
    "  -4 / -6 (-V)   IPv4 / IPv6 only\n";

bool parse(int argc, char** argv, Opts& o, std::string& err) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&](std::string& v) {
      if (a.size() > 2 && a[0] == '-' && a[1] != '-') { v = a.substr(2); return true; }
      if (i + 1 >= argc) { err = "option requires an argument -- '" + a.substr(1) + "'"; return false; }
      v = argv[++i];
      return true;
    };
    std::string v;
    char c = a.size() >= 2 && a[0] == '-' ? a[1] : 0;
    if (a == "-s" || a == "--server") o.server = true;
    else if (a == "-u" || a == "--udp") o.udp = true;
    else if (a == "-N" || a == "--nodelay") o.nodelay = true;
    else if (a == "-4" || a == "--ipv4") o.family = AF_INET;
    else if (a == "-6" || a == "-V" || a == "--ipv6_domain") o.family = AF_INET6;
    else if (a == "-h" || a == "--help") { std::fputs(kUsage, stdout); std::exit(0); }
    else if (a == "-v" || a == "--version") {
      std::printf("netshoot perf %s (iperf 2.1 command line and output)\n", NETSHOOT_VERSION);
      std::exit(0);
    }
    else if (c == 'c') { if (!need(o.host)) return false; }
    else if (c == 'B') { if (!need(o.bind)) return false; }
    else if (c && std::strchr("ptinPlwb", c)) {
      if (!need(v)) return false;
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      bool plain = end && *end == 0 && !v.empty();
      auto sized = parse_size(v, false);
      switch (c) {
        case 'p': if (!plain || d < 1 || d > 65535) { err = "invalid port " + v; return false; } o.port = int(d); break;
        case 't': if (!plain || d <= 0) { err = "invalid time " + v; return false; } o.time = d; break;
        case 'i': if (!plain || d < 0) { err = "invalid interval " + v; return false; } o.interval = d; break;
        case 'P': if (!plain || d < 1 || d > 128) { err = "invalid parallel count " + v; return false; } o.parallel = int(d); break;
        case 'l': if (!sized || *sized < 1) { err = "invalid length " + v; return false; } o.len = int(*sized); break;
        case 'w': if (!sized || *sized < 1) { err = "invalid window " + v; return false; } o.window = int(*sized); break;
        case 'n': if (!sized || *sized < 1) { err = "invalid byte count " + v; return false; } o.bytes = uint64_t(*sized); break;
        case 'b': { auto r = parse_size(v, false); if (!r || *r <= 0) { err = "invalid bandwidth " + v; return false; } o.rate = *r; break; }
      }
    } else {
      err = "invalid option -- '" + a + "'";
      return false;
    }
  }
  if (o.udp && o.len == 128 * 1024) o.len = 1470;
  if (!o.server && o.host.empty()) { err = "must use either -s or -c"; return false; }
  return true;
}

std::optional<TcpInit> tcp_init(int fd) {
  tcp_info ti{};
  socklen_t l = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) != 0) return std::nullopt;
  return TcpInit{ti.tcpi_snd_cwnd, ti.tcpi_snd_mss, ti.tcpi_rtt};
}

std::string connected(int id, int fd) {
  sockaddr_storage l{}, p{};
  socklen_t ll = sizeof l, pl = sizeof p;
  getsockname(fd, reinterpret_cast<sockaddr*>(&l), &ll);
  getpeername(fd, reinterpret_cast<sockaddr*>(&p), &pl);
  int lp = 0, pp = 0;
  std::string la = addr_port(l, lp), pa = addr_port(p, pp);
  return connected_line(id, la, lp, pa, pp, tcp_init(fd));
}

int sock_buf(int fd, int opt) {
  int v = 0;
  socklen_t l = sizeof v;
  getsockopt(fd, SOL_SOCKET, opt, &v, &l);
  return v;
}

// ---- client ---------------------------------------------------------------------------

struct Stream {
  int fd = -1;
  int id = 0;
  std::atomic<uint64_t> bytes{0};
  std::atomic<bool> done{false};
  double elapsed = 0;
};

int client(const Opts& o) {
  std::string port = std::to_string(o.port);
  std::string rerr;
  auto res = resolve(o.host, o.port, o.family, &rerr);
  if (res.empty()) {
    std::fprintf(stderr, "ERROR: Unable to resolve host %s: %s\n", o.host.c_str(), rerr.c_str());
    return 1;
  }
  std::vector<std::unique_ptr<Stream>> streams;
  bool banner = false;
  for (int i = 0; i < o.parallel; ++i) {
    int fd = -1, err = 0;
    for (const auto& ai : res) {
      fd = socket(ai.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      if (o.window) {
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o.window, sizeof o.window);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.window, sizeof o.window);
      }
      if (o.nodelay) { int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); }
      if (!o.bind.empty()) {
        std::string berr;
        auto b = resolve(o.bind, 0, ai.family, &berr);
        if (!b.empty()) bind(fd, reinterpret_cast<const sockaddr*>(&b[0].ss), b[0].len);
      }
      if (!banner) {
        emit(kDashes);
        emit("Client connecting to " + o.host + ", TCP port " + port);
        emit(window_line(sock_buf(fd, SO_SNDBUF), o.window == 0));
        emit(kDashes);
        banner = true;
      }
      if (connect(fd, reinterpret_cast<const sockaddr*>(&ai.ss), ai.len) == 0) break;
      err = errno;
      close(fd);
      fd = -1;
    }
    if (fd < 0) {
      std::fprintf(stderr, "tcp connect failed: %s\n", std::strerror(err ? err : ECONNREFUSED));
      for (auto& s : streams) close(s->fd);
      return 1;
    }
    auto s = std::make_unique<Stream>();
    s->fd = fd;
    s->id = i + 1;
    emit(connected(s->id, fd));
    streams.push_back(std::move(s));
  }
  emit(kHeader);

  auto t0 = Clock::now();
  auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.time));
  std::vector<std::thread> threads;
  for (auto& sp : streams) {
    threads.emplace_back([&, s = sp.get()] {
      std::vector<char> buf(size_t(o.len), 0);
      uint64_t limit = o.bytes ? o.bytes : UINT64_MAX;
      while (!g_stop && s->bytes < limit && (o.bytes || Clock::now() < deadline)) {
        size_t want = size_t(std::min<uint64_t>(buf.size(), limit - s->bytes));
        ssize_t n = send(s->fd, buf.data(), want, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          break;
        }
        s->bytes += uint64_t(n);
      }
      shutdown(s->fd, SHUT_WR);
      // wait (bounded) for the server to close its side
      pollfd p{s->fd, POLLIN, 0};
      char sink[4096];
      while (poll(&p, 1, 5000) > 0 && recv(s->fd, sink, sizeof sink, 0) > 0) {
      }
      s->elapsed = since(t0);
      s->done = true;
    });
  }

  if (o.interval > 0) {
    std::vector<uint64_t> last(streams.size(), 0);
    uint64_t last_sum = 0;
    for (int k = 1;; ++k) {
      auto tick = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval * k));
      bool all_done = true;
      while (Clock::now() < tick) {
        all_done = true;
        for (auto& s : streams) all_done = all_done && s->done;
        if (all_done) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (all_done) break;
      double a = o.interval * (k - 1), b = o.interval * k;
      uint64_t sum = 0;
      for (size_t j = 0; j < streams.size(); ++j) {
        uint64_t now = streams[j]->bytes;
        emit(report_line(label(streams[j]->id), a, b, double(now - last[j])));
        last[j] = now;
        sum += now;
      }
      if (streams.size() > 1) emit(report_line(label(0), a, b, double(sum - last_sum)));
      last_sum = sum;
    }
  }
  double total = 0, longest = 0;
  for (size_t j = 0; j < threads.size(); ++j) {
    threads[j].join();
    auto& s = streams[j];
    emit(report_line(label(s->id), 0, s->elapsed, double(s->bytes)));
    total += double(s->bytes);
    longest = std::max(longest, s->elapsed);
    close(s->fd);
  }
  if (streams.size() > 1) emit(report_line(label(0), 0, longest, total));
  return 0;
}

// ---- server ---------------------------------------------------------------------------

}  // namespace

// The server's socket for -s (TCP) and -s -u (UDP): IPv6 dual-stack unless -4/-6,
// bound to -B (an IPv4 address on an IPv6 socket as its mapped form), listening
// for TCP. -1 after printing the error.
int open_listener(const Opts& o, int type) {
  int fam = o.family == AF_INET ? AF_INET : AF_INET6;
  int fd = socket(fam, type | SOCK_CLOEXEC, 0);
  if (fd < 0 && fam == AF_INET6) fd = socket(fam = AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) { std::perror("socket"); return -1; }
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fam == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, o.family == AF_INET6 ? &one : &zero, sizeof one);
  if (o.window) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.window, sizeof o.window);
  sockaddr_storage ss{};
  socklen_t sl;
  if (fam == AF_INET6) {
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(uint16_t(o.port));
    s->sin6_addr = in6addr_any;
    if (!o.bind.empty() && inet_pton(AF_INET6, o.bind.c_str(), &s->sin6_addr) != 1) {
      in_addr a{};
      if (inet_pton(AF_INET, o.bind.c_str(), &a) == 1) {
        s->sin6_addr = in6addr_any;
        s->sin6_addr.s6_addr[10] = s->sin6_addr.s6_addr[11] = 0xff;
        std::memcpy(&s->sin6_addr.s6_addr[12], &a, 4);
      }
    }
    sl = sizeof(sockaddr_in6);
  } else {
    auto* s = reinterpret_cast<sockaddr_in*>(&ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(uint16_t(o.port));
    if (!o.bind.empty()) inet_pton(AF_INET, o.bind.c_str(), &s->sin_addr);
    sl = sizeof(sockaddr_in);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), sl) != 0 || (type == SOCK_STREAM && listen(fd, 128) != 0)) {
    std::fprintf(stderr, "listener bind failed: %s\n", std::strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

namespace {


struct Group {  // the parallel streams of one client (same peer address, overlapping)
  int active = 0, members = 0;
  bool header = false;
  double bytes = 0, longest = 0;
};

int server(const Opts& o) {
  int fd = open_listener(o, SOCK_STREAM);
  if (fd < 0) return 1;
  emit(kDashes);
  emit("Server listening on TCP port " + std::to_string(o.port));
  emit(window_line(sock_buf(fd, SO_RCVBUF), o.window == 0));
  emit(kDashes);

  std::mutex mu;
  std::map<std::string, std::shared_ptr<Group>> groups;
  std::atomic<int> running{0};
  int next_id = 1;
  while (!g_stop) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    sockaddr_storage peer{};
    socklen_t pl = sizeof peer;
    int c = accept4(fd, reinterpret_cast<sockaddr*>(&peer), &pl, SOCK_CLOEXEC);
    if (c < 0) continue;
    int pport = 0;
    std::string paddr = addr_port(peer, pport);
    int id = next_id++;
    std::shared_ptr<Group> g;
    {
      std::lock_guard lk(mu);
      auto& slot = groups[paddr];
      if (!slot || slot->active == 0) slot = std::make_shared<Group>();
      g = slot;
      g->active++;
      g->members++;
    }
    emit(connected(id, c));
    running++;
    std::thread([&, c, id, g] {
      auto t0 = Clock::now();
      std::vector<char> buf(256 * 1024);
      uint64_t bytes = 0, last = 0;
      int k = 1;
      auto tick = [&](int n) {
        return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval * n));
      };
      while (true) {
        int wait = 1000;
        if (o.interval > 0) {
          auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tick(k) - Clock::now()).count();
          wait = int(std::max<long long>(0, ms));
        }
        pollfd p{c, POLLIN, 0};
        int pr = poll(&p, 1, wait);
        if (o.interval > 0 && Clock::now() >= tick(k)) {
          emit(report_line(label(id), o.interval * (k - 1), o.interval * k, double(bytes - last)));
          last = bytes;
          ++k;
        }
        if (pr <= 0) {
          if (g_stop) break;
          continue;
        }
        ssize_t n = recv(c, buf.data(), buf.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (bytes == 0) {
          std::lock_guard lk(mu);
          if (!g->header) { g->header = true; emit(kHeader); }
        }
        bytes += uint64_t(n);
      }
      double el = since(t0);
      close(c);
      emit(report_line(label(id), 0, el, double(bytes)));
      {
        std::lock_guard lk(mu);
        g->bytes += double(bytes);
        g->longest = std::max(g->longest, el);
        if (--g->active == 0 && g->members > 1) emit(report_line(label(0), 0, g->longest, g->bytes));
      }
      running--;
    }).detach();
  }
  close(fd);
  for (int i = 0; i < 50 && running > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return 0;
}

}  // namespace

std::string label(int id) {
  if (id <= 0) return "[SUM]";
  char b[16];
  std::snprintf(b, sizeof b, "[%3d]", id);
  return b;
}

std::string report_line(const std::string& lab, double start, double end, double bytes) {
  double secs = end - start;
  double bps = secs > 0 ? bytes * 8 / secs : 0;
  char b[64];
  std::snprintf(b, sizeof b, " %.4f-%.4f sec  ", start, end);
  return lab + b + format_bytes(bytes) + "  " + format_bits(bps) + "/sec";
}

std::string udp_report_line(const std::string& lab, double start, double end, double bytes,
                            double jitter_ms, int64_t lost, int64_t total) {
  char b[96];
  double pct = total > 0 ? 100.0 * double(lost) / double(total) : 0;
  std::snprintf(b, sizeof b, "  %6.3f ms %lld/%lld (%.2g%%)", jitter_ms, (long long)lost, (long long)total, pct);
  return report_line(lab, start, end, bytes) + b;
}

std::string window_line(int bytes, bool is_default) {
  std::string s = format_bytes(double(bytes));
  if (!s.empty() && s.back() == 's') s.pop_back();  // iperf 2 writes "KByte" here
  return "TCP window size: " + s + (is_default ? " (default)" : "");
}

std::string connected_line(int id, const std::string& local, int lport, const std::string& peer,
                           int pport, std::optional<TcpInit> init) {
  std::string s = label(id) + " local " + local + " port " + std::to_string(lport) + " connected with " +
                  peer + " port " + std::to_string(pport);
  if (init)
    s += " (icwnd/mss/irtt=" + std::to_string(init->cwnd) + "/" + std::to_string(init->mss) + "/" +
         std::to_string(init->rtt_us) + ")";
  return s;
}

int run(int argc, char** argv) {
  Opts o;
  std::string err;
  if (!parse(argc, argv, o, err)) {
    std::fprintf(stderr, "iperf: %s\n%s", err.c_str(), kUsage);
    return 1;
  }
  if (o.udp) {
    signal(SIGPIPE, SIG_IGN);
    return o.server ? udp_server(o) : udp_client(o);
  }
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return o.server ? server(o) : client(o);
}

std::string addr_port(const sockaddr_storage& ss, int& port) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    auto* s = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &s->sin_addr, buf, sizeof buf);
    port = ntohs(s->sin_port);
  } else {
    auto* s = reinterpret_cast<const sockaddr_in6*>(&ss);
    if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) inet_ntop(AF_INET, &s->sin6_addr.s6_addr[12], buf, sizeof buf);
    else inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf);
    port = ntohs(s->sin6_port);
  }
  return buf;
}

}  // namespace netshoot::applet::perf::iperf2

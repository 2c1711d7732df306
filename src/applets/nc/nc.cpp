// nc / netcat: netcat-openbsd 1.219 behaviour. Connect (or listen), then relay
// stdin <-> socket with poll() until both directions are done, following
// openbsd's readwrite() rules for half-close (-N), -q and -w.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "options.h"
#include "netshoot/addr.h"
#include "netshoot/applet.h"
#include "netshoot/fd.h"
#include "netshoot/resolver.h"

namespace netshoot::applet::nc {
namespace {

using core::IpAddr;
using core::UniqueFd;
using Clock = std::chrono::steady_clock;

void warnx(const std::string& m) { std::fprintf(stderr, "nc: %s\n", m.c_str()); }

std::vector<IpAddr> resolve(const Options& o, const std::string& host, const std::string& port_text,
                            bool* failed) {
  *failed = false;
  if (auto a = IpAddr::try_parse(host)) {
    if (o.family == AF_UNSPEC || a->family() == o.family) return {*a};
  } else if (!o.numeric) {
    core::dns::ResolverConfig cfg;
    auto r = core::dns::resolve_host(host, o.family, cfg);
    if (r) {
      std::vector<IpAddr> v;
      for (auto& x : *r) v.push_back(x.addr);
      if (!v.empty()) return v;
    }
  }
  warnx("getaddrinfo for host \"" + host + "\" port " + port_text + ": Name or service not known");
  *failed = true;
  return {};
}

std::string reverse_name(const Options& o, const IpAddr& a) {
  if (o.numeric || a.is_unspecified()) return a.to_string();
  core::dns::ResolverConfig cfg;
  cfg.timeout_ms = 1000;
  auto r = core::dns::reverse_lookup(a, cfg);
  return r ? *r : a.to_string();
}

// The -s address for a socket of `family`, as openbsd's getaddrinfo(sflag) with the
// remote's family: a literal of the other family or an unknown name is an error.
core::Result<IpAddr> source_address(const Options& o, int family) {
  if (o.source.empty()) return IpAddr::any(family);
  if (auto a = IpAddr::try_parse(o.source)) {
    if (a->family() != family) return core::make_error("getaddrinfo: Address family for hostname not supported");
    return *a;
  }
  if (!o.numeric) {
    core::dns::ResolverConfig cfg;
    if (auto r = core::dns::resolve_host(o.source, family, cfg); r && !r->empty()) return (*r)[0].addr;
  }
  return core::make_error("getaddrinfo: Name or service not known");
}

// Opens a socket of the family, bound to -s/-p when given. A failing -s or bind is
// fatal in openbsd's nc: *fatal then holds the message ("bind failed: ...").
int open_socket(const Options& o, int family, int* err, std::string* fatal = nullptr) {
  IpAddr src = IpAddr::any(family);
  if (!o.source.empty()) {
    auto a = source_address(o, family);
    if (!a) {
      if (fatal) *fatal = a.error().context.empty() ? a.error().message() : a.error().context;
      *err = EINVAL;
      return -1;
    }
    src = *a;
  }
  int fd = ::socket(family, (o.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) { *err = errno; return -1; }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!o.source.empty() || o.source_port >= 0) {
    sockaddr_storage ss{};
    socklen_t len = src.to_sockaddr(uint16_t(o.source_port < 0 ? 0 : o.source_port), ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      *err = errno;
      if (fatal) *fatal = std::string("bind failed: ") + std::strerror(errno);
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

// Nonblocking connect with the -w timeout; the socket is left blocking again.
int timeout_connect(int fd, const IpAddr& a, uint16_t port, int wait_s) {
  sockaddr_storage ss{};
  socklen_t len = a.to_sockaddr(port, ss);
  int fl = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  int e = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    e = errno;
    if (e == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int r;
      do r = ::poll(&p, 1, wait_s < 0 ? -1 : wait_s * 1000); while (r < 0 && errno == EINTR);
      if (r == 0) {
        e = ETIMEDOUT;  // our own -w timeout
      } else {
        int v = 0;
        socklen_t vl = sizeof v;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl);
        e = v == ETIMEDOUT ? -ETIMEDOUT : v;  // the kernel's own timeout (negative: see failure_message)
      }
    }
  }
  ::fcntl(fd, F_SETFL, fl);
  return e;
}

// UDP "scan": send a byte and see whether an ICMP port unreachable comes back.
int udp_probe(int fd, int wait_s) {
  for (int i = 0; i < 3; ++i) {
    if (::send(fd, "X", 1, 0) < 0) return errno;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, wait_s > 0 ? std::min(wait_s * 1000, 300) : 300);
    if (r > 0) {
      char b[64];
      if (::recv(fd, b, sizeof b, MSG_DONTWAIT) < 0 && errno != EAGAIN) return errno;
      return 0;
    }
  }
  return 0;
}

// openbsd readwrite(): stdin -> net, net -> stdout.
void readwrite(const Options& o, int net, bool stdin_closed) {
  constexpr size_t kBuf = 64 * 1024;
  std::vector<char> to_net(kBuf), to_out(kBuf);
  size_t to_net_len = 0, to_out_len = 0;
  bool stdin_open = !stdin_closed, netin_open = true, netout_open = true, stdout_open = true;
  bool shut_wr_done = false;
  std::optional<Clock::time_point> quit_at;
  auto stdin_gone = [&] {
    if (o.quit_s >= 0 && !quit_at) quit_at = Clock::now() + std::chrono::seconds(o.quit_s);
  };
  if (!stdin_open) stdin_gone();
  for (;;) {
    // stdin gone and its buffer sent: half-close for -N
    if (!stdin_open && to_net_len == 0 && netout_open && !shut_wr_done && o.shutdown_on_eof) {
      ::shutdown(net, SHUT_WR);
      shut_wr_done = true;
      netout_open = false;
    }
    if (!netin_open && to_out_len == 0) stdout_open = false;
    if (!stdin_open && !netin_open && to_net_len == 0 && to_out_len == 0) return;
    if (!netout_open && !stdout_open) return;
    if (o.listen && !netin_open && to_out_len == 0 && to_net_len == 0) return;
    if (quit_at && to_net_len == 0 && Clock::now() >= *quit_at) return;

    pollfd p[3] = {{-1, POLLIN, 0}, {-1, POLLOUT, 0}, {net, 0, 0}};
    if (stdin_open && to_net_len < kBuf) p[0].fd = 0;
    if (stdout_open && to_out_len > 0) p[1].fd = 1;
    if (netin_open && to_out_len < kBuf) p[2].events |= POLLIN;
    if (netout_open && to_net_len > 0) p[2].events |= POLLOUT;
    int timeout = o.wait_s >= 0 ? o.wait_s * 1000 : -1;
    if (quit_at) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*quit_at - Clock::now()).count();
      if (ms < 0) ms = 0;
      if (timeout < 0 || ms < timeout) timeout = int(ms);
    }
    int r = ::poll(p, 3, timeout);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (r == 0) {
      if (quit_at && Clock::now() >= *quit_at) return;
      if (o.wait_s >= 0) return;  // -w idle timeout
      continue;
    }
    if (p[0].fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::read(0, to_net.data() + to_net_len, kBuf - to_net_len);
      if (n > 0) to_net_len += size_t(n);
      else if (n == 0 || (errno != EAGAIN && errno != EINTR)) { stdin_open = false; stdin_gone(); }
    }
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (netin_open && to_out_len < kBuf) {
        ssize_t n = ::recv(net, to_out.data() + to_out_len, kBuf - to_out_len, MSG_DONTWAIT);
        if (n > 0) to_out_len += size_t(n);
        else if (n == 0 && !o.udp) { ::shutdown(net, SHUT_RD); netin_open = false; }
        else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          netin_open = false;
          if (errno == ECONNRESET || errno == ECONNREFUSED) netout_open = false;
        }
      } else if (p[2].revents & POLLERR) {
        netin_open = netout_open = false;
      }
    }
    if (netout_open && to_net_len > 0 && (p[2].revents & (POLLOUT | POLLERR))) {
      ssize_t n = ::send(net, to_net.data(), to_net_len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        std::memmove(to_net.data(), to_net.data() + n, to_net_len - size_t(n));
        to_net_len -= size_t(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        netout_open = false;
        to_net_len = 0;
      }
    }
    if (p[1].fd >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(1, to_out.data(), to_out_len);
      if (n > 0) {
        std::memmove(to_out.data(), to_out.data() + n, to_out_len - size_t(n));
        to_out_len -= size_t(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        stdout_open = false;
        to_out_len = 0;
      }
    }
  }
}

int do_listen(const Options& o) {
  IpAddr bind_addr = IpAddr::any(o.family == AF_INET6 ? AF_INET6 : AF_INET);
  if (!o.host.empty()) {
    bool failed = false;
    auto v = resolve(o, o.host, o.port_text[0], &failed);
    if (failed) return 1;
    bind_addr = v[0];
  }
  int err = 0;
  Options so = o;
  so.source.clear();
  so.source_port = -1;
  UniqueFd fd(open_socket(so, bind_addr.family(), &err));
  if (!fd) { warnx(std::string("socket: ") + std::strerror(err)); return 1; }
  int one = 1;  // openbsd's local_listen() sets SO_REUSEPORT as well
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bind_addr.is_v6()) {
    int off = 0;
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  sockaddr_storage ss{};
  socklen_t len = bind_addr.to_sockaddr(o.ports[0], ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    warnx(std::string("bind failed: ") + std::strerror(errno));
    return 1;
  }
  if (o.udp) {
    if (o.verbose) std::fprintf(stderr, "Bound on %s %u\n", reverse_name(o, bind_addr).c_str(), o.ports[0]);
    char b[1];
    sockaddr_storage peer{};
    socklen_t pl = sizeof peer;
    if (::recvfrom(fd.get(), b, sizeof b, MSG_PEEK, reinterpret_cast<sockaddr*>(&peer), &pl) < 0) return 1;
    if (!o.keep) ::connect(fd.get(), reinterpret_cast<sockaddr*>(&peer), pl);
    if (o.verbose) {
      if (auto e = core::Endpoint::from_sockaddr(peer, pl))
        std::fprintf(stderr, "Connection received on %s %u\n", reverse_name(o, e->addr.unmapped()).c_str(), e->port);
    }
    readwrite(o, fd.get(), o.no_stdin);
    return 0;
  }
  if (::listen(fd.get(), o.keep ? 128 : 1) != 0) {
    warnx(std::string("listen: ") + std::strerror(errno));
    return 1;
  }
  if (o.verbose) std::fprintf(stderr, "Listening on %s %u\n", reverse_name(o, bind_addr).c_str(), o.ports[0]);
  do {
    sockaddr_storage peer{};
    socklen_t pl = sizeof peer;
    int c = ::accept4(fd.get(), reinterpret_cast<sockaddr*>(&peer), &pl, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR) continue;
      warnx(std::string("accept: ") + std::strerror(errno));
      return 1;
    }
    UniqueFd conn(c);
    if (o.verbose) {
      if (auto e = core::Endpoint::from_sockaddr(peer, pl))
        std::fprintf(stderr, "Connection received on %s %u\n", reverse_name(o, e->addr.unmapped()).c_str(), e->port);
    }
    if (!o.keep) fd.reset();  // one connection: stop listening
    if (!o.zero_io) readwrite(o, conn.get(), o.no_stdin);
  } while (o.keep);
  return 0;
}

int do_connect(const Options& o) {
  bool failed = false;
  auto addrs = resolve(o, o.host, o.port_text[0], &failed);
  if (failed) return 1;
  int ret = 1;
  for (size_t i = 0; i < o.ports.size(); ++i) {
    uint16_t port = o.ports[i];
    UniqueFd fd;
    IpAddr used;
    for (auto& a : addrs) {
      int err = 0;
      std::string fatal;
      UniqueFd s(open_socket(o, a.family(), &err, &fatal));
      if (!s && !fatal.empty()) {
        warnx(fatal);
        return 1;
      }
      if (!s) {
        warnx(std::string("socket: ") + std::strerror(err));
        continue;
      }
      err = timeout_connect(s.get(), a, port, o.wait_s);
      if (err == 0 && o.udp && o.zero_io) err = udp_probe(s.get(), o.wait_s);
      if (err == 0) { fd = std::move(s); used = a; break; }
      if (o.verbose) warnx(failure_message(o.host, a.to_string(), port, o.udp, o.numeric, err));
    }
    if (!fd) continue;
    ret = 0;
    if (o.verbose) {
      std::fprintf(stderr, "%s\n", success_message(o.host, used.to_string(), port, o.udp, o.numeric).c_str());
    }
    if (o.zero_io) continue;
    readwrite(o, fd.get(), o.no_stdin);
    return 0;
  }
  return ret;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  (void)ctx;
  ::signal(SIGPIPE, SIG_IGN);
  auto o = parse_options(argc, argv);
  if (!o) {
    if (o.error().context == "usage") std::fputs(usage().c_str(), stderr);
    else warnx(o.error().context);
    return 1;
  }
  if (o->help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (ctx.verbose > o->verbose) o->verbose = ctx.verbose;
  return o->listen ? do_listen(*o) : do_connect(*o);
}

}  // namespace netshoot::applet::nc

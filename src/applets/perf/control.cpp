// perf: the control connection (state bytes and JSON documents with timeouts) and
// the socket helpers both sides use.
#include <arpa/inet.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "session.h"

namespace netshoot::applet::perf {

std::string errno_text(int e) { return std::strerror(e); }

bool Control::pump() {
  uint8_t b[4096];
  for (;;) {
    ssize_t n = ::recv(fd.get(), b, sizeof b, MSG_DONTWAIT);
    if (n > 0) {
      rd.feed({b, size_t(n)});
      continue;
    }
    if (n == 0) { eof = true; return false; }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return true;
    eof = true;
    return false;
  }
}

bool Control::wait_readable(int ms) {
  pollfd p{fd.get(), POLLIN, 0};
  double until = mono() + ms / 1000.0;
  for (;;) {
    if (aborted()) return false;
    int slice = abort ? std::min(ms, 200) : ms;
    int r = ::poll(&p, 1, slice);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
    double left = until - mono();
    if (left <= 0) return false;
    ms = int(left * 1000) + 1;
  }
}

core::Result<int8_t> Control::state(int timeout_ms) {
  double deadline = mono() + timeout_ms / 1000.0;
  for (;;) {
    if (aborted()) return core::make_error("the server has terminated");
    if (auto s = rd.take_state()) return *s;
    if (eof) return core::make_error("control socket has closed unexpectedly");
    double left = deadline - mono();
    if (left <= 0 || !wait_readable(int(left * 1000) + 1)) {
      if (mono() >= deadline) return core::make_error("timed out waiting on the control connection");
    }
    pump();
  }
}

core::Result<std::string> Control::json(int timeout_ms) {
  double deadline = mono() + timeout_ms / 1000.0;
  for (;;) {
    if (aborted()) return core::make_error("the server has terminated");
    auto j = rd.take_json();
    if (!j) return core::make_error("received an invalid control message (" + j.error().message() + ")");
    if (*j) return std::move(**j);
    if (eof) return core::make_error("control socket has closed unexpectedly");
    double left = deadline - mono();
    if (left <= 0 || !wait_readable(int(left * 1000) + 1)) {
      if (mono() >= deadline) return core::make_error("timed out waiting on the control connection");
    }
    pump();
  }
}

bool Control::send_all(const void* d, size_t n) {
  const char* p = static_cast<const char*>(d);
  double deadline = mono() + kSetupTimeoutMs / 1000.0;
  while (n > 0) {
    ssize_t w = ::send(fd.get(), p, n, MSG_NOSIGNAL);
    if (w > 0) { p += w; n -= size_t(w); continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd pf{fd.get(), POLLOUT, 0};
      if (mono() > deadline) return false;
      ::poll(&pf, 1, 100);
      continue;
    }
    return false;
  }
  return true;
}

void Control::nodelay() {
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool Control::send_json(const std::string& j) {
  auto f = frame_json(j);
  return send_all(f.data(), f.size());
}

TcpInfo tcp_info(int fd) {
  struct tcp_info ti{};
  socklen_t len = sizeof ti;
  TcpInfo r;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0) return r;
  r.ok = true;
  r.retrans = ti.tcpi_total_retrans;
  r.cwnd = ti.tcpi_snd_cwnd * ti.tcpi_snd_mss;
  r.snd_wnd = len >= offsetof(struct tcp_info, tcpi_snd_wnd) + sizeof(ti.tcpi_snd_wnd) ? ti.tcpi_snd_wnd : 0;
  r.rtt = ti.tcpi_rtt;
  r.rttvar = ti.tcpi_rttvar;
  r.pmtu = ti.tcpi_pmtu;
  return r;
}

std::string congestion_of(int fd) {
  char b[32] = {};
  socklen_t l = sizeof b - 1;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, b, &l) != 0) return {};
  return std::string(b, strnlen(b, l));
}

core::Status apply_socket_options(int fd, const TestParams& p, bool before_connect) {
  if (p.window > 0) {
    int w = p.window;
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &w, sizeof w) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &w, sizeof w) != 0)
      return core::os_error("unable to set socket buffer size");
  }
  if (p.udp) return {};
  if (before_connect && p.mss > 0 && ::setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &p.mss, sizeof p.mss) != 0)
    return core::os_error("unable to set TCP/SCTP MSS");
  int one = 1;
  if (p.nodelay && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    return core::os_error("unable to set TCP/SCTP NODELAY");
  if (!p.congestion.empty() &&
      ::setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, p.congestion.c_str(), socklen_t(p.congestion.size())) != 0)
    return core::os_error("unable to set TCP_CONGESTION: Supplied congestion control algorithm not supported on this host");
  return {};
}

void endpoints(int fd, IpAddr& local, uint16_t& lport, IpAddr& remote, uint16_t& rport) {
  sockaddr_storage ss{};
  socklen_t l = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &l) == 0)
    if (auto e = core::Endpoint::from_sockaddr(ss, l)) { local = e->addr.unmapped(); lport = e->port; }
  l = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &l) == 0)
    if (auto e = core::Endpoint::from_sockaddr(ss, l)) { remote = e->addr.unmapped(); rport = e->port; }
}

// Nonblocking connect with a timeout (ms, < 0: the kernel's). Returns 0 or errno.
int connect_timeout(int fd, const IpAddr& a, uint16_t port, int timeout_ms) {
  sockaddr_storage ss{};
  socklen_t len = a.to_sockaddr(port, ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  pollfd p{fd, POLLOUT, 0};
  int r;
  do r = ::poll(&p, 1, timeout_ms); while (r < 0 && errno == EINTR);
  if (r == 0) return ETIMEDOUT;
  int v = 0;
  socklen_t vl = sizeof v;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &v, &vl);
  return v;
}

std::string iso_time_now(time_t* secs) {
  time_t t = ::time(nullptr);
  if (secs) *secs = t;
  tm g{};
  ::gmtime_r(&t, &g);
  char b[64];
  std::strftime(b, sizeof b, "%a, %d %b %Y %H:%M:%S GMT", &g);
  return b;
}

std::string system_info() {
  utsname u{};
  if (::uname(&u) != 0) return {};
  return std::string(u.sysname) + " " + u.nodename + " " + u.release + " " + u.version + " " + u.machine;
}
void fill_start_json(Test& t, const std::string& host, uint16_t port) {
  time_t secs = 0;
  t.jstart_["version"] = std::string("netshoot perf ") + NETSHOOT_VERSION + " (iperf 3.12 protocol)";
  t.jstart_["system_info"] = system_info();
  Json ts;
  ts["time"] = iso_time_now(&secs);
  ts["timesecs"] = int64_t(secs);
  t.jstart_["timestamp"] = ts;
  if (!host.empty()) {
    Json c;
    c["host"] = host;
    c["port"] = port;
    t.jstart_["connecting_to"] = c;
  }
}

void print_error(const Options& o, const std::string& msg) {
  std::fprintf(stderr, "iperf3: error - %s\n", msg.c_str());
}

}  // namespace netshoot::applet::perf

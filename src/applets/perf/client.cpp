// perf: the client side of an iperf3-protocol test: connect, the parameter
// exchange, the streams, the data phase, the results exchange.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine.h"
#include "netshoot/resolver.h"
#include "session.h"

namespace netshoot::applet::perf {
namespace {

core::Result<IpAddr> resolve_target(const Options& o) {
  if (auto a = IpAddr::try_parse(o.host)) {
    if (o.family != AF_UNSPEC && a->family() != o.family)
      return core::make_error("unable to resolve host " + o.host);
    return *a;
  }
  core::dns::ResolverConfig cfg;
  auto r = core::dns::resolve_host(o.host, o.family, cfg);
  if (!r || r->empty())
    return core::make_error("unable to connect to server: Name or service not known");
  return (*r)[0].addr;
}

core::Result<UniqueFd> open_connected(const Options& o, const IpAddr& addr, int type, const TestParams* p,
                                      int timeout_ms) {
  int fd = ::socket(addr.family(), type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return core::os_error("socket");
  UniqueFd u(fd);
  int one = 1;
  if (!o.bind.empty()) {
    auto b = IpAddr::try_parse(o.bind);
    if (!b) return core::make_error("unable to resolve bind address " + o.bind);
    sockaddr_storage ss{};
    socklen_t len = b->to_sockaddr(0, ss);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return core::os_error("unable to bind");
  }
  if (p) {
    if (auto st = apply_socket_options(fd, *p, true); !st) return st.error();
  }
  int e = connect_timeout(fd, addr, o.port, timeout_ms);
  if (e) {
    errno = e;
    return core::Error{e, "", ""};
  }
  return u;
}

int client_fail(Test& t, const std::string& msg) {
  t.error_ = msg;
  if (t.json_) t.print_json(Json());
  else t.flush();
  print_error(t.o_, msg);
  return 1;
}

}  // namespace

int run_client(const Options& o) {
  auto loop_r = EventLoop::create();
  if (!loop_r) {
    print_error(o, loop_r.error().message());
    return 1;
  }
  EventLoop& loop = **loop_r;
  Test t(false, o, loop);
  fill_start_json(t, o.host, o.port);

  auto addr = resolve_target(o);
  if (!addr) return client_fail(t, addr.error().context);
  t.emit("Connecting to host " + o.host + ", port " + std::to_string(o.port));
  if (o.reverse) t.emit("Reverse mode, remote host " + o.host + " is sending");
  t.flush();

  int ct = o.connect_timeout_ms > 0 ? o.connect_timeout_ms : 60000;
  auto cfd = open_connected(o, *addr, SOCK_STREAM, nullptr, ct);
  if (!cfd) return client_fail(t, "unable to connect to server: " + errno_text(cfd.error().code));
  t.ctl_.fd = std::move(*cfd);
  t.ctl_.nodelay();
  t.cookie_ = make_cookie();
  t.jstart_["cookie"] = t.cookie_.substr(0, kCookieSize - 1);
  if (!t.ctl_.send_all(t.cookie_.data(), kCookieSize))
    return client_fail(t, "unable to send cookie to server: " + errno_text(errno));

  // MSS of the control connection: the default UDP datagram size, as iperf3's.
  int mss = 0;
  socklen_t ml = sizeof mss;
  if (::getsockopt(t.ctl_.fd.get(), IPPROTO_TCP, TCP_MAXSEG, &mss, &ml) != 0 || mss <= 0) mss = 1460;
  t.jstart_["tcp_mss_default"] = mss;

  TestParams& p = t.p_;
  p.udp = o.udp;
  p.omit = o.omit;
  p.time = (o.bytes || o.blocks) ? 0 : o.time;
  p.num = o.bytes;
  p.blockcount = o.blocks;
  p.parallel = o.parallel;
  p.reverse = o.reverse;
  p.bidirectional = o.bidir;
  p.len = o.len > 0 ? o.len : (o.udp ? std::min(mss, 65507) : kDefaultTcpLen);
  p.window = o.window;
  p.bandwidth = o.rate ? uint64_t(*o.rate) : (o.udp ? 1000000 : 0);
  p.mss = o.mss;
  p.nodelay = o.nodelay;
  p.congestion = o.congestion;
  p.title = o.title;
  p.get_server_output = o.get_server_output;
  p.udp_counters_64bit = o.udp64;
  p.zerocopy = o.zerocopy;
  t.jstart_["target_bitrate"] = p.bandwidth;
  t.jstart_["sock_bufsize"] = p.window;

  // interrupt: report what we have, tell the server
  bool interrupted = false;
  auto on_signal = [&](const signalfd_siginfo&) {
    interrupted = true;
    t.interrupted_ = true;
    t.stop_data();
    t.ctl_.send_state(kClientTerminate);
    t.finish_loop();
    loop.stop();
  };
  (void)loop.add_signal(SIGINT, on_signal);
  (void)loop.add_signal(SIGTERM, on_signal);
  (void)loop.add_signal(SIGHUP, on_signal);
  // sendfile() (-Z) has no MSG_NOSIGNAL: a peer gone mid-test must be an error, not a kill
  (void)loop.add_signal(SIGPIPE, [](const signalfd_siginfo&) {});
  auto check_signal = [&] {
    (void)loop.run_once(std::chrono::milliseconds(0));
    return interrupted;
  };

  // PARAM_EXCHANGE ... CREATE_STREAMS ... TEST_START ... TEST_RUNNING
  bool streams_made = false;
  for (;;) {
    auto st = t.ctl_.state(o.rcv_timeout_ms);
    if (check_signal()) break;
    if (!st) return client_fail(t, st.error().context);
    int8_t s = *st;
    if (s == kParamExchange) {
      if (!t.ctl_.send_json(encode_params(p)))
        return client_fail(t, "unable to send parameters to server: " + errno_text(errno));
    } else if (s == kCreateStreams) {
      t.prepare_buffers();
      int n = p.bidirectional ? 2 * p.parallel : p.parallel;
      for (int i = 0; i < n; ++i) {
        bool sender = p.bidirectional ? i < p.parallel : !p.reverse;
        auto fd = open_connected(o, *addr, p.udp ? SOCK_DGRAM : SOCK_STREAM, &p, ct);
        if (!fd) {
          if (fd.error().code) return client_fail(t, "unable to create a new stream: " + errno_text(fd.error().code));
          return client_fail(t, fd.error().message());
        }
        if (!p.udp) {
          Control c;
          c.fd = std::move(*fd);
          if (!c.send_all(t.cookie_.data(), kCookieSize))
            return client_fail(t, "unable to send cookie to server: " + errno_text(errno));
          fd = std::move(c.fd);
        } else {
          // "9876" until "6789" comes back (a retry every second, 10 s in all)
          bool ok = false;
          for (int tries = 0; tries < 10 && !ok; ++tries) {
            if (::send(fd->get(), kUdpConnectMsg.data(), 4, 0) != 4) {
              return client_fail(t, "unable to write to stream socket: " + errno_text(errno));
            }
            pollfd pf{fd->get(), POLLIN, 0};
            double until = mono() + 1.0;
            while (!ok && mono() < until) {
              if (::poll(&pf, 1, 100) <= 0) continue;
              uint8_t b[16];
              ssize_t r = ::recv(fd->get(), b, sizeof b, MSG_DONTWAIT);
              if (r < 0 && errno == ECONNREFUSED)
                return client_fail(t, "unable to read from stream socket: Connection refused");
              uint32_t legacy = kUdpLegacyReply;
              if (r == 4 && (std::memcmp(b, kUdpConnectReply.data(), 4) == 0 || std::memcmp(b, &legacy, 4) == 0))
                ok = true;
            }
          }
          if (!ok) return client_fail(t, "unable to read from stream socket: no reply to the UDP stream handshake");
        }
        t.add_stream(std::move(*fd), sender);
      }
      streams_made = true;
    } else if (s == kTestStart) {
      if (!streams_made) return client_fail(t, "the server started the test before the streams existed");
    } else if (s == kTestRunning) {
      break;
    } else if (s == kAccessDenied) {
      return client_fail(t, "the server is busy running a test. try again later");
    } else if (s == kServerError) {
      t.ctl_.pump();
      auto codes = t.ctl_.rd.take_error_codes();
      return client_fail(t, codes ? "the server reported an error (iperf3 error " + std::to_string(codes->first) + ")"
                                  : "the server reported an error");
    } else if (s == kServerTerminate) {
      return client_fail(t, "the server has terminated");
    } else {
      return client_fail(t, std::string("unexpected control message ") + std::to_string(int(s)));
    }
  }
  if (interrupted) {
    t.ctl_.send_state(kClientTerminate);
    std::fprintf(stderr, "iperf3: interrupt - the client has terminated\n");
    return 1;
  }

  if (!t.streams_.empty()) {
    int sb = 0, rb = 0;
    socklen_t l = sizeof sb;
    ::getsockopt(t.streams_[0]->fd.get(), SOL_SOCKET, SO_SNDBUF, &sb, &l);
    l = sizeof rb;
    ::getsockopt(t.streams_[0]->fd.get(), SOL_SOCKET, SO_RCVBUF, &rb, &l);
    t.jstart_["sndbuf_actual"] = sb;
    t.jstart_["rcvbuf_actual"] = rb;
  }
  t.jstart_["test_start"] = t.test_start_json();
  t.print_connected();
  t.print_start();
  t.print_interval_header();
  t.flush();

  t.start_data([&] { loop.stop(); });
  (void)loop.run();

  if (interrupted) {
    Json end = t.summary(nullptr);
    if (t.json_) t.print_json(end);
    t.flush();
    std::fprintf(stderr, "iperf3: interrupt - the client has terminated\n");
    return 1;
  }
  if (!t.error_.empty()) {
    if (t.peer_terminated_) {
      Json end = t.summary(nullptr);
      if (t.json_) { t.print_json(end); }
      print_error(o, t.error_);
      return 1;
    }
    return client_fail(t, t.error_);
  }
  // EXCHANGE_RESULTS: ours first, then the server's
  if (!t.ctl_.send_json(encode_results(t.local_results())))
    return client_fail(t, "unable to send results to server: " + errno_text(errno));
  auto rj = t.ctl_.json(kSetupTimeoutMs);
  if (!rj) return client_fail(t, rj.error().context);
  auto peer = decode_results(*rj);
  if (!peer) return client_fail(t, "unable to receive results: " + peer.error().context);
  auto ds = t.ctl_.state(kSetupTimeoutMs);
  if (!ds) return client_fail(t, ds.error().context);
  if (*ds != kDisplayResults) return client_fail(t, std::string("unexpected control message ") + std::to_string(int(*ds)));
  Json end = t.summary(&*peer);
  t.ctl_.send_state(kIperfDone);
  if (t.json_) {
    if (!peer->server_output_text.empty()) {
      // iperf3 puts the server's text into "server_output_text" at the top level
    }
    Json doc_end = end;
    t.print_json(doc_end);
  } else {
    if (!peer->server_output_text.empty()) {
      t.emit("");
      t.emit("Server output:");
      std::fputs(peer->server_output_text.c_str(), stdout);
    }
    t.emit("");
    t.emit("iperf Done.");
  }
  t.flush();
  return 0;
}

}  // namespace netshoot::applet::perf

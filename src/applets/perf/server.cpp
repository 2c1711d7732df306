// perf: the server side of iperf3-protocol tests, several at once.
//
// iperf3's server runs one test and answers everyone else ACCESS_DENIED ("the server
// is busy"). Ours runs a test per client: the main thread owns the listener, reads
// the 37-byte cookie of every connection, and routes it by that cookie — a cookie it
// has not seen starts a new test (a thread with its own event loop), a known one is
// a stream connection of that test and is handed to it. UDP streams have no cookie:
// one test at a time binds the port and takes its handshakes (the connected sockets
// that result take their own flow, the kernel preferring them to the unbound one).
// With -1 the first test is the only one; others are denied as by iperf3.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>

#include "engine.h"
#include "netshoot/socket.h"
#include "session.h"

namespace netshoot::applet::perf {
namespace {

// One test as the dispatcher sees it.
struct Slot {
  std::string cookie;
  int number = 0;
  std::string tag;  // "[#3] " when the test overlaps another, so its lines can be told apart
  std::mutex mu;
  std::condition_variable cv;
  std::deque<UniqueFd> streams;  // stream connections whose cookie matched, not yet taken
  std::atomic<bool> done{false};
  std::thread thread;
};

// A connection whose cookie is still arriving.
struct Knock {
  UniqueFd fd;
  std::string buf;
  double deadline = 0;
  IpAddr peer;
};

struct Server {
  Options o;
  UniqueFd listener;
  int family = AF_INET6;
  IpAddr bind_addr;
  std::atomic<bool> stop{false};
  std::atomic<int> exit_code{0};
  std::mutex mu;                       // slots
  std::list<std::shared_ptr<Slot>> slots;
  std::mutex udp_setup;                // one test at a time owns the unbound UDP port
  int test_no = 1;                     // the next test's number
  int started = 0;

  explicit Server(const Options& opt) : o(opt) {}

  core::Status listen_tcp() {
    IpAddr a;
    if (!o.bind.empty()) {
      auto b = IpAddr::try_parse(o.bind);
      if (!b) return core::make_error("unable to start listener for connections: bad bind address");
      a = *b;
    } else {
      a = IpAddr::any(o.family == AF_INET ? AF_INET : AF_INET6);
    }
    bind_addr = a;
    family = a.family();
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 && family == AF_INET6 && o.bind.empty()) {  // no IPv6 here
      a = IpAddr::any(AF_INET);
      bind_addr = a;
      family = AF_INET;
      fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    }
    if (fd < 0) return core::os_error("unable to start listener for connections");
    listener.reset(fd);
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (family == AF_INET6)
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, o.family == AF_INET6 ? &one : &zero, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = a.to_sockaddr(o.port, ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 128) != 0)
      return core::os_error("unable to start listener for connections");
    return {};
  }

  void banner() {
    if (o.json) return;
    std::printf("-----------------------------------------------------------\n"
                "Server listening on %u (test #%d)\n"
                "-----------------------------------------------------------\n",
                unsigned(o.port), test_no);
    std::fflush(stdout);
  }

  static void deny(int fd) {
    int8_t s = kAccessDenied;
    (void)::send(fd, &s, 1, MSG_NOSIGNAL);
  }

  // A whole cookie arrived on a new connection: a stream of a running test, or a new test.
  void route(Knock& k) {
    std::lock_guard lk(mu);
    for (auto& s : slots) {
      if (s->cookie != k.buf || s->done) continue;
      std::lock_guard sl(s->mu);
      s->streams.push_back(std::move(k.fd));
      s->cv.notify_all();
      return;
    }
    if (stop || (o.one_off && started > 0)) {
      deny(k.fd.get());  // -1: one test only, the others hear "busy" as from iperf3
      return;
    }
    auto s = std::make_shared<Slot>();
    s->cookie = k.buf;
    s->number = test_no++;
    ++started;
    bool overlaps = false;
    for (auto& o2 : slots) overlaps |= !o2->done;
    if (overlaps) s->tag = "[#" + std::to_string(s->number) + "] ";
    slots.push_back(s);
    s->thread = std::thread([this, s, fd = std::move(k.fd)]() mutable {
      serve(*s, std::move(fd));
      s->done = true;
    });
  }

  // Waits for the next stream connection routed to `s`.
  UniqueFd take_stream(Slot& s, double until) {
    std::unique_lock lk(s.mu);
    while (s.streams.empty() && !stop && mono() < until)
      s.cv.wait_for(lk, std::chrono::milliseconds(100));
    if (s.streams.empty()) return {};
    UniqueFd fd = std::move(s.streams.front());
    s.streams.pop_front();
    return fd;
  }

  // One client, start to end, on this thread. Problems end this test only.
  void serve(Slot& slot, UniqueFd cfd) {
    auto loop_r = EventLoop::create();
    if (!loop_r) {
      std::fprintf(stderr, "iperf3: error - %s\n", loop_r.error().message().c_str());
      exit_code = 1;
      return;
    }
    EventLoop& loop = **loop_r;
    Test t(true, o, loop);
    t.title_ = slot.tag + t.title_;
    t.ctl_.fd = std::move(cfd);
    t.ctl_.abort = &stop;
    t.ctl_.nodelay();
    (void)core::set_nonblocking(t.ctl_.fd.get());
    IpAddr peer;
    uint16_t pport = 0, lport = 0;
    IpAddr local;
    endpoints(t.ctl_.fd.get(), local, lport, peer, pport);
    fill_start_json(t, "", 0);

    auto err = [&](const std::string& m) {
      t.error_ = m;
      if (t.json_) t.print_json(Json());
      std::fflush(stdout);
      std::fprintf(stderr, "iperf3: error - %s%s\n", slot.tag.c_str(), m.c_str());
      exit_code = 1;
    };
    t.cookie_ = slot.cookie;
    t.jstart_["cookie"] = t.cookie_.substr(0, kCookieSize - 1);
    t.emit("Accepted connection from " + peer.to_string() + ", port " + std::to_string(pport));
    Json acc;
    acc["host"] = peer.to_string();
    acc["port"] = pport;
    t.jstart_["accepted_connection"] = acc;
    t.flush();
    if (!t.ctl_.send_state(kParamExchange)) return err("unable to send control message: " + errno_text(errno));
    auto pj = t.ctl_.json(kSetupTimeoutMs);
    if (!pj) return err(pj.error().context);
    auto params = decode_params(*pj);
    if (!params) {
      int8_t e = kServerError;
      uint32_t codes[2] = {htonl(1), 0};
      t.ctl_.send_state(e);
      t.ctl_.send_all(codes, sizeof codes);
      return err("received an invalid parameter block: " + params.error().context);
    }
    t.p_ = *params;
    t.copy_text_ = t.p_.get_server_output;
    TestParams& p = t.p_;
    t.prepare_buffers();
    int n = p.bidirectional ? 2 * p.parallel : p.parallel;

    // UDP: the first socket must be bound before the client is told to connect
    auto udp_socket = [&]() -> UniqueFd {
      int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return {};
      UniqueFd u(fd);
      int one = 1, zero = 0;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (family == AF_INET6)
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, o.family == AF_INET6 ? &one : &zero, sizeof one);
      if (p.window > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &p.window, sizeof p.window);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &p.window, sizeof p.window);
      } else {
        int big = 4 << 20;  // keep bursts of small datagrams
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
      }
      sockaddr_storage ss{};
      socklen_t len = bind_addr.to_sockaddr(o.port, ss);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return {};
      return u;
    };
    std::unique_lock<std::mutex> udp_lock(udp_setup, std::defer_lock);
    UniqueFd next_udp;
    if (p.udp) {
      // another test's handshakes first (it holds the port for at most its setup)
      while (!udp_lock.try_lock()) {
        if (stop) return;
        t.ctl_.pump();
        if (t.ctl_.eof) return err("control socket has closed unexpectedly");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      next_udp = udp_socket();
      if (!next_udp) return err("unable to create a new stream: " + errno_text(errno));
    }
    if (!t.ctl_.send_state(kCreateStreams)) return err("unable to send control message: " + errno_text(errno));
    for (int i = 0; i < n; ++i) {
      // client's sender streams are our receivers
      bool client_sender = p.bidirectional ? i < p.parallel : !p.reverse;
      if (!p.udp) {
        UniqueFd s = take_stream(slot, mono() + kSetupTimeoutMs / 1000.0);
        if (stop) return;
        if (!s) return err("unable to accept stream connection: timed out");
        (void)apply_socket_options(s.get(), p, false);
        t.add_stream(std::move(s), !client_sender);
      } else {
        UniqueFd u = std::move(next_udp);
        pollfd pf{u.get(), POLLIN, 0};
        int r = 0;
        for (double until = mono() + kSetupTimeoutMs / 1000.0; r == 0 && !stop && mono() < until;)
          r = ::poll(&pf, 1, 200);
        if (stop) return;
        if (r <= 0) return err("unable to receive the UDP stream handshake: timed out");
        uint8_t b[64];
        sockaddr_storage from{};
        socklen_t fl = sizeof from;
        ssize_t got = ::recvfrom(u.get(), b, sizeof b, 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (got < 0) return err("unable to read from stream socket: " + errno_text(errno));
        if (::connect(u.get(), reinterpret_cast<sockaddr*>(&from), fl) != 0)
          return err("unable to connect stream socket: " + errno_text(errno));
        if (i + 1 < n) {
          next_udp = udp_socket();
          if (!next_udp) return err("unable to create a new stream: " + errno_text(errno));
        }
        if (::send(u.get(), kUdpConnectReply.data(), 4, 0) != 4)
          return err("unable to write to stream socket: " + errno_text(errno));
        t.add_stream(std::move(u), !client_sender);
      }
    }
    if (udp_lock.owns_lock()) udp_lock.unlock();
    t.jstart_["test_start"] = t.test_start_json();
    t.print_connected();
    t.print_start();
    t.flush();
    if (!t.ctl_.send_state(kTestStart) || !t.ctl_.send_state(kTestRunning))
      return err("unable to send control message: " + errno_text(errno));
    t.print_interval_header();

    bool done = false;
    t.start_data([&] { done = true; });
    while (!done && !stop) (void)loop.run_once(std::chrono::milliseconds(200));
    if (stop) {
      t.stop_data();
      t.ctl_.send_state(kServerTerminate);
      t.detach();
      return;
    }
    if (!t.error_.empty()) {
      if (t.peer_terminated_) {
        t.summary(nullptr);
        t.flush();
        std::fprintf(stderr, "iperf3: %sthe client has terminated\n", slot.tag.c_str());
        return;
      }
      return err(t.error_);
    }
    t.stop_data();
    if (!t.ctl_.send_state(kExchangeResults)) return err("unable to send control message: " + errno_text(errno));
    auto cj = t.ctl_.json(kSetupTimeoutMs);
    if (!cj) return err(cj.error().context);
    auto peer_res = decode_results(*cj);
    if (!peer_res) return err("unable to receive results: " + peer_res.error().context);
    // the summary goes into our results when the client wants our output
    Json end = t.summary(&*peer_res);
    Results mine = t.local_results();
    if (p.get_server_output) mine.server_output_text = t.text_copy_;
    if (!t.ctl_.send_json(encode_results(mine))) return err("unable to send results: " + errno_text(errno));
    if (!t.ctl_.send_state(kDisplayResults)) return err("unable to send control message: " + errno_text(errno));
    auto d = t.ctl_.state(kSetupTimeoutMs);  // IPERF_DONE (or the client just closing)
    (void)d;
    if (t.json_) t.print_json(end);
    t.flush();
  }

  // Joins finished tests; true when one finished and none is left running.
  bool reap() {
    std::list<std::shared_ptr<Slot>> finished;
    bool idle;
    {
      std::lock_guard lk(mu);
      for (auto it = slots.begin(); it != slots.end();) {
        if ((*it)->done) {
          finished.push_back(*it);
          it = slots.erase(it);
        } else {
          ++it;
        }
      }
      idle = slots.empty();
    }
    for (auto& s : finished) s->thread.join();
    return !finished.empty() && idle;
  }

  void join_all() {
    std::list<std::shared_ptr<Slot>> all;
    {
      std::lock_guard lk(mu);
      all.swap(slots);
    }
    for (auto& s : all) {
      s->cv.notify_all();
      s->thread.join();
    }
  }
};

}  // namespace

int run_server(const Options& o) {
  auto loop_r = EventLoop::create();
  if (!loop_r) {
    print_error(o, loop_r.error().message());
    return 1;
  }
  EventLoop& loop = **loop_r;
  Server srv(o);
  if (auto st = srv.listen_tcp(); !st) {
    print_error(o, st.error().message());
    return 1;
  }
  // Signals are routed to this thread's loop before any test thread exists, so
  // those threads inherit the blocked mask and never see them.
  bool got_signal = false;
  auto on_signal = [&](const signalfd_siginfo&) {
    got_signal = true;
    srv.stop = true;
  };
  (void)loop.add_signal(SIGINT, on_signal);
  (void)loop.add_signal(SIGTERM, on_signal);
  (void)loop.add_signal(SIGHUP, on_signal);
  (void)loop.add_signal(SIGPIPE, [](const signalfd_siginfo&) {});

  std::list<std::unique_ptr<Knock>> knocks;
  auto drop = [&](Knock* k, bool complain) {
    if (complain) {
      std::fflush(stdout);
      std::fprintf(stderr, "iperf3: error - unable to receive cookie at server (from %s)\n",
                   k->peer.to_string().c_str());
      srv.exit_code = 1;
    }
    if (loop.has_fd(k->fd.get())) (void)loop.remove_fd(k->fd.get());
    knocks.remove_if([k](const std::unique_ptr<Knock>& x) { return x.get() == k; });
  };
  auto on_knock = [&](Knock* k) {
    char b[kCookieSize];
    for (;;) {
      ssize_t r = ::recv(k->fd.get(), b, kCookieSize - k->buf.size(), MSG_DONTWAIT);
      if (r > 0) {
        k->buf.append(b, size_t(r));
        if (k->buf.size() < kCookieSize) continue;
        if (!valid_cookie({reinterpret_cast<const uint8_t*>(k->buf.data()), k->buf.size()}))
          return drop(k, true);
        (void)loop.remove_fd(k->fd.get());
        srv.route(*k);
        return drop(k, false);
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && errno == EAGAIN) return;
      return drop(k, true);  // closed (or reset) before the whole cookie
    }
  };
  (void)loop.add_fd(srv.listener.get(), EPOLLIN, [&](uint32_t) {
    for (int i = 0; i < 64; ++i) {
      int c = ::accept4(srv.listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c < 0) return;
      auto k = std::make_unique<Knock>();
      k->fd.reset(c);
      k->deadline = mono() + kSetupTimeoutMs / 1000.0;
      IpAddr local;
      uint16_t lp = 0, pp = 0;
      endpoints(c, local, lp, k->peer, pp);
      Knock* kp = k.get();
      knocks.push_back(std::move(k));
      (void)loop.add_fd(c, EPOLLIN, [&, kp](uint32_t) { on_knock(kp); });
    }
  });
  (void)loop.add_periodic(std::chrono::milliseconds(500), [&] {
    double now = mono();
    std::vector<Knock*> late;
    for (auto& k : knocks)
      if (now > k->deadline) late.push_back(k.get());
    for (auto* k : late) drop(k, true);
  });

  srv.banner();
  while (!srv.stop) {
    (void)loop.run_once(std::chrono::milliseconds(200));
    if (srv.stop) break;
    if (srv.reap()) {
      if (o.one_off) break;
      srv.banner();
    }
  }
  srv.join_all();
  if (got_signal) {
    std::fflush(stdout);
    std::fprintf(stderr, "iperf3: interrupt - the server has terminated\n");
    return 1;
  }
  return srv.exit_code;
}

}  // namespace netshoot::applet::perf

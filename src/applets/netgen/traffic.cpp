// `netgen HOST PORT`: a listener on PORT plus a sender to every address HOST
// resolves to. Messages carry a sender id, a sequence number and the send time;
// the listener keeps per-sender counts (received, lost, duplicated, reordered)
// and the one-way delay. UDP by default (sendmmsg/recvmmsg batches at high
// rates), --tcp for one framed stream per target.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

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

using core::IpAddr;
using core::Json;
using core::UniqueFd;
using Clock = std::chrono::steady_clock;


int64_t realtime_ns() { return core::timespec_ns(core::realtime_now()); }

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr size_t kBatch = 64;

struct Target {
  IpAddr addr;
  UniqueFd fd;
  uint64_t seq = 0;     // next sequence number
  uint64_t sent = 0;    // messages handed to the kernel
  uint64_t errors = 0;  // messages that could not be sent (failed sends, no connection)
  uint64_t refused = 0; // ICMP port unreachable reports (UDP): nobody listened at the time
  bool connecting = false, connected = false;
  std::vector<uint8_t> pending;  // TCP: bytes of a message not yet written
  std::string last_error;
};

struct Peer {
  IpAddr from;
  uint16_t port = 0;
  uint32_t sender = 0;
  SequenceTracker seq;
  DelayStats delay;
  uint64_t bytes = 0;
};

struct TcpConn {
  UniqueFd fd;
  IpAddr from;
  uint16_t port = 0;
  std::vector<uint8_t> buf;
};

// Closes a connection at the end of a read when the peer has gone.
struct ScopeExitClose {
  TcpConn& c;
  bool closed;
  ~ScopeExitClose() {
    if (closed) c.fd.reset();
  }
};

class Traffic {
 public:
  Traffic(Context& ctx, const TrafficOptions& o) : ctx_(ctx), o_(o), out_(core::Output::make(ctx.json)) {}
  int run();

 private:
  bool per_message() const {
    if (o_.quiet) return false;
    if (o_.verbose) return true;
    return !o_.rate && o_.interval_s >= 0.05;
  }
  core::Status open_listener();
  core::Status resolve_targets();
  void open_target(Target& t);
  void send_due(double elapsed, bool flood);
  void send_udp(Target& t, uint64_t n);
  void send_tcp(Target& t, uint64_t n);
  bool flush_tcp(Target& t);
  void sent_line(const Target& t, uint64_t n);
  void read_udp();
  void accept_tcp();
  void read_tcp(TcpConn& c);
  void on_message(const MessageHeader& h, const IpAddr& from, uint16_t port, size_t len, int64_t now_ns);
  void summary();
  bool all_sent() const {
    if (targets_.empty()) return o_.host.empty();
    for (auto& t : targets_)
      if (o_.count == 0 || t.seq < o_.count || !t.pending.empty()) return false;
    return true;
  }

  Context& ctx_;
  TrafficOptions o_;
  std::unique_ptr<core::Output> out_;
  UniqueFd listen_fd_;
  int listen_family_ = AF_INET6;
  std::vector<TcpConn> conns_;
  std::vector<Target> targets_;
  std::vector<std::string> target_names_;
  std::map<std::tuple<IpAddr, uint32_t>, Peer> peers_;
  uint32_t sender_id_ = 0;
  std::vector<uint8_t> msgs_;  // kBatch messages of o_.size bytes
  Clock::time_point t0_;
  uint64_t foreign_ = 0;       // datagrams that were not netgen messages
};

core::Status Traffic::open_listener() {
  int type = o_.tcp ? SOCK_STREAM : SOCK_DGRAM;
  for (int fam : {AF_INET6, AF_INET}) {
    if (o_.family && fam != o_.family) continue;
    int fd = ::socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    UniqueFd u(fd);
    int one = 1, zero = 0;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fam == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, o_.family == AF_INET6 ? &one : &zero, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = IpAddr::any(fam).to_sockaddr(o_.port, ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      if (errno == EADDRINUSE) return core::os_error("bind to port " + std::to_string(o_.port));
      continue;
    }
    if (o_.tcp && ::listen(fd, 128) != 0) return core::os_error("listen");
    if (!o_.tcp) (void)core::set_recv_buffer(fd, 8 << 20);
    listen_fd_ = std::move(u);
    listen_family_ = fam;
    return {};
  }
  return core::os_error("listen on port " + std::to_string(o_.port));
}

core::Status Traffic::resolve_targets() {
  std::vector<IpAddr> addrs;
  if (auto a = IpAddr::try_parse(o_.host)) {
    if (o_.family && a->family() != o_.family) return core::make_error(o_.host + ": Address family for hostname not supported");
    addrs.push_back(*a);
  } else {
    auto r = core::dns::resolve_host(o_.host, o_.family ? o_.family : AF_UNSPEC);
    if (!r) return r.error();
    for (auto& x : *r)
      if (std::find(addrs.begin(), addrs.end(), x.addr) == addrs.end()) addrs.push_back(x.addr);
    // Without -6, a name with IPv4 addresses is reached over IPv4 only (as the seed did with nc).
    if (!o_.family && std::any_of(addrs.begin(), addrs.end(), [](auto& a) { return a.is_v4(); }))
      std::erase_if(addrs, [](auto& a) { return a.is_v6(); });
  }
  if (addrs.empty()) return core::make_error(o_.host + ": No address associated with hostname");
  for (auto& a : addrs) {
    Target t;
    t.addr = a;
    targets_.push_back(std::move(t));
  }
  return {};
}

void Traffic::open_target(Target& t) {
  int fd = ::socket(t.addr.family(), (o_.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    t.last_error = std::strerror(errno);
    return;
  }
  t.fd.reset(fd);
  if (!o_.tcp) (void)core::set_send_buffer(fd, 4 << 20);
  else {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  sockaddr_storage ss{};
  socklen_t len = t.addr.to_sockaddr(o_.port, ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    t.connected = true;
  } else if (errno == EINPROGRESS) {
    t.connecting = true;
  } else {
    t.last_error = std::strerror(errno);
    t.fd.reset();
  }
}

void Traffic::sent_line(const Target& t, uint64_t n) {
  if (!per_message() || n == 0) return;
  std::string where = o_.host + ":" + std::to_string(o_.port);
  std::string text = fmt::format("Sent {} messages to {}", t.sent, where);
  if (targets_.size() > 1 || o_.host != t.addr.to_string()) text += " (" + t.addr.to_string() + ")";
  out_->record("sent", Json{{"target", o_.host}, {"address", t.addr.to_string()}, {"port", o_.port},
                            {"seq", t.seq - 1}, {"sent", t.sent}},
               text);
}

void Traffic::send_udp(Target& t, uint64_t n) {
  if (!t.fd) open_target(t);
  if (!t.fd) return;
  while (n > 0) {
    size_t k = size_t(std::min<uint64_t>(n, kBatch));
    mmsghdr mm[kBatch];
    iovec iov[kBatch];
    int64_t now = realtime_ns();
    for (size_t i = 0; i < k; ++i) {
      uint8_t* m = msgs_.data() + i * o_.size;
      restamp_message(m, t.seq + i, now);
      iov[i] = {m, o_.size};
      mm[i] = {};
      mm[i].msg_hdr.msg_iov = &iov[i];
      mm[i].msg_hdr.msg_iovlen = 1;
    }
    int r = ::sendmmsg(t.fd.get(), mm, unsigned(k), MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EAGAIN || errno == ENOBUFS) return;  // the socket buffer is full: later
      // ECONNREFUSED reports an ICMP port unreachable for an earlier message (nobody was
      // listening yet); reading it clears it, and this batch goes out on the retry.
      if (errno == EINTR || errno == ECONNREFUSED) {
        if (errno == ECONNREFUSED) ++t.refused;
        continue;
      }
      ++t.errors;
      t.last_error = std::strerror(errno);
      return;
    }
    t.seq += uint64_t(r);
    t.sent += uint64_t(r);
    n -= uint64_t(r);
    if (size_t(r) < k) return;
  }
}

bool Traffic::flush_tcp(Target& t) {
  while (!t.pending.empty()) {
    ssize_t w = ::send(t.fd.get(), t.pending.data(), t.pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EINTR) return false;
      ++t.errors;
      t.last_error = std::strerror(errno);
      t.fd.reset();
      t.connected = t.connecting = false;
      t.pending.clear();
      return false;
    }
    t.pending.erase(t.pending.begin(), t.pending.begin() + w);
  }
  return true;
}

void Traffic::send_tcp(Target& t, uint64_t n) {
  if (!t.fd) open_target(t);
  if (!t.fd || !t.connected) return;
  while (n > 0 && flush_tcp(t)) {
    uint8_t* m = msgs_.data();
    restamp_message(m, t.seq, realtime_ns());
    t.pending.assign(m, m + o_.size);
    ++t.seq;
    ++t.sent;
    --n;
  }
  flush_tcp(t);
}

void Traffic::send_due(double elapsed, bool flood) {
  for (auto& t : targets_) {
    if (o_.tcp && t.fd && t.connecting) continue;
    uint64_t want;
    if (flood) {
      want = kBatch * 4;
    } else {
      double per_s = o_.rate ? *o_.rate : 1.0 / o_.interval_s;
      uint64_t due = uint64_t(std::floor(elapsed * per_s)) + 1;
      want = due > t.seq ? due - t.seq : 0;
      // A sender that fell far behind (stopped, or a slow link) does not burst to catch up.
      if (want > kBatch * 16) want = kBatch * 16;
    }
    if (o_.count) want = std::min(want, o_.count > t.seq ? o_.count - t.seq : 0);
    if (want == 0) continue;
    uint64_t before = t.sent;
    if (o_.tcp) {
      if (t.connecting) continue;  // the first connect: its messages wait for it
      if (!t.connected) {
        // Not connected (refused, reset): try again; the messages of this slot are lost,
        // and the listener sees the gap in the sequence.
        if (!t.fd) open_target(t);
        if (!t.connected) {
          t.seq += want;
          t.errors += want;
          if (t.last_error.empty()) t.last_error = "not connected";
        }
      }
      if (t.connected) send_tcp(t, want);
    } else {
      send_udp(t, want);
    }
    sent_line(t, t.sent - before);
    if (per_message() && t.sent == before && !t.last_error.empty())
      out_->record("send_error", Json{{"target", o_.host}, {"address", t.addr.to_string()}, {"port", o_.port},
                                      {"error", t.last_error}},
                   fmt::format("Cannot send to {}:{} ({}): {}", o_.host, o_.port, t.addr.to_string(), t.last_error));
    t.last_error.clear();
  }
}

void Traffic::on_message(const MessageHeader& h, const IpAddr& from, uint16_t port, size_t len, int64_t now_ns) {
  IpAddr f = from.unmapped();
  auto [it, fresh] = peers_.try_emplace({f, h.sender});
  Peer& p = it->second;
  if (fresh) {
    p.from = f;
    p.port = port;
    p.sender = h.sender;
  }
  auto v = p.seq.add(h.seq);
  int64_t d = now_ns - h.sent_ns;
  p.delay.add(d);
  p.bytes += len;
  if (!per_message()) return;
  const char* note = v == SequenceTracker::Verdict::duplicate ? " DUP" : v == SequenceTracker::Verdict::reordered ? " REORDERED" : "";
  out_->record("received",
               Json{{"from", f.to_string()}, {"port", port}, {"sender", fmt::format("{:08x}", h.sender)},
                    {"seq", h.seq}, {"bytes", len}, {"delay_ms", double(d) / 1e6},
                    {"duplicate", v == SequenceTracker::Verdict::duplicate},
                    {"reordered", v == SequenceTracker::Verdict::reordered}},
               fmt::format("Received message {} from {}:{} (sender {:08x}, {} bytes, delay {:.3f} ms){}", h.seq,
                           f.to_string(), port, h.sender, len, double(d) / 1e6, note));
}

void Traffic::read_udp() {
  static thread_local std::vector<uint8_t> buf(kBatch * 2048);
  for (int round = 0; round < 64; ++round) {
    mmsghdr mm[kBatch];
    iovec iov[kBatch];
    sockaddr_storage from[kBatch];
    for (size_t i = 0; i < kBatch; ++i) {
      iov[i] = {buf.data() + i * 2048, 2048};
      mm[i] = {};
      mm[i].msg_hdr.msg_iov = &iov[i];
      mm[i].msg_hdr.msg_iovlen = 1;
      mm[i].msg_hdr.msg_name = &from[i];
      mm[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int r = ::recvmmsg(listen_fd_.get(), mm, kBatch, MSG_DONTWAIT, nullptr);
    if (r <= 0) return;
    int64_t now = realtime_ns();
    for (int i = 0; i < r; ++i) {
      MessageHeader h;
      size_t len = mm[i].msg_len;
      auto ep = core::Endpoint::from_sockaddr(from[i], mm[i].msg_hdr.msg_namelen);
      if (!ep || !decode_message({buf.data() + size_t(i) * 2048, std::min<size_t>(len, 2048)}, h)) {
        ++foreign_;
        continue;
      }
      on_message(h, ep->addr, ep->port, len, now);
    }
    if (r < int(kBatch)) return;
  }
}

void Traffic::accept_tcp() {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(listen_fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    TcpConn c;
    c.fd.reset(fd);
    if (auto ep = core::Endpoint::from_sockaddr(ss, len)) c.from = ep->addr.unmapped(), c.port = ep->port;
    conns_.push_back(std::move(c));
  }
}

void Traffic::read_tcp(TcpConn& c) {
  uint8_t tmp[65536];
  bool closed = false;
  for (;;) {
    ssize_t n = ::recv(c.fd.get(), tmp, sizeof tmp, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      closed = true;  // the messages that came with the FIN still count
      break;
    }
    if (n < 0) break;
    c.buf.insert(c.buf.end(), tmp, tmp + n);
  }
  ScopeExitClose done{c, closed};
  int64_t now = realtime_ns();
  size_t off = 0;
  while (c.buf.size() - off >= kHeaderSize) {
    MessageHeader h;
    if (!decode_message({c.buf.data() + off, c.buf.size() - off}, h)) {
      // Not our framing: count the stream as foreign and stop reading it.
      ++foreign_;
      c.fd.reset();
      return;
    }
    if (c.buf.size() - off < h.total_length) break;
    on_message(h, c.from, c.port, h.total_length, now);
    off += h.total_length;
  }
  c.buf.erase(c.buf.begin(), c.buf.begin() + long(off));
}

void Traffic::summary() {
  double secs = seconds_since(t0_);
  if (!ctx_.json) out_->text("--- netgen statistics ---");
  for (auto& t : targets_) {
    double pps = secs > 0 ? double(t.sent) / secs : 0;
    out_->record("sender_summary",
                 Json{{"target", o_.host}, {"address", t.addr.to_string()}, {"port", o_.port},
                      {"protocol", o_.tcp ? "tcp" : "udp"}, {"sent", t.sent}, {"errors", t.errors}, {"refused", t.refused},
                      {"bytes", t.sent * o_.size}, {"seconds", secs}, {"pps", pps}},
                 fmt::format("Sent {} messages to {}:{} ({}), {} errors, {:.0f} packets/s", t.sent, o_.host,
                             o_.port, t.addr.to_string(), t.errors, pps));
  }
  for (auto& [key, p] : peers_) {
    uint64_t lost = p.seq.lost();
    uint64_t expected = p.seq.received() + lost;
    double loss_pct = expected ? 100.0 * double(lost) / double(expected) : 0;
    double pps = secs > 0 ? double(p.seq.received() + p.seq.duplicates()) / secs : 0;
    Json j{{"from", p.from.to_string()}, {"port", p.port}, {"sender", fmt::format("{:08x}", p.sender)},
           {"received", p.seq.received()}, {"lost", lost}, {"loss_pct", loss_pct},
           {"duplicated", p.seq.duplicates()}, {"reordered", p.seq.reordered()},
           {"first_seq", p.seq.first_seq()}, {"last_seq", p.seq.last_seq()}, {"bytes", p.bytes},
           {"pps", pps},
           {"delay_min_ms", double(p.delay.min_ns) / 1e6}, {"delay_avg_ms", p.delay.avg_ms()},
           {"delay_max_ms", double(p.delay.max_ns) / 1e6}};
    out_->record("receiver_summary", j,
                 fmt::format("From {} (sender {:08x}): {} received, {} lost ({:.1f}%), {} duplicated, {} reordered, "
                             "one-way delay min/avg/max = {:.3f}/{:.3f}/{:.3f} ms",
                             p.from.to_string(), p.sender, p.seq.received(), lost, loss_pct, p.seq.duplicates(),
                             p.seq.reordered(), double(p.delay.min_ns) / 1e6, p.delay.avg_ms(),
                             double(p.delay.max_ns) / 1e6));
  }
  if (listen_fd_ && peers_.empty() && !ctx_.json) out_->text("No messages received");
  out_->flush();
}

int Traffic::run() {
  uint32_t id = 0;
  if (::getrandom(&id, sizeof id, 0) != sizeof id) id = uint32_t(::getpid()) * 2654435761u;
  sender_id_ = id;
  if (!o_.host.empty()) {
    if (auto s = resolve_targets(); !s) {
      std::fprintf(stderr, "netgen: %s\n", s.error().message().c_str());
      return kExitUsage;
    }
  }
  if (o_.listen) {
    if (auto s = open_listener(); !s) {
      std::fprintf(stderr, "netgen: %s\n", s.error().message().c_str());
      return kExitFailure;
    }
    out_->record("listening", Json{{"port", o_.port}, {"protocol", o_.tcp ? "tcp" : "udp"}},
                 fmt::format("Listener started on port {}", o_.port));
  }
  msgs_.resize(kBatch * o_.size);
  for (size_t i = 0; i < kBatch; ++i)
    encode_message({msgs_.data() + i * o_.size, o_.size}, MessageHeader{sender_id_, uint32_t(o_.size), 0, 0},
                   o_.pattern, o_.size);
  bool flood = o_.rate && std::isinf(*o_.rate);
  if (!targets_.empty()) {
    Json addrs = Json::array();
    for (auto& t : targets_) addrs.push_back(t.addr.to_string());
    std::string how = flood ? "as fast as possible"
                      : o_.rate ? fmt::format("at {:g} packets/s", *o_.rate)
                                : fmt::format("every {:g} seconds", o_.interval_s);
    Json j{{"target", o_.host}, {"addresses", addrs}, {"port", o_.port}, {"protocol", o_.tcp ? "tcp" : "udp"},
           {"size", o_.size}, {"sender", fmt::format("{:08x}", sender_id_)}};
    j["interval_s"] = o_.rate ? Json(nullptr) : Json(o_.interval_s);
    j["rate_pps"] = o_.rate && !flood ? Json(*o_.rate) : Json(nullptr);
    j["count"] = o_.count ? Json(o_.count) : Json(nullptr);
    out_->record("sending", j, fmt::format("Sending traffic to {} on port {} {}", o_.host, o_.port, how));
    for (auto& t : targets_) open_target(t);
  }
  out_->flush();

  StopSignals stop_signals;

  t0_ = Clock::now();
  std::optional<Clock::time_point> done_at;
  std::vector<pollfd> pfds;
  while (!g_stop) {
    double elapsed = seconds_since(t0_);
    if (o_.duration_s > 0 && elapsed >= o_.duration_s) break;
    if (!targets_.empty() && !all_sent()) send_due(elapsed, flood);
    if (!o_.listen && all_sent()) {
      if (!done_at) done_at = Clock::now();
      if (seconds_since(*done_at) >= o_.linger_s) break;
    }
    // Wait for the next send slot (or a little, to stay responsive).
    int timeout_ms = 200;
    if (flood && !all_sent()) timeout_ms = 0;
    else if (!targets_.empty() && !all_sent()) {
      double per_s = o_.rate ? *o_.rate : 1.0 / o_.interval_s;
      uint64_t min_seq = UINT64_MAX;
      for (auto& t : targets_) min_seq = std::min(min_seq, t.seq);
      double next_at = double(min_seq) / per_s;
      timeout_ms = int(std::clamp((next_at - seconds_since(t0_)) * 1000.0, 0.0, 200.0));
    }
    for (auto& t : targets_)
      if (t.connecting) timeout_ms = std::min(timeout_ms, 10);
    if (o_.duration_s > 0)
      timeout_ms = std::min(timeout_ms, int(std::max(0.0, (o_.duration_s - seconds_since(t0_)) * 1000.0)) + 1);
    pfds.clear();
    if (listen_fd_) pfds.push_back({listen_fd_.get(), POLLIN, 0});
    for (auto& c : conns_) pfds.push_back({c.fd.get(), POLLIN, 0});
    for (auto& t : targets_)
      if (o_.tcp && t.fd && (t.connecting || !t.pending.empty())) pfds.push_back({t.fd.get(), POLLOUT, 0});
    if (pfds.empty()) {
      if (timeout_ms > 0) ::poll(nullptr, 0, timeout_ms);
      continue;
    }
    int r = ::poll(pfds.data(), pfds.size(), timeout_ms);
    if (r <= 0) continue;
    size_t i = 0;
    if (listen_fd_) {
      if (pfds[i].revents & POLLIN) o_.tcp ? accept_tcp() : read_udp();
      ++i;
    }
    for (auto& c : conns_) {
      if (i < pfds.size() && pfds[i].fd == c.fd.get() && pfds[i].revents) read_tcp(c);
      ++i;
    }
    std::erase_if(conns_, [](const TcpConn& c) { return !c.fd; });
    for (auto& t : targets_) {
      if (!(o_.tcp && t.fd)) continue;
      if (t.connecting) {
        int err = 0;
        socklen_t el = sizeof err;
        pollfd p{t.fd.get(), POLLOUT, 0};
        if (::poll(&p, 1, 0) <= 0) continue;
        ::getsockopt(t.fd.get(), SOL_SOCKET, SO_ERROR, &err, &el);
        t.connecting = false;
        if (err) {
          t.last_error = std::strerror(err);
          t.fd.reset();
        } else {
          t.connected = true;
        }
      } else if (!t.pending.empty()) {
        flush_tcp(t);
      }
    }
  }
  // Drain what already arrived before the summary.
  if (listen_fd_ && !o_.tcp) read_udp();
  stop_signals.restore();
  summary();
  bool any_sent = targets_.empty();
  for (auto& t : targets_) any_sent |= t.sent > 0;
  return any_sent ? kExitOk : kExitFailure;
}

}  // namespace

int run_traffic(Context& ctx, const TrafficOptions& o) { return Traffic(ctx, o).run(); }

}  // namespace netshoot::applet::netgen

// perf: the data phase of one test on the event loop — senders write whenever
// writable (or on a pacing tick with -b), receivers read until EAGAIN, the control
// connection is watched for the peer's state changes (or its death).
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "netshoot/socket.h"
#include "session.h"

namespace netshoot::applet::perf {

bool Test::we_send_dir(int dir) const {
  if (server_) return bidir() ? dir == 1 : p_.reverse;
  return bidir() ? dir == 0 : !p_.reverse;
}

bool Test::any_sender() const {
  for (auto& s : streams_) if (s->sender) return true;
  return false;
}

bool Test::any_receiver() const {
  for (auto& s : streams_) if (!s->sender) return true;
  return false;
}

void Test::prepare_buffers() {
  sbuf_.resize(size_t(p_.len) * (p_.udp ? 32 : 1));
  std::mt19937 gen(std::random_device{}());
  for (auto& c : sbuf_) c = char(gen());
  size_t rsz = p_.udp ? size_t(std::max(p_.len, 65536)) * 32 : std::max<size_t>(size_t(p_.len), 256 * 1024);
  rbuf_.resize(rsz);
  // -Z: the block goes into a memfd once and TCP senders sendfile() from it, as
  // iperf3 -Z does: the socket takes references to those pages, no copy per write.
  zc_fd_.reset();
  if (!p_.udp && (o_.zerocopy || p_.zerocopy)) {
    UniqueFd m(::memfd_create("netshoot-perf", MFD_CLOEXEC));
    size_t done = 0;
    while (m && done < sbuf_.size()) {
      ssize_t w = ::write(m.get(), sbuf_.data() + done, sbuf_.size() - done);
      if (w <= 0) break;
      done += size_t(w);
    }
    if (m && done == sbuf_.size()) zc_fd_ = std::move(m);
    else std::fprintf(stderr, "iperf3: warning - -Z: no memfd (%s), sending with copies\n", errno_text(errno).c_str());
  }
}

ssize_t Test::send_block(Stream& s, size_t n) {
  if (zc_fd_) {
    off_t off = off_t(s.off);
    return ::sendfile(s.fd.get(), zc_fd_.get(), &off, n);
  }
  return ::send(s.fd.get(), sbuf_.data() + s.off, n, MSG_NOSIGNAL);
}

Stream& Test::add_stream(UniqueFd fd, bool sender) {
  auto s = std::make_unique<Stream>();
  s->id = stream_id_for(streams_.size());
  s->fd = std::move(fd);
  s->sender = sender;
  s->udp = p_.udp;
  endpoints(s->fd.get(), s->local, s->lport, s->remote, s->rport);
  if (bidir()) s->role = sender ? (server_ ? "TX-S" : "TX-C") : (server_ ? "RX-S" : "RX-C");
  if (p_.udp && !sender) {
    int one = 1;
    ::setsockopt(s->fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  }
  (void)core::set_nonblocking(s->fd.get());
  streams_.push_back(std::move(s));
  return *streams_.back();
}

void Test::start_data(const std::function<void()>& on_end) {
  on_end_ = on_end;
  t_start_ = mono();
  iv_start_ = t_start_;
  last_rx_ = t_start_;
  cpu0_ = Cpu::now(server_);
  senders_ = 0;
  for (auto& s : streams_) senders_ += s->sender ? 1 : 0;
  for (auto& s : streams_) {
    if (!s->udp && s->sender) {
      auto ti = tcp_info(s->fd.get());
      s->retr_base = ti.retrans;
    }
    uint32_t ev = s->sender ? (rate_limited() ? 0u : uint32_t(EPOLLOUT)) : uint32_t(EPOLLIN);
    Stream* sp = s.get();
    (void)loop_.add_fd(s->fd.get(), ev, [this, sp](uint32_t e) {
      if (sp->sender) on_writable(*sp, e);
      else on_readable(*sp, e);
    });
  }
  (void)loop_.add_fd(ctl_.fd.get(), EPOLLIN, [this](uint32_t) { on_control(); });
  if (rate_limited())
    timers_.push_back(loop_.add_periodic(std::chrono::microseconds(std::max(p_.pacing_timer, 100)),
                                         [this] { pace(); }));
  arm_interval_timer();
  omitting_ = p_.omit > 0;
  if (omitting_)
    timers_.push_back(loop_.add_timer(std::chrono::seconds(p_.omit), [this] { end_omit(); }));
  // watchdog: dead peers, idle receivers, tests that overrun
  timers_.push_back(loop_.add_periodic(std::chrono::milliseconds(200), [this] { watchdog(); }));
  if (!server_ && p_.num == 0 && p_.blockcount == 0)
    timers_.push_back(loop_.add_timer(std::chrono::duration_cast<EventLoop::Duration>(
                                          std::chrono::duration<double>(p_.time + p_.omit)),
                                      [this] { end_data(); }));
}

void Test::arm_interval_timer() {
  if (o_.interval <= 0) return;
  if (iv_timer_) loop_.cancel_timer(iv_timer_);
  iv_timer_ = loop_.add_periodic(
      std::chrono::duration_cast<EventLoop::Duration>(std::chrono::duration<double>(o_.interval)),
      [this] { interval_report(mono()); });
  timers_.push_back(iv_timer_);
}

void Test::end_omit() {
  if (data_done_ || !omitting_) return;
  double now = mono();
  if (o_.interval > 0 && now - iv_start_ > 0.05 * o_.interval) interval_report(now);
  omitting_ = false;
  for (auto& s : streams_) {
    s->bytes = s->blocks = s->iv_bytes = 0;
    if (!s->udp && s->sender) {
      auto ti = tcp_info(s->fd.get());
      s->retr_base = ti.retrans;
      s->iv_retr = s->retr = 0;
      s->max_cwnd = s->max_snd_wnd = s->max_rtt = 0;
      s->min_rtt = UINT32_MAX;
      s->rtt_sum = s->rtt_n = 0;
    }
    // iperf3's sender numbers its datagrams from 1 again after the warm-up, and
    // its receiver starts counting afresh: both ends do the same here.
    s->packets = 0;
    s->iv_packets = 0;
    s->seq = 0;
    s->rs = UdpRecvStats{};
    s->iv_pc = s->iv_lost = 0;
  }
  t_start_ = iv_start_ = now;
  cpu0_ = Cpu::now(server_);
  arm_interval_timer();
}

void Test::detach() {
  loop_.set_busy_poll(false);
  for (auto id : timers_) loop_.cancel_timer(id);
  timers_.clear();
  for (auto& s : streams_)
    if (s->fd && loop_.has_fd(s->fd.get())) (void)loop_.remove_fd(s->fd.get());
  if (ctl_.fd && loop_.has_fd(ctl_.fd.get())) (void)loop_.remove_fd(ctl_.fd.get());
}

void Test::fail(const std::string& msg) {
  if (error_.empty()) error_ = msg;
  finish_loop();
}

void Test::finish_loop() {
  detach();
  if (on_end_) {
    auto f = std::move(on_end_);
    on_end_ = nullptr;
    f();
  }
}

uint64_t Test::total_sent() const {
  uint64_t t = 0;
  for (auto& s : streams_) if (s->sender) t += s->bytes;
  return t;
}

uint64_t Test::total_received() const {
  uint64_t t = 0;
  for (auto& s : streams_) if (!s->sender) t += s->bytes;
  return t;
}

uint64_t Test::total_blocks() const {
  uint64_t t = 0;
  for (auto& s : streams_) t += s->blocks;
  return t;
}

void Test::check_counts() {
  if (server_ || data_done_) return;
  bool sending = any_sender();
  if (p_.num > 0 && (sending ? total_sent() : total_received()) >= p_.num) end_data();
  else if (p_.blockcount > 0 && total_blocks() >= p_.blockcount) end_data();
}

bool Test::send_one(Stream& s) {
  if (s.udp) {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    UdpHeader h{uint32_t(ts.tv_sec), uint32_t(ts.tv_nsec / 1000), s.seq + 1};
    write_udp_header({reinterpret_cast<uint8_t*>(sbuf_.data()), size_t(p_.len)}, h, p_.udp_counters_64bit);
    ssize_t w = ::send(s.fd.get(), sbuf_.data(), size_t(p_.len), MSG_NOSIGNAL);
    if (w < 0) return handle_send_error(s);
    s.seq++;
    s.packets++;
    s.blocks++;
    s.bytes += uint64_t(w);
    return true;
  }
  // Whole blocks, as iperf3 writes them: its receiver may read a block at a time
  // with blocking reads, so a block left half-sent could hang it.
  size_t n = size_t(p_.len) - s.off;
  if (p_.num > 0 && !bidir()) {
    uint64_t sent = total_sent();
    if (sent >= p_.num) return false;
    n = size_t(std::min<uint64_t>(n, p_.num - sent));
  }
  ssize_t w = send_block(s, n);
  if (w < 0) return handle_send_error(s);
  s.bytes += uint64_t(w);
  s.off = (s.off + size_t(w)) % size_t(p_.len);
  if (s.off == 0) s.blocks++;
  return true;
}

void Test::complete_blocks() {
  double until = mono() + 5;
  for (;;) {
    std::vector<pollfd> pf;
    std::vector<Stream*> who;
    for (auto& s : streams_)
      if (s->sender && !s->udp && s->off != 0) {
        pf.push_back({s->fd.get(), POLLOUT, 0});
        who.push_back(s.get());
      }
    if (pf.empty() || mono() >= until) return;
    if (::poll(pf.data(), pf.size(), 50) <= 0) continue;
    for (size_t i = 0; i < pf.size(); ++i) {
      Stream& s = *who[i];
      if (pf[i].revents & (POLLERR | POLLHUP)) {
        s.off = 0;  // gone: nothing more to complete
        continue;
      }
      if (!(pf[i].revents & POLLOUT)) continue;
      ssize_t w = send_block(s, size_t(p_.len) - s.off);
      if (w > 0) {
        s.bytes += uint64_t(w);
        s.off = (s.off + size_t(w)) % size_t(p_.len);
      } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
        s.off = 0;
      }
    }
  }
}

bool Test::handle_send_error(Stream& s) {
  if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) return false;
  if (s.udp && errno == ECONNREFUSED) return false;  // ICMP from a peer that has not opened yet / gone
  int e = errno;
  if (!data_done_) fail("unable to write to stream socket: " + errno_text(e));
  return false;
}

void Test::on_writable(Stream& s, uint32_t ev) {
  if (data_done_ || s.stopped) return;
  if (s.udp && !rate_limited()) {
    send_udp_batch(s);
  } else {
    // At most 128 KiB per stream per wakeup when several streams send: they
    // take turns through the event loop, as iperf3's round-robin does. Bursts of
    // 16 blocks per stream halved what -P 4 moved over a veth pair (long
    // single-flow bursts, and retransmissions grew tenfold). A lone sender
    // writes up to 1 MiB per wakeup: fewer trips through the loop, about 10 %
    // more with -Z over the veth pair.
    uint64_t budget = std::max<uint64_t>(uint64_t(p_.len), 128 * 1024) * (senders_ > 1 ? 1 : 8);
    for (uint64_t done = 0; done < budget && !data_done_;) {
      uint64_t before = s.bytes;
      if (!send_one(s)) break;
      done += s.bytes - before;
    }
  }
  check_counts();
}

void Test::send_udp_batch(Stream& s) {
  constexpr int kBatch = 32;
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  for (int i = 0; i < kBatch; ++i) {
    uint8_t* b = reinterpret_cast<uint8_t*>(sbuf_.data()) + size_t(i) * size_t(p_.len);
    UdpHeader h{uint32_t(ts.tv_sec), uint32_t(ts.tv_nsec / 1000), s.seq + 1 + uint64_t(i)};
    write_udp_header({b, size_t(p_.len)}, h, p_.udp_counters_64bit);
    iov[i] = {b, size_t(p_.len)};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n = ::sendmmsg(s.fd.get(), msgs, kBatch, MSG_NOSIGNAL);
  if (n < 0) {
    handle_send_error(s);
    return;
  }
  for (int i = 0; i < n; ++i) s.bytes += msgs[i].msg_len;
  s.seq += uint64_t(n);
  s.packets += uint64_t(n);
  s.blocks += uint64_t(n);
}

void Test::pace() {
  if (data_done_) return;
  double el = mono() - t_start_;
  for (auto& s : streams_) {
    if (!s->sender || s->stopped) continue;
    for (int k = 0; k < 1024 && double(s->bytes) * 8 < double(p_.bandwidth) * el; ++k)
      if (!send_one(*s)) break;
  }
  check_counts();
}

void Test::on_readable(Stream& s, uint32_t ev) {
  if (s.udp) return read_udp(s);
  if (read_tcp(s, 16)) check_counts();
}

bool Test::read_tcp(Stream& s, int max_reads) {
  for (int k = 0; k < max_reads; ++k) {
    ssize_t n = ::recv(s.fd.get(), rbuf_.data(), rbuf_.size(), MSG_DONTWAIT);
    if (n > 0) {
      s.bytes += uint64_t(n);
      s.blocks++;  // iperf3 counts reads as blocks on the receiving side only loosely
      last_rx_ = mono();
      continue;
    }
    if (n == 0) {
      (void)loop_.remove_fd(s.fd.get());
      s.stopped = true;
      break;
    }
    if (errno == EAGAIN || errno == EINTR) break;
    int e = errno;
    (void)loop_.remove_fd(s.fd.get());
    s.stopped = true;
    if (!data_done_ && !exchange_) fail("unable to read from stream socket: " + errno_text(e));
    return false;
  }
  return true;
}

void Test::tune_lowat() {
  constexpr uint64_t kMax = 128 * 1024;
  for (auto& sp : streams_) {
    Stream& s = *sp;
    if (s.udp || s.sender || s.stopped || !s.fd) continue;
    uint64_t delta = s.bytes >= s.rx_mark ? s.bytes - s.rx_mark : s.bytes;  // the end of -O zeroes bytes
    s.rx_mark = s.bytes;
    // A quarter of the receive buffer at most: the kernel then never grows the
    // buffer (or clamps the window) on the mark's account, and -w is respected.
    int rcvbuf = 0;
    socklen_t rl = sizeof rcvbuf;
    if (::getsockopt(s.fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rl) != 0 || rcvbuf <= 0) continue;
    uint64_t cap = std::min<uint64_t>(kMax, uint64_t(rcvbuf) / 4);
    int want = int(std::clamp<uint64_t>(delta / 20, 1, std::max<uint64_t>(cap, 1)));
    bool lower = want < s.lowat;
    if (!lower && want < s.lowat + s.lowat / 4) continue;
    if (::setsockopt(s.fd.get(), SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want) != 0) continue;
    s.lowat = want;
    if (lower) on_readable(s, EPOLLIN);  // what waited below the old mark
  }
}

namespace {
void spin_wait(int us) {
  double until = mono() + us / 1e6;
  while (mono() < until) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
}
}  // namespace

void Test::read_udp(Stream& s) {
  constexpr int kBatch = 32;
  bool drained = false;
  size_t slot = rbuf_.size() / kBatch;
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  alignas(cmsghdr) char ctl[kBatch][64];
  for (int round = 0; round < 8; ++round) {
    for (int i = 0; i < kBatch; ++i) {
      iov[i] = {rbuf_.data() + size_t(i) * slot, slot};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = ctl[i];
      msgs[i].msg_hdr.msg_controllen = sizeof ctl[i];
    }
    int n = ::recvmmsg(s.fd.get(), msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    last_rx_ = mono();
    for (int i = 0; i < n; ++i) {
      size_t len = msgs[i].msg_len;
      auto h = parse_udp_header({rbuf_.data() + size_t(i) * slot, len}, p_.udp_counters_64bit);
      if (!h) continue;  // a stray handshake datagram
      timespec at = now;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&msgs[i].msg_hdr, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS)
          std::memcpy(&at, CMSG_DATA(c), sizeof at);
      s.rs.on_packet(*h, double(at.tv_sec) + double(at.tv_nsec) / 1e9);
      s.bytes += len;
      s.packets++;
      s.blocks++;
    }
    if (n < kBatch) {
      drained = true;
      break;
    }
  }
  // Busy polling: let the queue fill a while before the next look, without
  // sleeping (see tune_udp_reads).
  if (drained && loop_.busy_poll()) spin_wait(udp_gap_us_);
  check_counts();
}

void Test::tune_udp_reads() {
  constexpr double kTick = 0.2;  // the watchdog's period
  constexpr double kSpinPps = 20000;
  double pps = 0;
  int rcvbuf = 0;
  for (auto& sp : streams_) {
    Stream& s = *sp;
    if (!s.udp || s.sender) continue;
    uint64_t delta = s.packets >= s.rx_pmark ? s.packets - s.rx_pmark : s.packets;  // -O zeroes packets
    s.rx_pmark = s.packets;
    pps += double(delta) / kTick;
    socklen_t rl = sizeof rcvbuf;
    if (rcvbuf == 0 && ::getsockopt(s.fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &rl) != 0) rcvbuf = 0;
  }
  bool on = !rate_limited() && !data_done_ && pps >= kSpinPps && rcvbuf > 0;
  if (on) {
    // The gap between looks lets about an eighth of the receive buffer fill (a
    // queued datagram costs its payload plus roughly 1 KiB of kernel overhead).
    double fits = double(rcvbuf) / double(p_.len + 1024);
    udp_gap_us_ = int(std::clamp(fits / 8 / pps * 1e6, 5.0, 100.0));
  }
  loop_.set_busy_poll(on);
}

void Test::on_control() {
  if (!ctl_.pump() && ctl_.rd.buffered() == 0) {
    if (!exchange_) fail("control socket has closed unexpectedly");
    return;
  }
  while (auto st = ctl_.rd.take_state()) {
    int8_t s = *st;
    if (server_) {
      if (s == kTestEnd) {
        exchange_ = true;
        stop_data();
        finish_loop();
        return;
      }
      if (s == kClientTerminate || s == kIperfDone) {
        peer_terminated_ = true;
        stop_data();
        fail("the client has terminated");
        return;
      }
    } else {
      if (s == kExchangeResults) {
        exchange_ = true;
        if (!data_done_) stop_data();
        finish_loop();
        return;
      }
      if (s == kServerTerminate) {
        peer_terminated_ = true;
        stop_data();
        fail("the server has terminated");
        return;
      }
      if (s == kServerError) {
        ctl_.pump();
        auto codes = ctl_.rd.take_error_codes();
        stop_data();
        fail(codes ? "the server reported an error (iperf3 error " + std::to_string(codes->first) +
                         (codes->second ? ": " + errno_text(codes->second) : std::string()) + ")"
                   : "the server reported an error");
        return;
      }
    }
    // other state bytes during the test are ignored (IPERF_START, TEST_RUNNING repeats)
  }
  if (ctl_.eof && !exchange_) fail("control socket has closed unexpectedly");
}

void Test::watchdog() {
  if (!data_done_) {
    tune_lowat();
    tune_udp_reads();
  }
  double now = mono();
  if (any_receiver() && !data_done_ && now - last_rx_ > o_.rcv_timeout_ms / 1000.0)
    return fail("receive timeout (no data for " + std::to_string(o_.rcv_timeout_ms / 1000) + " s)");
  if (p_.num == 0 && p_.blockcount == 0 && now - t_start_ > p_.time + p_.omit + kEndGraceS)
    return fail(server_ ? "the client did not end the test in time" : "the server did not answer the end of the test");
  if (data_done_ && now - t_stop_ > kEndGraceS / 3)
    return fail("timed out waiting for the results exchange");
}

void Test::stop_data() {
  if (data_done_) return;
  data_done_ = true;
  loop_.set_busy_poll(false);
  t_stop_ = mono();
  cpu1_ = Cpu::now(server_);
  for (auto& s : streams_)
    if (s->sender && loop_.has_fd(s->fd.get())) (void)loop_.remove_fd(s->fd.get());
  // What has arrived counts, though the readers woke only at their mark.
  for (auto& s : streams_)
    if (!s->udp && !s->sender && !s->stopped) (void)read_tcp(*s, 64);
  if (!(p_.num > 0 && !bidir())) complete_blocks();
  // The server ends its sending streams (FIN after the last block), as iperf3's
  // server does: a client blocked in a read of an idle stream sees EOF.
  if (server_)
    for (auto& s : streams_)
      if (s->sender && !s->udp) ::shutdown(s->fd.get(), SHUT_WR);
  if (t_start_ > 0 && o_.interval > 0 && t_stop_ - iv_start_ > 0.05 * o_.interval) interval_report(t_stop_);
}

void Test::end_data() {
  if (data_done_) return;
  stop_data();
  if (!ctl_.send_state(kTestEnd)) fail("unable to send control message: " + errno_text(errno));
}

}  // namespace netshoot::applet::perf

// perf called as `iperf -u`: iperf 2's UDP test. Each datagram starts with a 32-bit
// sequence number (big-endian), the sender's wall-clock seconds and microseconds and
// the upper 32 bits of the sequence; the last one carries the negated sequence number
// and is repeated until the server answers with its report (bytes, stop time, lost,
// out-of-order, datagrams, jitter) in the same datagram layout (2.1.8 observed).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "iperf2.h"
#include "proto.h"

namespace netshoot::applet::perf::iperf2 {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

constexpr size_t kDgramHeader = 16;
constexpr size_t kReportSize = 128;
constexpr uint32_t kHeaderVersion1 = 0x80000000u;

void put32(uint8_t* p, uint32_t v) { v = htonl(v); std::memcpy(p, &v, 4); }
uint32_t get32(const uint8_t* p) { uint32_t v; std::memcpy(&v, p, 4); return ntohl(v); }

double wall_now() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  return double(tv.tv_sec) + double(tv.tv_usec) / 1e6;
}

void stamp(uint8_t* p, int32_t seq) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  put32(p, uint32_t(seq));
  put32(p + 4, uint32_t(tv.tv_sec));
  put32(p + 8, uint32_t(tv.tv_usec));
  put32(p + 12, seq < 0 ? 0xffffffffu : 0);
}

std::string buffer_line(int fd, int opt, bool is_default) {
  int v = 0;
  socklen_t l = sizeof v;
  getsockopt(fd, SOL_SOCKET, opt, &v, &l);
  std::string w = window_line(v, is_default);  // "TCP window size: ..."
  return "UDP buffer size:" + w.substr(std::strlen("TCP window size:"));
}

}  // namespace

int udp_client(const Opts& o) {
  std::string port = std::to_string(o.port);
  std::string rerr;
  auto res = resolve(o.host, o.port, o.family, &rerr);
  if (res.empty()) {
    std::fprintf(stderr, "ERROR: Unable to resolve host %s: %s\n", o.host.c_str(), rerr.c_str());
    return 1;
  }
  int fd = socket(res[0].family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&res[0].ss), res[0].len) != 0) {
    std::fprintf(stderr, "udp connect failed: %s\n", std::strerror(errno));
    if (fd >= 0) close(fd);
    return 1;
  }
  if (o.window) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &o.window, sizeof o.window);
  size_t len = std::max<size_t>(size_t(o.len), kDgramHeader);
  double ipg = double(len) * 8 / o.rate;  // seconds between datagrams
  char line[128];
  emit(kDashes);
  emit("Client connecting to " + o.host + ", UDP port " + port);
  std::snprintf(line, sizeof line, "Sending %zu byte datagrams, IPG target: %.2f us", len, ipg * 1e6);
  emit(line);
  emit(buffer_line(fd, SO_SNDBUF, o.window == 0));
  emit(kDashes);
  {
    sockaddr_storage l{}, p{};
    socklen_t ll = sizeof l, pl = sizeof p;
    getsockname(fd, reinterpret_cast<sockaddr*>(&l), &ll);
    getpeername(fd, reinterpret_cast<sockaddr*>(&p), &pl);
    int lp = 0, pp = 0;
    std::string la = addr_port(l, lp), pa = addr_port(p, pp);
    emit(connected_line(1, la, lp, pa, pp, std::nullopt));
  }
  emit(kHeader);

  std::vector<uint8_t> buf(len, 0);
  auto t0 = Clock::now();
  int32_t seq = 0;
  double sent = 0, last_bytes = 0;
  int k = 1;
  const std::string lab = label(1);
  while (!g_stop) {
    double now = since(t0);
    if (o.interval > 0 && now >= o.interval * k && (o.bytes || o.interval * k <= o.time + 1e-9)) {
      emit(report_line(lab, o.interval * (k - 1), o.interval * k, sent - last_bytes));
      last_bytes = sent;
      ++k;
    }
    if (o.bytes ? sent >= double(o.bytes) : now >= o.time) break;
    double due = double(seq) * ipg;  // seq datagrams sent so far
    if (due > now) {
      double wait = std::min(due - now, 0.01);
      if (wait > 50e-6) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
      continue;
    }
    stamp(buf.data(), seq + 1);
    ssize_t n = send(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN || errno == ECONNREFUSED) continue;
      std::fprintf(stderr, "udp send failed: %s\n", std::strerror(errno));
      break;
    }
    ++seq;
    sent += double(n);
  }
  double elapsed = since(t0);
  emit(report_line(lab, 0, elapsed, sent));
  emit(lab + " Sent " + std::to_string(seq + 1) + " datagrams");

  // the negated sequence number ends the test; the server answers with its report
  std::vector<uint8_t> rep(2048);
  for (int tries = 0; tries < 10; ++tries) {
    stamp(buf.data(), -(seq + 1));
    send(fd, buf.data(), buf.size(), 0);
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 250) <= 0) continue;
    ssize_t n = recv(fd, rep.data(), rep.size(), 0);
    if (n < ssize_t(kDgramHeader + 40)) continue;
    const uint8_t* h = rep.data() + kDgramHeader;
    double bytes = double((uint64_t(get32(h + 4)) << 32) | get32(h + 8));
    double stop = double(get32(h + 12)) + double(get32(h + 16)) / 1e6;
    int64_t lost = int32_t(get32(h + 20)), outorder = int32_t(get32(h + 24)), total = int32_t(get32(h + 28));
    double jitter_ms = (double(get32(h + 32)) + double(get32(h + 36)) / 1e6) * 1e3;
    emit(lab + " Server Report:");
    emit(kUdpHeader);
    emit(udp_report_line(lab, 0, stop, bytes, jitter_ms, lost, total));
    if (outorder > 0) {
      std::snprintf(line, sizeof line, " 0.0000-%.4f sec  %lld datagrams received out-of-order", stop, (long long)outorder);
      emit(lab + line);
    }
    close(fd);
    return 0;
  }
  emit(lab + " WARNING: did not receive ack of last datagram after 10 tries.");
  close(fd);
  return 0;
}

namespace {
struct Peer {
  int id = 0;
  Clock::time_point t0;
  double bytes = 0, last_bytes = 0;
  int64_t received = 0, last_received = 0, max_seq = 0, last_max_seq = 0, outorder = 0;
  double last_transit = 0, jitter = 0;
  bool done = false;
  int k = 1;
  std::vector<uint8_t> report;
};
}  // namespace

int udp_server(const Opts& o) {
  int fd = open_listener(o, SOCK_DGRAM);
  if (fd < 0) return 1;
  emit(kDashes);
  emit("Server listening on UDP port " + std::to_string(o.port));
  emit(buffer_line(fd, SO_RCVBUF, o.window == 0));
  emit(kDashes);

  std::map<std::string, Peer> peers;
  std::vector<uint8_t> buf(65536);
  int next_id = 1;
  while (!g_stop) {
    if (o.interval > 0) {
      for (auto& [key, pr] : peers) {
        if (pr.done || Clock::now() < pr.t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.interval * pr.k)))
          continue;
        emit(udp_report_line(label(pr.id), o.interval * (pr.k - 1), o.interval * pr.k, pr.bytes - pr.last_bytes,
                             pr.jitter * 1e3,
                             std::max<int64_t>(0, (pr.max_seq - pr.last_max_seq) - (pr.received - pr.last_received)),
                             std::max(pr.max_seq - pr.last_max_seq, pr.received - pr.last_received)));
        pr.last_max_seq = pr.max_seq;
        pr.last_bytes = pr.bytes;
        pr.last_received = pr.received;
        ++pr.k;
      }
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    sockaddr_storage from{};
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n < ssize_t(kDgramHeader)) continue;
    double arrival = wall_now();
    int pport = 0;
    std::string paddr = addr_port(from, pport);
    std::string key = paddr + "/" + std::to_string(pport);
    int32_t seq = int32_t(get32(buf.data()));
    auto it = peers.find(key);
    if (it == peers.end() || (it->second.done && seq > 0)) {
      if (seq < 0) continue;  // the end of a test we never saw
      Peer np;
      np.id = next_id++;
      np.t0 = Clock::now();
      it = peers.insert_or_assign(key, std::move(np)).first;
      // the local address the peer reached: what routing picks towards it
      std::string la = "0.0.0.0";
      int lp = o.port;
      if (int t = socket(from.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0); t >= 0) {
        if (connect(t, reinterpret_cast<sockaddr*>(&from), fl) == 0) {
          sockaddr_storage l{};
          socklen_t ll = sizeof l;
          getsockname(t, reinterpret_cast<sockaddr*>(&l), &ll);
          int dummy = 0;
          la = addr_port(l, dummy);
        }
        close(t);
      }
      emit(connected_line(it->second.id, la, lp, paddr, pport, std::nullopt));
      emit(kUdpHeader);
    }
    Peer& pr = it->second;
    if (seq < 0) {
      if (!pr.done) {
        // an interval that ended before this last datagram is still reported
        if (o.interval > 0 && since(pr.t0) >= o.interval * pr.k)
          emit(udp_report_line(label(pr.id), o.interval * (pr.k - 1), o.interval * pr.k, pr.bytes - pr.last_bytes,
                               pr.jitter * 1e3,
                               std::max<int64_t>(0, (pr.max_seq - pr.last_max_seq) - (pr.received - pr.last_received)),
                               std::max(pr.max_seq - pr.last_max_seq, pr.received - pr.last_received)));
        pr.done = true;
        pr.bytes += double(n);
        pr.received++;
        double stop = since(pr.t0);
        int64_t total = std::max<int64_t>(-int64_t(seq), pr.received);
        int64_t lost = std::max<int64_t>(0, total - pr.received);
        emit(udp_report_line(label(pr.id), 0, stop, pr.bytes, pr.jitter * 1e3, lost, total));
        pr.report.assign(kReportSize, 0);
        uint8_t* h = pr.report.data() + kDgramHeader;
        uint64_t b = uint64_t(pr.bytes);
        put32(h, kHeaderVersion1);
        put32(h + 4, uint32_t(b >> 32));
        put32(h + 8, uint32_t(b));
        put32(h + 12, uint32_t(stop));
        put32(h + 16, uint32_t((stop - std::floor(stop)) * 1e6));
        put32(h + 20, uint32_t(lost));
        put32(h + 24, uint32_t(pr.outorder));
        put32(h + 28, uint32_t(total));
        put32(h + 32, uint32_t(pr.jitter));
        put32(h + 36, uint32_t((pr.jitter - std::floor(pr.jitter)) * 1e6));
      }
      sendto(fd, pr.report.data(), pr.report.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
      continue;
    }
    if (pr.done) continue;
    pr.bytes += double(n);
    pr.received++;
    if (seq <= pr.max_seq) pr.outorder++;
    else pr.max_seq = seq;
    double sent_at = double(get32(buf.data() + 4)) + double(get32(buf.data() + 8)) / 1e6;
    double transit = arrival - sent_at;
    if (pr.received > 1) pr.jitter += (std::fabs(transit - pr.last_transit) - pr.jitter) / 16;
    pr.last_transit = transit;
  }
  close(fd);
  return 0;
}

}  // namespace netshoot::applet::perf::iperf2

// doctor layers 4 and 5, probed together so that a healthy target costs about one
// round trip: an ICMP echo train to the target, TTL-limited echoes for the hops,
// DF echoes at the interface MTU and the TCP connect (or UDP probe) all leave at
// once. Only when something is missing does a second phase look closer: echoes to
// every hop to find where loss starts, and a search for the largest DF size that
// passes when large packets vanish without an ICMP "fragmentation needed".
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <set>

#include <fmt/format.h>

#include "applets/doctor/layers.h"
#include "netshoot/dns.h"
#include "netshoot/packet.h"
#include "netshoot/socket.h"

namespace netshoot::applet::doctor {
namespace {

using core::UniqueFd;
using Clock = std::chrono::steady_clock;
namespace icmp4 = core::icmp4;
namespace icmp6 = core::icmp6;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Sequence-number spaces of the one ICMP id.
constexpr uint16_t kSeqEcho = 0x0000;     // target echo train: 1..count (and phase 2 after it)
constexpr uint16_t kSeqTrace = 0x4000;    // | round << 7 | ttl
constexpr int kTraceRounds = 12;          // 2 at first, up to 10 more for missing hops
constexpr uint16_t kSeqBig = 0x6000;      // | index: DF probes
constexpr uint16_t kSeqHop = 0x8000;      // | hop << 8 | k: per-hop echo samples
constexpr uint16_t kSeqHopBig = 0xF000;   // | hop << 4 | k: DF echoes to each hop

struct Probe {
  IpAddr dst;
  int64_t sent_ns = 0;
  size_t size = 0;       // IP total length
  int ttl = 64;
  bool answered = false;
  bool blocked = false;  // the send itself failed (EPERM: a local rule)
  double rtt_ms = 0;
  IpAddr from;           // who answered (echo reply or time exceeded)
  bool time_exceeded = false;
};

struct IcmpErrorSeen {
  IpAddr from;
  uint8_t type = 0, code = 0;
  uint32_t mtu = 0;
};

std::string icmp_error_name(bool v6, uint8_t type, uint8_t code) {
  if (!v6) {
    if (type == icmp4::dest_unreach) {
      static const char* names[] = {"net unreachable", "host unreachable", "protocol unreachable",
                                    "port unreachable", "fragmentation needed", "source route failed",
                                    "net unknown", "host unknown", "source host isolated", "net prohibited",
                                    "host prohibited", "net unreachable for TOS", "host unreachable for TOS",
                                    "admin-prohibited", "host precedence violation", "precedence cutoff"};
      std::string n = code < 16 ? names[code] : "unreachable code " + std::to_string(code);
      return fmt::format("ICMP {} (type 3 code {})", n, code);
    }
    if (type == icmp4::time_exceeded) return fmt::format("ICMP time exceeded (type 11 code {})", code);
    return fmt::format("ICMP type {} code {}", type, code);
  }
  if (type == icmp6::dest_unreach) {
    static const char* names[] = {"no route", "admin-prohibited", "beyond scope", "address unreachable",
                                  "port unreachable", "source address failed policy", "reject route"};
    std::string n = code < 7 ? names[code] : "unreachable code " + std::to_string(code);
    return fmt::format("ICMPv6 {} (type 1 code {})", n, code);
  }
  if (type == icmp6::packet_too_big) return "ICMPv6 packet too big (type 2)";
  if (type == icmp6::time_exceeded) return fmt::format("ICMPv6 time exceeded (type 3 code {})", code);
  return fmt::format("ICMPv6 type {} code {}", type, code);
}

// UDP probes to DNS ports carry a real query, so silence there means something.
bool sends_dns_query(const Options& o) {
  return o.udp && o.target.port && (*o.target.port == 53 || *o.target.port == 5353);
}

// ---- the ICMP socket: raw when allowed, else an unprivileged ping socket ------------

class Session {
 public:
  Session(const Options& o, const PathInfo& p) : o_(o), p_(p), v6_(p.dst.is_v6()) {}

  std::string open_icmp() {
    int fam = p_.dst.family();
    auto raw = core::open_raw_socket(fam, v6_ ? int(IPPROTO_ICMPV6) : int(IPPROTO_ICMP));
    if (raw) {
      fd_ = std::move(*raw);
      raw_ = true;
      id_ = static_cast<uint16_t>(::getpid() ^ (now_ns() >> 10));
      if (!v6_) (void)core::set_icmp_filter(fd_.get(), 1u << icmp4::echo_reply | 1u << icmp4::dest_unreach |
                                                          1u << icmp4::time_exceeded | 1u << icmp4::param_problem);
    } else {
      auto ping = core::open_ping_socket(fam);
      if (!ping) return raw.error().message() + "; " + ping.error().message();
      fd_ = std::move(*ping);
      raw_ = false;
      (void)core::enable_recv_meta(fd_.get(), fam, core::meta_errqueue);
      sockaddr_storage ss{};
      socklen_t len = IpAddr::any(fam).to_sockaddr(0, ss);
      if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0 &&
          ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0)
        id_ = ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    (void)core::set_recv_buffer(fd_.get(), 1 << 20);
    return {};
  }

  bool raw() const { return raw_; }
  bool icmp_ok() const { return fd_.get() >= 0; }

  void schedule(int64_t at_ns, uint16_t seq, const IpAddr& dst, int ttl, size_t size, bool df) {
    queue_.push_back({at_ns, seq, dst, ttl, size, df});
  }

  // ---- the TCP connect / UDP probe ----------------------------------------------------
  std::vector<uint8_t> dns_query_;

  struct Conn {
    bool used = false;
    bool udp = false;
    UniqueFd fd;
    int64_t start_ns = 0, end_ns = 0;
    bool done = false;
    int error = 0;            // 0 connected / answered; errno otherwise; ETIMEDOUT on our timeout
    bool answered = false;    // UDP: a datagram came back
    std::optional<IcmpErrorSeen> icmp;  // what the ICMP socket or IP_RECVERR saw for the flow
    uint16_t sport = 0;
    IpAddr src;
    int sends = 0;
    int64_t next_send_ns = 0;
  };
  Conn conn;

  void start_connection(uint16_t port) {
    conn.used = true;
    conn.udp = o_.udp;
    int fam = p_.dst.family();
    auto s = o_.udp ? core::open_udp_socket(fam) : core::open_tcp_socket(fam);
    conn.start_ns = now_ns();
    if (!s) {
      conn.done = true;
      conn.error = s.error().code ? s.error().code : EINVAL;
      return;
    }
    conn.fd = std::move(*s);
    if (o_.udp) (void)core::enable_recv_meta(conn.fd.get(), fam, core::meta_errqueue);
    sockaddr_storage ss{};
    socklen_t len = p_.dst.to_sockaddr(port, ss);
    int rc = ::connect(conn.fd.get(), reinterpret_cast<sockaddr*>(&ss), len);
    if (rc < 0 && errno != EINPROGRESS) {
      conn.done = true;
      conn.error = errno;
      conn.end_ns = now_ns();
    }
    sockaddr_storage local{};
    socklen_t llen = sizeof local;
    if (::getsockname(conn.fd.get(), reinterpret_cast<sockaddr*>(&local), &llen) == 0) {
      if (auto ep = core::Endpoint::from_sockaddr(local, llen)) {
        conn.sport = ep->port;
        conn.src = ep->addr;
      }
    }
    if (o_.udp && !conn.done) udp_send();
  }

  void udp_send() {
    // DNS ports get a real query (". NS", built once), others an empty datagram
    if (dns_query_.empty() && sends_dns_query(o_)) {
      core::dns::QuerySpec q;
      q.id = static_cast<uint16_t>(now_ns());
      q.name = ".";
      q.qtype = core::dns::type::NS;
      if (auto wire = core::dns::build_query(q)) dns_query_ = std::move(*wire);
    }
    std::span<const uint8_t> payload(dns_query_);
    int e = core::send_to(conn.fd.get(), payload, nullptr);
    ++conn.sends;
    conn.next_send_ns = now_ns() + static_cast<int64_t>(o_.timeout_s * 1e9 / 3);
    if (e == ECONNREFUSED) {
      conn.done = true;
      conn.error = e;
      conn.end_ns = now_ns();
    }
  }

  // ---- the loop --------------------------------------------------------------------
  // Sends what is due, reads what arrives, until `done()` or `deadline_ns`
  // (done() is looked at again at least every 10 ms).
  void run(int64_t deadline_ns, const std::function<bool()>& done) {
    std::sort(queue_.begin(), queue_.end(), [](const auto& a, const auto& b) { return a.at_ns > b.at_ns; });
    while (true) {
      int64_t now = now_ns();
      while (!queue_.empty() && queue_.back().at_ns <= now) {
        send(queue_.back());
        queue_.pop_back();
      }
      if (conn.used && !conn.done && now >= conn.start_ns + static_cast<int64_t>(o_.timeout_s * 1e9)) {
        conn.done = true;
        conn.error = ETIMEDOUT;
        conn.end_ns = now;
      }
      if (conn.used && conn.udp && !conn.done && conn.sends < 3 && now >= conn.next_send_ns) udp_send();
      if (queue_.empty() && (done() || now >= deadline_ns)) return;
      if (now >= deadline_ns && !queue_.empty()) return;
      int64_t wake = deadline_ns;
      if (!queue_.empty()) wake = std::min(wake, queue_.back().at_ns);
      if (conn.used && !conn.done) {
        wake = std::min(wake, conn.start_ns + static_cast<int64_t>(o_.timeout_s * 1e9));
        if (conn.udp && conn.sends < 3) wake = std::min(wake, conn.next_send_ns);
      }
      pollfd pfd[2];
      int n = 0;
      if (fd_.get() >= 0) pfd[n++] = {fd_.get(), POLLIN, 0};
      int conn_slot = -1;
      if (conn.used && !conn.done && conn.fd.get() >= 0) {
        conn_slot = n;
        pfd[n++] = {conn.fd.get(), static_cast<short>(conn.udp ? POLLIN : POLLOUT), 0};
      }
      int timeout_ms = static_cast<int>(std::clamp<int64_t>((wake - now + 999999) / 1000000, 0, 10));
      int r = ::poll(pfd, n, timeout_ms);
      if (r <= 0) continue;
      for (int i = 0; i < n; ++i) {
        if (!pfd[i].revents) continue;
        if (i == conn_slot) on_conn_ready();
        else read_icmp();
      }
    }
  }

  std::map<uint16_t, Probe> probes;
  std::vector<IcmpErrorSeen> frag_needed;  // "fragmentation needed" / "packet too big" for our DF probes
  bool sent_blocked = false;
  uint16_t id() const { return id_; }

 private:
  struct Pending {
    int64_t at_ns;
    uint16_t seq;
    IpAddr dst;
    int ttl;
    size_t size;
    bool df;
  };

  void send(const Pending& s) {
    size_t hdr = v6_ ? 40 : 20;
    size_t icmp_len = s.size > hdr + 8 ? s.size - hdr : 8;
    // one payload pattern for every probe; the socket options change only when needed
    if (payload_.size() < icmp_len - 8) {
      payload_.resize(icmp_len - 8);
      for (size_t i = 0; i < payload_.size(); ++i) payload_[i] = static_cast<uint8_t>(0x20 + i % 64);
    }
    buf_.resize(icmp_len);
    std::span<const uint8_t> payload(payload_.data(), icmp_len - 8);
    if (v6_) core::write_icmpv6_echo(buf_, p_.src, s.dst, id_, s.seq, payload);
    else core::write_icmp_echo(buf_, id_, s.seq, payload);
    if (s.ttl != ttl_set_) {
      (void)core::set_ttl(fd_.get(), s.dst.family(), s.ttl);
      ttl_set_ = s.ttl;
    }
    if (s.df != df_set_) {
      (void)core::set_pmtu_discover(fd_.get(), s.dst.family(), s.df ? core::PmtuDisc::probe : core::PmtuDisc::dont);
      df_set_ = s.df;
    }
    core::Endpoint ep{s.dst, 0};
    Probe& pr = probes[s.seq];
    pr.dst = s.dst;
    pr.size = s.size;
    pr.ttl = s.ttl;
    pr.sent_ns = now_ns();
    // EMSGSIZE (a DF probe above the local route's MTU) simply never gets an answer
    if (core::send_to(fd_.get(), buf_, &ep) == EPERM) {
      pr.blocked = true;
      sent_blocked = true;
    }
  }

  void on_conn_ready() {
    if (conn.udp) {
      uint8_t buf[2048];
      core::RecvInfo info;
      if (core::receive_error(conn.fd.get(), buf, info) == 0 && info.ext_error) {
        const auto& ee = *info.ext_error;
        if (ee.is_icmp()) {
          conn.icmp = IcmpErrorSeen{ee.offender.value_or(p_.dst), ee.type, ee.code, ee.info};
          conn.error = ee.error ? ee.error : EHOSTUNREACH;
        } else {
          conn.error = ee.error;
        }
        conn.done = true;
        conn.end_ns = now_ns();
        return;
      }
      ssize_t n = ::recv(conn.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n >= 0) {
        conn.answered = true;
        conn.error = 0;
        conn.done = true;
        conn.end_ns = now_ns();
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        conn.error = errno;
        conn.done = true;
        conn.end_ns = now_ns();
      }
      return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(conn.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    conn.error = err;
    conn.done = true;
    conn.end_ns = now_ns();
  }

  void note_flow_error(const IcmpErrorSeen& e) {
    if (conn.used && !conn.icmp) conn.icmp = e;
  }

  void on_echo_reply(uint16_t seq, const IpAddr& from, int64_t t) {
    auto it = probes.find(seq);
    if (it == probes.end() || it->second.answered) return;
    it->second.answered = true;
    it->second.from = from;
    it->second.rtt_ms = static_cast<double>(t - it->second.sent_ns) / 1e6;
  }

  void on_error_for_echo(uint16_t seq, const IcmpErrorSeen& e, int64_t t) {
    auto it = probes.find(seq);
    if (it == probes.end()) return;
    bool too_big = v6_ ? e.type == icmp6::packet_too_big
                       : (e.type == icmp4::dest_unreach && e.code == icmp4::frag_needed);
    bool exceeded = v6_ ? e.type == icmp6::time_exceeded : e.type == icmp4::time_exceeded;
    if (too_big) {
      frag_needed.push_back(e);
      return;
    }
    if (it->second.answered) return;
    it->second.answered = true;
    it->second.from = e.from;
    it->second.time_exceeded = exceeded;
    it->second.rtt_ms = static_cast<double>(t - it->second.sent_ns) / 1e6;
    if (!exceeded) unreach_for_echo.push_back(e);
  }

 public:
  std::vector<IcmpErrorSeen> unreach_for_echo;  // ICMP unreachables quoting our echoes

 private:
  void read_icmp() {
    uint8_t buf[4096];
    for (int guard = 0; guard < 256; ++guard) {
      core::RecvInfo info;
      int64_t t = now_ns();
      if (!raw_) {
        if (core::receive_error(fd_.get(), buf, info) == 0 && info.ext_error) {
          const auto& ee = *info.ext_error;
          if (ee.is_icmp() && info.length >= 8) {
            uint16_t seq = core::load_be16(buf + 6);
            IcmpErrorSeen e{ee.offender.value_or(p_.dst), ee.type, ee.code, ee.info};
            on_error_for_echo(seq, e, t);
          }
          continue;
        }
      }
      int rc = core::receive(fd_.get(), buf, info, MSG_DONTWAIT);
      if (rc != 0) return;
      std::span<const uint8_t> data(buf, info.length);
      IpAddr from = info.source ? info.source->addr : p_.dst;
      if (!raw_) {
        if (data.size() >= 8 && (data[0] == icmp4::echo_reply || data[0] == icmp6::echo_reply))
          on_echo_reply(core::load_be16(buf + 6), from, t);
        continue;
      }
      if (!v6_) parse_v4(data, t);
      else parse_v6(data, from, t);
    }
  }

  void parse_v4(std::span<const uint8_t> data, int64_t t) {
    core::Ipv4View ip;
    if (core::Ipv4View::parse(data, ip) != core::PacketError::none) return;
    core::IcmpView icmp;
    if (core::IcmpView::parse(ip.payload(), icmp) != core::PacketError::none) return;
    if (icmp.type() == icmp4::echo_reply) {
      if (icmp.echo_id() == id_) on_echo_reply(icmp.echo_seq(), ip.src(), t);
      return;
    }
    if (!icmp.is_error()) return;
    core::Ipv4View inner;
    if (icmp.embedded(inner) != core::PacketError::none) return;
    IcmpErrorSeen e{ip.src(), icmp.type(), icmp.code(), icmp.next_hop_mtu()};
    auto q = inner.payload();
    if (inner.protocol() == core::ipproto::icmp && q.size() >= 8) {
      if (q[0] == icmp4::echo_request && core::load_be16(q.data() + 4) == id_)
        on_error_for_echo(core::load_be16(q.data() + 6), e, t);
    } else if ((inner.protocol() == core::ipproto::tcp || inner.protocol() == core::ipproto::udp) && q.size() >= 4) {
      if (conn.used && inner.dst() == p_.dst && core::load_be16(q.data()) == conn.sport &&
          o_.target.port && core::load_be16(q.data() + 2) == *o_.target.port &&
          (inner.protocol() == core::ipproto::udp) == conn.udp)
        note_flow_error(e);
    }
  }

  void parse_v6(std::span<const uint8_t> data, const IpAddr& from, int64_t t) {
    core::Icmpv6View icmp;
    if (core::Icmpv6View::parse(data, icmp) != core::PacketError::none) return;
    if (icmp.type() == icmp6::echo_reply) {
      if (icmp.echo_id() == id_) on_echo_reply(icmp.echo_seq(), from, t);
      return;
    }
    if (!icmp.is_error()) return;
    core::Ipv6View inner;
    if (icmp.embedded(inner) != core::PacketError::none) return;
    IcmpErrorSeen e{from, icmp.type(), icmp.code(), icmp.type() == icmp6::packet_too_big ? icmp.mtu() : 0};
    auto q = inner.payload();
    if (inner.upper_protocol() == core::ipproto::icmpv6 && q.size() >= 8) {
      if (q[0] == icmp6::echo_request && core::load_be16(q.data() + 4) == id_)
        on_error_for_echo(core::load_be16(q.data() + 6), e, t);
    } else if ((inner.upper_protocol() == core::ipproto::tcp || inner.upper_protocol() == core::ipproto::udp) &&
               q.size() >= 4) {
      if (conn.used && core::load_be16(q.data()) == conn.sport && o_.target.port &&
          core::load_be16(q.data() + 2) == *o_.target.port)
        note_flow_error(e);
    }
  }

  const Options& o_;
  const PathInfo& p_;
  bool v6_ = false;
  UniqueFd fd_;
  bool raw_ = false;
  uint16_t id_ = 0;
  std::vector<Pending> queue_;          // latest first: the next due is at the back
  std::vector<uint8_t> payload_, buf_;  // reused by every send
  int ttl_set_ = -1;
  std::optional<bool> df_set_;
};

struct Stats {
  int sent = 0, received = 0, blocked = 0;
  double min = 0, avg = 0, max = 0;
  double loss() const { return sent ? 100.0 * (sent - received) / sent : 0; }
};

template <typename Pred>
Stats stats_of(const std::map<uint16_t, Probe>& probes, Pred pred) {
  Stats s;
  double sum = 0;
  for (const auto& [seq, p] : probes) {
    if (!pred(seq, p)) continue;
    ++s.sent;
    if (p.blocked) ++s.blocked;
    if (!p.answered || p.time_exceeded) continue;
    ++s.received;
    sum += p.rtt_ms;
    s.min = s.received == 1 ? p.rtt_ms : std::min(s.min, p.rtt_ms);
    s.max = std::max(s.max, p.rtt_ms);
  }
  if (s.received) s.avg = sum / s.received;
  return s;
}

bool significant_loss(const Stats& s) {
  int lost = s.sent - s.received;
  return s.sent > 0 && lost >= std::max(2, static_cast<int>(std::ceil(s.sent * 0.08)));
}

std::string port_name(uint16_t port, bool udp) {
  auto name = core::service_name(port, udp ? core::L4Proto::udp : core::L4Proto::tcp);
  return name.empty() ? std::string() : " (" + std::string(name) + ")";
}

}  // namespace

ProbeChecks check_reachability_and_path(const Options& o, const PathInfo& p) {
  ProbeChecks out;
  Check& reach = out.reachability;
  Check& path = out.path;
  reach.layer = "reachability";
  path.layer = "path";
  Session s(o, p);
  std::string icmp_error = s.open_icmp();
  const int count = o.count;
  const int hops = o.max_hops;
  const size_t small = p.dst.is_v6() ? 104 : 84;  // 56 bytes of data, as ping
  const size_t big = p.mtu;
  const int64_t t0 = now_ns();
  constexpr int64_t ms = 1000000;
  const int64_t wait = 1000 * ms;  // for stragglers when nothing has answered yet
  // Once echoes came back, a probe is given up after ten of the slowest round
  // trips seen (at least 200 ms, at most `wait`): no waiting a second on a LAN.
  auto straggler_wait = [&](const auto& probes) {
    double max_rtt = 0;
    for (const auto& [seq, pr] : probes)
      if (pr.answered) max_rtt = std::max(max_rtt, pr.rtt_ms);
    if (max_rtt <= 0) return wait;
    return std::clamp<int64_t>(static_cast<int64_t>(max_rtt * 10 * ms), 200 * ms, wait);
  };

  if (o.target.port) s.start_connection(*o.target.port);
  if (s.icmp_ok()) {
    for (int i = 0; i < count; ++i) s.schedule(t0 + i * 3 * ms, kSeqEcho + 1 + i, p.dst, 64, small, false);
    if (!p.local)
      for (int round = 0; round < 2; ++round)
        for (int ttl = 1; ttl <= hops; ++ttl)
          s.schedule(t0 + round * 20 * ms, kSeqTrace | round << 7 | ttl, p.dst, ttl, small, false);
    if (big > small && !p.local)
      for (int i = 0; i < 3; ++i) s.schedule(t0 + i * 30 * ms, kSeqBig | i, p.dst, 64, big, true);
  }
  const int64_t phase1_last = t0 + std::max<int64_t>((count - 1) * 3, 60) * ms;

  // distance: the smallest TTL the target itself answered
  auto distance = [&]() {
    int d = 0;
    for (const auto& [seq, pr] : s.probes)
      if ((seq & 0xE000) == kSeqTrace && pr.answered && !pr.time_exceeded && pr.from == p.dst) {
        int ttl = seq & 0x7f;
        if (!d || ttl < d) d = ttl;
      }
    return d;
  };
  auto trace_complete = [&]() {
    int d = distance();
    if (!d) return false;
    for (int ttl = 1; ttl < d; ++ttl) {
      bool any = false;
      for (int round = 0; round < kTraceRounds; ++round) {
        auto it = s.probes.find(kSeqTrace | round << 7 | ttl);
        if (it != s.probes.end() && it->second.answered) any = true;
      }
      if (!any) return false;
    }
    return true;
  };
  auto echo_stats = [&]() {
    return stats_of(s.probes, [](uint16_t seq, const Probe&) { return seq >= 1 && seq < 0x4000; });
  };
  auto big_answered = [&]() {
    for (int i = 0; i < 64; ++i) {
      auto it = s.probes.find(kSeqBig | i);
      if (it != s.probes.end() && it->second.answered && !it->second.time_exceeded) return true;
    }
    return !s.frag_needed.empty();
  };
  auto phase1_done = [&]() {
    if (s.conn.used && !s.conn.done) return false;
    if (!s.icmp_ok()) return true;
    int64_t now = now_ns();
    if (now < phase1_last) return false;
    auto e = echo_stats();
    bool echo_done = e.received == e.sent;
    bool trace_done = p.local || trace_complete();
    bool big_done = p.local || big <= small || big_answered();
    return (echo_done && trace_done && big_done) || now >= phase1_last + straggler_wait(s.probes);
  };
  s.run(t0 + static_cast<int64_t>(o.timeout_s * 1e9) + 2 * wait, phase1_done);

  // ---- the path: one address per TTL --------------------------------------------------
  auto hop_table = [&]() {
    std::map<int, IpAddr> hop;  // ttl -> first responder
    int d = distance();
    for (const auto& [seq, pr] : s.probes) {
      if ((seq & 0xE000) != kSeqTrace || !pr.answered) continue;
      int ttl = seq & 0x7f;
      if (d && ttl > d) continue;
      if (!hop.count(ttl)) hop[ttl] = pr.from;
    }
    return hop;
  };
  Stats echo = echo_stats();
  bool echo_partial = echo.received > 0 && echo.received < echo.sent;
  bool echo_none = s.icmp_ok() && echo.received == 0;
  int dist = distance();

  // ---- phase 2: where does loss start? -------------------------------------------------
  std::map<int, Stats> hop_loss;
  if (s.icmp_ok() && !p.local && (echo_partial || echo_none || (s.conn.used && s.conn.error == ETIMEDOUT))) {
    int64_t t1 = now_ns();
    // missing hops get up to ten more trace rounds (a lossy link eats time-exceeded
    // messages too; routers rate-limit them, so only the missing TTLs are asked)
    auto missing = hop_table();
    for (int round = 2; round < kTraceRounds; ++round)
      for (int ttl = 1; ttl <= (dist ? dist - 1 : hops); ++ttl)
        if (!missing.count(ttl))
          s.schedule(t1 + (round - 2) * 25 * ms, kSeqTrace | round << 7 | ttl, p.dst, ttl, small, false);
    s.run(t1 + (kTraceRounds - 2) * 25 * ms + 300 * ms, [&]() { return trace_complete(); });
    auto hop = hop_table();
    int64_t t2 = now_ns();
    int samples = std::min(count, 100);
    for (int k = 0; k < samples; ++k) {
      for (const auto& [ttl, addr] : hop)
        if (ttl < 120 && addr != p.dst) s.schedule(t2 + k * 3 * ms, kSeqHop | ttl << 8 | k, addr, 64, small, false);
      s.schedule(t2 + k * 3 * ms, kSeqEcho + 1 + count + k, p.dst, 64, small, false);
    }
    int64_t last = t2 + (samples - 1) * 3 * ms;
    s.run(last + wait, [&]() {
      if (now_ns() >= last + straggler_wait(s.probes)) return true;
      if (now_ns() < last) return false;
      for (const auto& [seq, pr] : s.probes)
        if (!pr.answered && !pr.blocked && ((seq & 0x8000) || seq < 0x4000)) return false;
      return true;
    });
    for (const auto& [ttl, addr] : hop) {
      if (addr == p.dst) continue;
      int t = ttl;
      hop_loss[ttl] = stats_of(s.probes, [t](uint16_t seq, const Probe&) {
        return (seq & 0x8000) && (seq & 0xF000) != kSeqHopBig && ((seq >> 8) & 0x7f) == t;
      });
    }
    echo = echo_stats();
    echo_partial = echo.received > 0 && echo.received < echo.sent;
    echo_none = echo.received == 0;
  }
  auto hop = hop_table();
  dist = distance();

  // ---- phase 3: large packets vanish? ------------------------------------------------
  std::optional<uint32_t> pmtu_icmp;
  for (const auto& f : s.frag_needed)
    if (f.mtu) pmtu_icmp = pmtu_icmp ? std::min(*pmtu_icmp, f.mtu) : f.mtu;
  bool big_lost = s.icmp_ok() && !p.local && big > small && !big_answered();
  uint32_t largest_ok = 0, smallest_bad = 0;
  std::string mtu_where;
  if (big_lost && echo.received > 0 && echo.loss() < 20) {
    uint32_t lo = static_cast<uint32_t>(small), hi = static_cast<uint32_t>(big);  // lo passes, hi does not
    uint16_t idx = 3;
    for (int round = 0; round < 3 && hi - lo > 1 && s.frag_needed.empty(); ++round) {
      std::vector<uint32_t> sizes;
      for (int i = 1; i <= 15; ++i) sizes.push_back(lo + (hi - lo) * i / 16);
      sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
      std::map<uint32_t, std::vector<uint16_t>> seqs;
      int64_t t3 = now_ns();
      for (uint32_t sz : sizes)
        for (int k = 0; k < 2; ++k) {
          if (idx >= 0x1fff) break;
          seqs[sz].push_back(kSeqBig | idx);
          s.schedule(t3 + k * 5 * ms, kSeqBig | idx++, p.dst, 64, sz, true);
        }
      double rtt = std::max(echo.max, 1.0);
      int64_t round_wait = static_cast<int64_t>(std::max(250.0, rtt * 4) * ms);
      s.run(t3 + round_wait, [&]() {
        for (auto& [sz, v] : seqs)
          for (uint16_t q : v)
            if (!s.probes[q].answered) return false;
        return true;
      });
      for (auto& [sz, v] : seqs) {
        bool ok = false;
        for (uint16_t q : v) ok = ok || (s.probes[q].answered && !s.probes[q].time_exceeded);
        if (ok) lo = std::max(lo, sz);
      }
      uint32_t new_hi = hi;
      for (auto& [sz, v] : seqs) {
        bool ok = false;
        for (uint16_t q : v) ok = ok || s.probes[q].answered;
        if (!ok && sz > lo) new_hi = std::min(new_hi, sz);
      }
      hi = new_hi;
    }
    largest_ok = lo;
    smallest_bad = hi;
    // which hop still gets the large ones
    if (s.frag_needed.empty()) {
      int64_t t4 = now_ns();
      for (const auto& [ttl, addr] : hop)
        if (addr != p.dst && ttl < 256)
          for (int k = 0; k < 2; ++k) s.schedule(t4 + k * 5 * ms, kSeqHopBig | (ttl & 0xff) << 4 | k, addr, 64, big, true);
      s.run(t4 + 300 * ms, [&]() { return false; });
      int last_ok = 0;
      for (const auto& [ttl, addr] : hop) {
        if (addr == p.dst) continue;
        bool ok = false;
        for (int k = 0; k < 2; ++k) {
          auto it = s.probes.find(kSeqHopBig | (ttl & 0xff) << 4 | k);
          ok = ok || (it != s.probes.end() && it->second.answered);
        }
        if (ok) last_ok = ttl;
        else {
          mtu_where = last_ok ? fmt::format("; they reach hop {} ({}) but not hop {} ({})", last_ok,
                                            hop[last_ok].to_string(), ttl, addr.to_string())
                              : fmt::format("; they do not even reach hop {} ({})", ttl, addr.to_string());
          break;
        }
      }
    }
    for (const auto& f : s.frag_needed)
      if (f.mtu) pmtu_icmp = pmtu_icmp ? std::min(*pmtu_icmp, f.mtu) : f.mtu;
  }

  // ---- reachability --------------------------------------------------------------------
  std::string port_text;
  std::string proto = o.udp ? "udp" : "tcp";
  Json conn_json = nullptr;
  if (s.conn.used) {
    uint16_t port = *o.target.port;
    double t_ms = s.conn.end_ns > s.conn.start_ns ? static_cast<double>(s.conn.end_ns - s.conn.start_ns) / 1e6 : 0;
    std::string result;
    if (s.conn.icmp) {
      result = "icmp";
    } else if (s.conn.error == 0) {
      result = o.udp ? "answered" : "connected";
    } else if (s.conn.error == ECONNREFUSED) {
      result = o.udp ? "port-unreachable" : "refused";
    } else if (s.conn.error == ETIMEDOUT) {
      result = o.udp && !s.conn.answered ? "no-answer" : "timeout";
    } else {
      result = "error";
    }
    conn_json = {{"protocol", proto},
                 {"port", port},
                 {"source", s.conn.src.to_string() + ":" + std::to_string(s.conn.sport)},
                 {"result", result},
                 {"errno", s.conn.error ? Json(std::strerror(s.conn.error)) : Json(nullptr)},
                 {"ms", t_ms}};
    if (s.conn.icmp)
      conn_json["icmp"] = {{"from", s.conn.icmp->from.to_string()},
                           {"type", s.conn.icmp->type},
                           {"code", s.conn.icmp->code},
                           {"text", icmp_error_name(p.dst.is_v6(), s.conn.icmp->type, s.conn.icmp->code)}};
    std::string pn = fmt::format("{}/{}{}", proto, port, port_name(port, o.udp));
    if (s.conn.error == 0)
      port_text = fmt::format("{} {} in {:.2f} ms", pn, o.udp ? "answered" : "connected", t_ms);
    else if (s.conn.icmp)
      port_text = fmt::format("{} rejected: {} from {} after {:.2f} ms", pn,
                              icmp_error_name(p.dst.is_v6(), s.conn.icmp->type, s.conn.icmp->code),
                              s.conn.icmp->from.to_string(), t_ms);
    else if (s.conn.error == ECONNREFUSED)
      port_text = o.udp ? fmt::format("{}: ICMP port unreachable from {} after {:.2f} ms", pn, p.dst.to_string(), t_ms)
                        : fmt::format("{} refused (RST) after {:.2f} ms", pn, t_ms);
    else if (s.conn.error == ETIMEDOUT)
      port_text = o.udp ? fmt::format("{}: no answer in {:.1f} s (open|filtered)", pn, o.timeout_s)
                        : fmt::format("{}: no answer to the SYN in {:.1f} s", pn, o.timeout_s);
    else
      port_text = fmt::format("{}: {} after {:.2f} ms", pn, std::strerror(s.conn.error), t_ms);
    out.flow = Flow{s.conn.src, p.dst, static_cast<uint8_t>(o.udp ? IPPROTO_UDP : IPPROTO_TCP), s.conn.sport, port};
  } else {
    out.flow = Flow{p.src, p.dst, static_cast<uint8_t>(p.dst.is_v6() ? int(IPPROTO_ICMPV6) : int(IPPROTO_ICMP)), 0, 0};
  }
  out.sent_blocked = s.sent_blocked;

  std::string ping_text;
  if (!s.icmp_ok())
    ping_text = "no ICMP socket (" + icmp_error + ")";
  else if (echo.received)
    ping_text = fmt::format("ping {}/{} answered, {:.0f}% loss, rtt {:.3f}/{:.3f}/{:.3f} ms", echo.received,
                            echo.sent, echo.loss(), echo.min, echo.avg, echo.max);
  else if (echo.blocked)
    ping_text = fmt::format("ping: {} of {} echoes refused by this host (sendto: Operation not permitted)",
                            echo.blocked, echo.sent);
  else if (!s.unreach_for_echo.empty())
    ping_text = fmt::format("ping 0/{}: {} from {}", echo.sent,
                            icmp_error_name(p.dst.is_v6(), s.unreach_for_echo[0].type, s.unreach_for_echo[0].code),
                            s.unreach_for_echo[0].from.to_string());
  else
    ping_text = fmt::format("ping 0/{} answered (100% loss)", echo.sent);
  reach.data = {{"icmp", s.icmp_ok() ? Json({{"sent", echo.sent},
                                              {"received", echo.received},
                                              {"loss_pct", echo.loss()},
                                              {"rtt_min_ms", echo.min},
                                              {"rtt_avg_ms", echo.avg},
                                              {"rtt_max_ms", echo.max},
                                              {"raw_socket", s.raw()}})
                                     : Json({{"error", icmp_error}})},
                {"connect", conn_json}};
  reach.summary = port_text.empty() ? ping_text : ping_text + "; " + port_text;

  bool conn_ok = !s.conn.used || s.conn.error == 0;
  // UDP silence is open|filtered, unless what we sent was a real query (DNS)
  bool conn_ambiguous = s.conn.used && o.udp && s.conn.error == ETIMEDOUT && !s.conn.icmp && !sends_dns_query(o);
  // for UDP, "port unreachable" from the target itself is how a closed port answers
  bool udp_closed = s.conn.used && o.udp && s.conn.icmp && s.conn.icmp->from == p.dst &&
                    (p.dst.is_v6() ? (s.conn.icmp->type == icmp6::dest_unreach && s.conn.icmp->code == 4)
                                   : (s.conn.icmp->type == icmp4::dest_unreach && s.conn.icmp->code == 3));
  if (conn_ok) {
    reach.status = echo_none || echo_partial ? Status::warn : Status::pass;
  } else if (conn_ambiguous) {
    reach.status = Status::warn;
  } else if (udp_closed) {
    reach.status = Status::fail;
    reach.fault = "port-closed";
    reach.message = fmt::format("nothing listens on udp/{} at {}: it answers with ICMP port unreachable",
                                *o.target.port, p.dst.to_string());
  } else if (s.conn.icmp) {
    reach.status = Status::fail;
    reach.fault = "rejected";
    reach.message = fmt::format("{}:{} is rejected by {} with {}", p.dst.to_string(), *o.target.port,
                                s.conn.icmp->from.to_string(),
                                icmp_error_name(p.dst.is_v6(), s.conn.icmp->type, s.conn.icmp->code));
  } else if (s.conn.error == ECONNREFUSED) {
    reach.status = Status::fail;
    reach.fault = "port-closed";
    reach.message = o.udp ? fmt::format("nothing listens on {}/{} at {} (ICMP port unreachable)", proto,
                                        *o.target.port, p.dst.to_string())
                          : fmt::format("nothing listens on {}/{} at {}: it answers the SYN with RST", proto,
                                        *o.target.port, p.dst.to_string());
  } else if (s.conn.error == ETIMEDOUT && echo_partial) {
    reach.status = Status::warn;  // the path layer names the loss
  } else if (s.conn.error == ETIMEDOUT && echo.received > 0) {
    reach.status = Status::fail;
    reach.fault = "filtered";
    reach.message = fmt::format("{}/{} gets no answer in {:.1f} s while {} answers ping: {}", proto,
                                *o.target.port, o.timeout_s, p.dst.to_string(),
                                o.udp ? "no DNS server answers there, or a firewall drops the queries"
                                      : "a firewall drops it (at the target or on the path)");
  } else if (s.conn.error == EHOSTUNREACH || s.conn.error == ENETUNREACH || s.conn.error == EACCES ||
             s.conn.error == EPERM) {
    reach.status = Status::fail;
    reach.fault = "rejected";
    reach.message = fmt::format("{}/{} to {} fails with {} (an ICMP unreachable or a local rule)", proto,
                                *o.target.port, p.dst.to_string(), std::strerror(s.conn.error));
  } else {
    reach.status = Status::fail;
    reach.fault = "host-unreachable";
    std::string last;
    int last_ttl = 0;
    for (const auto& [ttl, addr] : hop)
      if (addr != p.dst && ttl > last_ttl) last_ttl = ttl, last = addr.to_string();
    reach.message = fmt::format("nothing answers from {}: {}{}", p.dst.to_string(),
                                port_text.empty() ? ping_text : port_text,
                                last_ttl ? fmt::format("; the path answers up to hop {} ({})", last_ttl, last) : "");
  }
  if (!s.conn.used && echo_none && s.icmp_ok()) {
    reach.status = Status::fail;
    reach.fault = echo.blocked ? "rejected" : "host-unreachable";
    if (!s.unreach_for_echo.empty()) {
      reach.fault = "rejected";
      reach.message = fmt::format("{} is rejected by {} with {}", p.dst.to_string(), s.unreach_for_echo[0].from.to_string(),
                                  icmp_error_name(p.dst.is_v6(), s.unreach_for_echo[0].type, s.unreach_for_echo[0].code));
    } else {
      reach.message = ping_text;
    }
  }

  // ---- path ------------------------------------------------------------------------------
  Json hops_json = Json::array();
  int max_ttl = 0;
  for (const auto& [ttl, addr] : hop) max_ttl = std::max(max_ttl, ttl);
  for (int ttl = 1; ttl <= max_ttl; ++ttl) {
    auto it = hop.find(ttl);
    double rtt = -1;
    for (int round = 0; round < kTraceRounds; ++round) {
      auto pr = s.probes.find(kSeqTrace | round << 7 | ttl);
      if (pr != s.probes.end() && pr->second.answered) rtt = rtt < 0 ? pr->second.rtt_ms : std::min(rtt, pr->second.rtt_ms);
    }
    std::string addr = it == hop.end() ? "*" : it->second.to_string();
    std::string loss;
    Json lj = nullptr;
    if (auto hl = hop_loss.find(ttl); hl != hop_loss.end()) {
      loss = fmt::format("  loss {:.0f}% ({}/{})", hl->second.loss(), hl->second.sent - hl->second.received, hl->second.sent);
      lj = hl->second.loss();
    } else if (it != hop.end() && it->second == p.dst && (!hop_loss.empty())) {
      loss = fmt::format("  loss {:.0f}% ({}/{})", echo.loss(), echo.sent - echo.received, echo.sent);
      lj = echo.loss();
    }
    path.details.push_back(fmt::format("{:>2}  {:<39} {}{}", ttl, addr, rtt < 0 ? "*" : fmt::format("{:.3f} ms", rtt), loss));
    hops_json.push_back({{"ttl", ttl},
                         {"address", it == hop.end() ? Json(nullptr) : Json(addr)},
                         {"rtt_ms", rtt < 0 ? Json(nullptr) : Json(rtt)},
                         {"loss_pct", lj}});
  }
  // where loss starts: the first hop from which every later hop (and the target) loses
  int loss_start = 0;
  if (echo_partial || (echo_none && !s.conn.used)) {
    for (int ttl = max_ttl; ttl >= 1; --ttl) {
      auto hl = hop_loss.find(ttl);
      auto h = hop.find(ttl);
      bool lossy;
      if (h != hop.end() && h->second == p.dst) lossy = significant_loss(echo);
      else if (hl != hop_loss.end()) lossy = significant_loss(hl->second) || hl->second.received == 0;
      else lossy = true;  // silent hop: does not contradict
      if (!lossy) break;
      loss_start = ttl;
    }
    if (echo_partial && !significant_loss(echo)) loss_start = 0;
  }
  path.data = {{"hops", hops_json},
               {"distance", dist ? Json(dist) : Json(nullptr)},
               {"interface_mtu", p.mtu},
               {"path_mtu_icmp", pmtu_icmp ? Json(*pmtu_icmp) : Json(nullptr)},
               {"largest_df_ok", largest_ok ? Json(largest_ok) : Json(nullptr)},
               {"smallest_df_lost", smallest_bad ? Json(smallest_bad) : Json(nullptr)}};
  std::string ifname = p.link.name.empty() ? "the interface" : p.link.name;
  if (p.local) {
    path.status = Status::skip;
    path.summary = "local address: no path";
  } else if (!s.icmp_ok()) {
    path.status = Status::skip;
    path.summary = "no ICMP socket: " + icmp_error;
  } else if (echo_partial && loss_start && significant_loss(echo)) {
    auto h = hop.find(loss_start);
    std::string who = h == hop.end() ? "no reply" : h->second.to_string();
    path.status = Status::fail;
    path.fault = "loss";
    path.summary = fmt::format("{:.0f}% loss to {}, starting at hop {} ({})", echo.loss(), p.dst.to_string(),
                               loss_start, who);
    path.message = fmt::format("{:.0f}% of packets to {} are lost; loss starts at hop {} ({}){}", echo.loss(),
                               p.dst.to_string(), loss_start, who,
                               loss_start > 1 && hop.count(loss_start - 1)
                                   ? fmt::format(": the link after hop {} ({})", loss_start - 1,
                                                 hop[loss_start - 1].to_string())
                                   : "");
  } else if (echo_partial && significant_loss(echo)) {
    path.status = Status::fail;
    path.fault = "loss";
    path.summary = fmt::format("{:.0f}% loss to {}", echo.loss(), p.dst.to_string());
    path.message = path.summary + " (the hops do not show where it starts)";
  } else if (big_lost && largest_ok && s.frag_needed.empty() && echo.received > 0) {
    path.status = Status::fail;
    path.fault = "mtu-blackhole";
    path.summary = fmt::format("MTU blackhole: DF packets of {} bytes pass, {} bytes vanish with no ICMP "
                               "fragmentation-needed; {} MTU is {}{}",
                               largest_ok, smallest_bad, ifname, p.mtu, mtu_where);
    path.message = path.summary + fmt::format(" (path MTU {} < {}: lower the MTU or clamp the TCP MSS)", largest_ok, p.mtu);
  } else if (pmtu_icmp && *pmtu_icmp < p.mtu) {
    path.status = Status::warn;
    path.summary = fmt::format("{} hop{}; path MTU {} < {} MTU {} (a router says so; PMTU discovery works{})",
                               dist ? dist : max_ttl, (dist ? dist : max_ttl) == 1 ? "" : "s", *pmtu_icmp, ifname, p.mtu,
                               p.mtu - *pmtu_icmp == 50 ? ": exactly VXLAN's 50 bytes" : "");
  } else if (echo_none && !s.conn.used) {
    path.status = Status::fail;
    path.fault = "loss";
    int last_ttl = 0;
    for (const auto& [ttl, addr] : hop)
      if (addr != p.dst) last_ttl = std::max(last_ttl, ttl);
    path.summary = last_ttl ? fmt::format("the path ends after hop {} ({})", last_ttl, hop[last_ttl].to_string())
                            : "no hop answers";
    path.message = "100% loss to " + p.dst.to_string() + ": " + path.summary;
  } else {
    path.status = dist ? Status::pass : Status::warn;
    path.summary = dist ? fmt::format("{} hop{}, no loss; path MTU {} = {} MTU", dist, dist == 1 ? "" : "s",
                                      big_lost ? largest_ok : p.mtu, ifname)
                        : fmt::format("the target does not answer TTL-limited probes ({} hops seen)", max_ttl);
  }
  return out;
}

}  // namespace netshoot::applet::doctor

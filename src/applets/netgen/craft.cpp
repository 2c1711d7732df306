// `netgen craft` / `hping3`: hand-built TCP, UDP, ICMP or raw IP packets (IPv4 and
// IPv6) sent through an IPPROTO_RAW socket, replies read from an AF_PACKET socket
// and matched to their probe (by port, ICMP id/seq, or the packet an ICMP error
// quotes). hping3's lines and statistics, or nping-like SENT/RCVD lines.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "netgen.h"
#include "netshoot/addr.h"
#include "netshoot/applet.h"
#include "netshoot/fd.h"
#include "netshoot/netlink.h"
#include "netshoot/output.h"
#include "netshoot/resolver.h"
#include "netshoot/socket.h"

namespace netshoot::applet::netgen {
namespace {

using core::ConstBytes;
using core::IpAddr;
using core::Json;
using core::UniqueFd;
using Clock = std::chrono::steady_clock;


uint32_t random32() {
  uint32_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != sizeof v) v = uint32_t(::getpid()) * 2654435761u;
  return v;
}

const char* mode_name(CraftMode m) {
  switch (m) {
    case CraftMode::tcp: return "tcp";
    case CraftMode::udp: return "udp";
    case CraftMode::icmp: return "icmp";
    case CraftMode::rawip: return "rawip";
  }
  return "?";
}

struct Probe {
  uint64_t index = UINT64_MAX;
  Clock::time_point sent;
  bool answered = false;
};

// What a reply says, decoded once for both output styles.
struct Reply {
  IpAddr from;
  size_t len = 0;     // IP total length
  int ttl = 0;
  uint16_t ip_id = 0;
  bool df = false;
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t flags = 0;
  uint32_t seq = 0, ack = 0;
  uint16_t win = 0;
  uint8_t icmp_type = 0, icmp_code = 0;
  uint16_t icmp_id = 0, icmp_seq = 0;
  bool icmp_error = false;
  uint16_t quoted_port = 0;  // the source port of the quoted probe (errors)
  std::string tcp_opts;      // nping's " <mss 1460,...>" rendering of the reply's TCP options
  uint64_t probe = 0;
  double rtt_ms = 0;
};

class Crafter {
 public:
  Crafter(Context& ctx, const CraftOptions& o) : ctx_(ctx), o_(o), out_(core::Output::make(ctx.json)) {}
  int run();

 private:
  core::Status setup();
  size_t build(uint64_t i, uint8_t* buf, size_t cap);
  uint16_t sport_of(uint64_t i) const { return o_.keep_src_port ? base_sport_ : uint16_t(base_sport_ + i); }
  // nping keeps one IP id for every probe; hping3 and craft count up.
  uint16_t ipid_of(uint64_t i) const { return o_.ip_id ? *o_.ip_id : o_.nping ? base_id_ : uint16_t(base_id_ + i); }
  // Round-robin over the -p list.
  uint16_t dport_of(uint64_t i) const {
    return o_.dst_ports.empty() ? o_.dst_port : o_.dst_ports[size_t(i % o_.dst_ports.size())];
  }
  bool is_dport(uint16_t p) const { return port_set_.empty() ? p == o_.dst_port : bool(port_set_[p]); }
  // nping numbers ICMP echoes from 1.
  uint16_t icmp_seq_of(uint64_t i) const { return uint16_t(o_.nping ? i + 1 : i); }
  uint16_t icmp_probe_low16(uint16_t seq) const { return uint16_t(o_.nping ? seq - 1 : seq); }
  // -c counts rounds: a round probes every port of the -p list once.
  uint64_t total_probes() const { return o_.count * std::max<uint64_t>(1, o_.dst_ports.size()); }
  const char* prog() const { return o_.hping ? "hping3" : o_.nping ? "nping" : "netgen"; }
  bool send_one(uint64_t i);
  void send_flood_batch();
  void receive();
  bool match(ConstBytes ip, Reply& r);
  Probe* probe_by_low16(uint16_t low);
  Probe* oldest_unanswered(std::optional<uint16_t> dport = std::nullopt);
  void print_probe_nping(uint64_t i, ConstBytes pkt, double t);
  void print_reply_nping(const Reply& r, double t);
  void summary_nping(double secs, double loss, double avg);
  void print_probe(uint64_t i, ConstBytes pkt);
  void print_reply(const Reply& r);
  void summary();
  size_t header_bytes() const;

  Context& ctx_;
  CraftOptions o_;
  std::unique_ptr<core::Output> out_;
  IpAddr dst_, src_;
  std::string ifname_;
  int ifindex_ = 0;                 // -e: replies only from this interface
  std::vector<bool> port_set_;      // the -p list, for matching replies
  UniqueFd send_fd_, recv_fd_;
  uint16_t base_sport_ = 0, base_id_ = 0, icmp_id_ = 0;
  uint32_t base_seq_ = 0;
  std::vector<Probe> ring_ = std::vector<Probe>(65536);
  uint64_t sent_ = 0, received_ = 0, bytes_sent_ = 0, bytes_received_ = 0;
  double rtt_min_ = 0, rtt_max_ = 0, rtt_sum_ = 0;
  Clock::time_point t0_;
};

size_t Crafter::header_bytes() const {
  size_t ip = dst_.is_v4() ? 20 : 40;
  switch (o_.mode) {
    case CraftMode::tcp: return ip + 20;
    case CraftMode::udp: case CraftMode::icmp: return ip + 8;
    case CraftMode::rawip: return ip;
  }
  return ip;
}

core::Status Crafter::setup() {
  if (auto a = IpAddr::try_parse(o_.host)) {
    dst_ = *a;
  } else {
    auto r = core::dns::resolve_host(o_.host, o_.family ? o_.family : AF_UNSPEC);
    if (!r) return r.error();
    if (r->empty()) return core::make_error(o_.host + ": No address associated with hostname");
    dst_ = (*r)[0].addr;
  }
  if (o_.family && dst_.family() != o_.family) return core::make_error(o_.host + ": Address family for hostname not supported");
  auto route = core::route_get(dst_);
  if (route) {
    char name[IF_NAMESIZE] = {};
    if (route->oif && ::if_indextoname(unsigned(route->oif), name)) ifname_ = name;
    if (route->prefsrc) src_ = *route->prefsrc;
  }
  if (!o_.source.empty()) {
    auto s = IpAddr::try_parse(o_.source);
    if (!s) return core::make_error("source address '" + o_.source + "' is not an IP address");
    if (s->family() != dst_.family()) return core::make_error("source " + o_.source + " and target " + dst_.to_string() + " are of different families");
    src_ = *s;
  } else if (!route) {
    return core::make_error("no route to " + dst_.to_string() + ": " + route.error().message());
  } else if (!route->prefsrc) {
    src_ = IpAddr::any(dst_.family());
    if (dst_.is_loopback()) src_ = dst_;
  }
  if (!o_.interface.empty()) {
    ifindex_ = int(::if_nametoindex(o_.interface.c_str()));
    if (ifindex_ == 0) return core::make_error("interface " + o_.interface + ": no such device");
    ifname_ = o_.interface;
  }
  if (ifname_.empty()) ifname_ = "?";
  auto s = core::open_raw_socket(dst_.family(), IPPROTO_RAW);
  if (!s) return s.error();
  send_fd_ = std::move(*s);
  (void)core::set_send_buffer(send_fd_.get(), 4 << 20);
  if (!o_.interface.empty())
    if (auto b = core::bind_to_device(send_fd_.get(), o_.interface); !b) return b.error();
  if (o_.dst_ports.size() > 1) {
    port_set_.assign(65536, false);
    for (uint16_t p : o_.dst_ports) port_set_[p] = true;
  }
  if (!o_.flood && !o_.no_capture) {
    int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) return core::os_error("socket(AF_PACKET)", "CAP_NET_RAW");
    recv_fd_.reset(fd);
    (void)core::set_recv_buffer(fd, 4 << 20);
  }
  base_sport_ = o_.src_port ? *o_.src_port : uint16_t(1024 + random32() % (o_.nping ? 64000 : 30000));
  base_id_ = uint16_t(random32());
  icmp_id_ = uint16_t(::getpid());
  base_seq_ = o_.tcp_seq ? *o_.tcp_seq : random32();
  return {};
}

size_t Crafter::build(uint64_t i, uint8_t* buf, size_t cap) {
  bool v6 = dst_.is_v6();
  bool v6frag = v6 && (o_.frag_offset || o_.more_fragments);
  size_t iph = v6 ? 40 + (v6frag ? 8 : 0) : 20;
  if (cap < iph) return 0;
  core::MutableBytes l4{buf + iph, cap - iph};
  ConstBytes payload{o_.payload.data(), o_.payload.size()};
  size_t l4len = 0;
  uint8_t proto = 0;
  switch (o_.mode) {
    case CraftMode::tcp: {
      core::TcpFields f;
      f.src_port = sport_of(i);
      f.dst_port = dport_of(i);
      f.seq = o_.tcp_seq ? *o_.tcp_seq : base_seq_;
      f.ack = o_.tcp_ack.value_or(0);
      f.flags = o_.tcp_flags;
      f.window = o_.window;
      l4len = core::write_tcp(l4, src_, dst_, f, payload);
      proto = core::ipproto::tcp;
      break;
    }
    case CraftMode::udp:
      l4len = core::write_udp(l4, src_, dst_, sport_of(i), dport_of(i), payload);
      proto = core::ipproto::udp;
      break;
    case CraftMode::icmp:
      if (v6) {
        l4len = core::write_icmpv6_echo(l4, src_, dst_, icmp_id_, icmp_seq_of(i), payload);
        proto = core::ipproto::icmpv6;
      } else {
        l4len = core::write_icmp_echo(l4, icmp_id_, icmp_seq_of(i), payload);
        proto = core::ipproto::icmp;
      }
      break;
    case CraftMode::rawip:
      if (payload.size() > l4.size()) return 0;
      std::memcpy(l4.data(), payload.data(), payload.size());
      l4len = payload.size();
      proto = o_.ip_proto;
      break;
  }
  if (l4len == 0 && !(o_.mode == CraftMode::rawip && payload.empty())) return 0;
  if (!v6) {
    core::Ipv4Fields f;
    f.src = src_;
    f.dst = dst_;
    f.protocol = proto;
    f.ttl = o_.ttl;
    f.tos = o_.tos;
    f.id = ipid_of(i);
    f.dont_fragment = o_.dont_fragment;
    f.more_fragments = o_.more_fragments;
    f.fragment_offset = o_.frag_offset;
    if (core::write_ipv4_header({buf, iph}, f, l4len) == 0) return 0;
  } else {
    core::Ipv6Fields f;
    f.src = src_;
    f.dst = dst_;
    f.next_header = v6frag ? core::ipproto::fragment : proto;
    f.hop_limit = o_.ttl;
    f.traffic_class = o_.tos;
    if (core::write_ipv6_header({buf, 40}, f, l4len + (v6frag ? 8 : 0)) == 0) return 0;
    if (v6frag &&
        core::write_ipv6_fragment_header({buf + 40, 8}, proto, o_.frag_offset, o_.more_fragments, ipid_of(i)) == 0)
      return 0;
  }
  return iph + l4len;
}

bool Crafter::send_one(uint64_t i) {
  uint8_t buf[65600];
  size_t n = build(i, buf, sizeof buf);
  if (n == 0) return false;
  sockaddr_storage ss{};
  socklen_t sl = dst_.to_sockaddr(0, ss);
  Probe& p = ring_[i & 0xffff];
  p.index = i;
  p.sent = Clock::now();
  p.answered = false;
  if (::sendto(send_fd_.get(), buf, n, 0, reinterpret_cast<sockaddr*>(&ss), sl) < 0) {
    std::fprintf(stderr, "%s: sendto: %s\n", prog(), std::strerror(errno));
    return false;
  }
  ++sent_;
  bytes_sent_ += n;
  if (!o_.hping && !o_.quiet && !o_.hide_sent) print_probe(i, {buf, n});
  return true;
}

void Crafter::send_flood_batch() {
  constexpr size_t kBatch = 64;
  static thread_local std::vector<uint8_t> bufs(kBatch * 2048);
  mmsghdr mm[kBatch];
  iovec iov[kBatch];
  sockaddr_storage ss{};
  socklen_t sl = dst_.to_sockaddr(0, ss);
  size_t k = kBatch;
  if (o_.count) k = size_t(std::min<uint64_t>(k, total_probes() - sent_));
  size_t cap = o_.payload.size() + 128 <= 2048 ? 2048 : 0;
  for (size_t j = 0; j < k; ++j) {
    size_t n = cap ? build(sent_ + j, bufs.data() + j * 2048, cap) : 0;
    if (n == 0) {  // large payloads: one by one
      if (!send_one(sent_)) g_stop = 1;
      return;
    }
    iov[j] = {bufs.data() + j * 2048, n};
    mm[j] = {};
    mm[j].msg_hdr.msg_iov = &iov[j];
    mm[j].msg_hdr.msg_iovlen = 1;
    mm[j].msg_hdr.msg_name = &ss;
    mm[j].msg_hdr.msg_namelen = sl;
  }
  int r = ::sendmmsg(send_fd_.get(), mm, unsigned(k), 0);
  if (r < 0) {
    if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) return;
    std::fprintf(stderr, "%s: sendmmsg: %s\n", prog(), std::strerror(errno));
    g_stop = 1;
    return;
  }
  for (int j = 0; j < r; ++j) bytes_sent_ += iov[j].iov_len;
  sent_ += uint64_t(r);
}

Probe* Crafter::probe_by_low16(uint16_t low) {
  Probe& p = ring_[low];
  if (p.index == UINT64_MAX) return nullptr;
  return &p;
}

Probe* Crafter::oldest_unanswered(std::optional<uint16_t> dport) {
  uint64_t from = sent_ > 65536 ? sent_ - 65536 : 0;
  Probe* last = nullptr;
  for (uint64_t i = from; i < sent_; ++i) {
    Probe& p = ring_[i & 0xffff];
    if (dport && dport_of(i) != *dport) continue;
    if (p.index == i && !p.answered) return &p;
    if (p.index == i) last = &p;
  }
  if (dport) return last;  // a late duplicate: the newest probe to that port
  return sent_ ? &ring_[(sent_ - 1) & 0xffff] : nullptr;
}

// nping's " <mss 1460,sackOK,timestamp 1 2,wscale 7>" after a TCP reply (empty: no options).
std::string tcp_options_text(const core::TcpOptions& t) {
  std::vector<std::string> parts;
  if (t.has_mss) parts.push_back(fmt::format("mss {}", t.mss));
  if (t.sack_permitted) parts.push_back("sackOK");
  if (t.has_timestamps) parts.push_back(fmt::format("timestamp {} {}", t.ts_val, t.ts_ecr));
  if (t.has_wscale) parts.push_back(fmt::format("wscale {}", t.wscale));
  if (parts.empty()) return {};
  std::string s = " <";
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? "," : "") + parts[i];
  return s + ">";
}

// Decodes an IP packet; true when it answers one of our probes.
bool Crafter::match(ConstBytes ip, Reply& r) {
  if (ip.empty()) return false;
  ConstBytes l4;
  uint8_t proto = 0;
  IpAddr to;
  if ((ip[0] >> 4) == 4) {
    core::Ipv4View v;
    if (core::Ipv4View::parse(ip, v) != core::PacketError::none || v.is_fragment()) return false;
    r.from = v.src();
    to = v.dst();
    r.len = v.total_length();
    r.ttl = v.ttl();
    r.ip_id = v.id();
    r.df = v.dont_fragment();
    proto = v.protocol();
    l4 = v.payload();
  } else if ((ip[0] >> 4) == 6) {
    core::Ipv6View v;
    if (core::Ipv6View::parse(ip, v) != core::PacketError::none || v.upper_layer_opaque()) return false;
    r.from = v.src();
    to = v.dst();
    r.len = size_t(v.payload_length()) + 40;
    r.ttl = v.hop_limit();
    proto = v.upper_protocol();
    l4 = v.payload();
  } else {
    return false;
  }
  if (r.from.family() != dst_.family()) return false;
  if (!src_.is_unspecified() && to != src_) return false;
  r.proto = proto;
  Probe* p = nullptr;
  bool is_icmp = proto == core::ipproto::icmp || proto == core::ipproto::icmpv6;
  if (is_icmp) {
    uint8_t type = 0, code = 0;
    ConstBytes quoted;
    bool error = false, echo_reply = false;
    if (proto == core::ipproto::icmp) {
      core::IcmpView iv;
      if (core::IcmpView::parse(l4, iv) != core::PacketError::none) return false;
      type = iv.type(), code = iv.code();
      error = iv.is_error();
      echo_reply = type == core::icmp4::echo_reply;
      r.icmp_id = iv.echo_id(), r.icmp_seq = iv.echo_seq();
      quoted = iv.payload();
    } else {
      core::Icmpv6View iv;
      if (core::Icmpv6View::parse(l4, iv) != core::PacketError::none) return false;
      type = iv.type(), code = iv.code();
      error = iv.is_error();
      echo_reply = type == core::icmp6::echo_reply;
      r.icmp_id = iv.echo_id(), r.icmp_seq = iv.echo_seq();
      quoted = iv.payload();
    }
    r.icmp_type = type, r.icmp_code = code;
    if (echo_reply) {
      if (o_.mode != CraftMode::icmp || r.from != dst_ || r.icmp_id != icmp_id_) return false;
      p = probe_by_low16(icmp_probe_low16(r.icmp_seq));
    } else if (error) {
      // The quoted probe: our destination, our protocol, our ports / id / seq.
      r.icmp_error = true;
      ConstBytes inner;
      uint8_t inner_proto = 0;
      uint16_t inner_id = 0;
      if (dst_.is_v4()) {
        core::Ipv4View q;
        if (core::Ipv4View::parse(quoted, q) != core::PacketError::none || q.dst() != dst_) return false;
        inner = q.payload(), inner_proto = q.protocol(), inner_id = q.id();
      } else {
        core::Ipv6View q;
        if (core::Ipv6View::parse(quoted, q) != core::PacketError::none || q.dst() != dst_) return false;
        inner = q.payload(), inner_proto = q.upper_protocol(), inner_id = uint16_t(q.fragment_id());
      }
      switch (o_.mode) {
        case CraftMode::tcp:
        case CraftMode::udp: {
          if (inner_proto != (o_.mode == CraftMode::tcp ? core::ipproto::tcp : core::ipproto::udp) || inner.size() < 4)
            return false;
          uint16_t sp = core::load_be16(inner.data());
          uint16_t dp = core::load_be16(inner.data() + 2);
          if (!is_dport(dp)) return false;
          r.quoted_port = sp;
          r.sport = dp;
          if (o_.keep_src_port && sp != base_sport_) return false;
          p = o_.keep_src_port ? oldest_unanswered(dp) : probe_by_low16(uint16_t(sp - base_sport_));
          break;
        }
        case CraftMode::icmp:
          if (inner.size() < 8 || core::load_be16(inner.data() + 4) != icmp_id_) return false;
          p = probe_by_low16(icmp_probe_low16(core::load_be16(inner.data() + 6)));
          break;
        case CraftMode::rawip:
          if (inner_proto != o_.ip_proto) return false;
          p = o_.ip_id || dst_.is_v6() ? oldest_unanswered() : probe_by_low16(uint16_t(inner_id - base_id_));
          break;
      }
    } else {
      return false;
    }
  } else if (r.from == dst_ && proto == core::ipproto::tcp && o_.mode == CraftMode::tcp) {
    core::TcpView t;
    if (core::TcpView::parse(l4, t) != core::PacketError::none) return false;
    if (!is_dport(t.src_port())) return false;
    r.sport = t.src_port(), r.dport = t.dst_port(), r.flags = t.flags(), r.seq = t.seq(), r.ack = t.ack(),
    r.win = t.window();
    if (o_.nping && t.header_length() > core::TcpView::kMinHeader) r.tcp_opts = tcp_options_text(t.options());
    uint16_t off = uint16_t(r.dport - base_sport_);
    if (o_.keep_src_port) {
      if (r.dport != base_sport_) return false;
      p = oldest_unanswered(r.sport);
    } else {
      p = probe_by_low16(off);
    }
  } else if (r.from == dst_ && proto == core::ipproto::udp && o_.mode == CraftMode::udp) {
    core::UdpView u;
    if (core::UdpView::parse(l4, u) != core::PacketError::none) return false;
    if (!is_dport(u.src_port())) return false;
    r.sport = u.src_port(), r.dport = u.dst_port();
    p = o_.keep_src_port ? (r.dport == base_sport_ ? oldest_unanswered(r.sport) : nullptr)
                         : probe_by_low16(uint16_t(r.dport - base_sport_));
  } else if (r.from == dst_ && o_.mode == CraftMode::rawip && proto == o_.ip_proto) {
    p = oldest_unanswered();
  } else {
    return false;
  }
  if (!p || p->index == UINT64_MAX) return false;
  r.probe = p->index;
  r.rtt_ms = std::chrono::duration<double, std::milli>(Clock::now() - p->sent).count();
  p->answered = true;
  return true;
}

void Crafter::receive() {
  uint8_t buf[65600];
  for (int k = 0; k < 256; ++k) {
    sockaddr_ll sll{};
    socklen_t sl = sizeof sll;
    ssize_t n = ::recvfrom(recv_fd_.get(), buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sll), &sl);
    if (n < 0) return;
    if (sll.sll_pkttype == PACKET_OUTGOING) continue;
    if (ifindex_ && sll.sll_ifindex != ifindex_) continue;
    uint16_t proto = ntohs(sll.sll_protocol);
    if (proto != ETH_P_IP && proto != ETH_P_IPV6) continue;
    Reply r;
    if (!match({buf, size_t(n)}, r)) continue;
    ++received_;
    bytes_received_ += r.len;
    if (received_ == 1 || r.rtt_ms < rtt_min_) rtt_min_ = r.rtt_ms;
    if (received_ == 1 || r.rtt_ms > rtt_max_) rtt_max_ = r.rtt_ms;
    rtt_sum_ += r.rtt_ms;
    print_reply(r);
  }
}

std::string icmp_error_text(bool v6, uint8_t type, uint8_t code) {
  if (!v6) {
    if (type == core::icmp4::time_exceeded) return code ? "TTL 0 during reassembly" : "TTL 0 during transit";
    if (type == core::icmp4::dest_unreach) {
      static const char* names[] = {"Network Unreachable", "Host Unreachable", "Protocol Unreachable",
                                    "Port Unreachable", "Fragmentation Needed/DF set", "Source Route failed",
                                    "Destination Network Unknown", "Destination Host Unknown",
                                    "Source Host Isolated", "Destination Network Prohibited",
                                    "Destination Host Prohibited", "Network Unreachable for TOS",
                                    "Host Unreachable for TOS", "Communication Administratively Prohibited",
                                    "Host Precedence Violation", "Precedence cutoff in effect"};
      if (code < 16) return std::string("ICMP ") + names[code];
    }
    if (type == core::icmp4::param_problem) return "ICMP Parameter Problem";
    return fmt::format("ICMP type={} code={}", type, code);
  }
  if (type == core::icmp6::time_exceeded) return code ? "Hop limit 0 during reassembly" : "Hop limit 0 during transit";
  if (type == core::icmp6::dest_unreach) {
    static const char* names[] = {"No route to destination", "Communication Administratively Prohibited",
                                  "Beyond scope of source address", "Address Unreachable", "Port Unreachable",
                                  "Source address failed policy", "Reject route"};
    if (code < 7) return std::string("ICMPv6 ") + names[code];
  }
  if (type == core::icmp6::packet_too_big) return "ICMPv6 Packet Too Big";
  return fmt::format("ICMPv6 type={} code={}", type, code);
}

// nping's wording for the ICMP messages a probe gets back.
std::string nping_icmp_text(bool v6, uint8_t type, uint8_t code) {
  if (!v6) {
    switch (type) {
      case core::icmp4::echo_reply: return "Echo reply";
      case core::icmp4::dest_unreach: {
        static const char* names[] = {"Network unreachable", "Host unreachable", "Protocol unreachable",
                                      "Port unreachable", "Fragmentation required", "Source route failed",
                                      "Destination network unknown", "Destination host unknown",
                                      "Source host isolated", "Destination network administratively prohibited",
                                      "Destination host administratively prohibited",
                                      "Network unreachable for TOS", "Host unreachable for TOS",
                                      "Communication administratively prohibited by filtering",
                                      "Host precedence violation", "Precedence cutoff in effect"};
        return code < 16 ? names[code] : "Destination unreachable";
      }
      case core::icmp4::time_exceeded: return code ? "Fragment reassembly time exceeded" : "TTL=0 during transit";
      case core::icmp4::param_problem: return "Parameter problem";
      default: return "ICMP message";
    }
  }
  switch (type) {
    case core::icmp6::echo_reply: return "Echo reply";
    case core::icmp6::dest_unreach: {
      static const char* names[] = {"No route to destination", "Communication administratively prohibited",
                                    "Beyond scope of source address", "Address unreachable", "Port unreachable",
                                    "Source address failed policy", "Reject route"};
      return code < 7 ? names[code] : "Destination unreachable";
    }
    case core::icmp6::packet_too_big: return "Packet too big";
    case core::icmp6::time_exceeded: return code ? "Fragment reassembly time exceeded" : "Hop limit exceeded";
    default: return "ICMPv6 message";
  }
}

void Crafter::print_reply_nping(const Reply& r, double t) {
  // IPv4: nping's " ttl=.. id=.. iplen=.." / "IP [...]"; IPv6 lines carry no IP part (as nping's).
  bool v4 = dst_.is_v4();
  std::string ipf = v4 ? fmt::format("ttl={} id={} iplen={} ", r.ttl, r.ip_id, r.len) : "";
  std::string text;
  const char* icmp = v4 ? "ICMP" : "ICMPv6";
  if (r.proto == core::ipproto::icmp || r.proto == core::ipproto::icmpv6) {
    std::string body = fmt::format("{} > {} {} (type={}/code={}) ", r.from.to_string(), src_.to_string(),
                                   nping_icmp_text(!v4, r.icmp_type, r.icmp_code), r.icmp_type, r.icmp_code);
    if (!r.icmp_error) {
      body.pop_back();
      body += fmt::format(" id={} seq={}", r.icmp_id, r.icmp_seq);
    }
    text = fmt::format("RCVD ({:.4f}s) {} [{}]", t, icmp, body);
    if (v4) text += fmt::format(" IP [{}]", ipf);
  } else if (r.proto == core::ipproto::tcp) {
    std::string tail = r.tcp_opts.empty() ? " " : r.tcp_opts;
    text = fmt::format("RCVD ({:.4f}s) TCP {}:{} > {}:{} {} {}{}seq={} win={}{}", t, r.from.to_string(), r.sport,
                       src_.to_string(), r.dport, nping_flags(r.flags), ipf, v4 ? " " : "", r.seq, r.win, tail);
  } else if (r.proto == core::ipproto::udp) {
    text = fmt::format("RCVD ({:.4f}s) UDP {}:{} > {}:{} {}", t, r.from.to_string(), r.sport, src_.to_string(),
                       r.dport, ipf);
  } else {
    text = fmt::format("RCVD ({:.4f}s) IP proto={} {} > {} {}", t, r.proto, r.from.to_string(), src_.to_string(), ipf);
  }
  if (!ctx_.json) out_->text(text);
}

void Crafter::print_probe_nping(uint64_t i, ConstBytes pkt, double t) {
  bool v4 = dst_.is_v4();
  std::string ipf = v4 ? fmt::format("ttl={} id={} iplen={} ", o_.ttl, ipid_of(i), pkt.size()) : "";
  std::string text;
  switch (o_.mode) {
    case CraftMode::tcp:
      text = fmt::format("SENT ({:.4f}s) TCP {}:{} > {}:{} {} {}{}seq={} win={} ", t, src_.to_string(), sport_of(i),
                         dst_.to_string(), dport_of(i), nping_flags(o_.tcp_flags), ipf, v4 ? " " : "",
                         o_.tcp_seq ? *o_.tcp_seq : base_seq_, o_.window);
      break;
    case CraftMode::udp:
      text = fmt::format("SENT ({:.4f}s) UDP {}:{} > {}:{} {}", t, src_.to_string(), sport_of(i), dst_.to_string(),
                         dport_of(i), ipf);
      break;
    case CraftMode::icmp:
      text = fmt::format("SENT ({:.4f}s) {} [{} > {} Echo request (type={}/code=0) id={} seq={}]", t,
                         v4 ? "ICMP" : "ICMPv6", src_.to_string(), dst_.to_string(), v4 ? 8 : 128, icmp_id_,
                         icmp_seq_of(i));
      if (v4) text += fmt::format(" IP [{}]", ipf);
      break;
    case CraftMode::rawip:
      text = fmt::format("SENT ({:.4f}s) IP proto={} {} > {} {}", t, o_.ip_proto, src_.to_string(), dst_.to_string(), ipf);
      break;
  }
  out_->text(text);
}

void Crafter::print_reply(const Reply& r) {
  Json j{{"seq", r.probe}, {"from", r.from.to_string()}, {"len", r.len}, {"ttl", r.ttl}};
  j["ip_id"] = dst_.is_v4() ? Json(r.ip_id) : Json(nullptr);
  j["df"] = r.df;
  j["protocol"] = r.proto == core::ipproto::tcp ? "tcp" : r.proto == core::ipproto::udp ? "udp"
                  : r.proto == core::ipproto::icmp ? "icmp" : r.proto == core::ipproto::icmpv6 ? "icmp6"
                  : "ip";
  if (r.proto == core::ipproto::tcp) {
    j["sport"] = r.sport, j["dport"] = r.dport, j["flags"] = hping_flags(r.flags), j["tcp_seq"] = r.seq,
    j["tcp_ack"] = r.ack, j["win"] = r.win;
  } else if (r.proto == core::ipproto::udp) {
    j["sport"] = r.sport, j["dport"] = r.dport;
  } else if (r.icmp_type || r.icmp_code || r.icmp_error) {
    j["icmp_type"] = r.icmp_type, j["icmp_code"] = r.icmp_code;
    if (r.icmp_error) j["error"] = icmp_error_text(dst_.is_v6(), r.icmp_type, r.icmp_code);
  }
  j["rtt_ms"] = r.rtt_ms;
  if (o_.quiet && !ctx_.json) return;
  if (o_.nping) {
    double t = std::chrono::duration<double>(Clock::now() - t0_).count();
    if (ctx_.json) out_->record("reply", j, "");
    else print_reply_nping(r, t);
    return;
  }
  std::string text;
  std::string ipid = dst_.is_v4() ? fmt::format("id={} ", r.ip_id) : std::string();
  if (o_.hping) {
    std::string df = r.df ? "DF " : "";
    if (r.icmp_error) {
      text = fmt::format("{} from ip={} name=UNKNOWN\nstatus=0 port={} seq={}",
                         icmp_error_text(dst_.is_v6(), r.icmp_type, r.icmp_code), r.from.to_string(),
                         r.quoted_port, r.probe);
    } else if (r.proto == core::ipproto::tcp) {
      text = fmt::format("len={} ip={} ttl={} {}{}sport={} flags={} seq={} win={} rtt={:.1f} ms", r.len,
                         r.from.to_string(), r.ttl, df, ipid, r.sport, hping_flags(r.flags), r.probe, r.win,
                         r.rtt_ms);
      if (o_.verbose)
        text += fmt::format("\nseq={} ack={}", r.seq, r.ack);
    } else if (r.proto == core::ipproto::udp) {
      text = fmt::format("len={} ip={} ttl={} {}{}seq={} rtt={:.1f} ms", r.len, r.from.to_string(), r.ttl, df,
                         ipid, r.probe, r.rtt_ms);
    } else if (r.proto == core::ipproto::icmp || r.proto == core::ipproto::icmpv6) {
      text = fmt::format("len={} ip={} ttl={} {}{}icmp_seq={} rtt={:.1f} ms", r.len, r.from.to_string(), r.ttl,
                         df, ipid, r.probe, r.rtt_ms);
    } else {
      text = fmt::format("len={} ip={} ttl={} {}{}proto={} seq={} rtt={:.1f} ms", r.len, r.from.to_string(),
                         r.ttl, df, ipid, r.proto, r.probe, r.rtt_ms);
    }
  } else {
    double t = std::chrono::duration<double>(Clock::now() - t0_).count();
    std::string ip = fmt::format("ttl={} {}iplen={}", r.ttl, ipid, r.len);
    if (r.df) ip = "DF " + ip;
    if (r.icmp_error) {
      text = fmt::format("RCVD ({:.4f}s) {} from {} for probe {} (source port {}) {} rtt={:.3f} ms", t,
                         icmp_error_text(dst_.is_v6(), r.icmp_type, r.icmp_code), r.from.to_string(), r.probe,
                         r.quoted_port, ip, r.rtt_ms);
    } else if (r.proto == core::ipproto::tcp) {
      text = fmt::format("RCVD ({:.4f}s) TCP {}:{} > {}:{} {} {} seq={} ack={} win={} probe={} rtt={:.3f} ms", t,
                         r.from.to_string(), r.sport, src_.to_string(), r.dport, hping_flags(r.flags), ip, r.seq,
                         r.ack, r.win, r.probe, r.rtt_ms);
    } else if (r.proto == core::ipproto::udp) {
      text = fmt::format("RCVD ({:.4f}s) UDP {}:{} > {}:{} {} probe={} rtt={:.3f} ms", t, r.from.to_string(),
                         r.sport, src_.to_string(), r.dport, ip, r.probe, r.rtt_ms);
    } else if (r.proto == core::ipproto::icmp || r.proto == core::ipproto::icmpv6) {
      text = fmt::format("RCVD ({:.4f}s) ICMP {} > {} Echo reply (type={}/code={}) id={} seq={} {} rtt={:.3f} ms", t,
                         r.from.to_string(), src_.to_string(), r.icmp_type, r.icmp_code, r.icmp_id, r.icmp_seq,
                         ip, r.rtt_ms);
    } else {
      text = fmt::format("RCVD ({:.4f}s) IP proto={} {} > {} {} probe={} rtt={:.3f} ms", t, r.proto,
                         r.from.to_string(), src_.to_string(), ip, r.probe, r.rtt_ms);
    }
  }
  out_->record("reply", j, text);
}

void Crafter::print_probe(uint64_t i, ConstBytes pkt) {
  double t = std::chrono::duration<double>(Clock::now() - t0_).count();
  Json j{{"seq", i}, {"time_s", t}, {"src", src_.to_string()}, {"dst", dst_.to_string()},
         {"protocol", mode_name(o_.mode)}, {"bytes", pkt.size()}, {"ttl", o_.ttl}};
  j["ip_id"] = dst_.is_v4() ? Json(ipid_of(i)) : Json(nullptr);
  std::string ip = fmt::format("ttl={} {}iplen={}", o_.ttl, dst_.is_v4() ? fmt::format("id={} ", ipid_of(i)) : "",
                               pkt.size());
  if (o_.dont_fragment && dst_.is_v4()) ip = "DF " + ip;
  if (o_.frag_offset || o_.more_fragments) ip += fmt::format(" frag={}{}", o_.frag_offset, o_.more_fragments ? "+" : "");
  std::string text;
  if (o_.nping) {  // the JSON fields below, nping's text
    switch (o_.mode) {
      case CraftMode::tcp:
        j["sport"] = sport_of(i), j["dport"] = dport_of(i), j["flags"] = hping_flags(o_.tcp_flags),
        j["tcp_seq"] = o_.tcp_seq ? *o_.tcp_seq : base_seq_, j["tcp_ack"] = o_.tcp_ack.value_or(0),
        j["win"] = o_.window;
        break;
      case CraftMode::udp: j["sport"] = sport_of(i), j["dport"] = dport_of(i); break;
      case CraftMode::icmp: j["icmp_id"] = icmp_id_, j["icmp_seq"] = icmp_seq_of(i); break;
      case CraftMode::rawip: j["ip_proto"] = o_.ip_proto; break;
    }
    if (ctx_.json) out_->record("probe", j, "");
    else print_probe_nping(i, pkt, t);
    return;
  }
  switch (o_.mode) {
    case CraftMode::tcp:
      j["sport"] = sport_of(i), j["dport"] = dport_of(i), j["flags"] = hping_flags(o_.tcp_flags),
      j["tcp_seq"] = o_.tcp_seq ? *o_.tcp_seq : base_seq_, j["tcp_ack"] = o_.tcp_ack.value_or(0),
      j["win"] = o_.window;
      text = fmt::format("SENT ({:.4f}s) TCP {}:{} > {}:{} {} {} seq={} ack={} win={}", t, src_.to_string(),
                         sport_of(i), dst_.to_string(), dport_of(i),
                         o_.tcp_flags ? hping_flags(o_.tcp_flags) : "none", ip,
                         o_.tcp_seq ? *o_.tcp_seq : base_seq_, o_.tcp_ack.value_or(0), o_.window);
      break;
    case CraftMode::udp:
      j["sport"] = sport_of(i), j["dport"] = dport_of(i);
      text = fmt::format("SENT ({:.4f}s) UDP {}:{} > {}:{} {}", t, src_.to_string(), sport_of(i), dst_.to_string(),
                         dport_of(i), ip);
      break;
    case CraftMode::icmp:
      j["icmp_id"] = icmp_id_, j["icmp_seq"] = uint16_t(i);
      text = fmt::format("SENT ({:.4f}s) ICMP {} > {} Echo request id={} seq={} {}", t, src_.to_string(),
                         dst_.to_string(), icmp_id_, uint16_t(i), ip);
      break;
    case CraftMode::rawip:
      j["ip_proto"] = o_.ip_proto;
      text = fmt::format("SENT ({:.4f}s) IP proto={} {} > {} {}", t, o_.ip_proto, src_.to_string(), dst_.to_string(), ip);
      break;
  }
  out_->record("probe", j, text);
}

void Crafter::summary() {
  double secs = std::chrono::duration<double>(Clock::now() - t0_).count();
  double loss = sent_ ? 100.0 * double(sent_ - std::min(received_, sent_)) / double(sent_) : 0;
  double avg = received_ ? rtt_sum_ / double(received_) : 0;
  Json j{{"target", o_.host}, {"address", dst_.to_string()}, {"transmitted", sent_}, {"received", received_},
         {"loss_pct", loss}, {"bytes_sent", bytes_sent_}, {"bytes_received", bytes_received_}, {"seconds", secs},
         {"pps", secs > 0 ? double(sent_) / secs : 0.0}};
  j["rtt_min_ms"] = received_ ? Json(rtt_min_) : Json(nullptr);
  j["rtt_avg_ms"] = received_ ? Json(avg) : Json(nullptr);
  j["rtt_max_ms"] = received_ ? Json(rtt_max_) : Json(nullptr);
  if (ctx_.json) {
    out_->record("summary", j, "");
    out_->flush();
    return;
  }
  out_->flush();
  if (o_.nping) {
    summary_nping(secs, loss, avg);
    return;
  }
  if (o_.hping) {
    // hping3 writes its statistics to stderr.
    std::fprintf(stderr, "\n--- %s hping statistic ---\n", o_.host.c_str());
    std::fprintf(stderr, "%llu packets transmitted, %llu packets received, %.0f%% packet loss\n",
                 (unsigned long long)sent_, (unsigned long long)received_, loss);
    std::fprintf(stderr, "round-trip min/avg/max = %.1f/%.1f/%.1f ms\n", rtt_min_, avg, rtt_max_);
    if (o_.flood) std::fprintf(stderr, "%.0f packets/s\n", secs > 0 ? double(sent_) / secs : 0.0);
  } else {
    std::string s;
    if (received_)
      s += fmt::format("Max rtt: {:.3f}ms | Min rtt: {:.3f}ms | Avg rtt: {:.3f}ms\n", rtt_max_, rtt_min_, avg);
    else
      s += "Max rtt: N/A | Min rtt: N/A | Avg rtt: N/A\n";
    s += fmt::format("Raw packets sent: {} ({}B) | Rcvd: {} ({}B) | Lost: {} ({:.2f}%)\n", sent_, bytes_sent_,
                     received_, bytes_received_, sent_ - std::min(received_, sent_), loss);
    s += fmt::format("netgen craft done: 1 IP address probed in {:.2f} seconds", secs);
    out_->text(s);
    out_->flush();
  }
}

void Crafter::summary_nping(double secs, double loss, double avg) {
  std::string s;
  if (!o_.quiet) s += " \n";
  if (received_)
    s += fmt::format("Max rtt: {:.3f}ms | Min rtt: {:.3f}ms | Avg rtt: {:.3f}ms\n", rtt_max_, rtt_min_, avg);
  else
    s += "Max rtt: N/A | Min rtt: N/A | Avg rtt: N/A\n";
  // nping's byte counts: 920B, 1.012KB, 14.026MB (powers of 1000).
  auto bytes = [](uint64_t b) {
    if (b < 1000) return fmt::format("{}B", b);
    if (b < 1000000) return fmt::format("{:.3f}KB", double(b) / 1e3);
    if (b < 1000000000) return fmt::format("{:.3f}MB", double(b) / 1e6);
    return fmt::format("{:.3f}GB", double(b) / 1e9);
  };
  s += fmt::format("Raw packets sent: {} ({}) | Rcvd: {} ({}) | Lost: {} ({:.2f}%)\n", sent_, bytes(bytes_sent_),
                   received_, bytes(bytes_received_), sent_ - std::min(received_, sent_), loss);
  s += fmt::format("Nping done: 1 IP address pinged in {:.2f} seconds", secs);
  out_->text(s);
  out_->flush();
}

int Crafter::run() {
  const char* prog = this->prog();
  if (auto s = setup(); !s) {
    std::fprintf(stderr, "%s: %s\n", prog, s.error().message().c_str());
    return kExitUsage;
  }
  uint8_t probe_buf[65600];
  if (build(0, probe_buf, sizeof probe_buf) == 0) {
    std::fprintf(stderr, "%s: the packet does not fit (payload of %zu bytes too large?)\n", prog, o_.payload.size());
    return kExitUsage;
  }
  std::string what;
  switch (o_.mode) {
    case CraftMode::tcp: what = o_.tcp_flags ? hping_flags(o_.tcp_flags) + " set" : "NO FLAGS are set"; break;
    case CraftMode::udp: what = "udp mode set"; break;
    case CraftMode::icmp: what = "icmp mode set"; break;
    case CraftMode::rawip: what = "raw IP mode set"; break;
  }
  Json start{{"target", o_.host}, {"address", dst_.to_string()}, {"source", src_.to_string()},
             {"interface", ifname_}, {"mode", mode_name(o_.mode)}, {"header_bytes", header_bytes()},
             {"data_bytes", o_.payload.size()}};
  if (o_.mode == CraftMode::tcp) start["flags"] = hping_flags(o_.tcp_flags);
  std::string head = fmt::format("HPING {} ({} {}): {}, {} headers + {} data bytes", o_.host, ifname_,
                                 dst_.to_string(), what, header_bytes(), o_.payload.size());
  if (o_.nping) {
    char when[64] = "";
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm);
    head = fmt::format("\nStarting Nping 0.7.93 ( https://nmap.org/nping ) at {}", when);
  } else if (!o_.hping)
    head = fmt::format("Starting netgen craft: {} mode to {} ({}) from {} via {}", mode_name(o_.mode), o_.host,
                       dst_.to_string(), src_.to_string(), ifname_);
  out_->record("start", start, head);
  if (o_.flood && o_.hping) out_->text("hping in flood mode, no replies will be shown");
  out_->flush();

  StopSignals stop_signals;
  t0_ = Clock::now();
  auto next = t0_;
  auto interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.interval_s));
  std::optional<Clock::time_point> last_sent_at;
  while (!g_stop) {
    bool done = o_.count && sent_ >= total_probes();
    if (done) {
      if (!last_sent_at) last_sent_at = Clock::now();
      bool all = received_ >= sent_ || o_.flood || !recv_fd_;
      if (all || Clock::now() - *last_sent_at >= std::chrono::duration<double>(o_.wait_s)) break;
    } else if (o_.flood) {
      send_flood_batch();
      continue;
    } else if (Clock::now() >= next) {
      if (!send_one(sent_)) break;
      next += interval;
      // Do not burst after a stall; short intervals may catch up within 20 ms.
      if (next < Clock::now() - std::max<Clock::duration>(interval * 8, std::chrono::milliseconds(20)))
        next = Clock::now();
      continue;
    }
    auto until = done ? *last_sent_at + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.wait_s))
                      : next;
    // ppoll: sub-millisecond waits stay sub-millisecond (--rate 100000, hping3 -i u10).
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until - Clock::now()).count();
    ns = std::clamp<long long>(ns, 0, 100'000'000);
    timespec ts{time_t(ns / 1'000'000'000), long(ns % 1'000'000'000)};
    if (recv_fd_) {
      pollfd p{recv_fd_.get(), POLLIN, 0};
      if (::ppoll(&p, 1, &ts, nullptr) > 0) receive();
    } else if (ns > 0) {
      ::ppoll(nullptr, 0, &ts, nullptr);
    }
  }
  if (recv_fd_) receive();
  stop_signals.restore();
  summary();
  if (o_.flood || o_.nping) return kExitOk;  // nping: 0 whether or not replies came
  return received_ ? kExitOk : kExitFailure;
}

}  // namespace

int run_craft(Context& ctx, const CraftOptions& o) { return Crafter(ctx, o).run(); }

}  // namespace netshoot::applet::netgen

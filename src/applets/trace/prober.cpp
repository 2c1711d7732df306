// Sockets of a trace: opening them (privileged raw path or unprivileged IP_RECVERR
// path), sending one probe, and reading answers into Reply values.
#include "prober.h"

#include <linux/errqueue.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <unistd.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cstring>
#include <random>

#include "netshoot/socket.h"

namespace netshoot::applet::trace {

using core::Endpoint;
using core::IpAddr;
using core::Result;
using core::UniqueFd;

namespace {

core::Error err(std::string what, int code = 0) { return core::Error{code, std::move(what), {}}; }

// MTU of the interface holding `src` (or named by -i); 0 if unknown.
int device_mtu(int fd, const IpAddr& src, const std::string& ifname) {
  std::string name = ifname;
  if (name.empty()) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return 0;
    for (ifaddrs* i = list; i && name.empty(); i = i->ifa_next) {
      if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
      auto ep = Endpoint::from_sockaddr(i->ifa_addr, i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in)
                                                                                       : sizeof(sockaddr_in6));
      if (ep && ep->addr.with_scope(0) == src.with_scope(0)) name = i->ifa_name;
    }
    ::freeifaddrs(list);
  }
  if (name.empty() || name.size() >= IFNAMSIZ) return 0;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.c_str(), name.size());
  return ::ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 0;
}

// The source address the kernel picks toward dst (or -s), and the first link's MTU.
Result<std::pair<IpAddr, int>> route_source(const Options& o, const IpAddr& dst) {
  auto s = core::open_udp_socket(dst.family());
  if (!s) return s.error();
  if (!o.interface.empty())
    if (auto st = core::bind_to_device(s->get(), o.interface); !st) return st.error();
  if (!o.source.empty()) {
    auto a = IpAddr::parse(o.source);
    if (!a || a->family() != dst.family()) return err("bad source address '" + o.source + "'");
    if (auto st = core::bind_to(s->get(), Endpoint{*a, 0}); !st) return st.error();
  }
  sockaddr_storage ss;
  socklen_t len = dst.to_sockaddr(kUdpBasePort, ss);
  if (::connect(s->get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return err("connect", errno);
  len = sizeof ss;
  if (::getsockname(s->get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return err("getsockname", errno);
  auto ep = Endpoint::from_sockaddr(ss, len);
  if (!ep) return err("getsockname: unexpected address family");
  // The first link's MTU: the device's (IP_MTU would give a path MTU the kernel
  // learned and cached from earlier traffic, which --mtu is here to find).
  int mtu = device_mtu(s->get(), ep->addr, o.interface);
  if (mtu <= 0) {
    socklen_t ml = sizeof mtu;
    if (dst.is_v4()) ::getsockopt(s->get(), IPPROTO_IP, IP_MTU, &mtu, &ml);
    else ::getsockopt(s->get(), IPPROTO_IPV6, IPV6_MTU, &mtu, &ml);
  }
  return std::make_pair(ep->addr, mtu);
}

core::Status common_setup(int fd, const Options& o, const IpAddr& src, uint16_t port, bool bind) {
  int fam = src.family();
  if (!o.interface.empty())
    if (auto st = core::bind_to_device(fd, o.interface); !st) return st;
  if (bind)
    if (auto st = core::bind_to(fd, Endpoint{src, port}); !st) return st;
  if (o.tos) (void)core::set_tos(fd, fam, o.tos);
  auto pmtu = (o.dont_fragment || o.mtu) ? core::PmtuDisc::probe : core::PmtuDisc::dont;
  (void)core::set_pmtu_discover(fd, fam, pmtu);
  return {};
}

uint16_t local_port(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  auto ep = Endpoint::from_sockaddr(ss, len);
  return ep ? ep->port : 0;
}

// A send-only raw socket: a filter that accepts nothing keeps its queue empty.
void drop_all_input(int fd) {
  sock_filter code[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  sock_fprog prog{1, code};
  (void)::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

uint16_t random_u16(uint16_t lo, uint16_t hi) {
  std::random_device rd;
  return uint16_t(lo + rd() % (hi - lo));
}

}  // namespace

Result<std::unique_ptr<Prober>> Prober::open(const Options& o, const IpAddr& dst) {
  std::unique_ptr<Prober> p(new Prober);
  auto src = route_source(o, dst);
  if (!src) return src.error();
  const int fam = dst.family();
  p->family_ = fam;
  p->link_mtu_ = src->second;
  ProbeWire& w = p->wire_;
  w.method = o.method;
  w.src = src->first;
  w.dst = dst;
  w.flows = std::max(1, o.ecmp);
  w.classic = o.method == Method::udp && o.classic && o.ecmp <= 1;
  w.dst_port = uint16_t(o.port >= 0 ? o.port : o.method == Method::tcp ? 80 : kUdpBasePort);
  if (w.classic) p->id_space_ = std::min<uint32_t>(0x8000, 65536u - w.dst_port);
  if (p->id_space_ < 64) return err("-p " + std::to_string(w.dst_port) + ": no room for probe ports above it");

  auto raw = core::open_raw_socket(fam, fam == AF_INET ? int(IPPROTO_ICMP) : int(IPPROTO_ICMPV6));
  p->privileged_ = raw.ok();
  if (!p->privileged_ && o.method == Method::tcp)
    return core::Error{raw.error().code, "TCP SYN probes: raw socket", "needs CAP_NET_RAW"};

  if (p->privileged_) {
    p->raw_icmp_ = std::move(*raw);
    int fd = p->raw_icmp_.get();
    if (fam == AF_INET) {
      (void)core::set_icmp_filter(fd, 1u << core::icmp4::echo_reply | 1u << core::icmp4::dest_unreach |
                                          1u << core::icmp4::time_exceeded);
    } else {
      const uint8_t allow[] = {core::icmp6::dest_unreach, core::icmp6::packet_too_big,
                               core::icmp6::time_exceeded, core::icmp6::echo_reply};
      (void)core::set_icmpv6_filter(fd, allow);
    }
    (void)core::enable_recv_meta(fd, fam, core::meta_timestamp);
    (void)core::set_recv_buffer(fd, 1 << 20);
    if (auto st = common_setup(fd, o, w.src, 0, o.method == Method::icmp); !st) return st.error();
    if (o.method == Method::icmp) {
      w.src_port = random_u16(1024, uint16_t(65000 - w.flows));
    } else if (o.method == Method::udp) {
      // Our own UDP header through a raw socket: the checksum on the wire (the probe
      // id) is the one we computed, never a partial one left for checksum offload
      // (veth), which a router would quote as is. A UDP socket holds the port.
      auto hold = core::open_udp_socket(fam);
      if (!hold) return hold.error();
      if (auto st = core::bind_to(hold->get(), Endpoint{w.src, uint16_t(o.src_port)}); !st) return st.error();
      w.src_port = local_port(hold->get());
      p->port_holds_.push_back(std::move(*hold));
      auto u = core::open_raw_socket(fam, IPPROTO_UDP);
      if (!u) return u.error();
      if (auto st = common_setup(u->get(), o, w.src, 0, true); !st) return st.error();
      drop_all_input(u->get());
      p->udp_ = std::move(*u);
    } else {
      auto t = core::open_raw_socket(fam, IPPROTO_TCP);
      if (!t) return t.error();
      (void)core::enable_recv_meta(t->get(), fam, core::meta_timestamp);
      (void)core::set_recv_buffer(t->get(), 1 << 20);
      if (auto st = common_setup(t->get(), o, w.src, 0, true); !st) return st.error();
      p->raw_tcp_ = std::move(*t);
      // Reserve the source ports: a SYN-ACK to a bound (not listening) port gets the
      // kernel's RST, and no other socket can take the port meanwhile.
      for (int attempt = 0; attempt < 20 && p->port_holds_.empty(); ++attempt) {
        uint16_t base = o.src_port ? uint16_t(o.src_port) : random_u16(33000, uint16_t(60000 - w.flows));
        std::vector<UniqueFd> holds;
        for (int f = 0; f < w.flows; ++f) {
          auto h = core::open_tcp_socket(fam);
          if (!h || !core::bind_to(h->get(), Endpoint{w.src, uint16_t(base + f)})) break;
          holds.push_back(std::move(*h));
        }
        if (int(holds.size()) == w.flows) {
          w.src_port = base;
          p->port_holds_ = std::move(holds);
        } else if (o.src_port) {
          return err("source port " + std::to_string(o.src_port) + " is in use");
        }
      }
      if (p->port_holds_.empty()) return err("no free TCP source port");
      std::random_device rd;
      w.tcp_seq_hi = uint16_t(rd());
    }
    return p;
  }

  // Unprivileged: one socket per flow, errors through IP_RECVERR.
  for (int f = 0; f < w.flows; ++f) {
    auto s = o.method == Method::icmp ? core::open_ping_socket(fam) : core::open_udp_socket(fam);
    if (!s) return s.error();
    int fd = s->get();
    if (auto st = common_setup(fd, o, w.src, f == 0 ? uint16_t(o.src_port) : 0, true); !st) return st.error();
    if (auto st = core::enable_recv_meta(fd, fam, core::meta_errqueue | core::meta_timestamp); !st)
      return st.error();
    if (f == 0) w.src_port = local_port(fd);
    p->per_flow_.push_back(std::move(*s));
    p->flow_ttl_.push_back(-1);
  }
  return p;
}

std::vector<int> Prober::fds() const {
  std::vector<int> v;
  if (raw_icmp_) v.push_back(raw_icmp_.get());
  if (raw_tcp_) v.push_back(raw_tcp_.get());
  for (const auto& f : per_flow_) v.push_back(f.get());
  return v;
}

int Prober::send(uint16_t id, uint16_t flow, int ttl, int size, timespec& sent) {
  const size_t ip_hdr = family_ == AF_INET ? 20 : 40;
  size_t l4 = size_t(size) > ip_hdr ? size_t(size) - ip_hdr : 0;
  static uint8_t buf[65536];
  int fd;
  size_t len = 0;
  Endpoint to{wire_.dst, 0};
  if (!per_flow_.empty()) {
    fd = per_flow_[flow].get();
    if (flow_ttl_[flow] != ttl) {
      if (auto st = core::set_ttl(fd, family_, ttl); !st) return st.error().code;
      flow_ttl_[flow] = ttl;
    }
    if (wire_.method == Method::icmp) {
      len = build_icmp_probe(wire_, id, 0, l4, buf);
    } else {
      ProbeWire w = wire_;  // this flow's own source port
      w.src_port = local_port(fd);
      len = build_udp_payload(w, id, flow, l4 > 8 ? l4 - 8 : 0, buf);
      to.port = udp_dst_port(wire_, id, flow);
    }
  } else {
    fd = wire_.method == Method::udp ? udp_.get() : wire_.method == Method::icmp ? raw_icmp_.get() : raw_tcp_.get();
    if (last_ttl_ != ttl) {
      if (auto st = core::set_ttl(fd, family_, ttl); !st) return st.error().code;
      last_ttl_ = ttl;
    }
    switch (wire_.method) {
      case Method::udp: {
        size_t plen = build_udp_payload(wire_, id, flow, l4 > 8 ? l4 - 8 : 0, buf + 8);
        len = core::write_udp({buf, sizeof buf}, wire_.src, wire_.dst, wire_.src_port,
                              udp_dst_port(wire_, id, flow), {buf + 8, plen});
        break;
      }
      case Method::icmp: len = build_icmp_probe(wire_, id, flow, l4, buf); break;
      case Method::tcp: len = build_tcp_probe(wire_, id, flow, buf, sizeof buf); break;
    }
  }
  if (len == 0) return EINVAL;
  sent = core::realtime_now();
  int e = core::send_to(fd, {buf, len}, &to);
  // With IP_RECVERR an ICMP error to an earlier probe is also left as the socket's
  // pending error, which the next send reports instead of sending: send again.
  for (int i = 0; i < 4 && !per_flow_.empty() && (e == EHOSTUNREACH || e == ENETUNREACH || e == ECONNREFUSED ||
                                                   e == EPROTO || e == EHOSTDOWN); ++i) {
    sent = core::realtime_now();
    e = core::send_to(fd, {buf, len}, &to);
  }
  return e;
}

void Prober::drain(int fd, const ReplyFn& fn) {
  static uint8_t buf[65536];
  core::RecvInfo info;
  Reply r;
  auto rx_time = [&] { return info.kernel_time ? *info.kernel_time : core::realtime_now(); };
  if (fd == raw_icmp_.get() || fd == raw_tcp_.get()) {
    bool tcp = fd == raw_tcp_.get();
    while (core::receive(fd, buf, info, MSG_DONTWAIT) == 0) {
      IpAddr from = info.source ? info.source->addr : IpAddr{};
      core::ConstBytes pkt{buf, info.length};
      if (tcp ? match_tcp(wire_, pkt, from, r) : match_icmp(wire_, pkt, from, r)) fn(r, rx_time());
    }
    return;
  }
  for (size_t f = 0; f < per_flow_.size(); ++f) {
    if (per_flow_[f].get() != fd) continue;
    // Echo replies (ping sockets) on the normal queue: the ICMP header and data.
    while (core::receive(fd, buf, info, MSG_DONTWAIT) == 0) {
      if (wire_.method != Method::icmp || info.length < 8) continue;
      uint8_t want = family_ == AF_INET ? core::icmp4::echo_reply : core::icmp6::echo_reply;
      if (buf[0] != want) continue;
      r = Reply{};
      r.kind = Reply::Kind::reached;
      r.icmp_type = want;
      r.from = info.source ? info.source->addr : wire_.dst;
      r.probe_id = core::load_be16(buf + 6);
      r.flow = uint16_t(f);
      fn(r, rx_time());
    }
    drain_errqueue(fd, uint16_t(f), fn);
  }
}

void Prober::drain_errqueue(int fd, uint16_t flow, const ReplyFn& fn) {
  static uint8_t buf[65536];
  core::RecvInfo info;
  while (core::receive_error(fd, buf, info) == 0) {
    if (!info.ext_error) continue;
    const auto& e = *info.ext_error;
    Reply r;
    r.flow = flow;
    if (e.origin == SO_EE_ORIGIN_LOCAL) {
      if (e.error != EMSGSIZE) continue;
      r.kind = Reply::Kind::unreachable;
      r.mtu = int(e.info);
      r.from = wire_.src;
      std::snprintf(r.note, sizeof r.note, "!F-%u", e.info);
    } else if (e.is_icmp()) {
      classify_unreach(family_ == AF_INET6, e.type, e.code, int(e.info), r);
      if (r.kind == Reply::Kind::none) continue;
      r.from = e.offender ? *e.offender : wire_.dst;
    } else {
      continue;
    }
    // What came back is our own payload (UDP data / the ICMP echo header and data).
    if (wire_.method == Method::icmp) {
      if (info.length < 8) continue;
      r.probe_id = core::load_be16(buf + 6);
    } else if (wire_.classic) {
      if (!info.source || info.source->port < wire_.dst_port) continue;
      r.probe_id = uint16_t(info.source->port - wire_.dst_port);
    } else {
      if (info.length < 2) continue;
      r.probe_id = core::load_be16(buf);
    }
    fn(r, info.kernel_time ? *info.kernel_time : core::realtime_now());
  }
}

}  // namespace netshoot::applet::trace

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>

#include "netshoot/packet.h"
#include "netshoot/socket.h"

using namespace netshoot::core;

namespace {

// Waits for fd to become readable (or have an error queued).
bool wait_readable(int fd, int ms = 2000) {
  pollfd p{fd, POLLIN | POLLERR, 0};
  return ::poll(&p, 1, ms) > 0;
}

Endpoint local_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
  auto ep = Endpoint::from_sockaddr(ss, len);
  REQUIRE(ep);
  return *ep;
}

bool have_ipv6_loopback() {
  auto s = open_udp_socket(AF_INET6);
  if (!s) return false;
  return bind_to(s->get(), Endpoint{IpAddr::loopback(AF_INET6), 0}).ok();
}

}  // namespace

TEST_CASE("socket: UDP loopback receive with TTL, timestamp and pktinfo", "[socket]") {
  for (int family : {AF_INET, AF_INET6}) {
    if (family == AF_INET6 && !have_ipv6_loopback()) {
      WARN("SKIPPED: no IPv6 loopback here");
      continue;
    }
    INFO((family == AF_INET ? "IPv4" : "IPv6"));
    auto rx = open_udp_socket(family);
    REQUIRE(rx.ok());
    auto tx = open_udp_socket(family);
    REQUIRE(tx.ok());
    IpAddr lo = IpAddr::loopback(family);
    REQUIRE(bind_to(rx->get(), Endpoint{lo, 0}).ok());
    REQUIRE(enable_recv_meta(rx->get(), family, meta_all).ok());
    REQUIRE(set_ttl(tx->get(), family, 42).ok());
    REQUIRE(set_tos(tx->get(), family, 0x20).ok());
    Endpoint dst = local_endpoint(rx->get());

    const uint8_t msg[] = {'p', 'i', 'n', 'g'};
    timespec before = realtime_now();
    REQUIRE(send_to(tx->get(), msg, &dst) == 0);
    REQUIRE(wait_readable(rx->get()));
    uint8_t buf[64];
    RecvInfo info;
    REQUIRE(receive(rx->get(), buf, info) == 0);
    CHECK(info.length == 4);
    CHECK(std::memcmp(buf, msg, 4) == 0);
    CHECK_FALSE(info.truncated);
    REQUIRE(info.source);
    CHECK(info.source->addr == lo);
    CHECK(info.source->port == local_endpoint(tx->get()).port);
    CHECK(info.ttl == 42);
    CHECK(info.tos == 0x20);
    REQUIRE(info.local);
    CHECK(info.local->unmapped() == lo);
    CHECK(info.ifindex == 1);  // lo
    REQUIRE(info.kernel_time);
    CHECK(timespec_ns(*info.kernel_time) >= timespec_ns(before) - 1000000);  // allow clock granularity
    CHECK(timespec_ns(*info.kernel_time) <= timespec_ns(realtime_now()));

    // nothing left: EAGAIN without allocation or blocking
    CHECK(receive(rx->get(), buf, info) == EAGAIN);

    // a datagram larger than the buffer is flagged
    uint8_t big[100] = {};
    REQUIRE(send_to(tx->get(), big, &dst) == 0);
    REQUIRE(wait_readable(rx->get()));
    REQUIRE(receive(rx->get(), {buf, 10}, info) == 0);
    CHECK(info.length == 10);
    CHECK(info.truncated);
  }
}

TEST_CASE("socket: SO_TIMESTAMPING software receive stamps", "[socket]") {
  auto rx = open_udp_socket(AF_INET);
  auto tx = open_udp_socket(AF_INET);
  REQUIRE(rx.ok());
  REQUIRE(tx.ok());
  REQUIRE(bind_to(rx->get(), Endpoint{IpAddr::loopback(AF_INET), 0}).ok());
  REQUIRE(enable_timestamping(rx->get()).ok());
  Endpoint dst = local_endpoint(rx->get());
  const uint8_t msg[] = {1};
  REQUIRE(send_to(tx->get(), msg, &dst) == 0);
  REQUIRE(wait_readable(rx->get()));
  uint8_t buf[16];
  RecvInfo info;
  REQUIRE(receive(rx->get(), buf, info) == 0);
  REQUIRE(info.kernel_time);
  CHECK(info.kernel_time->tv_sec > 0);
}

TEST_CASE("socket: IP_RECVERR reports ICMP port unreachable", "[socket]") {
  for (int family : {AF_INET, AF_INET6}) {
    if (family == AF_INET6 && !have_ipv6_loopback()) {
      WARN("SKIPPED: no IPv6 loopback here");
      continue;
    }
    INFO((family == AF_INET ? "IPv4" : "IPv6"));
    IpAddr lo = IpAddr::loopback(family);
    // Find a closed port: bind, read the port, close.
    uint16_t closed;
    {
      auto tmp = open_udp_socket(family);
      REQUIRE(tmp.ok());
      REQUIRE(bind_to(tmp->get(), Endpoint{lo, 0}).ok());
      closed = local_endpoint(tmp->get()).port;
    }
    auto s = open_udp_socket(family);
    REQUIRE(s.ok());
    REQUIRE(enable_recv_meta(s->get(), family, meta_errqueue | meta_timestamp).ok());
    Endpoint dst{lo, closed};
    const uint8_t probe[] = {0xab, 0xcd};
    REQUIRE(send_to(s->get(), probe, &dst) == 0);
    REQUIRE(wait_readable(s->get()));
    uint8_t buf[64];
    RecvInfo info;
    int rc = receive_error(s->get(), buf, info);
    REQUIRE(rc == 0);
    CHECK(info.from_errqueue);
    REQUIRE(info.ext_error);
    CHECK(info.ext_error->error == ECONNREFUSED);
    CHECK(info.ext_error->is_icmp());
    if (family == AF_INET) {
      CHECK(info.ext_error->origin == SO_EE_ORIGIN_ICMP);
      CHECK(info.ext_error->type == icmp4::dest_unreach);
      CHECK(info.ext_error->code == icmp4::port_unreach);
    } else {
      CHECK(info.ext_error->origin == SO_EE_ORIGIN_ICMP6);
      CHECK(info.ext_error->type == icmp6::dest_unreach);
      CHECK(info.ext_error->code == icmp6::port_unreach);
    }
    REQUIRE(info.ext_error->offender);
    CHECK(*info.ext_error->offender == lo);
    // msg_name of an error-queue read is the original destination
    REQUIRE(info.source);
    CHECK(info.source->port == closed);
    // the payload we sent comes back
    CHECK(info.length == 2);
    CHECK(buf[0] == 0xab);
    CHECK(receive_error(s->get(), buf, info) == EAGAIN);
  }
}

TEST_CASE("socket: socket option helpers", "[socket]") {
  auto s = open_udp_socket(AF_INET);
  REQUIRE(s.ok());
  int fd = s->get();
  CHECK((::fcntl(fd, F_GETFL) & O_NONBLOCK));
  CHECK((::fcntl(fd, F_GETFD) & FD_CLOEXEC));
  REQUIRE(set_nonblocking(fd, false).ok());
  CHECK_FALSE((::fcntl(fd, F_GETFL) & O_NONBLOCK));
  REQUIRE(set_nonblocking(fd, true).ok());
  REQUIRE(set_cloexec(fd, false).ok());
  CHECK_FALSE((::fcntl(fd, F_GETFD) & FD_CLOEXEC));
  REQUIRE(set_cloexec(fd).ok());

  REQUIRE(set_ttl(fd, AF_INET, 7).ok());
  int v = 0;
  socklen_t len = sizeof v;
  REQUIRE(::getsockopt(fd, IPPROTO_IP, IP_TTL, &v, &len) == 0);
  CHECK(v == 7);
  REQUIRE(set_pmtu_discover(fd, AF_INET, PmtuDisc::do_).ok());
  REQUIRE(::getsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, &len) == 0);
  CHECK(v == IP_PMTUDISC_DO);
  REQUIRE(set_pmtu_discover(fd, AF_INET, PmtuDisc::dont).ok());
  REQUIRE(set_multicast_ttl(fd, AF_INET, 3).ok());
  CHECK_FALSE(set_ttl(fd, AF_INET, 300).ok());  // EINVAL from the kernel
  CHECK_FALSE(set_ttl(fd, AF_UNIX, 1).ok());

  auto e = bind_to_device(fd, "nosuchif0");
  REQUIRE_FALSE(e.ok());
  CHECK(e.error().code == ENODEV);
  CHECK(e.error().message().find("unknown interface 'nosuchif0'") != std::string::npos);
  CHECK_FALSE(bind_to_device(fd, "an-interface-name-far-too-long").ok());
  auto lo = bind_to_device(fd, "lo");
  if (!lo.ok()) WARN("SO_BINDTODEVICE lo: " << lo.error().message());
  else SUCCEED("bound to lo");

  auto v6 = open_udp_socket(AF_INET6);
  REQUIRE(v6.ok());
  REQUIRE(set_ttl(v6->get(), AF_INET6, 5).ok());
  REQUIRE(::getsockopt(v6->get(), IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, &len) == 0);
  CHECK(v == 5);
  REQUIRE(set_tos(v6->get(), AF_INET6, 0xb8).ok());
  REQUIRE(set_pmtu_discover(v6->get(), AF_INET6, PmtuDisc::probe).ok());

  CHECK_FALSE(open_udp_socket(AF_UNIX).ok());
  CHECK(open_tcp_socket(AF_INET).ok());
}

TEST_CASE("socket: ICMP ping socket to 127.0.0.1", "[socket]") {
  auto range = ping_group_range();
  if (!ping_sockets_allowed()) {
    WARN("SKIPPED: net.ipv4.ping_group_range (" << (range ? std::to_string(range->first) + " " + std::to_string(range->second) : "unreadable")
         << ") does not include our gid; unprivileged ping sockets are not allowed here");
    auto r = open_ping_socket(AF_INET);
    if (!r) CHECK(r.error().message().find("ping_group_range") != std::string::npos);
    return;
  }
  auto s = open_ping_socket(AF_INET);
  REQUIRE(s.ok());
  REQUIRE(enable_recv_meta(s->get(), AF_INET, meta_ttl | meta_timestamp).ok());
  uint8_t pkt[64];
  const uint8_t payload[] = {1, 2, 3, 4, 5, 6, 7, 8};
  size_t n = write_icmp_echo(pkt, 0, 1, payload);  // the kernel sets the id
  Endpoint dst{IpAddr::loopback(AF_INET), 0};
  REQUIRE(send_to(s->get(), {pkt, n}, &dst) == 0);
  REQUIRE(wait_readable(s->get()));
  uint8_t buf[128];
  RecvInfo info;
  REQUIRE(receive(s->get(), buf, info) == 0);
  IcmpView v;
  REQUIRE(IcmpView::parse({buf, info.length}, v) == PacketError::none);  // no IP header on ping sockets
  CHECK(v.type() == icmp4::echo_reply);
  CHECK(v.echo_seq() == 1);
  CHECK(info.ttl > 0);
  CHECK(info.kernel_time);
}

TEST_CASE("socket: raw ICMP socket echo to 127.0.0.1", "[socket]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: raw sockets need root / CAP_NET_RAW");
    auto r = open_raw_socket(AF_INET, IPPROTO_ICMP);
    if (!r) CHECK(r.error().message().find("CAP_NET_RAW") != std::string::npos);
    return;
  }
  auto s = open_raw_socket(AF_INET, IPPROTO_ICMP);
  if (!s) {
    WARN("SKIPPED: " << s.error().message());
    return;
  }
  REQUIRE(set_icmp_filter(s->get(), 1u << icmp4::echo_reply).ok());
  REQUIRE(enable_recv_meta(s->get(), AF_INET, meta_ttl | meta_timestamp).ok());
  const uint16_t id = uint16_t(::getpid() ^ 0x5a5a);
  uint8_t pkt[64];
  const uint8_t payload[] = {'n', 'e', 't', 's', 'h', 'o', 'o', 't'};
  size_t n = write_icmp_echo(pkt, id, 9, payload);
  Endpoint dst{IpAddr::loopback(AF_INET), 0};
  REQUIRE(send_to(s->get(), {pkt, n}, &dst) == 0);
  bool got = false;
  for (int tries = 0; tries < 20 && !got; ++tries) {
    REQUIRE(wait_readable(s->get()));
    uint8_t buf[256];
    RecvInfo info;
    REQUIRE(receive(s->get(), buf, info) == 0);
    Ipv4View ipv;  // raw IPv4 sockets deliver the IP header
    REQUIRE(Ipv4View::parse({buf, info.length}, ipv) == PacketError::none);
    IcmpView v;
    REQUIRE(IcmpView::parse(ipv.payload(), v) == PacketError::none);
    if (v.type() != icmp4::echo_reply || v.echo_id() != id) continue;
    got = true;
    CHECK(v.checksum_ok());
    CHECK(v.echo_seq() == 9);
    CHECK(ipv.src() == IpAddr::loopback(AF_INET));
    CHECK(info.ttl == ipv.ttl());
    CHECK(info.kernel_time);
  }
  CHECK(got);

  // IPv6 raw ICMPv6 socket: the kernel computes the checksum; no IP header on receive.
  if (!have_ipv6_loopback()) {
    WARN("SKIPPED: no IPv6 loopback here");
    return;
  }
  auto s6 = open_raw_socket(AF_INET6, IPPROTO_ICMPV6);
  REQUIRE(s6.ok());
  const uint8_t allow[] = {icmp6::echo_reply};
  REQUIRE(set_icmpv6_filter(s6->get(), allow).ok());
  REQUIRE(enable_recv_meta(s6->get(), AF_INET6, meta_ttl).ok());
  IpAddr lo6 = IpAddr::loopback(AF_INET6);
  n = write_icmpv6_echo(pkt, lo6, lo6, id, 10, payload);
  Endpoint dst6{lo6, 0};
  REQUIRE(send_to(s6->get(), {pkt, n}, &dst6) == 0);
  got = false;
  for (int tries = 0; tries < 20 && !got; ++tries) {
    REQUIRE(wait_readable(s6->get()));
    uint8_t buf[256];
    RecvInfo info;
    REQUIRE(receive(s6->get(), buf, info) == 0);
    Icmpv6View v;
    REQUIRE(Icmpv6View::parse({buf, info.length}, v) == PacketError::none);
    if (v.type() != icmp6::echo_reply || v.echo_id() != id) continue;
    got = true;
    CHECK(v.echo_seq() == 10);
    CHECK(v.checksum_ok(lo6, lo6));
    CHECK(info.ttl == 64);
  }
  CHECK(got);
}

TEST_CASE("socket: raw socket with IP_HDRINCL sends a built packet", "[socket]") {
  if (::geteuid() != 0) {
    WARN("SKIPPED: raw sockets need root / CAP_NET_RAW");
    return;
  }
  // Receive with a plain UDP socket what we craft with IP_HDRINCL.
  auto rx = open_udp_socket(AF_INET);
  REQUIRE(rx.ok());
  REQUIRE(bind_to(rx->get(), Endpoint{IpAddr::loopback(AF_INET), 0}).ok());
  REQUIRE(enable_recv_meta(rx->get(), AF_INET, meta_ttl | meta_tos).ok());
  Endpoint dst = local_endpoint(rx->get());
  auto raw = open_raw_socket(AF_INET, IPPROTO_RAW);
  if (!raw) {
    WARN("SKIPPED: " << raw.error().message());
    return;
  }
  REQUIRE(set_header_included(raw->get()).ok());
  IpFields ipf;
  ipf.src = IpAddr::loopback(AF_INET);
  ipf.dst = dst.addr;
  ipf.ttl = 33;
  ipf.tos = 0x10;
  ipf.id = 777;
  const uint8_t payload[] = {'c', 'r', 'a', 'f', 't'};
  uint8_t pkt[128];
  size_t n = build_udp_packet(pkt, ipf, 40001, dst.port, payload);
  REQUIRE(n == 33);
  REQUIRE(send_to(raw->get(), {pkt, n}, &dst) == 0);
  REQUIRE(wait_readable(rx->get()));
  uint8_t buf[64];
  RecvInfo info;
  REQUIRE(receive(rx->get(), buf, info) == 0);
  CHECK(info.length == 5);
  CHECK(std::memcmp(buf, payload, 5) == 0);
  CHECK(info.source->port == 40001);
  CHECK(info.ttl == 33);
  CHECK(info.tos == 0x10);
}

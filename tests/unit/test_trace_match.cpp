// trace: probe ids on the wire and the matching of crafted ICMP errors and TCP
// answers to probes (no sockets). The applet's sources are compiled in directly.
#include <catch2/catch.hpp>

#include "applets/trace/trace.h"

using namespace netshoot;
using namespace netshoot::applet::trace;
using core::IpAddr;

namespace {

const IpAddr kSrc = IpAddr::v4(10, 210, 1, 1);
const IpAddr kDst = IpAddr::v4(10, 210, 4, 2);
const IpAddr kRouter = IpAddr::v4(10, 210, 2, 2);

ProbeWire udp_wire(bool classic = false, int flows = 1) {
  ProbeWire w;
  w.method = Method::udp;
  w.src = kSrc;
  w.dst = kDst;
  w.src_port = 40000;
  w.dst_port = kUdpBasePort;
  w.classic = classic;
  w.flows = flows;
  return w;
}

// The probe as the wire carries it: IPv4 header + L4 bytes.
std::vector<uint8_t> ip_packet(const IpAddr& src, const IpAddr& dst, uint8_t proto, const std::vector<uint8_t>& l4,
                               uint8_t ttl = 1) {
  std::vector<uint8_t> out(20 + l4.size());
  core::Ipv4Fields f;
  f.src = src;
  f.dst = dst;
  f.protocol = proto;
  f.ttl = ttl;
  REQUIRE(core::write_ipv4_header({out.data(), out.size()}, f, l4.size()) == 20);
  std::copy(l4.begin(), l4.end(), out.begin() + 20);
  return out;
}

std::vector<uint8_t> udp_probe(const ProbeWire& w, uint16_t id, uint16_t flow, size_t payload = 32) {
  std::vector<uint8_t> buf(8 + payload + 8);
  size_t plen = build_udp_payload(w, id, flow, payload, buf.data() + 8);
  size_t n = core::write_udp({buf.data(), buf.size()}, w.src, w.dst, w.src_port, udp_dst_port(w, id, flow),
                             {buf.data() + 8, plen});
  REQUIRE(n == 8 + plen);
  buf.resize(n);
  return buf;
}

// An ICMP error from `from` quoting `quoted` (cut to `quote_len` bytes), inside its IPv4 header.
std::vector<uint8_t> icmp_error(uint8_t type, uint8_t code, uint32_t rest, std::vector<uint8_t> quoted,
                                size_t quote_len, const IpAddr& from) {
  quoted.resize(std::min(quoted.size(), quote_len));
  std::vector<uint8_t> icmp(8 + quoted.size());
  REQUIRE(core::write_icmp({icmp.data(), icmp.size()}, type, code, rest, {quoted.data(), quoted.size()}) > 0);
  return ip_packet(from, kSrc, core::ipproto::icmp, icmp, 64);
}

}  // namespace

TEST_CASE("trace: UDP probe id is carried in the checksum, ports stay constant", "[trace]") {
  ProbeWire w = udp_wire();
  for (uint16_t id : {0, 1, 77, 4095, 0x7fff}) {
    auto p = udp_probe(w, id, 0);
    core::UdpView u;
    REQUIRE(core::UdpView::parse(p, u) == core::PacketError::none);
    CHECK(u.src_port() == 40000);
    CHECK(u.dst_port() == kUdpBasePort);
    CHECK(u.checksum() == uint16_t(id + 1));
    CHECK(u.checksum_ok(kSrc, kDst));
  }
  // Flows change the destination port only.
  auto p = udp_probe(udp_wire(false, 4), 9, 3);
  CHECK(core::load_be16(p.data() + 2) == kUdpBasePort + 3);
  // --classic: the destination port is base + id.
  auto c = udp_probe(udp_wire(true), 9, 0);
  CHECK(core::load_be16(c.data() + 2) == kUdpBasePort + 9);
}

TEST_CASE("trace: time exceeded quoting a UDP probe matches by checksum, even cut to 8 bytes", "[trace]") {
  ProbeWire w = udp_wire(false, 2);
  auto probe = ip_packet(kSrc, kDst, core::ipproto::udp, udp_probe(w, 1234, 1));
  for (size_t quote : {size_t(28), probe.size()}) {
    auto pkt = icmp_error(core::icmp4::time_exceeded, 0, 0, probe, quote, kRouter);
    Reply r;
    REQUIRE(match_icmp(w, pkt, kRouter, r));
    CHECK(r.kind == Reply::Kind::time_exceeded);
    CHECK(r.probe_id == 1234);
    CHECK(r.flow == 1);
    CHECK(r.from == kRouter);
    CHECK(r.note[0] == '\0');
  }
  // Someone else's datagram (another source port, another destination) is not ours.
  ProbeWire other = w;
  other.src_port = 40001;
  auto foreign = ip_packet(kSrc, kDst, core::ipproto::udp, udp_probe(other, 5, 0));
  Reply r;
  CHECK_FALSE(match_icmp(w, icmp_error(core::icmp4::time_exceeded, 0, 0, foreign, 28, kRouter), kRouter, r));
  auto elsewhere = ip_packet(kSrc, IpAddr::v4(192, 0, 2, 1), core::ipproto::udp, udp_probe(w, 5, 0));
  CHECK_FALSE(match_icmp(w, icmp_error(core::icmp4::time_exceeded, 0, 0, elsewhere, 28, kRouter), kRouter, r));
  // Too short a quote to hold the UDP header.
  CHECK_FALSE(match_icmp(w, icmp_error(core::icmp4::time_exceeded, 0, 0, probe, 24, kRouter), kRouter, r));
}

TEST_CASE("trace: classic UDP matches by destination port; port unreachable means reached", "[trace]") {
  ProbeWire w = udp_wire(true);
  auto probe = ip_packet(kSrc, kDst, core::ipproto::udp, udp_probe(w, 42, 0));
  Reply r;
  REQUIRE(match_icmp(w, icmp_error(core::icmp4::dest_unreach, core::icmp4::port_unreach, 0, probe, 28, kDst), kDst, r));
  CHECK(r.kind == Reply::Kind::reached);
  CHECK(r.probe_id == 42);
}

TEST_CASE("trace: unreachable codes become traceroute's annotations", "[trace]") {
  struct Case { uint8_t code; const char* note; };
  for (auto c : {Case{0, "!N"}, Case{1, "!H"}, Case{2, "!P"}, Case{5, "!S"}, Case{9, "!X"}, Case{10, "!X"},
                 Case{13, "!X"}, Case{14, "!V"}, Case{15, "!C"}}) {
    Reply r;
    classify_unreach(false, core::icmp4::dest_unreach, c.code, 0, r);
    CHECK(r.kind == Reply::Kind::unreachable);
    CHECK(std::string(r.note) == c.note);
  }
  ProbeWire w = udp_wire();
  auto probe = ip_packet(kSrc, kDst, core::ipproto::udp, udp_probe(w, 7, 0));
  Reply r;
  REQUIRE(match_icmp(w, icmp_error(core::icmp4::dest_unreach, core::icmp4::frag_needed, 1400, probe, 28, kRouter),
                     kRouter, r));
  CHECK(r.kind == Reply::Kind::unreachable);
  CHECK(r.mtu == 1400);
  CHECK(std::string(r.note) == "!F-1400");
  // IPv6
  classify_unreach(true, core::icmp6::dest_unreach, core::icmp6::port_unreach, 0, r);
  CHECK(r.kind == Reply::Kind::reached);
  classify_unreach(true, core::icmp6::dest_unreach, core::icmp6::admin_prohibited, 0, r);
  CHECK(std::string(r.note) == "!X");
  classify_unreach(true, core::icmp6::packet_too_big, 0, 1280, r);
  CHECK(std::string(r.note) == "!F-1280");
  classify_unreach(true, core::icmp6::time_exceeded, 0, 0, r);
  CHECK(r.kind == Reply::Kind::time_exceeded);
}

TEST_CASE("trace: ICMP echo probes keep one checksum and match by sequence", "[trace]") {
  ProbeWire w = udp_wire();
  w.method = Method::icmp;
  w.src_port = 0x1234;  // echo id of flow 0
  w.flows = 2;
  uint8_t a[64], b[64];
  size_t na = build_icmp_probe(w, 1, 0, 40, a), nb = build_icmp_probe(w, 999, 0, 40, b);
  REQUIRE(na == 40);
  REQUIRE(nb == 40);
  CHECK(core::load_be16(a + 2) == core::load_be16(b + 2));  // same checksum: same flow hash
  CHECK(core::internet_checksum({a, na}) == 0);

  // Time exceeded quoting echo 999 of flow 1, and the echo reply to probe 5 of flow 0.
  uint8_t f1[64];
  size_t n1 = build_icmp_probe(w, 999, 1, 40, f1);
  auto probe = ip_packet(kSrc, kDst, core::ipproto::icmp, {f1, f1 + n1});
  Reply r;
  REQUIRE(match_icmp(w, icmp_error(core::icmp4::time_exceeded, 0, 0, probe, 28, kRouter), kRouter, r));
  CHECK(r.probe_id == 999);
  CHECK(r.flow == 1);
  std::vector<uint8_t> reply(40);
  REQUIRE(core::write_icmp_echo({reply.data(), reply.size()}, 0x1234, 5, {a + 8, 32}, true) > 0);
  REQUIRE(match_icmp(w, ip_packet(kDst, kSrc, core::ipproto::icmp, reply, 64), kDst, r));
  CHECK(r.kind == Reply::Kind::reached);
  CHECK(r.probe_id == 5);
  // Someone else's echo reply (another id) is not ours.
  REQUIRE(core::write_icmp_echo({reply.data(), reply.size()}, 0x4321, 5, {a + 8, 32}, true) > 0);
  CHECK_FALSE(match_icmp(w, ip_packet(kDst, kSrc, core::ipproto::icmp, reply, 64), kDst, r));
}

TEST_CASE("trace: TCP SYN probes match by sequence in quotes and by ack in SYN-ACK/RST", "[trace]") {
  ProbeWire w = udp_wire();
  w.method = Method::tcp;
  w.src_port = 50000;
  w.dst_port = 443;
  w.tcp_seq_hi = 0xbeef;
  uint8_t syn[80];
  size_t n = build_tcp_probe(w, 321, 0, syn, sizeof syn);
  REQUIRE(n >= 20);
  core::TcpView t;
  REQUIRE(core::TcpView::parse({syn, n}, t) == core::PacketError::none);
  CHECK(t.has(core::tcpflag::syn));
  CHECK(t.checksum_ok(kSrc, kDst));

  auto probe = ip_packet(kSrc, kDst, core::ipproto::tcp, {syn, syn + n});
  Reply r;
  REQUIRE(match_icmp(w, icmp_error(core::icmp4::time_exceeded, 0, 0, probe, 28, kRouter), kRouter, r));
  CHECK(r.probe_id == 321);

  for (uint8_t flags : {uint8_t(core::tcpflag::syn | core::tcpflag::ack), uint8_t(core::tcpflag::rst | core::tcpflag::ack)}) {
    core::TcpFields f;
    f.src_port = 443;
    f.dst_port = 50000;
    f.seq = 777;
    f.ack = (uint32_t(0xbeef) << 16 | 321) + 1;
    f.flags = flags;
    uint8_t seg[40];
    size_t sn = core::write_tcp({seg, sizeof seg}, kDst, kSrc, f, {});
    REQUIRE(match_tcp(w, ip_packet(kDst, kSrc, core::ipproto::tcp, {seg, seg + sn}, 64), kDst, r));
    CHECK(r.kind == Reply::Kind::reached);
    CHECK(r.tcp);
    CHECK(r.tcp_open == bool(flags & core::tcpflag::syn));
    CHECK(r.probe_id == 321);
    // An ack that is not one of ours.
    f.ack = 12345;
    sn = core::write_tcp({seg, sizeof seg}, kDst, kSrc, f, {});
    CHECK_FALSE(match_tcp(w, ip_packet(kDst, kSrc, core::ipproto::tcp, {seg, seg + sn}, 64), kDst, r));
  }
}

TEST_CASE("trace: ICMPv6 time exceeded quoting a UDP probe", "[trace]") {
  ProbeWire w = udp_wire();
  w.src = *IpAddr::try_parse("fd00:210:1::1");
  w.dst = *IpAddr::try_parse("fd00:210:4::2");
  IpAddr router = *IpAddr::try_parse("fd00:210:2::2");
  auto udp = udp_probe(w, 3000, 0);
  std::vector<uint8_t> probe(40 + udp.size());
  core::Ipv6Fields f;
  f.src = w.src;
  f.dst = w.dst;
  f.next_header = core::ipproto::udp;
  f.hop_limit = 1;
  REQUIRE(core::write_ipv6_header({probe.data(), probe.size()}, f, udp.size()) == 40);
  std::copy(udp.begin(), udp.end(), probe.begin() + 40);
  std::vector<uint8_t> icmp(8 + probe.size());
  REQUIRE(core::write_icmpv6({icmp.data(), icmp.size()}, router, w.src, core::icmp6::time_exceeded, 0, 0,
                             {probe.data(), probe.size()}) > 0);
  Reply r;
  REQUIRE(match_icmp(w, icmp, router, r));  // raw ICMPv6 sockets give no IPv6 header
  CHECK(r.kind == Reply::Kind::time_exceeded);
  CHECK(r.probe_id == 3000);
  CHECK(r.from == router);
}

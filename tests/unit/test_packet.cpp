#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "netshoot/packet.h"

using namespace netshoot::core;
using Bytes = std::vector<uint8_t>;

namespace {

// Reference RFC 1071 checksum, written the slow obvious way (independent of the
// optimized implementation under test).
uint16_t ref_checksum(const Bytes& b, uint32_t initial = 0) {
  uint64_t s = initial;
  for (size_t i = 0; i < b.size(); i += 2) {
    uint16_t w = uint16_t(b[i] << 8);
    if (i + 1 < b.size()) w |= b[i + 1];
    s += w;
  }
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return uint16_t(~s);
}

Bytes hex(std::string_view h) {
  Bytes b;
  int hi = -1;
  for (char c : h) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) continue;
    if (hi < 0) hi = v; else b.push_back(uint8_t(hi << 4 | v)), hi = -1;
  }
  return b;
}

IpAddr ip(std::string_view s) { return *IpAddr::try_parse(s); }

// Pseudo-header as bytes, for the reference checksum.
Bytes pseudo(const IpAddr& src, const IpAddr& dst, uint8_t proto, size_t len) {
  Bytes p(src.bytes().begin(), src.bytes().end());
  p.insert(p.end(), dst.bytes().begin(), dst.bytes().end());
  if (src.is_v4()) {
    p.insert(p.end(), {0, proto, uint8_t(len >> 8), uint8_t(len)});
  } else {
    p.insert(p.end(), {uint8_t(len >> 24), uint8_t(len >> 16), uint8_t(len >> 8), uint8_t(len), 0, 0, 0, proto});
  }
  return p;
}

uint16_t ref_l4_checksum(const IpAddr& src, const IpAddr& dst, uint8_t proto, ConstBytes seg) {
  Bytes all = pseudo(src, dst, proto, seg.size());
  all.insert(all.end(), seg.begin(), seg.end());
  return ref_checksum(all);
}

ConstBytes cb(const Bytes& b) { return {b.data(), b.size()}; }

}  // namespace

TEST_CASE("packet: ByteReader never reads past the end", "[packet]") {
  Bytes b = {1, 2, 3, 4, 5, 6, 7};
  ByteReader r(cb(b));
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  REQUIRE(r.u8(u8));
  CHECK(u8 == 1);
  REQUIRE(r.u16be(u16));
  CHECK(u16 == 0x0203);
  REQUIRE(r.u32be(u32));
  CHECK(u32 == 0x04050607);
  CHECK(r.empty());
  CHECK_FALSE(r.u8(u8));
  CHECK(u8 == 1);  // untouched on failure
  ByteReader r2(cb(b));
  ByteReader sub;
  REQUIRE(r2.sub(3, sub));
  CHECK(sub.size() == 3);
  CHECK_FALSE(sub.u32be(u32));
  CHECK(sub.offset() == 0);
  CHECK(r2.offset() == 3);
  CHECK_FALSE(r2.skip(5));
  CHECK(r2.skip(4));
  ConstBytes out;
  CHECK_FALSE(r2.bytes(1, out));
  CHECK_FALSE(r2.sub(size_t(-1), sub));
  CHECK_FALSE(ByteReader().u8(u8));
}

TEST_CASE("packet: internet checksum", "[packet]") {
  // RFC 1071 §3 example: sum 0xddf2, checksum 0x220d.
  Bytes rfc = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(checksum_partial(cb(rfc)) == 0xddf2);
  CHECK(internet_checksum(cb(rfc)) == 0x220d);
  // Well-known IPv4 header (checksum b861).
  Bytes hdr = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
  CHECK(internet_checksum(cb(hdr)) == 0xb861);
  // Matches the reference for every length 0..300 and odd alignment; chaining works.
  std::mt19937 rng(7);
  Bytes big(301);
  for (auto& x : big) x = uint8_t(rng());
  for (size_t off : {0, 1}) {
    for (size_t len = 0; len + off <= 300; ++len) {
      Bytes part(big.begin() + off, big.begin() + off + len);
      INFO(len);
      REQUIRE(internet_checksum({big.data() + off, len}) == ref_checksum(part));
      size_t half = (len / 2) & ~size_t(1);
      uint32_t s = checksum_partial(big.data() + off, half);
      s = checksum_partial(big.data() + off + half, len - half, s);
      REQUIRE(checksum_finish(s) == ref_checksum(part));
    }
  }
  // all-ones data
  Bytes ff(64, 0xff);
  CHECK(internet_checksum(cb(ff)) == ref_checksum(ff));
}

TEST_CASE("packet: incremental checksum update (RFC 1624)", "[packet]") {
  Bytes hdr = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  // decrement TTL 0x40 -> 0x3f (word 4: 0x4011 -> 0x3f11)
  uint16_t c = checksum_adjust(0xb861, 0x4011, 0x3f11);
  hdr[8] = 0x3f;
  hdr[10] = hdr[11] = 0;
  CHECK(c == ref_checksum(hdr));
  // change the source address (32 bits)
  uint16_t c2 = checksum_adjust32(c, 0xc0a80001, 0x0a000001);
  hdr[12] = 10, hdr[13] = 0, hdr[14] = 0, hdr[15] = 1;
  CHECK(c2 == ref_checksum(hdr));
}

TEST_CASE("packet: IPv4 view", "[packet]") {
  Bytes pkt = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
  pkt.resize(0x73, 0xab);
  Ipv4View v;
  REQUIRE(Ipv4View::parse(cb(pkt), v) == PacketError::none);
  CHECK(v.version() == 4);
  CHECK(v.header_length() == 20);
  CHECK(v.total_length() == 0x73);
  CHECK(v.dont_fragment());
  CHECK_FALSE(v.more_fragments());
  CHECK_FALSE(v.is_fragment());
  CHECK(v.ttl() == 64);
  CHECK(v.protocol() == ipproto::udp);
  CHECK(v.checksum_ok());
  CHECK(v.src() == ip("192.168.0.1"));
  CHECK(v.dst() == ip("192.168.0.199"));
  CHECK(v.payload().size() == 0x73 - 20);
  CHECK_FALSE(v.payload_truncated());
  CHECK(v.options().empty());

  // trailing link-layer padding is excluded from the payload
  Bytes padded = pkt;
  padded.resize(pkt.size() + 10);
  REQUIRE(Ipv4View::parse(cb(padded), v) == PacketError::none);
  CHECK(v.payload().size() == 0x73 - 20);

  // a corrupted checksum
  Bytes bad = pkt;
  bad[11] ^= 1;
  REQUIRE(Ipv4View::parse(cb(bad), v) == PacketError::none);
  CHECK_FALSE(v.checksum_ok());

  // every truncation: header incomplete -> truncated; otherwise payload_truncated
  for (size_t n = 0; n < pkt.size(); ++n) {
    INFO(n);
    auto e = Ipv4View::parse({pkt.data(), n}, v);
    if (n < 20) {
      CHECK(e == PacketError::truncated);
    } else {
      REQUIRE(e == PacketError::none);
      CHECK(v.payload_truncated());
      CHECK(v.payload().size() == n - 20);
    }
  }
  Bytes b6 = pkt;
  b6[0] = 0x65;
  CHECK(Ipv4View::parse(cb(b6), v) == PacketError::bad_version);
  Bytes ihl = pkt;
  ihl[0] = 0x44;
  CHECK(Ipv4View::parse(cb(ihl), v) == PacketError::bad_header_length);
  Bytes tl = pkt;
  tl[2] = 0, tl[3] = 10;
  CHECK(Ipv4View::parse(cb(tl), v) == PacketError::bad_length);
  Bytes opt = pkt;
  opt[0] = 0x4f;  // 60-byte header
  CHECK(Ipv4View::parse({opt.data(), 40}, v) == PacketError::truncated);
}

TEST_CASE("packet: IPv4 fragments and options through the builder", "[packet]") {
  uint8_t buf[128];
  Bytes opts = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
  Ipv4Fields f;
  f.src = ip("10.0.0.1");
  f.dst = ip("10.0.0.2");
  f.protocol = ipproto::icmp;
  f.ttl = 3;
  f.tos = 0xb8;
  f.id = 0x1234;
  f.more_fragments = true;
  f.fragment_offset = 1480;
  f.options = cb(opts);
  size_t h = write_ipv4_header(buf, f, 16);
  REQUIRE(h == 24);
  std::memset(buf + h, 0, 16);
  Ipv4View v;
  REQUIRE(Ipv4View::parse({buf, h + 16}, v) == PacketError::none);
  CHECK(v.checksum_ok());
  CHECK(ref_checksum(Bytes(buf, buf + h)) == 0);
  CHECK(v.header_length() == 24);
  CHECK(v.options().size() == 4);
  CHECK(v.is_fragment());
  CHECK(v.more_fragments());
  CHECK(v.fragment_offset() == 1480);
  CHECK(v.fragment_offset_units() == 185);
  CHECK(v.id() == 0x1234);
  CHECK(v.tos() == 0xb8);
  CHECK(v.dscp() == 46);
  CHECK(v.ttl() == 3);
  CHECK(v.total_length() == 40);
  // invalid fields
  f.fragment_offset = 3;
  CHECK(write_ipv4_header(buf, f, 16) == 0);
  f.fragment_offset = 0;
  Bytes odd = {1, 1, 1};
  f.options = cb(odd);
  CHECK(write_ipv4_header(buf, f, 16) == 0);
  f.options = {};
  CHECK(write_ipv4_header({buf, 19}, f, 0) == 0);
  CHECK(write_ipv4_header(buf, f, 65536) == 0);
  f.dst = ip("::1");
  CHECK(write_ipv4_header(buf, f, 0) == 0);
}

TEST_CASE("packet: ICMP echo known bytes", "[packet]") {
  std::string data = "abcdefghijklmnopqrstuvwabcdefghi";
  Bytes payload(data.begin(), data.end());
  uint8_t buf[64];
  size_t n = write_icmp_echo(buf, 1, 1, cb(payload));
  REQUIRE(n == 40);
  CHECK(buf[0] == 8);
  CHECK(buf[2] == 0x4d);  // the classic Windows ping checksum
  CHECK(buf[3] == 0x5a);
  IcmpView v;
  REQUIRE(IcmpView::parse({buf, n}, v) == PacketError::none);
  CHECK(v.is_echo());
  CHECK_FALSE(v.is_error());
  CHECK(v.checksum_ok());
  CHECK(v.echo_id() == 1);
  CHECK(v.echo_seq() == 1);
  CHECK(v.payload().size() == 32);
  Ipv4View inner;
  CHECK(v.embedded(inner) == PacketError::wrong_type);
  for (size_t k = 0; k < 8; ++k) CHECK(IcmpView::parse({buf, k}, v) == PacketError::truncated);
  CHECK(write_icmp_echo({buf, 39}, 1, 1, cb(payload)) == 0);
}

TEST_CASE("packet: ICMP time exceeded quoting a UDP probe", "[packet]") {
  // The probe as sent by traceroute.
  uint8_t probe[64];
  IpFields pf;
  pf.src = ip("192.0.2.10");
  pf.dst = ip("198.51.100.1");
  pf.ttl = 1;
  pf.id = 0xbeef;
  Bytes pl(24, 0x42);
  size_t plen = build_udp_packet(probe, pf, 40000, 33434, cb(pl));
  REQUIRE(plen == 20 + 8 + 24);
  // Router quotes IP header + first 8 bytes.
  Bytes quote(probe, probe + 28);
  uint8_t icmpbuf[128];
  size_t in = write_icmp(icmpbuf, icmp4::time_exceeded, 0, 0, cb(quote));
  REQUIRE(in == 36);
  uint8_t pkt[128];
  Ipv4Fields of;
  of.src = ip("203.0.113.1");
  of.dst = pf.src;
  of.protocol = ipproto::icmp;
  size_t oh = write_ipv4_header(pkt, of, in);
  std::memcpy(pkt + oh, icmpbuf, in);

  Ipv4View outer;
  REQUIRE(Ipv4View::parse({pkt, oh + in}, outer) == PacketError::none);
  REQUIRE(outer.protocol() == ipproto::icmp);
  IcmpView icmp;
  REQUIRE(IcmpView::parse(outer.payload(), icmp) == PacketError::none);
  CHECK(icmp.checksum_ok());
  CHECK(icmp.is_error());
  CHECK(icmp.type() == icmp4::time_exceeded);
  Ipv4View inner;
  REQUIRE(icmp.embedded(inner) == PacketError::none);
  CHECK(inner.payload_truncated());
  CHECK(inner.id() == 0xbeef);
  CHECK(inner.dst() == ip("198.51.100.1"));
  CHECK(inner.ttl() == 1);
  UdpView udp;
  REQUIRE(UdpView::parse(inner.payload(), udp) == PacketError::none);
  CHECK(udp.src_port() == 40000);
  CHECK(udp.dst_port() == 33434);
  CHECK(udp.payload_truncated());
  CHECK_FALSE(udp.checksum_ok(inner.src(), inner.dst()));  // cannot verify a quote
  TcpView tq;
  REQUIRE(TcpView::parse_quoted(inner.payload(), tq) == PacketError::none);
  CHECK(tq.src_port() == 40000);
}

TEST_CASE("packet: TCP build, parse and options", "[packet]") {
  // Linux-style SYN options: MSS 1460, SACK-perm, TS, NOP, wscale 7.
  TcpOptionSpec spec;
  spec.mss = 1460;
  spec.sack_permitted = true;
  spec.timestamps = true;
  spec.ts_val = 0x01020304;
  spec.ts_ecr = 0;
  spec.wscale = 7;
  uint8_t opts[40];
  size_t olen = write_tcp_options(opts, spec);
  REQUIRE(olen == 20);
  CHECK(Bytes(opts, opts + olen) == hex("020405b4 0402 080a 01020304 00000000 01 030307"));

  IpAddr src = ip("192.0.2.1"), dst = ip("192.0.2.2");
  TcpFields f;
  f.src_port = 54321;
  f.dst_port = 443;
  f.seq = 0xdeadbeef;
  f.ack = 0;
  f.flags = tcpflag::syn;
  f.window = 64240;
  f.options = {opts, olen};
  uint8_t seg[128];
  size_t n = write_tcp(seg, src, dst, f, {});
  REQUIRE(n == 40);
  CHECK(ref_l4_checksum(src, dst, ipproto::tcp, {seg, n}) == 0);
  TcpView v;
  REQUIRE(TcpView::parse({seg, n}, v) == PacketError::none);
  CHECK(v.src_port() == 54321);
  CHECK(v.dst_port() == 443);
  CHECK(v.seq() == 0xdeadbeef);
  CHECK(v.header_length() == 40);
  CHECK(v.flags() == tcpflag::syn);
  CHECK(v.has(tcpflag::syn));
  CHECK_FALSE(v.has(tcpflag::syn | tcpflag::ack));
  CHECK(v.window() == 64240);
  CHECK(v.checksum_ok(src, dst));
  CHECK_FALSE(v.checksum_ok(src, ip("192.0.2.3")));
  auto o = v.options();
  CHECK(o.error == PacketError::none);
  CHECK(o.has_mss);
  CHECK(o.mss == 1460);
  CHECK(o.sack_permitted);
  CHECK(o.has_timestamps);
  CHECK(o.ts_val == 0x01020304);
  CHECK(o.has_wscale);
  CHECK(o.wscale == 7);
  CHECK(v.payload().empty());

  // bad checksum on request
  f.bad_checksum = true;
  n = write_tcp(seg, src, dst, f, {});
  REQUIRE(TcpView::parse({seg, n}, v) == PacketError::none);
  CHECK_FALSE(v.checksum_ok(src, dst));

  // options not a multiple of 4 are padded with EOL
  Bytes mss = hex("020405b4 01");
  f.bad_checksum = false;
  f.options = cb(mss);
  n = write_tcp(seg, src, dst, f, {});
  REQUIRE(n == 28);
  CHECK(seg[25] == 0);
  REQUIRE(TcpView::parse({seg, n}, v) == PacketError::none);
  CHECK(v.options().mss == 1460);

  // truncations
  for (size_t k = 0; k < 20; ++k) CHECK(TcpView::parse({seg, k}, v) == PacketError::truncated);
  CHECK(TcpView::parse({seg, 27}, v) == PacketError::truncated);
  seg[12] = 0x40;
  CHECK(TcpView::parse({seg, n}, v) == PacketError::bad_header_length);
}

TEST_CASE("packet: TCP option edge cases", "[packet]") {
  SECTION("SACK blocks") {
    Bytes o = hex("0101 050a 00000010 00000020 0101 0512 00000001 00000002 00000003 00000004");
    auto t = TcpOptions::parse(cb(o));
    // The second SACK (16 bytes of blocks) follows the first; last one wins.
    CHECK(t.error == PacketError::none);
    CHECK(t.sack_count == 2);
    CHECK(t.sack[0].left == 1);
    CHECK(t.sack[1].right == 4);
  }
  SECTION("malformed lengths") {
    for (auto h : {"02", "0201", "0204 05", "0800", "05 03 000000", "03 02"}) {
      INFO(h);
      CHECK(TcpOptions::parse(cb(hex(h))).error == PacketError::bad_option);
    }
  }
  SECTION("EOL stops, unknown kinds skipped") {
    auto t = TcpOptions::parse(cb(hex("fe04abcd 00 020405b4")));
    CHECK(t.error == PacketError::none);
    CHECK_FALSE(t.has_mss);
    Bytes raw = hex("01 fe04abcd 00");
    TcpOptionIter it(cb(raw));
    TcpOption o;
    REQUIRE(it.next(o));
    CHECK(o.kind == tcpopt::nop);
    REQUIRE(it.next(o));
    CHECK(o.kind == 0xfe);
    CHECK(o.data.size() == 2);
    CHECK_FALSE(it.next(o));
  }
  char buf[16];
  CHECK(std::string(buf, format_tcp_flags(tcpflag::syn | tcpflag::ack, buf, sizeof buf)) == "S.");
  CHECK(std::string(buf, format_tcp_flags(0, buf, sizeof buf)) == "none");
  CHECK(std::string(buf, format_tcp_flags(0xff, buf, sizeof buf)) == "FSRP.UEW");
  CHECK(std::string(buf, format_tcp_flags(tcpflag::fin | tcpflag::psh | tcpflag::urg, buf, sizeof buf)) == "FPU");
}

TEST_CASE("packet: UDP build and parse", "[packet]") {
  IpAddr src = ip("2001:db8::1"), dst = ip("2001:db8::2");
  Bytes pl = {'h', 'e', 'l', 'l', 'o'};
  uint8_t buf[64];
  size_t n = write_udp(buf, src, dst, 5353, 53, cb(pl));
  REQUIRE(n == 13);
  CHECK(ref_l4_checksum(src, dst, ipproto::udp, {buf, n}) == 0);
  UdpView v;
  REQUIRE(UdpView::parse({buf, n}, v) == PacketError::none);
  CHECK(v.src_port() == 5353);
  CHECK(v.dst_port() == 53);
  CHECK(v.length() == 13);
  CHECK(v.payload().size() == 5);
  CHECK(v.checksum_ok(src, dst));
  // zero checksum: fine for IPv4, not for IPv6
  buf[6] = buf[7] = 0;
  REQUIRE(UdpView::parse({buf, n}, v) == PacketError::none);
  CHECK(v.checksum_ok(ip("10.0.0.1"), ip("10.0.0.2")));
  CHECK_FALSE(v.checksum_ok(src, dst));
  buf[5] = 7;  // length 7 < 8
  CHECK(UdpView::parse({buf, n}, v) == PacketError::bad_length);
  for (size_t k = 0; k < 8; ++k) CHECK(UdpView::parse({buf, k}, v) == PacketError::truncated);
  CHECK(write_udp({buf, 12}, src, dst, 1, 2, cb(pl)) == 0);
}

TEST_CASE("packet: UDP checksum 0 is sent as 0xffff", "[packet]") {
  // Find a payload whose checksum computes to 0 and check it is transmitted as ffff.
  IpAddr src = ip("10.0.0.1"), dst = ip("10.0.0.2");
  uint8_t buf[16];
  bool found = false;
  for (uint32_t x = 0; x <= 0xffff && !found; ++x) {
    Bytes pl = {uint8_t(x >> 8), uint8_t(x)};
    size_t n = write_udp(buf, src, dst, 1, 2, cb(pl));
    REQUIRE(n == 10);
    if (load_be16(buf + 6) == 0xffff) {
      found = true;
      UdpView v;
      REQUIRE(UdpView::parse({buf, n}, v) == PacketError::none);
      CHECK(v.checksum_ok(src, dst));
    }
    REQUIRE(load_be16(buf + 6) != 0);
  }
  CHECK(found);
}

TEST_CASE("packet: IPv6 extension header walk", "[packet]") {
  IpAddr src = ip("2001:db8::1"), dst = ip("2001:db8::2");
  // HBH (8) -> DSTOPTS (16) -> ROUTING (8... type 0 header, 24 bytes) -> FRAG (8) -> AH (16) -> UDP
  Bytes ext;
  ext.insert(ext.end(), {ipproto::dstopts, 0, 1, 4, 0, 0, 0, 0});                       // HBH, PadN
  ext.insert(ext.end(), {ipproto::routing, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});  // DO 16
  ext.insert(ext.end(), {ipproto::fragment, 2, 0, 1});                                   // RH, 24 bytes
  ext.resize(ext.size() + 20, 0);
  ext.insert(ext.end(), {ipproto::ah, 0, 0x00, 0x01, 0xca, 0xfe, 0xba, 0xbe});            // FRAG off 0, M
  ext.insert(ext.end(), {ipproto::udp, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0});     // AH 16 bytes
  uint8_t udp[32];
  Bytes pl = {1, 2, 3, 4};
  size_t un = write_udp(udp, src, dst, 1000, 2000, cb(pl));
  Bytes pkt(40);
  Ipv6Fields f;
  f.src = src;
  f.dst = dst;
  f.next_header = ipproto::hopopts;
  f.hop_limit = 7;
  f.traffic_class = 0xa5;
  f.flow_label = 0xfedcb;
  REQUIRE(write_ipv6_header({pkt.data(), pkt.size()}, f, ext.size() + un) == 40);
  pkt.insert(pkt.end(), ext.begin(), ext.end());
  pkt.insert(pkt.end(), udp, udp + un);

  Ipv6View v;
  REQUIRE(Ipv6View::parse(cb(pkt), v) == PacketError::none);
  CHECK(v.version() == 6);
  CHECK(v.traffic_class() == 0xa5);
  CHECK(v.flow_label() == 0xfedcb);
  CHECK(v.hop_limit() == 7);
  CHECK(v.src() == src);
  CHECK(v.dst() == dst);
  CHECK(v.next_header() == ipproto::hopopts);
  CHECK(v.extension_count() == 5);
  CHECK(v.upper_protocol() == ipproto::udp);
  CHECK(v.upper_offset() == 40 + ext.size());
  CHECK(v.has_fragment_header());
  CHECK(v.more_fragments());
  CHECK(v.fragment_offset() == 0);
  CHECK(v.fragment_id() == 0xcafebabe);
  CHECK_FALSE(v.upper_layer_opaque());
  CHECK_FALSE(v.payload_truncated());
  UdpView u;
  REQUIRE(UdpView::parse(v.payload(), u) == PacketError::none);
  CHECK(u.dst_port() == 2000);
  CHECK(u.checksum_ok(src, dst));

  // Every truncation either reports truncated (headers cut) or parses with
  // payload_truncated.
  for (size_t n = 0; n < pkt.size(); ++n) {
    INFO(n);
    auto e = Ipv6View::parse({pkt.data(), n}, v);
    if (n < 40 + ext.size()) {
      CHECK(e == PacketError::truncated);
    } else {
      REQUIRE(e == PacketError::none);
      CHECK(v.payload_truncated());
    }
  }
  // A payload length too small for the headers is bad_length, not truncated.
  Bytes shortlen = pkt;
  shortlen[4] = 0, shortlen[5] = 12;
  CHECK(Ipv6View::parse(cb(shortlen), v) == PacketError::bad_length);
  // HBH not first -> bad_option
  Bytes hbh2 = pkt;
  hbh2[40] = ipproto::hopopts;
  CHECK(Ipv6View::parse(cb(hbh2), v) == PacketError::bad_option);
  Bytes v4 = pkt;
  v4[0] = 0x45;
  CHECK(Ipv6View::parse(cb(v4), v) == PacketError::bad_version);
}

TEST_CASE("packet: IPv6 later fragment and ESP are opaque", "[packet]") {
  Bytes pkt(40 + 8 + 16, 0);
  Ipv6Fields f;
  f.src = ip("::1");
  f.dst = ip("::1");
  f.next_header = ipproto::fragment;
  REQUIRE(write_ipv6_header({pkt.data(), 40}, f, 24) == 40);
  REQUIRE(write_ipv6_fragment_header({pkt.data() + 40, 8}, ipproto::tcp, 1448, false, 7) == 8);
  Ipv6View v;
  REQUIRE(Ipv6View::parse(cb(pkt), v) == PacketError::none);
  CHECK(v.fragment_offset() == 1448);
  CHECK_FALSE(v.more_fragments());
  CHECK(v.upper_protocol() == ipproto::tcp);
  CHECK(v.upper_layer_opaque());
  CHECK(v.payload().size() == 16);
  pkt[6] = ipproto::esp;
  REQUIRE(Ipv6View::parse(cb(pkt), v) == PacketError::none);
  CHECK(v.upper_protocol() == ipproto::esp);
  CHECK(v.upper_layer_opaque());
  CHECK(v.extension_count() == 0);
}

TEST_CASE("packet: ICMPv6 echo, errors and NDP", "[packet]") {
  IpAddr src = ip("fe80::1"), dst = ip("fe80::2");
  SECTION("echo round trip") {
    uint8_t buf[64];
    Bytes pl(16, 0x5a);
    size_t n = write_icmpv6_echo(buf, src, dst, 0x1234, 7, cb(pl));
    REQUIRE(n == 24);
    CHECK(ref_l4_checksum(src, dst, ipproto::icmpv6, {buf, n}) == 0);
    Icmpv6View v;
    REQUIRE(Icmpv6View::parse({buf, n}, v) == PacketError::none);
    CHECK(v.is_echo());
    CHECK(v.type() == icmp6::echo_request);
    CHECK(v.echo_id() == 0x1234);
    CHECK(v.echo_seq() == 7);
    CHECK(v.checksum_ok(src, dst));
    CHECK_FALSE(v.checksum_ok(dst, ip("fe80::3")));
    Ipv6View inner;
    CHECK(v.embedded(inner) == PacketError::wrong_type);
    auto it = v.ndp_options();
    NdpOption o;
    CHECK_FALSE(it.next(o));
  }
  SECTION("packet too big quoting an echo") {
    uint8_t probe[128];
    IpFields pf;
    pf.src = ip("2001:db8::1");
    pf.dst = ip("2001:db8::99");
    pf.ttl = 9;
    size_t pn = build_echo_packet(probe, pf, 77, 3, {});
    REQUIRE(pn == 48);
    uint8_t buf[256];
    size_t n = write_icmpv6(buf, ip("2001:db8::fe"), pf.src, icmp6::packet_too_big, 0, 1280, {probe, pn});
    Icmpv6View v;
    REQUIRE(Icmpv6View::parse({buf, n}, v) == PacketError::none);
    CHECK(v.is_error());
    CHECK(v.mtu() == 1280);
    CHECK(v.checksum_ok(ip("2001:db8::fe"), pf.src));
    Ipv6View inner;
    REQUIRE(v.embedded(inner) == PacketError::none);
    CHECK(inner.dst() == pf.dst);
    CHECK(inner.hop_limit() == 9);
    Icmpv6View ie;
    REQUIRE(Icmpv6View::parse(inner.payload(), ie) == PacketError::none);
    CHECK(ie.echo_id() == 77);
    CHECK(ie.echo_seq() == 3);
  }
  SECTION("neighbor solicitation with source link-layer option") {
    Bytes body = hex("fe800000000000000000000000000002 0101 020000aabbcc");
    uint8_t buf[64];
    IpAddr mcast = ip("ff02::1:ff00:2");
    size_t n = write_icmpv6(buf, src, mcast, icmp6::neighbor_solicit, 0, 0, cb(body));
    REQUIRE(n == 32);
    Icmpv6View v;
    REQUIRE(Icmpv6View::parse({buf, n}, v) == PacketError::none);
    CHECK(v.checksum_ok(src, mcast));
    CHECK(v.target() == ip("fe80::2"));
    auto it = v.ndp_options();
    NdpOption o;
    REQUIRE(it.next(o));
    CHECK(o.type == icmp6::opt_source_lladdr);
    CHECK(Bytes(o.data.begin(), o.data.end()) == hex("020000aabbcc"));
    CHECK_FALSE(it.next(o));
    for (size_t k = 0; k < 24; ++k) CHECK(Icmpv6View::parse({buf, k}, v) == PacketError::truncated);
  }
  SECTION("neighbor advertisement and options") {
    // NA: flags S|O, target fe80::2, target lladdr option
    Bytes na = hex("8800 0000 60000000 fe800000000000000000000000000002 0201 020000aabbcc");
    Icmpv6View v;
    REQUIRE(Icmpv6View::parse(cb(na), v) == PacketError::none);
    CHECK(v.type() == icmp6::neighbor_advert);
    CHECK_FALSE(v.na_router());
    CHECK(v.na_solicited());
    CHECK(v.na_override());
    CHECK(v.target() == ip("fe80::2"));
    auto it = v.ndp_options();
    NdpOption o;
    REQUIRE(it.next(o));
    CHECK(o.type == icmp6::opt_target_lladdr);
    CHECK(o.length == 8);
    CHECK(Bytes(o.data.begin(), o.data.end()) == hex("020000aabbcc"));
    CHECK_FALSE(it.next(o));
    CHECK(it.error() == PacketError::none);
    // NA shorter than 24 bytes is truncated
    CHECK(Icmpv6View::parse({na.data(), 23}, v) == PacketError::truncated);
  }
  SECTION("router advertisement with prefix info and MTU") {
    Bytes ra = hex(
        "8600 0000 40c0 0708 00000000 00000000"                    // hop 64, M|O, lifetime 1800
        "0304 40c0 00278d00 00093a80 00000000 20010db8000100000000000000000000"  // PIO /64
        "0501 0000 000005dc");                                     // MTU 1500
    Icmpv6View v;
    REQUIRE(Icmpv6View::parse(cb(ra), v) == PacketError::none);
    CHECK(v.ra_hop_limit() == 64);
    CHECK(v.ra_managed());
    CHECK(v.ra_other());
    CHECK(v.ra_router_lifetime() == 1800);
    auto it = v.ndp_options();
    NdpOption o;
    REQUIRE(it.next(o));
    NdpPrefixInfo pi;
    REQUIRE(NdpPrefixInfo::parse(o, pi));
    CHECK(pi.prefix_len == 64);
    CHECK(pi.on_link);
    CHECK(pi.autonomous);
    CHECK(pi.valid_lifetime == 2592000);
    CHECK(pi.preferred_lifetime == 604800);
    CHECK(pi.prefix == ip("2001:db8:1::"));
    REQUIRE(it.next(o));
    CHECK(o.type == icmp6::opt_mtu);
    CHECK(load_be32(o.data.data() + 2) == 1500);
    CHECK_FALSE(it.next(o));
    // zero-length option -> bad_option, no infinite loop
    Bytes bad = ra;
    bad[17] = 0;
    REQUIRE(Icmpv6View::parse(cb(bad), v) == PacketError::none);
    auto it2 = v.ndp_options();
    CHECK_FALSE(it2.next(o));
    CHECK(it2.error() == PacketError::bad_option);
    // option running past the end
    Bytes cut(ra.begin(), ra.end() - 4);
    REQUIRE(Icmpv6View::parse(cb(cut), v) == PacketError::none);
    auto it3 = v.ndp_options();
    REQUIRE(it3.next(o));
    CHECK_FALSE(it3.next(o));
    CHECK(it3.error() == PacketError::bad_option);
  }
}

TEST_CASE("packet: whole-packet builders round trip", "[packet]") {
  for (const char* s : {"192.0.2.1", "2001:db8::1"}) {
    INFO(s);
    IpFields ipf;
    ipf.src = ip(s);
    ipf.dst = ipf.src.next();
    ipf.ttl = 17;
    ipf.tos = 0x10;
    ipf.id = 4242;
    ipf.dont_fragment = true;
    ipf.flow_label = 0x12345;
    uint8_t buf[256];
    Bytes pl = {9, 8, 7, 6, 5};

    auto check_ip = [&](size_t n, uint8_t proto) -> ConstBytes {
      if (ipf.src.is_v4()) {
        Ipv4View v;
        REQUIRE(Ipv4View::parse({buf, n}, v) == PacketError::none);
        CHECK(v.checksum_ok());
        CHECK(v.ttl() == 17);
        CHECK(v.tos() == 0x10);
        CHECK(v.id() == 4242);
        CHECK(v.dont_fragment());
        CHECK(v.protocol() == proto);
        CHECK(v.src() == ipf.src);
        CHECK(v.dst() == ipf.dst);
        return v.payload();
      }
      Ipv6View v;
      REQUIRE(Ipv6View::parse({buf, n}, v) == PacketError::none);
      CHECK(v.hop_limit() == 17);
      CHECK(v.traffic_class() == 0x10);
      CHECK(v.flow_label() == 0x12345);
      CHECK(v.upper_protocol() == proto);
      return v.payload();
    };

    TcpFields tf;
    tf.src_port = 1234;
    tf.dst_port = 80;
    tf.flags = tcpflag::ack | tcpflag::psh;
    tf.seq = 1;
    tf.ack = 2;
    size_t n = build_tcp_packet(buf, ipf, tf, cb(pl));
    REQUIRE(n == (ipf.src.is_v4() ? 20u : 40u) + 20 + 5);
    TcpView t;
    REQUIRE(TcpView::parse(check_ip(n, ipproto::tcp), t) == PacketError::none);
    CHECK(t.checksum_ok(ipf.src, ipf.dst));
    CHECK(t.flags() == (tcpflag::ack | tcpflag::psh));
    CHECK(Bytes(t.payload().begin(), t.payload().end()) == pl);

    n = build_udp_packet(buf, ipf, 5000, 6000, cb(pl));
    UdpView u;
    REQUIRE(UdpView::parse(check_ip(n, ipproto::udp), u) == PacketError::none);
    CHECK(u.checksum_ok(ipf.src, ipf.dst));
    CHECK(Bytes(u.payload().begin(), u.payload().end()) == pl);

    n = build_echo_packet(buf, ipf, 11, 22, cb(pl));
    if (ipf.src.is_v4()) {
      IcmpView i;
      REQUIRE(IcmpView::parse(check_ip(n, ipproto::icmp), i) == PacketError::none);
      CHECK(i.checksum_ok());
      CHECK(i.echo_seq() == 22);
    } else {
      Icmpv6View i;
      REQUIRE(Icmpv6View::parse(check_ip(n, ipproto::icmpv6), i) == PacketError::none);
      CHECK(i.checksum_ok(ipf.src, ipf.dst));
      CHECK(i.echo_seq() == 22);
    }
    // payload already in place (zero-copy) works too
    size_t off = (ipf.src.is_v4() ? 20 : 40) + 8;
    std::memcpy(buf + off, pl.data(), pl.size());
    n = build_udp_packet(buf, ipf, 5000, 6000, {buf + off, pl.size()});
    REQUIRE(UdpView::parse(check_ip(n, ipproto::udp), u) == PacketError::none);
    CHECK(u.checksum_ok(ipf.src, ipf.dst));

    // too small buffers fail cleanly
    CHECK(build_tcp_packet({buf, 30}, ipf, tf, cb(pl)) == 0);
    CHECK(build_udp_packet({buf, 10}, ipf, 1, 2, {}) == 0);
    IpFields mixed = ipf;
    mixed.dst = ipf.src.is_v4() ? ip("::1") : ip("127.0.0.1");
    CHECK(build_echo_packet(buf, mixed, 1, 1, {}) == 0);
  }
}

// capture decoders on crafted frames: each layer's tcpdump-style text, truncation
// markers, tunnels, link types.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "applets/capture/printer.h"
#include "netshoot/packet.h"

using namespace netshoot::applet::capture;
using namespace netshoot::core;

namespace {

const IpAddr kA = IpAddr::v4(10, 0, 0, 1), kB = IpAddr::v4(10, 0, 0, 2);

std::vector<uint8_t> eth(uint16_t type, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, uint8_t(type >> 8), uint8_t(type)};
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

std::vector<uint8_t> tcp_packet(uint8_t flags, uint32_t seq, uint32_t ack, std::string_view data = {},
                                bool opts = false, IpAddr src = kA, IpAddr dst = kB, uint16_t sp = 40000,
                                uint16_t dp = 80) {
  uint8_t out[2048];
  uint8_t o[40];
  IpFields ip;
  ip.src = src, ip.dst = dst, ip.id = 7, ip.dont_fragment = true;
  TcpFields t;
  t.src_port = sp, t.dst_port = dp, t.seq = seq, t.ack = ack, t.flags = flags, t.window = 502;
  if (opts) {
    TcpOptionSpec s;
    s.mss = 1460, s.sack_permitted = true, s.timestamps = true, s.ts_val = 1, s.ts_ecr = 0, s.wscale = 7;
    t.options = ConstBytes(o, write_tcp_options(o, s));
  }
  size_t n = build_tcp_packet(out, ip, t, ConstBytes(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  return {out, out + n};
}

std::string decode(Printer& p, const std::vector<uint8_t>& frame, size_t caplen = SIZE_MAX) {
  Buf b;
  size_t cap = std::min(caplen, frame.size());
  p.decode_only(frame.data(), uint32_t(cap), uint32_t(frame.size()), b);
  return std::string(b.view());
}

std::string decode(const std::vector<uint8_t>& frame, PrintOptions o = {}, int dlt = DLT_EN10MB,
                   size_t caplen = SIZE_MAX) {
  Printer p(o, dlt);
  return decode(p, frame, caplen);
}

PrintOptions nn() {
  PrintOptions o;
  o.numeric = 2;
  return o;
}

}  // namespace

TEST_CASE("capture decode: TCP handshake with relative sequence numbers", "[capture]") {
  Printer p(nn(), DLT_EN10MB);
  CHECK(decode(p, eth(0x0800, tcp_packet(tcpflag::syn, 1000, 0, {}, true))) ==
        "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1000, win 502, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0");
  CHECK(decode(p, eth(0x0800, tcp_packet(tcpflag::syn | tcpflag::ack, 5000, 1001, {}, false, kB, kA, 80, 40000))) ==
        "IP 10.0.0.2.80 > 10.0.0.1.40000: Flags [S.], seq 5000, ack 1001, win 502, length 0");
  CHECK(decode(p, eth(0x0800, tcp_packet(tcpflag::ack, 1001, 5001))) ==
        "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [.], ack 1, win 502, length 0");
  CHECK(decode(p, eth(0x0800, tcp_packet(tcpflag::ack | tcpflag::psh, 1001, 5001, "hello"))) ==
        "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], seq 1:6, ack 1, win 502, length 5: HTTP");
  CHECK(decode(p, eth(0x0800, tcp_packet(tcpflag::ack | tcpflag::fin, 5001, 1006, {}, false, kB, kA, 80, 40000))) ==
        "IP 10.0.0.2.80 > 10.0.0.1.40000: Flags [F.], seq 1, ack 6, win 502, length 0");
}

TEST_CASE("capture decode: -v IPv4 header and TCP checksum verdicts", "[capture]") {
  PrintOptions o = nn();
  o.verbose = 1;
  auto pkt = tcp_packet(tcpflag::syn, 1, 0);
  std::string s = decode(eth(0x0800, pkt), o);
  CHECK(s.starts_with("IP (tos 0x0, ttl 64, id 7, offset 0, flags [DF], proto TCP (6), length 40)\n    10.0.0.1.40000 > 10.0.0.2.80: Flags [S], cksum 0x"));
  CHECK(s.find("(correct), seq 1, win 502, length 0") != std::string::npos);
  pkt[20 + 16] ^= 0xff;  // break the TCP checksum
  s = decode(eth(0x0800, pkt), o);
  CHECK(s.find("(incorrect -> 0x") != std::string::npos);
  pkt[10] ^= 0x01;  // and the IP header checksum
  s = decode(eth(0x0800, pkt), o);
  CHECK(s.find(", bad cksum ") != std::string::npos);
}

TEST_CASE("capture decode: UDP, DNS summaries, ICMP, ICMPv6, ARP", "[capture]") {
  uint8_t out[512];
  IpFields ip;
  ip.src = kA, ip.dst = kB;
  const char udp_data[] = "hello";
  size_t n = build_udp_packet(out, ip, 5555, 6666, ConstBytes(reinterpret_cast<const uint8_t*>(udp_data), 5));
  CHECK(decode(eth(0x0800, {out, out + n}), nn()) == "IP 10.0.0.1.5555 > 10.0.0.2.6666: UDP, length 5");

  const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                       3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
  n = build_udp_packet(out, ip, 40000, 53, ConstBytes(q, sizeof q));
  CHECK(decode(eth(0x0800, {out, out + n}), nn()) == "IP 10.0.0.1.40000 > 10.0.0.2.53: 4660+ A? example.com. (29)");
  const uint8_t r[] = {0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                       3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
  n = build_udp_packet(out, ip, 53, 40000, ConstBytes(r, sizeof r));
  CHECK(decode(eth(0x0800, {out, out + n}), nn()) == "IP 10.0.0.1.53 > 10.0.0.2.40000: 4660 NXDomain 0/0/0 (29)");
  // Port names without -n.
  PrintOptions names;
  CHECK(decode(eth(0x0800, {out, out + n}), names).find("10.0.0.1.domain > ") != std::string::npos);

  n = build_echo_packet(out, ip, 0x1234, 7, ConstBytes(reinterpret_cast<const uint8_t*>(udp_data), 5));
  CHECK(decode(eth(0x0800, {out, out + n}), nn()) == "IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 4660, seq 7, length 13");

  IpFields ip6;
  ip6.src = *IpAddr::try_parse("fd00::1"), ip6.dst = *IpAddr::try_parse("fd00::2");
  n = build_echo_packet(out, ip6, 1, 2, {});
  CHECK(decode(eth(0x86dd, {out, out + n}), nn()) == "IP6 fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 2, length 8");
  // Neighbor solicitation with a source link-address option.
  uint8_t ns[32] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::memcpy(ns + 8, ip6.dst.data(), 16);
  ns[24] = 1, ns[25] = 1, ns[26] = 2;
  uint8_t nsp[128];
  size_t nn6 = write_icmpv6(nsp, ip6.src, ip6.dst, 135, 0, 0, ConstBytes(ns + 8, 24));
  Ipv6Fields f6;
  f6.src = ip6.src, f6.dst = ip6.dst, f6.next_header = 58, f6.hop_limit = 255;
  uint8_t full[256];
  size_t h6 = write_ipv6_header(full, f6, nn6);
  std::memcpy(full + h6, nsp, nn6);
  CHECK(decode(eth(0x86dd, {full, full + h6 + nn6}), nn()) ==
        "IP6 fd00::1 > fd00::2: ICMP6, neighbor solicitation, who has fd00::2, length 32");
  PrintOptions v = nn();
  v.verbose = 1;
  CHECK(decode(eth(0x86dd, {full, full + h6 + nn6}), v).ends_with(
        "[icmp6 sum ok] ICMP6, neighbor solicitation, length 32, who has fd00::2\n\t  source link-address option (1), length 8 (1): 02:00:00:00:00:00"));

  const std::vector<uint8_t> arp = {0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1,
                                    0, 0, 0, 0, 0, 0, 10, 0, 0, 2};
  CHECK(decode(eth(0x0806, arp), nn()) == "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28");
  PrintOptions e = nn();
  e.link_header = true;
  CHECK(decode(eth(0x0806, arp), e) ==
        "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype ARP (0x0806), length 42: Request who-has 10.0.0.2 tell 10.0.0.1, length 28");
}

TEST_CASE("capture decode: truncation markers", "[capture]") {
  auto f = eth(0x0800, tcp_packet(tcpflag::syn, 1, 0, {}, true));
  CHECK(decode(f, nn(), DLT_EN10MB, 10) == "[|ether]");
  CHECK(decode(f, nn(), DLT_EN10MB, 14 + 12) == "IP [|ip]");
  CHECK(decode(f, nn(), DLT_EN10MB, 14 + 20 + 2) == "IP 10.0.0.1 > 10.0.0.2: [|tcp]");
  CHECK(decode(f, nn(), DLT_EN10MB, 14 + 20 + 10) == "IP 10.0.0.1.40000 > 10.0.0.2.80: [|tcp]");
  std::string s = decode(f, nn(), DLT_EN10MB, 14 + 20 + 24);
  CHECK(s.find("Flags [S], seq 1, win 502, options [|tcp]]") != std::string::npos);
  const std::vector<uint8_t> arp = {0, 1, 8, 0, 6, 4, 0, 1, 2};
  CHECK(decode(eth(0x0806, arp), nn()) == "ARP, [|ARP]");
}

TEST_CASE("capture decode: 802.1Q, QinQ, VXLAN, Geneve, GRE", "[capture]") {
  auto ip = tcp_packet(tcpflag::syn, 1, 0);
  std::vector<uint8_t> vlan = {0x20, 0x64, 0x08, 0x00};  // prio 1, vid 100
  vlan.insert(vlan.end(), ip.begin(), ip.end());
  CHECK(decode(eth(0x8100, vlan), nn()) == "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 502, length 0");
  PrintOptions e = nn();
  e.link_header = true;
  CHECK(decode(eth(0x8100, vlan), e).starts_with(
        "02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype 802.1Q (0x8100), length 58: vlan 100, p 1, ethertype IPv4 (0x0800), 10.0.0.1.40000 > "));
  std::vector<uint8_t> qinq = {0x00, 0x0a, 0x81, 0x00};
  qinq.insert(qinq.end(), vlan.begin(), vlan.end());
  CHECK(decode(eth(0x88a8, qinq), e).find("vlan 10, p 0, ethertype 802.1Q (0x8100), vlan 100, p 1, ethertype IPv4") !=
        std::string::npos);

  // VXLAN: outer UDP to 4789 carrying an inner Ethernet frame.
  auto inner = eth(0x0800, ip);
  std::vector<uint8_t> vx = {0x08, 0, 0, 0, 0, 0, 42, 0};
  vx.insert(vx.end(), inner.begin(), inner.end());
  uint8_t out[512];
  IpFields oip;
  oip.src = IpAddr::v4(192, 0, 2, 1), oip.dst = IpAddr::v4(192, 0, 2, 2);
  size_t n = build_udp_packet(out, oip, 33333, 4789, ConstBytes(vx.data(), vx.size()));
  CHECK(decode(eth(0x0800, {out, out + n}), nn()) ==
        "IP 192.0.2.1.33333 > 192.0.2.2.4789: VXLAN, flags [I] (0x08), vni 42\nIP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 502, length 0");
  // Geneve with TEB.
  std::vector<uint8_t> gn = {0x00, 0x00, 0x65, 0x58, 0, 0, 77, 0};
  gn.insert(gn.end(), inner.begin(), inner.end());
  n = build_udp_packet(out, oip, 33333, 6081, ConstBytes(gn.data(), gn.size()));
  CHECK(decode(eth(0x0800, {out, out + n}), nn()) ==
        "IP 192.0.2.1.33333 > 192.0.2.2.6081: Geneve, Flags [none], vni 0x4d, proto TEB (0x6558)\nIP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 502, length 0");
  // GRE with a key, carrying IPv4.
  std::vector<uint8_t> gre = {0x20, 0x00, 0x08, 0x00, 0, 0, 0, 7};
  gre.insert(gre.end(), ip.begin(), ip.end());
  Ipv4Fields g;
  g.src = oip.src, g.dst = oip.dst, g.protocol = 47;
  size_t h = write_ipv4_header(out, g, gre.size());
  std::memcpy(out + h, gre.data(), gre.size());
  CHECK(decode(eth(0x0800, {out, out + h + gre.size()}), nn()) ==
        "IP 192.0.2.1 > 192.0.2.2: GREv0, key=0x7, length 48: IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 502, length 0");
}

TEST_CASE("capture decode: Linux cooked SLL and SLL2", "[capture]") {
  auto ip = tcp_packet(tcpflag::syn, 1, 0);
  std::vector<uint8_t> sll = {0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00};
  sll.insert(sll.end(), ip.begin(), ip.end());
  CHECK(decode(sll, nn(), DLT_LINUX_SLL) == "IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 502, length 0");
  PrintOptions e = nn();
  e.link_header = true;
  CHECK(decode(sll, e, DLT_LINUX_SLL).starts_with("Out 02:00:00:00:00:01 ethertype IPv4 (0x0800), length 56: 10.0.0.1.40000 >"));
  std::vector<uint8_t> sll2 = {0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};  // ifindex 1 = lo
  sll2.insert(sll2.end(), ip.begin(), ip.end());
  CHECK(decode(sll2, nn(), DLT_LINUX_SLL2) == "lo    In  IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 1, win 502, length 0");
}

TEST_CASE("capture decode: hex and ASCII dumps", "[capture]") {
  const uint8_t d[] = {0x45, 0x00, 0x00, 0x54, 'G', 'E', 'T', ' ', '/', 0x0d, 0x0a, 'x', 0x01, 0x02, 0x03, 0x04, 0x05};
  Buf b;
  hex_dump(b, Bytes(d, sizeof d), false);
  CHECK(b.view() == "\n\t0x0000:  4500 0054 4745 5420 2f0d 0a78 0102 0304\n\t0x0010:  05");
  b.clear();
  hex_dump(b, Bytes(d, sizeof d), true);
  CHECK(b.view() == "\n\t0x0000:  4500 0054 4745 5420 2f0d 0a78 0102 0304  E..TGET./..x....\n\t0x0010:  05                                       .");
  b.clear();
  ascii_dump(b, Bytes(d, sizeof d));
  CHECK(b.view() == "\nE..TGET /\nx.....");
  // tcpdump's quirk: a CR in the middle prints '.', one among the last two bytes prints nothing.
  const uint8_t cr[] = {'a', 0x0d, 'b', 'c', 0x0d, 'd'};
  b.clear();
  ascii_dump(b, Bytes(cr, sizeof cr));
  CHECK(b.view() == "\na.bcd");
  const uint8_t cr_end[] = {'a', 0x0d};
  b.clear();
  ascii_dump(b, Bytes(cr_end, sizeof cr_end));
  CHECK(b.view() == "\na");
}

TEST_CASE("capture decode: HTTP request line on port 80", "[capture]") {
  Printer p(nn(), DLT_EN10MB);
  CHECK(decode(p, eth(0x0800, tcp_packet(tcpflag::ack | tcpflag::psh, 1, 1, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"))).ends_with(
        "length 28: HTTP: GET /x HTTP/1.1"));
}

namespace {

std::vector<uint8_t> dns_name(const std::string& n) {
  std::vector<uint8_t> v;
  size_t s = 0;
  while (s < n.size()) {
    size_t d = n.find('.', s);
    if (d == std::string::npos) d = n.size();
    v.push_back(uint8_t(d - s));
    v.insert(v.end(), n.begin() + long(s), n.begin() + long(d));
    s = d + 1;
  }
  v.push_back(0);
  return v;
}

void be16(std::vector<uint8_t>& v, uint16_t x) { v.push_back(uint8_t(x >> 8)), v.push_back(uint8_t(x)); }
void be32(std::vector<uint8_t>& v, uint32_t x) { be16(v, uint16_t(x >> 16)), be16(v, uint16_t(x)); }

std::vector<uint8_t> udp_frame(uint16_t sp, uint16_t dp, const std::vector<uint8_t>& payload) {
  uint8_t out[2048];
  IpFields ip;
  ip.src = kA, ip.dst = kB;
  size_t n = build_udp_packet(out, ip, sp, dp, ConstBytes(payload.data(), payload.size()));
  return eth(0x0800, {out, out + n});
}

std::string decode_v(const std::vector<uint8_t>& f, int verbose) {
  PrintOptions o = nn();
  o.verbose = verbose;
  std::string s = decode(f, o);
  if (auto nl = s.find("\n    "); verbose && nl != std::string::npos) s = s.substr(nl + 5);  // past the IP header line
  return s;
}

}  // namespace

TEST_CASE("capture decode: DNS sections and record details by -v level", "[capture]") {
  // Response: MX and SOA answers, an NS in authority, OPT with DO in additional.
  std::vector<uint8_t> m;
  for (uint16_t x : {0x0042, 0x8580, 1, 2, 1, 1}) be16(m, x);
  auto q = dns_name("example.com");
  m.insert(m.end(), q.begin(), q.end()), be16(m, 255), be16(m, 1);
  auto rr = [&](const std::string& owner, uint16_t type, uint32_t ttl, const std::vector<uint8_t>& rd) {
    auto o = dns_name(owner);
    m.insert(m.end(), o.begin(), o.end());
    be16(m, type), be16(m, 1), be32(m, ttl), be16(m, uint16_t(rd.size()));
    m.insert(m.end(), rd.begin(), rd.end());
  };
  std::vector<uint8_t> mx = {0, 10};
  auto mxn = dns_name("mail.example.com");
  mx.insert(mx.end(), mxn.begin(), mxn.end());
  rr("example.com", 15, 300, mx);
  std::vector<uint8_t> soa = dns_name("ns1.example.com");
  auto rn = dns_name("host.example.com");
  soa.insert(soa.end(), rn.begin(), rn.end());
  for (uint32_t x : {1u, 2u, 3u, 4u, 5u}) be32(soa, x);
  rr("example.com", 6, 90061, soa);
  rr("example.com", 2, 3600, dns_name("ns1.example.com"));
  m.push_back(0), be16(m, 41), be16(m, 1232), be32(m, 0x8000), be16(m, 0);
  auto f = udp_frame(53, 40000, m);
  CHECK(decode(f, nn()) == "IP 10.0.0.1.53 > 10.0.0.2.40000: 66* 2/1/1 MX mail.example.com. 10, SOA (" +
                               std::to_string(m.size()) + ")");
  CHECK(decode_v(f, 1).ends_with(": 66* 2/1/1 example.com. MX mail.example.com. 10, example.com. SOA ns1.example.com. host.example.com. 1 2 3 4 5 (" +
                                 std::to_string(m.size()) + ")"));
  CHECK(decode_v(f, 2).find("66* q: ANY? example.com. 2/1/1 example.com. MX mail.example.com. 10, example.com. SOA "
                            "ns1.example.com. host.example.com. 1 2 3 4 5 ns: example.com. NS ns1.example.com. ar: . OPT UDPsize=1232 DO (") !=
        std::string::npos);
  CHECK(decode_v(f, 3).find("example.com. [1d1h1m1s] SOA ") != std::string::npos);
  // Query with EDNS: the OPT record only from -vv on; a query's AD bit is not shown.
  std::vector<uint8_t> qm;
  for (uint16_t x : {7, 0x0120, 1, 0, 0, 1}) be16(qm, x);
  auto qn = dns_name("a.test");
  qm.insert(qm.end(), qn.begin(), qn.end()), be16(qm, 65), be16(qm, 1);
  qm.push_back(0), be16(qm, 41), be16(qm, 4096), be32(qm, 0), be16(qm, 12), be16(qm, 10), be16(qm, 8);
  for (char c : std::string("abcdefgh")) qm.push_back(uint8_t(c));
  auto fq = udp_frame(40000, 53, qm);
  CHECK(decode_v(fq, 1).ends_with(": 7+ [1au] Type65? a.test. (" + std::to_string(qm.size()) + ")"));
  CHECK(decode_v(fq, 2).ends_with("7+ [1au] Type65? a.test. ar: . OPT UDPsize=4096 [COOKIE 6162636465666768] (" +
                                  std::to_string(qm.size()) + ")"));
}

TEST_CASE("capture decode: HTTP request lines, and every line at -v", "[capture]") {
  Printer p(nn(), DLT_EN10MB);
  auto req = tcp_packet(tcpflag::ack | tcpflag::psh, 1, 1, "get /x HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(decode(p, eth(0x0800, req)).ends_with("length 28: HTTP: get /x HTTP/1.1"));
  auto resp = tcp_packet(tcpflag::ack | tcpflag::psh, 1, 1, "HTTP/1.1 404 Not Found\r\nA: b\r\n\r\nbody", false, kB, kA, 80, 40000);
  PrintOptions v = nn();
  v.verbose = 1;
  std::string s = decode(eth(0x0800, resp), v);
  CHECK(s.ends_with(": HTTP, length: 36\n\tHTTP/1.1 404 Not Found\n\tA: b\n\t\n\tbody [|http]"));
  // PATCH is not one of tcpdump's methods; binary stops the -v listing.
  CHECK(decode(p, eth(0x0800, tcp_packet(tcpflag::ack, 1, 1, "PATCH / HTTP/1.1\r\n"))).ends_with("length 18: HTTP"));
  s = decode(eth(0x0800, tcp_packet(tcpflag::ack, 1, 1, "GET / HTTP/1.1\r\nX: \x01\r\n")), v);
  CHECK(s.ends_with(": HTTP, length: 22\n\tGET / HTTP/1.1"));
}

TEST_CASE("capture decode: IPv4 options at -v", "[capture]") {
  auto ip_with = [](std::vector<uint8_t> opt) {
    while (opt.size() % 4) opt.push_back(0);
    std::vector<uint8_t> h = {uint8_t(0x40 | (20 + opt.size()) / 4), 0, 0, 0, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    h.insert(h.end(), opt.begin(), opt.end());
    std::vector<uint8_t> icmp = {8, 0, 0xf7, 0xfd, 0, 1, 0, 1};
    h.insert(h.end(), icmp.begin(), icmp.end());
    h[3] = uint8_t(h.size());
    uint16_t c = checksum_finish(checksum_partial(h.data(), 20 + opt.size()));
    h[10] = uint8_t(c >> 8), h[11] = uint8_t(c);
    PrintOptions o = nn();
    o.verbose = 1;
    std::string s = decode(eth(0x0800, h), o);
    auto a = s.find("options ("), e = s.find(")\n");
    return a == std::string::npos ? s : s.substr(a, e - a);
  };
  CHECK(ip_with({1, 7, 11, 8, 10, 0, 0, 1, 0, 0, 0, 0}) == "options (NOP,RR 10.0.0.1, 0.0.0.0)");
  CHECK(ip_with({7, 7, 8, 1, 2, 3, 4}) == "options (RR 1.2.3.4,,EOL)");
  CHECK(ip_with({68, 12, 9, 0, 0, 0, 0, 5, 0, 0, 0, 6}) == "options (timestamp TS{TSONLY 5@ ^ 6@})");
  CHECK(ip_with({68, 12, 13, 0x21, 1, 2, 3, 4, 0, 0, 0, 7}) == "options (timestamp TS{TS+ADDR 7@1.2.3.4 ^  [2 hops not recorded]} )");
  CHECK(ip_with({148, 4, 0, 0}) == "options (RA)");
  CHECK(ip_with({200, 4, 0, 0}) == "options (unknown 200)");
  CHECK(ip_with({7, 1, 0, 0}) == "options (RR [bad length 1])");
  CHECK(ip_with({7, 40, 4, 0}) == "options (RR [bad length 40])");
}

TEST_CASE("capture decode: --json layers", "[capture]") {
  Printer p(nn(), DLT_EN10MB);
  p.collect_layers(true);
  Buf b;
  auto f = eth(0x0800, tcp_packet(tcpflag::syn, 1000, 0, {}, true));
  p.decode_only(f.data(), uint32_t(f.size()), uint32_t(f.size()), b);
  const auto& L = p.layers();
  REQUIRE(L.size() == 3);
  CHECK(L[0]["layer"] == "ethernet");
  CHECK(L[0]["src"] == "02:00:00:00:00:01");
  CHECK(L[0]["ethertype"] == 0x0800);
  CHECK(L[1]["layer"] == "ipv4");
  CHECK(L[1]["src"] == "10.0.0.1");
  CHECK(L[1]["flags"] == Json::array({"DF"}));
  CHECK(L[1]["checksum_ok"] == true);
  CHECK(L[2]["layer"] == "tcp");
  CHECK(L[2]["dport"] == 80);
  CHECK(L[2]["seq"] == 1000);
  CHECK(L[2]["flags"] == "S");
  CHECK(L[2]["options"][0]["mss"] == 1460);
  // The next packet starts a fresh list; DNS carries its sections.
  auto d = udp_frame(40000, 53, {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1});
  b.clear();
  p.decode_only(d.data(), uint32_t(d.size()), uint32_t(d.size()), b);
  REQUIRE(p.layers().size() == 4);
  CHECK(p.layers()[2]["layer"] == "udp");
  CHECK(p.layers()[3]["layer"] == "dns");
  CHECK(p.layers()[3]["questions"][0]["name"] == "a");
  CHECK(p.layers()[3]["flags"] == Json::array({"rd"}));
  // Not collecting: no layers at all.
  Printer q(nn(), DLT_EN10MB);
  b.clear();
  q.decode_only(d.data(), uint32_t(d.size()), uint32_t(d.size()), b);
  CHECK(q.layers().empty());
}

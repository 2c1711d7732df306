// perf applet: the iperf3 wire encoding — parameter and result documents as
// iperf3 3.12 sends them (captured with tcpdump), control framing, the UDP header
// and receiver statistics.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "applets/perf/proto.h"

using namespace netshoot::applet::perf;

namespace {
std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("perf proto: cookie", "[perf]") {
  auto c = make_cookie();
  REQUIRE(c.size() == kCookieSize);
  CHECK(c.back() == '\0');
  for (size_t i = 0; i + 1 < c.size(); ++i)
    CHECK(((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= '2' && c[i] <= '7')));
  CHECK(make_cookie() != c);
  CHECK(valid_cookie(bytes(c)));
  CHECK(!valid_cookie(bytes(c.substr(0, 36))));
  std::string bad = c;
  bad[3] = '\n';
  CHECK(!valid_cookie(bytes(bad)));
  bad = c;
  bad[36] = 'x';
  CHECK(!valid_cookie(bytes(bad)));
}

TEST_CASE("perf proto: parameters as iperf3 3.12 sends them", "[perf]") {
  // captured from `iperf3 -c ... -t 2`
  auto p = decode_params(R"({"tcp":true,"omit":0,"time":2,"num":0,"blockcount":0,"parallel":1,"len":131072,"pacing_timer":1000,"client_version":"3.12"})");
  REQUIRE(p);
  CHECK(!p->udp);
  CHECK(p->time == 2);
  CHECK(p->parallel == 1);
  CHECK(p->len == 131072);
  CHECK(!p->reverse);
  CHECK(p->client_version == "3.12");
  // -P 3 --bidir
  p = decode_params(R"({"tcp":true,"omit":0,"time":1,"num":0,"blockcount":0,"parallel":3,"bidirectional":true,"len":131072,"pacing_timer":1000,"client_version":"3.12"})");
  REQUIRE(p);
  CHECK(p->bidirectional);
  CHECK(p->parallel == 3);
  // UDP with a rate
  p = decode_params(R"({"udp":true,"omit":0,"time":2,"num":0,"blockcount":0,"parallel":1,"len":1000,"bandwidth":10000000,"pacing_timer":1000,"client_version":"3.12","reverse":true,"udp_counters_64bit":1})");
  REQUIRE(p);
  CHECK(p->udp);
  CHECK(p->reverse);
  CHECK(p->bandwidth == 10000000);
  CHECK(p->udp_counters_64bit);

  // our encoding, decoded again
  TestParams t;
  t.udp = true;
  t.time = 3;
  t.parallel = 4;
  t.len = 1448;
  t.bandwidth = 50000000;
  t.reverse = true;
  t.title = "x";
  auto enc = encode_params(t);
  CHECK(enc.rfind(R"({"udp":true,"omit":0,"time":3,"num":0,"blockcount":0,"parallel":4,"reverse":true,"len":1448,"bandwidth":50000000,)", 0) == 0);
  auto back = decode_params(enc);
  REQUIRE(back);
  CHECK(back->udp);
  CHECK(back->parallel == 4);
  CHECK(back->len == 1448);
  CHECK(back->bandwidth == 50000000);
  CHECK(back->title == "x");

  // rejected
  CHECK(!decode_params("[]"));
  CHECK(!decode_params("{"));
  CHECK(!decode_params(R"({"omit":0})"));                       // neither tcp nor udp
  CHECK(!decode_params(R"({"tcp":true,"parallel":0})"));
  CHECK(!decode_params(R"({"tcp":true,"parallel":1000})"));
  CHECK(!decode_params(R"({"tcp":true,"len":-5})"));
  CHECK(!decode_params(R"({"tcp":true,"len":"big"})"));
  CHECK(!decode_params(R"({"udp":true,"len":8})"));              // shorter than the UDP header
  CHECK(!decode_params(R"({"tcp":true,"time":1e300})"));
  CHECK(!decode_params(R"({"tcp":true,"parallel":1e30})"));
}

TEST_CASE("perf proto: results as iperf3 3.12 sends them", "[perf]") {
  // the server's results of a 2 s TCP test (retransmits unknown on the receiving side)
  auto r = decode_results(R"({"cpu_util_total":35.138350863306187,"cpu_util_user":1.044002830381022,"cpu_util_system":34.094398004341514,"sender_has_retransmits":18446744073709551615,"congestion_used":"bbr","streams":[{"id":1,"bytes":3297508624,"retransmits":18446744073709551615,"jitter":0,"errors":0,"packets":0,"start_time":0,"end_time":2.001139}]})");
  REQUIRE(r);
  CHECK(r->sender_has_retransmits == -1);
  CHECK(r->congestion_used == "bbr");
  REQUIRE(r->streams.size() == 1);
  CHECK(r->streams[0].bytes == 3297508624ull);
  CHECK(r->streams[0].retransmits == -1);
  CHECK(r->streams[0].end_time == Approx(2.001139));
  // UDP receiver
  r = decode_results(R"({"cpu_util_total":1.2,"cpu_util_user":1.2,"cpu_util_system":0,"sender_has_retransmits":18446744073709551615,"streams":[{"id":1,"bytes":2499000,"retransmits":18446744073709551615,"jitter":5.2933465407383337e-06,"errors":3,"packets":2499,"start_time":0,"end_time":2.000199}]})");
  REQUIRE(r);
  CHECK(r->streams[0].packets == 2499);
  CHECK(r->streams[0].errors == 3);
  CHECK(r->streams[0].jitter == Approx(5.2933465407383337e-06));
  // stream ids as iperf3 numbers them: 1, 3, 4, ...
  Results mine;
  mine.sender_has_retransmits = 1;
  mine.congestion_used = "cubic";
  for (int id : {1, 3, 4}) {
    StreamResult s;
    s.id = id;
    s.bytes = 1000u * unsigned(id);
    s.retransmits = id == 4 ? -1 : id;
    mine.streams.push_back(s);
  }
  auto enc = encode_results(mine);
  CHECK(enc.find(R"("retransmits":18446744073709551615)") != std::string::npos);
  auto back = decode_results(enc);
  REQUIRE(back);
  REQUIRE(back->streams.size() == 3);
  CHECK(back->streams[1].id == 3);
  CHECK(back->streams[1].retransmits == 3);
  CHECK(back->streams[2].retransmits == -1);
  CHECK(back->sender_has_retransmits == 1);
  CHECK(!decode_results(R"({"streams":{}})"));
  CHECK(!decode_results(R"({"streams":[1]})"));
  CHECK(!decode_results(R"({"streams":[{"bytes":"x"}]})"));
  CHECK(!decode_results("null"));
}

TEST_CASE("perf proto: control framing", "[perf]") {
  ControlReader rd;
  std::string wire;
  wire.push_back(char(kParamExchange));
  wire += frame_json(R"({"a":1})");
  wire.push_back(char(kServerError));
  uint32_t codes[2] = {htonl(8), htonl(111)};
  wire.append(reinterpret_cast<const char*>(codes), 8);
  // fed a byte at a time
  for (size_t i = 0; i < 3; ++i) rd.feed(bytes(wire.substr(i, 1)));
  CHECK(rd.take_state() == int8_t(kParamExchange));
  auto j = rd.take_json();
  REQUIRE(j);
  CHECK(!*j);  // incomplete
  rd.feed(bytes(wire.substr(3)));
  j = rd.take_json();
  REQUIRE(j);
  REQUIRE(*j);
  CHECK(**j == R"({"a":1})");
  CHECK(rd.take_state() == int8_t(kServerError));
  auto c = rd.take_error_codes();
  REQUIRE(c);
  CHECK(c->first == 8);
  CHECK(c->second == 111);
  CHECK(!rd.take_state());
  // absurd lengths are errors, not allocations
  ControlReader bad;
  uint32_t huge = htonl(0xffffffff);
  bad.feed({reinterpret_cast<const uint8_t*>(&huge), 4});
  CHECK(!bad.take_json());
  ControlReader zero;
  uint32_t z = 0;
  zero.feed({reinterpret_cast<const uint8_t*>(&z), 4});
  CHECK(!zero.take_json());
  CHECK(std::string(state_name(kExchangeResults)) == "EXCHANGE_RESULTS");
}

TEST_CASE("perf proto: UDP header and receiver statistics", "[perf]") {
  // a datagram from iperf3 3.12 on the wire: sec 0x2dff, usec 0x0ba2da, packet 1
  const uint8_t wire[] = {0x00, 0x00, 0x2d, 0xff, 0x00, 0x0b, 0xa2, 0xda, 0x00, 0x00, 0x00, 0x01, 0x6f, 0xad};
  auto h = parse_udp_header(wire, false);
  REQUIRE(h);
  CHECK(h->sec == 0x2dff);
  CHECK(h->usec == 0x0ba2da);
  CHECK(h->seq == 1);
  CHECK(!parse_udp_header({wire, 11}, false));
  CHECK(!parse_udp_header({wire, 14}, true));
  uint8_t buf[16];
  write_udp_header(buf, {7, 8, 0x123456789ull}, true);
  auto h64 = parse_udp_header(buf, true);
  REQUIRE(h64);
  CHECK(h64->seq == 0x123456789ull);
  CHECK(h64->sec == 7);
  write_udp_header(buf, {1, 2, 42}, false);
  CHECK(parse_udp_header({buf, 12}, false)->seq == 42);

  // 1..10 with 4 and 7 missing, then 4 arriving late
  UdpRecvStats st;
  double t = 100;
  for (uint64_t seq : {1, 2, 3, 5, 6, 8, 9, 10, 4}) {
    st.on_packet({0, 0, seq}, t);
    t += 0.001;
  }
  CHECK(st.packet_count == 10);
  CHECK(st.lost == 1);  // 7 is still missing; 4 came late
  CHECK(st.out_of_order == 1);
  // constant transit: no jitter; one 16 ms step: 1 ms (gain 1/16)
  UdpRecvStats j;
  j.on_packet({10, 0, 1}, 20.0);
  j.on_packet({10, 1000, 2}, 20.001);
  CHECK(j.jitter == Approx(0).margin(1e-9));
  j.on_packet({10, 2000, 3}, 20.002 + 0.016);
  CHECK(j.jitter * 1000 == Approx(1.0).epsilon(1e-6));
}

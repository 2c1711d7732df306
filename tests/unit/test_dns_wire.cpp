#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "netshoot/dns.h"

using namespace netshoot::core::dns;
using netshoot::core::IpAddr;
using Bytes = std::vector<uint8_t>;

namespace {

ResourceRecord rr(std::string name, uint16_t t, Rdata data, uint32_t ttl = 300) {
  ResourceRecord r;
  r.name = std::move(name);
  r.type = t;
  r.ttl = ttl;
  r.data = std::move(data);
  return r;
}

// Builds a response holding `r`, parses it back and returns the parsed record.
ResourceRecord round_trip(const ResourceRecord& r) {
  Message m;
  m.header.id = 7;
  m.header.qr = true;
  m.questions.push_back({r.name, r.type, rclass::IN});
  m.answers.push_back(r);
  auto wire = build_message(m);
  REQUIRE(wire.ok());
  auto back = parse_message(*wire);
  if (!back) FAIL(back.error().message());
  REQUIRE(back->answers.size() == 1);
  return back->answers[0];
}

std::string present(const ResourceRecord& r) { return format_rdata(round_trip(r)); }

IpAddr ip(const char* s) { return *IpAddr::parse(s); }

Bytes str_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

}  // namespace

TEST_CASE("dns wire: query for example.com A is byte-exact", "[dns]") {
  QuerySpec q;
  q.id = 0x1234;
  q.name = "example.com";
  q.qtype = type::A;
  auto wire = build_query(q);
  REQUIRE(wire.ok());
  Bytes expected = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                    7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',
                    0,    0x00, 0x01, 0x00, 0x01};
  CHECK(*wire == expected);

  auto m = parse_message(*wire);
  REQUIRE(m.ok());
  CHECK(m->header.id == 0x1234);
  CHECK(m->header.rd);
  CHECK_FALSE(m->header.qr);
  REQUIRE(m->questions.size() == 1);
  CHECK(m->questions[0].name == "example.com.");
  CHECK(m->questions[0].qtype == type::A);
  CHECK(format_question(m->questions[0]) == "example.com.\t\tIN\tA");
}

TEST_CASE("dns wire: header flags, opcode and CD/AD survive a round trip", "[dns]") {
  QuerySpec q;
  q.id = 1;
  q.name = "x.test.";
  q.rd = false;
  q.cd = true;
  q.ad = true;
  q.opcode = opcode::NOTIFY;
  auto wire = build_query(q);
  REQUIRE(wire.ok());
  auto m = parse_message(*wire);
  REQUIRE(m.ok());
  CHECK_FALSE(m->header.rd);
  CHECK(m->header.cd);
  CHECK(m->header.ad);
  CHECK(m->header.opcode == opcode::NOTIFY);
  CHECK(opcode_to_string(m->header.opcode) == "NOTIFY");
}

TEST_CASE("dns wire: EDNS OPT with DO, NSID, cookie and client subnet", "[dns]") {
  QuerySpec q;
  q.id = 2;
  q.name = "example.org";
  q.qtype = type::AAAA;
  Edns e;
  e.udp_size = 1232;
  e.dnssec_ok = true;
  e.options.push_back(make_nsid_option());
  Bytes client = {1, 2, 3, 4, 5, 6, 7, 8};
  auto cookie = make_cookie_option(client);
  REQUIRE(cookie.ok());
  e.options.push_back(*cookie);
  auto ecs = make_client_subnet_option("192.0.2.77/24");
  REQUIRE(ecs.ok());
  CHECK(ecs->data == Bytes{0, 1, 24, 0, 192, 0, 2});
  e.options.push_back(*ecs);
  q.edns = e;
  auto wire = build_query(q);
  REQUIRE(wire.ok());
  auto m = parse_message(*wire);
  REQUIRE(m.ok());
  CHECK(m->header.arcount == 1);
  CHECK(m->additional.empty());  // the OPT record lives in edns
  REQUIRE(m->edns.has_value());
  CHECK(m->edns->udp_size == 1232);
  CHECK(m->edns->dnssec_ok);
  REQUIRE(m->edns->options.size() == 3);
  CHECK(m->edns->options[0].code == edns_option::NSID);
  CHECK(format_edns(*m->edns) == "version: 0, flags: do; udp: 1232");
  CHECK(format_edns_option(m->edns->options[1]) == "COOKIE: 0102030405060708");
  CHECK(format_edns_option(m->edns->options[2]) == "CLIENT-SUBNET: 192.0.2.0/24/0");
  CHECK(format_edns_option(EdnsOption{edns_option::NSID, str_bytes("ns1")}) ==
        "NSID: 6e 73 31 (\"ns1\")");

  auto v6 = make_client_subnet_option("2001:db8:abcd::/36");
  REQUIRE(v6.ok());
  CHECK(v6->data == Bytes{0, 2, 36, 0, 0x20, 0x01, 0x0d, 0xb8, 0xa0});
  CHECK_FALSE(make_client_subnet_option("1.2.3.4/33").ok());
  CHECK_FALSE(make_cookie_option(Bytes{1, 2, 3}).ok());
}

TEST_CASE("dns wire: extended rcode BADVERS comes from the OPT record", "[dns]") {
  Message m;
  m.header.qr = true;
  m.header.rcode = rcode::BADVERS;  // 16: 1 in the OPT, 0 in the header
  m.edns = Edns{};
  auto wire = build_message(m);
  REQUIRE(wire.ok());
  CHECK(((*wire)[3] & 0xF) == 0);
  auto back = parse_message(*wire);
  REQUIRE(back.ok());
  CHECK(back->header.rcode == rcode::BADVERS);
  CHECK(rcode_to_string(back->header.rcode) == "BADVERS");
}

TEST_CASE("dns wire: names are compressed and decompressed", "[dns]") {
  Message m;
  m.header.id = 0xBEEF;
  m.header.qr = true;
  m.questions.push_back({"www.example.com.", type::A, rclass::IN});
  m.answers.push_back(rr("www.example.com.", type::CNAME, RdataName{"web.example.com."}));
  m.answers.push_back(rr("web.example.com.", type::A, RdataAddress{ip("192.0.2.1")}));
  auto wire = build_message(m);
  REQUIRE(wire.ok());
  // first answer owner is a pointer to the question name at offset 12
  size_t q_end = 12 + 17 + 4;
  CHECK((*wire)[q_end] == 0xC0);
  CHECK((*wire)[q_end + 1] == 12);
  auto plain = build_message(m, false);
  REQUIRE(plain.ok());
  CHECK(wire->size() < plain->size());

  auto back = parse_message(*wire);
  REQUIRE(back.ok());
  REQUIRE(back->answers.size() == 2);
  CHECK(back->answers[0].name == "www.example.com.");
  CHECK(format_rdata(back->answers[0]) == "web.example.com.");
  CHECK(back->answers[1].name == "web.example.com.");
  CHECK(format_record(back->answers[1]) == "web.example.com.\t300\tIN\tA\t192.0.2.1");
  // re-encoding the parsed message gives the same bytes
  auto again = build_message(*back);
  REQUIRE(again.ok());
  CHECK(*again == *wire);
}

TEST_CASE("dns wire: compression loops and forward pointers are rejected", "[dns]") {
  Bytes hdr = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0};
  SECTION("pointer to itself") {
    Bytes w = hdr;
    w.insert(w.end(), {0xC0, 12, 0, 1, 0, 1});
    auto m = parse_message(w);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message().find("compression pointer") != std::string::npos);
  }
  SECTION("label then pointer back to the label (a loop)") {
    Bytes w = hdr;
    w.insert(w.end(), {1, 'a', 0xC0, 12, 0, 1, 0, 1});
    CHECK_FALSE(parse_message(w).ok());
  }
  SECTION("two pointers pointing at each other") {
    Bytes w = hdr;
    // offset 12: pointer to 14; offset 14: pointer to 12
    w.insert(w.end(), {0xC0, 14, 0xC0, 12, 0, 1, 0, 1});
    CHECK_FALSE(parse_message(w).ok());
  }
  SECTION("forward pointer") {
    Bytes w = hdr;
    w.insert(w.end(), {0xC0, 20, 0, 1, 0, 1, 0, 0, 1, 'a', 0});
    CHECK_FALSE(parse_message(w).ok());
  }
  SECTION("bad label type") {
    Bytes w = hdr;
    w.insert(w.end(), {0x40, 0, 1, 0, 1});
    auto m = parse_message(w);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message() == "malformed DNS message: bad label type at offset 12");
  }
}

TEST_CASE("dns wire: truncated and malformed messages give errors with offsets", "[dns]") {
  CHECK_FALSE(parse_message(Bytes{}).ok());
  CHECK_FALSE(parse_message(Bytes(11, 0)).ok());
  // header says one answer, the RR stops after the type
  Bytes w = {0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1};
  auto m = parse_message(w);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().message() == "malformed DNS message: truncated RR at offset 12");
  // rdlength beyond the end
  Bytes w2 = {0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 10, 1, 2};
  auto m2 = parse_message(w2);
  REQUIRE_FALSE(m2.ok());
  CHECK(m2.error().message().find("truncated RR at offset 12") != std::string::npos);
  // A record with 3 bytes of RDATA
  Bytes w3 = {0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3};
  auto m3 = parse_message(w3);
  REQUIRE_FALSE(m3.ok());
  CHECK(m3.error().message().find("bad A RDATA length 3") != std::string::npos);
  // every prefix of a valid message fails cleanly (or parses when counts allow)
  Message full;
  full.header.qr = true;
  full.questions.push_back({"a.example.", type::MX, rclass::IN});
  full.answers.push_back(rr("a.example.", type::MX, RdataMx{10, "mail.a.example."}));
  full.edns = Edns{};
  auto fw = build_message(full);
  REQUIRE(fw.ok());
  for (size_t n = 0; n < fw->size(); ++n) CHECK_FALSE(parse_message(std::span(fw->data(), n)).ok());
  CHECK(parse_message(*fw).ok());
}

TEST_CASE("dns wire: name encoding validates lengths and handles escapes", "[dns]") {
  CHECK(encode_name(".")->size() == 1);
  CHECK(encode_name("")->size() == 1);
  CHECK_FALSE(encode_name(std::string(64, 'a') + ".com").ok());
  CHECK(encode_name(std::string(63, 'a') + ".com").ok());
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'b') + ".";
  CHECK_FALSE(encode_name(long_name).ok());
  CHECK_FALSE(encode_name("a..b").ok());
  CHECK_FALSE(encode_name("a\\").ok());
  auto w = encode_name("a\\.b.c\\032d");
  REQUIRE(w.ok());
  CHECK(*w == Bytes{3, 'a', '.', 'b', 3, 'c', ' ', 'd', 0});
  // and back
  Message m;
  m.questions.push_back({"a\\.b.c\\032d.", type::A, rclass::IN});
  auto mw = build_message(m);
  REQUIRE(mw.ok());
  auto back = parse_message(*mw);
  REQUIRE(back.ok());
  CHECK(back->questions[0].name == "a\\.b.c\\032d.");
  CHECK(absolute_name("example.com") == "example.com.");
  CHECK(absolute_name("example.com.") == "example.com.");
  CHECK(absolute_name("a\\.") == "a\\..");
  CHECK(names_equal("Example.COM.", "example.com"));
}

TEST_CASE("dns wire: type, class, rcode and opcode names both ways", "[dns]") {
  CHECK(type_to_string(1) == "A");
  CHECK(type_to_string(65) == "HTTPS");
  CHECK(type_to_string(65534) == "TYPE65534");
  CHECK(type_from_string("aaaa") == type::AAAA);
  CHECK(type_from_string("TYPE65534") == 65534);
  CHECK(type_from_string("type28") == 28);
  CHECK_FALSE(type_from_string("TYPE70000").has_value());
  CHECK_FALSE(type_from_string("BOGUS").has_value());
  CHECK(class_to_string(3) == "CH");
  CHECK(class_to_string(42) == "CLASS42");
  CHECK(class_from_string("CLASS3") == 3);
  CHECK(class_from_string("ch") == 3);
  CHECK(class_from_string("CHAOS") == 3);
  CHECK(rcode_to_string(0) == "NOERROR");
  CHECK(rcode_to_string(3) == "NXDOMAIN");
  CHECK(rcode_to_string(2) == "SERVFAIL");
  CHECK(rcode_to_string(5) == "REFUSED");
  CHECK(rcode_to_string(16) == "BADVERS");
  CHECK(rcode_to_string(42) == "RCODE42");
  CHECK(opcode_to_string(0) == "QUERY");
  CHECK(opcode_to_string(5) == "UPDATE");
  CHECK(opcode_to_string(3) == "OPCODE3");
}

TEST_CASE("dns wire: reverse names", "[dns]") {
  CHECK(*reverse_name("192.0.2.1") == "1.2.0.192.in-addr.arpa.");
  CHECK(*reverse_name("2001:db8::567:89ab") ==
        "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
  CHECK_FALSE(reverse_name("not-an-ip").ok());
  CHECK(reverse_name(IpAddr::v4(192, 0, 2, 1)) == "1.2.0.192.in-addr.arpa.");
  CHECK(*reverse_name("fe80::1%1") == reverse_name(*IpAddr::try_parse("fe80::1")));  // zone ignored
}

TEST_CASE("dns wire: RDATA presentation as dig prints it", "[dns]") {
  CHECK(present(rr("a.example.", type::A, RdataAddress{ip("192.0.2.1")})) == "192.0.2.1");
  CHECK(present(rr("a.example.", type::AAAA, RdataAddress{ip("2001:db8::1")})) == "2001:db8::1");
  CHECK(present(rr("a.example.", type::CNAME, RdataName{"b.example."})) == "b.example.");
  CHECK(present(rr("example.", type::NS, RdataName{"ns1.example."})) == "ns1.example.");
  CHECK(present(rr("1.2.0.192.in-addr.arpa.", type::PTR, RdataName{"host.example."})) == "host.example.");
  CHECK(present(rr("example.", type::MX, RdataMx{10, "mail.example."})) == "10 mail.example.");
  CHECK(present(rr("example.", type::SOA,
                   RdataSoa{"ns.icann.org.", "noc.dns.icann.org.", 2022091303, 7200, 3600, 1209600, 3600})) ==
        "ns.icann.org. noc.dns.icann.org. 2022091303 7200 3600 1209600 3600");
  CHECK(present(rr("_sip._udp.example.", type::SRV, RdataSrv{0, 5, 5060, "sip.example."})) ==
        "0 5 5060 sip.example.");
  CHECK(present(rr("example.", type::TXT, RdataTxt{{"v=spf1 -all", "a\"b\\c\x01"}})) ==
        "\"v=spf1 -all\" \"a\\\"b\\\\c\\001\"");
  CHECK(present(rr("example.", type::TXT, RdataTxt{{""}})) == "\"\"");
  CHECK(present(rr("example.", type::CAA, RdataCaa{0, "issue", "letsencrypt.org"})) ==
        "0 issue \"letsencrypt.org\"");
  CHECK(present(rr("example.", type::NAPTR,
                   RdataNaptr{100, 10, "U", "E2U+sip", "!^.*$!sip:info@example.com!", "."})) ==
        "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@example.com!\" .");
  Bytes digest(32);
  for (size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<uint8_t>(i * 7);
  CHECK(present(rr("example.", type::DS, RdataDs{12345, 8, 2, digest})) ==
        "12345 8 2 00070E151C232A31383F464D545B626970777E858C939AA1A8AFB6BD C4CBD2D9");
  CHECK(present(rr("example.", type::DNSKEY, RdataDnskey{257, 3, 13, str_bytes("hello")})) ==
        "257 3 13 aGVsbG8=");
  RdataRrsig sig;
  sig.type_covered = type::A;
  sig.algorithm = 13;
  sig.labels = 2;
  sig.original_ttl = 300;
  sig.expiration = 1700000000;
  sig.inception = 1690000000;
  sig.key_tag = 12345;
  sig.signer = "example.";
  sig.signature = {1, 2, 3};
  CHECK(present(rr("a.example.", type::RRSIG, sig)) ==
        "A 13 2 300 20231114221320 20230722042640 12345 example. AQID");
  CHECK(present(rr("a.example.", type::NSEC,
                   RdataNsec{"b.example.", {type::A, type::NS, type::RRSIG, type::NSEC, 1234}})) ==
        "b.example. A NS RRSIG NSEC TYPE1234");
  RdataNsec3 n3;
  n3.hash_algorithm = 1;
  n3.iterations = 10;
  n3.salt = {0xAA, 0xBB, 0xCC, 0xDD};
  n3.next_hashed = str_bytes("foobar");
  n3.types = {type::A, type::RRSIG};
  CHECK(present(rr("x.example.", type::NSEC3, n3)) == "1 0 10 AABBCCDD CPNMUOJ1E8 A RRSIG");
  RdataNsec3 p3;
  p3.hash_algorithm = 1;
  CHECK(present(rr("example.", type::NSEC3PARAM, p3)) == "1 0 0 -");

  RdataSvcb h;
  h.priority = 1;
  h.target = ".";
  h.params.push_back({0, {0, 1}});
  h.params.push_back({1, {2, 'h', '2', 2, 'h', '3'}});
  h.params.push_back({2, {}});
  h.params.push_back({3, {0x20, 0xFB}});
  h.params.push_back({4, {192, 0, 2, 1, 192, 0, 2, 2}});
  h.params.push_back({5, str_bytes("hello")});
  Bytes v6(16, 0);
  v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 1;
  h.params.push_back({6, v6});
  h.params.push_back({65000, str_bytes("x")});
  CHECK(present(rr("example.", type::HTTPS, h)) ==
        "1 . mandatory=alpn alpn=\"h2,h3\" no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 "
        "ech=aGVsbG8= ipv6hint=2001:db8::1 key65000=\"x\"");
  RdataSvcb alias;
  alias.priority = 0;
  alias.target = "svc.example.";
  CHECK(present(rr("example.", type::SVCB, alias)) == "0 svc.example.");

  SECTION("RFC 3597 unknown types") {
    ResourceRecord u;
    u.name = "example.";
    u.type = 65534;
    u.ttl = 300;
    u.rdata = {0x0A, 0x0B, 0x0C};
    auto back = round_trip(u);
    CHECK(std::holds_alternative<RdataUnknown>(back.data));
    CHECK(format_rdata(back) == "\\# 3 0A0B0C");
    CHECK(format_record(back) == "example.\t300\tIN\tTYPE65534\t\\# 3 0A0B0C");
    u.rdata.clear();
    CHECK(format_rdata(round_trip(u)) == "\\# 0");
  }
}

TEST_CASE("dns wire: SVCB params out of order and bad bitmaps are errors", "[dns]") {
  Bytes base = {0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64, 0, 1, 0, 0, 0, 0};
  Bytes svcb = base;
  Bytes rd = {0, 1, 0, 0, 3, 0, 2, 0, 1, 1, 0, 1, 'x'};  // port then alpn
  svcb.push_back(0);
  svcb.push_back(static_cast<uint8_t>(rd.size()));
  svcb.insert(svcb.end(), rd.begin(), rd.end());
  CHECK_FALSE(parse_message(svcb).ok());

  Bytes nsec = {0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 47, 0, 1, 0, 0, 0, 0, 0, 4, 0, 0, 33, 0};
  CHECK_FALSE(parse_message(nsec).ok());  // bitmap length 33
}

TEST_CASE("dns wire: base64, base32hex and hex encoders", "[dns]") {
  CHECK(to_base64(str_bytes("")) == "");
  CHECK(to_base64(str_bytes("f")) == "Zg==");
  CHECK(to_base64(str_bytes("fo")) == "Zm8=");
  CHECK(to_base64(str_bytes("foo")) == "Zm9v");
  CHECK(to_base64(str_bytes("foobar")) == "Zm9vYmFy");
  CHECK(to_base32hex(str_bytes("f")) == "CO");
  CHECK(to_base32hex(str_bytes("fooba")) == "CPNMUOJ1");
  CHECK(to_base32hex(str_bytes("foobar")) == "CPNMUOJ1E8");
  CHECK(to_hex(Bytes{0xde, 0xad}) == "DEAD");
  CHECK(to_hex(Bytes{0xde, 0xad}, false) == "dead");
}

TEST_CASE("dns wire: numeric addresses (core::IpAddr::parse, as resolv.conf and hosts use it)", "[dns]") {
  CHECK(IpAddr::parse("192.0.2.1")->family() == AF_INET);
  CHECK(IpAddr::parse("::1")->family() == AF_INET6);
  CHECK(IpAddr::parse("fe80::1%1")->scope_id() == 1);
  CHECK(IpAddr::parse("fe80::1%lo").ok());
  CHECK_FALSE(IpAddr::parse("fe80::1%").ok());
  CHECK_FALSE(IpAddr::parse("192.0.2.1%1").ok());
  CHECK_FALSE(IpAddr::parse("example.com").ok());
  CHECK(IpAddr::parse("2001:db8::1")->to_string() == "2001:db8::1");
}

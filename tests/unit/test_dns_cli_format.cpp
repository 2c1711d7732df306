// The dns applet's presentation: dig's shape for a known message (compared with a
// stored text), dig's column rule, +short, nslookup and host lines, JSON.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "applets/dns/format.h"

using namespace netshoot::applet::dns;
namespace w = netshoot::core::dns;
using netshoot::core::IpAddr;

namespace {

w::ResourceRecord rr_a(const std::string& name, const char* addr, uint32_t ttl = 300) {
  w::ResourceRecord rr;
  rr.name = name;
  rr.type = w::type::A;
  rr.ttl = ttl;
  rr.data = w::RdataAddress{*IpAddr::try_parse(addr)};
  return rr;
}

w::ResourceRecord rr_name(const std::string& name, uint16_t t, const std::string& target) {
  w::ResourceRecord rr;
  rr.name = name;
  rr.type = t;
  rr.ttl = 300;
  rr.data = w::RdataName{target};
  return rr;
}

Reply known_reply() {
  Reply r;
  r.lookup.name = "www.example.test";
  r.qname = "www.example.test.";
  r.ok = true;
  auto& m = r.result.message;
  m.header = {};
  m.header.id = 1234;
  m.header.qr = m.header.rd = m.header.ra = true;
  m.header.qdcount = 1;
  m.header.ancount = 2;
  m.header.arcount = 1;
  m.questions.push_back({"www.example.test.", w::type::A, w::rclass::IN});
  m.answers.push_back(rr_name("www.example.test.", w::type::CNAME, "cdn.example.test."));
  m.answers.push_back(rr_a("cdn.example.test.", "192.0.2.80"));
  w::Edns e;
  e.options.push_back({w::edns_option::NSID, {'n', 's', '1'}});
  m.edns = e;
  r.result.raw.resize(99);
  r.result.elapsed_ms = 3.7;
  r.result.server = *w::NameServer::parse("10.0.0.1");
  r.when = 0;
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("dns format: a known message in dig 9.18's shape", "[dns_cli]") {
  setenv("TZ", "UTC", 1);
  tzset();
  Options o;
  Reply r = known_reply();
  CHECK(format_dig(o, r) == slurp(NETSHOOT_TEST_DATA "/dns/expected_dig.txt"));
  o.display.short_form = true;
  CHECK(format_short(o, r) == "cdn.example.test.\n192.0.2.80\n");
}

TEST_CASE("dns format: dig's record columns (tabs to 24/32/40/48, a space once passed)", "[dns_cli]") {
  CHECK(dig_record(rr_a("example.test.", "192.0.2.1")) == "example.test.\t\t300\tIN\tA\t192.0.2.1");
  CHECK(dig_record(rr_a("ns1.example.test.", "10.53.0.2")) == "ns1.example.test.\t300\tIN\tA\t10.53.0.2");
  CHECK(dig_record(rr_a("abcdefgh.wild.example.test.", "192.0.2.99")) ==
        "abcdefgh.wild.example.test. 300\tIN\tA\t192.0.2.99");
  CHECK(dig_record(rr_a("abcdefghijklmno.wild.example.test.", "192.0.2.99")) ==
        "abcdefghijklmno.wild.example.test. 300 IN A\t192.0.2.99");
  CHECK(dig_question({"example.test.", w::type::A, w::rclass::IN}) == ";example.test.\t\t\tIN\tA");
  CHECK(dig_question({"_443._tcp.example.test.", w::type::TLSA, w::rclass::IN}) == ";_443._tcp.example.test.\t\tIN\tTLSA");
  CHECK(dig_question({"abcdefghij.example.test.", w::type::A, w::rclass::IN}) == ";abcdefghij.example.test.\tIN\tA");
  CHECK(dig_question({"abcdefghijklmnopqr.example.test.", w::type::A, w::rclass::IN}) ==
        ";abcdefghijklmnopqr.example.test. IN\tA");
}

TEST_CASE("dns format: nslookup and host lines", "[dns_cli]") {
  Options o;
  Reply a = known_reply();
  a.result.message.header.aa = true;
  int rc = -1;
  CHECK(format_nslookup(o, {a}, "", rc) ==
        "www.example.test\tcanonical name = cdn.example.test.\nName:\tcdn.example.test\nAddress: 192.0.2.80\n\n");
  CHECK(rc == 0);
  o.display.short_form = true;
  CHECK(format_host(o, {a}, rc) ==
        "www.example.test is an alias for cdn.example.test.\ncdn.example.test has address 192.0.2.80\n");
  Reply nx = known_reply();
  nx.result.message.header.rcode = w::rcode::NXDOMAIN;
  nx.result.message.answers.clear();
  CHECK(format_host(o, {nx}, rc) == "Host www.example.test not found: 3(NXDOMAIN)\n");
  CHECK(rc == 1);
  CHECK(format_nslookup(o, {nx}, "", rc) == "** server can't find www.example.test: NXDOMAIN\n\n");
  CHECK(rc == 1);
}

TEST_CASE("dns format: one JSON object per message with a stable schema", "[dns_cli]") {
  auto j = reply_json(known_reply());
  CHECK(j["query"]["name"] == "www.example.test.");
  CHECK(j["header"]["id"] == 1234);
  CHECK(j["header"]["rcode"] == "NOERROR");
  CHECK(j["header"]["flags"]["ra"] == true);
  CHECK(j["edns"]["udp_size"] == 1232);
  CHECK(j["edns"]["options"][0]["name"] == "NSID");
  REQUIRE(j["answer"].size() == 2);
  CHECK(j["answer"][1]["type"] == "A");
  CHECK(j["answer"][1]["rdata"] == "192.0.2.80");
  CHECK(j["size"] == 99);
}

// The dns applet's front ends: dig, drill, nslookup and host command lines parse
// into the same Options. The applet sources are compiled into this test directly
// (unit tests link only the core library).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "applets/dns/options.h"

using namespace netshoot::applet::dns;
namespace w = netshoot::core::dns;

namespace {

struct Argv {
  std::vector<std::string> words;
  std::vector<char*> ptrs;
  explicit Argv(std::vector<std::string> w) : words(std::move(w)) {
    for (auto& s : words) ptrs.push_back(s.data());
    ptrs.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(words.size()); }
  char** argv() { return ptrs.data(); }
};

netshoot::core::Result<Options> dig(std::vector<std::string> w) {
  w.insert(w.begin(), "dig");
  Argv a(std::move(w));
  return parse_dig(a.argc(), a.argv());
}

}  // namespace

TEST_CASE("dns cli: dig @server, -p, name, type and class in dig's order of guesses", "[dns_cli]") {
  auto o = dig({"@10.0.0.1", "-p", "5353", "example.com", "mx", "ch"});
  REQUIRE(o.ok());
  CHECK(o->server == "10.0.0.1");
  CHECK(o->port == 5353);
  REQUIRE(o->lookups.size() == 1);
  CHECK(o->lookups[0].name == "example.com");
  CHECK(o->lookups[0].qtype == w::type::MX);
  CHECK(o->lookups[0].qclass == w::rclass::CH);
  CHECK(o->cmdline == "@10.0.0.1 -p 5353 example.com mx ch");

  // type before the name, -t/-q forms, several lookups
  o = dig({"aaaa", "a.example", "b.example", "TXT", "-q", "c.example", "-t", "TYPE65280"});
  REQUIRE(o.ok());
  REQUIRE(o->lookups.size() == 3);
  CHECK(o->lookups[0].qtype == w::type::AAAA);
  CHECK(o->lookups[1].name == "b.example");
  CHECK(o->lookups[1].qtype == w::type::TXT);
  CHECK(o->lookups[2].name == "c.example");
  CHECK(o->lookups[2].qtype == 65280);

  // no name: the root's NS set
  o = dig({"@::1"});
  REQUIRE(o.ok());
  CHECK(o->lookups[0].name == ".");
  CHECK(o->lookups[0].qtype == w::type::NS);
}

TEST_CASE("dns cli: dig -x builds the reverse name and asks PTR", "[dns_cli]") {
  auto o = dig({"-x", "192.0.2.1"});
  REQUIRE(o.ok());
  CHECK(o->lookups[0].name == "1.2.0.192.in-addr.arpa.");
  CHECK(o->lookups[0].qtype == w::type::PTR);
  o = dig({"-x", "2001:db8::1", "+short"});
  REQUIRE(o.ok());
  CHECK(o->lookups[0].name.rfind("1.0.0.0.", 0) == 0);
  CHECK(o->lookups[0].name.size() == std::string("ip6.arpa.").size() + 64);
  CHECK(!dig({"-x", "not-an-ip"}).ok());
}

TEST_CASE("dns cli: dig +options, abbreviations and +no forms", "[dns_cli]") {
  auto o = dig({"x.example", "+short", "+tcp", "+norec", "+dnssec", "+nsid", "+bufsize=4096", "+timeout=2",
                "+tries=5", "+subnet=192.0.2.0/24", "+cookie=0011223344556677"});
  REQUIRE(o.ok());
  CHECK(o->display.short_form);
  CHECK(o->query.tcp);
  CHECK_FALSE(o->query.rd);
  CHECK(o->query.dnssec);
  CHECK(o->query.nsid);
  CHECK(o->query.bufsize == 4096);
  CHECK(o->query.timeout_ms == 2000);
  CHECK(o->query.tries == 5);
  CHECK(o->query.client_subnet == "192.0.2.0/24");
  CHECK(o->query.cookie_value.size() == 8);

  o = dig({"x.example", "+noall", "+answer"});
  REQUIRE(o.ok());
  CHECK_FALSE(o->display.cmd);
  CHECK_FALSE(o->display.comments);
  CHECK_FALSE(o->display.stats);
  CHECK_FALSE(o->display.question);
  CHECK(o->display.answer);

  o = dig({"x.example", "+nocmd", "+nocomments", "+noquestion", "+nostats", "+noadditional", "+noauthority", "+retry=1",
           "+ign", "+noedns"});
  REQUIRE(o.ok());
  CHECK_FALSE(o->display.additional);
  CHECK_FALSE(o->display.authority);
  CHECK(o->query.tries == 2);
  CHECK(o->query.ignore_tc);
  CHECK_FALSE(o->query.edns);
  CHECK_FALSE(o->query.cookie);  // no OPT, no cookie

  o = dig({"+trace", "x.example", "-4"});
  REQUIRE(o.ok());
  CHECK(o->trace);
  CHECK(o->family == AF_INET);

  // dig's defaults
  o = dig({"x.example"});
  REQUIRE(o.ok());
  CHECK(o->query.edns);
  CHECK(o->query.bufsize == 1232);
  CHECK(o->query.cookie);
  CHECK(o->query.rd);
  CHECK(o->query.tries == 3);
  CHECK(o->query.timeout_ms == 5000);
  CHECK(o->query.client_subnet.empty());
}

TEST_CASE("dns cli: dig bad input is one clear error", "[dns_cli]") {
  auto bad = [](std::vector<std::string> w) {
    auto o = dig(std::move(w));
    REQUIRE_FALSE(o.ok());
    return o.error().message();
  };
  CHECK(bad({"+frobnicate"}) == "invalid option: +frobnicate");
  CHECK(bad({"-p", "99999", "x"}) == "invalid port '99999'");
  CHECK(bad({"-t", "NOPE", "x"}) == "invalid type: NOPE");
  CHECK(bad({"+bufsize=big"}).find("+bufsize needs a number") == 0);
  CHECK(bad({"x", "-p"}) == "option -p needs a port");
  CHECK(bad({"x", "AXFR"}) == "zone transfers are not supported");
  CHECK(bad({"-z"}) == "invalid option: -z");
}

TEST_CASE("dns cli: drill name, type and @server in any order, -V, -T, -x", "[dns_cli]") {
  Argv a({"drill", "-V", "5", "perf-test-b", "@10.0.0.1", "AAAA", "-p", "53"});
  auto o = parse_drill(a.argc(), a.argv());
  REQUIRE(o.ok());
  CHECK(o->display.verbosity == 5);
  CHECK(o->server == "10.0.0.1");
  CHECK(o->lookups[0].name == "perf-test-b");
  CHECK(o->lookups[0].qtype == w::type::AAAA);
  CHECK_FALSE(o->query.edns);  // drill: no EDNS unless -D or -b

  Argv b({"drill", "-x", "192.0.2.1", "-T", "-D", "-t"});
  o = parse_drill(b.argc(), b.argv());
  REQUIRE(o.ok());
  CHECK(o->lookups[0].name == "1.2.0.192.in-addr.arpa.");
  CHECK(o->trace);
  CHECK(o->query.dnssec);
  CHECK(o->query.tcp);

  Argv c({"drill", "-Q"});
  CHECK_FALSE(parse_drill(c.argc(), c.argv()).ok());
}

TEST_CASE("dns cli: nslookup -type=, -port=, NAME SERVER, an address is a PTR lookup", "[dns_cli]") {
  Argv a({"nslookup", "-type=mx", "-port=5353", "-timeout=1", "example.com", "10.0.0.1"});
  auto o = parse_nslookup(a.argc(), a.argv());
  REQUIRE(o.ok());
  CHECK(o->style == Style::Nslookup);
  CHECK(o->lookups[0].qtype == w::type::MX);
  CHECK(o->lookups[0].type_given);
  CHECK(o->port == 5353);
  CHECK(o->query.timeout_ms == 1000);
  CHECK(o->server == "10.0.0.1");
  CHECK(o->search);

  Argv b({"nslookup", "10.96.0.1"});
  o = parse_nslookup(b.argc(), b.argv());
  REQUIRE(o.ok());
  CHECK(o->lookups[0].name == "1.0.96.10.in-addr.arpa.");
  CHECK(o->lookups[0].qtype == w::type::PTR);

  Argv c({"nslookup"});
  CHECK_FALSE(parse_nslookup(c.argc(), c.argv()).ok());
}

TEST_CASE("dns cli: host -t TYPE, bundled flags, NAME SERVER, reverse", "[dns_cli]") {
  Argv a({"host", "-Tt", "mx", "-W", "2", "example.com", "10.0.0.1"});
  auto o = parse_host(a.argc(), a.argv());
  REQUIRE(o.ok());
  CHECK(o->query.tcp);
  CHECK(o->lookups[0].qtype == w::type::MX);
  CHECK(o->query.timeout_ms == 2000);
  CHECK(o->server == "10.0.0.1");

  Argv b({"host", "2001:db8::1"});
  o = parse_host(b.argc(), b.argv());
  REQUIRE(o.ok());
  CHECK(o->lookups[0].qtype == w::type::PTR);
  CHECK_FALSE(o->lookups[0].type_given == false);

  Argv c({"host", "-t", "BOGUS", "x"});
  CHECK_FALSE(parse_host(c.argc(), c.argv()).ok());
}

TEST_CASE("dns cli: dns resolve and bench subcommands", "[dns_cli]") {
  Argv a({"dns", "resolve", "api.example.com", "--resolv-conf", "/tmp/r.conf"});
  auto o = parse_native(a.argc(), a.argv());
  REQUIRE(o.ok());
  CHECK(o->mode == Mode::Resolve);
  CHECK(o->resolv_conf == "/tmp/r.conf");
  CHECK(o->lookups[0].name == "api.example.com");

  Argv b({"dns", "bench", "-s", "127.0.0.1", "-d", "names.txt", "-l", "2.5", "-n", "1000", "-Q", "500", "-c", "64"});
  o = parse_native(b.argc(), b.argv());
  REQUIRE(o.ok());
  CHECK(o->mode == Mode::Bench);
  CHECK(o->bench.seconds == 2.5);
  CHECK(o->bench.count == 1000);
  CHECK(o->bench.max_qps == 500);
  CHECK(o->bench.concurrency == 64);

  Argv c({"dns", "bench", "-s", "127.0.0.1"});
  CHECK_FALSE(parse_native(c.argc(), c.argv()).ok());

  Argv d({"dns", "example.com", "+short"});  // plain `dns` is dig
  o = parse_native(d.argc(), d.argv());
  REQUIRE(o.ok());
  CHECK(o->display.short_form);
}

#include <catch2/catch.hpp>

#include <string>

#include "netshoot/hosts.h"

using namespace netshoot::core::dns;
using netshoot::core::IpAddr;

static const char* kHosts =
    "# /etc/hosts\n"
    "127.0.0.1\tlocalhost\n"
    "::1     localhost ip6-localhost ip6-loopback\n"
    "10.244.1.5  web-0.web.default.svc.cluster.local web-0   # pod\n"
    "10.244.1.6  Multi.Example multi\n"
    "10.244.1.7  multi.example\n"
    "not-an-ip   broken\n"
    "192.0.2.9\n"
    "2001:db8::5 v6only.example\r\n";

TEST_CASE("hosts: hosts lookup: case-insensitive, aliases, families", "[hosts]") {
  auto h = HostsFile::parse(kHosts);
  CHECK(h.entries().size() == 6);
  auto lo = h.lookup("localhost");
  REQUIRE(lo.size() == 2);
  CHECK(lo[0].addr.to_string() == "127.0.0.1");
  CHECK(lo[1].addr.to_string() == "::1");
  CHECK(h.lookup("localhost", AF_INET).size() == 1);
  CHECK(h.lookup("localhost", AF_INET6).size() == 1);
  CHECK(h.lookup("IP6-LOOPBACK").size() == 1);
  auto web = h.lookup("web-0");
  REQUIRE(web.size() == 1);
  CHECK(web[0].canonical == "web-0.web.default.svc.cluster.local");
  CHECK(h.lookup("pod").empty());  // comment text is not a name
  auto multi = h.lookup("MULTI.example");
  REQUIRE(multi.size() == 2);
  CHECK(multi[1].addr.to_string() == "10.244.1.7");
  CHECK(h.lookup("broken").empty());
  CHECK(h.lookup("v6only.example", AF_INET).empty());
  CHECK(h.lookup("v6only.example", AF_INET6).size() == 1);
  CHECK(h.lookup("").empty());
}

TEST_CASE("hosts: hosts reverse lookup", "[hosts]") {
  auto h = HostsFile::parse(kHosts);
  CHECK(h.reverse(*IpAddr::parse("10.244.1.6")) == "Multi.Example");
  CHECK(h.reverse(*IpAddr::parse("::1")) == "localhost");
  CHECK_FALSE(h.reverse(*IpAddr::parse("10.0.0.1")).has_value());
  // The zone of a link-local address does not take part in the match.
  auto ll = HostsFile::parse("fe80::1%1 router.local\n");
  REQUIRE(ll.entries().size() == 1);
  CHECK(ll.entries()[0].addr.scope_id() == 1);
  CHECK(ll.reverse(*IpAddr::parse("fe80::1")) == "router.local");
  CHECK(ll.reverse(*IpAddr::parse("fe80::1%2")) == "router.local");
  CHECK_FALSE(ll.reverse(*IpAddr::parse("fe80::2")).has_value());
}

TEST_CASE("hosts: hosts load: missing file is empty", "[hosts]") {
  auto h = HostsFile::load("/nonexistent/netshoot/hosts");
  REQUIRE(h.ok());
  CHECK(h->entries().empty());
}

#include <catch2/catch.hpp>

#include <set>

#include "netshoot/addr.h"

using namespace netshoot::core;

TEST_CASE("service: service names by port", "[service]") {
  CHECK(service_name(22) == "ssh");
  CHECK(service_name(80) == "http");
  CHECK(service_name(443) == "https");
  CHECK(service_name(53, L4Proto::udp) == "domain");
  CHECK(service_name(53, L4Proto::tcp) == "domain");
  CHECK(service_name(123, L4Proto::udp) == "ntp");
  CHECK(service_name(161, L4Proto::udp) == "snmp");
  CHECK(service_name(3306) == "mysql");
  CHECK(service_name(3389) == "ms-wbt-server");
  CHECK(service_name(5432) == "postgresql");
  CHECK(service_name(6379) == "redis");
  CHECK(service_name(8080) == "http-proxy");
  CHECK(service_name(8008) == "http");      // display-only duplicate
  CHECK(service_name(514, L4Proto::tcp) == "shell");
  CHECK(service_name(514, L4Proto::udp) == "syslog");
  CHECK(service_name(3868, L4Proto::sctp) == "diameter");
  CHECK(service_name(22, L4Proto::sctp).empty());
  CHECK(service_name(65321).empty());
  CHECK(service_name(0).empty());
}

TEST_CASE("service: service ports by name", "[service]") {
  CHECK(service_port("ssh") == 22);
  CHECK(service_port("SSH") == 22);
  CHECK(service_port("http") == 80);        // not 8008
  CHECK(service_port("www") == 80);         // alias
  CHECK(service_port("domain", L4Proto::udp) == 53);
  CHECK(service_port("dns", L4Proto::udp) == 53);
  CHECK(service_port("radius", L4Proto::udp) == 1812);
  CHECK(service_port("syslog", L4Proto::udp) == 514);
  CHECK_FALSE(service_port("syslog", L4Proto::tcp));
  CHECK_FALSE(service_port("nosuchservice"));
  CHECK_FALSE(service_port(""));
}

TEST_CASE("service: service table is sorted and sane", "[service]") {
  auto t = service_table();
  CHECK(t.size() >= 300);
  for (size_t i = 1; i < t.size(); ++i) {
    INFO(t[i].name);
    CHECK(t[i - 1].port <= t[i].port);
  }
  for (const auto& e : t) {
    INFO(e.name);
    CHECK(e.name[0] != '\0');
    CHECK((e.protos & 7) != 0);
  }
}

TEST_CASE("service: top ports", "[service]") {
  auto tcp = top_ports(L4Proto::tcp);
  REQUIRE(tcp.size() == 1000);
  CHECK(std::set<uint16_t>(tcp.begin(), tcp.end()).size() == 1000);  // no duplicates
  // nmap-like frequency order at the head
  CHECK(tcp[0] == 80);
  CHECK(tcp[1] == 23);
  CHECK(tcp[2] == 443);
  CHECK(tcp[3] == 21);
  CHECK(tcp[4] == 22);
  auto t10 = top_ports(L4Proto::tcp, 10);
  CHECK(t10.size() == 10);
  std::set<uint16_t> t100(tcp.begin(), tcp.begin() + 100);
  for (uint16_t p : {22, 25, 53, 110, 139, 143, 445, 3306, 3389, 5900, 8080, 8443})
    CHECK(t100.count(p));

  auto udp = top_ports(L4Proto::udp);
  REQUIRE(udp.size() == 100);
  CHECK(std::set<uint16_t>(udp.begin(), udp.end()).size() == 100);
  CHECK(udp[0] == 631);
  CHECK(udp[1] == 161);
  std::set<uint16_t> u(udp.begin(), udp.end());
  for (uint16_t p : {53, 67, 68, 69, 123, 137, 138, 161, 500, 514, 1900, 4500, 5353})
    CHECK(u.count(p));

  CHECK(top_ports(L4Proto::udp, 100000).size() == 100);  // clamped
  auto ps = PortSet::top(L4Proto::tcp, 100);
  CHECK(ps.count(L4Proto::tcp) == 100);
  CHECK(ps.count(L4Proto::udp) == 0);
  CHECK(ps.contains(L4Proto::tcp, 80));
}

TEST_CASE("service: netbase names where they differ from nmap's", "[service]") {
  CHECK(service_name(8080) == "http-proxy");
  CHECK(netbase_service_name(8080) == "http-alt");
  CHECK(netbase_service_name(67, L4Proto::udp) == "bootps");
  CHECK(netbase_service_name(22) == service_name(22));  // same in both: falls through
  CHECK(netbase_service_name(0).empty());
}

// ss: state names, filter expressions and the column layout.
#include <catch2/catch.hpp>

#include "applets/ss/ss.h"

using namespace netshoot;
using namespace netshoot::applet::ss;
using core::IpAddr;
using core::state_bit;
using core::TcpState;

namespace {

SockView sock(uint8_t state, const char* l, uint16_t lp, const char* r, uint16_t rp) {
  return SockView{state, *IpAddr::try_parse(l), *IpAddr::try_parse(r), lp, rp};
}

Filter parse(std::vector<std::string> args) {
  auto f = parse_filter(args);
  INFO((f ? std::string() : f.error().message()));
  REQUIRE(f.ok());
  return std::move(f.value());
}

}  // namespace

TEST_CASE("ss filter: states", "[ss]") {
  CHECK(parse_state_name("established") == state_bit(TcpState::established));
  CHECK(parse_state_name("listening") == state_bit(TcpState::listen));
  CHECK(parse_state_name("nope") == 0);
  Filter f = parse({"state", "established"});
  CHECK(f.states == state_bit(TcpState::established));
  CHECK(!f.expr);
  f = parse({"state", "listening", "state", "time-wait"});
  CHECK(f.states == (state_bit(TcpState::listen) | state_bit(TcpState::time_wait)));
  f = parse({"exclude", "listening"});
  CHECK(!(f.states & state_bit(TcpState::listen)));
  CHECK((f.states & state_bit(TcpState::established)));
  CHECK(!parse_filter({"state", "bogus"}).ok());
}

TEST_CASE("ss filter: ports, addresses, and/or/not, quoted or split", "[ss]") {
  auto est = sock(1, "10.0.0.1", 40000, "10.0.0.2", 443);
  auto srv = sock(1, "10.0.0.1", 80, "192.0.2.9", 51000);
  Filter f = parse({"dport = :443"});
  CHECK(f.match(est));
  CHECK(!f.match(srv));
  f = parse({"sport", "=", ":80"});
  CHECK(f.match(srv));
  f = parse({"state", "established", "( dport = :443 or sport = :80 )"});
  CHECK(f.match(est));
  CHECK(f.match(srv));
  CHECK(!f.match(sock(10, "10.0.0.1", 80, "0.0.0.0", 0)));  // LISTEN excluded by the state
  f = parse({"dport", "==", ":https"});
  CHECK(f.match(est));
  f = parse({"sport", "gt", ":1024"});
  CHECK(f.match(est));
  CHECK(!f.match(srv));
  f = parse({"not", "sport", "=", ":80"});
  CHECK(!f.match(srv));
  f = parse({"dst 192.0.2.0/24"});
  CHECK(f.match(srv));
  CHECK(!f.match(est));
  f = parse({"src", "10.0.0.1:80"});
  CHECK(f.match(srv));
  CHECK(!f.match(est));
  f = parse({"dst", "[::1]:22"});
  CHECK(f.match(sock(1, "::1", 5000, "::1", 22)));
  f = parse({"sport = :80", "and", "dst", "192.0.2.9"});
  CHECK(f.match(srv));
  CHECK(!parse_filter({"sport", "=", ":notaport"}).ok());
  CHECK(!parse_filter({"(", "sport", "=", ":80"}).ok());
  CHECK(!parse_filter({"bogus"}).ok());
}

TEST_CASE("ss: endpoints and table layout", "[ss]") {
  auto [h, p] = ss_endpoint(*IpAddr::try_parse("::"), 8443, "", true, false);
  CHECK(h == "*");
  CHECK(p == "8443");
  std::tie(h, p) = ss_endpoint(*IpAddr::try_parse("127.0.0.53"), 53, "lo", true, true);
  CHECK(h + ":" + p == "127.0.0.53%lo:53");
  std::tie(h, p) = ss_endpoint(*IpAddr::try_parse("::1"), 0, "", true, false);
  CHECK(h + ":" + p == "[::1]:*");
  CHECK(netstat_endpoint(*IpAddr::try_parse("::"), 8443) == ":::8443");
  CHECK(netstat_state(7, true) == "");
  CHECK(netstat_state(10, false) == "LISTEN");
  std::string t = render_table({{"State", "Local", "Port", "x"}, {"ESTAB", "127.0.0.1", "8080", "y"}}, "lRll");
  CHECK(t == "State     Local:Port x\nESTAB 127.0.0.1:8080 y\n");
}

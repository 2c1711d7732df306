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
  // v6 wildcard: "*" for a dual-stack socket, "[::]" for a v6only one (as ss).
  std::tie(h, p) = ss_endpoint(*IpAddr::try_parse("::"), 0, "", true, false, true);
  CHECK(h + ":" + p == "[::]:*");
  char b[96];
  CHECK(std::string_view(b, ss_port(b, 443, false, false)) == "https");
  CHECK(std::string_view(b, ss_port(b, 443, true, false)) == "443");
}

TEST_CASE("ss: the table pads every column to its widest cell, glues addresses to ports", "[ss]") {
  // State, Local Address (right, ':'), Port (left, no glue), Process.
  Table t({{false, ' ', ' ', 0}, {true, ':', ' ', 0}, {false, '\0', '\0', 0}, {}});
  for (auto cells : {std::vector<std::string>{"State", "Local", "Port", "Process"},
                     std::vector<std::string>{"ESTAB", "127.0.0.1", "8080", ""},
                     std::vector<std::string>{"LISTEN", "*", "65535", " users:((\"x\",pid=1,fd=3))"}}) {
    t.row();
    for (const auto& c : cells) t.cell(c);
  }
  t.row(true);  // alt glue: a unix socket's "path inode"
  for (const char* c : {"ESTAB", "*", "1574", ""}) t.cell(c);
  t.note("\t cubic");
  CHECK(t.rows() == 4);
  CHECK(t.render() ==
        "State      Local:Port Process                  \n"
        "ESTAB  127.0.0.1:8080                          \n"
        "LISTEN         *:65535 users:((\"x\",pid=1,fd=3))\n"
        "ESTAB          * 1574                          \n"
        "\t cubic\n");
  // A dump that starts over drops what it added.
  auto m = t.mark();
  t.row();
  for (const char* c : {"A-VERY-LONG-STATE", "1", "2", "3"}) t.cell(c);
  t.rollback(m);
  CHECK(t.rows() == 4);
  CHECK(t.render().find("A-VERY") == std::string::npos);
  CHECK(t.render().rfind("State      Local", 0) == 0);
  // Rows across blocks: 200,000 rows of 10-byte cells (> 1 MiB) render in order.
  Table big({{true, ' ', ' ', 0}, {}});
  for (int i = 0; i < 200000; ++i) {
    big.row();
    big.cell(std::to_string(i));
    big.cell("0123456789");
  }
  std::string all = big.render();
  CHECK(all.size() == 200000u * (6 + 1 + 10 + 1));
  CHECK(all.substr(0, 18) == "     0 0123456789\n");
  CHECK(all.substr(all.size() - 18) == "199999 0123456789\n");
}

// netgen: command lines of netgen, netgen craft (nping-style) and hping3.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "applets/netgen/netgen.h"

using namespace netshoot::applet::netgen;
namespace tcpflag = netshoot::core::tcpflag;

namespace {
template <typename F>
auto parse(F f, std::vector<std::string> a) {
  bool help = false;
  return f(a, help);
}
bool has(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }
}  // namespace

TEST_CASE("netgen options: the seed's form and its knobs", "[netgen]") {
  auto o = parse(parse_traffic, {"c1", "5000"});
  REQUIRE(o);
  CHECK(o->host == "c1");
  CHECK(o->port == 5000);
  CHECK(o->interval_s == 10);
  CHECK(o->listen);
  CHECK_FALSE(o->tcp);
  CHECK_FALSE(o->rate);

  o = parse(parse_traffic, {"--tcp", "-i", "0.5", "--count=7", "--size", "100", "--pattern", "0x4142", "-d", "3",
                            "--no-listen", "h", "80"});
  REQUIRE(o);
  CHECK(o->tcp);
  CHECK(o->interval_s == 0.5);
  CHECK(o->count == 7);
  CHECK(o->size == 100);
  CHECK(o->pattern == "AB");
  CHECK(o->duration_s == 3);
  CHECK_FALSE(o->listen);

  o = parse(parse_traffic, {"--rate", "max", "h", "80"});
  REQUIRE(o);
  CHECK(std::isinf(*o->rate));
  o = parse(parse_traffic, {"-r", "2500", "h", "80"});
  REQUIRE(o);
  CHECK(*o->rate == 2500);

  o = parse(parse_traffic, {"-l", "6000"});
  REQUIRE(o);
  CHECK(o->host.empty());
  CHECK(o->port == 6000);
}

TEST_CASE("netgen options: bad input gives one clear error", "[netgen]") {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  for (const Case& c : std::vector<Case>{
           {{"--rate", "0", "h", "1"}, "rate must be a positive number"},
           {{"--rate", "-5", "h", "1"}, "rate must be a positive number"},
           {{"--rate", "fast", "h", "1"}, "rate must be a positive number"},
           {{"-i", "0", "h", "1"}, "interval must be greater than 0"},
           {{"--size", "10", "h", "1"}, "size 10 out of range"},
           {{"--size", "70000", "h", "1"}, "out of range"},
           {{"h", "0"}, "port 0 out of range"},
           {{"h", "http"}, "invalid port"},
           {{"h"}, "usage: netgen"},
           {{"--bogus", "h", "1"}, "unknown option '--bogus'"},
           {{"-c"}, "option -c needs a value"},
           {{"-l", "5", "h", "1"}, "listens only"},
       }) {
    auto o = parse(parse_traffic, c.args);
    INFO(c.args[0]);
    REQUIRE_FALSE(o);
    CHECK(has(o.error().message(), c.err));
    CHECK(o.error().message().find('\n') == std::string::npos);
  }
}

TEST_CASE("netgen flags: letters and names", "[netgen]") {
  CHECK(*parse_tcp_flags("SA") == (tcpflag::syn | tcpflag::ack));
  CHECK(*parse_tcp_flags("sa") == (tcpflag::syn | tcpflag::ack));
  CHECK(*parse_tcp_flags("FSRPAUEC") == 0xff);
  CHECK(*parse_tcp_flags("XY") == (tcpflag::ece | tcpflag::cwr));
  CHECK(*parse_tcp_flags("syn,ack") == (tcpflag::syn | tcpflag::ack));
  CHECK(*parse_tcp_flags("RST") == tcpflag::rst);
  CHECK(*parse_tcp_flags("none") == 0);
  auto bad = parse_tcp_flags("SZ");
  REQUIRE_FALSE(bad);
  CHECK(has(bad.error().message(), "unknown flag letter 'Z'"));
  CHECK_FALSE(parse_tcp_flags("syn,foo"));
  CHECK_FALSE(parse_tcp_flags(""));
  CHECK(hping_flags(tcpflag::syn | tcpflag::ack) == "SA");
  CHECK(hping_flags(tcpflag::rst | tcpflag::ack) == "RA");
  CHECK(hping_flags(tcpflag::syn | tcpflag::ack | tcpflag::fin | tcpflag::psh | tcpflag::urg) == "SAFPU");
  CHECK(hping_flags(0).empty());
}

TEST_CASE("netgen craft: nping's flags", "[netgen]") {
  auto o = parse(parse_craft, {"--tcp", "-p", "80", "--flags", "SA", "--ttl", "7", "--tos", "0x10", "--id", "4242",
                               "--df", "--seq", "1000", "--ack", "2000", "--win", "512", "-g", "3333",
                               "--data-string", "hi", "-c", "2", "--rate", "100", "10.0.0.2"});
  REQUIRE(o);
  CHECK(o->mode == CraftMode::tcp);
  CHECK(o->dst_port == 80);
  CHECK(o->tcp_flags == (tcpflag::syn | tcpflag::ack));
  CHECK(o->ttl == 7);
  CHECK(o->tos == 0x10);
  CHECK(*o->ip_id == 4242);
  CHECK(o->dont_fragment);
  CHECK(*o->tcp_seq == 1000);
  CHECK(*o->tcp_ack == 2000);
  CHECK(o->window == 512);
  CHECK(*o->src_port == 3333);
  CHECK(o->keep_src_port);
  CHECK(o->payload == std::vector<uint8_t>{'h', 'i'});
  CHECK(o->count == 2);
  CHECK(o->interval_s == Approx(0.01));
  CHECK(o->host == "10.0.0.2");

  o = parse(parse_craft, {"--udp", "--frag-off", "65528", "--mf", "-6", "::1"});
  REQUIRE(o);
  CHECK(o->mode == CraftMode::udp);
  CHECK(o->frag_offset == 65528);
  CHECK(o->more_fragments);
  CHECK(o->family == AF_INET6);
  o = parse(parse_craft, {"--raw", "47", "--data", "0xdeadbeef", "h"});
  REQUIRE(o);
  CHECK(o->mode == CraftMode::rawip);
  CHECK(o->ip_proto == 47);
  CHECK(o->payload == std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef});
}

TEST_CASE("netgen craft / hping3: bad input", "[netgen]") {
  auto e = parse(parse_craft, {"--flags", "SQ", "h"});
  REQUIRE_FALSE(e);
  CHECK(has(e.error().message(), "unknown flag letter 'Q'"));
  e = parse(parse_craft, {"--frag-off", "65536", "h"});
  REQUIRE_FALSE(e);
  CHECK(has(e.error().message(), "past 65528"));
  e = parse(parse_craft, {"--frag-off", "65529", "h"});
  REQUIRE_FALSE(e);
  e = parse(parse_craft, {"--frag-off", "12", "h"});
  REQUIRE_FALSE(e);
  CHECK(has(e.error().message(), "multiple of 8"));
  e = parse(parse_craft, {"--data-file", "/nonexistent/payload.bin", "h"});
  REQUIRE_FALSE(e);
  CHECK(has(e.error().message(), "payload file /nonexistent/payload.bin: No such file or directory"));
  e = parse(parse_craft, {"--rate", "0", "h"});
  REQUIRE_FALSE(e);
  CHECK(has(e.error().message(), "rate must be a positive number"));
  e = parse(parse_craft, {"--tcp", "--udp", "h"});
  REQUIRE_FALSE(e);
  e = parse(parse_hping, {"-g", "70000", "h"});
  REQUIRE_FALSE(e);
  CHECK(has(e.error().message(), "past 65528"));
  e = parse(parse_hping, {"-E", "/nonexistent/x", "h"});
  REQUIRE_FALSE(e);
  CHECK(has(e.error().message(), "No such file"));
  e = parse(parse_hping, {"-1", "-2", "h"});
  REQUIRE_FALSE(e);
  e = parse(parse_hping, {"-i", "ux", "h"});
  REQUIRE_FALSE(e);
}

TEST_CASE("hping3 options", "[netgen]") {
  auto o = parse(parse_hping, {"-S", "-p", "80", "-c", "3", "HOST"});
  REQUIRE(o);
  CHECK(o->hping);
  CHECK(o->mode == CraftMode::tcp);
  CHECK(o->tcp_flags == tcpflag::syn);
  CHECK(o->dst_port == 80);
  CHECK(o->count == 3);
  CHECK(o->window == 64);

  o = parse(parse_hping, {"--flood", "-i", "u1000", "-d", "120", "-2", "-a", "10.9.9.9", "-t", "5", "-s", "4000",
                          "-k", "-M", "77", "-L", "88", "-w", "999", "-FPU", "-A", "-R", "-N", "12", "-o", "10",
                          "-y", "-x", "-g", "1480", "h"});
  REQUIRE(o);
  CHECK(o->flood);
  CHECK(o->interval_s == Approx(0.001));
  CHECK(o->payload.size() == 120);
  CHECK(o->mode == CraftMode::udp);
  CHECK(o->source == "10.9.9.9");
  CHECK(o->ttl == 5);
  CHECK(*o->src_port == 4000);
  CHECK(o->keep_src_port);
  CHECK(*o->tcp_seq == 77);
  CHECK(*o->tcp_ack == 88);
  CHECK(o->window == 999);
  CHECK(o->tcp_flags == (tcpflag::fin | tcpflag::psh | tcpflag::urg | tcpflag::ack | tcpflag::rst));
  CHECK(*o->ip_id == 12);
  CHECK(o->tos == 0x10);
  CHECK(o->dont_fragment);
  CHECK(o->more_fragments);
  CHECK(o->frag_offset == 1480);
  o = parse(parse_hping, {"-1", "-i", "2", "h"});
  REQUIRE(o);
  CHECK(o->mode == CraftMode::icmp);
  CHECK(o->interval_s == 2);
  CHECK(o->count == 0);
}

TEST_CASE("nping: command lines", "[netgen]") {
  // No mode: ICMP echo (nping run as root); 5 rounds, 1 s apart; one source port.
  auto o = parse(parse_nping, {"10.0.0.2"});
  REQUIRE(o);
  CHECK(o->nping);
  CHECK(o->mode == CraftMode::icmp);
  CHECK(o->count == 5);
  CHECK(o->interval_s == 1);
  CHECK(o->keep_src_port);
  CHECK_FALSE(o->quiet);
  CHECK(o->host == "10.0.0.2");

  o = parse(parse_nping, {"--tcp", "-p", "80", "10.0.0.2"});
  REQUIRE(o);
  CHECK(o->mode == CraftMode::tcp);
  CHECK(o->dst_ports == std::vector<uint16_t>{80});
  CHECK(o->tcp_flags == tcpflag::syn);
  CHECK(o->window == 1480);
  CHECK_FALSE(o->src_port);

  o = parse(parse_nping, {"--tcp", "-p", "80,443", "--flags", "syn", "-c", "3", "h"});
  REQUIRE(o);
  CHECK(o->dst_ports == std::vector<uint16_t>{80, 443});
  CHECK(o->count == 3);
  o = parse(parse_nping, {"--tcp", "-p1-3,22", "--flags", "rst,ack", "h"});
  REQUIRE(o);
  CHECK(o->dst_ports == std::vector<uint16_t>{1, 2, 3, 22});
  CHECK(o->tcp_flags == (tcpflag::rst | tcpflag::ack));
  o = parse(parse_nping, {"--tcp", "--dest-port=8080", "--flags", "all", "h"});
  REQUIRE(o);
  CHECK(o->dst_ports == std::vector<uint16_t>{8080});
  CHECK(o->tcp_flags == 0xff);

  // UDP: nping's defaults, source port 53 and destination 40125.
  o = parse(parse_nping, {"--udp", "h"});
  REQUIRE(o);
  CHECK(o->mode == CraftMode::udp);
  CHECK(o->dst_ports == std::vector<uint16_t>{40125});
  CHECK(*o->src_port == 53);
  o = parse(parse_nping, {"--udp", "-p", "53", "-g", "7000", "h"});
  REQUIRE(o);
  CHECK(o->dst_ports == std::vector<uint16_t>{53});
  CHECK(*o->src_port == 7000);

  o = parse(parse_nping, {"--icmp", "--ttl", "9", "--tos", "16", "--id", "77", "--df", "--data-length", "10",
                          "--delay", "200ms", "-H", "-N", "-e", "eth0", "-S", "10.0.0.9", "-6", "-c", "0", "h"});
  REQUIRE(o);
  CHECK(o->mode == CraftMode::icmp);
  CHECK(o->ttl == 9);
  CHECK(o->tos == 16);
  CHECK(*o->ip_id == 77);
  CHECK(o->dont_fragment);
  CHECK(o->payload.size() == 10);
  CHECK(o->interval_s == Approx(0.2));
  CHECK(o->hide_sent);
  CHECK(o->no_capture);
  CHECK(o->interface == "eth0");
  CHECK(o->source == "10.0.0.9");
  CHECK(o->family == AF_INET6);
  CHECK(o->count == 0);  // nping: run until Ctrl-C

  o = parse(parse_nping, {"--data-string", "hello", "--delay", "0.5", "h"});
  REQUIRE(o);
  CHECK(o->payload == std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
  CHECK(o->interval_s == Approx(0.5));
  o = parse(parse_nping, {"--data", "0xcafe", "--delay", "1s", "--hop-limit", "3", "h"});
  REQUIRE(o);
  CHECK(o->payload == std::vector<uint8_t>{0xca, 0xfe});
  CHECK(o->interval_s == 1);
  CHECK(o->ttl == 3);
  o = parse(parse_nping, {"--rate", "20", "h"});
  REQUIRE(o);
  CHECK(o->interval_s == Approx(0.05));
  o = parse(parse_nping, {"-q", "h"});
  REQUIRE(o);
  CHECK(o->quiet);
  o = parse(parse_nping, {"-q", "-v", "h"});  // levels add up: back to normal
  REQUIRE(o);
  CHECK_FALSE(o->quiet);
  o = parse(parse_nping, {"-v3", "h"});
  REQUIRE(o);
  CHECK(o->verbose == 3);

  o = parse(parse_nping, {"--tcp-connect", "-p", "22,80", "-c", "1", "h"});
  REQUIRE(o);
  CHECK(o->tcp_connect);
  CHECK(o->mode == CraftMode::tcp);
  CHECK(o->dst_ports == std::vector<uint16_t>{22, 80});
  o = parse(parse_nping, {"--tcp", "h"});
  REQUIRE(o);
  CHECK_FALSE(o->tcp_connect);

  bool help = false;
  auto h = parse_nping({"--help"}, help);
  CHECK(help);
}

TEST_CASE("nping: time values, port lists and flag order", "[netgen]") {
  CHECK(*parse_nping_time("delay", "1") == 1);
  CHECK(*parse_nping_time("delay", "0.5") == Approx(0.5));
  CHECK(*parse_nping_time("delay", "200ms") == Approx(0.2));
  CHECK(*parse_nping_time("delay", "1s") == 1);
  CHECK(*parse_nping_time("delay", "2m") == 120);
  CHECK(*parse_nping_time("delay", "0.25h") == 900);
  CHECK(*parse_nping_time("delay", "0") == 0);
  for (const char* bad : {"garbage", "", "ms", "1x", "-1", "1.5ss", "nan", "inf"}) {
    INFO(bad);
    auto r = parse_nping_time("delay", bad);
    REQUIRE_FALSE(r);
    CHECK(has(r.error().message(), "invalid delay"));
  }
  CHECK(*parse_port_list("80") == std::vector<uint16_t>{80});
  CHECK(*parse_port_list("0,65535") == std::vector<uint16_t>{0, 65535});
  CHECK(parse_port_list("1-1024")->size() == 1024);
  CHECK_FALSE(parse_port_list("70000"));
  CHECK_FALSE(parse_port_list("80,"));
  CHECK_FALSE(parse_port_list("90-80"));
  CHECK_FALSE(parse_port_list("http"));
  CHECK(nping_flags(tcpflag::syn | tcpflag::ack) == "SA");
  CHECK(nping_flags(tcpflag::rst | tcpflag::ack) == "RA");
  CHECK(nping_flags(tcpflag::psh | tcpflag::ack) == "PA");  // hping3 would say "AP"
  CHECK(nping_flags(0xff) == "FSRPAUEC");
  CHECK(nping_flags(0).empty());
}

TEST_CASE("nping: bad input is one clear line", "[netgen]") {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  for (const Case& c : std::vector<Case>{
           {{"--tcp", "--flags", "SZ", "h"}, "unknown flag letter 'Z'"},
           {{"--tcp", "--flags", "syn,bogus", "h"}, "bogus"},
           {{"--tcp", "-p", "70000", "h"}, "destination port 70000 out of range (0-65535)"},
           {{"--tcp", "-p", "80,70000", "h"}, "destination port 70000 out of range"},
           {{"--tcp", "-p", "90-80", "h"}, "invalid port range '90-80'"},
           {{"--tcp", "-p", "", "h"}, "empty port list"},
           {{"--delay", "garbage", "h"}, "invalid delay 'garbage'"},
           {{"--delay", "-1", "h"}, "invalid delay '-1'"},
           {{"--rate", "0", "h"}, "rate must be a positive number"},
           {{"-c", "many", "h"}, "invalid count 'many'"},
           {{"--ttl", "256", "h"}, "invalid TTL '256'"},
           {{"--tcp", "--udp", "h"}, "choose one of --tcp-connect, --tcp, --udp, --icmp"},
           {{"--tcp", "--tcp-connect", "h"}, "choose one of --tcp-connect, --tcp, --udp, --icmp"},
           {{"--tcp-connect", "--icmp", "h"}, "choose one of --tcp-connect, --tcp, --udp, --icmp"},
           {{"--arp", "h"}, "--arp is not supported"},
           {{"--raw", "h"}, "unknown option '--raw' (see nping --help)"},
           {{"--badsum", "h"}, "unknown option '--badsum' (see nping --help)"},
           {{"--tcp"}, "no target given"},
           {{"a", "b"}, "one target at a time"},
           {{"-e"}, "option -e needs a value"},
       }) {
    auto o = parse(parse_nping, c.args);
    INFO(c.args[0] << " " << (c.args.size() > 1 ? c.args[1] : ""));
    REQUIRE_FALSE(o);
    CHECK(has(o.error().message(), c.err));
    CHECK(o.error().message().find('\n') == std::string::npos);
  }
}

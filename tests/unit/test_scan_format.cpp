// scan applet: state/reason classification of replies and nmap's output shapes.
#include <catch2/catch.hpp>

#include <cerrno>

#include "applets/scan/scan.h"
#include "netshoot/packet.h"

using namespace netshoot::applet::scan;
using netshoot::core::IpAddr;
using netshoot::core::L4Proto;
namespace tcpflag = netshoot::core::tcpflag;

TEST_CASE("scan classify: TCP replies to a SYN", "[scan]") {
  auto c = classify_tcp_flags(tcpflag::syn | tcpflag::ack);
  REQUIRE(c);
  CHECK(c->first == PortState::open);
  CHECK(c->second == Reason::syn_ack);
  c = classify_tcp_flags(tcpflag::rst | tcpflag::ack);
  REQUIRE(c);
  CHECK(c->first == PortState::closed);
  CHECK(c->second == Reason::reset);
  CHECK(!classify_tcp_flags(tcpflag::ack));
}

TEST_CASE("scan classify: ICMP unreachables", "[scan]") {
  using netshoot::core::icmp4::dest_unreach;
  auto [s1, r1] = classify_icmp(false, dest_unreach, 13, L4Proto::tcp);
  CHECK(s1 == PortState::filtered);
  CHECK(std::string(reason_name(r1)) == "admin-prohibited");
  auto [s2, r2] = classify_icmp(false, dest_unreach, 3, L4Proto::tcp);
  CHECK(s2 == PortState::filtered);
  CHECK(r2 == Reason::port_unreach);
  auto [s3, r3] = classify_icmp(false, dest_unreach, 3, L4Proto::udp);
  CHECK(s3 == PortState::closed);
  CHECK(r3 == Reason::port_unreach);
  auto [s4, r4] = classify_icmp(false, dest_unreach, 1, L4Proto::tcp);
  CHECK(s4 == PortState::filtered);
  CHECK(std::string(reason_name(r4)) == "host-unreach");
  auto [s5, r5] = classify_icmp(true, netshoot::core::icmp6::dest_unreach, 1, L4Proto::tcp);
  CHECK(s5 == PortState::filtered);
  CHECK(r5 == Reason::admin_prohibited);
  auto [s6, r6] = classify_icmp(true, netshoot::core::icmp6::dest_unreach, 4, L4Proto::udp);
  CHECK(s6 == PortState::closed);
  CHECK(r6 == Reason::port_unreach);
}

TEST_CASE("scan classify: connect() and silence", "[scan]") {
  CHECK(classify_connect(0) == std::pair{PortState::open, Reason::syn_ack});
  CHECK(classify_connect(ECONNREFUSED) == std::pair{PortState::closed, Reason::conn_refused});
  CHECK(classify_connect(EHOSTUNREACH) == std::pair{PortState::filtered, Reason::host_unreach});
  CHECK(no_response_state(Technique::syn) == std::pair{PortState::filtered, Reason::no_response});
  CHECK(no_response_state(Technique::udp) == std::pair{PortState::open_filtered, Reason::no_response});
  CHECK(std::string(state_name(PortState::open_filtered)) == "open|filtered");
}

TEST_CASE("scan format: latency and elapsed like nmap", "[scan]") {
  CHECK(format_latency(0.000028) == "0.000028s");
  CHECK(format_latency(0.000005) == "0.0000050s");
  CHECK(format_latency(0.00012) == "0.00012s");
  CHECK(format_latency(0.52) == "0.52s");
  CHECK(format_elapsed(2.304) == "2.30");
}

namespace {
HostResult host_with(size_t closed) {
  HostResult h;
  h.addr = IpAddr::v4(10, 0, 0, 2);
  h.up = true;
  h.latency_s = 0.00012;
  h.ports.push_back({22, L4Proto::tcp, PortState::open, Reason::syn_ack, 64});
  h.ports.push_back({23, L4Proto::tcp, PortState::filtered, Reason::no_response, -1});
  h.ports.push_back({6379, L4Proto::tcp, PortState::filtered, Reason::admin_prohibited, 64});
  for (size_t i = 0; i < closed; ++i)
    h.ports.push_back({uint16_t(30000 + i), L4Proto::tcp, PortState::closed, Reason::reset, 64});
  return h;
}
}  // namespace

TEST_CASE("scan format: Not shown line and table", "[scan]") {
  Options o;
  auto t = format_host(host_with(65532), o);
  CHECK(t ==
        "Nmap scan report for 10.0.0.2\n"
        "Host is up (0.00012s latency).\n"
        "Not shown: 65532 closed tcp ports (reset)\n"
        "PORT     STATE    SERVICE\n"
        "22/tcp   open     ssh\n"
        "23/tcp   filtered telnet\n"
        "6379/tcp filtered redis");
  o.reason = true;
  t = format_host(host_with(0), o);
  CHECK(t ==
        "Nmap scan report for 10.0.0.2\n"
        "Host is up (0.00012s latency).\n"
        "\n"
        "PORT     STATE    SERVICE REASON\n"
        "22/tcp   open     ssh     syn-ack ttl 64\n"
        "23/tcp   filtered telnet  no-response\n"
        "6379/tcp filtered redis   admin-prohibited ttl 64");
  HostResult g = host_with(0);
  g.rdns = "redis.example";
  std::string gl = format_grepable(g, o);
  CHECK(gl == "Host: 10.0.0.2 (redis.example)\tStatus: Up\n"
              "Host: 10.0.0.2 (redis.example)\tPorts: 22/open/tcp//ssh///, 23/filtered/tcp//telnet///, "
              "6379/filtered/tcp//redis///\n");
  HostResult all = host_with(0);
  all.ports.clear();
  for (uint16_t p = 1; p <= 100; ++p) all.ports.push_back({p, L4Proto::tcp, PortState::closed, Reason::reset, 64});
  CHECK(format_host(all, Options{}) ==
        "Nmap scan report for 10.0.0.2\n"
        "Host is up (0.00012s latency).\n"
        "All 100 scanned ports on 10.0.0.2 are in ignored states.\n"
        "Not shown: 100 closed tcp ports (reset)");
}

TEST_CASE("scan format: progress lines and timed-out hosts in nmap's shape", "[scan]") {
  CHECK(format_clock(0) == "0:00:00");
  CHECK(format_clock(6.4) == "0:00:06");
  CHECK(format_clock(372) == "0:06:12");
  CHECK(format_clock(3 * 3600 + 61) == "3:01:01");
  time_t now = 1700000000;  // ETC = now + remaining, local time
  std::string l = format_timing_line("SYN Stealth Scan", 0.452, 5, now);
  char hm[16];
  time_t etc = now + 6;
  std::strftime(hm, sizeof hm, "%H:%M", localtime(&etc));
  CHECK(l == std::string("SYN Stealth Scan Timing: About 45.20% done; ETC: ") + hm + " (0:00:06 remaining)");
  CHECK(format_timing_line("UDP Scan", 0, 0, now) == "UDP Scan Timing: About 0.00% done");

  Options o;
  HostResult h;
  h.addr = IpAddr::parse("10.0.0.2").value();
  h.up = true;
  h.latency_s = 0.000029;
  h.timed_out = true;
  CHECK(format_host(h, o) == "Nmap scan report for 10.0.0.2\nHost is up (0.000029s latency).\n"
                             "Skipping host 10.0.0.2 due to host timeout");
  CHECK(format_grepable(h, o) == "Host: 10.0.0.2 ()\tStatus: Up\nHost: 10.0.0.2 ()\tStatus: Timeout\n");
  h.timed_out = false;
  h.mac = {0x8e, 0x8f, 0x2e, 0xf9, 0x57, 0x38};
  h.up_reason = Reason::arp_response;
  o.technique = Technique::ping_only;
  o.reason = true;
  CHECK(format_host(h, o) == "Nmap scan report for 10.0.0.2\nHost is up, received arp-response (0.000029s latency).\n"
                             "MAC Address: 8E:8F:2E:F9:57:38 (Unknown)");
}

// capture without -n: host names (hosts file, then PTR through the project resolver,
// cached, bounded when DNS does not answer), port, protocol and MAC names, and the
// printer using them the way tcpdump does.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "applets/capture/names.h"
#include "applets/capture/printer.h"
#include "netshoot/dns.h"
#include "netshoot/packet.h"

using namespace netshoot::applet::capture;
using namespace netshoot::core;

namespace {

std::string temp_file(const std::string& text) {
  char path[] = "/tmp/capture-names.XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == ssize_t(text.size()));
  ::close(fd);
  return path;
}

// A loopback UDP DNS server answering PTR queries from a table (others: NXDOMAIN),
// or staying silent when `silent`. Counts the queries it got.
class FakeDns {
 public:
  FakeDns(std::vector<std::pair<std::string, std::string>> ptr, bool silent) : ptr_(std::move(ptr)), silent_(silent) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    timeval tv{0, 50000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { loop(); });
  }
  ~FakeDns() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  uint16_t port() const { return port_; }
  int queries() const { return queries_; }

 private:
  void loop() {
    uint8_t buf[1500];
    while (!stop_) {
      sockaddr_in from{};
      socklen_t fl = sizeof from;
      ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n <= 0) continue;
      ++queries_;
      if (silent_) continue;
      auto q = dns::parse_message({buf, size_t(n)});
      if (!q || q->questions.empty()) continue;
      dns::Message r;
      r.header = q->header;
      r.header.qr = true, r.header.ra = true;
      r.questions = q->questions;
      r.header.rcode = dns::rcode::NXDOMAIN;
      std::string qn = q->questions[0].name;
      if (!qn.empty() && qn.back() == '.') qn.pop_back();
      for (auto& [rev, target] : ptr_) {
        if (rev != qn) continue;
        dns::ResourceRecord rr;
        rr.name = q->questions[0].name, rr.type = dns::type::PTR, rr.ttl = 60;
        rr.data = dns::RdataName{target};
        r.answers.push_back(rr);
        r.header.rcode = dns::rcode::NOERROR;
      }
      auto wire = dns::build_message(r);
      if (wire) ::sendto(fd_, wire->data(), wire->size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
    }
  }
  std::vector<std::pair<std::string, std::string>> ptr_;
  bool silent_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> queries_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

HostNames::Config config(const std::string& hosts, uint16_t dns_port) {
  HostNames::Config c;
  c.hosts_path = hosts;
  dns::ResolvConf rc;
  rc.nameservers.push_back(dns::NameServer{IpAddr::v4(127, 0, 0, 1), dns_port});
  c.resolv_conf = rc;
  c.timeout_ms = 200;
  return c;
}

const uint8_t k1[4] = {10, 9, 0, 1}, k2[4] = {10, 9, 0, 2}, k3[4] = {10, 9, 0, 3};

}  // namespace

TEST_CASE("capture names: services, protocols and ethers files", "[capture]") {
  std::unordered_map<uint32_t, std::string> svc;
  parse_services("# comment\nhttp\t80/tcp www # WorldWideWeb\nhttp 80/udp\nalt 80/tcp\n"
                 "domain 53/udp\nbogus 99999/tcp\nsctpish 9/sctp\n  \n", svc);
  CHECK(svc.at(80) == "http");  // the first name of a port wins
  CHECK(svc.at(0x10000 | 80) == "http");
  CHECK(svc.at(0x10000 | 53) == "domain");
  CHECK(svc.count(53) == 0);
  CHECK(svc.size() == 3);
  std::unordered_map<uint32_t, std::string> proto;
  parse_protocols("ip 0 IP\nicmp 1 ICMP # internet control\ntcp\t6 TCP\nbad 300 X\n", proto);
  CHECK(proto.at(1) == "icmp");
  CHECK(proto.at(6) == "tcp");
  CHECK(proto.size() == 3);
  std::unordered_map<uint64_t, std::string> eth;
  parse_ethers("02:00:00:00:00:01 router\n2:0:0:0:0:a  box # short form\nzz:00:00:00:00:01 bad\n", eth);
  CHECK(eth.at(0x020000000001ULL) == "router");
  CHECK(eth.at(0x02000000000aULL) == "box");
  CHECK(eth.size() == 2);
  const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  CHECK(mac_name(bcast) == "Broadcast");
}

TEST_CASE("capture names: hosts file first, then PTR, each cached", "[capture]") {
  std::string hosts = temp_file("10.9.0.1 one.test one\n10.9.0.1 other.test\nfd00::9 six.test\n");
  FakeDns dns({{"2.0.9.10.in-addr.arpa", "two.dns.test"}}, false);
  HostNames names(config(hosts, dns.port()));
  CHECK(names.name(k1, 4) == "one.test");  // first line for the address, DNS not asked
  CHECK(dns.queries() == 0);
  CHECK(names.name(k2, 4) == "two.dns.test");
  CHECK(names.name(k3, 4) == "10.9.0.3");  // NXDOMAIN: numeric
  int asked = dns.queries();
  CHECK(asked == 2);
  CHECK(names.name(k2, 4) == "two.dns.test");
  CHECK(names.name(k3, 4) == "10.9.0.3");
  CHECK(dns.queries() == asked);  // both answers cached, the negative one too
  auto six = IpAddr::try_parse("fd00::9");
  CHECK(names.name(six->data(), 6) == "six.test");
  HostNames::Config c = config(hosts, dns.port());
  c.strip_domain = true;  // -N
  HostNames shortn(c);
  CHECK(shortn.name(k1, 4) == "one");
  CHECK(shortn.name(k2, 4) == "two");
  CHECK(shortn.name(k3, 4) == "10.9.0.3");
  std::remove(hosts.c_str());
}

TEST_CASE("capture names: a silent DNS server costs a bounded time, then is no longer asked", "[capture]") {
  std::string hosts = temp_file("10.9.0.1 one.test\n");
  FakeDns dns({}, true);
  HostNames::Config c = config(hosts, dns.port());
  HostNames names(c);
  auto t0 = std::chrono::steady_clock::now();
  for (uint8_t i = 2; i < 50; ++i) {
    const uint8_t a[4] = {10, 9, 1, i};
    CHECK(names.name(a, 4) == "10.9.1." + std::to_string(i));
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  CHECK(names.dns_queries() == size_t(c.max_dns_failures));
  CHECK_FALSE(names.dns_enabled());
  CHECK(ms < (c.max_dns_failures + 2) * c.timeout_ms);
  CHECK(names.name(k1, 4) == "one.test");  // the hosts file still answers
  std::remove(hosts.c_str());
}

TEST_CASE("capture names: the printer without -n", "[capture]") {
  std::string hosts = temp_file("10.9.0.1 one.test\n10.9.0.2 two.test\n");
  HostNames::Config c;
  c.hosts_path = hosts;
  c.dns = false;
  HostNames names(c);
  PrintOptions o;
  o.hosts = &names;
  uint8_t out[256];
  IpFields ip;
  ip.src = IpAddr::v4(10, 9, 0, 1), ip.dst = IpAddr::v4(10, 9, 0, 3);
  TcpFields t;
  t.src_port = 40000, t.dst_port = 80, t.flags = tcpflag::syn, t.seq = 1, t.window = 100;
  size_t n = build_tcp_packet(out, ip, t, {});
  std::vector<uint8_t> f = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1, 0x08, 0x00};
  f.insert(f.end(), out, out + n);
  Buf b;
  Printer p(o, DLT_EN10MB);
  p.decode_only(f.data(), uint32_t(f.size()), uint32_t(f.size()), b);
  CHECK(std::string(b.view()) == "IP one.test.40000 > 10.9.0.3." + std::string(port_name(80, false).empty() ? "80" : port_name(80, false)) +
                                     ": Flags [S], seq 1, win 100, length 0");
  // -e: MACs with tcpdump's OUI note, the broadcast address by name.
  o.link_header = true;
  Printer pe(o, DLT_EN10MB);
  b.clear();
  pe.decode_only(f.data(), uint32_t(f.size()), uint32_t(f.size()), b);
  CHECK(std::string(b.view()).starts_with("00:00:00:00:00:01 (oui Ethernet) > Broadcast, ethertype IPv4 (0x0800), length 54: one.test.40000 > "));
  // -n: numbers, the names are not consulted.
  o.link_header = false;
  o.numeric = 1;
  Printer pn(o, DLT_EN10MB);
  b.clear();
  pn.decode_only(f.data(), uint32_t(f.size()), uint32_t(f.size()), b);
  CHECK(std::string(b.view()) == "IP 10.9.0.1.40000 > 10.9.0.3.80: Flags [S], seq 1, win 100, length 0");
  std::remove(hosts.c_str());
}

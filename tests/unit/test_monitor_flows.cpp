// monitor flows / iftop: the per-pair accounting (directions, slots, averages, peaks,
// expiry), iftop's number format and -t layout, the JSON form, the options and the
// live view's frame.
#include <pcap/dlt.h>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>
#include <string>
#include <vector>

#include "applets/monitor/flows_names.h"
#include "applets/monitor/flows_options.h"
#include "applets/monitor/flows_report.h"
#include "applets/monitor/flows_screen.h"
#include "applets/monitor/flows_table.h"

using namespace netshoot::applet::monitor::flows;

namespace {

const uint8_t kOurMac[6] = {0x02, 0, 0, 0, 0, 1};
const uint8_t kPeerMac[6] = {0x02, 0, 0, 0, 0, 2};
const uint8_t kOtherMac[6] = {0x02, 0, 0, 0, 0, 3};

std::vector<uint8_t> ip4(const std::string& src, const std::string& dst, uint16_t total_len, uint8_t proto = 17,
                         uint16_t sport = 1000, uint16_t dport = 2000) {
  std::vector<uint8_t> p(28, 0);
  p[0] = 0x45;
  p[2] = uint8_t(total_len >> 8), p[3] = uint8_t(total_len);
  p[8] = 64, p[9] = proto;
  auto s = netshoot::core::IpAddr::try_parse(src), d = netshoot::core::IpAddr::try_parse(dst);
  std::memcpy(&p[12], s->data(), 4), std::memcpy(&p[16], d->data(), 4);
  p[20] = uint8_t(sport >> 8), p[21] = uint8_t(sport), p[22] = uint8_t(dport >> 8), p[23] = uint8_t(dport);
  return p;
}

std::vector<uint8_t> ip6(const std::string& src, const std::string& dst, uint16_t payload_len, uint8_t nh = 6,
                         uint16_t sport = 443, uint16_t dport = 50000) {
  std::vector<uint8_t> p(48, 0);
  p[0] = 0x60;
  p[4] = uint8_t(payload_len >> 8), p[5] = uint8_t(payload_len);
  p[6] = nh, p[7] = 64;
  auto s = netshoot::core::IpAddr::try_parse(src), d = netshoot::core::IpAddr::try_parse(dst);
  std::memcpy(&p[8], s->data(), 16), std::memcpy(&p[24], d->data(), 16);
  p[40] = uint8_t(sport >> 8), p[41] = uint8_t(sport), p[42] = uint8_t(dport >> 8), p[43] = uint8_t(dport);
  return p;
}

std::vector<uint8_t> eth(const uint8_t* src, const uint8_t* dst, const std::vector<uint8_t>& ip) {
  std::vector<uint8_t> f(dst, dst + 6);
  f.insert(f.end(), src, src + 6);
  bool v6 = (ip[0] >> 4) == 6;
  f.push_back(v6 ? 0x86 : 0x08), f.push_back(v6 ? 0xdd : 0x00);
  f.insert(f.end(), ip.begin(), ip.end());
  return f;
}

LocalAddrs ours() {
  LocalAddrs l;
  std::array<uint8_t, 6> m;
  std::memcpy(m.data(), kOurMac, 6);
  l.mac = m;
  l.v4.push_back({10, 0, 0, 1});
  return l;
}

Labels numeric() {
  Labels l;
  l.host = [](const netshoot::core::IpAddr& a) { return a.to_string(); };
  return l;
}

}  // namespace

TEST_CASE("flows: iftop's readable sizes", "[monitor_flows]") {
  CHECK(readable_size(0, false) == "    0b");
  CHECK(readable_size(0, true) == "    0B");
  CHECK(readable_size(74, false) == "  592b");   // 592 bits
  CHECK(readable_size(148, true) == "  148B");
  CHECK(readable_size(125, false) == " 0.98Kb");  // 1000 bits: past 999 the next unit
  CHECK(readable_size(20.0 * 1024 * 1024 / 8, false) == " 20.0Mb");
  CHECK(readable_size(13.2 * 1024 * 1024, true) == " 13.2MB");
  CHECK(readable_size(512.0 * 1024 * 1024 / 8, false) == "  512Mb");
  CHECK(readable_size(3.0 * 1024 * 1024 * 1024 * 1024, true) == " 3072GB");
}

TEST_CASE("flows: the direction comes from the interface's MAC, then its addresses", "[monitor_flows]") {
  FlowTable t(ours(), DLT_EN10MB);
  auto out = eth(kOurMac, kPeerMac, ip4("10.0.0.1", "10.0.0.2", 1000));
  auto in = eth(kPeerMac, kOurMac, ip4("10.0.0.2", "10.0.0.1", 100));
  REQUIRE(t.add_frame(out.data(), out.size()));
  REQUIRE(t.add_frame(in.data(), in.size()));
  Report r = t.analyse({});
  REQUIRE(r.lines.size() == 1);
  CHECK(key_addr(r.lines[0].key, true).to_string() == "10.0.0.1");
  CHECK(key_addr(r.lines[0].key, false).to_string() == "10.0.0.2");
  CHECK(r.lines[0].total_sent == 1000);
  CHECK(r.lines[0].total_recv == 100);
  CHECK(r.cum_sent == 1000);
  CHECK(r.cum_recv == 100);
  CHECK(r.lines[0].sent[0] == Approx(500.0));  // bytes per second over one 2 s slot
  CHECK(r.lines[0].recv[0] == Approx(50.0));

  SECTION("without link-layer direction the interface's address decides") {
    FlowTable raw(ours(), DLT_RAW);
    auto o = ip4("10.0.0.1", "10.0.0.9", 400), i = ip4("10.0.0.9", "10.0.0.1", 40);
    REQUIRE(raw.add_frame(o.data(), o.size()));
    REQUIRE(raw.add_frame(i.data(), i.size()));
    Report rr = raw.analyse({});
    REQUIRE(rr.lines.size() == 1);
    CHECK(key_addr(rr.lines[0].key, true).to_string() == "10.0.0.1");
    CHECK(rr.cum_sent == 400);
    CHECK(rr.cum_recv == 40);
  }
  SECTION("traffic between two other hosts counts as received") {
    auto f = eth(kPeerMac, kOtherMac, ip4("10.0.0.7", "10.0.0.8", 300));
    FlowTable o(ours(), DLT_EN10MB);
    REQUIRE(o.add_frame(f.data(), f.size()));
    Report ro = o.analyse({});
    CHECK(ro.cum_recv == 300);
    CHECK(ro.cum_sent == 0);
  }
  SECTION("broadcasts come in") {
    const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    auto f = eth(kPeerMac, bcast, ip4("10.0.0.2", "10.0.0.255", 60));
    FlowTable o(ours(), DLT_EN10MB);
    REQUIRE(o.add_frame(f.data(), f.size()));
    Report ro = o.analyse({});
    REQUIRE(ro.lines.size() == 1);
    CHECK(key_addr(ro.lines[0].key, true).to_string() == "10.0.0.255");
    CHECK(ro.lines[0].total_recv == 60);
  }
  SECTION("cooked captures use the kernel's packet type") {
    FlowTable o(LocalAddrs{}, DLT_LINUX_SLL2);
    std::vector<uint8_t> f(20, 0);
    f[0] = 0x08, f[1] = 0x00, f[10] = 4;  // outgoing
    auto ip = ip4("192.0.2.1", "192.0.2.2", 80);
    f.insert(f.end(), ip.begin(), ip.end());
    REQUIRE(o.add_frame(f.data(), f.size()));
    CHECK(o.analyse({}).cum_sent == 80);
  }
}

TEST_CASE("flows: 2 s, 10 s and 40 s averages, peak and expiry", "[monitor_flows]") {
  FlowTable t(ours(), DLT_EN10MB);
  auto add = [&](uint16_t len, int times) {
    auto f = eth(kOurMac, kPeerMac, ip4("10.0.0.1", "10.0.0.2", len));
    for (int i = 0; i < times; ++i) REQUIRE(t.add_frame(f.data(), f.size()));
  };
  add(1000, 4);  // slot 1: 4000 bytes
  t.rotate();
  add(1000, 2);  // slot 2: 2000 bytes
  Report r = t.analyse({});
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0].sent[0] == Approx(1000.0));  // 2000 B / 2 s
  CHECK(r.lines[0].sent[1] == Approx(1500.0));  // 6000 B over the 4 s seen so far
  CHECK(r.lines[0].sent[2] == Approx(1500.0));
  CHECK(r.peak_sent == Approx(2000.0));
  CHECK(r.sent[1] == Approx(1500.0));
  for (int i = 0; i < 6; ++i) t.rotate();  // 8 slots so far: the 10 s column holds the last 5
  r = t.analyse({});
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0].sent[0] == 0);
  CHECK(r.lines[0].sent[1] == 0);
  CHECK(r.lines[0].sent[2] == Approx(6000.0 / 16));
  CHECK(r.lines[0].total_sent == 6000);
  for (int i = 0; i < kHistoryLength; ++i) t.rotate();
  r = t.analyse({});
  CHECK(r.lines.empty());  // nothing for 40 s: the pair is gone
  CHECK(r.cum_sent == 6000);  // the totals stay
  CHECK(r.peak_sent == 0);    // the peak is the best slot of the last 40 s
}

TEST_CASE("flows: port pairs with -P, aggregated without", "[monitor_flows]") {
  FlowTable t(ours(), DLT_EN10MB);
  auto a = eth(kOurMac, kPeerMac, ip4("10.0.0.1", "10.0.0.2", 100, 6, 40000, 80));
  auto b = eth(kOurMac, kPeerMac, ip4("10.0.0.1", "10.0.0.2", 300, 6, 40001, 443));
  auto c = eth(kOurMac, kPeerMac, ip4("10.0.0.1", "10.0.0.3", 50, 1, 0, 0));
  for (auto* f : {&a, &b, &c}) REQUIRE(t.add_frame(f->data(), f->size()));
  Report hosts = t.analyse({});
  REQUIRE(hosts.lines.size() == 2);
  CHECK(hosts.lines[0].total_sent == 400);  // the busiest pair first
  CHECK(hosts.lines[0].key.src_port == 0);
  ReportOptions po;
  po.ports = true;
  Report ports = t.analyse(po);
  REQUIRE(ports.lines.size() == 3);
  CHECK(ports.lines[0].key.dst_port == 443);
  CHECK(ports.lines[1].key.dst_port == 80);
  CHECK(ports.lines[1].key.src_port == 40000);
  po.sort = SortBy::destination;
  Report by_dst = t.analyse(po);
  CHECK(key_addr(by_dst.lines.back().key, false).to_string() == "10.0.0.3");
}

TEST_CASE("flows: IPv6, extension headers and link-local traffic", "[monitor_flows]") {
  LocalAddrs l;
  auto me = netshoot::core::IpAddr::try_parse("2001:db8::1");
  std::array<uint8_t, 16> a;
  std::memcpy(a.data(), me->data(), 16);
  l.v6.push_back(a);
  FlowTable t(l, DLT_RAW);
  auto p = ip6("2001:db8::2", "2001:db8::1", 1000);  // in: 1040 bytes counted
  REQUIRE(t.add_frame(p.data(), p.size()));
  // Hop-by-hop options header in front of TCP.
  std::vector<uint8_t> q = ip6("2001:db8::1", "2001:db8::2", 200, 0);
  std::vector<uint8_t> hbh = {6, 0, 1, 4, 0, 0, 0, 0};
  q.insert(q.begin() + 40, hbh.begin(), hbh.end());
  q[48] = 0xc3, q[49] = 0x50, q[50] = 0x01, q[51] = 0xbb;  // 50000 -> 443
  REQUIRE(t.add_frame(q.data(), q.size()));
  ReportOptions po;
  po.ports = true;
  Report r = t.analyse(po);
  REQUIRE(r.lines.size() == 1);
  CHECK(r.lines[0].key.src_port == 50000);
  CHECK(r.lines[0].key.dst_port == 443);
  CHECK(r.cum_recv == 1040);
  CHECK(r.cum_sent == 240);
  auto ll = ip6("fe80::1", "2001:db8::1", 10);
  CHECK_FALSE(t.add_frame(ll.data(), ll.size()));
  t.set_count_link_local(true);
  CHECK(t.add_frame(ll.data(), ll.size()));
  std::vector<uint8_t> junk = {0x45, 0, 0};
  CHECK_FALSE(t.add_frame(junk.data(), junk.size()));
}

TEST_CASE("flows: the -t report has iftop 1.0's layout", "[monitor_flows]") {
  FlowTable t(ours(), DLT_EN10MB);
  auto out = eth(kOurMac, kPeerMac, ip4("10.0.0.1", "10.0.0.2", 1476));
  for (int i = 0; i < 1000; ++i) REQUIRE(t.add_frame(out.data(), out.size()));
  Report r = t.analyse({});
  std::string text = text_report(r, numeric(), {});
  std::string expect =
      "   # Host name (port/service if enabled)            last 2s   last 10s   last 40s cumulative\n"
      "--------------------------------------------------------------------------------------------\n"
      "   1 10.0.0.1                                 =>     5.63Mb     5.63Mb     5.63Mb     1.41MB\n"
      "     10.0.0.2                                 <=         0b         0b         0b         0B\n"
      "--------------------------------------------------------------------------------------------\n"
      "Total send rate:                                     5.63Mb     5.63Mb     5.63Mb\n"
      "Total receive rate:                                      0b         0b         0b\n"
      "Total send and receive rate:                         5.63Mb     5.63Mb     5.63Mb\n"
      "--------------------------------------------------------------------------------------------\n"
      "Peak rate (sent/received/total):                     5.63Mb         0b     5.63Mb\n"
      "Cumulative (sent/received/total):                    1.41MB         0B     1.41MB\n"
      "============================================================================================\n"
      "\n";
  CHECK(text == expect);
  TextOptions limited;
  limited.max_lines = 1;
  auto more = eth(kOurMac, kPeerMac, ip4("10.0.0.1", "10.0.0.3", 60));
  REQUIRE(t.add_frame(more.data(), more.size()));
  std::string one = text_report(t.analyse({}), numeric(), limited);
  CHECK(one.find("10.0.0.3") == std::string::npos);

  SECTION("JSON: bits per second, bytes, numeric addresses") {
    auto j = json_report(r, numeric(), false, false, 0);
    REQUIRE(j["flows"].size() == 1);
    CHECK(j["flows"][0]["src"] == "10.0.0.1");
    CHECK(j["flows"][0]["dst"] == "10.0.0.2");
    CHECK(j["flows"][0]["sent_bytes"] == 1476000);
    CHECK(j["flows"][0]["sent_bps"]["2s"].get<double>() == Approx(1476000.0 * 8 / 2));
    CHECK(j["totals"]["total_bps"]["10s"].get<double>() == Approx(1476000.0 * 8 / 2));
    CHECK(j["cumulative_bytes"]["total"] == 1476000);
    CHECK(j["peak_bps"]["sent"].get<double>() == Approx(1476000.0 * 8 / 2));
  }
}

TEST_CASE("flows: host columns with ports, as iftop pads and truncates them", "[monitor_flows]") {
  CHECK(host_column("10.0.0.1", 0, "", false, 40) == std::string("10.0.0.1") + std::string(32, ' '));
  CHECK(host_column("10.0.0.1", 443, "https", false, 40).substr(0, 16) == "10.0.0.1:https  ");
  CHECK(host_column("2001:db8::1", 443, "", true, 40).substr(0, 18) == "[2001:db8::1]:443 ");
  std::string longname(60, 'x');
  std::string col = host_column(longname, 80, "http", false, 40);
  CHECK(col.size() == 40);
  CHECK(col.substr(35) == ":http");
}

TEST_CASE("flows: command line", "[monitor_flows]") {
  auto parse = [](std::vector<std::string> args, FlowOptions& o) {
    std::vector<char*> argv;
    static std::vector<std::string> keep;
    keep = std::move(args);
    for (auto& a : keep) argv.push_back(a.data());
    return parse_flow_args(int(argv.size()), argv.data(), o);
  };
  FlowOptions o;
  REQUIRE(parse({"iftop", "-nNP", "-ieth0", "-t", "-s", "5", "-f", "tcp port 80", "-o", "2s", "--json"}, o).ok);
  CHECK(o.numeric);
  CHECK(o.no_services);
  CHECK(o.ports);
  CHECK(o.iface == "eth0");
  CHECK(o.text);
  CHECK(o.seconds == 5);
  CHECK(o.filter == "tcp port 80");
  CHECK(o.sort == SortBy::two);
  CHECK(o.json);
  FlowOptions bad;
  auto e = parse({"iftop", "-s", "0"}, bad);
  CHECK_FALSE(e.ok);
  CHECK(e.error.find("positive") != std::string::npos);
  CHECK_FALSE(parse({"iftop", "-s", "x"}, bad).ok);
  CHECK_FALSE(parse({"iftop", "-i"}, bad).ok);
  CHECK_FALSE(parse({"iftop", "-o", "5s"}, bad).ok);
  CHECK_FALSE(parse({"iftop", "-Z"}, bad).ok);
  CHECK_FALSE(parse({"iftop", "stray"}, bad).ok);
}

TEST_CASE("flows: the live view's frame fits the terminal", "[monitor_flows]") {
  FlowTable t(ours(), DLT_EN10MB);
  for (int k = 2; k < 40; ++k) {
    auto f = eth(kOurMac, kPeerMac, ip4("10.0.0.1", "10.0.0." + std::to_string(k), uint16_t(100 * k)));
    REQUIRE(t.add_frame(f.data(), f.size()));
  }
  ScreenOptions so;
  so.iface = "eth0";
  std::string frame = render_screen(t.analyse({}), numeric(), so, 20, 100);
  CHECK(frame.rfind("\x1b[H", 0) == 0);
  size_t rows = 1;
  for (char c : frame) rows += c == '\n';
  CHECK(rows == 20);
  CHECK(frame.find("10.0.0.39") != std::string::npos);  // the busiest pair is shown
  CHECK(frame.find("10.0.0.2 ") == std::string::npos);  // the quietest is not, no room
  CHECK(frame.find("TOTAL:") != std::string::npos);
}

TEST_CASE("flows: names come from a worker thread, the address until then", "[monitor_flows]") {
  char path[] = "/tmp/flows-hosts.XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << "10.9.9.9 db.example.com db\n";
  AsyncNames::Config c;
  c.hosts_path = path;
  c.dns = false;
  AsyncNames names(c);
  auto a = *netshoot::core::IpAddr::try_parse("10.9.9.9");
  auto b = *netshoot::core::IpAddr::try_parse("10.9.9.10");
  std::string first = names.name(a);
  CHECK((first == "10.9.9.9" || first == "db.example.com"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (names.name(a) != "db.example.com" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(names.name(a) == "db.example.com");
  names.name(b);
  while (names.pending() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(names.name(b) == "10.9.9.10");  // no name anywhere: the address
  unlink(path);
}

// perf / iperf3, what goes beyond iperf3 3.12: one server running several tests at
// once (real iperf3 clients and ours, TCP and UDP), a client killed with SIGKILL
// while another test runs, -1 still a single test; CPU utilization exchanged both
// ways with the real iperf3 (-J and -V); --json-stream parsed line by line.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace netshoot::test;
using Json = nlohmann::json;

namespace {

bool has(const std::string& s, const std::string& n) { return s.find(n) != std::string::npos; }

struct MultiPair {
  std::string cn = unique_name("pmc"), sn = unique_name("pms");
  Netns c{cn}, s{sn};
  MultiPair() {
    veth_link(c, "pmc0", "10.235.7.1/24", s, "pms0", "10.235.7.2/24");
    REQUIRE(wait_until([&] { return c.exec({"ping", "-c1", "-W1", "10.235.7.2"}).exit == 0; }));
  }
  bool listening(int port) {
    return has(s.exec({"ss", "-Hltn", "sport = :" + std::to_string(port)}).out, std::to_string(port));
  }
  RunResult client(bool ours, const std::vector<std::string>& args, int timeout_ms = 40000) {
    std::vector<std::string> argv;
    if (ours) argv = {netshoot_bin(), "iperf3"};
    else argv = {"iperf3"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.timeout_ms = timeout_ms;
    return c.exec(argv, o);
  }
};

Json parse_json(const RunResult& r) {
  INFO(describe(r));
  Json j = Json::parse(r.out, nullptr, false);
  REQUIRE(!j.is_discarded());
  return j;
}

double received(const Json& j) { return j["end"]["sum_received"]["bytes"].get<double>(); }

double ncpu() { return double(::sysconf(_SC_NPROCESSORS_ONLN)); }

void check_cpu(const Json& cpu, bool remote_known) {
  for (const char* k : {"host_total", "host_user", "host_system", "remote_total", "remote_user", "remote_system"}) {
    INFO(k << " in " << cpu.dump());
    REQUIRE(cpu.contains(k));
    double v = cpu[k].get<double>();
    CHECK(v >= 0);
    CHECK(v <= 100 * ncpu() + 1);
  }
  CHECK(cpu["host_total"].get<double>() > 0);
  if (remote_known) CHECK(cpu["remote_total"].get<double>() > 0);
  CHECK(std::abs(cpu["host_total"].get<double>() - cpu["host_user"].get<double>() -
                 cpu["host_system"].get<double>()) < 0.5);
}

}  // namespace

TEST_CASE("perf: one server runs several tests at once (real iperf3 clients and ours)", "[perf][perf-multi][integration]") {
  MultiPair p;
  Background srv({netshoot_bin(), "iperf3", "-s", "-p", "5351"}, p.sn);
  REQUIRE(wait_until([&] { return p.listening(5351); }));
  bool real = have_tool("iperf3");
  if (!real) WARN("iperf3 not installed: our clients only");

  SECTION("TCP: three clients, one of them -P 2 -R, all at the same time") {
    RunResult r[3];
    std::vector<std::string> a0{"-c", "10.235.7.2", "-p", "5351", "-t", "3", "-J"};
    std::vector<std::string> a1{"-c", "10.235.7.2", "-p", "5351", "-t", "3", "-J", "-P", "2", "-R"};
    std::thread t0([&] { r[0] = p.client(!real, a0); });
    std::thread t1([&] { r[1] = p.client(!real, a1); });
    std::thread t2([&] { r[2] = p.client(true, a0); });
    t0.join();
    t1.join();
    t2.join();
    double total = 0;
    for (auto& x : r) {
      INFO(describe(x));
      CHECK(x.exit == 0);
      CHECK(!has(x.err, "busy"));
      auto j = parse_json(x);
      CHECK(!j.contains("error"));
      double got = received(j);
      CHECK(got > 1e6);  // each test moved data; they shared the link
      total += got;
      // each report holds its own streams only
      CHECK(j["end"]["streams"].size() == j["start"]["test_start"]["num_streams"].get<size_t>());
    }
    INFO(srv.output());
    CHECK(total > 10e6);
    // three tests, overlapping: the ones that started while another ran are tagged
    REQUIRE(wait_until([&] { return has(srv.output(), "(test #4)"); }, 10000));
    auto out = srv.output();
    std::regex acc("Accepted connection from 10\\.235\\.7\\.1, port [0-9]+\n");
    CHECK(std::distance(std::sregex_iterator(out.begin(), out.end(), acc), std::sregex_iterator()) == 3);
    CHECK(std::regex_search(out, std::regex("\\[#[23]\\] \\[ *[0-9]+\\] +0\\.00-3\\.[0-9]{2} +sec .*receiver\n")));
    CHECK(srv.running());
  }

  SECTION("UDP: two clients at -b 20M at the same time, each with its own streams") {
    RunResult r[2];
    std::vector<std::string> a{"-c", "10.235.7.2", "-p", "5351", "-u", "-b", "20M", "-t", "3", "-J"};
    std::vector<std::string> b{"-c", "10.235.7.2", "-p", "5351", "-u", "-b", "20M", "-t", "3", "-J", "-P", "2"};
    std::thread t0([&] { r[0] = p.client(!real, a); });
    std::thread t1([&] { r[1] = p.client(true, b); });
    t0.join();
    t1.join();
    for (auto& x : r) {
      INFO(describe(x));
      CHECK(x.exit == 0);
      auto j = parse_json(x);
      CHECK(!j.contains("error"));
      auto& sum = j["end"]["sum"];
      double pk = sum["packets"].get<double>(), lost = sum["lost_packets"].get<double>();
      CHECK(pk > 1000);
      CHECK(lost <= 0.05 * pk);  // datagrams of one test never counted by the other
      double bps = sum["bits_per_second"].get<double>();
      double want = 20e6 * j["start"]["test_start"]["num_streams"].get<double>();
      CHECK(bps > 0.8 * want);
      CHECK(bps < 1.2 * want);
    }
    CHECK(srv.running());
  }
}

TEST_CASE("perf: a client killed mid-test does not disturb another test; the server serves the next", "[perf][perf-multi][integration]") {
  MultiPair p;
  Background srv({netshoot_bin(), "iperf3", "-s", "-p", "5352"}, p.sn);
  REQUIRE(wait_until([&] { return p.listening(5352); }));
  bool real = have_tool("iperf3");
  RunResult lasting;
  bool victim_ran = false;
  {
    std::thread t([&] { lasting = p.client(!real, {"-c", "10.235.7.2", "-p", "5352", "-t", "5", "-J"}); });
    Background victim({netshoot_bin(), "iperf3", "-c", "10.235.7.2", "-p", "5352", "-t", "30", "-P", "2"}, p.cn);
    victim_ran = wait_until([&] { return std::regex_search(victim.output(), std::regex(" 1\\.[0-9]{2}-2\\.[0-9]{2} ")); }, 10000);
    INFO(victim.output());
    CHECK(victim_ran);
    ::kill(victim.pid(), SIGKILL);
    t.join();
  }
  REQUIRE(victim_ran);
  INFO(describe(lasting));
  CHECK(lasting.exit == 0);
  auto j = parse_json(lasting);
  CHECK(!j.contains("error"));
  CHECK(received(j) > 1e6);
  // the killed client's test ended on the server (an error for that test only)
  CHECK(wait_until([&] { return has(srv.output(), "(test #3)"); }, 15000));
  CHECK(srv.running());
  auto r = p.client(true, {"-c", "10.235.7.2", "-p", "5352", "-t", "1"});
  INFO(describe(r));
  CHECK(r.exit == 0);
  CHECK(has(r.out, "iperf Done.\n"));
  CHECK(srv.running());
}

TEST_CASE("perf: -1 stays one test: a second client at the same time hears that the server is busy", "[perf][perf-multi][integration]") {
  MultiPair p;
  Background one({netshoot_bin(), "iperf3", "-s", "-1", "-p", "5353"}, p.sn);
  REQUIRE(wait_until([&] { return p.listening(5353); }));
  RunResult first, second;
  std::thread t([&] { first = p.client(true, {"-c", "10.235.7.2", "-p", "5353", "-t", "3"}); });
  bool accepted = wait_until([&] { return has(one.output(), "Accepted connection"); }, 10000);
  bool real = have_tool("iperf3");
  if (accepted) second = p.client(!real, {"-c", "10.235.7.2", "-p", "5353", "-t", "1"});
  t.join();
  REQUIRE(accepted);
  INFO(describe(first));
  INFO(describe(second));
  CHECK(first.exit == 0);
  CHECK(second.exit == 1);
  CHECK(has(second.err, "the server is busy running a test. try again later"));
  CHECK(wait_until([&] { return !one.running(); }, 5000));
}

TEST_CASE("perf: CPU utilization of both ends, exchanged with the real iperf3 (-J, -V)", "[perf][perf-multi][integration]") {
  if (!have_tool("iperf3")) {
    WARN("iperf3 not installed");
    return;
  }
  MultiPair p;
  SECTION("their client, our server") {
    Background srv({netshoot_bin(), "iperf3", "-s", "-p", "5354"}, p.sn);
    REQUIRE(wait_until([&] { return p.listening(5354); }));
    auto r = p.client(false, {"-c", "10.235.7.2", "-p", "5354", "-t", "2", "-J"});
    CHECK(r.exit == 0);
    check_cpu(parse_json(r)["end"]["cpu_utilization_percent"], true);
    r = p.client(false, {"-c", "10.235.7.2", "-p", "5354", "-t", "2", "-V"});
    INFO(describe(r));
    CHECK(r.exit == 0);
    // their client prints our server's numbers as "remote"
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex("CPU Utilization: local/sender ([0-9.]+)% \\([0-9.]+%u/[0-9.]+%s\\), "
                                                   "remote/receiver ([0-9.]+)% \\([0-9.]+%u/[0-9.]+%s\\)\n")));
    CHECK(std::stod(m[2]) > 0);
  }
  SECTION("our client, their server") {
    Background srv({"iperf3", "-s", "-p", "5355"}, p.sn);
    REQUIRE(wait_until([&] { return p.listening(5355); }));
    auto r = p.client(true, {"-c", "10.235.7.2", "-p", "5355", "-t", "2", "-J"});
    CHECK(r.exit == 0);
    check_cpu(parse_json(r)["end"]["cpu_utilization_percent"], true);
    r = p.client(true, {"-c", "10.235.7.2", "-p", "5355", "-t", "2", "-V", "-R"});
    INFO(describe(r));
    CHECK(r.exit == 0);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex("Test Complete\\. Summary Results:\n[^\n]*\n(.*\n)+"
                                                   "CPU Utilization: local/receiver ([0-9.]+)% \\(([0-9.]+)%u/([0-9.]+)%s\\), "
                                                   "remote/sender ([0-9.]+)% \\([0-9.]+%u/[0-9.]+%s\\)\n")));
    double total = std::stod(m[2]), user = std::stod(m[3]), sys = std::stod(m[4]);
    CHECK(total > 0);
    CHECK(total <= 100 * ncpu() + 1);
    CHECK(std::abs(total - user - sys) < 0.25);
    CHECK(std::stod(m[5]) > 0);
    CHECK(std::regex_search(r.out, std::regex("\nsnd_tcp_congestion [a-z0-9]+\nrcv_tcp_congestion [a-z0-9]+\n")));
  }
}

TEST_CASE("perf: --json-stream writes one JSON object per event and line", "[perf][perf-multi][integration]") {
  MultiPair p;
  std::vector<std::vector<std::string>> servers{{netshoot_bin(), "iperf3", "-s", "-p", "5356"}};
  if (have_tool("iperf3")) servers.push_back({"iperf3", "-s", "-p", "5356"});
  for (auto& sv : servers) {
    INFO(sv[0]);
    Background srv(sv, p.sn);
    REQUIRE(wait_until([&] { return p.listening(5356); }));
    auto r = p.client(true, {"-c", "10.235.7.2", "-p", "5356", "-t", "2", "-i", "0.5", "--json-stream"});
    INFO(describe(r));
    CHECK(r.exit == 0);
    std::istringstream in(r.out);
    std::string line;
    std::vector<std::string> events;
    double iv_bytes = 0;
    Json end;
    while (std::getline(in, line)) {
      Json j = Json::parse(line, nullptr, false);
      INFO(line);
      REQUIRE(!j.is_discarded());
      REQUIRE(j.is_object());
      REQUIRE(j.size() == 2);
      REQUIRE(j.contains("data"));
      events.push_back(j["event"].get<std::string>());
      if (events.back() == "interval") iv_bytes += j["data"]["sum"]["bytes"].get<double>();
      if (events.back() == "end") end = j["data"];
    }
    REQUIRE(events.size() >= 5);
    CHECK(events.front() == "start");
    CHECK(events.back() == "end");
    for (size_t i = 1; i + 1 < events.size(); ++i) CHECK(events[i] == "interval");
    double sent = end["sum_sent"]["bytes"].get<double>();
    CHECK(sent > 1e6);
    CHECK(std::abs(iv_bytes - sent) < 0.03 * sent);
    check_cpu(end["cpu_utilization_percent"], true);
    srv.stop();
    REQUIRE(wait_until([&] { return !p.listening(5356); }));
  }
  // an error is an event too
  auto r = p.client(true, {"-c", "10.235.7.2", "-p", "5399", "--json-stream"});
  CHECK(r.exit == 1);
  std::istringstream in(r.out);
  std::string line;
  std::vector<std::string> events;
  while (std::getline(in, line)) {
    Json j = Json::parse(line, nullptr, false);
    REQUIRE(!j.is_discarded());
    events.push_back(j["event"].get<std::string>());
    if (events.back() == "error") CHECK(j["data"] == "unable to connect to server: Connection refused");
  }
  CHECK(events == std::vector<std::string>{"start", "error", "end"});
}

TEST_CASE("perf: -Z sends with sendfile() and moves the same bytes", "[perf][perf-multi][integration]") {
  MultiPair p;
  std::vector<std::vector<std::string>> servers{{netshoot_bin(), "iperf3", "-s", "-p", "5357"}};
  if (have_tool("iperf3")) servers.push_back({"iperf3", "-s", "-p", "5357"});
  for (auto& sv : servers) {
    INFO(sv[0]);
    Background srv(sv, p.sn);
    REQUIRE(wait_until([&] { return p.listening(5357); }));
    // -Z alone, with -P 2, and -R (the server sends; ours honours the client's -Z)
    for (std::vector<std::string> extra : {std::vector<std::string>{}, {"-P", "2"}, {"-R"}, {"-n", "50M"}}) {
      std::vector<std::string> args{"-c", "10.235.7.2", "-p", "5357", "-t", "2", "-Z", "-J"};
      args.insert(args.end(), extra.begin(), extra.end());
      auto r = p.client(true, args);
      INFO(describe(r));
      CHECK(r.exit == 0);
      auto j = parse_json(r);
      CHECK(!j.contains("error"));
      double sent = j["end"]["sum_sent"]["bytes"].get<double>(), rcvd = received(j);
      CHECK(sent > 10e6);
      CHECK(rcvd <= sent);
      // with -n the receiver stops counting at TEST_END, data may still be in flight
      // (iperf3 does the same); the count sent is exact
      if (extra.size() == 2 && extra[0] == "-n") CHECK(sent == 50.0 * 1024 * 1024);
      else CHECK(rcvd > 0.9 * sent);
    }
    srv.stop();
    REQUIRE(wait_until([&] { return !p.listening(5357); }));
  }
}

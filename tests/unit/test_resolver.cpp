// Resolver behaviour against a tiny DNS server on 127.0.0.1 (UDP + TCP, same port).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "netshoot/dns.h"
#include "netshoot/fd.h"
#include "netshoot/resolver.h"

using namespace netshoot::core;
using namespace netshoot::core::dns;

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

ResourceRecord a_rr(const std::string& name, const char* ip, uint32_t ttl = 60) {
  ResourceRecord r;
  r.name = name;
  auto addr = *IpAddr::parse(ip);
  r.type = addr.family() == AF_INET ? type::A : type::AAAA;
  r.ttl = ttl;
  r.data = RdataAddress{addr};
  return r;
}

ResourceRecord cname_rr(const std::string& name, const std::string& target) {
  ResourceRecord r;
  r.name = name;
  r.type = type::CNAME;
  r.ttl = 60;
  r.data = RdataName{target};
  return r;
}

class TestDnsServer {
 public:
  enum class Action { Answer, NxDomain, ServFail, Refused, Truncate, Drop, SpoofFirst };
  struct Rule {
    Action action = Action::Answer;
    std::vector<ResourceRecord> answers;
  };
  struct Seen {
    std::string name;
    uint16_t qtype;
    Transport transport;
    uint16_t client_port;
  };

  TestDnsServer() {
    for (int tries = 0; tries < 50; ++tries) {
      udp_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      REQUIRE(::bind(udp_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
      socklen_t sl = sizeof sin;
      getsockname(udp_.get(), reinterpret_cast<sockaddr*>(&sin), &sl);
      port_ = ntohs(sin.sin_port);
      tcp_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      int one = 1;
      setsockopt(tcp_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(tcp_.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0 && ::listen(tcp_.get(), 8) == 0)
        break;
      tcp_.reset();
    }
    REQUIRE(tcp_.valid());
    int p[2];
    REQUIRE(::pipe(p) == 0);
    stop_r_.reset(p[0]);
    stop_w_.reset(p[1]);
    thread_ = std::thread([this] { run(); });
  }
  ~TestDnsServer() {
    (void)!::write(stop_w_.get(), "x", 1);
    thread_.join();
  }

  NameServer ns() const { return NameServer{*IpAddr::parse("127.0.0.1"), port_}; }
  uint16_t port() const { return port_; }

  void add(const std::string& name, uint16_t qtype, Rule rule) {
    std::lock_guard<std::mutex> lk(mu_);
    rules_[{lower(absolute_name(name)), qtype}] = std::move(rule);
  }
  void answer(const std::string& name, std::vector<ResourceRecord> rrs) {
    uint16_t t = rrs.back().type;
    add(name, t, Rule{Action::Answer, std::move(rrs)});
  }
  void set_all(Action a) {
    std::lock_guard<std::mutex> lk(mu_);
    all_ = a;
  }
  std::vector<Seen> seen() {
    std::lock_guard<std::mutex> lk(mu_);
    return seen_;
  }
  std::vector<std::string> seen_names() {
    std::vector<std::string> out;
    for (auto& s : seen()) out.push_back(s.name + " " + type_to_string(s.qtype));
    return out;
  }
  size_t count() { return seen().size(); }

 private:
  std::vector<uint8_t> respond(const Message& q, Transport t, bool& drop, bool& spoof) {
    std::lock_guard<std::mutex> lk(mu_);
    const auto& qq = q.questions.at(0);
    seen_.push_back({lower(qq.name), qq.qtype, t, last_client_port_});
    Message r;
    r.header = q.header;
    r.header.qr = true;
    r.header.ra = true;
    r.questions = q.questions;
    Action act = Action::NxDomain;
    const Rule* rule = nullptr;
    auto it = rules_.find({lower(qq.name), qq.qtype});
    if (it != rules_.end()) {
      rule = &it->second;
      act = rule->action;
    } else {
      for (auto& [k, v] : rules_)
        if (k.first == lower(qq.name)) act = Action::Answer;  // NODATA
    }
    if (all_) act = *all_;
    drop = act == Action::Drop;
    spoof = act == Action::SpoofFirst;
    switch (act) {
      case Action::NxDomain: r.header.rcode = rcode::NXDOMAIN; break;
      case Action::ServFail: r.header.rcode = rcode::SERVFAIL; break;
      case Action::Refused: r.header.rcode = rcode::REFUSED; break;
      case Action::Truncate:
        if (t == Transport::Udp) {
          r.header.tc = true;
          break;
        }
        [[fallthrough]];
      default:
        if (rule) r.answers = rule->answers;
    }
    return *build_message(r);
  }

  void run() {
    std::vector<uint8_t> buf(65536);
    for (;;) {
      pollfd p[3] = {{udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}, {stop_r_.get(), POLLIN, 0}};
      if (::poll(p, 3, 1000) < 0) continue;
      if (p[2].revents) return;
      if (p[0].revents & POLLIN) {
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(udp_.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n <= 0) continue;
        auto q = parse_message(std::span(buf.data(), static_cast<size_t>(n)));
        if (!q || q->questions.empty()) continue;
        last_client_port_ = ntohs(from.sin_port);
        bool drop = false, spoof = false;
        auto resp = respond(*q, Transport::Udp, drop, spoof);
        if (drop) continue;
        if (spoof) {
          // 1) wrong id, with a poisoned answer
          Message bad = *parse_message(resp);
          bad.header.id = static_cast<uint16_t>(bad.header.id + 1);
          bad.answers = {a_rr(q->questions[0].name, "6.6.6.6")};
          auto bw = *build_message(bad);
          sendto(udp_.get(), bw.data(), bw.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
          // 2) right id but a different question
          bad.header.id = q->header.id;
          bad.questions[0].name = "evil.example.";
          bad.answers = {a_rr("evil.example.", "6.6.6.6")};
          bw = *build_message(bad);
          sendto(udp_.get(), bw.data(), bw.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
          // 3) right id and question, from another source port
          netshoot::core::UniqueFd other(::socket(AF_INET, SOCK_DGRAM, 0));
          bad = *parse_message(resp);
          bad.answers = {a_rr(q->questions[0].name, "6.6.6.6")};
          bw = *build_message(bad);
          sendto(other.get(), bw.data(), bw.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        sendto(udp_.get(), resp.data(), resp.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
      }
      if (p[1].revents & POLLIN) serve_tcp();
    }
  }

  static bool read_n(int fd, uint8_t* b, size_t n) {
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd, b + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }

  void serve_tcp() {
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    netshoot::core::UniqueFd c(::accept(tcp_.get(), reinterpret_cast<sockaddr*>(&from), &fl));
    if (!c) return;
    timeval tv{2, 0};
    setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    last_client_port_ = ntohs(from.sin_port);
    for (;;) {
      uint8_t lb[2];
      if (!read_n(c.get(), lb, 2)) return;
      std::vector<uint8_t> m(static_cast<size_t>(lb[0] << 8 | lb[1]));
      if (!read_n(c.get(), m.data(), m.size())) return;
      auto q = parse_message(m);
      if (!q || q->questions.empty()) return;
      bool drop = false, spoof = false;
      auto resp = respond(*q, Transport::Tcp, drop, spoof);
      if (drop) return;
      std::vector<uint8_t> out = {static_cast<uint8_t>(resp.size() >> 8), static_cast<uint8_t>(resp.size())};
      out.insert(out.end(), resp.begin(), resp.end());
      (void)!::send(c.get(), out.data(), out.size(), MSG_NOSIGNAL);
    }
  }

  UniqueFd udp_, tcp_, stop_r_, stop_w_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::pair<std::string, uint16_t>, Rule> rules_;
  std::optional<Action> all_;
  std::vector<Seen> seen_;
  uint16_t last_client_port_ = 0;
};

ResolverConfig config_for(std::vector<NameServer> servers, std::vector<std::string> search = {}, int ndots = 1) {
  ResolvConf rc;
  rc.nameservers = std::move(servers);
  rc.search = std::move(search);
  rc.ndots = ndots;
  rc.timeout = 1;
  rc.attempts = 1;
  ResolverConfig cfg;
  cfg.resolv_conf = rc;
  cfg.use_hosts = false;
  cfg.timeout_ms = 300;
  return cfg;
}

std::vector<std::string> addrs(const std::vector<ResolvedAddress>& v) {
  std::vector<std::string> out;
  for (auto& a : v) out.push_back(a.addr.to_string());
  return out;
}

// A loopback port with nothing listening (UDP → ECONNREFUSED).
NameServer closed_port_server() {
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s.get(), reinterpret_cast<sockaddr*>(&sin), sizeof sin);
  socklen_t sl = sizeof sin;
  getsockname(s.get(), reinterpret_cast<sockaddr*>(&sin), &sl);
  return NameServer{*IpAddr::parse("127.0.0.1"), ntohs(sin.sin_port)};
}

const std::vector<std::string> kK8sSearch = {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"};

}  // namespace

TEST_CASE("resolver: search candidates follow glibc's ndots rules", "[resolver]") {
  ResolvConf rc;
  rc.search = kK8sSearch;
  rc.ndots = 5;
  CHECK(search_candidates("kubernetes.default", rc) ==
        std::vector<std::string>{"kubernetes.default.default.svc.cluster.local.",
                                 "kubernetes.default.svc.cluster.local.",
                                 "kubernetes.default.cluster.local.", "kubernetes.default."});
  CHECK(search_candidates("api.example.com.", rc) == std::vector<std::string>{"api.example.com."});
  rc.ndots = 2;
  rc.search = {"example.test"};
  CHECK(search_candidates("a.b", rc) == std::vector<std::string>{"a.b.example.test.", "a.b."});
  CHECK(search_candidates("a.b.c", rc) == std::vector<std::string>{"a.b.c.", "a.b.c.example.test."});
  rc.no_tld_query = true;
  CHECK(search_candidates("host", rc) == std::vector<std::string>{"host.example.test."});
  rc.search.clear();
  rc.no_tld_query = false;
  CHECK(search_candidates("host", rc) == std::vector<std::string>{"host."});
}

TEST_CASE("resolver: kubernetes.default in a pod: exact query order", "[resolver]") {
  TestDnsServer srv;
  srv.answer("kubernetes.default.svc.cluster.local", {a_rr("kubernetes.default.svc.cluster.local.", "10.96.0.1")});
  auto cfg = config_for({srv.ns()}, kK8sSearch, 5);
  RecordingObserver obs;
  auto r = resolve_host("kubernetes.default", AF_UNSPEC, cfg, &obs);
  REQUIRE(r.ok());
  CHECK(addrs(*r) == std::vector<std::string>{"10.96.0.1"});
  CHECK((*r)[0].canonical_name == "kubernetes.default.svc.cluster.local");
  CHECK((*r)[0].ttl == 60);
  CHECK((*r)[0].source == AddressSource::Dns);
  CHECK(srv.seen_names() == std::vector<std::string>{
                                "kubernetes.default.default.svc.cluster.local. A",
                                "kubernetes.default.default.svc.cluster.local. AAAA",
                                "kubernetes.default.svc.cluster.local. A",
                                "kubernetes.default.svc.cluster.local. AAAA"});
  CHECK(obs.candidates == std::vector<std::string>{"kubernetes.default.default.svc.cluster.local.",
                                                   "kubernetes.default.svc.cluster.local."});
  REQUIRE(obs.attempts.size() == 4);
  CHECK(obs.attempts[0].rcode == rcode::NXDOMAIN);
  CHECK(obs.attempts[0].outcome == QueryAttempt::Outcome::Response);
  CHECK(obs.attempts[0].server == srv.ns());
  CHECK(obs.attempts[2].answer_count == 1);
}

TEST_CASE("resolver: unknown name walks the whole search list, then fails", "[resolver]") {
  TestDnsServer srv;
  auto cfg = config_for({srv.ns()}, kK8sSearch, 5);
  auto r = resolve_host("nothere", AF_INET, cfg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "nothere: Name or service not known");
  CHECK(srv.seen_names() == std::vector<std::string>{"nothere.default.svc.cluster.local. A",
                                                     "nothere.svc.cluster.local. A",
                                                     "nothere.cluster.local. A", "nothere. A"});
}

TEST_CASE("resolver: absolute names are asked exactly once", "[resolver]") {
  TestDnsServer srv;
  auto cfg = config_for({srv.ns()}, kK8sSearch, 5);
  auto r = resolve_host("api.example.com.", AF_INET, cfg);
  REQUIRE_FALSE(r.ok());
  CHECK(srv.seen_names() == std::vector<std::string>{"api.example.com. A"});
}

TEST_CASE("resolver: ndots boundary: as-is first when dots >= ndots", "[resolver]") {
  TestDnsServer srv;
  srv.answer("a.b.c", {a_rr("a.b.c.", "192.0.2.3")});
  srv.answer("a.b.example.test", {a_rr("a.b.example.test.", "192.0.2.2")});
  auto cfg = config_for({srv.ns()}, {"example.test"}, 2);
  auto r1 = resolve_host("a.b.c", AF_INET, cfg);
  REQUIRE(r1.ok());
  CHECK(addrs(*r1) == std::vector<std::string>{"192.0.2.3"});
  CHECK(srv.seen_names() == std::vector<std::string>{"a.b.c. A"});
  auto r2 = resolve_host("a.b", AF_INET, cfg);
  REQUIRE(r2.ok());
  CHECK(addrs(*r2) == std::vector<std::string>{"192.0.2.2"});
  CHECK(srv.count() == 2);  // a.b.example.test. first and it answered
}

TEST_CASE("resolver: NODATA moves on and is reported as such", "[resolver]") {
  TestDnsServer srv;
  srv.answer("only6.test", {a_rr("only6.test.", "2001:db8::6")});
  auto cfg = config_for({srv.ns()});
  auto r = resolve_host("only6.test", AF_INET, cfg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message() == "only6.test: No address associated with hostname");
  auto r6 = resolve_host("only6.test", AF_INET6, cfg);
  REQUIRE(r6.ok());
  CHECK(addrs(*r6) == std::vector<std::string>{"2001:db8::6"});
}

TEST_CASE("resolver: A and AAAA are sent in parallel from one socket", "[resolver]") {
  TestDnsServer srv;
  srv.answer("dual.test", {a_rr("dual.test.", "192.0.2.10")});
  srv.answer("dual.test", {a_rr("dual.test.", "2001:db8::10")});
  auto cfg = config_for({srv.ns()});
  auto r = resolve_host("dual.test", AF_UNSPEC, cfg);
  REQUIRE(r.ok());
  CHECK(addrs(*r) == std::vector<std::string>{"192.0.2.10", "2001:db8::10"});
  auto seen = srv.seen();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].qtype == type::A);
  CHECK(seen[1].qtype == type::AAAA);
  CHECK(seen[0].client_port == seen[1].client_port);

  SECTION("single-request-reopen uses a new socket for AAAA") {
    cfg.resolv_conf->single_request_reopen = true;
    auto r2 = resolve_host("dual.test", AF_UNSPEC, cfg);
    REQUIRE(r2.ok());
    auto s2 = srv.seen();
    REQUIRE(s2.size() == 4);
    CHECK(s2[2].client_port != s2[3].client_port);
  }
  SECTION("no-aaaa asks only A") {
    cfg.resolv_conf->no_aaaa = true;
    auto r3 = resolve_host("dual.test", AF_UNSPEC, cfg);
    REQUIRE(r3.ok());
    CHECK(addrs(*r3) == std::vector<std::string>{"192.0.2.10"});
    CHECK(srv.count() == 3);
  }
}

TEST_CASE("resolver: CNAME chains in the answer are followed", "[resolver]") {
  TestDnsServer srv;
  srv.answer("www.example.test", {cname_rr("www.example.test.", "edge.cdn.test."),
                                   cname_rr("edge.cdn.test.", "web.cdn.test."),
                                   a_rr("web.cdn.test.", "192.0.2.80"),
                                   a_rr("unrelated.test.", "192.0.2.99")});
  auto cfg = config_for({srv.ns()});
  auto r = resolve_host("www.example.test", AF_INET, cfg);
  REQUIRE(r.ok());
  CHECK(addrs(*r) == std::vector<std::string>{"192.0.2.80"});
  CHECK((*r)[0].canonical_name == "web.cdn.test");
}

TEST_CASE("resolver: truncated UDP answer is retried over TCP", "[resolver]") {
  TestDnsServer srv;
  srv.add("big.test", type::A, {TestDnsServer::Action::Truncate, {a_rr("big.test.", "192.0.2.1"), a_rr("big.test.", "192.0.2.2")}});
  auto cfg = config_for({srv.ns()});
  RecordingObserver obs;
  auto r = resolve_host("big.test", AF_INET, cfg, &obs);
  REQUIRE(r.ok());
  CHECK(addrs(*r) == std::vector<std::string>{"192.0.2.1", "192.0.2.2"});
  auto seen = srv.seen();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].transport == Transport::Udp);
  CHECK(seen[1].transport == Transport::Tcp);
  REQUIRE(obs.attempts.size() == 2);
  CHECK(obs.attempts[0].truncated);
  CHECK(obs.attempts[1].transport == Transport::Tcp);

  SECTION("use-vc goes straight to TCP") {
    cfg.resolv_conf->use_vc = true;
    REQUIRE(resolve_host("big.test", AF_INET, cfg).ok());
    CHECK(srv.seen().back().transport == Transport::Tcp);
    CHECK(srv.count() == 3);
  }
}

TEST_CASE("resolver: timeout moves to the next server", "[resolver]") {
  TestDnsServer dead, live;
  dead.set_all(TestDnsServer::Action::Drop);
  live.answer("svc.test", {a_rr("svc.test.", "192.0.2.7")});
  auto cfg = config_for({dead.ns(), live.ns()});
  cfg.timeout_ms = 200;
  RecordingObserver obs;
  auto t0 = std::chrono::steady_clock::now();
  auto r = resolve_host("svc.test", AF_INET, cfg, &obs);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(r.ok());
  CHECK(addrs(*r) == std::vector<std::string>{"192.0.2.7"});
  CHECK(dead.count() == 1);
  CHECK(live.count() == 1);
  REQUIRE(obs.attempts.size() == 2);
  CHECK(obs.attempts[0].outcome == QueryAttempt::Outcome::Timeout);
  CHECK(obs.attempts[0].server == dead.ns());
  CHECK(obs.attempts[0].elapsed_ms >= 190);
  CHECK(obs.attempts[1].outcome == QueryAttempt::Outcome::Response);
  CHECK(ms >= 190);
  CHECK(ms < 2000);
}

TEST_CASE("resolver: all servers silent: temporary failure, search stops", "[resolver]") {
  TestDnsServer dead;
  dead.set_all(TestDnsServer::Action::Drop);
  auto cfg = config_for({dead.ns()}, {"a.test", "b.test"}, 1);
  cfg.resolv_conf->attempts = 2;
  cfg.timeout_ms = 100;
  auto r = resolve_host("x", AF_INET, cfg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().context == "x: Temporary failure in name resolution");
  CHECK(r.error().hint.find("timed out waiting for 127.0.0.1#") != std::string::npos);
  CHECK(dead.seen_names() == std::vector<std::string>{"x.a.test. A", "x.a.test. A"});  // 2 attempts
}

TEST_CASE("resolver: refused port and SERVFAIL move to the next server", "[resolver]") {
  TestDnsServer bad, good;
  bad.set_all(TestDnsServer::Action::ServFail);
  good.answer("svc.test", {a_rr("svc.test.", "192.0.2.8")});
  auto cfg = config_for({closed_port_server(), bad.ns(), good.ns()});
  cfg.timeout_ms = 2000;  // a refused port must not cost a timeout
  RecordingObserver obs;
  auto t0 = std::chrono::steady_clock::now();
  auto r = resolve_host("svc.test", AF_INET, cfg, &obs);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(r.ok());
  CHECK(addrs(*r) == std::vector<std::string>{"192.0.2.8"});
  CHECK(ms < 1500);
  REQUIRE(obs.attempts.size() == 3);
  CHECK(obs.attempts[0].outcome == QueryAttempt::Outcome::Error);
  CHECK(obs.attempts[0].error == "Connection refused");
  CHECK(obs.attempts[1].rcode == rcode::SERVFAIL);
  CHECK(obs.attempts[2].rcode == rcode::NOERROR);
}

TEST_CASE("resolver: SERVFAIL everywhere moves to the next search candidate", "[resolver]") {
  TestDnsServer srv;
  srv.add("x.s1.test", type::A, {TestDnsServer::Action::ServFail, {}});
  srv.answer("x", {a_rr("x.", "192.0.2.9")});
  auto cfg = config_for({srv.ns()}, {"s1.test"}, 1);
  auto r = resolve_host("x", AF_INET, cfg);
  REQUIRE(r.ok());
  CHECK(addrs(*r) == std::vector<std::string>{"192.0.2.9"});
  srv.add("y.s1.test", type::A, {TestDnsServer::Action::ServFail, {}});
  auto r2 = resolve_host("y", AF_INET, cfg);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().context == "y: Temporary failure in name resolution");
}

TEST_CASE("resolver: mismatched ids, questions and source ports are ignored", "[resolver]") {
  TestDnsServer srv;
  srv.add("spoof.test", type::A, {TestDnsServer::Action::SpoofFirst, {a_rr("spoof.test.", "192.0.2.44")}});
  auto cfg = config_for({srv.ns()});
  cfg.timeout_ms = 1000;
  auto r = resolve_host("spoof.test", AF_INET, cfg);
  REQUIRE(r.ok());
  CHECK(addrs(*r) == std::vector<std::string>{"192.0.2.44"});
}

TEST_CASE("resolver: rotate spreads the first query over the servers", "[resolver]") {
  TestDnsServer s1, s2;
  s1.answer("r.test", {a_rr("r.test.", "192.0.2.1")});
  s2.answer("r.test", {a_rr("r.test.", "192.0.2.1")});
  auto cfg = config_for({s1.ns(), s2.ns()});
  cfg.resolv_conf->rotate = true;
  for (int i = 0; i < 4; ++i) REQUIRE(resolve_host("r.test", AF_INET, cfg).ok());
  CHECK(s1.count() == 2);
  CHECK(s2.count() == 2);
}

TEST_CASE("resolver: numeric addresses and hosts short-circuit DNS", "[resolver]") {
  TestDnsServer srv;
  auto cfg = config_for({srv.ns()});
  auto n = resolve_host("127.1", AF_UNSPEC, cfg);
  REQUIRE(n.ok());
  CHECK(addrs(*n) == std::vector<std::string>{"127.0.0.1"});
  CHECK((*n)[0].source == AddressSource::Numeric);
  auto v6 = resolve_host("::1", AF_UNSPEC, cfg);
  REQUIRE(v6.ok());
  CHECK(v6->at(0).addr.family() == AF_INET6);
  CHECK_FALSE(resolve_host("::1", AF_INET, cfg).ok());
  auto ll = resolve_host("fe80::1%1", AF_INET6, cfg);  // a zone stays numeric
  REQUIRE(ll.ok());
  CHECK(ll->at(0).addr == IpAddr::try_parse("fe80::1")->with_scope(1));
  CHECK(ll->at(0).source == AddressSource::Numeric);

  char path[] = "/tmp/netshoot-hosts-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::string text = "10.1.1.1 myhost.local myhost\n::1 localhost\n127.0.0.1 localhost\n";
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  cfg.use_hosts = true;
  cfg.hosts_path = path;
  RecordingObserver obs;
  auto h = resolve_host("MyHost", AF_UNSPEC, cfg, &obs);
  REQUIRE(h.ok());
  CHECK(addrs(*h) == std::vector<std::string>{"10.1.1.1"});
  CHECK((*h)[0].canonical_name == "myhost.local");
  CHECK((*h)[0].source == AddressSource::Hosts);
  CHECK(obs.hosts_matches == std::vector<std::string>{"MyHost"});
  auto lo = resolve_host("localhost", AF_UNSPEC, cfg);
  REQUIRE(lo.ok());
  CHECK(addrs(*lo) == std::vector<std::string>{"127.0.0.1", "::1"});  // IPv4 first
  CHECK(srv.count() == 0);
  auto rev = reverse_lookup(*IpAddr::parse("10.1.1.1"), cfg);
  REQUIRE(rev.ok());
  CHECK(*rev == "myhost.local");
  std::remove(path);
}

TEST_CASE("resolver: reverse lookup asks PTR", "[resolver]") {
  TestDnsServer srv;
  ResourceRecord ptr;
  ptr.name = "7.2.0.192.in-addr.arpa.";
  ptr.type = type::PTR;
  ptr.ttl = 60;
  ptr.data = RdataName{"host7.example.test."};
  srv.answer("7.2.0.192.in-addr.arpa", {ptr});
  auto cfg = config_for({srv.ns()}, {"ignored.test"}, 1);
  auto r = reverse_lookup(*IpAddr::parse("192.0.2.7"), cfg);
  REQUIRE(r.ok());
  CHECK(*r == "host7.example.test");
  CHECK(srv.seen_names() == std::vector<std::string>{"7.2.0.192.in-addr.arpa. PTR"});
  auto miss = reverse_lookup(*IpAddr::parse("192.0.2.8"), cfg);
  REQUIRE_FALSE(miss.ok());
}

TEST_CASE("resolver: query(): single exchange for dig", "[resolver]") {
  TestDnsServer srv;
  srv.answer("example.test", {a_rr("example.test.", "192.0.2.1")});
  srv.add("big.test", type::A, {TestDnsServer::Action::Truncate, {a_rr("big.test.", "192.0.2.2")}});
  QueryOptions o;
  o.timeout_ms = 500;
  o.nsid = true;
  o.cookie = true;
  o.dnssec = true;
  o.client_subnet = "192.0.2.0/24";
  o.id = 0x4242;
  auto r = query(srv.ns(), "example.test", type::A, o);
  REQUIRE(r.ok());
  CHECK(r->message.header.id == 0x4242);
  CHECK(r->transport == Transport::Udp);
  CHECK(r->message.answers.size() == 1);
  CHECK(format_record(r->message.answers[0]) == "example.test.\t60\tIN\tA\t192.0.2.1");
  auto sent = parse_message(r->query);
  REQUIRE(sent.ok());
  REQUIRE(sent->edns.has_value());
  CHECK(sent->edns->dnssec_ok);
  CHECK(sent->edns->options.size() == 3);
  CHECK_FALSE(r->raw.empty());

  auto nx = query(srv.ns(), "nope.test", type::A, o);
  REQUIRE(nx.ok());
  CHECK(nx->message.header.rcode == rcode::NXDOMAIN);

  auto tc = query(srv.ns(), "big.test", type::A, o);
  REQUIRE(tc.ok());
  CHECK(tc->tcp_fallback);
  CHECK(tc->transport == Transport::Tcp);
  CHECK(tc->message.answers.size() == 1);
  o.ignore_tc = true;
  auto kept = query(srv.ns(), "big.test", type::A, o);
  REQUIRE(kept.ok());
  CHECK(kept->message.header.tc);

  o.tcp = true;
  o.ignore_tc = false;
  auto viatcp = query(srv.ns(), "example.test", type::A, o);
  REQUIRE(viatcp.ok());
  CHECK(viatcp->transport == Transport::Tcp);

  TestDnsServer dead;
  dead.set_all(TestDnsServer::Action::Drop);
  QueryOptions q2;
  q2.timeout_ms = 100;
  q2.tries = 2;
  auto to = query(dead.ns(), "example.test", type::A, q2);
  REQUIRE_FALSE(to.ok());
  CHECK(to.error().message().find("timed out") != std::string::npos);
  CHECK(dead.count() == 2);
}

TEST_CASE("resolver: invalid names fail without sending anything", "[resolver]") {
  TestDnsServer srv;
  auto cfg = config_for({srv.ns()}, {"example.test"}, 1);
  auto r = resolve_host("a..b", AF_INET, cfg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().context == "a..b: Name or service not known");
  CHECK(r.error().hint.find("empty label") != std::string::npos);
  CHECK_FALSE(resolve_host(std::string(64, 'x') + ".test", AF_INET, cfg).ok());
  CHECK_FALSE(resolve_host("", AF_INET, cfg).ok());
  CHECK(srv.count() == 0);
}

TEST_CASE("resolver: single-request serializes on one socket", "[resolver]") {
  TestDnsServer srv;
  srv.answer("dual.test", {a_rr("dual.test.", "192.0.2.10")});
  auto cfg = config_for({srv.ns()});
  cfg.resolv_conf->single_request = true;
  RecordingObserver obs;
  auto r = resolve_host("dual.test", AF_UNSPEC, cfg, &obs);
  REQUIRE(r.ok());
  auto seen = srv.seen();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].client_port == seen[1].client_port);
  REQUIRE(obs.attempts.size() == 2);
  CHECK(obs.attempts[0].qtype == type::A);  // A answered before AAAA was sent
  CHECK(obs.attempts[1].qtype == type::AAAA);
}

#include <arpa/inet.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "netshoot/resolv_conf.h"

using namespace netshoot::core::dns;

namespace {
struct EnvGuard {
  std::string name;
  explicit EnvGuard(std::string n, const char* value) : name(std::move(n)) {
    if (value) setenv(name.c_str(), value, 1);
    else unsetenv(name.c_str());
  }
  ~EnvGuard() { unsetenv(name.c_str()); }
};

std::string temp_file(const std::string& content) {
  char tmpl[] = "/tmp/netshoot-resolv-XXXXXX";
  int fd = mkstemp(tmpl);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
  close(fd);
  return tmpl;
}
}  // namespace

TEST_CASE("resolv.conf: kubernetes pod resolv.conf", "[resolv]") {
  auto c = parse_resolv_conf(
      "search default.svc.cluster.local svc.cluster.local cluster.local\n"
      "nameserver 10.96.0.10\n"
      "options ndots:5\n");
  REQUIRE(c.nameservers.size() == 1);
  CHECK(c.nameservers[0].to_string() == "10.96.0.10#53");
  CHECK(c.search == std::vector<std::string>{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"});
  CHECK(c.ndots == 5);
  CHECK(c.timeout == 5);
  CHECK(c.attempts == 2);
}

TEST_CASE("resolv.conf: defaults and empty text", "[resolv]") {
  auto c = parse_resolv_conf("");
  CHECK(c.nameservers.empty());
  REQUIRE(c.servers().size() == 1);
  CHECK(c.servers()[0].to_string() == "127.0.0.1#53");
  CHECK(c.ndots == 1);
  CHECK(c.timeout == 5);
  CHECK(c.attempts == 2);
  CHECK(c.search.empty());
}

TEST_CASE("resolv.conf: nameservers: max 3, v4/v6, scope, bad ones skipped", "[resolv]") {
  auto c = parse_resolv_conf(
      "nameserver 192.0.2.1\n"
      "nameserver bogus\n"
      "nameserver 2001:db8::53\n"
      "nameserver fe80::1%1\n"
      "nameserver 192.0.2.4\n");
  REQUIRE(c.nameservers.size() == 3);
  CHECK(c.nameservers[0].addr.to_string() == "192.0.2.1");
  CHECK(c.nameservers[1].addr.family() == AF_INET6);
  CHECK(c.nameservers[2].addr.scope_id() == 1);
  CHECK(c.nameservers[0].port == 53);
  CHECK(c.warnings.size() == 1);
  sockaddr_storage ss;
  CHECK(c.nameservers[2].to_sockaddr(ss) == sizeof(sockaddr_in6));
  CHECK(reinterpret_cast<sockaddr_in6&>(ss).sin6_scope_id == 1);
  CHECK(reinterpret_cast<sockaddr_in6&>(ss).sin6_port == htons(53));
  CHECK(c.nameservers[1].to_string() == "2001:db8::53#53");
  CHECK(c.nameservers[2].to_string() == "fe80::1#53");  // as dig: no zone
}

TEST_CASE("resolv.conf: search/domain: last one wins, max 6, comments", "[resolv]") {
  auto c = parse_resolv_conf(
      "# comment\n"
      "; other comment\n"
      "search a.example b.example\n"
      "domain corp.example\n");
  CHECK(c.search == std::vector<std::string>{"corp.example"});
  c = parse_resolv_conf("domain corp.example\nsearch a b c d e f g h   # trailing comment\n");
  CHECK(c.search == std::vector<std::string>{"a", "b", "c", "d", "e", "f"});
  c = parse_resolv_conf("search example.com.\r\n");
  CHECK(c.search == std::vector<std::string>{"example.com"});
  c = parse_resolv_conf("  search indented.example\nsearchfoo x\n");
  CHECK(c.search.empty());
}

TEST_CASE("resolv.conf: options with caps and flags", "[resolv]") {
  auto c = parse_resolv_conf(
      "options ndots:20 timeout:99 attempts:9 rotate single-request single-request-reopen\n"
      "options use-vc edns0 trust-ad no-aaaa no-tld-query unknown-option debug\n");
  CHECK(c.ndots == 15);
  CHECK(c.timeout == 30);
  CHECK(c.attempts == 5);
  CHECK(c.rotate);
  CHECK(c.single_request);
  CHECK(c.single_request_reopen);
  CHECK(c.use_vc);
  CHECK(c.edns0);
  CHECK(c.trust_ad);
  CHECK(c.no_aaaa);
  CHECK(c.no_tld_query);
  c = parse_resolv_conf("options ndots:0 timeout:0 attempts:0 ndots:x\n");
  CHECK(c.ndots == 0);
  CHECK(c.timeout == 1);
  CHECK(c.attempts == 1);
}

TEST_CASE("resolv.conf: load: missing file gives defaults, env overrides", "[resolv]") {
  EnvGuard ro("RES_OPTIONS", nullptr);
  EnvGuard ld("LOCALDOMAIN", nullptr);
  auto missing = load_resolv_conf("/nonexistent/netshoot/resolv.conf");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->from_file);
  CHECK(missing->servers()[0].addr.to_string() == "127.0.0.1");

  std::string path = temp_file("nameserver 192.0.2.53\nsearch a.example\noptions ndots:2 timeout:3\n");
  auto c = load_resolv_conf(path);
  REQUIRE(c.ok());
  CHECK(c->from_file);
  CHECK(c->path == path);
  CHECK(c->ndots == 2);
  CHECK(c->timeout == 3);
  {
    EnvGuard ro2("RES_OPTIONS", "ndots:7 rotate");
    EnvGuard ld2("LOCALDOMAIN", "x.example y.example");
    auto e = load_resolv_conf(path);
    REQUIRE(e.ok());
    CHECK(e->ndots == 7);
    CHECK(e->rotate);
    CHECK(e->timeout == 3);
    CHECK(e->search == std::vector<std::string>{"x.example", "y.example"});
    auto noenv = load_resolv_conf(path, false);
    REQUIRE(noenv.ok());
    CHECK(noenv->ndots == 2);
  }
  std::remove(path.c_str());
}

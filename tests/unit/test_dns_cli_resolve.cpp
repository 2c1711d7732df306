// `dns resolve`'s diagnosis: why resolving a name cost more queries than it needed.
#include <catch2/catch.hpp>

#include "applets/dns/resolve.h"

using namespace netshoot::applet::dns;
namespace w = netshoot::core::dns;

namespace {

w::QueryAttempt attempt(const std::string& name, uint16_t t, uint16_t rcode, size_t answers, uint64_t seq) {
  w::QueryAttempt a;
  a.name = name;
  a.qtype = t;
  a.server = *w::NameServer::parse("10.96.0.10");
  a.outcome = w::QueryAttempt::Outcome::Response;
  a.rcode = rcode;
  a.answer_count = answers;
  a.sequence = seq;
  return a;
}

}  // namespace

TEST_CASE("dns resolve: ndots search-list cost is explained", "[dns_cli]") {
  auto conf = w::parse_resolv_conf(
      "nameserver 10.96.0.10\nsearch a.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n");
  std::vector<w::QueryAttempt> at;
  uint64_t seq = 0;
  for (const char* s : {"a.svc.cluster.local", "svc.cluster.local"})
    for (uint16_t t : {w::type::A, w::type::AAAA})
      at.push_back(attempt(std::string("api.example.com.") + s + ".", t, w::rcode::NXDOMAIN, 0, ++seq));
  at.push_back(attempt("api.example.com.", w::type::A, 0, 1, ++seq));
  at.push_back(attempt("api.example.com.", w::type::AAAA, 0, 1, ++seq));
  CHECK(diagnose("api.example.com", conf, at, "api.example.com.") ==
        "4 of 6 queries were NXDOMAIN search-list candidates: ndots:5 makes 'api.example.com' (2 dots) try the "
        "search list first; use a trailing dot or lower ndots");
  // A trailing dot: nothing to explain.
  std::vector<w::QueryAttempt> direct(at.end() - 2, at.end());
  CHECK(diagnose("api.example.com.", conf, direct, "api.example.com.").empty());
}

TEST_CASE("dns resolve: timeouts, truncation and SERVFAIL are named", "[dns_cli]") {
  auto conf = w::parse_resolv_conf("nameserver 10.96.0.10\noptions timeout:2\n");
  auto a = attempt("x.example.", w::type::A, 0, 1, 2);
  auto to = a;
  to.outcome = w::QueryAttempt::Outcome::Timeout;
  to.sequence = 1;
  auto tc = a;
  tc.truncated = true;
  tc.sequence = 3;
  auto sf = attempt("x.example.", w::type::AAAA, w::rcode::SERVFAIL, 0, 4);
  std::string d = diagnose("x.example", conf, {to, a, tc, sf}, "x.example.");
  CHECK(d == "1 query timed out (first: 10.96.0.10#53), each costing timeout:2s; 1 answer was truncated (TC) and "
             "retried over TCP; 10.96.0.10#53 answered SERVFAIL");
  auto sorted = in_send_order({sf, a, to});
  CHECK(sorted[0].sequence == 1);
  CHECK(sorted[2].sequence == 4);
}

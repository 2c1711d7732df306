// doctor without the network: targets and options, the verdict's choice among
// the layers, and the nftables evaluator on hand-built rules.
#include <netinet/in.h>  // before the linux/ headers

#include <cstdio>  // libnftnl/expr.h uses FILE

#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <catch2/catch.hpp>

#include "applets/doctor/layers.h"
#include "nft_exprs.h"

using netshoot::core::IpAddr;
using netshoot::core::nft::Expr;
using netshoot::core::nft::Rule;
using namespace netshoot::applet::doctor;

namespace {

using namespace netshoot::test::nft;

Options parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::vector<std::string> keep;
  keep = std::move(args);
  keep.insert(keep.begin(), "doctor");
  for (auto& a : keep) argv.push_back(a.data());
  auto o = parse_options(static_cast<int>(argv.size()), argv.data());
  REQUIRE(o.ok());
  return *o;
}

std::string parse_error(std::vector<std::string> args) {
  std::vector<char*> argv;
  args.insert(args.begin(), "doctor");
  for (auto& a : args) argv.push_back(a.data());
  auto o = parse_options(static_cast<int>(argv.size()), argv.data());
  REQUIRE_FALSE(o.ok());
  return o.error().message();
}

Expr counter(uint64_t packets) {
  Expr e{"counter", {}};
  e.set_u64(NFTNL_EXPR_CTR_PACKETS, packets).set_u64(NFTNL_EXPR_CTR_BYTES, packets * 60);
  return e;
}
Rule rule(std::vector<Expr> exprs) {
  Rule r;
  r.family = NFPROTO_INET;
  r.table = "filter";
  r.chain = "output";
  r.exprs = std::move(exprs);
  return r;
}
// tcp dport PORT [counter] drop
Rule tcp_dport_drop(uint16_t port, bool with_counter = true) {
  std::vector<Expr> e = {meta(NFT_META_L4PROTO), cmp(NFT_CMP_EQ, {IPPROTO_TCP}),
                         payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2),
                         cmp(NFT_CMP_EQ, {uint8_t(port >> 8), uint8_t(port)})};
  if (with_counter) e.push_back(counter(3));
  e.push_back(verdict(NF_DROP));
  return rule(e);
}

Flow tcp_flow(uint16_t dport) {
  return Flow{IpAddr::v4(10, 77, 1, 2), IpAddr::v4(10, 77, 3, 2), IPPROTO_TCP, 40000, dport};
}

Check check(const std::string& layer, Status s, const std::string& fault = {}) {
  Check c;
  c.layer = layer;
  c.status = s;
  c.fault = fault;
  c.summary = layer + " summary";
  c.message = fault.empty() ? "" : layer + ": " + fault;
  return c;
}

}  // namespace

TEST_CASE("doctor: targets as people paste them", "[doctor]") {
  auto t = parse_target("web");
  REQUIRE(t.ok());
  CHECK(t->host == "web");
  CHECK_FALSE(t->port);

  t = parse_target("web.prod.svc.cluster.local:8080");
  REQUIRE(t.ok());
  CHECK(t->host == "web.prod.svc.cluster.local");
  CHECK(t->port == 8080);

  t = parse_target("[2001:db8::1]:443");
  REQUIRE(t.ok());
  CHECK(t->host == "2001:db8::1");
  CHECK(t->port == 443);

  t = parse_target("2001:db8::1");
  REQUIRE(t.ok());
  CHECK(t->host == "2001:db8::1");
  CHECK_FALSE(t->port);

  t = parse_target("http://api.default.svc/healthz?x=1");
  REQUIRE(t.ok());
  CHECK(t->host == "api.default.svc");
  CHECK(t->port == 80);
  CHECK(t->scheme == "http");

  t = parse_target("HTTPS://user:pw@api:8443/");
  REQUIRE(t.ok());
  CHECK(t->host == "api");
  CHECK(t->port == 8443);

  t = parse_target("https://[::1]/");
  REQUIRE(t.ok());
  CHECK(t->host == "::1");
  CHECK(t->port == 443);
}

TEST_CASE("doctor: bad targets and options are one-line errors", "[doctor]") {
  CHECK(parse_error({"gopher://web/"}).find("unknown URL scheme \"gopher\"") != std::string::npos);
  CHECK(parse_error({"web:70000"}).find("invalid port \"70000\"") != std::string::npos);
  CHECK(parse_error({"web:0"}).find("invalid port") != std::string::npos);
  CHECK(parse_error({"web:http"}).find("invalid port") != std::string::npos);
  CHECK(parse_error({"-p", "abc", "web"}).find("invalid port \"abc\"") != std::string::npos);
  CHECK(parse_error({"[::1"}).find("missing ']'") != std::string::npos);
  CHECK(parse_error({"http:///x"}).find("no host") != std::string::npos);
  CHECK(parse_error({}).find("missing TARGET") != std::string::npos);
  CHECK(parse_error({"a", "b"}).find("more than one TARGET") != std::string::npos);
  CHECK(parse_error({"--timeout", "0", "web"}).find("--timeout") != std::string::npos);
  CHECK(parse_error({"--bogus", "web"}).find("unknown option --bogus") != std::string::npos);
  CHECK(parse_error({"--count"}).find("--count needs a value") != std::string::npos);
}

TEST_CASE("doctor: options", "[doctor]") {
  auto o = parse({"-p", "53", "--udp", "-4", "--timeout=1.5", "-c", "5", "dns.local"});
  CHECK(o.target.port == 53);
  CHECK(o.udp);
  CHECK(o.family == AF_INET);
  CHECK(o.timeout_s == Approx(1.5));
  CHECK(o.count == 5);
  // -p overrides the port of the target
  CHECK(parse({"web:80", "--port", "8080"}).target.port == 8080);
  // dns:// and udp:// mean UDP
  CHECK(parse({"dns://10.96.0.10"}).udp);
  CHECK(parse({"dns://10.96.0.10"}).target.port == 53);
  CHECK_FALSE(parse({"http://web"}).udp);
  CHECK(parse({"--resolv-conf", "/tmp/r", "--hosts", "/dev/null", "x"}).resolv_conf == "/tmp/r");
}

TEST_CASE("doctor: the verdict is the first failing layer", "[doctor]") {
  std::vector<Check> all_ok = {check("resolver", Status::pass), check("route", Status::pass),
                               check("neighbour", Status::skip), check("reachability", Status::warn),
                               check("path", Status::pass), check("policy", Status::pass)};
  CHECK(decide(all_ok).ok);

  auto v = decide({check("resolver", Status::fail, "nxdomain")});
  CHECK_FALSE(v.ok);
  CHECK(v.layer == "resolver");
  CHECK(v.fault == "nxdomain");
  CHECK(v.message == "resolver: nxdomain");

  v = decide({check("resolver", Status::pass), check("route", Status::pass), check("neighbour", Status::pass),
              check("reachability", Status::fail, "filtered"), check("path", Status::fail, "loss"),
              check("policy", Status::pass)});
  CHECK(v.layer == "reachability");
  CHECK(v.fault == "filtered");

  // a local rule that drops the flow explains the reachability symptom
  v = decide({check("resolver", Status::skip), check("route", Status::pass), check("neighbour", Status::pass),
              check("reachability", Status::fail, "filtered"), check("path", Status::pass),
              check("policy", Status::fail, "local-drop")});
  CHECK(v.layer == "policy");
  CHECK(v.fault == "local-drop");

  // but not an earlier layer's failure
  v = decide({check("route", Status::fail, "blackhole"), check("policy", Status::fail, "local-drop")});
  CHECK(v.layer == "route");
}

TEST_CASE("doctor: nftables rules evaluated against the flow", "[doctor]") {
  auto ev = evaluate_rule(tcp_dport_drop(8080), tcp_flow(8080), false);
  CHECK(ev.match == Match::yes);
  CHECK(ev.verdict == "drop");
  CHECK(ev.counter);
  CHECK(ev.packets == 3);
  CHECK(ev.text == "tcp dport 8080 counter drop");

  // another port: no match; the reply direction (sport 8080) does not match dport
  CHECK(evaluate_rule(tcp_dport_drop(8080), tcp_flow(8081), false).match == Match::no);
  CHECK(evaluate_rule(tcp_dport_drop(8080), tcp_flow(8080), true).match == Match::no);

  // UDP flow against a TCP rule
  Flow udp = tcp_flow(8080);
  udp.proto = IPPROTO_UDP;
  CHECK(evaluate_rule(tcp_dport_drop(8080), udp, false).match == Match::no);

  // ip daddr 10.77.3.0/24 reject: bitwise mask then cmp
  Expr bw{"bitwise", {}};
  bw.set_u32(NFTNL_EXPR_BITWISE_SREG, NFT_REG_1).set_u32(NFTNL_EXPR_BITWISE_DREG, NFT_REG_1)
      .set_u32(NFTNL_EXPR_BITWISE_LEN, 4).set_data(NFTNL_EXPR_BITWISE_MASK, {255, 255, 255, 0})
      .set_data(NFTNL_EXPR_BITWISE_XOR, {0, 0, 0, 0});
  Expr rej{"reject", {}};
  rej.set_u32(NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH).set_u32(NFTNL_EXPR_REJECT_CODE, 13);
  Rule net = rule({payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4), bw, cmp(NFT_CMP_EQ, {10, 77, 3, 0}), rej});
  ev = evaluate_rule(net, tcp_flow(80), false);
  CHECK(ev.match == Match::yes);
  CHECK(ev.verdict == "reject");
  CHECK(ev.text == "ip daddr 10.77.3.0 reject");
  Flow elsewhere = tcp_flow(80);
  elsewhere.dst = IpAddr::v4(10, 77, 4, 2);
  CHECK(evaluate_rule(net, elsewhere, false).match == Match::no);

  // a set lookup cannot be decided: maybe
  Expr lookup{"lookup", {}};
  lookup.set_str(NFTNL_EXPR_LOOKUP_SET, "blocked").set_u32(NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  ev = evaluate_rule(rule({payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4), lookup, verdict(NF_DROP)}), tcp_flow(80), false);
  CHECK(ev.match == Match::maybe);
  CHECK(ev.text == "@blocked drop");

  // dport range 8000-8100 (and != range)
  Expr range{"range", {}};
  range.set_u32(NFTNL_EXPR_RANGE_SREG, NFT_REG_1).set_u32(NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ)
      .set_data(NFTNL_EXPR_RANGE_FROM_DATA, {0x1f, 0x40}).set_data(NFTNL_EXPR_RANGE_TO_DATA, {0x1f, 0xa4});
  Rule r = rule({payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2), range, verdict(NF_ACCEPT)});
  CHECK(evaluate_rule(r, tcp_flow(8080), false).match == Match::yes);
  CHECK(evaluate_rule(r, tcp_flow(9000), false).match == Match::no);

  // a comment is shown
  Rule commented = tcp_dport_drop(8080, false);
  commented.comment = "block web";
  CHECK(evaluate_rule(commented, tcp_flow(8080), false).text ==
        "tcp dport 8080 drop comment \"block web\"");

  // IPv6 addresses
  Flow v6{IpAddr::parse("2001:db8::1").value(), IpAddr::parse("2001:db8::2").value(), IPPROTO_TCP, 1, 443};
  std::vector<uint8_t> dst(v6.dst.bytes().begin(), v6.dst.bytes().end());
  ev = evaluate_rule(rule({payload(NFT_PAYLOAD_NETWORK_HEADER, 24, 16), cmp(NFT_CMP_EQ, dst), verdict(NF_DROP)}), v6, false);
  CHECK(ev.match == Match::yes);
  CHECK(ev.text == "ip6 daddr 2001:db8::2 drop");
}

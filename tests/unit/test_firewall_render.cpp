// The firewall applet's expression decoder on hand-built rules (no kernel): the
// register machine, dependency removal, prefixes, flags, unknown expressions.
#include <cstdio>  // libnftnl/expr.h uses FILE

#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <catch2/catch.hpp>

#include "applets/firewall/render.h"
#include "nft_exprs.h"

using netshoot::core::nft::Expr;
using netshoot::core::nft::Rule;
using netshoot::core::nft::Ruleset;
using namespace netshoot::applet::firewall;

namespace {

using namespace netshoot::test::nft;


std::string text(uint32_t family, std::vector<Expr> exprs) {
  Rule r;
  r.family = family;
  r.table = "t";
  r.chain = "c";
  r.exprs = std::move(exprs);
  Ruleset rs;
  return render_rule(r, rs).text;
}

}  // namespace

TEST_CASE("firewall render: inet dependencies are dropped, payload fields named", "[firewall]") {
  // meta nfproto ipv4; ip saddr 10.0.0.0/8 (1-byte load); meta l4proto tcp; tcp dport 22; accept
  std::string t = text(NFPROTO_INET, {meta(NFT_META_NFPROTO), cmp(NFT_CMP_EQ, {NFPROTO_IPV4}),
                                      payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 1), cmp(NFT_CMP_EQ, {10}),
                                      meta(NFT_META_L4PROTO), cmp(NFT_CMP_EQ, {6}),
                                      payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2), cmp(NFT_CMP_EQ, {0, 22}),
                                      verdict(NF_ACCEPT)});
  CHECK(t == "ip saddr 10.0.0.0/8 tcp dport 22 accept");
  // A dependency that nothing uses stays, as nft prints it.
  CHECK(text(NFPROTO_INET, {meta(NFT_META_L4PROTO), cmp(NFT_CMP_EQ, {1}), verdict(NF_DROP)}) == "meta l4proto icmp drop");
  // Without a dependency a transport field is "th".
  CHECK(text(NFPROTO_IPV4, {payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2), cmp(NFT_CMP_NEQ, {0, 53})}) == "th dport != 53");
  // A network field in an inet table without nfproto: raw payload syntax, not a guess.
  CHECK(text(NFPROTO_INET, {payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4), cmp(NFT_CMP_EQ, {1, 2, 3, 4})}) ==
        "@nh,96,32 16909060");
}

TEST_CASE("firewall render: flags, masks, ranges, jumps", "[firewall]") {
  Expr ct{"ct", {}};
  ct.set_u32(NFTNL_EXPR_CT_KEY, NFT_CT_STATE).set_u32(NFTNL_EXPR_CT_DREG, NFT_REG_1);
  Expr bw{"bitwise", {}};
  bw.set_u32(NFTNL_EXPR_BITWISE_SREG, NFT_REG_1).set_u32(NFTNL_EXPR_BITWISE_DREG, NFT_REG_1)
      .set_u32(NFTNL_EXPR_BITWISE_LEN, 4).set_data(NFTNL_EXPR_BITWISE_MASK, {6, 0, 0, 0})
      .set_data(NFTNL_EXPR_BITWISE_XOR, {0, 0, 0, 0});
  CHECK(text(NFPROTO_IPV4, {ct, bw, cmp(NFT_CMP_NEQ, {0, 0, 0, 0}), verdict(NF_ACCEPT)}) ==
        "ct state established,related accept");
  Expr mask{"bitwise", {}};
  mask.set_u32(NFTNL_EXPR_BITWISE_SREG, NFT_REG_1).set_u32(NFTNL_EXPR_BITWISE_DREG, NFT_REG_1)
      .set_u32(NFTNL_EXPR_BITWISE_LEN, 4).set_data(NFTNL_EXPR_BITWISE_MASK, {0xff, 0x80, 0, 0})
      .set_data(NFTNL_EXPR_BITWISE_XOR, {0, 0, 0, 0});
  CHECK(text(NFPROTO_IPV4, {payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4), mask, cmp(NFT_CMP_EQ, {10, 128, 0, 0})}) ==
        "ip daddr 10.128.0.0/9");
  CHECK(text(NFPROTO_IPV4, {meta(NFT_META_MARK), cmp(NFT_CMP_EQ, {0x10, 0, 0, 0}), verdict(NFT_JUMP, "x")}) ==
        "meta mark 0x00000010 jump x");
  CHECK(text(NFPROTO_IPV4, {meta(NFT_META_L4PROTO), cmp(NFT_CMP_EQ, {17}),
                            payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2), cmp(NFT_CMP_GTE, {0x03, 0xe8}),
                            cmp(NFT_CMP_LTE, {0x07, 0xd0}), verdict(NFT_GOTO, "y")}) ==
        "udp sport 1000-2000 goto y");
}

TEST_CASE("firewall render: unknown expressions are shown raw, not guessed", "[firewall]") {
  Expr q{"queue", {}};
  q.set_u32(NFTNL_EXPR_QUEUE_NUM, 1);
  std::string t = text(NFPROTO_IPV4, {q, verdict(NF_ACCEPT)});
  CHECK(t.rfind("[ queue ", 0) == 0);
  CHECK(t.find(" accept") != std::string::npos);
  // A cmp on a register nothing loaded.
  CHECK(text(NFPROTO_IPV4, {cmp(NFT_CMP_EQ, {1})}).rfind("[ cmp ", 0) == 0);
}

TEST_CASE("firewall render: chain priorities and hooks by name", "[firewall]") {
  CHECK(priority_text(NFPROTO_IPV4, 1, 0) == "filter");
  CHECK(priority_text(NFPROTO_IPV4, 1, -160) == "mangle - 10");
  CHECK(priority_text(NFPROTO_IPV4, 1, 100) == "100");            // srcnat only on postrouting
  CHECK(priority_text(NFPROTO_IPV4, 4, 110) == "srcnat + 10");
  CHECK(priority_text(NFPROTO_INET, 0, -100) == "dstnat");
  CHECK(priority_text(NFPROTO_INET, 1, 250) == "250");
  CHECK(priority_text(NFPROTO_BRIDGE, 2, -195) == "filter + 5");
  CHECK(priority_text(NFPROTO_BRIDGE, 3, 100) == "out");
  CHECK(hook_name(NFPROTO_NETDEV, 0) == "ingress");
  CHECK(hook_name(NFPROTO_INET, 4) == "postrouting");
  uint32_t f = 0;
  CHECK(family_from_name("ip6", f));
  CHECK(f == NFPROTO_IPV6);
  CHECK_FALSE(family_from_name("ipx", f));
}

TEST_CASE("firewall render: iptables-nft compat expressions are named", "[firewall]") {
  Expr m{"match", {}};
  m.set_str(NFTNL_EXPR_MT_NAME, "conntrack").set_u32(NFTNL_EXPR_MT_REV, 3);
  Expr t{"target", {}};
  t.set_str(NFTNL_EXPR_TG_NAME, "MASQUERADE");
  CHECK(text(NFPROTO_IPV4, {m, t}) == "xt match \"conntrack\" xt target \"MASQUERADE\"");
}

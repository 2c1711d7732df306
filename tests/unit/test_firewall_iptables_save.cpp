// iptables-save's text from hand-built iptables-nft rules (no kernel): native
// expressions, xtables compat info structs, unknown parts flagged, table layout.
#include <cstdio>  // libnftnl/expr.h uses FILE
#include <cstring>

#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>

#include <catch2/catch.hpp>

#include "applets/firewall/iptables_save.h"
#include "nft_exprs.h"

using netshoot::core::nft::Chain;
using netshoot::core::nft::Expr;
using netshoot::core::nft::Rule;
using netshoot::core::nft::Ruleset;
using netshoot::core::nft::Table;
using namespace netshoot::applet::firewall;

namespace {

using namespace netshoot::test::nft;

template <typename T>
Expr xt(const char* kind, const std::string& name, uint32_t rev, const T& info) {
  bool m = std::string(kind) == "match";
  Expr e{kind, {}};
  e.set_str(m ? NFTNL_EXPR_MT_NAME : NFTNL_EXPR_TG_NAME, name);
  e.set_u32(m ? NFTNL_EXPR_MT_REV : NFTNL_EXPR_TG_REV, rev);
  std::vector<uint8_t> b(sizeof info);
  std::memcpy(b.data(), &info, sizeof info);
  e.set_data(m ? NFTNL_EXPR_MT_INFO : NFTNL_EXPR_TG_INFO, b);
  return e;
}
Rule rule(const std::string& chain, std::vector<Expr> exprs, const std::string& table = "filter") {
  Rule r;
  r.family = NFPROTO_IPV4;
  r.table = table;
  r.chain = chain;
  r.exprs = std::move(exprs);
  return r;
}

}  // namespace

TEST_CASE("iptables-save: native expressions in iptables' option order", "[firewall]") {
  // iifname "lo" (with its NUL), ip saddr 10.0.0.0/8 (1-byte load), tcp dport 22
  Rule r = rule("INPUT", {meta(NFT_META_IIFNAME), cmp(NFT_CMP_EQ, {'l', 'o', 0}),
                          payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 1), cmp(NFT_CMP_EQ, {10}),
                          meta(NFT_META_L4PROTO), cmp(NFT_CMP_EQ, {6}),
                          payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2), cmp(NFT_CMP_EQ, {0, 22}),
                          Expr{"counter", {}}, verdict(NF_ACCEPT)});
  CHECK(iptables_rule_text(r, false) == "-A INPUT -s 10.0.0.0/8 -i lo -p tcp -m tcp --dport 22 -j ACCEPT");
  // oifname "eth" without NUL is the wildcard eth+; != daddr; goto
  r = rule("X", {meta(NFT_META_OIFNAME), cmp(NFT_CMP_NEQ, {'e', 't', 'h'}),
                 payload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4), cmp(NFT_CMP_NEQ, {192, 168, 1, 1}),
                 verdict(NFT_GOTO, "Y")});
  CHECK(iptables_rule_text(r, false) == "-A X ! -d 192.168.1.1/32 ! -o eth+ -g Y");
  // tcp flags syn / fin,syn,rst,ack; counters with -c
  Expr band{"bitwise", {}};
  band.set_u32(NFTNL_EXPR_BITWISE_SREG, NFT_REG_1).set_u32(NFTNL_EXPR_BITWISE_DREG, NFT_REG_1)
      .set_u32(NFTNL_EXPR_BITWISE_LEN, 1).set_data(NFTNL_EXPR_BITWISE_MASK, {0x17}).set_data(NFTNL_EXPR_BITWISE_XOR, {0});
  Expr ctr{"counter", {}};
  ctr.set_u64(NFTNL_EXPR_CTR_PACKETS, 3).set_u64(NFTNL_EXPR_CTR_BYTES, 180);
  r = rule("INPUT", {meta(NFT_META_L4PROTO), cmp(NFT_CMP_EQ, {6}), payload(NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1), band,
                     cmp(NFT_CMP_EQ, {0x02}), ctr, verdict(NF_DROP)});
  CHECK(iptables_rule_text(r, false, true) == "[3:180] -A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP");
}

TEST_CASE("iptables-save: xtables compat structs, unknown ones flagged", "[firewall]") {
  xt_conntrack_mtinfo3 ct{};
  ct.match_flags = XT_CONNTRACK_STATE;
  ct.state_mask = XT_CONNTRACK_STATE_BIT(IP_CT_RELATED) | XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED);
  xt_conntrack_mtinfo3 st = ct;
  st.match_flags |= XT_CONNTRACK_STATE_ALIAS;
  st.invert_flags = XT_CONNTRACK_STATE;
  st.state_mask = XT_CONNTRACK_STATE_BIT(IP_CT_NEW);
  xt_multiport_v1 mp{};
  mp.flags = XT_MULTIPORT_DESTINATION;
  mp.count = 4;
  uint16_t ports[] = {80, 443, 8000, 8080};
  std::memcpy(mp.ports, ports, sizeof ports);
  mp.pflags[2] = 1;
  xt_comment_info cm{};
  std::strcpy(cm.comment, "say \"hi\"");
  ipt_reject_info rej{IPT_TCP_RESET};
  Rule r = rule("INPUT", {xt("match", "conntrack", 3, ct), xt("match", "conntrack", 3, st),
                          meta(NFT_META_L4PROTO), cmp(NFT_CMP_EQ, {6}), xt("match", "multiport", 1, mp),
                          xt("match", "comment", 0, cm), xt("target", "REJECT", 0, rej)});
  CHECK(iptables_rule_text(r, false) ==
        "-A INPUT -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -m state ! --state NEW"
        " -m multiport --dports 80,443,8000:8080 -m comment --comment \"say \\\"hi\\\"\" -j REJECT --reject-with tcp-reset");
  // A revision we do not know, an extension we do not know, a native expression
  // outside iptables' vocabulary: named, never guessed.
  r = rule("INPUT", {xt("match", "conntrack", 9, ct), xt("match", "frob", 0, cm), Expr{"numgen", {}},
                     xt("target", "TEE", 1, rej)});
  CHECK(iptables_rule_text(r, false) ==
        "-A INPUT [netshoot: cannot decode xt match conntrack rev 9] [netshoot: cannot decode xt match frob rev 0]"
        " [netshoot: cannot decode numgen] [netshoot: cannot decode xt target TEE rev 1]");
  // A native comparison outside iptables' vocabulary (ip ttl 64) names what it loaded.
  CHECK(iptables_rule_text(rule("INPUT", {payload(NFT_PAYLOAD_NETWORK_HEADER, 8, 1), cmp(NFT_CMP_EQ, {64}),
                                          verdict(NF_ACCEPT)}),
                           false) == "-A INPUT [netshoot: cannot decode payload network+8/1 cmp ==] -j ACCEPT");
  // conntrack with more than a state (an original source) is not cut down to the state.
  xt_conntrack_mtinfo3 more = ct;
  more.match_flags |= XT_CONNTRACK_ORIGSRC;
  CHECK(iptables_rule_text(rule("INPUT", {xt("match", "conntrack", 3, more)}), false) ==
        "-A INPUT [netshoot: cannot decode xt match conntrack rev 3]");
}

TEST_CASE("iptables-save: tables in iptables-nft's order, every builtin chain, user chains sorted", "[firewall]") {
  Ruleset rs;
  rs.tables = {Table{NFPROTO_IPV4, "nat", 1, 0}, Table{NFPROTO_IPV4, "filter", 2, 0}, Table{NFPROTO_IPV4, "other", 3, 0},
               Table{NFPROTO_IPV6, "filter", 4, 0}};
  Chain fwd;
  fwd.family = NFPROTO_IPV4;
  fwd.table = "filter";
  fwd.name = "FORWARD";
  fwd.base = true;
  fwd.policy = NF_DROP;
  Chain z = fwd, a = fwd;
  z.name = "ZED";
  z.base = false;
  a.name = "ALPHA";
  a.base = false;
  rs.chains = {fwd, z, a};
  rs.rules = {rule("ZED", {verdict(NFT_RETURN)}), rule("FORWARD", {verdict(NFT_JUMP, "ZED")}),
              rule("POSTROUTING", {}, "nat")};
  SaveOptions o;
  o.timestamp = "T";
  CHECK(iptables_save_text(rs, false, o) ==
        "# Generated by netshoot iptables-save (nf_tables) on T\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n"
        ":OUTPUT ACCEPT [0:0]\n:ALPHA - [0:0]\n:ZED - [0:0]\n-A FORWARD -j ZED\n-A ZED -j RETURN\nCOMMIT\n"
        "# Completed on T\n"
        "# Generated by netshoot iptables-save (nf_tables) on T\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n"
        ":OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING\nCOMMIT\n# Completed on T\n");
  o.table = "nat";
  CHECK(iptables_save_text(rs, false, o).find("*filter") == std::string::npos);
  CHECK(iptables_save_text(rs, true, SaveOptions{}).find("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT") !=
        std::string::npos);
}

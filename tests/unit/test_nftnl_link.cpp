// libnftnl on top of whichever libmnl is linked (Debian's .so in the dynamic build,
// src/core/mnl in the static one): build a batch with a table and a rule, parse the
// messages back. No kernel round trip, no privileges.
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct RuleFree {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
struct BatchStop {
  void operator()(mnl_nlmsg_batch* b) const { mnl_nlmsg_batch_stop(b); }
};
using TablePtr = std::unique_ptr<nftnl_table, TableFree>;
using RulePtr = std::unique_ptr<nftnl_rule, RuleFree>;

uint16_t nft_type(uint16_t msg) { return static_cast<uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg); }

}  // namespace

TEST_CASE("nftnl: table and rule through an mnl batch", "[nftnl][mnl]") {
  std::vector<char> buf(2 * MNL_SOCKET_BUFFER_SIZE);
  std::unique_ptr<mnl_nlmsg_batch, BatchStop> batch(
      mnl_nlmsg_batch_start(buf.data(), MNL_SOCKET_BUFFER_SIZE));
  REQUIRE(batch);
  uint32_t seq = 100;

  nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch.get())), seq++);
  REQUIRE(mnl_nlmsg_batch_next(batch.get()));

  TablePtr table(nftnl_table_alloc());
  REQUIRE(table);
  nftnl_table_set_str(table.get(), NFTNL_TABLE_NAME, "netshoot");
  nftnl_table_set_u32(table.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_u32(table.get(), NFTNL_TABLE_FLAGS, NFT_TABLE_F_DORMANT);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch.get())),
                                        NFT_MSG_NEWTABLE, NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, seq++);
  nftnl_table_nlmsg_build_payload(nlh, table.get());
  REQUIRE(mnl_nlmsg_batch_next(batch.get()));

  // A rule "ip protocol tcp" : payload load + cmp, nested expressions.
  RulePtr rule(nftnl_rule_alloc());
  REQUIRE(rule);
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, "netshoot");
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, "input");
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_expr* payload = nftnl_expr_alloc("payload");
  REQUIRE(payload);
  nftnl_expr_set_u32(payload, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(payload, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32(payload, NFTNL_EXPR_PAYLOAD_OFFSET, 9);
  nftnl_expr_set_u32(payload, NFTNL_EXPR_PAYLOAD_LEN, 1);
  nftnl_rule_add_expr(rule.get(), payload);
  nftnl_expr* cmp = nftnl_expr_alloc("cmp");
  REQUIRE(cmp);
  nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(cmp, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  const uint8_t tcp = 6;
  nftnl_expr_set(cmp, NFTNL_EXPR_CMP_DATA, &tcp, sizeof(tcp));
  nftnl_rule_add_expr(rule.get(), cmp);
  nlh = nftnl_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch.get())), NFT_MSG_NEWRULE,
                              NFPROTO_INET, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, seq++);
  nftnl_rule_nlmsg_build_payload(nlh, rule.get());
  REQUIRE(mnl_nlmsg_batch_next(batch.get()));

  nftnl_batch_end(static_cast<char*>(mnl_nlmsg_batch_current(batch.get())), seq++);
  REQUIRE(mnl_nlmsg_batch_next(batch.get()));
  REQUIRE_FALSE(mnl_nlmsg_batch_is_empty(batch.get()));

  // Walk the batch and parse every message back.
  std::vector<uint16_t> types;
  std::vector<uint32_t> seqs;
  TablePtr parsed_table(nftnl_table_alloc());
  RulePtr parsed_rule(nftnl_rule_alloc());
  int len = static_cast<int>(mnl_nlmsg_batch_size(batch.get()));
  const auto* msg = static_cast<const nlmsghdr*>(mnl_nlmsg_batch_head(batch.get()));
  while (mnl_nlmsg_ok(msg, len)) {
    types.push_back(msg->nlmsg_type);
    seqs.push_back(msg->nlmsg_seq);
    if (msg->nlmsg_type == nft_type(NFT_MSG_NEWTABLE)) {
      REQUIRE(nftnl_table_nlmsg_parse(msg, parsed_table.get()) >= 0);
    } else if (msg->nlmsg_type == nft_type(NFT_MSG_NEWRULE)) {
      REQUIRE(nftnl_rule_nlmsg_parse(msg, parsed_rule.get()) >= 0);
    }
    msg = mnl_nlmsg_next(msg, &len);
  }
  CHECK(len == 0);
  CHECK(types == std::vector<uint16_t>{NFNL_MSG_BATCH_BEGIN, nft_type(NFT_MSG_NEWTABLE),
                                        nft_type(NFT_MSG_NEWRULE), NFNL_MSG_BATCH_END});
  CHECK(seqs == std::vector<uint32_t>{100, 101, 102, 103});

  CHECK(std::string(nftnl_table_get_str(parsed_table.get(), NFTNL_TABLE_NAME)) == "netshoot");
  CHECK(nftnl_table_get_u32(parsed_table.get(), NFTNL_TABLE_FAMILY) == NFPROTO_INET);
  CHECK(nftnl_table_get_u32(parsed_table.get(), NFTNL_TABLE_FLAGS) == NFT_TABLE_F_DORMANT);

  CHECK(std::string(nftnl_rule_get_str(parsed_rule.get(), NFTNL_RULE_TABLE)) == "netshoot");
  CHECK(std::string(nftnl_rule_get_str(parsed_rule.get(), NFTNL_RULE_CHAIN)) == "input");
  std::vector<std::string> exprs;
  nftnl_expr_iter* it = nftnl_expr_iter_create(parsed_rule.get());
  REQUIRE(it);
  for (nftnl_expr* e = nftnl_expr_iter_next(it); e != nullptr; e = nftnl_expr_iter_next(it)) {
    exprs.emplace_back(nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
    if (exprs.back() == "payload") {
      CHECK(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == 9);
      CHECK(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) == 1);
    } else if (exprs.back() == "cmp") {
      uint32_t dlen = 0;
      const auto* data = static_cast<const uint8_t*>(nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &dlen));
      REQUIRE(dlen == 1);
      CHECK(data[0] == tcp);
    }
  }
  nftnl_expr_iter_destroy(it);
  CHECK(exprs == std::vector<std::string>{"payload", "cmp"});

  // Text rendering goes through the same parsed attributes.
  char text[256];
  nftnl_table_snprintf(text, sizeof(text), parsed_table.get(), NFTNL_OUTPUT_DEFAULT, 0);
  CHECK(std::string(text).find("netshoot") != std::string::npos);
}

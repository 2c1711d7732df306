// nftables ruleset as the kernel holds it, read through libnftnl over
// NETLINK_NETFILTER (NFNL_SUBSYS_NFTABLES): tables, chains, sets with their
// elements, and rules as lists of raw expressions. Turning expressions back into
// nft's syntax is the firewall applet's job (src/applets/firewall/).
//
// Reads the calling thread's current network namespace; needs CAP_NET_ADMIN there.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::core::nft {

struct Table {
  uint32_t family = 0;      // NFPROTO_*
  std::string name;
  uint64_t handle = 0;
  uint32_t flags = 0;       // NFT_TABLE_F_DORMANT, ...
};

struct Chain {
  uint32_t family = 0;
  std::string table, name;
  uint64_t handle = 0;
  bool base = false;        // has a hook
  std::string type;         // filter, nat, route
  uint32_t hooknum = 0;
  int32_t prio = 0;
  uint32_t policy = 1;      // NF_ACCEPT / NF_DROP (base chains)
  std::string dev;          // netdev/ingress device ("" none)
  std::vector<std::string> devs;
  uint64_t packets = 0, bytes = 0;  // base chain counters (the policy's, as iptables-nft keeps them)
};

// One expression: its name ("payload", "cmp", ...) and every attribute libnftnl
// reports as set, by libnftnl's NFTNL_EXPR_* id, as the bytes nftnl_expr_get
// returns (u32 attributes in host order, strings NUL-terminated).
struct Expr {
  std::string name;
  std::map<uint16_t, std::vector<uint8_t>> attrs;

  bool has(uint16_t id) const { return attrs.count(id) != 0; }
  uint32_t u32(uint16_t id, uint32_t fallback = 0) const;
  uint64_t u64(uint16_t id, uint64_t fallback = 0) const;
  std::string str(uint16_t id) const;
  std::vector<uint8_t> data(uint16_t id) const;
  // Test helpers: set an attribute.
  Expr& set_u32(uint16_t id, uint32_t v);
  Expr& set_u64(uint16_t id, uint64_t v);
  Expr& set_str(uint16_t id, const std::string& v);
  Expr& set_data(uint16_t id, const std::vector<uint8_t>& v);
};

struct SetElem {
  std::vector<uint8_t> key, key_end, data;
  uint32_t flags = 0;                  // NFT_SET_ELEM_INTERVAL_END, ...
  std::optional<int32_t> verdict;      // verdict maps
  std::string chain;                   // jump/goto target of a verdict
  uint64_t timeout = 0, expiration = 0;
  std::vector<Expr> exprs;      // per-element statements (counter, ...)
};

struct Set {
  uint32_t family = 0;
  std::string table, name;
  uint64_t handle = 0;
  uint32_t flags = 0;       // NFT_SET_*
  uint32_t key_type = 0, key_len = 0;
  uint32_t data_type = 0, data_len = 0;
  uint64_t timeout = 0;      // ms, 0 = none
  uint32_t gc_interval = 0;  // ms
  uint32_t size = 0;         // 0 = unset
  std::vector<Expr> exprs;  // statements every element gets ("counter")
  std::vector<SetElem> elems;
};


struct Rule {
  uint32_t family = 0;
  std::string table, chain;
  uint64_t handle = 0;
  std::string comment;      // from the rule's user data (nft's "comment")
  std::vector<Expr> exprs;
};

// Stateful objects (NFT_MSG_GETOBJ): counters and quotas are decoded, other
// types only named.
struct Object {
  uint32_t family = 0;
  std::string table, name;
  uint64_t handle = 0;
  uint32_t type = 0;        // NFT_OBJECT_COUNTER 1, NFT_OBJECT_QUOTA 2, ...
  uint64_t packets = 0, bytes = 0;  // counter; quota: bytes = limit
  uint64_t consumed = 0;    // quota
  uint32_t flags = 0;       // quota: NFT_QUOTA_F_INV
};

struct Ruleset {
  std::vector<Table> tables;
  std::vector<Chain> chains;
  std::vector<Set> sets;    // anonymous sets included (NFT_SET_ANONYMOUS)
  std::vector<Rule> rules;
  std::vector<Object> objects;
};

// Everything of `family` (NFPROTO_UNSPEC = all). A kernel without nf_tables gives
// an error whose hint says so (EOPNOTSUPP / EPROTONOSUPPORT from nfnetlink).
Result<Ruleset> dump_ruleset(uint32_t family = 0);

}  // namespace netshoot::core::nft

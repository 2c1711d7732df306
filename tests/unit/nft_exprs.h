// Hand-built nftables expressions for unit tests of code that reads rules (the
// firewall renderers, doctor's flow matcher): what libnftnl would report.
#pragma once

#include <cstdio>  // libnftnl/expr.h uses FILE

#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netshoot/nftables.h"

namespace netshoot::test::nft {

using core::nft::Expr;

inline Expr payload(uint32_t base, uint32_t off, uint32_t len, uint32_t reg = NFT_REG_1) {
  Expr e{"payload", {}};
  e.set_u32(NFTNL_EXPR_PAYLOAD_DREG, reg).set_u32(NFTNL_EXPR_PAYLOAD_BASE, base)
      .set_u32(NFTNL_EXPR_PAYLOAD_OFFSET, off).set_u32(NFTNL_EXPR_PAYLOAD_LEN, len);
  return e;
}
inline Expr meta(uint32_t key) {
  Expr e{"meta", {}};
  e.set_u32(NFTNL_EXPR_META_KEY, key).set_u32(NFTNL_EXPR_META_DREG, NFT_REG_1);
  return e;
}
inline Expr cmp(uint32_t op, std::vector<uint8_t> data, uint32_t reg = NFT_REG_1) {
  Expr e{"cmp", {}};
  e.set_u32(NFTNL_EXPR_CMP_SREG, reg).set_u32(NFTNL_EXPR_CMP_OP, op).set_data(NFTNL_EXPR_CMP_DATA, data);
  return e;
}
inline Expr verdict(int32_t v, const std::string& chain = {}) {
  Expr e{"immediate", {}};
  e.set_u32(NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT).set_u32(NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(v));
  if (!chain.empty()) e.set_str(NFTNL_EXPR_IMM_CHAIN, chain);
  return e;
}

}  // namespace netshoot::test::nft

// nftables ruleset -> nft's text (`nft list ruleset`) and JSON (`nft -j list ruleset`).
// Pure functions over core::nft::Ruleset, so unit tests can feed hand-built
// expressions. Expressions that are not understood are shown as
// `[ NAME ... ]` (text) / {"netshoot_unsupported": ...} (JSON), never guessed.
#pragma once

#include <cstdint>
#include <string>

#include "netshoot/nftables.h"
#include "netshoot/output.h"

namespace netshoot::applet::firewall {

std::string family_name(uint32_t family);          // ip, ip6, inet, arp, bridge, netdev
bool family_from_name(const std::string& name, uint32_t& family);

// "filter", "filter - 10", "srcnat", "250": nft's symbolic chain priorities.
std::string priority_text(uint32_t family, uint32_t hooknum, int32_t prio);
std::string hook_name(uint32_t family, uint32_t hooknum);

struct RenderedRule {
  std::string text;     // statements, space separated (without comment)
  core::Json exprs;     // the JSON "expr" array
};
RenderedRule render_rule(const core::nft::Rule& rule, const core::nft::Ruleset& rs);

// What to list: everything, one table (of `family` when family != 0), or one
// chain / one set or map of that table (`list chain|set`: no table item in JSON).
struct Selection {
  std::string table;
  uint32_t family = 0;
  std::string chain, set;  // at most one non-empty
};

std::string ruleset_text(const core::nft::Ruleset& rs, const Selection& sel = {});
// Items of nft's {"nftables": [...]} array (metainfo first).
core::Json ruleset_json(const core::nft::Ruleset& rs, const Selection& sel = {});

}  // namespace netshoot::applet::firewall

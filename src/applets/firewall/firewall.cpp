// firewall / nft (read-only): the nftables ruleset through libnftnl, printed as
// `nft list ruleset` / `nft list table [FAMILY] NAME` print it, or as nft's JSON
// (`-j`); --json gives one JSON object per line ({"type":"rule",...}).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "applets/firewall/iptables_save.h"
#include "applets/firewall/render.h"
#include "netshoot/applet.h"
#include "netshoot/nftables.h"
#include "netshoot/output.h"

namespace netshoot::applet::firewall {
namespace {

constexpr const char* kUsage =
    "Usage: firewall [-j] [list ruleset [FAMILY] | list table [FAMILY] NAME | list tables | list chain|set|map ...]\n"
    "       nft [-j] list ruleset [FAMILY]\n"
    "       nft [-j] list table [FAMILY] NAME\n"
    "       nft [-j] list tables\n"
    "       nft [-j] list chain|set|map [FAMILY] TABLE NAME\n"
    "FAMILY: ip, ip6, inet, arp, bridge, netdev. Read-only: changing the ruleset is left to nft.\n"
    "  -j        nft's JSON document ({\"nftables\": [...]})\n"
    "  --json    one JSON object per line: {\"type\":\"rule\",\"rule\":{...}} (metainfo, table, set, map, chain, rule)\n";

int fail(std::string_view self, const std::string& msg, int code = kExitFailure) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(self.size()), self.data(), msg.c_str());
  return code;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  std::string_view self = argv[0];
  if (size_t sl = self.rfind('/'); sl != std::string_view::npos) self.remove_prefix(sl + 1);
  if (self == "iptables-save" || self == "ip6tables-save") return run_iptables_save(ctx, argc, argv, self[2] == '6');
  bool nft_json = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-j" || a == "--json") nft_json = true;
    else if (a == "-h" || a == "--help") { std::fputs(kUsage, stdout); return kExitOk; }
    else if (a == "-n" || a == "-nn" || a == "-nnn" || a == "--numeric" || a == "-s" || a == "--stateless") {
      // accepted for compatibility: our output is already numeric where nft's -n is
    } else if (!a.empty() && a[0] == '-') {
      return fail(self, "unknown option '" + std::string(a) + "' (try --help)", kExitUsage);
    } else {
      args.emplace_back(a);
    }
  }
  // What to list.
  enum class What { ruleset, table, tables, chain, set } what = What::ruleset;
  uint32_t family = 0;
  std::string table, object;
  if (!args.empty()) {
    if (args[0] != "list" && args[0] != "ls") {
      return fail(self, "only 'list ruleset|table|tables|chain|set|map' are supported (read-only); got '" +
                            args[0] + "'", kExitUsage);
    }
    if (args.size() < 2) return fail(self, "list what? (ruleset, table, tables)", kExitUsage);
    const std::string& obj = args[1];
    size_t rest = 2;
    if (obj == "ruleset") {
      what = What::ruleset;
      if (rest < args.size()) {
        if (!family_from_name(args[rest], family)) return fail(self, "unknown family '" + args[rest] + "'", kExitUsage);
        ++rest;
      }
    } else if (obj == "table") {
      what = What::table;
      if (rest + 1 < args.size()) {
        if (!family_from_name(args[rest], family)) return fail(self, "unknown family '" + args[rest] + "'", kExitUsage);
        ++rest;
      } else {
        family = family_from_name("ip", family) ? family : 0;  // nft's default family
      }
      if (rest >= args.size()) return fail(self, "list table: missing table name", kExitUsage);
      table = args[rest++];
    } else if (obj == "chain" || obj == "set" || obj == "map") {
      what = obj == "chain" ? What::chain : What::set;
      if (rest + 2 < args.size()) {
        if (!family_from_name(args[rest], family)) return fail(self, "unknown family '" + args[rest] + "'", kExitUsage);
        ++rest;
      } else {
        family_from_name("ip", family);
      }
      if (rest + 1 >= args.size()) return fail(self, "list " + obj + ": missing TABLE NAME", kExitUsage);
      table = args[rest++];
      object = args[rest++];
    } else if (obj == "tables") {
      what = What::tables;
      if (rest < args.size()) {
        if (!family_from_name(args[rest], family)) return fail(self, "unknown family '" + args[rest] + "'", kExitUsage);
        ++rest;
      }
    } else {
      return fail(self, "list " + obj + ": not supported (ruleset, table, tables, chain, set, map)", kExitUsage);
    }
    if (rest < args.size()) return fail(self, "unexpected argument '" + args[rest] + "'", kExitUsage);
  }

  auto rs = core::nft::dump_ruleset(family);
  if (!rs) return fail(self, rs.error().message());

  Selection sel{table, family, {}, {}};
  if (what == What::table || what == What::chain || what == What::set) {
    bool found = false;
    for (const auto& t : rs->tables) found |= t.name == table && t.family == family;
    if (!found) return fail(self, "list table " + family_name(family) + " " + table + ": no such table");
  }
  if (what == What::chain || what == What::set) {
    bool found = false;
    for (const auto& s : rs->sets) found |= what == What::set && s.name == object && s.table == table && s.family == family;
    for (const auto& c : rs->chains) found |= what == What::chain && c.name == object && c.table == table && c.family == family;
    if (!found) {
      return fail(self, "list " + std::string(what == What::chain ? "chain " : "set ") + family_name(family) + " " +
                            table + " " + object + ": no such " + (what == What::chain ? "chain" : "set"));
    }
    (what == What::chain ? sel.chain : sel.set) = object;
  }

  if (what == What::tables) {
    if (ctx.json || nft_json) {
      core::Json items = ruleset_json(core::nft::Ruleset{rs->tables, {}, {}, {}, {}});
      if (ctx.json) {
        auto out = core::Output::make(true);
        for (const auto& it : items) out->record(it.begin().key(), it, "");
        out->flush();
      } else {
        std::printf("%s\n", core::Json{{"nftables", items}}.dump().c_str());
      }
      return kExitOk;
    }
    for (const auto& t : rs->tables)
      if (!family || t.family == family) std::printf("table %s %s\n", family_name(t.family).c_str(), t.name.c_str());
    return kExitOk;
  }

  core::Json items = core::Json::array();
  if (ctx.json || nft_json) {
    items = ruleset_json(*rs, sel);
  }
  if (ctx.json) {
    auto out = core::Output::make(true);
    for (const auto& it : items) out->record(it.begin().key(), it, "");
    out->flush();
    return kExitOk;
  }
  if (nft_json) {
    std::string s = core::Json{{"nftables", items}}.dump() + "\n";
    std::fwrite(s.data(), 1, s.size(), stdout);
    return kExitOk;
  }
  std::string s = ruleset_text(*rs, sel);
  std::fwrite(s.data(), 1, s.size(), stdout);
  return kExitOk;
}

}  // namespace netshoot::applet::firewall

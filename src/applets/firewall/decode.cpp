// Expressions back to nft syntax: a small register machine that follows the
// loads (payload, meta, ct, numgen, fib, immediate) into registers and turns the
// consumers (cmp, range, lookup, bitwise+cmp, statements) into nft's statements,
// dropping the protocol-dependency matches nft adds itself (meta nfproto before
// `ip saddr` in inet tables, meta l4proto before `tcp dport`).
#include "applets/firewall/render.h"
#include "applets/firewall/render_internal.h"

#include <arpa/inet.h>
#include <cstdio>  // before libnftnl/expr.h, which uses FILE
#include <libnftnl/expr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

namespace netshoot::applet::firewall {
namespace {

using namespace detail;
using core::nft::Expr;
using core::nft::Rule;

// ---- register contents -------------------------------------------------------------

enum class Dep { none, nfproto, l4proto, ethertype };

struct Reg {
  std::string text;        // "ip saddr", "meta mark", "ct state"
  Json json;               // {"payload": {...}}
  T type = T::integer;
  uint32_t len = 0;        // bytes
  bool constant = false;   // immediate data
  Bytes data;              // the constant
  Dep dep = Dep::none;     // a load nft uses as a protocol dependency
  bool dep_keep = false;   // ... that nft prints even when used (payload deps)
  // payload loads shorter than their field (a prefix match): field length in bytes
  uint32_t field_len = 0;
  bool address = false;    // prefixes print as a/len
  // bitwise applied (mask, xor)
  Bytes mask, xr;
  bool masked = false;
  std::vector<Reg> parts;  // concatenation (lookup of a multi-register key)
  bool fib_present = false;  // fib ... exists/missing (a boolean result)
  std::string proto;         // payload: the header it was read from ("udp"), for merged loads
  int dep_index = -1;        // the dependency match a merged load will consume
  uint32_t offset = 0;
};

struct Stmt {
  std::string text;
  Json json;
  Dep dep = Dep::none;     // an equality match that can serve as a dependency
  uint64_t dep_value = 0;
  bool keep = false;       // names the header but stays printed (ip protocol, ip6 nexthdr)
  bool dropped = false;
};

// 32-bit register index of a register number (NFT_REG_1..4 are 16-byte registers).
uint32_t reg32(uint32_t r) {
  if (r >= NFT_REG_1 && r <= NFT_REG_4) return NFT_REG32_00 + (r - NFT_REG_1) * 4;
  return r;
}

const char* meta_key_name(uint32_t k) {
  static const char* const names[] = {
      "length", "protocol", "priority", "mark", "iif", "oif", "iifname", "oifname", "iiftype",
      "oiftype", "skuid", "skgid", "nftrace", "rtclassid", "secmark", "nfproto", "l4proto",
      "ibrname", "obrname", "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "random",
      "ipsec", "iifkind", "oifkind", "ibrpvid", "ibrvproto", "time", "day", "hour", "sdif",
      "sdifname", "broute"};
  return k < std::size(names) ? names[k] : nullptr;
}

T meta_key_type(uint32_t k, uint32_t& len) {
  len = 4;
  switch (k) {
    case NFT_META_PROTOCOL: len = 2; return T::ether_type;
    case NFT_META_MARK: return T::mark;
    case NFT_META_IIF: case NFT_META_OIF: return T::ifindex;
    case NFT_META_IIFNAME: case NFT_META_OIFNAME: case NFT_META_BRI_IIFNAME: case NFT_META_BRI_OIFNAME:
      len = 16; return T::ifname;
    case NFT_META_NFPROTO: len = 1; return T::nfproto;
    case NFT_META_L4PROTO: len = 1; return T::inet_proto;
    case NFT_META_PKTTYPE: len = 1; return T::pkttype;
    case NFT_META_SKUID: return T::uid;
    case NFT_META_SKGID: return T::gid;
    case NFT_META_IIFTYPE: case NFT_META_OIFTYPE: len = 2; return T::integer;
    default: return T::integer;
  }
}

const char* ct_key_name(uint32_t k) {
  static const char* const names[] = {
      "state", "direction", "status", "mark", "secmark", "expiration", "helper", "l3proto",
      "saddr", "daddr", "protocol", "proto-src", "proto-dst", "label", "packets", "bytes",
      "avgpkt", "zone", "event", "ip saddr", "ip daddr", "ip6 saddr", "ip6 daddr", "id"};
  return k < std::size(names) ? names[k] : nullptr;
}

T ct_key_type(uint32_t k) {
  switch (k) {
    case NFT_CT_STATE: return T::ct_state;
    case NFT_CT_DIRECTION: return T::ct_dir;
    case NFT_CT_STATUS: return T::ct_status;
    case NFT_CT_MARK: return T::mark;
    case NFT_CT_L3PROTOCOL: return T::nfproto;
    case NFT_CT_PROTOCOL: return T::inet_proto;
    case NFT_CT_PROTO_SRC: case NFT_CT_PROTO_DST: return T::inet_service;
    case NFT_CT_SRC_IP: case NFT_CT_DST_IP: return T::ipv4;
    case NFT_CT_SRC_IP6: case NFT_CT_DST_IP6: return T::ipv6;
    case NFT_CT_HELPER: return T::string;
    default: return T::integer;
  }
}

// ---- the rule decoder --------------------------------------------------------------

class Decoder {
 public:
  Decoder(const Rule& r, const Ruleset& rs) : rule_(r), rs_(rs) {}

  RenderedRule run() {
    const auto& ex = rule_.exprs;
    for (size_t i = 0; i < ex.size(); ++i) {
      const Expr& e = ex[i];
      // cmp gte + cmp lte on the same register: a range.
      if (e.name == "cmp" && e.u32(NFTNL_EXPR_CMP_OP) == NFT_CMP_GTE && i + 1 < ex.size() &&
          ex[i + 1].name == "cmp" && ex[i + 1].u32(NFTNL_EXPR_CMP_OP) == NFT_CMP_LTE &&
          ex[i + 1].u32(NFTNL_EXPR_CMP_SREG) == e.u32(NFTNL_EXPR_CMP_SREG)) {
        if (range(e.u32(NFTNL_EXPR_CMP_SREG), false, e.data(NFTNL_EXPR_CMP_DATA), ex[i + 1].data(NFTNL_EXPR_CMP_DATA))) {
          ++i;
          continue;
        }
      }
      if (!step(e)) unknown(e);
    }
    RenderedRule out;
    out.exprs = Json::array();
    for (const auto& s : stmts_) {
      if (s.dropped) continue;
      out.text += (out.text.empty() ? "" : " ") + s.text;
      out.exprs.push_back(s.json);
    }
    return out;
  }

 private:
  const Rule& rule_;
  const Ruleset& rs_;
  std::map<uint32_t, Reg> regs_;
  std::vector<Stmt> stmts_;

  void emit(std::string text, Json json) {
    Stmt s;
    s.text = std::move(text);
    s.json = std::move(json);
    stmts_.push_back(std::move(s));
  }

  void unknown(const Expr& e) {
    std::string t = "[ " + e.name;
    Json attrs = Json::object();
    for (const auto& [id, bytes] : e.attrs) {
      std::string v;
      for (uint8_t b : bytes) {
        char p[4];
        std::snprintf(p, sizeof(p), "%02x", b);
        v += p;
      }
      t += " " + std::to_string(id) + "=" + v;
      attrs[std::to_string(id)] = v;
    }
    emit(t + " ]", Json{{"netshoot_unsupported", Json{{"name", e.name}, {"attrs", attrs}}}});
  }

  Reg* get(uint32_t r) {
    auto it = regs_.find(reg32(r));
    return it == regs_.end() ? nullptr : &it->second;
  }
  void put(uint32_t r, Reg v) { regs_[reg32(r)] = std::move(v); }

  // The last dependency match of kind `d` not yet consumed.
  Stmt* find_dep(Dep d) {
    for (auto it = stmts_.rbegin(); it != stmts_.rend(); ++it)
      if (!it->dropped && it->dep == d) return &*it;
    return nullptr;
  }

  // Key of `len` bytes starting at register r: one register or a concatenation.
  std::optional<Reg> key_at(uint32_t r, uint32_t len) {
    Reg* first = get(r);
    if (!first) return std::nullopt;
    if (first->len >= len || len == 0) return *first;
    Reg cat;
    cat.json = Json{{"concat", Json::array()}};
    uint32_t idx = reg32(r), total = 0;
    while (total < len) {
      auto it = regs_.find(idx);
      if (it == regs_.end()) return std::nullopt;
      const Reg& p = it->second;
      cat.text += (cat.parts.empty() ? "" : " . ") + p.text;
      cat.json["concat"].push_back(p.json);
      cat.parts.push_back(p);
      uint32_t words = (std::max<uint32_t>(p.len, 1) + 3) / 4;
      total += words * 4;
      idx += words;
    }
    cat.len = len;
    return cat;
  }

  bool step(const Expr& e) {
    const std::string& n = e.name;
    if (n == "payload") return payload(e);
    if (n == "meta") return meta(e);
    if (n == "ct") return ct(e);
    if (n == "cmp") return cmp(e);
    if (n == "range") {
      return range(e.u32(NFTNL_EXPR_RANGE_SREG), e.u32(NFTNL_EXPR_RANGE_OP) == NFT_RANGE_NEQ,
                   e.data(NFTNL_EXPR_RANGE_FROM_DATA), e.data(NFTNL_EXPR_RANGE_TO_DATA));
    }
    if (n == "bitwise") return bitwise(e);
    if (n == "byteorder") return byteorder(e);
    if (n == "immediate") return immediate(e);
    if (n == "lookup") return lookup(e);
    if (n == "counter") {
      uint64_t p = e.u64(NFTNL_EXPR_CTR_PACKETS), b = e.u64(NFTNL_EXPR_CTR_BYTES);
      emit("counter packets " + std::to_string(p) + " bytes " + std::to_string(b),
           Json{{"counter", Json{{"packets", p}, {"bytes", b}}}});
      return true;
    }
    if (n == "numgen") return numgen(e);
    if (n == "fib") return fib(e);
    if (n == "log") return log(e);
    if (n == "limit") return limit(e);
    if (n == "reject") return reject(e);
    if (n == "nat") return nat(e);
    if (n == "masq" || n == "redir") return masq_redir(e);
    if (n == "connlimit") {
      bool over = e.u32(NFTNL_EXPR_CONNLIMIT_FLAGS) & NFT_CONNLIMIT_F_INV;
      uint32_t c = e.u32(NFTNL_EXPR_CONNLIMIT_COUNT);
      Json j{{"val", c}};
      if (over) j["inv"] = true;
      emit(std::string("ct count ") + (over ? "over " : "") + std::to_string(c), Json{{"ct count", j}});
      return true;
    }
    if (n == "quota") {
      bool over = e.u32(NFTNL_EXPR_QUOTA_FLAGS) & NFT_QUOTA_F_INV;
      uint64_t bytes = e.u64(NFTNL_EXPR_QUOTA_BYTES), used = e.u64(NFTNL_EXPR_QUOTA_CONSUMED);
      auto size = [](uint64_t v, std::string& unit) {
        static const char* const units[] = {"bytes", "kbytes", "mbytes", "gbytes"};
        int u = 0;
        while (u < 3 && v && v % 1024 == 0) { v /= 1024; ++u; }
        unit = units[u];
        return v;
      };
      std::string unit, used_unit;
      uint64_t v = size(bytes, unit), uv = size(used, used_unit);
      std::string t = std::string("quota ") + (over ? "over " : "") + std::to_string(v) + " " + unit;
      Json j{{"val", v}, {"val_unit", unit}};
      if (used) {
        t += " used " + std::to_string(uv) + " " + used_unit;
        j["used"] = uv;
        j["used_unit"] = used_unit;
      }
      if (over) j["inv"] = true;
      emit(t, Json{{"quota", j}});
      return true;
    }
    if (n == "objref" && e.has(NFTNL_EXPR_OBJREF_IMM_NAME)) {
      static const char* const kinds[] = {"", "counter", "quota", "ct helper", "limit", "ct timeout", "secmark",
                                          "ct expectation", "synproxy"};
      uint32_t type = e.u32(NFTNL_EXPR_OBJREF_IMM_TYPE);
      if (type == 0 || type >= std::size(kinds)) return false;
      std::string name = e.str(NFTNL_EXPR_OBJREF_IMM_NAME);
      emit(std::string(kinds[type]) + " name \"" + name + "\"", Json{{kinds[type], name}});
      return true;
    }
    if (n == "dynset") return dynset(e);
    if (n == "match" || n == "target") {
      // iptables-nft's compat expressions carry an xtables struct we do not
      // translate: name it (as nft does without libxtables) instead of guessing.
      std::string name = e.str(static_cast<uint16_t>(n == "match" ? +NFTNL_EXPR_MT_NAME : +NFTNL_EXPR_TG_NAME));
      emit("xt " + n + " \"" + name + "\"", Json{{"xt", Json{{"type", n}, {"name", name}}}});
      return true;
    }
    if (n == "notrack") {
      emit("notrack", Json{{"notrack", nullptr}});
      return true;
    }
    return false;
  }

  bool payload(const Expr& e) {
    if (e.has(NFTNL_EXPR_PAYLOAD_SREG)) return false;  // payload write (mangle): not decoded
    uint32_t base = e.u32(NFTNL_EXPR_PAYLOAD_BASE), off = e.u32(NFTNL_EXPR_PAYLOAD_OFFSET),
             len = e.u32(NFTNL_EXPR_PAYLOAD_LEN);
    std::string proto;
    Stmt* dep = nullptr;
    if (base == NFT_PAYLOAD_NETWORK_HEADER) {
      if (rule_.family == NFPROTO_IPV4) proto = "ip";
      else if (rule_.family == NFPROTO_IPV6) proto = "ip6";
      else if ((dep = find_dep(Dep::nfproto))) proto = dep->dep_value == NFPROTO_IPV4 ? "ip" : dep->dep_value == NFPROTO_IPV6 ? "ip6" : "";
      else if ((dep = find_dep(Dep::ethertype))) proto = dep->dep_value == 0x0800 ? "ip" : dep->dep_value == 0x86dd ? "ip6" : "";
    } else if (base == NFT_PAYLOAD_TRANSPORT_HEADER) {
      if ((dep = find_dep(Dep::l4proto))) {
        const char* h = l4_header(static_cast<unsigned>(dep->dep_value));
        proto = h ? h : "";
      }
      if (proto.empty()) { proto = "th"; dep = nullptr; }
      if (dep && (proto == "icmp" || proto == "icmpv6")) {
        // meta l4proto icmp/ipv6-icmp implies the network protocol nft added first
        if (Stmt* nf = find_dep(Dep::nfproto); nf && nf->dep_value == (proto == "icmp" ? NFPROTO_IPV4 : NFPROTO_IPV6))
          nf->dropped = true;
      }
    } else if (base == NFT_PAYLOAD_LL_HEADER) {
      if (rule_.family == NFPROTO_BRIDGE || rule_.family == NFPROTO_NETDEV) proto = "ether";
    }
    Reg r;
    r.len = len;
    const Field* f = nullptr;
    if (const auto* fields = proto.empty() ? nullptr : header_fields(proto)) {
      for (const auto& fd : *fields) {
        if (fd.off == off && len <= fd.len && (len == fd.len || fd.type == T::ipv4 || fd.type == T::ipv6 || fd.type == T::ether)) {
          f = &fd;
          break;
        }
      }
    }
    r.proto = proto;
    r.offset = off;
    if (!f) {
      if (dep && !dep->keep) r.dep_index = static_cast<int>(dep - stmts_.data());
      static const char* const bases[] = {"ll", "nh", "th", "ih"};
      std::string b = base < std::size(bases) ? bases[base] : std::to_string(base);
      r.text = "@" + b + "," + std::to_string(off * 8) + "," + std::to_string(len * 8);
      r.json = Json{{"payload", Json{{"base", b}, {"offset", off * 8}, {"len", len * 8}}}};
      r.type = T::be_integer;
      put(e.u32(NFTNL_EXPR_PAYLOAD_DREG), std::move(r));
      return true;
    }
    if (dep && !dep->keep) dep->dropped = true;
    r.text = proto + " " + f->name;
    r.json = Json{{"payload", Json{{"protocol", proto}, {"field", f->name}}}};
    r.type = f->type;
    r.address = f->type == T::ipv4 || f->type == T::ipv6;
    if (len < f->len) r.field_len = f->len;
    if ((proto == "ip" && std::string(f->name) == "protocol") || (proto == "ip6" && std::string(f->name) == "nexthdr")) {
      r.dep = Dep::l4proto;
      r.dep_keep = true;
    }
    if (proto == "ether" && std::string(f->name) == "type") r.dep = Dep::ethertype;
    put(e.u32(NFTNL_EXPR_PAYLOAD_DREG), std::move(r));
    return true;
  }

  bool meta(const Expr& e) {
    uint32_t key = e.u32(NFTNL_EXPR_META_KEY);
    const char* name = meta_key_name(key);
    if (!name) return false;
    bool unqualified = key == NFT_META_IIF || key == NFT_META_OIF || key == NFT_META_IIFNAME ||
                       key == NFT_META_OIFNAME || key == NFT_META_IIFGROUP || key == NFT_META_OIFGROUP;
    std::string text = unqualified ? std::string(name) : std::string("meta ") + name;
    Json json{{"meta", Json{{"key", name}}}};
    if (e.has(NFTNL_EXPR_META_SREG)) {  // meta KEY set VALUE
      Reg* v = get(e.u32(NFTNL_EXPR_META_SREG));
      if (!v) return false;
      uint32_t len;
      T t = meta_key_type(key, len);
      Val val = v->constant ? format_value(t, v->data) : Val{v->text, v->json};
      emit(text + " set " + val.text, Json{{"mangle", Json{{"key", json}, {"value", val.json}}}});
      return true;
    }
    Reg r;
    r.text = text;
    r.json = json;
    r.type = meta_key_type(key, r.len);
    if (key == NFT_META_NFPROTO) r.dep = Dep::nfproto;
    if (key == NFT_META_L4PROTO) r.dep = Dep::l4proto;
    if (key == NFT_META_PROTOCOL) r.dep = Dep::ethertype;
    put(e.u32(NFTNL_EXPR_META_DREG), std::move(r));
    return true;
  }

  bool ct(const Expr& e) {
    uint32_t key = e.u32(NFTNL_EXPR_CT_KEY);
    const char* name = ct_key_name(key);
    if (!name) return false;
    std::string text = "ct ";
    Json j{{"key", name}};
    if (e.has(NFTNL_EXPR_CT_DIR)) {
      const char* d = e.u32(NFTNL_EXPR_CT_DIR) ? "reply" : "original";
      text += std::string(d) + " ";
      j["dir"] = d;
    }
    text += name;
    Json json{{"ct", j}};
    if (e.has(NFTNL_EXPR_CT_SREG)) {
      Reg* v = get(e.u32(NFTNL_EXPR_CT_SREG));
      if (!v) return false;
      Val val = v->constant ? format_value(ct_key_type(key), v->data) : Val{v->text, v->json};
      emit(text + " set " + val.text, Json{{"mangle", Json{{"key", json}, {"value", val.json}}}});
      return true;
    }
    Reg r;
    r.text = text;
    r.json = json;
    r.type = ct_key_type(key);
    r.len = type_len(r.type);
    r.address = r.type == T::ipv4 || r.type == T::ipv6;
    put(e.u32(NFTNL_EXPR_CT_DREG), std::move(r));
    return true;
  }

  bool numgen(const Expr& e) {
    uint32_t type = e.u32(NFTNL_EXPR_NG_TYPE), mod = e.u32(NFTNL_EXPR_NG_MODULUS), off = e.u32(NFTNL_EXPR_NG_OFFSET);
    const char* mode = type == NFT_NG_INCREMENTAL ? "inc" : type == NFT_NG_RANDOM ? "random" : nullptr;
    if (!mode) return false;
    Reg r;
    r.text = std::string("numgen ") + mode + " mod " + std::to_string(mod);
    if (off) r.text += " offset " + std::to_string(off);
    r.json = Json{{"numgen", Json{{"mode", mode}, {"mod", mod}, {"offset", off}}}};
    r.type = T::integer;
    r.len = 4;
    put(e.u32(NFTNL_EXPR_NG_DREG), std::move(r));
    return true;
  }

  bool fib(const Expr& e) {
    uint32_t flags = e.u32(NFTNL_EXPR_FIB_FLAGS), result = e.u32(NFTNL_EXPR_FIB_RESULT);
    static const std::pair<uint32_t, const char*> kFlags[] = {
        {NFTA_FIB_F_SADDR, "saddr"}, {NFTA_FIB_F_DADDR, "daddr"}, {NFTA_FIB_F_MARK, "mark"},
        {NFTA_FIB_F_IIF, "iif"}, {NFTA_FIB_F_OIF, "oif"}};
    std::string text = "fib";
    Json fl = Json::array();
    bool first = true;
    for (const auto& [bit, name] : kFlags) {
      if (!(flags & bit)) continue;
      text += std::string(first ? " " : " . ") + name;
      fl.push_back(name);
      first = false;
    }
    bool present = flags & NFTA_FIB_F_PRESENT;
    if (flags & ~0x3fu) return false;
    Reg r;
    r.fib_present = present;
    const char* res = nullptr;
    if (result == NFT_FIB_RESULT_OIF) { res = "oif"; r.type = T::ifindex; r.len = 4; }
    else if (result == NFT_FIB_RESULT_OIFNAME) { res = "oifname"; r.type = T::ifname; r.len = 16; }
    else if (result == NFT_FIB_RESULT_ADDRTYPE) { res = "type"; r.type = T::fib_addr; r.len = 4; }
    else return false;
    r.text = text + " " + res;
    r.json = Json{{"fib", Json{{"result", res}, {"flags", fl}}}};
    put(e.u32(NFTNL_EXPR_FIB_DREG), std::move(r));
    return true;
  }

  bool immediate(const Expr& e) {
    uint32_t dreg = e.u32(NFTNL_EXPR_IMM_DREG);
    if (dreg == NFT_REG_VERDICT) {
      if (!e.has(NFTNL_EXPR_IMM_VERDICT)) return false;
      Val v = verdict_value(static_cast<int32_t>(e.u32(NFTNL_EXPR_IMM_VERDICT)), e.str(NFTNL_EXPR_IMM_CHAIN));
      emit(v.text, v.json);
      return true;
    }
    Reg r;
    r.constant = true;
    r.data = e.data(NFTNL_EXPR_IMM_DATA);
    r.len = static_cast<uint32_t>(r.data.size());
    Val v = format_value(T::integer, r.data);
    r.text = v.text;
    r.json = v.json;
    put(dreg, std::move(r));
    return true;
  }

  bool bitwise(const Expr& e) {
    if (e.has(NFTNL_EXPR_BITWISE_OP) && e.u32(NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL) return false;
    Reg* src = get(e.u32(NFTNL_EXPR_BITWISE_SREG));
    if (!src || src->masked) return false;
    Reg r = *src;
    r.mask = e.data(NFTNL_EXPR_BITWISE_MASK);
    r.xr = e.data(NFTNL_EXPR_BITWISE_XOR);
    r.masked = true;
    put(e.u32(NFTNL_EXPR_BITWISE_DREG), std::move(r));
    return true;
  }

  bool byteorder(const Expr& e) {
    Reg* src = get(e.u32(NFTNL_EXPR_BYTEORDER_SREG));
    if (!src) return false;
    Reg r = *src;
    // hton of a host-order integer: the compared bytes are now big-endian.
    if (e.u32(NFTNL_EXPR_BYTEORDER_OP) == NFT_BYTEORDER_HTON && host_order(r.type)) r.type = T::be_integer;
    else if (e.u32(NFTNL_EXPR_BYTEORDER_OP) == NFT_BYTEORDER_NTOH && r.type == T::be_integer) r.type = T::integer;
    put(e.u32(NFTNL_EXPR_BYTEORDER_DREG), std::move(r));
    return true;
  }

  static bool all_zero(const Bytes& b) {
    return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
  }

  void match(const Reg& lhs, const std::string& op, const Val& rhs, Json left = nullptr) {
    Stmt s;
    s.text = lhs.text + " " + (op == "==" || op == "in" ? "" : op + " ") + rhs.text;
    s.json = Json{{"match", Json{{"op", op}, {"left", left.is_null() ? lhs.json : left}, {"right", rhs.json}}}};
    stmts_.push_back(std::move(s));
  }

  bool cmp(const Expr& e) {
    Reg* lp = get(e.u32(NFTNL_EXPR_CMP_SREG));
    if (!lp) return false;
    const Reg& l = *lp;
    uint32_t op = e.u32(NFTNL_EXPR_CMP_OP);
    static const char* const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    if (op >= std::size(ops)) return false;
    std::string o = ops[op];
    Bytes d = e.data(NFTNL_EXPR_CMP_DATA);
    if (l.masked && bitfield(l, op, d)) return true;
    if (l.masked) {
      bool xor_zero = all_zero(l.xr);
      // flags: (x & mask) != 0  ->  "ct state established,related"
      if (flag_names(l.type) && xor_zero && all_zero(d) && op == NFT_CMP_NEQ) {
        Val v = format_value(l.type, l.mask);
        match(l, "in", v);
        return true;
      }
      // a prefix of an address: (x & /len) == net
      int plen = prefix_len(l.mask);
      if (l.address && xor_zero && plen >= 0 && (op == NFT_CMP_EQ || op == NFT_CMP_NEQ)) {
        Val a = format_value(l.type, d);
        match(l, o, {a.text + "/" + std::to_string(plen), Json{{"prefix", Json{{"addr", a.json}, {"len", plen}}}}});
        return true;
      }
      if (!xor_zero) return false;
      Val m = format_value(l.type, l.mask), v = format_value(l.type, d);
      if (flag_names(l.type) && op == NFT_CMP_EQ) {  // nft: "tcp flags syn / syn,ack"
        Stmt s;
        s.text = l.text + " " + v.text + " / " + m.text;
        s.json = Json{{"match", Json{{"op", "=="}, {"left", Json{{"&", Json::array({l.json, m.json})}}}, {"right", v.json}}}};
        stmts_.push_back(std::move(s));
        return true;
      }
      Stmt s;
      s.text = l.text + " & " + m.text + " " + o + " " + v.text;
      s.json = Json{{"match", Json{{"op", o}, {"left", Json{{"&", Json::array({l.json, m.json})}}}, {"right", v.json}}}};
      stmts_.push_back(std::move(s));
      return true;
    }
    if (l.field_len) {  // a shorter load of an address field: a prefix
      Bytes full = d;
      full.resize(l.field_len, 0);
      Val a = format_value(l.type, full);
      int plen = static_cast<int>(l.len * 8);
      match(l, o, {a.text + "/" + std::to_string(plen), Json{{"prefix", Json{{"addr", a.json}, {"len", plen}}}}});
      return true;
    }
    if (l.fib_present && (op == NFT_CMP_EQ || op == NFT_CMP_NEQ)) {
      bool exists = (to_uint(d, true) != 0) == (op == NFT_CMP_EQ);
      Stmt s;
      s.text = l.text + (exists ? " exists" : " missing");
      s.json = Json{{"match", Json{{"op", "=="}, {"left", l.json}, {"right", exists}}}};
      stmts_.push_back(std::move(s));
      return true;
    }
    if (l.type == T::be_integer && !l.field_len && l.json.contains("payload") && op == NFT_CMP_EQ && split_fields(l, d))
      return true;
    Val v = format_value(l.type, d);
    if (flag_names(l.type) && op == NFT_CMP_EQ) {
      // an exact flags comparison: nft writes "=="
      Stmt s;
      s.text = l.text + " == " + v.text;
      s.json = Json{{"match", Json{{"op", "=="}, {"left", l.json}, {"right", v.json}}}};
      stmts_.push_back(std::move(s));
      return true;
    }
    match(l, o, v);
    if (op == NFT_CMP_EQ && l.dep != Dep::none) {
      stmts_.back().dep = l.dep;
      stmts_.back().dep_value = to_uint(d, l.dep != Dep::ethertype);
      stmts_.back().keep = l.dep_keep;
    }
    return true;
  }

  // Fields narrower than a byte, read with a mask: ip dscp/ecn/version/hdrlength,
  // ip6 dscp/ecn/version.
  bool bitfield(const Reg& l, uint32_t op, const Bytes& d) {
    if (!all_zero(l.xr) || l.proto.empty() || d.size() != l.mask.size()) return false;
    struct Bits { const char* proto; uint32_t off, len; uint32_t mask; const char* name; };
    static const Bits kBits[] = {
        {"ip", 0, 1, 0xf0, "version"}, {"ip", 0, 1, 0x0f, "hdrlength"}, {"ip", 1, 1, 0xfc, "dscp"},
        {"ip", 1, 1, 0x03, "ecn"},     {"ip6", 0, 1, 0xf0, "version"}, {"ip6", 0, 2, 0x0fc0, "dscp"},
        {"ip6", 1, 1, 0x30, "ecn"}};
    uint64_t mask = to_uint(l.mask, false), value = to_uint(d, false);
    const Bits* hit = nullptr;
    for (const auto& b : kBits)
      if (l.proto == b.proto && l.offset == b.off && l.len == b.len && mask == b.mask) hit = &b;
    if (!hit || (value & ~mask)) return false;
    static const char* const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    if (op >= std::size(ops)) return false;
    unsigned shift = 0;
    while (!((hit->mask >> shift) & 1)) ++shift;
    uint64_t v = value >> shift;
    std::string field = hit->name;
    Val val{std::to_string(v), v};
    if (field == "dscp") {
      val.text = hex(v, 2);  // nft prints unnamed codepoints in hex
      static const std::pair<unsigned, const char*> names[] = {
          {0, "cs0"}, {8, "cs1"}, {16, "cs2"}, {24, "cs3"}, {32, "cs4"}, {40, "cs5"}, {48, "cs6"}, {56, "cs7"},
          {10, "af11"}, {12, "af12"}, {14, "af13"}, {18, "af21"}, {20, "af22"}, {22, "af23"}, {26, "af31"},
          {28, "af32"}, {30, "af33"}, {34, "af41"}, {36, "af42"}, {38, "af43"}, {46, "ef"}};
      for (const auto& [n, name] : names)
        if (n == v) val = {name, name};
    } else if (field == "ecn") {
      static const char* const names[] = {"not-ect", "ect1", "ect0", "ce"};
      val = {names[v & 3], names[v & 3]};
    }
    if (l.dep_index >= 0 && static_cast<size_t>(l.dep_index) < stmts_.size()) stmts_[l.dep_index].dropped = true;
    Reg r;
    r.text = l.proto + " " + field;
    r.json = Json{{"payload", Json{{"protocol", l.proto}, {"field", field}}}};
    match(r, ops[op], val);
    return true;
  }

  // nft merges adjacent equality matches of one header into one load
  // ("udp sport 68 udp dport 67" -> 4 bytes at th+0); split them back.
  bool split_fields(const Reg& l, const Bytes& d) {
    const auto* fields = l.proto.empty() ? nullptr : header_fields(l.proto);
    if (!fields) return false;
    std::vector<std::pair<const Field*, Bytes>> parts;
    uint32_t at = l.offset, end = l.offset + l.len;
    while (at < end) {
      const Field* hit = nullptr;
      for (const auto& fd : *fields)
        if (fd.off == at && at + fd.len <= end) hit = &fd;
      if (!hit) return false;
      parts.emplace_back(hit, Bytes(d.begin() + (at - l.offset), d.begin() + (at - l.offset + hit->len)));
      at += hit->len;
    }
    if (parts.size() < 2) return false;
    if (l.dep_index >= 0 && static_cast<size_t>(l.dep_index) < stmts_.size()) stmts_[l.dep_index].dropped = true;
    // A dependency consumed by this load names the header; its own dependency
    // (if any) was dropped already.
    for (const auto& [f, bytes] : parts) {
      Reg r;
      r.text = l.proto + " " + f->name;
      r.json = Json{{"payload", Json{{"protocol", l.proto}, {"field", f->name}}}};
      r.type = f->type;
      match(r, "==", format_value(f->type, bytes));
    }
    return true;
  }

  bool range(uint32_t sreg, bool neq, const Bytes& lo, const Bytes& hi) {
    Reg* l = get(sreg);
    if (!l || l->masked) return false;
    Val a = format_value(l->type, lo), b = format_value(l->type, hi);
    match(*l, neq ? "!=" : "==", {a.text + "-" + b.text, Json{{"range", Json::array({a.json, b.json})}}});
    return true;
  }

  bool lookup(const Expr& e) {
    std::string name = e.str(NFTNL_EXPR_LOOKUP_SET);
    const Set* s = find_set(rs_, rule_.family, rule_.table, name);
    auto key = key_at(e.u32(NFTNL_EXPR_LOOKUP_SREG), s ? s->key_len : 0);
    if (!key) return false;
    bool inv = e.u32(NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV;
    Val set;
    if (s && (s->flags & NFT_SET_ANONYMOUS)) {
      auto elems = set_elements(*s);
      Json arr = Json::array();
      for (const auto& el : elems) arr.push_back(elem_text_json(el).json);
      set = {elements_text(*s, elems, true), Json{{"set", arr}}};
    } else {
      set = {"@" + name, "@" + name};
    }
    if (e.has(NFTNL_EXPR_LOOKUP_DREG)) {
      uint32_t dreg = e.u32(NFTNL_EXPR_LOOKUP_DREG);
      if (dreg == NFT_REG_VERDICT) {
        emit(key->text + " vmap " + set.text, Json{{"vmap", Json{{"key", key->json}, {"data", set.json}}}});
        return true;
      }
      Reg r;
      r.text = key->text + " map " + set.text;
      r.json = Json{{"map", Json{{"key", key->json}, {"data", set.json}}}};
      r.type = s ? key_types(s->data_type)[0] : T::integer;
      r.len = s ? s->data_len : 4;
      put(dreg, std::move(r));
      return true;
    }
    match(*key, inv ? "!=" : "==", set);
    return true;
  }

  // add @s { ip saddr [timeout 10s] } / update / delete (no per-element statements)
  bool dynset(const Expr& e) {
    if (e.has(NFTNL_EXPR_DYNSET_EXPR) || e.has(NFTNL_EXPR_DYNSET_EXPRESSIONS) || e.has(NFTNL_EXPR_DYNSET_SREG_DATA))
      return false;
    std::string name = e.str(NFTNL_EXPR_DYNSET_SET_NAME);
    const Set* s = find_set(rs_, rule_.family, rule_.table, name);
    auto key = key_at(e.u32(NFTNL_EXPR_DYNSET_SREG_KEY), s ? s->key_len : 0);
    if (!key) return false;
    static const char* const ops[] = {"add", "update", "delete"};
    uint32_t op = e.u32(NFTNL_EXPR_DYNSET_OP);
    if (op >= std::size(ops)) return false;
    std::string elem = key->text;
    Json j{{"op", ops[op]}, {"elem", key->json}, {"set", "@" + name}};
    if (uint64_t t = e.u64(NFTNL_EXPR_DYNSET_TIMEOUT)) {
      elem += " timeout " + time_text(t);
      j["elem"] = Json{{"elem", Json{{"val", key->json}, {"timeout", t / 1000}}}};
    }
    emit(std::string(ops[op]) + " @" + name + " { " + elem + " }", Json{{"set", j}});
    return true;
  }

  bool log(const Expr& e) {
    std::string t = "log";
    Json j = Json::object();
    if (e.has(NFTNL_EXPR_LOG_PREFIX)) {
      t += " prefix \"" + e.str(NFTNL_EXPR_LOG_PREFIX) + "\"";
      j["prefix"] = e.str(NFTNL_EXPR_LOG_PREFIX);
    }
    if (e.has(NFTNL_EXPR_LOG_GROUP)) {
      t += " group " + std::to_string(e.u32(NFTNL_EXPR_LOG_GROUP));
      j["group"] = e.u32(NFTNL_EXPR_LOG_GROUP);
    }
    if (e.has(NFTNL_EXPR_LOG_SNAPLEN)) {
      t += " snaplen " + std::to_string(e.u32(NFTNL_EXPR_LOG_SNAPLEN));
      j["snaplen"] = e.u32(NFTNL_EXPR_LOG_SNAPLEN);
    }
    if (e.has(NFTNL_EXPR_LOG_QTHRESHOLD)) {
      t += " queue-threshold " + std::to_string(e.u32(NFTNL_EXPR_LOG_QTHRESHOLD));
      j["queue-threshold"] = e.u32(NFTNL_EXPR_LOG_QTHRESHOLD);
    }
    static const char* const levels[] = {"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit"};
    if (e.has(NFTNL_EXPR_LOG_LEVEL)) {
      uint32_t lv = e.u32(NFTNL_EXPR_LOG_LEVEL);
      if (lv != 4) {
        std::string name = lv < std::size(levels) ? levels[lv] : std::to_string(lv);
        t += " level " + name;
        j["level"] = name;
      }
    }
    if (e.has(NFTNL_EXPR_LOG_FLAGS) && e.u32(NFTNL_EXPR_LOG_FLAGS)) {
      // NF_LOG_TCPSEQ 0x01, NF_LOG_TCPOPT 0x02, NF_LOG_IPOPT 0x04, NF_LOG_UID 0x08, NF_LOG_MACDECODE 0x20
      uint32_t f = e.u32(NFTNL_EXPR_LOG_FLAGS);
      if ((f & 0x2f) == 0x2f) {
        t += " flags all";
        j["flags"] = "all";
      } else {
        if (f & 0x3) t += std::string(" flags tcp ") + ((f & 3) == 3 ? "sequence,options" : (f & 1) ? "sequence" : "options");
        if (f & 0x4) t += " flags ip options";
        if (f & 0x8) t += " flags skuid";
        if (f & 0x20) t += " flags ether";
        Json arr = Json::array();
        if (f & 1) arr.push_back("tcp sequence");
        if (f & 2) arr.push_back("tcp options");
        if (f & 4) arr.push_back("ip options");
        if (f & 8) arr.push_back("skuid");
        if (f & 0x20) arr.push_back("ether");
        j["flags"] = arr.size() == 1 ? arr[0] : arr;
      }
    }
    emit(t, Json{{"log", j.empty() ? Json(nullptr) : j}});
    return true;
  }

  bool limit(const Expr& e) {
    uint64_t rate = e.u64(NFTNL_EXPR_LIMIT_RATE), unit = e.u64(NFTNL_EXPR_LIMIT_UNIT);
    uint32_t burst = e.u32(NFTNL_EXPR_LIMIT_BURST), type = e.u32(NFTNL_EXPR_LIMIT_TYPE),
             flags = e.u32(NFTNL_EXPR_LIMIT_FLAGS);
    const char* per = unit == 1 ? "second" : unit == 60 ? "minute" : unit == 3600 ? "hour"
                      : unit == 86400 ? "day" : unit == 604800 ? "week" : nullptr;
    if (!per) return false;
    bool over = flags & NFT_LIMIT_F_INV;
    std::string t = std::string("limit rate ") + (over ? "over " : "");
    Json j = Json::object();
    if (type == NFT_LIMIT_PKT_BYTES) {
      static const char* const units[] = {"bytes", "kbytes", "mbytes"};
      auto scale = [](uint64_t v, int& u) {
        u = 0;
        while (u < 2 && v && v % 1024 == 0) { v /= 1024; ++u; }
        return v;
      };
      int ru;
      uint64_t r = scale(rate, ru);
      t += std::to_string(r) + " " + units[ru] + "/" + per;
      j = Json{{"rate", r}, {"burst", 0}, {"per", per}, {"rate_unit", units[ru]}, {"burst_unit", "bytes"}};
      if (burst) {
        int bu;
        uint64_t b = scale(burst, bu);
        t += " burst " + std::to_string(b) + " " + units[bu];
        j["burst"] = b;
        j["burst_unit"] = units[bu];
      }
    } else {
      t += std::to_string(rate) + "/" + per;
      if (burst != 5) t += " burst " + std::to_string(burst) + " packets";
      j = Json{{"rate", rate}, {"burst", burst}, {"per", per}};
    }
    if (over) j["inv"] = true;
    emit(t, Json{{"limit", j}});
    return true;
  }

  bool reject(const Expr& e) {
    uint32_t type = e.u32(NFTNL_EXPR_REJECT_TYPE), code = e.u32(NFTNL_EXPR_REJECT_CODE);
    if (type == NFT_REJECT_TCP_RST) {
      // nft adds `meta l4proto tcp` itself and leaves it out when listing
      if (Stmt* dep = find_dep(Dep::l4proto); dep && dep->dep_value == 6) dep->dropped = true;
      emit("reject with tcp reset", Json{{"reject", Json{{"type", "tcp reset"}}}});
      return true;
    }
    std::string kind;
    const char* name = nullptr;
    bool dflt = false;
    if (type == NFT_REJECT_ICMPX_UNREACH) {
      static const char* const n[] = {"no-route", "port-unreachable", "host-unreachable", "admin-prohibited"};
      kind = "icmpx";
      name = code < std::size(n) ? n[code] : nullptr;
      dflt = code == NFT_REJECT_ICMPX_PORT_UNREACH;
    } else if (type == NFT_REJECT_ICMP_UNREACH) {
      bool v6 = rule_.family == NFPROTO_IPV6;
      if (rule_.family != NFPROTO_IPV4 && rule_.family != NFPROTO_IPV6) {
        Stmt* dep = find_dep(Dep::nfproto);
        v6 = dep && dep->dep_value == NFPROTO_IPV6;
        if (dep) dep->dropped = true;  // implied by "with icmp" / "with icmpv6"
      }
      if (v6) {
        static const std::map<uint32_t, const char*> n6 = {{0, "no-route"}, {1, "admin-prohibited"},
            {3, "addr-unreachable"}, {4, "port-unreachable"}, {5, "policy-fail"}, {6, "reject-route"}};
        kind = "icmpv6";
        auto it = n6.find(code);
        name = it == n6.end() ? nullptr : it->second;
        dflt = code == 4 && rule_.family == NFPROTO_IPV6;
      } else {
        static const std::map<uint32_t, const char*> n4 = {{0, "net-unreachable"}, {1, "host-unreachable"},
            {2, "prot-unreachable"}, {3, "port-unreachable"}, {9, "net-prohibited"}, {10, "host-prohibited"},
            {13, "admin-prohibited"}};
        kind = "icmp";
        auto it = n4.find(code);
        name = it == n4.end() ? nullptr : it->second;
        dflt = code == 3 && rule_.family == NFPROTO_IPV4;
      }
    } else {
      return false;
    }
    std::string codename = name ? name : std::to_string(code);
    Json j{{"type", kind}, {"expr", codename}};
    emit(dflt ? "reject" : "reject with " + kind + " " + codename, Json{{"reject", j}});
    return true;
  }

  // A register holding an address or port: the constant formatted, else its expression.
  std::optional<Val> reg_value(uint32_t r, T t) {
    Reg* v = get(r);
    if (!v) return std::nullopt;
    if (v->constant) return format_value(t, v->data);
    return Val{v->text, v->json};
  }

  static std::string nat_flags_text(uint32_t flags, Json& j) {
    std::vector<std::string> f;
    if (flags & NF_NAT_RANGE_PROTO_RANDOM) f.emplace_back("random");
    if (flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) f.emplace_back("fully-random");
    if (flags & NF_NAT_RANGE_PERSISTENT) f.emplace_back("persistent");
    if (f.empty()) return {};
    std::string s;
    Json arr = Json::array();
    for (const auto& x : f) {
      s += (s.empty() ? "" : ",") + x;
      arr.push_back(x);
    }
    j["flags"] = arr.size() == 1 ? arr[0] : arr;
    return " " + s;
  }

  // ":80" / ":1000-2000" and the JSON "port".
  std::optional<std::string> ports(const Expr& e, uint16_t min_attr, uint16_t max_attr, Json& j) {
    if (!e.has(min_attr)) return std::string();
    auto lo = reg_value(e.u32(min_attr), T::inet_service);
    if (!lo) return std::nullopt;
    std::string s = ":" + lo->text;
    Json pj = lo->json;
    if (e.has(max_attr) && e.u32(max_attr) != e.u32(min_attr)) {
      auto hi = reg_value(e.u32(max_attr), T::inet_service);
      if (!hi) return std::nullopt;
      s += "-" + hi->text;
      pj = Json{{"range", Json::array({lo->json, hi->json})}};
    }
    j["port"] = pj;
    return s;
  }

  bool nat(const Expr& e) {
    uint32_t type = e.u32(NFTNL_EXPR_NAT_TYPE), fam = e.u32(NFTNL_EXPR_NAT_FAMILY), flags = e.u32(NFTNL_EXPR_NAT_FLAGS);
    const char* kind = type == NFT_NAT_SNAT ? "snat" : type == NFT_NAT_DNAT ? "dnat" : nullptr;
    if (!kind) return false;
    T at = fam == NFPROTO_IPV6 ? T::ipv6 : T::ipv4;
    std::string t = kind;
    Json j = Json::object();
    if (rule_.family == NFPROTO_INET) {
      const char* f = fam == NFPROTO_IPV6 ? "ip6" : "ip";
      t += std::string(" ") + f;
      j["family"] = f;
    }
    t += " to ";
    std::string addr;
    if (e.has(NFTNL_EXPR_NAT_REG_ADDR_MIN)) {
      auto lo = reg_value(e.u32(NFTNL_EXPR_NAT_REG_ADDR_MIN), at);
      if (!lo) return false;
      addr = lo->text;
      Json aj = lo->json;
      if (e.has(NFTNL_EXPR_NAT_REG_ADDR_MAX) && e.u32(NFTNL_EXPR_NAT_REG_ADDR_MAX) != e.u32(NFTNL_EXPR_NAT_REG_ADDR_MIN)) {
        auto hi = reg_value(e.u32(NFTNL_EXPR_NAT_REG_ADDR_MAX), at);
        if (!hi) return false;
        addr += "-" + hi->text;
        aj = Json{{"range", Json::array({lo->json, hi->json})}};
      }
      j["addr"] = aj;
    }
    auto p = ports(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFTNL_EXPR_NAT_REG_PROTO_MAX, j);
    if (!p) return false;
    if (at == T::ipv6 && !p->empty() && !addr.empty()) addr = "[" + addr + "]";
    t += addr + *p;
    t += nat_flags_text(flags, j);
    emit(t, Json{{kind, j}});
    return true;
  }

  bool masq_redir(const Expr& e) {
    bool masq = e.name == "masq";
    const char* kind = masq ? "masquerade" : "redirect";
    Json j = Json::object();
    auto p = masq ? ports(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN, NFTNL_EXPR_MASQ_REG_PROTO_MAX, j)
                  : ports(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, NFTNL_EXPR_REDIR_REG_PROTO_MAX, j);
    if (!p) return false;
    std::string t = kind;
    if (!p->empty()) t += " to " + *p;
    t += nat_flags_text(e.u32(static_cast<uint16_t>(masq ? +NFTNL_EXPR_MASQ_FLAGS : +NFTNL_EXPR_REDIR_FLAGS)), j);
    emit(t, Json{{kind, j.empty() ? Json(nullptr) : j}});
    return true;
  }
};

}  // namespace

RenderedRule render_rule(const Rule& rule, const Ruleset& rs) {
  return Decoder(rule, rs).run();
}

}  // namespace netshoot::applet::firewall

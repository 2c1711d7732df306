// nftables ruleset dump through libnftnl. See include/netshoot/nftables.h.
#include "netshoot/nftables.h"

#include <netinet/in.h>  // before the kernel headers (linux/in.h)

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cstring>
#include <memory>

#include "netshoot/netlink.h"

namespace netshoot::core::nft {

// Integer attributes come as 1, 2, 4 or 8 host-order bytes depending on the attribute.
uint64_t Expr::u64(uint16_t id, uint64_t fallback) const {
  auto it = attrs.find(id);
  if (it == attrs.end()) return fallback;
  const auto& d = it->second;
  switch (d.size()) {
    case 1: return d[0];
    case 2: { uint16_t v; std::memcpy(&v, d.data(), 2); return v; }
    case 4: { uint32_t v; std::memcpy(&v, d.data(), 4); return v; }
    default:
      if (d.size() >= 8) { uint64_t v; std::memcpy(&v, d.data(), 8); return v; }
      return fallback;
  }
}

uint32_t Expr::u32(uint16_t id, uint32_t fallback) const {
  return static_cast<uint32_t>(u64(id, fallback));
}

std::string Expr::str(uint16_t id) const {
  auto it = attrs.find(id);
  if (it == attrs.end()) return {};
  const auto& d = it->second;
  return std::string(reinterpret_cast<const char*>(d.data()), strnlen(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::vector<uint8_t> Expr::data(uint16_t id) const {
  auto it = attrs.find(id);
  return it == attrs.end() ? std::vector<uint8_t>{} : it->second;
}

Expr& Expr::set_u32(uint16_t id, uint32_t v) {
  std::vector<uint8_t> b(4);
  std::memcpy(b.data(), &v, 4);
  attrs[id] = std::move(b);
  return *this;
}

Expr& Expr::set_u64(uint16_t id, uint64_t v) {
  std::vector<uint8_t> b(8);
  std::memcpy(b.data(), &v, 8);
  attrs[id] = std::move(b);
  return *this;
}

Expr& Expr::set_str(uint16_t id, const std::string& v) {
  std::vector<uint8_t> b(v.begin(), v.end());
  b.push_back(0);
  attrs[id] = std::move(b);
  return *this;
}

Expr& Expr::set_data(uint16_t id, const std::vector<uint8_t>& v) {
  attrs[id] = v;
  return *this;
}

namespace {

struct TableFree { void operator()(nftnl_table* p) const { nftnl_table_free(p); } };
struct ChainFree { void operator()(nftnl_chain* p) const { nftnl_chain_free(p); } };
struct SetFree { void operator()(nftnl_set* p) const { nftnl_set_free(p); } };
struct RuleFree { void operator()(nftnl_rule* p) const { nftnl_rule_free(p); } };
struct ObjFree { void operator()(nftnl_obj* p) const { nftnl_obj_free(p); } };

std::string get_str(const char* s) { return s ? std::string(s) : std::string(); }

Error annotate(Error e) {
  // nfnetlink answers a request for a subsystem that is not registered with
  // EOPNOTSUPP (after trying to load the module).
  if (e.code == EOPNOTSUPP || e.code == EPROTONOSUPPORT || e.code == EAFNOSUPPORT)
    e.hint = "this kernel has no nf_tables (nftables not built in and the module not loaded)";
  else if (e.code == EPERM || e.code == EACCES)
    e.hint = "needs CAP_NET_ADMIN";
  return e;
}

// One dump request of message type `msg` (NFT_MSG_GET*) for `family`.
Status dump(MnlSocket& sock, uint16_t msg, uint32_t family, const MnlSocket::Callback& cb, const char* what,
            nftnl_set* for_set = nullptr) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), msg, static_cast<uint16_t>(family),
                                        NLM_F_DUMP, 0);
  if (for_set) nftnl_set_elems_nlmsg_build_payload(nlh, for_set);
  auto st = sock.dump(nlh, cb, what);
  if (!st) return annotate(st.error());
  return {};
}

Expr convert_expr(nftnl_expr* e) {
  Expr x;
  x.name = get_str(nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
  for (uint16_t id = NFTNL_EXPR_BASE; id < NFTNL_EXPR_BASE + 24; ++id) {
    if (!nftnl_expr_is_set(e, id)) continue;
    uint32_t len = 0;
    const void* p = nftnl_expr_get(e, id, &len);
    if (!p) continue;
    const auto* b = static_cast<const uint8_t*>(p);
    x.attrs[id] = std::vector<uint8_t>(b, b + len);
  }
  return x;
}

int collect_expr(nftnl_expr* e, void* data) {
  static_cast<std::vector<Expr>*>(data)->push_back(convert_expr(e));
  return 0;
}

// The rule comment: nftnl_udata TLVs (type u8, len u8, value), type NFTNL_UDATA_RULE_COMMENT.
std::string rule_comment(const uint8_t* p, uint32_t len) {
  uint32_t i = 0;
  while (i + 2 <= len) {
    uint8_t type = p[i], l = p[i + 1];
    if (i + 2 + l > len) break;
    if (type == 0 /* NFTNL_UDATA_RULE_COMMENT */)
      return std::string(reinterpret_cast<const char*>(p + i + 2), strnlen(reinterpret_cast<const char*>(p + i + 2), l));
    i += 2 + l;
  }
  return {};
}

}  // namespace

Result<Ruleset> dump_ruleset(uint32_t family) {
  auto sock = MnlSocket::open(NETLINK_NETFILTER);
  if (!sock) return annotate(sock.error());
  Ruleset rs;

  auto st = dump(*sock, NFT_MSG_GETTABLE, family, [&](const nlmsghdr* nlh) {
    std::unique_ptr<nftnl_table, TableFree> t(nftnl_table_alloc());
    if (!t || nftnl_table_nlmsg_parse(nlh, t.get()) < 0) return MNL_CB_OK;
    Table x;
    x.family = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FAMILY);
    x.name = get_str(nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME));
    x.handle = nftnl_table_get_u64(t.get(), NFTNL_TABLE_HANDLE);
    x.flags = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS);
    rs.tables.push_back(std::move(x));
    return MNL_CB_OK;
  }, "NFT_MSG_GETTABLE");
  if (!st) return st.error();

  st = dump(*sock, NFT_MSG_GETCHAIN, family, [&](const nlmsghdr* nlh) {
    std::unique_ptr<nftnl_chain, ChainFree> c(nftnl_chain_alloc());
    if (!c || nftnl_chain_nlmsg_parse(nlh, c.get()) < 0) return MNL_CB_OK;
    Chain x;
    x.family = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_FAMILY);
    x.table = get_str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE));
    x.name = get_str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME));
    x.handle = nftnl_chain_get_u64(c.get(), NFTNL_CHAIN_HANDLE);
    if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
      x.base = true;
      x.hooknum = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
      x.prio = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
      x.type = get_str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE));
      if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY)) x.policy = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY);
      if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_PACKETS)) {
        x.packets = nftnl_chain_get_u64(c.get(), NFTNL_CHAIN_PACKETS);
        x.bytes = nftnl_chain_get_u64(c.get(), NFTNL_CHAIN_BYTES);
      }
      if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_DEV)) x.dev = get_str(nftnl_chain_get_str(c.get(), NFTNL_CHAIN_DEV));
      if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_DEVICES)) {
        const char* const* devs = nftnl_chain_get_array(c.get(), NFTNL_CHAIN_DEVICES);
        for (int i = 0; devs && devs[i]; ++i) x.devs.emplace_back(devs[i]);
      }
    }
    rs.chains.push_back(std::move(x));
    return MNL_CB_OK;
  }, "NFT_MSG_GETCHAIN");
  if (!st) return st.error();

  st = dump(*sock, NFT_MSG_GETSET, family, [&](const nlmsghdr* nlh) {
    std::unique_ptr<nftnl_set, SetFree> s(nftnl_set_alloc());
    if (!s || nftnl_set_nlmsg_parse(nlh, s.get()) < 0) return MNL_CB_OK;
    Set x;
    x.family = nftnl_set_get_u32(s.get(), NFTNL_SET_FAMILY);
    x.table = get_str(nftnl_set_get_str(s.get(), NFTNL_SET_TABLE));
    x.name = get_str(nftnl_set_get_str(s.get(), NFTNL_SET_NAME));
    x.handle = nftnl_set_get_u64(s.get(), NFTNL_SET_HANDLE);
    x.flags = nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS);
    x.key_type = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE);
    x.key_len = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_LEN);
    if (nftnl_set_is_set(s.get(), NFTNL_SET_DATA_TYPE)) x.data_type = nftnl_set_get_u32(s.get(), NFTNL_SET_DATA_TYPE);
    if (nftnl_set_is_set(s.get(), NFTNL_SET_DATA_LEN)) x.data_len = nftnl_set_get_u32(s.get(), NFTNL_SET_DATA_LEN);
    if (nftnl_set_is_set(s.get(), NFTNL_SET_TIMEOUT)) x.timeout = nftnl_set_get_u64(s.get(), NFTNL_SET_TIMEOUT);
    if (nftnl_set_is_set(s.get(), NFTNL_SET_GC_INTERVAL)) x.gc_interval = nftnl_set_get_u32(s.get(), NFTNL_SET_GC_INTERVAL);
    if (nftnl_set_is_set(s.get(), NFTNL_SET_DESC_SIZE)) x.size = nftnl_set_get_u32(s.get(), NFTNL_SET_DESC_SIZE);
    nftnl_set_expr_foreach(s.get(), collect_expr, &x.exprs);
    rs.sets.push_back(std::move(x));
    return MNL_CB_OK;
  }, "NFT_MSG_GETSET");
  if (!st) return st.error();

  for (auto& set : rs.sets) {
    std::unique_ptr<nftnl_set, SetFree> req(nftnl_set_alloc());
    if (!req) return Error{ENOMEM, "nftnl_set_alloc", {}};
    nftnl_set_set_str(req.get(), NFTNL_SET_TABLE, set.table.c_str());
    nftnl_set_set_str(req.get(), NFTNL_SET_NAME, set.name.c_str());
    nftnl_set_set_u32(req.get(), NFTNL_SET_FAMILY, set.family);
    st = dump(*sock, NFT_MSG_GETSETELEM, set.family, [&](const nlmsghdr* nlh) {
      std::unique_ptr<nftnl_set, SetFree> s(nftnl_set_alloc());
      if (!s || nftnl_set_elems_nlmsg_parse(nlh, s.get()) < 0) return MNL_CB_OK;
      nftnl_set_elems_iter* it = nftnl_set_elems_iter_create(s.get());
      if (!it) return MNL_CB_OK;
      // iter_next returns the current element, then advances.
      while (nftnl_set_elem* e = nftnl_set_elems_iter_next(it)) {
        SetElem x;
        auto bytes = [&](uint16_t attr) {
          uint32_t len = 0;
          const void* p = nftnl_set_elem_get(e, attr, &len);
          const auto* b = static_cast<const uint8_t*>(p);
          return p ? std::vector<uint8_t>(b, b + len) : std::vector<uint8_t>{};
        };
        x.key = bytes(NFTNL_SET_ELEM_KEY);
        x.key_end = bytes(NFTNL_SET_ELEM_KEY_END);
        x.data = bytes(NFTNL_SET_ELEM_DATA);
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)) x.flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
          x.verdict = static_cast<int32_t>(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)) x.chain = get_str(nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT)) x.timeout = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
        if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION)) x.expiration = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
        nftnl_set_elem_expr_foreach(e, collect_expr, &x.exprs);
        set.elems.push_back(std::move(x));
      }
      nftnl_set_elems_iter_destroy(it);
      return MNL_CB_OK;
    }, "NFT_MSG_GETSETELEM", req.get());
    if (!st) return st.error();
  }

  st = dump(*sock, NFT_MSG_GETOBJ, family, [&](const nlmsghdr* nlh) {
    std::unique_ptr<nftnl_obj, ObjFree> o(nftnl_obj_alloc());
    if (!o || nftnl_obj_nlmsg_parse(nlh, o.get()) < 0) return MNL_CB_OK;
    Object x;
    x.family = nftnl_obj_get_u32(o.get(), NFTNL_OBJ_FAMILY);
    x.table = get_str(nftnl_obj_get_str(o.get(), NFTNL_OBJ_TABLE));
    x.name = get_str(nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME));
    x.handle = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_HANDLE);
    x.type = nftnl_obj_get_u32(o.get(), NFTNL_OBJ_TYPE);
    if (x.type == NFT_OBJECT_COUNTER) {
      x.packets = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_CTR_PKTS);
      x.bytes = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_CTR_BYTES);
    } else if (x.type == NFT_OBJECT_QUOTA) {
      x.bytes = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_QUOTA_BYTES);
      x.consumed = nftnl_obj_get_u64(o.get(), NFTNL_OBJ_QUOTA_CONSUMED);
      x.flags = nftnl_obj_get_u32(o.get(), NFTNL_OBJ_QUOTA_FLAGS);
    }
    rs.objects.push_back(std::move(x));
    return MNL_CB_OK;
  }, "NFT_MSG_GETOBJ");
  if (!st) return st.error();

  st = dump(*sock, NFT_MSG_GETRULE, family, [&](const nlmsghdr* nlh) {
    std::unique_ptr<nftnl_rule, RuleFree> r(nftnl_rule_alloc());
    if (!r || nftnl_rule_nlmsg_parse(nlh, r.get()) < 0) return MNL_CB_OK;
    Rule x;
    x.family = nftnl_rule_get_u32(r.get(), NFTNL_RULE_FAMILY);
    x.table = get_str(nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE));
    x.chain = get_str(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN));
    x.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
    if (nftnl_rule_is_set(r.get(), NFTNL_RULE_USERDATA)) {
      uint32_t len = 0;
      const void* p = nftnl_rule_get_data(r.get(), NFTNL_RULE_USERDATA, &len);
      if (p) x.comment = rule_comment(static_cast<const uint8_t*>(p), len);
    }
    nftnl_expr_iter* it = nftnl_expr_iter_create(r.get());
    if (it) {
      for (nftnl_expr* e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) x.exprs.push_back(convert_expr(e));
      nftnl_expr_iter_destroy(it);
    }
    rs.rules.push_back(std::move(x));
    return MNL_CB_OK;
  }, "NFT_MSG_GETRULE");
  if (!st) return st.error();
  return rs;
}

}  // namespace netshoot::core::nft

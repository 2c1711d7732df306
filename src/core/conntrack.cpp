// ctnetlink reader. See include/netshoot/conntrack.h.
#include "netshoot/conntrack.h"

#include <netinet/in.h>  // before the kernel headers (linux/in.h)

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <cstring>

#include "netshoot/netlink.h"

namespace netshoot::core::ct {
namespace {

constexpr uint16_t kMaxAttr = 64;
using Table = std::array<const nlattr*, kMaxAttr + 1>;

int collect(const nlattr* a, void* data) {
  auto* tb = static_cast<Table*>(data);
  uint16_t type = mnl_attr_get_type(a);
  if (type <= kMaxAttr) (*tb)[type] = a;
  return MNL_CB_OK;
}

Table nested(const nlattr* nest) {
  Table tb{};
  if (nest) (void)mnl_attr_parse_nested(nest, collect, &tb);
  return tb;
}

uint8_t u8(const nlattr* a) { return mnl_attr_get_payload_len(a) >= 1 ? mnl_attr_get_u8(a) : 0; }
uint16_t be16(const nlattr* a) { return mnl_attr_get_payload_len(a) >= 2 ? ntohs(mnl_attr_get_u16(a)) : 0; }
uint32_t be32(const nlattr* a) { return mnl_attr_get_payload_len(a) >= 4 ? ntohl(mnl_attr_get_u32(a)) : 0; }
uint64_t be64(const nlattr* a) { return mnl_attr_get_payload_len(a) >= 8 ? be64toh(mnl_attr_get_u64(a)) : 0; }

IpAddr addr(const nlattr* a) {
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
  return IpAddr::from_bytes(std::span<const uint8_t>(p, mnl_attr_get_payload_len(a)));
}

Tuple tuple(const nlattr* nest) {
  Tuple t;
  Table tb = nested(nest);
  Table ip = nested(tb[CTA_TUPLE_IP]);
  if (ip[CTA_IP_V4_SRC]) t.src = addr(ip[CTA_IP_V4_SRC]);
  if (ip[CTA_IP_V4_DST]) t.dst = addr(ip[CTA_IP_V4_DST]);
  if (ip[CTA_IP_V6_SRC]) t.src = addr(ip[CTA_IP_V6_SRC]);
  if (ip[CTA_IP_V6_DST]) t.dst = addr(ip[CTA_IP_V6_DST]);
  Table pr = nested(tb[CTA_TUPLE_PROTO]);
  if (pr[CTA_PROTO_NUM]) t.proto = u8(pr[CTA_PROTO_NUM]);
  if (pr[CTA_PROTO_SRC_PORT]) t.sport = be16(pr[CTA_PROTO_SRC_PORT]);
  if (pr[CTA_PROTO_DST_PORT]) t.dport = be16(pr[CTA_PROTO_DST_PORT]);
  if (pr[CTA_PROTO_ICMP_TYPE]) t.icmp_type = u8(pr[CTA_PROTO_ICMP_TYPE]);
  if (pr[CTA_PROTO_ICMP_CODE]) t.icmp_code = u8(pr[CTA_PROTO_ICMP_CODE]);
  if (pr[CTA_PROTO_ICMP_ID]) t.icmp_id = be16(pr[CTA_PROTO_ICMP_ID]);
  if (pr[CTA_PROTO_ICMPV6_TYPE]) t.icmp_type = u8(pr[CTA_PROTO_ICMPV6_TYPE]);
  if (pr[CTA_PROTO_ICMPV6_CODE]) t.icmp_code = u8(pr[CTA_PROTO_ICMPV6_CODE]);
  if (pr[CTA_PROTO_ICMPV6_ID]) t.icmp_id = be16(pr[CTA_PROTO_ICMPV6_ID]);
  return t;
}

std::optional<std::pair<uint64_t, uint64_t>> counters(const nlattr* nest) {
  if (!nest) return std::nullopt;
  Table tb = nested(nest);
  uint64_t p = tb[CTA_COUNTERS_PACKETS] ? be64(tb[CTA_COUNTERS_PACKETS]) : 0;
  uint64_t b = tb[CTA_COUNTERS_BYTES] ? be64(tb[CTA_COUNTERS_BYTES]) : 0;
  return std::make_pair(p, b);
}

// A ctnetlink request: nlmsghdr + nfgenmsg.
struct Request {
  std::array<char, 256> buf{};
  nlmsghdr* nlh;
  Request(uint16_t msg, int family, uint16_t flags) {
    nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = static_cast<uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg);
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = static_cast<uint8_t>(family);
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
  }
};

Error annotate(Error e) {
  // nfnetlink answers EOPNOTSUPP for a subsystem nobody registered.
  if (e.code == EOPNOTSUPP || e.code == EPROTONOSUPPORT)
    e.hint = "this kernel has no connection tracking netlink interface (nf_conntrack / nf_conntrack_netlink not built in and not loaded)";
  else if (e.code == EPERM || e.code == EACCES)
    e.hint = "needs CAP_NET_ADMIN";
  return e;
}

Result<MnlSocket> open_socket() {
  auto s = MnlSocket::open(NETLINK_NETFILTER);
  if (!s) return annotate(s.error());
  return s;
}

}  // namespace

Result<std::vector<Entry>> dump_entries(int family) {
  auto sock = open_socket();
  if (!sock) return sock.error();
  std::vector<Entry> out;
  Request req(IPCTNL_MSG_CT_GET, family, NLM_F_DUMP);
  auto st = sock->dump(req.nlh, [&](const nlmsghdr* nlh) {
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    Table tb{};
    (void)mnl_attr_parse(nlh, sizeof(nfgenmsg), collect, &tb);
    Entry e;
    e.family = nfg->nfgen_family;
    if (tb[CTA_TUPLE_ORIG]) e.orig = tuple(tb[CTA_TUPLE_ORIG]);
    if (tb[CTA_TUPLE_REPLY]) e.reply = tuple(tb[CTA_TUPLE_REPLY]);
    if (tb[CTA_STATUS]) e.status = be32(tb[CTA_STATUS]);
    if (tb[CTA_TIMEOUT]) e.timeout = be32(tb[CTA_TIMEOUT]);
    if (tb[CTA_MARK]) e.mark = be32(tb[CTA_MARK]);
    if (tb[CTA_USE]) e.use = be32(tb[CTA_USE]);
    if (tb[CTA_ID]) e.id = be32(tb[CTA_ID]);
    if (tb[CTA_ZONE]) e.zone = be16(tb[CTA_ZONE]);
    if (tb[CTA_PROTOINFO]) {
      Table pi = nested(tb[CTA_PROTOINFO]);
      if (pi[CTA_PROTOINFO_TCP]) {
        Table tcp = nested(pi[CTA_PROTOINFO_TCP]);
        if (tcp[CTA_PROTOINFO_TCP_STATE]) e.tcp_state = u8(tcp[CTA_PROTOINFO_TCP_STATE]);
      }
    }
    e.counters_orig = counters(tb[CTA_COUNTERS_ORIG]);
    e.counters_reply = counters(tb[CTA_COUNTERS_REPLY]);
    out.push_back(std::move(e));
    return MNL_CB_OK;
  }, "IPCTNL_MSG_CT_GET");
  if (!st) return annotate(st.error());
  return out;
}

Result<GlobalStats> global_stats() {
  auto sock = open_socket();
  if (!sock) return sock.error();
  GlobalStats g;
  Request req(IPCTNL_MSG_CT_GET_STATS, AF_UNSPEC, 0);
  auto st = sock->request(req.nlh, [&](const nlmsghdr* nlh) {
    Table tb{};
    (void)mnl_attr_parse(nlh, sizeof(nfgenmsg), collect, &tb);
    if (tb[CTA_STATS_GLOBAL_ENTRIES]) g.entries = be32(tb[CTA_STATS_GLOBAL_ENTRIES]);
    if (tb[CTA_STATS_GLOBAL_MAX_ENTRIES]) g.max_entries = be32(tb[CTA_STATS_GLOBAL_MAX_ENTRIES]);
    return MNL_CB_OK;
  }, "IPCTNL_MSG_CT_GET_STATS");
  if (!st) return annotate(st.error());
  return g;
}

Result<std::vector<CpuStats>> cpu_stats() {
  auto sock = open_socket();
  if (!sock) return sock.error();
  std::vector<CpuStats> out;
  Request req(IPCTNL_MSG_CT_GET_STATS_CPU, AF_UNSPEC, NLM_F_DUMP);
  auto st = sock->dump(req.nlh, [&](const nlmsghdr* nlh) {
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    CpuStats c;
    c.cpu = ntohs(nfg->res_id);
    Table tb{};
    (void)mnl_attr_parse(nlh, sizeof(nfgenmsg), collect, &tb);
    for (uint16_t id = 1; id <= kMaxAttr; ++id)
      if (tb[id]) c.counters.emplace_back(id, be32(tb[id]));
    out.push_back(std::move(c));
    return MNL_CB_OK;
  }, "IPCTNL_MSG_CT_GET_STATS_CPU");
  if (!st) return annotate(st.error());
  return out;
}

std::string cpu_stat_name(uint16_t id) {
  switch (id) {
    case CTA_STATS_SEARCHED: return "searched";
    case CTA_STATS_FOUND: return "found";
    case CTA_STATS_NEW: return "new";
    case CTA_STATS_INVALID: return "invalid";
    case CTA_STATS_IGNORE: return "ignore";
    case CTA_STATS_DELETE: return "delete";
    case CTA_STATS_DELETE_LIST: return "delete_list";
    case CTA_STATS_INSERT: return "insert";
    case CTA_STATS_INSERT_FAILED: return "insert_failed";
    case CTA_STATS_DROP: return "drop";
    case CTA_STATS_EARLY_DROP: return "early_drop";
    case CTA_STATS_ERROR: return "error";
    case CTA_STATS_SEARCH_RESTART: return "search_restart";
    case CTA_STATS_CLASH_RESOLVE: return "clash_resolve";
    case CTA_STATS_CHAIN_TOOLONG: return "chaintoolong";
    default: return {};
  }
}

std::string tcp_state_name(uint8_t s) {
  static const char* const names[] = {"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
                                      "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"};
  return s < std::size(names) ? names[s] : "UNKNOWN";
}

std::string proto_name(uint8_t p) {
  switch (p) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    case IPPROTO_SCTP: return "sctp";
    case IPPROTO_UDPLITE: return "udplite";
    case IPPROTO_DCCP: return "dccp";
    case IPPROTO_GRE: return "gre";
    default: return "unknown";
  }
}

}  // namespace netshoot::core::ct

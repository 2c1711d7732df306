// Netlink (rtnetlink + sock_diag) on top of libmnl. See include/netshoot/netlink.h.
#include "netshoot/netlink.h"

// <net/if.h> before <linux/if.h>: the kernel header then only adds what glibc lacks
// (IFF_LOWER_UP, IFF_DORMANT, IFF_ECHO).
#include <net/if.h>
#include <linux/if.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_bridge.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/inet_diag.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <ctime>

namespace netshoot::core {

namespace {

// ---- attribute helpers ---------------------------------------------------------------

// tb[type] = attribute, for types <= max; later duplicates win, unknown types skip.
struct AttrTable {
  const nlattr** tb;
  uint16_t max;
};

int fill_table(const nlattr* attr, void* data) {
  auto* t = static_cast<AttrTable*>(data);
  uint16_t type = mnl_attr_get_type(attr);
  if (type <= t->max) t->tb[type] = attr;
  return MNL_CB_OK;
}

void parse_attrs(const nlmsghdr* nlh, size_t header_len, const nlattr** tb, uint16_t max) {
  std::fill(tb, tb + max + 1, nullptr);
  if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(header_len)) return;
  AttrTable t{tb, max};
  (void)mnl_attr_parse(nlh, header_len, fill_table, &t);
}

void parse_nested(const nlattr* nest, const nlattr** tb, uint16_t max) {
  std::fill(tb, tb + max + 1, nullptr);
  AttrTable t{tb, max};
  (void)mnl_attr_parse_nested(nest, fill_table, &t);
}

// Calls f(attr) for every attribute inside `nest`, repeated types included
// (parse_nested keeps only the last of each type).
template <typename F>
void for_each_nested(const nlattr* nest, F&& f) {
  using Fn = std::remove_reference_t<F>;
  (void)mnl_attr_parse_nested(
      nest, [](const nlattr* a, void* d) { (*static_cast<Fn*>(d))(a); return int(MNL_CB_OK); }, &f);
}

template <typename T>
T attr_int(const nlattr* a, T fallback = T{}) {
  if (a == nullptr || mnl_attr_get_payload_len(a) < sizeof(T)) return fallback;
  T v;
  std::memcpy(&v, mnl_attr_get_payload(a), sizeof(T));
  return v;
}

template <typename T>
std::optional<T> attr_opt(const nlattr* a) {
  if (a == nullptr || mnl_attr_get_payload_len(a) < sizeof(T)) return std::nullopt;
  return attr_int<T>(a);
}

std::string attr_str(const nlattr* a) {
  if (a == nullptr) return {};
  const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
  return std::string(p, strnlen(p, mnl_attr_get_payload_len(a)));
}

std::vector<uint8_t> attr_bytes(const nlattr* a) {
  if (a == nullptr) return {};
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
  return std::vector<uint8_t>(p, p + mnl_attr_get_payload_len(a));
}

// 4 bytes -> IPv4, 16 -> IPv6, any other length -> nullopt.
std::optional<IpAddr> addr_from(const void* data, size_t len) {
  if (len != 4 && len != 16) return std::nullopt;
  return IpAddr::from_bytes({static_cast<const uint8_t*>(data), len});
}

std::optional<IpAddr> attr_addr(const nlattr* a) {
  if (a == nullptr) return std::nullopt;
  return addr_from(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
}

// Fixed header of a message, or nullptr when the message is too short for it.
template <typename T>
const T* header_of(const nlmsghdr* nlh) {
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(T)) return nullptr;
  return static_cast<const T*>(mnl_nlmsg_get_payload(nlh));
}

// A request under construction, suitably aligned.
struct Request {
  // Copyable: the header is always at the start of buf, never cached as a pointer.
  alignas(8) char buf[1024] = {};

  Request(uint16_t type, uint16_t flags) {
    nlmsghdr* h = mnl_nlmsg_put_header(buf);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
  }
  nlmsghdr* hdr() { return reinterpret_cast<nlmsghdr*>(buf); }
  template <typename T>
  T* extra() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(hdr(), sizeof(T)));
  }
  bool put(uint16_t type, const void* data, size_t len) {
    return mnl_attr_put_check(hdr(), sizeof(buf), type, len, data);
  }
  bool put_u32(uint16_t type, uint32_t v) { return mnl_attr_put_u32_check(hdr(), sizeof(buf), type, v); }
  bool put_strz(uint16_t type, const std::string& s) {
    return mnl_attr_put_strz_check(hdr(), sizeof(buf), type, s.c_str());
  }
};

// ---- callbacks into C++ --------------------------------------------------------------

struct RunContext {
  const MnlSocket::Callback* cb = nullptr;
  bool stopped = false;         // the caller asked to stop: discard the rest
  bool exception = false;       // the callback threw
  std::string ext_msg;          // NLMSGERR_ATTR_MSG from an extended ack
};

int on_data(const nlmsghdr* nlh, void* data) {
  auto* ctx = static_cast<RunContext*>(data);
  if (ctx->stopped || ctx->cb == nullptr || !*ctx->cb) return MNL_CB_OK;
  int ret;
  try {
    ret = (*ctx->cb)(nlh);
  } catch (...) {
    // Never unwind through libmnl's C frames.
    ctx->exception = true;
    errno = ENOMEM;
    return MNL_CB_ERROR;
  }
  if (ret == MNL_CB_STOP) {
    // Keep reading until the kernel's end marker so the socket stays in sync.
    ctx->stopped = true;
    return MNL_CB_OK;
  }
  return ret;
}

int on_ext_ack_attr(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG) *static_cast<std::string*>(data) = attr_str(attr);
  return MNL_CB_OK;
}

int on_error(const nlmsghdr* nlh, void* data) {
  auto* ctx = static_cast<RunContext*>(data);
  const auto* err = header_of<nlmsgerr>(nlh);
  if (err == nullptr) {
    errno = EBADMSG;
    return MNL_CB_ERROR;
  }
  if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
    // TLVs follow the echoed request (only its header with NETLINK_CAP_ACK).
    size_t off = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && err->msg.nlmsg_len > sizeof(nlmsghdr))
      off += err->msg.nlmsg_len - sizeof(nlmsghdr);
    if (MNL_NLMSG_HDRLEN + MNL_ALIGN(off) < nlh->nlmsg_len)
      (void)mnl_attr_parse(nlh, off, on_ext_ack_attr, &ctx->ext_msg);
  }
  int code = err->error < 0 ? -err->error : err->error;
  errno = code;
  return code == 0 ? MNL_CB_STOP : MNL_CB_ERROR;
}

int on_done(const nlmsghdr* nlh, void* data) {
  // A dump that failed part way reports its error in NLMSG_DONE's payload.
  if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
    int e;
    std::memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
    if (e < 0) {
      errno = -e;
      return MNL_CB_ERROR;
    }
  }
  return MNL_CB_STOP;
}

// Control messages by type; NLMSG_NOOP (1) and NLMSG_OVERRUN (4) are skipped.
mnl_cb_t g_ctl_callbacks[NLMSG_MIN_TYPE] = {
    nullptr,   // 0: unused
    nullptr,   // NLMSG_NOOP
    on_error,  // NLMSG_ERROR
    on_done,   // NLMSG_DONE
    nullptr,   // NLMSG_OVERRUN
};
static_assert(NLMSG_ERROR == 2 && NLMSG_DONE == 3);

constexpr size_t kRecvBufferSize = 64 * 1024;  // > the kernel's 32 KiB dump chunks

// ---- generic dump-to-vector with retry on NLM_F_DUMP_INTR -----------------------------

template <typename T, typename Build, typename Parse>
Result<std::vector<T>> collect(int bus, std::string_view what, Build&& build, Parse&& parse) {
  auto sock = MnlSocket::open(bus);
  if (!sock) return sock.error();
  for (int attempt = 0;; ++attempt) {
    std::vector<T> out;
    Request req = build();
    Status st = sock->dump(
        req.hdr(),
        [&](const nlmsghdr* nlh) {
          parse(nlh, out);
          return MNL_CB_OK;
        },
        what);
    if (st) return out;
    // The table changed during the dump: every kernel hint says "just redo it".
    if (st.error().code == EINTR && attempt < 3) continue;
    return st.error();
  }
}

}  // namespace

std::string format_lladdr(const std::vector<uint8_t>& addr) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < addr.size(); ++i) {
    if (i) s += ':';
    s += kHex[addr[i] >> 4];
    s += kHex[addr[i] & 0xf];
  }
  return s;
}

// ---- MnlSocket -------------------------------------------------------------------------

void MnlSocket::Closer::operator()(mnl_socket* s) const {
  if (s) mnl_socket_close(s);
}

MnlSocket::MnlSocket(mnl_socket* s) : sock_(s) {}

Result<MnlSocket> MnlSocket::open(int bus) {
  mnl_socket* raw = mnl_socket_open2(bus, SOCK_CLOEXEC);
  if (raw == nullptr) return os_error("netlink socket(bus " + std::to_string(bus) + ")");
  MnlSocket s(raw);
  if (mnl_socket_bind(raw, 0, MNL_SOCKET_AUTOPID) < 0)
    return os_error("netlink bind(bus " + std::to_string(bus) + ")");
  // Short acks and kernel error strings; both optional (older kernels).
  int one = 1;
  (void)mnl_socket_setsockopt(raw, NETLINK_CAP_ACK, &one, sizeof(one));
  (void)mnl_socket_setsockopt(raw, NETLINK_EXT_ACK, &one, sizeof(one));
  s.seq_ = static_cast<uint32_t>(::time(nullptr));
  return s;
}

int MnlSocket::fd() const { return sock_ ? mnl_socket_get_fd(sock_.get()) : -1; }

uint32_t MnlSocket::portid() const { return sock_ ? mnl_socket_get_portid(sock_.get()) : 0; }

Status MnlSocket::dump(nlmsghdr* req, const Callback& cb, std::string_view what) {
  req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
  return run(req, cb, what);
}

Status MnlSocket::request(nlmsghdr* req, const Callback& cb, std::string_view what) {
  req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  return run(req, cb, what);
}

Status MnlSocket::run(nlmsghdr* req, const Callback& cb, std::string_view what) {
  const std::string context = "netlink " + std::string(what);
  if (!sock_) return Error{EBADF, context, {}};
  if (buf_.empty()) buf_.resize(kRecvBufferSize);

  // Whatever an earlier failed exchange left queued would only trip the seq check.
  // (Reading also makes the kernel produce the rest of an abandoned dump.)
  while (dirty_) {
    ssize_t n = ::recv(fd(), buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) dirty_ = false;
  }

  uint32_t seq = next_seq();
  if (seq == 0) seq = next_seq();  // 0 disables libmnl's sequence check
  req->nlmsg_seq = seq;
  req->nlmsg_pid = 0;
  if (mnl_socket_sendto(sock_.get(), req, req->nlmsg_len) < 0) return os_error(context);

  dirty_ = true;
  RunContext ctx;
  ctx.cb = &cb;
  const unsigned int portid = mnl_socket_get_portid(sock_.get());
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_.get(), buf_.data(), buf_.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error(context);
    }
    int ret = mnl_cb_run2(buf_.data(), static_cast<size_t>(n), seq, portid, on_data, &ctx,
                          g_ctl_callbacks, NLMSG_MIN_TYPE);
    if (ret == MNL_CB_ERROR) {
      Error e{errno, context, ctx.ext_msg};
      if (ctx.exception) e.hint = "exception in netlink callback";
      return e;
    }
    if (ret == MNL_CB_STOP) {
      dirty_ = false;
      return {};
    }
  }
}

// ---- links -----------------------------------------------------------------------------

bool Link::up() const { return flags & IFF_UP; }
bool Link::lower_up() const { return flags & IFF_LOWER_UP; }
bool Link::loopback() const { return flags & IFF_LOOPBACK; }
bool Link::running() const { return flags & IFF_RUNNING; }

std::string Link::operstate_name() const {
  static const char* const kNames[] = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
                                       "TESTING", "DORMANT",    "UP"};
  if (operstate < std::size(kNames)) return kNames[operstate];
  return std::to_string(operstate);
}

std::vector<std::string> link_flag_names(uint32_t flags) {
  static const std::pair<uint32_t, const char*> kFlags[] = {
      {IFF_LOOPBACK, "LOOPBACK"},   {IFF_BROADCAST, "BROADCAST"}, {IFF_POINTOPOINT, "POINTOPOINT"},
      {IFF_MULTICAST, "MULTICAST"}, {IFF_NOARP, "NOARP"},         {IFF_ALLMULTI, "ALLMULTI"},
      {IFF_PROMISC, "PROMISC"},     {IFF_MASTER, "MASTER"},       {IFF_SLAVE, "SLAVE"},
      {IFF_DEBUG, "DEBUG"},         {IFF_DYNAMIC, "DYNAMIC"},     {IFF_AUTOMEDIA, "AUTOMEDIA"},
      {IFF_PORTSEL, "PORTSEL"},     {IFF_NOTRAILERS, "NOTRAILERS"}, {IFF_UP, "UP"},
      {IFF_LOWER_UP, "LOWER_UP"},   {IFF_DORMANT, "DORMANT"},     {IFF_ECHO, "ECHO"},
  };
  std::vector<std::string> out;
  for (const auto& [bit, name] : kFlags)
    if (flags & bit) out.emplace_back(name);
  return out;
}

namespace {

bool parse_link(const nlmsghdr* nlh, Link& link) {
  if (nlh->nlmsg_type != RTM_NEWLINK) return false;
  const auto* ifi = header_of<ifinfomsg>(nlh);
  if (ifi == nullptr) return false;
  const nlattr* tb[IFLA_MAX + 1];
  parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX);

  link.index = ifi->ifi_index;
  link.flags = ifi->ifi_flags;
  link.type = ifi->ifi_type;
  link.name = attr_str(tb[IFLA_IFNAME]);
  link.operstate = attr_int<uint8_t>(tb[IFLA_OPERSTATE]);
  link.mtu = attr_int<uint32_t>(tb[IFLA_MTU]);
  link.txqlen = attr_int<uint32_t>(tb[IFLA_TXQLEN]);
  link.address = attr_bytes(tb[IFLA_ADDRESS]);
  link.broadcast = attr_bytes(tb[IFLA_BROADCAST]);
  link.qdisc = attr_str(tb[IFLA_QDISC]);
  link.alias = attr_str(tb[IFLA_IFALIAS]);
  link.master = static_cast<int>(attr_int<uint32_t>(tb[IFLA_MASTER]));
  link.link = static_cast<int>(attr_int<uint32_t>(tb[IFLA_LINK]));
  link.link_netnsid = attr_opt<int32_t>(tb[IFLA_LINK_NETNSID]);

  if (tb[IFLA_LINKINFO] != nullptr) {
    const nlattr* info[IFLA_INFO_MAX + 1];
    parse_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
    link.kind = attr_str(info[IFLA_INFO_KIND]);
    link.slave_kind = attr_str(info[IFLA_INFO_SLAVE_KIND]);
    if (link.kind == "bridge" && info[IFLA_INFO_DATA] != nullptr) {
      const nlattr* br[IFLA_BR_MAX + 1];
      parse_nested(info[IFLA_INFO_DATA], br, IFLA_BR_MAX);
      if (auto id = attr_opt<ifla_bridge_id>(br[IFLA_BR_BRIDGE_ID])) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%02x%02x.%02x%02x%02x%02x%02x%02x", id->prio[0], id->prio[1], id->addr[0],
                      id->addr[1], id->addr[2], id->addr[3], id->addr[4], id->addr[5]);
        link.bridge_id = buf;
      }
      link.stp_state = attr_opt<uint32_t>(br[IFLA_BR_STP_STATE]);
    }
  }

  if (const nlattr* a = tb[IFLA_STATS64]) {
    rtnl_link_stats64 s{};
    std::memcpy(&s, mnl_attr_get_payload(a), std::min<size_t>(sizeof(s), mnl_attr_get_payload_len(a)));
    link.stats = LinkStats{s.rx_packets, s.tx_packets, s.rx_bytes,   s.tx_bytes,  s.rx_errors,
                           s.tx_errors,  s.rx_dropped, s.tx_dropped, s.multicast, s.collisions};
  } else if (const nlattr* b = tb[IFLA_STATS]) {
    rtnl_link_stats s{};
    std::memcpy(&s, mnl_attr_get_payload(b), std::min<size_t>(sizeof(s), mnl_attr_get_payload_len(b)));
    link.stats = LinkStats{s.rx_packets, s.tx_packets, s.rx_bytes,   s.tx_bytes,  s.rx_errors,
                           s.tx_errors,  s.rx_dropped, s.tx_dropped, s.multicast, s.collisions};
  }
  return true;
}

// One RTM_GETLINK request: by index (> 0) or by name.
Result<Link> get_link(int index, std::string_view name) {
  const std::string unknown =
      index > 0 ? "unknown interface index " + std::to_string(index)
                : "unknown interface '" + std::string(name) + "'";
  if (index <= 0 && (name.empty() || name.size() >= IFNAMSIZ || name.find('/') != name.npos ||
                     name.find('\0') != name.npos))
    return Error{ENODEV, unknown, {}};

  auto sock = MnlSocket::open(NETLINK_ROUTE);
  if (!sock) return sock.error();
  Request req(RTM_GETLINK, 0);
  auto* ifi = req.extra<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index > 0 ? index : 0;
  if (index <= 0) req.put_strz(IFLA_IFNAME, std::string(name));

  std::optional<Link> found;
  Status st = sock->request(
      req.hdr(),
      [&](const nlmsghdr* nlh) {
        Link l;
        if (parse_link(nlh, l)) found = std::move(l);
        return MNL_CB_OK;
      },
      "RTM_GETLINK");
  if (!st) {
    if (st.error().code == ENODEV) return Error{ENODEV, unknown, {}};
    return st.error();
  }
  if (!found) return Error{ENODEV, unknown, {}};
  return std::move(*found);
}

}  // namespace

Result<std::vector<Link>> dump_links() {
  return collect<Link>(
      NETLINK_ROUTE, "RTM_GETLINK",
      [] {
        Request req(RTM_GETLINK, 0);
        req.extra<ifinfomsg>()->ifi_family = AF_UNSPEC;
        return req;
      },
      [](const nlmsghdr* nlh, std::vector<Link>& out) {
        Link l;
        if (parse_link(nlh, l)) out.push_back(std::move(l));
      });
}

Result<Link> link_by_name(std::string_view name) { return get_link(0, name); }

Result<Link> link_by_index(int ifindex) {
  if (ifindex <= 0) return Error{ENODEV, "unknown interface index " + std::to_string(ifindex), {}};
  return get_link(ifindex, {});
}

Result<int> ifindex_by_name(std::string_view name) {
  auto l = link_by_name(name);
  if (!l) return l.error();
  return l->index;
}

// ---- addresses -------------------------------------------------------------------------

std::string scope_name(uint8_t scope) {
  switch (scope) {
    case RT_SCOPE_UNIVERSE: return "global";
    case RT_SCOPE_SITE: return "site";
    case RT_SCOPE_LINK: return "link";
    case RT_SCOPE_HOST: return "host";
    case RT_SCOPE_NOWHERE: return "nowhere";
    default: return std::to_string(scope);
  }
}

Result<std::vector<Address>> dump_addresses(int family, int ifindex) {
  return collect<Address>(
      NETLINK_ROUTE, "RTM_GETADDR",
      [family] {
        Request req(RTM_GETADDR, 0);
        req.extra<ifaddrmsg>()->ifa_family = static_cast<uint8_t>(family);
        return req;
      },
      [family, ifindex](const nlmsghdr* nlh, std::vector<Address>& out) {
        if (nlh->nlmsg_type != RTM_NEWADDR) return;
        const auto* ifa = header_of<ifaddrmsg>(nlh);
        if (ifa == nullptr) return;
        if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return;
        if (family != AF_UNSPEC && ifa->ifa_family != family) return;
        if (ifindex > 0 && static_cast<int>(ifa->ifa_index) != ifindex) return;
        const nlattr* tb[IFA_MAX + 1];
        parse_attrs(nlh, sizeof(*ifa), tb, IFA_MAX);

        Address a;
        a.ifindex = static_cast<int>(ifa->ifa_index);
        a.family = ifa->ifa_family;
        a.prefixlen = ifa->ifa_prefixlen;
        a.scope = ifa->ifa_scope;
        a.flags = attr_int<uint32_t>(tb[IFA_FLAGS], ifa->ifa_flags);
        a.local = attr_addr(tb[IFA_LOCAL]);
        // IFA_ADDRESS is always sent for inet/inet6; fall back to IFA_LOCAL anyway.
        a.address = attr_addr(tb[IFA_ADDRESS]).value_or(a.local.value_or(IpAddr::any(a.family)));
        a.broadcast = attr_addr(tb[IFA_BROADCAST]);
        a.label = attr_str(tb[IFA_LABEL]);
        if (const nlattr* ci = tb[IFA_CACHEINFO];
            ci != nullptr && mnl_attr_get_payload_len(ci) >= sizeof(ifa_cacheinfo)) {
          ifa_cacheinfo info;
          std::memcpy(&info, mnl_attr_get_payload(ci), sizeof(info));
          a.valid_lft = info.ifa_valid;
          a.preferred_lft = info.ifa_prefered;
        }
        out.push_back(std::move(a));
      });
}

// ---- routes ----------------------------------------------------------------------------

std::string route_type_name(uint8_t type) {
  static const char* const kNames[] = {"unspec",    "unicast",     "local",    "broadcast",
                                       "anycast",   "multicast",   "blackhole", "unreachable",
                                       "prohibit",  "throw",       "nat",       "xresolve"};
  if (type < std::size(kNames)) return kNames[type];
  return std::to_string(type);
}

std::string route_protocol_name(uint8_t proto) {
  switch (proto) {
    case RTPROT_UNSPEC: return "unspec";
    case RTPROT_REDIRECT: return "redirect";
    case RTPROT_KERNEL: return "kernel";
    case RTPROT_BOOT: return "boot";
    case RTPROT_STATIC: return "static";
    case RTPROT_RA: return "ra";
    case RTPROT_DHCP: return "dhcp";
    case RTPROT_BIRD: return "bird";
    case RTPROT_ZEBRA: return "zebra";
    case RTPROT_BGP: return "bgp";
    case RTPROT_OSPF: return "ospf";
    case RTPROT_BABEL: return "babel";
    case RTPROT_KEEPALIVED: return "keepalived";
    default: return std::to_string(proto);
  }
}

std::string route_table_name(uint32_t table) {
  switch (table) {
    case RT_TABLE_UNSPEC: return "unspec";
    case RT_TABLE_DEFAULT: return "default";
    case RT_TABLE_MAIN: return "main";
    case RT_TABLE_LOCAL: return "local";
    default: return std::to_string(table);
  }
}

std::string Route::destination() const {
  if (!dst) return dst_len == 0 ? "default" : "/" + std::to_string(dst_len);
  std::string s = dst->to_string();
  if (dst_len != dst->size() * 8) s += "/" + std::to_string(dst_len);
  return s;
}

namespace {

std::optional<IpAddr> via_addr(const nlattr* a) {
  // struct rtvia: a family followed by the address.
  if (a == nullptr || mnl_attr_get_payload_len(a) < sizeof(__kernel_sa_family_t)) return std::nullopt;
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
  return addr_from(p + sizeof(__kernel_sa_family_t),
                   mnl_attr_get_payload_len(a) - sizeof(__kernel_sa_family_t));
}

void parse_multipath(const nlattr* mp, std::vector<Nexthop>& out) {
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(mp));
  size_t left = mnl_attr_get_payload_len(mp);
  while (left >= sizeof(rtnexthop)) {
    rtnexthop nh;
    std::memcpy(&nh, p, sizeof(nh));
    if (nh.rtnh_len < sizeof(rtnexthop) || nh.rtnh_len > left) break;
    Nexthop hop;
    hop.ifindex = nh.rtnh_ifindex;
    hop.weight = nh.rtnh_hops + 1;
    hop.flags = nh.rtnh_flags;
    // Attributes of the hop follow its header.
    size_t alen = nh.rtnh_len - MNL_ALIGN(sizeof(rtnexthop));
    const nlattr* tb[RTA_MAX + 1] = {};
    AttrTable t{tb, RTA_MAX};
    if (nh.rtnh_len > MNL_ALIGN(sizeof(rtnexthop)))
      (void)mnl_attr_parse_payload(p + MNL_ALIGN(sizeof(rtnexthop)), alen, fill_table, &t);
    hop.gateway = tb[RTA_GATEWAY] ? attr_addr(tb[RTA_GATEWAY]) : via_addr(tb[RTA_VIA]);
    out.push_back(hop);
    size_t step = MNL_ALIGN(nh.rtnh_len);
    if (step >= left) break;
    p += step;
    left -= step;
  }
}

bool parse_route(const nlmsghdr* nlh, Route& r) {
  if (nlh->nlmsg_type != RTM_NEWROUTE) return false;
  const auto* rtm = header_of<rtmsg>(nlh);
  if (rtm == nullptr) return false;
  if (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6) return false;
  const nlattr* tb[RTA_MAX + 1];
  parse_attrs(nlh, sizeof(*rtm), tb, RTA_MAX);

  r.family = rtm->rtm_family;
  r.dst_len = rtm->rtm_dst_len;
  r.src_len = rtm->rtm_src_len;
  r.tos = rtm->rtm_tos;
  r.protocol = rtm->rtm_protocol;
  r.scope = rtm->rtm_scope;
  r.type = rtm->rtm_type;
  r.flags = rtm->rtm_flags;
  r.table = attr_int<uint32_t>(tb[RTA_TABLE], rtm->rtm_table);
  r.dst = attr_addr(tb[RTA_DST]);
  r.src = attr_addr(tb[RTA_SRC]);
  r.gateway = tb[RTA_GATEWAY] ? attr_addr(tb[RTA_GATEWAY]) : via_addr(tb[RTA_VIA]);
  r.prefsrc = attr_addr(tb[RTA_PREFSRC]);
  r.oif = static_cast<int>(attr_int<uint32_t>(tb[RTA_OIF]));
  r.iif = static_cast<int>(attr_int<uint32_t>(tb[RTA_IIF]));
  r.priority = attr_int<uint32_t>(tb[RTA_PRIORITY]);
  r.has_priority = tb[RTA_PRIORITY] != nullptr;
  r.pref = attr_opt<uint8_t>(tb[RTA_PREF]);
  r.mark = attr_int<uint32_t>(tb[RTA_MARK]);
  r.uid = attr_int<uint32_t>(tb[RTA_UID]);
  if (tb[RTA_METRICS] != nullptr) {
    const nlattr* mx[RTAX_MAX + 1];
    parse_nested(tb[RTA_METRICS], mx, RTAX_MAX);
    r.mtu = attr_int<uint32_t>(mx[RTAX_MTU]);
  }
  if (tb[RTA_MULTIPATH] != nullptr) parse_multipath(tb[RTA_MULTIPATH], r.nexthops);
  return true;
}

}  // namespace

Result<std::vector<Route>> dump_routes(int family) {
  return collect<Route>(
      NETLINK_ROUTE, "RTM_GETROUTE",
      [family] {
        Request req(RTM_GETROUTE, 0);
        req.extra<rtmsg>()->rtm_family = static_cast<uint8_t>(family);
        return req;
      },
      [family](const nlmsghdr* nlh, std::vector<Route>& out) {
        Route r;
        if (!parse_route(nlh, r)) return;
        if (family != AF_UNSPEC && r.family != family) return;
        out.push_back(std::move(r));
      });
}

Status for_each_route(int family, const std::function<void(const Route&)>& fn) {
  auto sock = MnlSocket::open(NETLINK_ROUTE);
  if (!sock) return sock.error();
  Request req(RTM_GETROUTE, 0);
  req.extra<rtmsg>()->rtm_family = static_cast<uint8_t>(family);
  return sock->dump(
      req.hdr(),
      [&](const nlmsghdr* nlh) {
        Route r;
        if (parse_route(nlh, r) && (family == AF_UNSPEC || r.family == family)) fn(r);
        return MNL_CB_OK;
      },
      "RTM_GETROUTE");
}

Result<Route> route_get(const RouteQuery& q) {
  const char* what = "RTM_GETROUTE";
  if (q.src && q.src->family() != q.dst.family())
    return Error{EINVAL, std::string("netlink ") + what, "source and destination families differ"};

  auto sock = MnlSocket::open(NETLINK_ROUTE);
  if (!sock) return sock.error();
  Request req(RTM_GETROUTE, 0);
  auto* rtm = req.extra<rtmsg>();
  rtm->rtm_family = static_cast<uint8_t>(q.dst.family());
  rtm->rtm_dst_len = static_cast<uint8_t>(q.dst.size() * 8);
  rtm->rtm_flags = RTM_F_LOOKUP_TABLE | (q.fib_match ? RTM_F_FIB_MATCH : 0);
  req.put(RTA_DST, q.dst.data(), q.dst.size());
  if (q.src) {
    rtm->rtm_src_len = static_cast<uint8_t>(q.src->size() * 8);
    req.put(RTA_SRC, q.src->data(), q.src->size());
  }
  if (q.iif > 0) req.put_u32(RTA_IIF, static_cast<uint32_t>(q.iif));
  if (q.oif > 0) req.put_u32(RTA_OIF, static_cast<uint32_t>(q.oif));
  if (q.mark != 0) req.put_u32(RTA_MARK, q.mark);

  std::optional<Route> found;
  Status st = sock->request(
      req.hdr(),
      [&](const nlmsghdr* nlh) {
        Route r;
        if (parse_route(nlh, r)) found = std::move(r);
        return MNL_CB_OK;
      },
      what);
  if (!st) return st.error();
  if (!found) return Error{ENOENT, std::string("netlink ") + what, "no route in the kernel's reply"};
  return std::move(*found);
}

Result<Route> route_get(const IpAddr& dst) {
  RouteQuery q;
  q.dst = dst;
  return route_get(q);
}

// ---- neighbours ------------------------------------------------------------------------

bool Neighbour::router() const { return flags & NTF_ROUTER; }

std::string Neighbour::neigh_state_name(uint16_t state) {
  static const std::pair<uint16_t, const char*> kStates[] = {
      {NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"}, {NUD_STALE, "STALE"},
      {NUD_DELAY, "DELAY"},           {NUD_PROBE, "PROBE"},         {NUD_FAILED, "FAILED"},
      {NUD_NOARP, "NOARP"},           {NUD_PERMANENT, "PERMANENT"},
  };
  if (state == NUD_NONE) return "NONE";
  std::string s;
  for (const auto& [bit, name] : kStates) {
    if (!(state & bit)) continue;
    if (!s.empty()) s += ',';
    s += name;
  }
  return s.empty() ? std::to_string(state) : s;
}

Result<std::vector<Neighbour>> dump_neighbours(int family) {
  return collect<Neighbour>(
      NETLINK_ROUTE, "RTM_GETNEIGH",
      [family] {
        Request req(RTM_GETNEIGH, 0);
        req.extra<ndmsg>()->ndm_family = static_cast<uint8_t>(family);
        return req;
      },
      [family](const nlmsghdr* nlh, std::vector<Neighbour>& out) {
        if (nlh->nlmsg_type != RTM_NEWNEIGH) return;
        const auto* ndm = header_of<ndmsg>(nlh);
        if (ndm == nullptr) return;
        if (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) return;
        if (family != AF_UNSPEC && ndm->ndm_family != family) return;
        const nlattr* tb[NDA_MAX + 1];
        parse_attrs(nlh, sizeof(*ndm), tb, NDA_MAX);
        Neighbour n;
        n.ifindex = ndm->ndm_ifindex;
        n.family = ndm->ndm_family;
        n.state = ndm->ndm_state;
        n.flags = ndm->ndm_flags;
        n.type = ndm->ndm_type;
        n.address = attr_addr(tb[NDA_DST]).value_or(IpAddr::any(n.family));
        n.lladdr = attr_bytes(tb[NDA_LLADDR]);
        out.push_back(std::move(n));
      });
}

// ---- policy rules ----------------------------------------------------------------------

std::string Rule::action_name() const {
  switch (action) {
    case FR_ACT_TO_TBL: return "lookup";
    case FR_ACT_GOTO: return "goto";
    case FR_ACT_NOP: return "nop";
    case FR_ACT_BLACKHOLE: return "blackhole";
    case FR_ACT_UNREACHABLE: return "unreachable";
    case FR_ACT_PROHIBIT: return "prohibit";
    default: return std::to_string(action);
  }
}

Result<std::vector<Rule>> dump_rules(int family) {
  return collect<Rule>(
      NETLINK_ROUTE, "RTM_GETRULE",
      [family] {
        Request req(RTM_GETRULE, 0);
        req.extra<fib_rule_hdr>()->family = static_cast<uint8_t>(family);
        return req;
      },
      [family](const nlmsghdr* nlh, std::vector<Rule>& out) {
        if (nlh->nlmsg_type != RTM_NEWRULE) return;
        const auto* frh = header_of<fib_rule_hdr>(nlh);
        if (frh == nullptr) return;
        if (frh->family != AF_INET && frh->family != AF_INET6) return;
        if (family != AF_UNSPEC && frh->family != family) return;
        const nlattr* tb[FRA_MAX + 1];
        parse_attrs(nlh, sizeof(*frh), tb, FRA_MAX);
        Rule r;
        r.family = frh->family;
        r.action = frh->action;
        r.flags = frh->flags;
        r.src_len = frh->src_len;
        r.dst_len = frh->dst_len;
        r.tos = frh->tos;
        r.table = attr_int<uint32_t>(tb[FRA_TABLE], frh->table);
        r.priority = attr_int<uint32_t>(tb[FRA_PRIORITY]);
        r.src = attr_addr(tb[FRA_SRC]);
        r.dst = attr_addr(tb[FRA_DST]);
        r.iifname = attr_str(tb[FRA_IIFNAME]);
        r.oifname = attr_str(tb[FRA_OIFNAME]);
        r.fwmark = attr_opt<uint32_t>(tb[FRA_FWMARK]);
        r.fwmask = attr_opt<uint32_t>(tb[FRA_FWMASK]);
        r.goto_target = attr_opt<uint32_t>(tb[FRA_GOTO]);
        r.suppress_prefixlen = attr_opt<uint32_t>(tb[FRA_SUPPRESS_PREFIXLEN]);
        r.ip_proto = attr_opt<uint8_t>(tb[FRA_IP_PROTO]);
        r.protocol = attr_int<uint8_t>(tb[FRA_PROTOCOL]);
        if (auto p = attr_opt<fib_rule_port_range>(tb[FRA_SPORT_RANGE])) r.sport = {{p->start, p->end}};
        if (auto p = attr_opt<fib_rule_port_range>(tb[FRA_DPORT_RANGE])) r.dport = {{p->start, p->end}};
        if (auto u = attr_opt<fib_rule_uid_range>(tb[FRA_UID_RANGE])) r.uid_range = {{u->start, u->end}};
        out.push_back(std::move(r));
      });
}

// ---- sock_diag -------------------------------------------------------------------------

std::string socket_state_name(uint8_t state) {
  static const char* const kNames[] = {"UNKNOWN",   "ESTAB",      "SYN-SENT",  "SYN-RECV",
                                       "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "UNCONN",
                                       "CLOSE-WAIT", "LAST-ACK",   "LISTEN",    "CLOSING",
                                       "NEW-SYN-RECV"};
  if (state < std::size(kNames)) return kNames[state];
  return std::to_string(state);
}

namespace {

Status check_inet_args(int family, int protocol) {
  if (family == AF_UNSPEC && protocol == IPPROTO_TCP) return {};
  if (family != AF_INET && family != AF_INET6)
    return Error{EAFNOSUPPORT, "sock_diag: family must be AF_INET or AF_INET6", {}};
  if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP && protocol != IPPROTO_RAW)
    return Error{EPROTONOSUPPORT, "sock_diag: protocol must be tcp, udp or raw", {}};
  return {};
}

Request inet_request(int family, int protocol, uint32_t states, bool tcp_details) {
  if (family == AF_UNSPEC) {
    // The original TCP-only request: the kernel walks its table once for both families.
    Request req(TCPDIAG_GETSOCK, 0);
    auto* r = req.extra<inet_diag_req>();
    r->idiag_states = states;
    if (tcp_details) r->idiag_ext = (1u << (INET_DIAG_CONG - 1)) | (1u << (INET_DIAG_INFO - 1));
    return req;
  }
  Request req(SOCK_DIAG_BY_FAMILY, 0);
  auto* r = req.extra<inet_diag_req_v2>();
  r->sdiag_family = static_cast<uint8_t>(family);
  r->sdiag_protocol = static_cast<uint8_t>(protocol);
  r->idiag_states = states;
  if (protocol == IPPROTO_TCP && tcp_details)
    r->idiag_ext = (1u << (INET_DIAG_CONG - 1)) | (1u << (INET_DIAG_INFO - 1));
  // raw_diag reads the socket's protocol from this byte (inet_diag_req_raw).
  if (protocol == IPPROTO_RAW) r->pad = IPPROTO_RAW;
  return req;
}

// One SOCK_DIAG_BY_FAMILY message into s (every field rewritten); false when it is
// not an inet_diag_msg.
bool parse_inet_msg(const nlmsghdr* nlh, int protocol, InetSocket& s) {
  if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY && nlh->nlmsg_type != TCPDIAG_GETSOCK) return false;
  const auto* m = header_of<inet_diag_msg>(nlh);
  if (m == nullptr || (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)) return false;
  if (m == nullptr) return false;
  const nlattr* tb[INET_DIAG_MAX + 1];
  parse_attrs(nlh, sizeof(*m), tb, INET_DIAG_MAX);
  s.family = m->idiag_family;
  s.protocol = protocol;
  s.state = m->idiag_state;
  const size_t alen = m->idiag_family == AF_INET ? 4 : 16;
  s.local = IpAddr::from_bytes({reinterpret_cast<const uint8_t*>(m->id.idiag_src), alen});
  s.remote = IpAddr::from_bytes({reinterpret_cast<const uint8_t*>(m->id.idiag_dst), alen});
  s.local_port = ntohs(m->id.idiag_sport);
  s.remote_port = ntohs(m->id.idiag_dport);
  s.ifindex = static_cast<int>(m->id.idiag_if);
  s.cookie = static_cast<uint64_t>(m->id.idiag_cookie[0]) | (static_cast<uint64_t>(m->id.idiag_cookie[1]) << 32);
  s.rqueue = m->idiag_rqueue;
  s.wqueue = m->idiag_wqueue;
  s.uid = m->idiag_uid;
  s.inode = m->idiag_inode;
  s.timer = m->idiag_timer;
  s.expires_ms = m->idiag_expires;
  s.retrans = m->idiag_retrans;
  s.shutdown = attr_opt<uint8_t>(tb[INET_DIAG_SHUTDOWN]);
  s.mark = attr_opt<uint32_t>(tb[INET_DIAG_MARK]);
  s.v6only = attr_int<uint8_t>(tb[INET_DIAG_SKV6ONLY]) != 0;
  if (tb[INET_DIAG_CONG] != nullptr) s.congestion = attr_str(tb[INET_DIAG_CONG]);
  else s.congestion.clear();
  s.tcp_info.reset();
  if (const nlattr* a = tb[INET_DIAG_INFO]; a != nullptr && protocol == IPPROTO_TCP) {
    // Older kernels send a shorter struct: missing tail fields stay 0.
    tcp_info ti{};
    std::memcpy(&ti, mnl_attr_get_payload(a), std::min<size_t>(sizeof(ti), mnl_attr_get_payload_len(a)));
    TcpInfo t;
    t.ca_state = ti.tcpi_ca_state;
    t.retransmits = ti.tcpi_retransmits;
    t.rto_us = ti.tcpi_rto;
    t.rtt_us = ti.tcpi_rtt;
    t.rttvar_us = ti.tcpi_rttvar;
    t.snd_mss = ti.tcpi_snd_mss;
    t.rcv_mss = ti.tcpi_rcv_mss;
    t.snd_cwnd = ti.tcpi_snd_cwnd;
    t.snd_ssthresh = ti.tcpi_snd_ssthresh;
    t.unacked = ti.tcpi_unacked;
    t.lost = ti.tcpi_lost;
    t.total_retrans = ti.tcpi_total_retrans;
    t.bytes_acked = ti.tcpi_bytes_acked;
    t.bytes_received = ti.tcpi_bytes_received;
    t.delivery_rate = ti.tcpi_delivery_rate;
    s.tcp_info = t;
  }
  return true;
}

}  // namespace

Result<std::vector<InetSocket>> dump_inet_sockets(int family, int protocol, uint32_t states, bool tcp_details) {
  if (auto st = check_inet_args(family, protocol); !st) return st.error();
  return collect<InetSocket>(
      NETLINK_SOCK_DIAG, "SOCK_DIAG_BY_FAMILY(inet)",
      [=] { return inet_request(family, protocol, states, tcp_details); },
      [=](const nlmsghdr* nlh, std::vector<InetSocket>& out) {
        InetSocket s;
        if (parse_inet_msg(nlh, protocol, s)) out.push_back(std::move(s));
      });
}

Status for_each_inet_socket(int family, int protocol, uint32_t states, bool tcp_details,
                            const std::function<void(const InetSocket&)>& fn) {
  if (auto st = check_inet_args(family, protocol); !st) return st;
  auto sock = MnlSocket::open(NETLINK_SOCK_DIAG);
  if (!sock) return sock.error();
  Request req = inet_request(family, protocol, states, tcp_details);
  InetSocket s;
  return sock->dump(
      req.hdr(),
      [&](const nlmsghdr* nlh) {
        if (parse_inet_msg(nlh, protocol, s)) fn(s);
        return MNL_CB_OK;
      },
      "SOCK_DIAG_BY_FAMILY(inet)");
}

Result<std::vector<UnixSocket>> dump_unix_sockets(uint32_t states) {
  return collect<UnixSocket>(
      NETLINK_SOCK_DIAG, "SOCK_DIAG_BY_FAMILY(unix)",
      [=] {
        Request req(SOCK_DIAG_BY_FAMILY, 0);
        auto* r = req.extra<unix_diag_req>();
        r->sdiag_family = AF_UNIX;
        r->udiag_states = states;
        r->udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID;
        return req;
      },
      [](const nlmsghdr* nlh, std::vector<UnixSocket>& out) {
        if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY) return;
        const auto* m = header_of<unix_diag_msg>(nlh);
        if (m == nullptr) return;
        const nlattr* tb[UNIX_DIAG_MAX + 1];
        parse_attrs(nlh, sizeof(*m), tb, UNIX_DIAG_MAX);
        UnixSocket s;
        s.type = m->udiag_type;
        s.state = m->udiag_state;
        s.inode = m->udiag_ino;
        if (const nlattr* n = tb[UNIX_DIAG_NAME]; n != nullptr && mnl_attr_get_payload_len(n) > 0) {
          const char* p = static_cast<const char*>(mnl_attr_get_payload(n));
          size_t len = mnl_attr_get_payload_len(n);
          if (p[0] == '\0') s.path = "@" + std::string(p + 1, len - 1);  // abstract
          else s.path = std::string(p, strnlen(p, len));
        }
        s.peer_inode = attr_int<uint32_t>(tb[UNIX_DIAG_PEER]);
        if (auto q = attr_opt<unix_diag_rqlen>(tb[UNIX_DIAG_RQLEN])) {
          s.rqueue = q->udiag_rqueue;
          s.wqueue = q->udiag_wqueue;
        }
        s.uid = attr_opt<uint32_t>(tb[UNIX_DIAG_UID]);
        out.push_back(std::move(s));
      });
}

// ---- bridges ---------------------------------------------------------------------------

Result<std::vector<FdbEntry>> dump_fdb() {
  return collect<FdbEntry>(
      NETLINK_ROUTE, "RTM_GETNEIGH",
      [] {
        Request req(RTM_GETNEIGH, 0);
        req.extra<ndmsg>()->ndm_family = PF_BRIDGE;
        return req;
      },
      [](const nlmsghdr* nlh, std::vector<FdbEntry>& out) {
        if (nlh->nlmsg_type != RTM_NEWNEIGH) return;
        const auto* ndm = header_of<ndmsg>(nlh);
        if (ndm == nullptr || ndm->ndm_family != PF_BRIDGE) return;
        const nlattr* tb[NDA_MAX + 1];
        parse_attrs(nlh, sizeof(*ndm), tb, NDA_MAX);
        FdbEntry e;
        e.ifindex = ndm->ndm_ifindex;
        e.state = ndm->ndm_state;
        e.flags = ndm->ndm_flags;
        e.lladdr = attr_bytes(tb[NDA_LLADDR]);
        e.master = static_cast<int>(attr_int<uint32_t>(tb[NDA_MASTER]));
        e.vlan = attr_opt<uint16_t>(tb[NDA_VLAN]);
        e.dst = attr_addr(tb[NDA_DST]);
        out.push_back(std::move(e));
      });
}

std::string bridge_port_state_name(uint8_t state) {
  static const char* const kNames[] = {"disabled", "listening", "learning", "forwarding", "blocking"};
  if (state < std::size(kNames)) return kNames[state];
  return std::to_string(state);
}

Result<std::vector<BridgePort>> dump_bridge_ports() {
  return collect<BridgePort>(
      NETLINK_ROUTE, "RTM_GETLINK",
      [] {
        Request req(RTM_GETLINK, 0);
        req.extra<ifinfomsg>()->ifi_family = PF_BRIDGE;
        return req;
      },
      [](const nlmsghdr* nlh, std::vector<BridgePort>& out) {
        if (nlh->nlmsg_type != RTM_NEWLINK) return;
        const auto* ifi = header_of<ifinfomsg>(nlh);
        if (ifi == nullptr) return;
        const nlattr* tb[IFLA_MAX + 1];
        parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX);
        BridgePort p;
        p.ifindex = ifi->ifi_index;
        p.flags = ifi->ifi_flags;
        p.name = attr_str(tb[IFLA_IFNAME]);
        p.mtu = attr_int<uint32_t>(tb[IFLA_MTU]);
        p.master = static_cast<int>(attr_int<uint32_t>(tb[IFLA_MASTER]));
        p.link = static_cast<int>(attr_int<uint32_t>(tb[IFLA_LINK]));
        p.link_netnsid = attr_opt<int32_t>(tb[IFLA_LINK_NETNSID]);
        p.state = attr_int<uint8_t>(tb[IFLA_OPERSTATE]);  // replaced by the port state below
        if (const nlattr* pi = tb[IFLA_PROTINFO]; pi != nullptr && (pi->nla_type & NLA_F_NESTED)) {
          const nlattr* pt[IFLA_BRPORT_MAX + 1];
          parse_nested(pi, pt, IFLA_BRPORT_MAX);
          p.state = attr_int<uint8_t>(pt[IFLA_BRPORT_STATE]);
          p.priority = attr_opt<uint16_t>(pt[IFLA_BRPORT_PRIORITY]);
          p.cost = attr_opt<uint32_t>(pt[IFLA_BRPORT_COST]);
        } else if (const nlattr* pi8 = tb[IFLA_PROTINFO]) {
          p.state = attr_int<uint8_t>(pi8);  // older kernels: a bare u8 state
        }
        out.push_back(std::move(p));
      });
}

std::optional<BridgeVlanPort> parse_bridge_vlan_message(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != RTM_NEWLINK) return std::nullopt;
  const auto* ifi = header_of<ifinfomsg>(nlh);
  if (ifi == nullptr || ifi->ifi_family != AF_BRIDGE) return std::nullopt;
  const nlattr* tb[IFLA_MAX + 1];
  parse_attrs(nlh, sizeof(*ifi), tb, IFLA_MAX);
  const nlattr* spec = tb[IFLA_AF_SPEC];
  if (spec == nullptr) return std::nullopt;
  BridgeVlanPort p;
  p.ifindex = ifi->ifi_index;
  p.name = attr_str(tb[IFLA_IFNAME]);
  int range_begin = -1;  // the vid of a RANGE_BEGIN waiting for its RANGE_END
  for_each_nested(spec, [&](const nlattr* a) {
    if (mnl_attr_get_type(a) != IFLA_BRIDGE_VLAN_INFO || mnl_attr_get_payload_len(a) < sizeof(bridge_vlan_info))
      return;
    auto vi = attr_int<bridge_vlan_info>(a);
    if (vi.flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) {
      range_begin = vi.vid;
      return;
    }
    BridgeVlan v{vi.vid, vi.vid, vi.flags};
    if (vi.flags & BRIDGE_VLAN_INFO_RANGE_END) {
      if (range_begin < 0 || range_begin > vi.vid) return;
      v.vid = static_cast<uint16_t>(range_begin);
    }
    range_begin = -1;
    p.vlans.push_back(v);
  });
  return p;
}

Result<std::vector<BridgeVlanPort>> dump_bridge_vlans(bool compressed) {
  return collect<BridgeVlanPort>(
      NETLINK_ROUTE, "RTM_GETLINK",
      [compressed] {
        Request req(RTM_GETLINK, 0);
        req.extra<ifinfomsg>()->ifi_family = PF_BRIDGE;
        req.put_u32(IFLA_EXT_MASK, compressed ? RTEXT_FILTER_BRVLAN_COMPRESSED : RTEXT_FILTER_BRVLAN);
        return req;
      },
      [](const nlmsghdr* nlh, std::vector<BridgeVlanPort>& out) {
        if (auto p = parse_bridge_vlan_message(nlh)) out.push_back(std::move(*p));
      });
}

}  // namespace netshoot::core

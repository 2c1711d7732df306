// Netlink access for the core: an owning libmnl socket with dump/request helpers,
// and typed views of rtnetlink (links, addresses, routes, `ip route get`,
// neighbours, policy rules) and sock_diag (inet and unix sockets, for ss/netstat).
//
// Every function opens its own socket in the calling thread's current network
// namespace (enter a namespace first with netns.h). Nothing here needs privileges.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/result.h"

struct mnl_socket;
struct nlmsghdr;

namespace netshoot::core {

// ---- small value types -------------------------------------------------------------

// Addresses are core::IpAddr (netshoot/addr.h), as the kernel sends them (no scope).
// An attribute the kernel may omit is a std::optional<IpAddr> (nullopt = absent).

// "aa:bb:cc:dd:ee:ff" (any length, "" when empty).
std::string format_lladdr(const std::vector<uint8_t>& addr);

// ---- the socket ----------------------------------------------------------------------

// Unique owner of a bound libmnl socket. The helpers send one request and run
// mnl_cb_run until the kernel says it is complete; errors carry the kernel's errno
// and context "netlink RTM_GETROUTE" (plus the extended-ack message as hint).
class MnlSocket {
 public:
  // Called for every data message of the reply; return MNL_CB_OK to continue,
  // MNL_CB_STOP to end early, MNL_CB_ERROR (with errno set) to fail.
  using Callback = std::function<int(const nlmsghdr*)>;

  // bus: NETLINK_ROUTE, NETLINK_SOCK_DIAG, NETLINK_NETFILTER, ...
  static Result<MnlSocket> open(int bus);

  MnlSocket(MnlSocket&&) noexcept = default;
  MnlSocket& operator=(MnlSocket&&) noexcept = default;
  ~MnlSocket() = default;

  mnl_socket* get() const { return sock_.get(); }
  int fd() const;
  uint32_t portid() const;
  uint32_t next_seq() { return ++seq_; }

  // NLM_F_DUMP request: sets flags REQUEST|DUMP, seq and pid, sends, and feeds
  // every reply message to cb until NLMSG_DONE. EINTR: the dump was interrupted
  // (NLM_F_DUMP_INTR) and should be retried; the socket is then unusable.
  Status dump(nlmsghdr* req, const Callback& cb, std::string_view what);
  // Single request with NLM_F_ACK: feeds reply messages to cb (may be empty)
  // until the acknowledgement; a negative ack becomes the returned error.
  Status request(nlmsghdr* req, const Callback& cb, std::string_view what);

 private:
  struct Closer {
    void operator()(mnl_socket* s) const;
  };
  explicit MnlSocket(mnl_socket* s);
  Status run(nlmsghdr* req, const Callback& cb, std::string_view what);

  std::unique_ptr<mnl_socket, Closer> sock_;
  uint32_t seq_ = 0;
  bool dirty_ = false;  // an exchange ended early: unread replies may be queued
  std::vector<char> buf_;
};

// ---- links ---------------------------------------------------------------------------

struct LinkStats {
  uint64_t rx_packets = 0, tx_packets = 0;
  uint64_t rx_bytes = 0, tx_bytes = 0;
  uint64_t rx_errors = 0, tx_errors = 0;
  uint64_t rx_dropped = 0, tx_dropped = 0;
  uint64_t multicast = 0, collisions = 0;
};

struct Link {
  int index = 0;
  std::string name;
  uint32_t flags = 0;            // IFF_* (UP, BROADCAST, LOOPBACK, ..., LOWER_UP)
  uint16_t type = 0;             // ARPHRD_*
  uint8_t operstate = 0;         // IF_OPER_*
  uint32_t mtu = 0;
  uint32_t txqlen = 0;
  std::vector<uint8_t> address;  // IFLA_ADDRESS (MAC for Ethernet)
  std::vector<uint8_t> broadcast;
  std::string qdisc;
  std::string alias;
  int master = 0;                // IFLA_MASTER ifindex, 0 = none
  int link = 0;                  // IFLA_LINK: peer/parent ifindex (veth peer, vlan parent)
  std::optional<int> link_netnsid;  // IFLA_LINK_NETNSID: `link` lives in that netns
  std::string kind;              // IFLA_INFO_KIND: veth, bridge, vxlan, ... ("" = none)
  std::string slave_kind;        // IFLA_INFO_SLAVE_KIND: bridge port, bond slave, ...
  std::optional<LinkStats> stats;
  // Bridges only (IFLA_INFO_DATA): IFLA_BR_BRIDGE_ID as "8000.f6c1c1fe0749", IFLA_BR_STP_STATE.
  std::string bridge_id;
  std::optional<uint32_t> stp_state;

  bool up() const;
  bool lower_up() const;
  bool loopback() const;
  bool running() const;
  std::string operstate_name() const;  // UNKNOWN, NOTPRESENT, DOWN, LOWERLAYERDOWN, TESTING, DORMANT, UP
};

// IFF_* names in `ip link` order: {"LOOPBACK","UP","LOWER_UP"}.
std::vector<std::string> link_flag_names(uint32_t flags);

Result<std::vector<Link>> dump_links();
// Error "unknown interface 'eth9'" (code ENODEV) when there is no such link.
Result<Link> link_by_name(std::string_view name);
Result<Link> link_by_index(int ifindex);
Result<int> ifindex_by_name(std::string_view name);

// ---- addresses -----------------------------------------------------------------------

struct Address {
  int ifindex = 0;
  int family = AF_UNSPEC;
  uint8_t prefixlen = 0;
  uint8_t scope = 0;       // RT_SCOPE_*
  uint32_t flags = 0;      // IFA_F_* (IFA_FLAGS when present, else ifa_flags)
  IpAddr address;          // IFA_ADDRESS (peer address on point-to-point links)
  std::optional<IpAddr> local;      // IFA_LOCAL (IPv4: the interface's own address)
  std::optional<IpAddr> broadcast;  // IFA_BROADCAST
  std::string label;       // IFA_LABEL (IPv4 only)
  uint32_t valid_lft = 0xffffffffu;      // seconds, 0xffffffff = forever
  uint32_t preferred_lft = 0xffffffffu;

  // The host's own address: `local` when present, else `address`.
  const IpAddr& own() const { return local ? *local : address; }
};

std::string scope_name(uint8_t scope);   // global, site, link, host, nowhere, or the number

// family: AF_UNSPEC (both), AF_INET or AF_INET6; ifindex 0 = all links.
Result<std::vector<Address>> dump_addresses(int family = AF_UNSPEC, int ifindex = 0);

// ---- routes --------------------------------------------------------------------------

struct Nexthop {
  int ifindex = 0;
  std::optional<IpAddr> gateway;  // RTA_GATEWAY / RTA_VIA of the hop
  int weight = 1;          // rtnh_hops + 1
  uint8_t flags = 0;       // RTNH_F_*
};

struct Route {
  int family = AF_UNSPEC;
  uint32_t table = 0;      // RTA_TABLE (254 main, 255 local, ...)
  uint8_t dst_len = 0;
  uint8_t src_len = 0;
  uint8_t tos = 0;
  uint8_t protocol = 0;    // RTPROT_*
  uint8_t scope = 0;       // RT_SCOPE_*
  uint8_t type = 0;        // RTN_*
  uint32_t flags = 0;      // RTM_F_* / RTNH_F_*
  std::optional<IpAddr> dst;      // RTA_DST; nullopt with dst_len 0: default route
  std::optional<IpAddr> src;      // RTA_SRC (source selector)
  std::optional<IpAddr> gateway;  // RTA_GATEWAY (or RTA_VIA for IPv4-via-IPv6)
  std::optional<IpAddr> prefsrc;  // RTA_PREFSRC
  int oif = 0;
  int iif = 0;
  uint32_t priority = 0;   // RTA_PRIORITY (the metric)
  uint32_t mark = 0;       // RTA_MARK (route get)
  uint32_t mtu = 0;        // RTAX_MTU from RTA_METRICS, 0 = unset
  uint32_t uid = 0;        // RTA_UID (route get)
  std::vector<Nexthop> nexthops;  // RTA_MULTIPATH
  std::optional<uint8_t> pref;    // RTA_PREF (IPv6 router preference: 0 medium, 1 high, 3 low)
  bool has_priority = false;      // RTA_PRIORITY was present (IPv4 omits metric 0)

  // "default", "10.0.0.0/8", "192.0.2.1" (host routes without /32).
  std::string destination() const;
};

std::string route_type_name(uint8_t type);        // unicast, local, broadcast, unreachable, ...
std::string route_protocol_name(uint8_t proto);   // kernel, boot, static, dhcp, ...
std::string route_table_name(uint32_t table);     // main, local, default, or the number

// Every route of every table (not only main). family AF_UNSPEC = IPv4 and IPv6.
Result<std::vector<Route>> dump_routes(int family = AF_UNSPEC);
// The same dump streamed to fn route by route (nothing collected). EINTR
// (NLM_F_DUMP_INTR): the table changed during the dump and fn has seen part of it.
Status for_each_route(int family, const std::function<void(const Route&)>& fn);

struct RouteQuery {
  IpAddr dst;                     // required (its family selects IPv4/IPv6)
  std::optional<IpAddr> src;      // optional source address, same family as dst
  int iif = 0;             // input interface: simulate a forwarded packet (needs src)
  int oif = 0;             // force output interface
  uint32_t mark = 0;       // fwmark for policy routing
  bool fib_match = false;  // return the matching FIB entry instead of the resolved route
};

// Like `ip route get`: oif, prefsrc, gateway, table, type of the route the kernel
// would use. Unroutable destinations give the kernel's errno (ENETUNREACH,
// EHOSTUNREACH, EACCES for prohibit, EINVAL...), context "netlink RTM_GETROUTE".
Result<Route> route_get(const RouteQuery& query);
Result<Route> route_get(const IpAddr& dst);

// ---- neighbours ----------------------------------------------------------------------

struct Neighbour {
  int ifindex = 0;
  int family = AF_UNSPEC;
  IpAddr address;                // NDA_DST
  std::vector<uint8_t> lladdr;   // NDA_LLADDR (empty when unresolved)
  uint16_t state = 0;            // NUD_* bits
  uint8_t flags = 0;             // NTF_* (NTF_ROUTER, NTF_PROXY, ...)
  uint8_t type = 0;              // RTN_*

  bool router() const;
  std::string state_name() const { return neigh_state_name(state); }
  // REACHABLE, STALE, INCOMPLETE, FAILED, PERMANENT, NOARP, DELAY, PROBE, NONE
  // (several bits are joined with ',').
  static std::string neigh_state_name(uint16_t state);
};

// IPv4 (ARP) and IPv6 (NDP) neighbour tables.
Result<std::vector<Neighbour>> dump_neighbours(int family = AF_UNSPEC);

// ---- policy routing rules ------------------------------------------------------------

struct Rule {
  int family = AF_UNSPEC;
  uint32_t priority = 0;       // FRA_PRIORITY
  uint32_t table = 0;          // FRA_TABLE (or the 8-bit header field)
  uint8_t action = 0;          // FR_ACT_* (1 = to table, 2 goto, 3 nop, 6 blackhole, ...)
  uint32_t flags = 0;          // FIB_RULE_* (FIB_RULE_INVERT = "not")
  uint8_t src_len = 0, dst_len = 0, tos = 0;
  std::optional<IpAddr> src, dst;  // FRA_SRC / FRA_DST selectors (nullopt = "all")
  std::string iifname, oifname;
  std::optional<uint32_t> fwmark;
  std::optional<uint32_t> fwmask;
  std::optional<uint32_t> goto_target;        // FRA_GOTO
  std::optional<uint32_t> suppress_prefixlen; // FRA_SUPPRESS_PREFIXLEN
  std::optional<uint8_t> ip_proto;            // FRA_IP_PROTO
  std::optional<std::pair<uint16_t, uint16_t>> sport, dport;  // FRA_[SD]PORT_RANGE
  std::optional<std::pair<uint32_t, uint32_t>> uid_range;     // FRA_UID_RANGE
  uint8_t protocol = 0;        // FRA_PROTOCOL (who installed it)

  std::string action_name() const;  // "lookup", "goto", "nop", "blackhole", "unreachable", "prohibit"
};

Result<std::vector<Rule>> dump_rules(int family = AF_UNSPEC);

// ---- sockets (sock_diag) -------------------------------------------------------------

// TCP states (linux/tcp_states.h); UDP uses ESTABLISHED (connected) and CLOSE.
enum class TcpState : uint8_t {
  established = 1, syn_sent, syn_recv, fin_wait1, fin_wait2, time_wait, close,
  close_wait, last_ack, listen, closing, new_syn_recv,
};
constexpr uint32_t kAllSocketStates = 0xffffffffu;
constexpr uint32_t state_bit(TcpState s) { return 1u << static_cast<uint8_t>(s); }

// ss spelling: ESTAB, SYN-SENT, SYN-RECV, FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT,
// UNCONN (close), CLOSE-WAIT, LAST-ACK, LISTEN, CLOSING, NEW-SYN-RECV.
std::string socket_state_name(uint8_t state);

// The parts of struct tcp_info (INET_DIAG_INFO) that ss -i shows.
struct TcpInfo {
  uint8_t ca_state = 0;       // TCP_CA_Open, Disorder, CWR, Recovery, Loss
  uint8_t retransmits = 0;
  uint32_t rto_us = 0;
  uint32_t rtt_us = 0, rttvar_us = 0;
  uint32_t snd_mss = 0, rcv_mss = 0;
  uint32_t snd_cwnd = 0, snd_ssthresh = 0;
  uint32_t unacked = 0, lost = 0, total_retrans = 0;
  uint64_t bytes_acked = 0, bytes_received = 0;
  uint64_t delivery_rate = 0;  // bytes per second
};

struct InetSocket {
  int family = AF_UNSPEC;   // AF_INET or AF_INET6
  int protocol = 0;         // IPPROTO_TCP, IPPROTO_UDP, IPPROTO_RAW
  uint8_t state = 0;        // TcpState value
  IpAddr local, remote;
  uint16_t local_port = 0, remote_port = 0;  // host byte order
  int ifindex = 0;          // bound device (SO_BINDTODEVICE), 0 = any
  uint32_t rqueue = 0;      // recv queue (listeners: current accept backlog)
  uint32_t wqueue = 0;      // send queue (listeners: max backlog)
  uint32_t uid = 0;
  uint32_t inode = 0;
  uint64_t cookie = 0;
  uint8_t timer = 0;        // idiag_timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME_WAIT, 4 probe
  uint32_t expires_ms = 0;
  uint8_t retrans = 0;
  std::optional<uint8_t> shutdown;  // INET_DIAG_SHUTDOWN bits (1 rd, 2 wr)
  std::optional<uint32_t> mark;     // INET_DIAG_MARK (visible with CAP_NET_ADMIN)
  bool v6only = false;              // INET_DIAG_SKV6ONLY: an AF_INET6 socket that takes no IPv4
  std::string congestion;           // INET_DIAG_CONG, TCP only
  std::optional<TcpInfo> tcp_info;  // INET_DIAG_INFO, TCP only (not for TIME-WAIT/SYN-RECV)
};

// family AF_INET or AF_INET6 (AF_INET6 includes dual-stack sockets' v4-mapped
// peers); protocol IPPROTO_TCP, IPPROTO_UDP or IPPROTO_RAW; states is a mask of
// state_bit(...). raw needs the raw_diag module (ENOENT otherwise).
// tcp_details=false skips INET_DIAG_INFO/CONG (tcp_info, congestion): about half
// the kernel's work and bytes for a plain listing (ss -tan without -i).
Result<std::vector<InetSocket>> dump_inet_sockets(int family, int protocol,
                                                  uint32_t states = kAllSocketStates,
                                                  bool tcp_details = true);

// The same dump streamed: fn sees each socket as its message is parsed (the
// InetSocket is reused between calls), nothing is collected, so a listing of
// 100,000 sockets costs no per-socket allocation. EINTR (NLM_F_DUMP_INTR): the
// table changed during the dump and fn has seen part of it; the caller starts over.
// For TCP, family AF_UNSPEC asks for both families in one walk of the kernel's
// table (the original TCPDIAG_GETSOCK request): the families then come mixed, each
// in the order its own dump would give.
Status for_each_inet_socket(int family, int protocol, uint32_t states, bool tcp_details,
                            const std::function<void(const InetSocket&)>& fn);

struct UnixSocket {
  uint8_t type = 0;         // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
  uint8_t state = 0;        // TcpState value (LISTEN, ESTABLISHED, CLOSE)
  uint32_t inode = 0;
  std::string path;         // "" unbound; abstract names start with '@'
  uint32_t peer_inode = 0;  // 0 = not connected
  uint32_t rqueue = 0, wqueue = 0;
  std::optional<uint32_t> uid;  // UNIX_DIAG_UID (kernel >= 5.3)
};

// Needs the unix_diag module (ENOENT otherwise).
Result<std::vector<UnixSocket>> dump_unix_sockets(uint32_t states = kAllSocketStates);

// ---- bridges -------------------------------------------------------------------------

// One forwarding database entry (RTM_GETNEIGH with AF_BRIDGE, as `bridge fdb show`).
struct FdbEntry {
  int ifindex = 0;               // the port (or the bridge itself, or a NIC's own table)
  std::vector<uint8_t> lladdr;   // NDA_LLADDR
  int master = 0;                // NDA_MASTER: bridge ifindex, 0 when absent
  std::optional<uint16_t> vlan;  // NDA_VLAN
  std::optional<IpAddr> dst;     // NDA_DST (vxlan remote)
  uint16_t state = 0;            // NUD_*: PERMANENT = "permanent", NOARP = "static"
  uint8_t flags = 0;             // NTF_SELF, NTF_MASTER, NTF_EXT_LEARNED, NTF_OFFLOADED, ...
};

Result<std::vector<FdbEntry>> dump_fdb();

// A bridge port as `bridge link` shows it (RTM_GETLINK with AF_BRIDGE, IFLA_PROTINFO).
struct BridgePort {
  int ifindex = 0;
  std::string name;
  uint32_t flags = 0;   // IFF_*
  uint32_t mtu = 0;
  int master = 0;
  int link = 0;         // IFLA_LINK (veth peer), 0 = none
  std::optional<int> link_netnsid;
  uint8_t state = 0;    // BR_STATE_*: 0 disabled, 1 listening, 2 learning, 3 forwarding, 4 blocking
  std::optional<uint16_t> priority;
  std::optional<uint32_t> cost;
};

std::string bridge_port_state_name(uint8_t state);
Result<std::vector<BridgePort>> dump_bridge_ports();

// The VLANs of a bridge port or of the bridge itself (`bridge vlan show`): RTM_GETLINK
// with AF_BRIDGE and IFLA_EXT_MASK RTEXT_FILTER_BRVLAN, or _COMPRESSED for ranges.
struct BridgeVlan {
  uint16_t vid = 0;
  uint16_t vid_end = 0;  // == vid unless the kernel sent a range (compressed dumps)
  uint16_t flags = 0;    // BRIDGE_VLAN_INFO_* as sent (PVID, UNTAGGED; RANGE_END on a range)
};
struct BridgeVlanPort {
  int ifindex = 0;
  std::string name;
  std::vector<BridgeVlan> vlans;
};

// One RTM_NEWLINK message of such a dump; nullopt for other messages and for
// links without a VLAN table (no IFLA_AF_SPEC, as on kernels without
// CONFIG_BRIDGE_VLAN_FILTERING). A range end without its begin is dropped.
std::optional<BridgeVlanPort> parse_bridge_vlan_message(const nlmsghdr* nlh);
Result<std::vector<BridgeVlanPort>> dump_bridge_vlans(bool compressed);

}  // namespace netshoot::core

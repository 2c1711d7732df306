// Netlink views against the running kernel. Unprivileged: only loopback, which every
// network namespace has, and sockets this test opens itself.
#include "netshoot/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

#include "netshoot/fd.h"

using namespace netshoot::core;

namespace {

IpAddr addr(const char* text) {
  auto a = IpAddr::try_parse(text);
  REQUIRE(a.has_value());
  return *a;
}

int lo_index() {
  auto idx = ifindex_by_name("lo");
  REQUIRE(idx.ok());
  return *idx;
}

uint32_t inode_of(int fd) {
  struct stat st {};
  REQUIRE(fstat(fd, &st) == 0);
  return static_cast<uint32_t>(st.st_ino);
}

// A socket of `type` bound to 127.0.0.1:0; returns the fd and its port.
UniqueFd bound_socket(int type, uint16_t& port) {
  UniqueFd fd(socket(AF_INET, type | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) == 0);
  socklen_t len = sizeof(sin);
  REQUIRE(getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sin), &len) == 0);
  port = ntohs(sin.sin_port);
  return fd;
}

}  // namespace

TEST_CASE("netlink: addresses and formatting helpers", "[netlink]") {
  IpAddr v4 = addr("192.0.2.1");
  CHECK(v4.family() == AF_INET);
  CHECK(v4.size() == 4);
  CHECK(v4.to_string() == "192.0.2.1");
  IpAddr v6 = addr("2001:db8::1");
  CHECK(v6.family() == AF_INET6);
  CHECK(v6.to_string() == "2001:db8::1");
  CHECK_FALSE(IpAddr::try_parse("not-an-address").has_value());
  // Absent attributes are nullopt, not a sentinel address.
  Route none;
  CHECK_FALSE(none.dst.has_value());
  CHECK_FALSE(none.gateway.has_value());
  CHECK_FALSE(none.prefsrc.has_value());
  CHECK(none.destination() == "default");
  none.dst_len = 8;
  CHECK(none.destination() == "/8");
  const uint8_t raw[4] = {10, 0, 0, 1};
  CHECK(IpAddr::from_bytes(raw) == addr("10.0.0.1"));
  Address a;
  a.address = addr("10.0.0.2");  // peer
  CHECK(a.own() == addr("10.0.0.2"));
  a.local = addr("10.0.0.1");
  CHECK(a.own() == addr("10.0.0.1"));

  CHECK(format_lladdr({0x02, 0xfc, 0x00, 0x0a, 0xbb, 0xff}) == "02:fc:00:0a:bb:ff");
  CHECK(format_lladdr({}).empty());
  CHECK(link_flag_names(IFF_UP | IFF_LOOPBACK) == std::vector<std::string>{"LOOPBACK", "UP"});
  CHECK(Neighbour::neigh_state_name(NUD_REACHABLE) == "REACHABLE");
  CHECK(Neighbour::neigh_state_name(NUD_STALE) == "STALE");
  CHECK(Neighbour::neigh_state_name(NUD_INCOMPLETE) == "INCOMPLETE");
  CHECK(Neighbour::neigh_state_name(NUD_FAILED) == "FAILED");
  CHECK(Neighbour::neigh_state_name(NUD_PERMANENT) == "PERMANENT");
  CHECK(Neighbour::neigh_state_name(NUD_NOARP) == "NOARP");
  CHECK(Neighbour::neigh_state_name(NUD_DELAY) == "DELAY");
  CHECK(Neighbour::neigh_state_name(NUD_PROBE) == "PROBE");
  CHECK(socket_state_name(static_cast<uint8_t>(TcpState::listen)) == "LISTEN");
  CHECK(socket_state_name(static_cast<uint8_t>(TcpState::close)) == "UNCONN");
  CHECK(route_type_name(RTN_UNREACHABLE) == "unreachable");
  CHECK(route_table_name(RT_TABLE_MAIN) == "main");
  CHECK(scope_name(RT_SCOPE_HOST) == "host");
}

TEST_CASE("netlink: dump_links finds lo", "[netlink]") {
  auto links = dump_links();
  REQUIRE(links.ok());
  auto it = std::find_if(links->begin(), links->end(), [](const Link& l) { return l.name == "lo"; });
  REQUIRE(it != links->end());
  CHECK(it->loopback());
  CHECK(it->index > 0);
  CHECK(it->mtu > 0);
  CHECK(it->address.size() == 6);  // 00:00:00:00:00:00
  CHECK(it->stats.has_value());
  CHECK(std::find(link_flag_names(it->flags).begin(), link_flag_names(it->flags).end(), "LOOPBACK") !=
        link_flag_names(it->flags).end());
  // every link has a name and a unique index
  for (const Link& l : *links) {
    CHECK_FALSE(l.name.empty());
    CHECK(std::count_if(links->begin(), links->end(), [&](const Link& o) { return o.index == l.index; }) == 1);
  }
}

TEST_CASE("netlink: link lookups by name and index", "[netlink]") {
  auto lo = link_by_name("lo");
  REQUIRE(lo.ok());
  CHECK(lo->name == "lo");
  CHECK(lo->loopback());
  CHECK(lo->mtu > 0);
  CHECK(lo_index() == lo->index);
  auto same = link_by_index(lo->index);
  REQUIRE(same.ok());
  CHECK(same->name == "lo");

  auto missing = ifindex_by_name("nonexistent0");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().context == "unknown interface 'nonexistent0'");
  CHECK(missing.error().code == ENODEV);

  auto too_long = link_by_name("averyveryverylongname0");
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().context == "unknown interface 'averyveryverylongname0'");
  CHECK_FALSE(link_by_name("").ok());

  auto bad_index = link_by_index(0x7ffffff0);
  REQUIRE_FALSE(bad_index.ok());
  CHECK(bad_index.error().code == ENODEV);
}

TEST_CASE("netlink: addresses include 127.0.0.1/8 on lo", "[netlink]") {
  const int lo = lo_index();
  auto addrs = dump_addresses(AF_INET);
  REQUIRE(addrs.ok());
  auto it = std::find_if(addrs->begin(), addrs->end(), [&](const Address& a) {
    return a.ifindex == lo && a.own() == addr("127.0.0.1");
  });
  REQUIRE(it != addrs->end());
  CHECK(it->family == AF_INET);
  CHECK(it->prefixlen == 8);
  CHECK(it->scope == RT_SCOPE_HOST);
  CHECK(it->label == "lo");
  for (const Address& a : *addrs) CHECK(a.family == AF_INET);

  auto on_lo = dump_addresses(AF_UNSPEC, lo);
  REQUIRE(on_lo.ok());
  CHECK_FALSE(on_lo->empty());
  for (const Address& a : *on_lo) CHECK(a.ifindex == lo);
}

TEST_CASE("netlink: route_get 127.0.0.1 goes via lo", "[netlink]") {
  auto r = route_get(addr("127.0.0.1"));
  REQUIRE(r.ok());
  CHECK(r->oif == lo_index());
  CHECK(r->prefsrc == addr("127.0.0.1"));
  CHECK(r->type == RTN_LOCAL);
  // Until custom rules exist the kernel merges table local into main for lookups.
  CHECK((r->table == RT_TABLE_LOCAL || r->table == RT_TABLE_MAIN));
  CHECK(r->dst == addr("127.0.0.1"));
  CHECK_FALSE(r->gateway.has_value());

  RouteQuery q;
  q.dst = addr("127.0.0.2");
  q.fib_match = true;  // the FIB entry: local 127.0.0.0/8 in table local
  auto fib = route_get(q);
  REQUIRE(fib.ok());
  CHECK(fib->dst_len == 8);
  CHECK(fib->destination() == "127.0.0.0/8");
  CHECK((fib->table == RT_TABLE_LOCAL || fib->table == RT_TABLE_MAIN));
  CHECK(fib->type == RTN_LOCAL);
}

TEST_CASE("netlink: route_get reports the kernel's errno", "[netlink]") {
  RouteQuery q;
  q.dst = addr("127.0.0.1");
  q.oif = 0x7ffffff0;  // no such interface
  auto r = route_get(q);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ENODEV);
  CHECK(r.error().context == "netlink RTM_GETROUTE");
  RouteQuery mixed;  // source and destination of different families: rejected
  mixed.dst = addr("127.0.0.1");
  mixed.src = addr("::1");
  auto bad = route_get(mixed);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == EINVAL);
}

TEST_CASE("netlink: dump_routes covers every table", "[netlink]") {
  auto routes = dump_routes();
  REQUIRE(routes.ok());
  auto it = std::find_if(routes->begin(), routes->end(), [](const Route& r) {
    return r.table == RT_TABLE_LOCAL && r.type == RTN_LOCAL && r.dst == addr("127.0.0.1");
  });
  REQUIRE(it != routes->end());
  CHECK(it->oif == lo_index());
  CHECK(it->prefsrc == addr("127.0.0.1"));
  CHECK(it->scope == RT_SCOPE_HOST);
  CHECK(it->protocol == RTPROT_KERNEL);
  CHECK(it->destination() == "127.0.0.1");
  for (const Route& r : *routes) CHECK((r.family == AF_INET || r.family == AF_INET6));
}

TEST_CASE("netlink: neighbour dump succeeds", "[netlink]") {
  auto neigh = dump_neighbours();
  REQUIRE(neigh.ok());
  for (const Neighbour& n : *neigh) {
    CHECK((n.family == AF_INET || n.family == AF_INET6));
    CHECK_FALSE(n.state_name().empty());
  }
  auto v4 = dump_neighbours(AF_INET);
  REQUIRE(v4.ok());
  for (const Neighbour& n : *v4) CHECK(n.family == AF_INET);
}

TEST_CASE("netlink: policy rules include lookup local", "[netlink]") {
  auto rules = dump_rules(AF_INET);
  REQUIRE(rules.ok());
  auto it = std::find_if(rules->begin(), rules->end(),
                         [](const Rule& r) { return r.table == RT_TABLE_LOCAL && r.priority == 0; });
  REQUIRE(it != rules->end());
  CHECK(it->action_name() == "lookup");
  CHECK(std::any_of(rules->begin(), rules->end(), [](const Rule& r) { return r.table == RT_TABLE_MAIN; }));
}

TEST_CASE("netlink: sock_diag finds our TCP listener, TCP peers and UDP socket", "[netlink]") {
  uint16_t tcp_port = 0;
  UniqueFd listener = bound_socket(SOCK_STREAM, tcp_port);
  REQUIRE(listen(listener.get(), 4) == 0);
  const uint32_t listener_inode = inode_of(listener.get());

  auto socks = dump_inet_sockets(AF_INET, IPPROTO_TCP, state_bit(TcpState::listen));
  REQUIRE(socks.ok());
  auto it = std::find_if(socks->begin(), socks->end(), [&](const InetSocket& s) {
    return s.local_port == tcp_port && s.inode == listener_inode;
  });
  REQUIRE(it != socks->end());
  CHECK(it->state == static_cast<uint8_t>(TcpState::listen));
  CHECK(it->family == AF_INET);
  CHECK(it->protocol == IPPROTO_TCP);
  CHECK(it->local == addr("127.0.0.1"));
  CHECK(it->remote_port == 0);
  CHECK(it->uid == getuid());
  CHECK(it->wqueue == 4);  // listeners report the backlog here
  CHECK(it->ifindex == 0);
  for (const InetSocket& s : *socks) CHECK(s.state == static_cast<uint8_t>(TcpState::listen));

  // A connected pair shows up as two ESTAB sockets.
  UniqueFd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(client.valid());
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(tcp_port);
  REQUIRE(connect(client.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0);
  UniqueFd server(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  REQUIRE(server.valid());
  auto est = dump_inet_sockets(AF_INET, IPPROTO_TCP, state_bit(TcpState::established));
  REQUIRE(est.ok());
  auto srv = std::find_if(est->begin(), est->end(),
                          [&](const InetSocket& s) { return s.inode == inode_of(server.get()); });
  auto cli = std::find_if(est->begin(), est->end(),
                          [&](const InetSocket& s) { return s.inode == inode_of(client.get()); });
  REQUIRE(srv != est->end());
  REQUIRE(cli != est->end());
  CHECK(srv->local_port == tcp_port);
  CHECK(cli->remote_port == tcp_port);
  CHECK(srv->remote_port == cli->local_port);
  CHECK(socket_state_name(srv->state) == "ESTAB");
  CHECK_FALSE(srv->congestion.empty());
  REQUIRE(cli->tcp_info.has_value());
  CHECK(cli->tcp_info->snd_cwnd > 0);
  CHECK(cli->tcp_info->snd_mss > 0);

  uint16_t udp_port = 0;
  UniqueFd udp = bound_socket(SOCK_DGRAM, udp_port);
  const uint32_t udp_inode = inode_of(udp.get());
  auto udps = dump_inet_sockets(AF_INET, IPPROTO_UDP);
  REQUIRE(udps.ok());
  auto u = std::find_if(udps->begin(), udps->end(), [&](const InetSocket& s) {
    return s.local_port == udp_port && s.inode == udp_inode;
  });
  REQUIRE(u != udps->end());
  CHECK(u->protocol == IPPROTO_UDP);
  CHECK(socket_state_name(u->state) == "UNCONN");
  CHECK(u->local == addr("127.0.0.1"));

  auto bad = dump_inet_sockets(AF_UNIX, IPPROTO_TCP);
  CHECK_FALSE(bad.ok());
}

TEST_CASE("netlink: unix sockets", "[netlink]") {
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(fd.valid());
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  const std::string name = "netshoot-test-" + std::to_string(getpid());
  std::memcpy(sun.sun_path + 1, name.data(), name.size());  // abstract
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  REQUIRE(bind(fd.get(), reinterpret_cast<sockaddr*>(&sun), len) == 0);
  REQUIRE(listen(fd.get(), 1) == 0);

  auto socks = dump_unix_sockets();
  if (!socks.ok() && socks.error().code == ENOENT) {
    WARN("unix_diag not available: " << socks.error().message());
    return;
  }
  REQUIRE(socks.ok());
  const uint32_t ino = inode_of(fd.get());
  auto it = std::find_if(socks->begin(), socks->end(), [&](const UnixSocket& s) { return s.inode == ino; });
  REQUIRE(it != socks->end());
  CHECK(it->path == "@" + name);
  CHECK(it->type == SOCK_STREAM);
  CHECK(it->state == static_cast<uint8_t>(TcpState::listen));
  CHECK(it->peer_inode == 0);
}

namespace {
int count_and_stop(int& n) {
  ++n;
  return MNL_CB_STOP;
}
}  // namespace

TEST_CASE("netlink: MnlSocket stays usable after an early stop and an error", "[netlink]") {
  auto sock = MnlSocket::open(NETLINK_ROUTE);
  REQUIRE(sock.ok());
  CHECK(sock->fd() >= 0);
  CHECK(sock->portid() != 0);

  alignas(8) char buf[256];
  auto make_dump = [&](uint16_t type) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    mnl_nlmsg_put_extra_header(nlh, sizeof(rtgenmsg));
    return nlh;
  };

  int seen = 0;
  Status st = sock->dump(make_dump(RTM_GETADDR), [&](const nlmsghdr*) { return count_and_stop(seen); },
                         "RTM_GETADDR");
  CHECK(st.ok());
  CHECK(seen == 1);

  // A failing request: the error carries the kernel's errno.
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_GETLINK;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_index = 0x7ffffff0;
  st = sock->request(nlh, nullptr, "RTM_GETLINK");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().code == ENODEV);
  CHECK(st.error().message().rfind("netlink RTM_GETLINK: ", 0) == 0);

  int links = 0;
  st = sock->dump(make_dump(RTM_GETLINK),
                  [&](const nlmsghdr* m) {
                    if (m->nlmsg_type == RTM_NEWLINK) ++links;
                    return MNL_CB_OK;
                  },
                  "RTM_GETLINK");
  CHECK(st.ok());
  CHECK(links >= 1);

  // Callbacks that throw are turned into errors, not unwound through C.
  st = sock->dump(make_dump(RTM_GETLINK), [](const nlmsghdr*) -> int { throw std::runtime_error("x"); },
                  "RTM_GETLINK");
  CHECK_FALSE(st.ok());
  // ... and the socket is still in sync afterwards.
  links = 0;
  st = sock->dump(make_dump(RTM_GETLINK), [&](const nlmsghdr*) { return ++links, MNL_CB_OK; }, "RTM_GETLINK");
  CHECK(st.ok());
  CHECK(links >= 1);
}

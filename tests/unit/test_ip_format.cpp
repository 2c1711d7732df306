// ip: iproute2-shaped text and JSON from constructed netlink structs.
#include <catch2/catch.hpp>

#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <linux/if.h>
#include <linux/fib_rules.h>

#include "applets/ip/ip_format.h"

using namespace netshoot;
using namespace netshoot::applet::ip;
using core::IpAddr;

namespace {

Names names() {
  Names n;
  n.by_index = {{1, "lo"}, {2, "vb"}, {3, "va"}, {4, "br0"}};
  return n;
}

core::Link veth() {
  core::Link l;
  l.index = 2;
  l.name = "vb";
  l.link = 3;
  l.flags = IFF_BROADCAST | IFF_MULTICAST | IFF_UP | IFF_LOWER_UP | IFF_RUNNING;
  l.type = 1;
  l.operstate = 6;
  l.mtu = 1500;
  l.txqlen = 1000;
  l.qdisc = "noqueue";
  l.master = 4;
  l.address = {0xf6, 0xc1, 0xc1, 0xfe, 0x07, 0x49};
  l.broadcast = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return l;
}

}  // namespace

TEST_CASE("ip link: the two lines and the JSON object", "[ip]") {
  FormatOptions o;
  o.link_cmd = true;
  CHECK(format_link(veth(), names(), o) ==
        "2: vb@va: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP mode DEFAULT "
        "group default qlen 1000\n    link/ether f6:c1:c1:fe:07:49 brd ff:ff:ff:ff:ff:ff");
  CHECK(link_json(veth(), names(), o).dump() ==
        R"({"ifindex":2,"link":"va","ifname":"vb","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,)"
        R"("qdisc":"noqueue","master":"br0","operstate":"UP","linkmode":"DEFAULT","group":"default","txqlen":1000,)"
        R"("link_type":"ether","address":"f6:c1:c1:fe:07:49","broadcast":"ff:ff:ff:ff:ff:ff"})");

  core::Link l = veth();
  l.link_netnsid = 0;
  l.flags &= ~IFF_RUNNING;
  CHECK(link_label(l, names()) == "vb@if3");
  CHECK(link_flags(l.flags).front() == "NO-CARRIER");
  CHECK(format_link(l, names(), o).find("link-netnsid 0") != std::string::npos);
  CHECK(format_brief_link(veth(), names()) ==
        "vb@va            UP             f6:c1:c1:fe:07:49 <BROADCAST,MULTICAST,UP,LOWER_UP> ");
}

TEST_CASE("ip addr: inet and inet6 lines with flags and lifetimes", "[ip]") {
  core::Address a;
  a.ifindex = 3;
  a.family = AF_INET;
  a.prefixlen = 24;
  a.address = *IpAddr::try_parse("10.9.0.1");
  a.local = a.address;
  a.broadcast = *IpAddr::try_parse("10.9.0.255");
  a.label = "va";
  a.flags = IFA_F_PERMANENT;
  CHECK(format_address(a, names()) ==
        "    inet 10.9.0.1/24 brd 10.9.0.255 scope global va\n       valid_lft forever preferred_lft forever");
  CHECK(address_json(a).dump() ==
        R"({"family":"inet","local":"10.9.0.1","prefixlen":24,"broadcast":"10.9.0.255","scope":"global",)"
        R"("label":"va","valid_life_time":4294967295,"preferred_life_time":4294967295})");

  core::Address b;
  b.ifindex = 3;
  b.family = AF_INET6;
  b.prefixlen = 64;
  b.address = *IpAddr::try_parse("2001:db8::5");
  b.flags = IFA_F_MANAGETEMPADDR | IFA_F_NOPREFIXROUTE;  // not permanent: "dynamic"
  b.valid_lft = 3599;
  b.preferred_lft = 1799;
  CHECK(format_address(b, names()) ==
        "    inet6 2001:db8::5/64 scope global dynamic mngtmpaddr noprefixroute \n"
        "       valid_lft 3599sec preferred_lft 1799sec");
  core::Link l = veth();
  std::vector<const core::Address*> v{&a, &b};
  CHECK(format_brief_addr(l, v, names()) == "vb@va            UP             10.9.0.1/24 2001:db8::5/64 ");
}

TEST_CASE("ip route: default, kernel, multipath, IPv6 and route get", "[ip]") {
  FormatOptions o;
  core::Route d;
  d.family = AF_INET;
  d.type = RTN_UNICAST;
  d.table = RT_TABLE_MAIN;
  d.protocol = RTPROT_BOOT;
  d.gateway = *IpAddr::try_parse("192.168.65.1");
  d.oif = 3;
  d.priority = 204;
  d.has_priority = true;
  CHECK(format_route(d, names(), o) == "default via 192.168.65.1 dev va metric 204 ");
  CHECK(route_json(d, names(), o).dump() ==
        R"({"dst":"default","gateway":"192.168.65.1","dev":"va","metric":204,"flags":[]})");

  core::Route k;
  k.family = AF_INET;
  k.type = RTN_UNICAST;
  k.table = RT_TABLE_MAIN;
  k.protocol = RTPROT_KERNEL;
  k.scope = RT_SCOPE_LINK;
  k.dst = *IpAddr::try_parse("10.9.0.0");
  k.dst_len = 24;
  k.prefsrc = *IpAddr::try_parse("10.9.0.1");
  k.oif = 3;
  CHECK(format_route(k, names(), o) == "10.9.0.0/24 dev va proto kernel scope link src 10.9.0.1 ");
  FormatOptions nodev;
  nodev.show_dev = false;
  CHECK(format_route(k, names(), nodev) == "10.9.0.0/24 proto kernel scope link src 10.9.0.1 ");

  core::Route m;
  m.family = AF_INET;
  m.type = RTN_UNICAST;
  m.table = RT_TABLE_MAIN;
  m.protocol = RTPROT_BOOT;
  m.dst = *IpAddr::try_parse("10.50.0.0");
  m.dst_len = 16;
  m.nexthops = {{3, *IpAddr::try_parse("10.9.0.2"), 1, 0}, {3, *IpAddr::try_parse("10.9.0.3"), 2, 0}};
  CHECK(format_route(m, names(), o) ==
        "10.50.0.0/16 \n\tnexthop via 10.9.0.2 dev va weight 1 \n\tnexthop via 10.9.0.3 dev va weight 2 ");
  CHECK(route_json(m, names(), o)["nexthops"].size() == 2);

  core::Route v6;
  v6.family = AF_INET6;
  v6.type = RTN_UNICAST;
  v6.table = RT_TABLE_MAIN;
  v6.protocol = RTPROT_KERNEL;
  v6.dst = *IpAddr::try_parse("fd00:9::");
  v6.dst_len = 64;
  v6.oif = 3;
  v6.priority = 256;
  v6.has_priority = true;
  v6.pref = 0;
  CHECK(format_route(v6, names(), o) == "fd00:9::/64 dev va proto kernel metric 256 pref medium");

  core::Route g;
  g.family = AF_INET;
  g.type = RTN_LOCAL;
  g.table = RT_TABLE_LOCAL;
  g.dst = *IpAddr::try_parse("10.9.0.1");
  g.dst_len = 32;
  g.oif = 1;
  g.prefsrc = g.dst;
  g.flags = RTM_F_CLONED | 0x80000000u;  // RTCF_LOCAL
  CHECK(format_route(g, names(), o, true) == "local 10.9.0.1 dev lo table local src 10.9.0.1 uid 0 \n    cache <local> ");
  CHECK(route_json(g, names(), o, true).dump() ==
        R"({"type":"local","dst":"10.9.0.1","dev":"lo","table":"local","prefsrc":"10.9.0.1","flags":[],"uid":0,)"
        R"("cache":["local"]})");

  // ip -j route writes its objects directly: the same bytes as the JSON tree's dump.
  core::Route x = m;
  x.src = *IpAddr::try_parse("10.1.0.0");
  x.src_len = 16;
  x.mark = 7;
  x.mtu = 1400;
  x.iif = 2;
  x.flags = RTNH_F_ONLINK | RTNH_F_LINKDOWN;
  x.nexthops[1].flags = RTNH_F_DEAD;
  x.pref = 3;
  core::Route odd = d;
  odd.oif = 9;  // unknown: "if9"
  Names weird = names();
  weird.by_index[9] = std::string("a\"b\\c\td\x01\xc3\xa9");
  FormatOptions all;
  all.show_table = true;
  for (const auto* r : {&d, &k, &m, &v6, &g, &x, &odd})
    for (bool get : {false, true})
      for (const auto* fo : {&o, &nodev, &all}) {
        std::string text;
        route_json_text(*r, weird, *fo, get, text);
        CHECK(text == route_json(*r, weird, *fo, get).dump());
      }
}

TEST_CASE("ip neigh and ip rule lines", "[ip]") {
  FormatOptions o;
  core::Neighbour n;
  n.ifindex = 4;
  n.family = AF_INET;
  n.address = *IpAddr::try_parse("10.0.1.4");
  n.lladdr = {0x02, 0x42, 0x0a, 0x00, 0x01, 0x04};
  n.state = NUD_REACHABLE;
  CHECK(format_neigh(n, names(), o) == "10.0.1.4 dev br0 lladdr 02:42:0a:00:01:04 REACHABLE ");
  n.flags = NTF_ROUTER;
  n.state = NUD_STALE;
  CHECK(neigh_json(n, names(), o).dump() ==
        R"({"dst":"10.0.1.4","dev":"br0","lladdr":"02:42:0a:00:01:04","router":null,"state":["STALE"]})");
  core::Neighbour f;
  f.ifindex = 3;
  f.family = AF_INET6;
  f.address = *IpAddr::try_parse("fd00::5");
  f.state = NUD_FAILED;
  CHECK(format_neigh(f, names(), o) == "fd00::5 dev va FAILED ");

  core::Rule r;
  r.family = AF_INET;
  r.priority = 1001;
  r.action = FR_ACT_TO_TBL;
  r.table = 100;
  r.fwmark = 0x10;
  r.fwmask = 0xff;
  r.iifname = "va";
  CHECK(format_rule(r) == "1001:\tfrom all fwmark 0x10/0xff iif va lookup 100");
  CHECK(rule_json(r).dump() ==
        R"({"priority":1001,"src":"all","fwmark":"0x10","fwmask":"0xff","iif":"va","table":"100"})");
  core::Rule n2;
  n2.priority = 1002;
  n2.flags = FIB_RULE_INVERT;
  n2.action = FR_ACT_TO_TBL;
  n2.table = RT_TABLE_MAIN;
  n2.dst = *IpAddr::try_parse("10.1.0.0");
  n2.dst_len = 16;
  CHECK(format_rule(n2) == "1002:\tnot from all to 10.1.0.0/16 lookup main");
}

// bridge vlan show: the kernel's RTM_NEWLINK (AF_BRIDGE) messages, built here byte
// by byte, parsed by the core and printed as iproute2 prints them. (This machine's
// kernel has no VLAN filtering, so the integration test only sees empty tables.)
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "applets/bridge/vlan.h"
#include "netshoot/netlink.h"

using namespace netshoot;
using netshoot::applet::bridge::filter_vlans;
using netshoot::applet::bridge::vlan_json;
using netshoot::applet::bridge::vlan_text;
using netshoot::applet::bridge::VlanFilter;

namespace {

struct Msg {
  alignas(8) char buf[4096] = {};
  nlmsghdr* nlh;
  nlattr* spec = nullptr;
  Msg(int ifindex, const char* name, uint8_t family = AF_BRIDGE, uint16_t type = RTM_NEWLINK) {
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = family;
    ifi->ifi_index = ifindex;
    mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  }
  Msg& open() {
    spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
    mnl_attr_put_u16(nlh, IFLA_BRIDGE_FLAGS, 0);  // not a VLAN: skipped
    return *this;
  }
  Msg& vlan(uint16_t vid, uint16_t flags) {
    bridge_vlan_info vi{flags, vid};
    mnl_attr_put(nlh, IFLA_BRIDGE_VLAN_INFO, sizeof vi, &vi);
    return *this;
  }
  const nlmsghdr* done() {
    if (spec) mnl_attr_nest_end(nlh, spec);
    return nlh;
  }
};

constexpr uint16_t kPvid = BRIDGE_VLAN_INFO_PVID, kUntagged = BRIDGE_VLAN_INFO_UNTAGGED,
                   kBegin = BRIDGE_VLAN_INFO_RANGE_BEGIN, kEnd = BRIDGE_VLAN_INFO_RANGE_END;

std::vector<core::BridgeVlanPort> sample() {
  Msg br(3, "br0"), p0(4, "veth-port0"), none(5, "veth-port1");
  auto a = core::parse_bridge_vlan_message(br.open().vlan(1, kPvid | kUntagged).done());
  auto b = core::parse_bridge_vlan_message(
      p0.open().vlan(1, kPvid | kUntagged).vlan(10, kBegin).vlan(20, kEnd).vlan(30, kUntagged).done());
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(core::parse_bridge_vlan_message(none.done()));  // no IFLA_AF_SPEC: no VLAN table
  return {*a, *b};
}

}  // namespace

TEST_CASE("bridge vlan: the core parses single VLANs and compressed ranges", "[bridge]") {
  auto ports = sample();
  REQUIRE(ports[1].name == "veth-port0");
  REQUIRE(ports[1].ifindex == 4);
  REQUIRE(ports[1].vlans.size() == 3);
  CHECK(ports[1].vlans[0].vid == 1);
  CHECK(ports[1].vlans[0].vid_end == 1);
  CHECK(ports[1].vlans[0].flags == (kPvid | kUntagged));
  CHECK(ports[1].vlans[1].vid == 10);
  CHECK(ports[1].vlans[1].vid_end == 20);
  CHECK(ports[1].vlans[1].flags == kEnd);
  CHECK(ports[1].vlans[2].vid == 30);

  SECTION("other families, other messages, broken ranges") {
    Msg inet(3, "eth0", AF_INET), del(3, "br0", AF_BRIDGE, RTM_DELLINK);
    CHECK_FALSE(core::parse_bridge_vlan_message(inet.open().vlan(1, 0).done()));
    CHECK_FALSE(core::parse_bridge_vlan_message(del.open().vlan(1, 0).done()));
    Msg odd(6, "p2");
    // an end without a begin, an end below its begin, a short attribute
    odd.open().vlan(7, kEnd).vlan(9, kBegin).vlan(8, kEnd);
    mnl_attr_put_u16(odd.nlh, IFLA_BRIDGE_VLAN_INFO, 5);
    odd.vlan(40, 0);
    auto p = core::parse_bridge_vlan_message(odd.done());
    REQUIRE(p);
    REQUIRE(p->vlans.size() == 1);
    CHECK(p->vlans[0].vid == 40);
  }
}

TEST_CASE("bridge vlan: text and JSON as iproute2 prints them", "[bridge]") {
  auto ports = sample();
  CHECK(vlan_text(ports) ==
        "port              vlan-id  \n"
        "br0               1 PVID Egress Untagged\n"
        "veth-port0        1 PVID Egress Untagged\n"
        "                  10-20\n"
        "                  30 Egress Untagged\n");
  CHECK(vlan_json(ports).dump() ==
        R"([{"ifname":"br0","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]}]},)"
        R"({"ifname":"veth-port0","vlans":[{"vlan":1,"flags":["PVID","Egress Untagged"]},)"
        R"({"vlan":10,"vlanEnd":20,"flags":[]},{"vlan":30,"flags":["Egress Untagged"]}]}])");
  CHECK(vlan_text({}) == "port              vlan-id  \n");
  CHECK(vlan_json({}).dump() == "[]");
}

TEST_CASE("bridge vlan: dev and vid filters", "[bridge]") {
  auto ports = sample();
  auto by_vid = filter_vlans(ports, VlanFilter{0, 15});  // inside the 10-20 range
  REQUIRE(by_vid.size() == 1);
  CHECK(by_vid[0].name == "veth-port0");
  REQUIRE(by_vid[0].vlans.size() == 1);
  CHECK(by_vid[0].vlans[0].vid == 10);
  auto by_dev = filter_vlans(ports, VlanFilter{3, 0});
  REQUIRE(by_dev.size() == 1);
  CHECK(by_dev[0].name == "br0");
  CHECK(filter_vlans(ports, VlanFilter{0, 4000}).empty());
  auto both = filter_vlans(ports, VlanFilter{4, 1});
  REQUIRE(both.size() == 1);
  CHECK(vlan_text(both) == "port              vlan-id  \nveth-port0        1 PVID Egress Untagged\n");
}

// ethtool's settings text from hand-made link settings (modes a veth cannot show).
#include <linux/ethtool.h>

#include <catch2/catch.hpp>

#include "applets/ethtool/ethtool.h"

using namespace netshoot::applet::ethtool;

TEST_CASE("ethtool format: link modes, pause, ports, speed", "[ethtool]") {
  Settings s;
  s.ifname = "eth0";
  s.have_link_settings = true;
  s.speed = 1000;
  s.duplex = DUPLEX_FULL;
  s.port = PORT_TP;
  s.autoneg = 1;
  s.mdix = ETH_TP_MDI;
  s.mdix_ctrl = ETH_TP_MDI_AUTO;
  uint32_t m = (1u << ETHTOOL_LINK_MODE_10baseT_Half_BIT) | (1u << ETHTOOL_LINK_MODE_10baseT_Full_BIT) |
               (1u << ETHTOOL_LINK_MODE_100baseT_Full_BIT) | (1u << ETHTOOL_LINK_MODE_1000baseT_Full_BIT) |
               (1u << ETHTOOL_LINK_MODE_Autoneg_BIT) | (1u << ETHTOOL_LINK_MODE_TP_BIT) |
               (1u << ETHTOOL_LINK_MODE_Pause_BIT);
  s.supported = {m, 0, 0};
  s.advertising = {m & ~(1u << ETHTOOL_LINK_MODE_Pause_BIT), 0, 0};
  s.lp_advertising = {0, 0, 0};
  s.link = true;
  std::string t = format_settings(s);
  CHECK(t.find("\tSupported ports: [ TP  ]\n") != std::string::npos);
  CHECK(t.find("\tSupported link modes:   10baseT/Half 10baseT/Full\n"
               "\t                        100baseT/Full\n"
               "\t                        1000baseT/Full\n") != std::string::npos);
  CHECK(t.find("\tSupported pause frame use: Symmetric\n") != std::string::npos);
  CHECK(t.find("\tAdvertised pause frame use: No\n") != std::string::npos);
  CHECK(t.find("\tSupports auto-negotiation: Yes\n") != std::string::npos);
  CHECK(t.find("\tSpeed: 1000Mb/s\n\tDuplex: Full\n\tAuto-negotiation: on\n\tPort: Twisted Pair\n") != std::string::npos);
  CHECK(t.find("\tMDI-X: off (auto)\n") != std::string::npos);
  CHECK(t.find("Link partner") == std::string::npos);
  CHECK(t.ends_with("\tLink detected: yes\n"));
  CHECK(link_mode_name(ETHTOOL_LINK_MODE_100000baseLR4_ER4_Full_BIT) == "100000baseLR4_ER4/Full");
  CHECK(link_mode_name(ETHTOOL_LINK_MODE_Autoneg_BIT).empty());
  s.speed = static_cast<uint32_t>(SPEED_UNKNOWN);
  s.duplex = DUPLEX_UNKNOWN;
  t = format_settings(s);
  CHECK(t.find("\tSpeed: Unknown!\n\tDuplex: Unknown! (255)\n") != std::string::npos);
}

// ethtool (read-only): link settings, driver information and NIC statistics of an
// interface through the SIOCETHTOOL ioctl, printed as ethtool prints them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netshoot/output.h"

namespace netshoot::applet::ethtool {

// What `ethtool IFACE` shows; every part is optional (drivers answer some
// requests with EOPNOTSUPP, and ethtool then leaves those lines out).
struct Settings {
  std::string ifname;
  bool have_link_settings = false;
  uint32_t speed = 0;           // Mb/s; 0 or 0xffffffff = unknown
  uint8_t duplex = 0xff;        // DUPLEX_HALF 0, DUPLEX_FULL 1, 0xff unknown
  uint8_t port = 0;             // PORT_*
  uint8_t phy_address = 0;
  uint8_t autoneg = 0;
  uint8_t mdix = 0, mdix_ctrl = 0;
  uint8_t transceiver = 0;
  std::vector<uint32_t> supported, advertising, lp_advertising;  // link mode bitmaps
  std::optional<std::pair<uint32_t, uint32_t>> wol;  // (supported, enabled) WAKE_* bits
  std::optional<uint32_t> msglvl;
  std::optional<bool> link;
};

std::string format_settings(const Settings& s);
core::Json settings_json(const Settings& s);
// "10baseT/Half", ... for a link mode bit ("" for non-speed bits such as Autoneg or TP).
std::string link_mode_name(unsigned bit);

}  // namespace netshoot::applet::ethtool

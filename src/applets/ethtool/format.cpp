// `ethtool IFACE` text and JSON from Settings (pure; unit-tested).
#include <linux/ethtool.h>

#include <cstdio>

#include "applets/ethtool/ethtool.h"

namespace netshoot::applet::ethtool {
namespace {

using core::Json;

// Link mode bits (linux/ethtool.h ETHTOOL_LINK_MODE_*_BIT), "" = not a speed mode.
const char* const kModes[] = {
    "10baseT/Half", "10baseT/Full", "100baseT/Half", "100baseT/Full", "1000baseT/Half", "1000baseT/Full",
    "", "", "", "", "", "",  // Autoneg TP AUI MII FIBRE BNC
    "10000baseT/Full", "", "",  // Pause Asym_Pause
    "2500baseX/Full", "",  // Backplane
    "1000baseKX/Full", "10000baseKX4/Full", "10000baseKR/Full", "10000baseR_FEC", "20000baseMLD2/Full",
    "20000baseKR2/Full", "40000baseKR4/Full", "40000baseCR4/Full", "40000baseSR4/Full", "40000baseLR4/Full",
    "56000baseKR4/Full", "56000baseCR4/Full", "56000baseSR4/Full", "56000baseLR4/Full", "25000baseCR/Full",
    "25000baseKR/Full", "25000baseSR/Full", "50000baseCR2/Full", "50000baseKR2/Full", "100000baseKR4/Full",
    "100000baseSR4/Full", "100000baseCR4/Full", "100000baseLR4_ER4/Full", "50000baseSR2/Full",
    "1000baseX/Full", "10000baseCR/Full", "10000baseSR/Full", "10000baseLR/Full", "10000baseLRM/Full",
    "10000baseER/Full", "2500baseT/Full", "5000baseT/Full", "", "", "",  // FEC NONE RS BASER
    "50000baseKR/Full", "50000baseSR/Full", "50000baseCR/Full", "50000baseLR_ER_FR/Full", "50000baseDR/Full",
    "100000baseKR2/Full", "100000baseSR2/Full", "100000baseCR2/Full", "100000baseLR2_ER2_FR2/Full",
    "100000baseDR2/Full", "200000baseKR4/Full", "200000baseSR4/Full", "200000baseLR4_ER4_FR4/Full",
    "200000baseDR4/Full", "200000baseCR4/Full", "100baseT1/Full", "1000baseT1/Full", "400000baseKR8/Full",
    "400000baseSR8/Full", "400000baseLR8_ER8_FR8/Full", "400000baseDR8/Full", "400000baseCR8/Full",
    "",  // FEC_LLRS
    "100000baseKR/Full", "100000baseSR/Full", "100000baseLR_ER_FR/Full", "100000baseCR/Full",
    "100000baseDR/Full", "200000baseKR2/Full", "200000baseSR2/Full", "200000baseLR2_ER2_FR2/Full",
    "200000baseDR2/Full", "200000baseCR2/Full", "400000baseKR4/Full", "400000baseSR4/Full",
    "400000baseLR4_ER4_FR4/Full", "400000baseDR4/Full", "400000baseCR4/Full", "100baseFX/Half",
    "100baseFX/Full", "10baseT1L/Full"};

bool bit(const std::vector<uint32_t>& m, unsigned b) {
  return b / 32 < m.size() && (m[b / 32] >> (b % 32)) & 1u;
}

std::vector<std::string> modes(const std::vector<uint32_t>& m) {
  std::vector<std::string> out;
  for (unsigned b = 0; b < m.size() * 32; ++b)
    if (bit(m, b) && !link_mode_name(b).empty()) out.push_back(link_mode_name(b));
  return out;
}

// "10baseT/Half 10baseT/Full\n\t                        100baseT/Half ...": a Full mode
// right after the Half mode of the same speed shares its line.
std::string modes_text(const std::vector<uint32_t>& m) {
  auto v = modes(m);
  if (v.empty()) return "Not reported";
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) {
      std::string prev = v[i - 1].substr(0, v[i - 1].find('/'));
      bool pair = v[i - 1].ends_with("/Half") && v[i].ends_with("/Full") && v[i].rfind(prev + "/", 0) == 0;
      s += pair ? " " : "\n\t                        ";
    }
    s += v[i];
  }
  return s;
}

std::string pause_text(const std::vector<uint32_t>& m) {
  bool p = bit(m, ETHTOOL_LINK_MODE_Pause_BIT), a = bit(m, ETHTOOL_LINK_MODE_Asym_Pause_BIT);
  if (p && a) return "Symmetric Receive-only";
  if (p) return "Symmetric";
  if (a) return "Transmit-only";
  return "No";
}

std::string fec_text(const std::vector<uint32_t>& m) {
  std::string s;
  if (bit(m, ETHTOOL_LINK_MODE_FEC_NONE_BIT)) s += " None";
  if (bit(m, ETHTOOL_LINK_MODE_FEC_BASER_BIT)) s += " BaseR";
  if (bit(m, ETHTOOL_LINK_MODE_FEC_RS_BIT)) s += " RS";
  if (bit(m, ETHTOOL_LINK_MODE_FEC_LLRS_BIT)) s += " LLRS";
  return s.empty() ? "Not reported" : s.substr(1);
}

std::string ports_text(const std::vector<uint32_t>& m) {
  std::string s = "[ ";
  if (bit(m, ETHTOOL_LINK_MODE_TP_BIT)) s += "TP ";
  if (bit(m, ETHTOOL_LINK_MODE_AUI_BIT)) s += "AUI ";
  if (bit(m, ETHTOOL_LINK_MODE_BNC_BIT)) s += "BNC ";
  if (bit(m, ETHTOOL_LINK_MODE_MII_BIT)) s += "MII ";
  if (bit(m, ETHTOOL_LINK_MODE_FIBRE_BIT)) s += "FIBRE ";
  if (bit(m, ETHTOOL_LINK_MODE_Backplane_BIT)) s += "Backplane ";
  return s + " ]";
}

std::string port_name(uint8_t p) {
  switch (p) {
    case PORT_TP: return "Twisted Pair";
    case PORT_AUI: return "AUI";
    case PORT_BNC: return "BNC";
    case PORT_MII: return "MII";
    case PORT_FIBRE: return "FIBRE";
    case PORT_DA: return "Direct Attach Copper";
    case PORT_NONE: return "None";
    case PORT_OTHER: return "Other";
    default: return "Unknown! (" + std::to_string(p) + ")";
  }
}

std::string speed_text(uint32_t speed) {
  if (speed == 0 || speed == static_cast<uint32_t>(SPEED_UNKNOWN)) return "Unknown!";
  return std::to_string(speed) + "Mb/s";
}

std::string duplex_text(uint8_t d) {
  if (d == DUPLEX_HALF) return "Half";
  if (d == DUPLEX_FULL) return "Full";
  return "Unknown! (" + std::to_string(d) + ")";
}

std::string mdix_text(uint8_t mdix, uint8_t ctrl) {
  std::string s = mdix == ETH_TP_MDI ? "off" : mdix == ETH_TP_MDI_X ? "on" : "Unknown";
  if (ctrl == ETH_TP_MDI_AUTO) s += " (auto)";
  else if (ctrl == ETH_TP_MDI || ctrl == ETH_TP_MDI_X) s += " (forced)";
  return s;
}

std::string wol_text(uint32_t w) {
  static const std::pair<uint32_t, char> letters[] = {{WAKE_PHY, 'p'}, {WAKE_UCAST, 'u'}, {WAKE_MCAST, 'm'},
      {WAKE_BCAST, 'b'}, {WAKE_ARP, 'a'}, {WAKE_MAGIC, 'g'}, {WAKE_MAGICSECURE, 's'}, {WAKE_FILTER, 'f'}};
  std::string s;
  for (const auto& [b, c] : letters)
    if (w & b) s += c;
  return s.empty() ? "d" : s;
}

std::string msglvl_names(uint32_t v) {
  static const char* const names[] = {"drv", "probe", "link", "timer", "ifdown", "ifup", "rx_err", "tx_err",
                                      "tx_queued", "intr", "tx_done", "rx_status", "pktdata", "hw", "wol"};
  std::string s;
  for (unsigned i = 0; i < std::size(names); ++i)
    if (v & (1u << i)) s += (s.empty() ? "" : " ") + std::string(names[i]);
  return s;
}

}  // namespace

std::string link_mode_name(unsigned b) {
  if (b >= std::size(kModes)) return {};
  std::string n = kModes[b];
  return n == "10000baseR_FEC" ? std::string() : n;
}

std::string format_settings(const Settings& s) {
  std::string o = "Settings for " + s.ifname + ":\n";
  if (s.have_link_settings) {
    o += "\tSupported ports: " + ports_text(s.supported) + "\n";
    o += "\tSupported link modes:   " + modes_text(s.supported) + "\n";
    o += "\tSupported pause frame use: " + pause_text(s.supported) + "\n";
    o += std::string("\tSupports auto-negotiation: ") + (bit(s.supported, ETHTOOL_LINK_MODE_Autoneg_BIT) ? "Yes" : "No") + "\n";
    o += "\tSupported FEC modes: " + fec_text(s.supported) + "\n";
    o += "\tAdvertised link modes:  " + modes_text(s.advertising) + "\n";
    o += "\tAdvertised pause frame use: " + pause_text(s.advertising) + "\n";
    o += std::string("\tAdvertised auto-negotiation: ") + (bit(s.advertising, ETHTOOL_LINK_MODE_Autoneg_BIT) ? "Yes" : "No") + "\n";
    o += "\tAdvertised FEC modes: " + fec_text(s.advertising) + "\n";
    bool lp = false;
    for (uint32_t w : s.lp_advertising) lp |= w != 0;
    if (lp) {
      o += "\tLink partner advertised link modes:  " + modes_text(s.lp_advertising) + "\n";
      o += "\tLink partner advertised pause frame use: " + pause_text(s.lp_advertising) + "\n";
      o += std::string("\tLink partner advertised auto-negotiation: ") +
           (bit(s.lp_advertising, ETHTOOL_LINK_MODE_Autoneg_BIT) ? "Yes" : "No") + "\n";
      o += "\tLink partner advertised FEC modes: " + fec_text(s.lp_advertising) + "\n";
    }
    o += "\tSpeed: " + speed_text(s.speed) + "\n";
    o += "\tDuplex: " + duplex_text(s.duplex) + "\n";
    o += std::string("\tAuto-negotiation: ") + (s.autoneg ? "on" : "off") + "\n";
    o += "\tPort: " + port_name(s.port) + "\n";
    o += "\tPHYAD: " + std::to_string(s.phy_address) + "\n";
    o += std::string("\tTransceiver: ") + (s.transceiver ? "external" : "internal") + "\n";
    if (s.port == PORT_TP) o += "\tMDI-X: " + mdix_text(s.mdix, s.mdix_ctrl) + "\n";
  }
  if (s.wol) {
    o += "\tSupports Wake-on: " + wol_text(s.wol->first) + "\n";
    o += "\tWake-on: " + wol_text(s.wol->second) + "\n";
  }
  if (s.msglvl) {
    char b[64];
    std::snprintf(b, sizeof(b), "\tCurrent message level: 0x%08x (%u)\n", *s.msglvl, *s.msglvl);
    o += b;
    o += "\t\t\t       " + msglvl_names(*s.msglvl) + "\n";
  }
  if (s.link) o += std::string("\tLink detected: ") + (*s.link ? "yes" : "no") + "\n";
  return o;
}

Json settings_json(const Settings& s) {
  Json j{{"ifname", s.ifname}};
  if (s.have_link_settings) {
    j["supported-ports"] = ports_text(s.supported);
    j["supported-link-modes"] = modes(s.supported);
    j["supports-auto-negotiation"] = bit(s.supported, ETHTOOL_LINK_MODE_Autoneg_BIT);
    j["advertised-link-modes"] = modes(s.advertising);
    j["advertised-auto-negotiation"] = bit(s.advertising, ETHTOOL_LINK_MODE_Autoneg_BIT);
    if (s.speed == 0 || s.speed == static_cast<uint32_t>(SPEED_UNKNOWN)) j["speed"] = nullptr;
    else j["speed"] = s.speed;
    j["duplex"] = s.duplex == DUPLEX_HALF ? Json("Half") : s.duplex == DUPLEX_FULL ? Json("Full") : Json(nullptr);
    j["auto-negotiation"] = s.autoneg != 0;
    j["port"] = port_name(s.port);
    j["phyad"] = s.phy_address;
    j["transceiver"] = s.transceiver ? "external" : "internal";
  }
  if (s.wol) {
    j["supports-wake-on"] = wol_text(s.wol->first);
    j["wake-on"] = wol_text(s.wol->second);
  }
  if (s.msglvl) j["current-message-level"] = *s.msglvl;
  if (s.link) j["link-detected"] = *s.link;
  return j;
}

}  // namespace netshoot::applet::ethtool

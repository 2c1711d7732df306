// ethtool (read-only) through the SIOCETHTOOL ioctl: `ethtool IFACE` (link
// settings, link detected), `ethtool -i IFACE` (driver), `ethtool -S IFACE` (NIC
// statistics). --json: one object per interface / statistic set.
#include "applets/ethtool/ethtool.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "netshoot/applet.h"
#include "netshoot/fd.h"

namespace netshoot::applet::ethtool {
namespace {

using core::Json;

constexpr const char* kUsage =
    "Usage: ethtool IFACE          link settings and link state\n"
    "       ethtool -i IFACE       driver information\n"
    "       ethtool -S IFACE       NIC statistics\n"
    "Read-only: changing settings is left to the real ethtool.\n";

class Ethtool {
 public:
  explicit Ethtool(std::string ifname) : ifname_(std::move(ifname)), fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  bool ok() const { return fd_.valid(); }
  // 0 or errno.
  int call(void* cmd) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, ifname_.c_str(), IFNAMSIZ - 1);
    ifr.ifr_data = static_cast<char*>(cmd);
    return ::ioctl(fd_.get(), SIOCETHTOOL, &ifr) < 0 ? errno : 0;
  }

 private:
  std::string ifname_;
  core::UniqueFd fd_;
};

int fail(const std::string& msg) {
  std::fprintf(stderr, "%s\n", msg.c_str());
  return kExitFailure;
}

int show_settings(Ethtool& et, const std::string& ifname, core::Output& out) {
  Settings s;
  s.ifname = ifname;
  // ETHTOOL_GLINKSETTINGS: the first call tells the bitmap size (as a negative count).
  // ethtool_link_settings is followed by 3 bitmaps of link_mode_masks_nwords words.
  std::vector<uint32_t> buf((sizeof(ethtool_link_settings) + 3 * 127 * 4) / 4 + 1, 0);
  auto* base = reinterpret_cast<ethtool_link_settings*>(buf.data());
  base->cmd = ETHTOOL_GLINKSETTINGS;
  int err = et.call(base);
  if (err == 0 && base->link_mode_masks_nwords < 0) {
    int8_t n = static_cast<int8_t>(-base->link_mode_masks_nwords);
    std::fill(buf.begin(), buf.end(), 0);
    base->cmd = ETHTOOL_GLINKSETTINGS;
    base->link_mode_masks_nwords = n;
    err = et.call(base);
    if (err == 0 && base->link_mode_masks_nwords == n) {
      s.have_link_settings = true;
      s.speed = base->speed;
      s.duplex = base->duplex;
      s.port = base->port;
      s.phy_address = base->phy_address;
      s.autoneg = base->autoneg;
      s.mdix = base->eth_tp_mdix;
      s.mdix_ctrl = base->eth_tp_mdix_ctrl;
      s.transceiver = base->transceiver;
      const uint32_t* maps = buf.data() + sizeof(ethtool_link_settings) / 4;
      s.supported.assign(maps, maps + n);
      s.advertising.assign(maps + n, maps + 2 * n);
      s.lp_advertising.assign(maps + 2 * n, maps + 3 * n);
    }
  }
  if (err == ENODEV) return fail("ethtool: " + ifname + ": no such device");
  ethtool_wolinfo wol{};
  wol.cmd = ETHTOOL_GWOL;
  if (et.call(&wol) == 0) s.wol = std::make_pair(wol.supported, wol.wolopts);
  ethtool_value v{};
  v.cmd = ETHTOOL_GMSGLVL;
  if (et.call(&v) == 0) s.msglvl = v.data;
  v = {};
  v.cmd = ETHTOOL_GLINK;
  if (et.call(&v) == 0) s.link = v.data != 0;
  if (!s.have_link_settings && !s.wol && !s.msglvl && !s.link)
    return fail("ethtool: " + ifname + ": no data available (the driver answers no ethtool request)");
  std::string text = format_settings(s);
  text.pop_back();
  out.record("settings", settings_json(s), text);
  return kExitOk;
}

int show_driver(Ethtool& et, const std::string& ifname, core::Output& out) {
  ethtool_drvinfo d{};
  d.cmd = ETHTOOL_GDRVINFO;
  if (int err = et.call(&d)) {
    if (err == ENODEV) return fail("ethtool: " + ifname + ": no such device");
    return fail(std::string("Cannot get driver information: ") + std::strerror(err));
  }
  auto yn = [](uint32_t x) { return x ? "yes" : "no"; };
  std::string t = std::string("driver: ") + d.driver + "\nversion: " + d.version + "\nfirmware-version: " + d.fw_version +
                  "\nexpansion-rom-version: " + d.erom_version + "\nbus-info: " + d.bus_info +
                  "\nsupports-statistics: " + yn(d.n_stats) + "\nsupports-test: " + yn(d.testinfo_len) +
                  "\nsupports-eeprom-access: " + yn(d.eedump_len) + "\nsupports-register-dump: " + yn(d.regdump_len) +
                  "\nsupports-priv-flags: " + yn(d.n_priv_flags);
  Json j{{"ifname", ifname}, {"driver", d.driver}, {"version", d.version}, {"firmware-version", d.fw_version},
         {"expansion-rom-version", d.erom_version}, {"bus-info", d.bus_info},
         {"supports-statistics", d.n_stats != 0}, {"supports-test", d.testinfo_len != 0},
         {"supports-eeprom-access", d.eedump_len != 0}, {"supports-register-dump", d.regdump_len != 0},
         {"supports-priv-flags", d.n_priv_flags != 0}};
  out.record("driver", j, t);
  return kExitOk;
}

int show_stats(Ethtool& et, const std::string& ifname, core::Output& out) {
  // How many statistics: ETHTOOL_GSSET_INFO for ETH_SS_STATS.
  std::vector<uint64_t> ssbuf(sizeof(ethtool_sset_info) / 8 + 2, 0);
  auto* info = reinterpret_cast<ethtool_sset_info*>(ssbuf.data());
  info->cmd = ETHTOOL_GSSET_INFO;
  info->sset_mask = 1ull << ETH_SS_STATS;
  int err = et.call(info);
  if (err == ENODEV) return fail("ethtool: " + ifname + ": no such device");
  uint32_t n = (err == 0 && (info->sset_mask & (1ull << ETH_SS_STATS))) ? info->data[0] : 0;
  if (n == 0) return fail("no stats available");
  std::vector<uint8_t> sbuf(sizeof(ethtool_gstrings) + static_cast<size_t>(n) * ETH_GSTRING_LEN);
  auto* strings = reinterpret_cast<ethtool_gstrings*>(sbuf.data());
  strings->cmd = ETHTOOL_GSTRINGS;
  strings->string_set = ETH_SS_STATS;
  strings->len = n;
  if ((err = et.call(strings))) return fail(std::string("Cannot get stats strings information: ") + std::strerror(err));
  std::vector<uint8_t> vbuf(sizeof(ethtool_stats) + static_cast<size_t>(n) * sizeof(uint64_t));
  auto* stats = reinterpret_cast<ethtool_stats*>(vbuf.data());
  stats->cmd = ETHTOOL_GSTATS;
  stats->n_stats = n;
  if ((err = et.call(stats))) return fail(std::string("Cannot get stats information: ") + std::strerror(err));
  std::string t = "NIC statistics:";
  Json j = Json::object();
  for (uint32_t i = 0; i < n && i < stats->n_stats; ++i) {
    const char* p = reinterpret_cast<const char*>(strings->data + static_cast<size_t>(i) * ETH_GSTRING_LEN);
    std::string name(p, strnlen(p, ETH_GSTRING_LEN));
    uint64_t v;
    std::memcpy(&v, reinterpret_cast<const uint8_t*>(stats->data) + static_cast<size_t>(i) * sizeof(uint64_t), sizeof(v));
    t += "\n     " + name + ": " + std::to_string(v);
    j[name] = v;
  }
  out.record("statistics", Json{{"ifname", ifname}, {"statistics", j}}, t);
  return kExitOk;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  char mode = 0;
  std::string ifname;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") { std::fputs(kUsage, stdout); return kExitOk; }
    if (a == "-i" || a == "--driver") mode = 'i';
    else if (a == "-S" || a == "--statistics") mode = 'S';
    else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "ethtool: unsupported option '%s' (read-only: IFACE, -i IFACE, -S IFACE)\n", argv[i]);
      return kExitUsage;
    } else if (!ifname.empty()) {
      std::fprintf(stderr, "ethtool: unexpected argument '%s'\n", argv[i]);
      return kExitUsage;
    } else {
      ifname = std::string(a);
    }
  }
  if (ifname.empty()) { std::fputs(kUsage, stderr); return kExitUsage; }
  if (ifname.size() >= IFNAMSIZ) return fail("ethtool: " + ifname + ": interface name too long");
  if (if_nametoindex(ifname.c_str()) == 0) return fail("ethtool: " + ifname + ": no such device");
  Ethtool et(ifname);
  if (!et.ok()) return fail(std::string("ethtool: socket: ") + std::strerror(errno));
  auto out = core::Output::make(ctx.json);
  int rc = mode == 'i' ? show_driver(et, ifname, *out) : mode == 'S' ? show_stats(et, ifname, *out)
                                                                      : show_settings(et, ifname, *out);
  out->flush();
  return rc;
}

}  // namespace netshoot::applet::ethtool

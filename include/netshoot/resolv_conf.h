// resolv.conf(5) as glibc reads it: nameserver (max 3), search/domain (last wins,
// max 6 domains), options; then LOCALDOMAIN and RES_OPTIONS from the environment.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/dns.h"
#include "netshoot/result.h"

namespace netshoot::core::dns {

struct NameServer {
  IpAddr addr;
  uint16_t port = 53;  // resolv.conf has no port; tests and `dig @host -p` set it

  // "127.0.0.1", "::1", "fe80::1%eth0"; nullopt when not a numeric address.
  static std::optional<NameServer> parse(std::string_view text, uint16_t port = 53);
  // sockaddr for sendto/connect; returns its length.
  socklen_t to_sockaddr(sockaddr_storage& ss) const;
  // "127.0.0.1#53", "::1#53" as dig prints a server.
  std::string to_string() const;
  bool operator==(const NameServer& o) const { return addr == o.addr && port == o.port; }
};

struct ResolvConf {
  static constexpr size_t kMaxNameservers = 3;
  static constexpr size_t kMaxSearch = 6;

  std::vector<NameServer> nameservers;  // empty after parse → 127.0.0.1 is used
  std::vector<std::string> search;      // without trailing dots
  int ndots = 1;      // cap 15
  int timeout = 5;    // seconds, cap 30
  int attempts = 2;   // cap 5
  bool rotate = false;
  bool single_request = false;
  bool single_request_reopen = false;
  bool use_vc = false;
  bool edns0 = false;
  bool trust_ad = false;
  bool no_aaaa = false;
  bool no_tld_query = false;
  bool from_file = false;          // false: the file was missing, defaults apply
  std::string path;                // where it was read from (may be empty)
  std::vector<std::string> warnings;  // unparsable lines, ignored like glibc does

  // The nameservers to use: the configured ones, or 127.0.0.1:53 when none.
  std::vector<NameServer> servers() const;
};

// Parses resolv.conf text (no environment). Unknown keywords and options are ignored.
ResolvConf parse_resolv_conf(std::string_view text);
// Applies an options string ("ndots:5 rotate attempts:3"), as in RES_OPTIONS.
void apply_resolv_options(ResolvConf& conf, std::string_view options);
// Reads `path`; a missing file gives the defaults (from_file = false). With
// `use_env`, LOCALDOMAIN replaces the search list and RES_OPTIONS is applied last.
Result<ResolvConf> load_resolv_conf(const std::string& path = "/etc/resolv.conf",
                                    bool use_env = true);

}  // namespace netshoot::core::dns

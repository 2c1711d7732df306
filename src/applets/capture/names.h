// Names for output without -n, as tcpdump prints them: host names (hosts(5), then
// a PTR query through the project resolver, cached, with a short timeout and a
// budget so a dead DNS server cannot stall the output), port names (services(5)),
// IP protocol names (protocols(5)) and MAC names (ethers(5), "Broadcast").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "netshoot/hosts.h"
#include "netshoot/resolv_conf.h"

namespace netshoot::applet::capture {

class HostNames {
 public:
  struct Config {
    std::string hosts_path = "/etc/hosts";
    std::string resolv_conf_path = "/etc/resolv.conf";
    std::optional<core::dns::ResolvConf> resolv_conf;  // instead of reading the path (tests)
    bool dns = true;            // ask PTR when hosts(5) has no name
    int timeout_ms = 700;       // per server, one attempt
    int max_dns_failures = 3;   // after this many unanswered lookups, DNS is no longer asked
    bool strip_domain = false;  // -N: "host" instead of "host.example.com"
  };
  explicit HostNames(Config c);
  HostNames() : HostNames(Config{}) {}

  // The name of a 4- or 16-byte address, else its numeric text. Cached either way.
  std::string_view name(const uint8_t* a, int family);
  size_t dns_queries() const { return dns_queries_; }
  bool dns_enabled() const { return dns_; }

 private:
  Config cfg_;
  core::dns::HostsFile hosts_;
  std::optional<core::dns::ResolvConf> conf_;
  bool dns_ = true;
  int failures_ = 0;
  size_t dns_queries_ = 0;
  std::unordered_map<std::string, std::string> cache_;
};

// services(5): the first name given to a port, per protocol; "" when none. When the
// file is missing, the core table's netbase names (what Debian's file says).
std::string_view port_name(uint16_t port, bool udp);
// protocols(5): "icmp" for 1; "" when unknown or the file is missing.
std::string_view ip_proto_name(uint8_t proto);
// ethers(5) name of a MAC, or "Broadcast" for ff:ff:ff:ff:ff:ff; "" otherwise.
std::string_view mac_name(const uint8_t* mac);

// Parsers (public for the tests): file text → table.
void parse_services(std::string_view text, std::unordered_map<uint32_t, std::string>& out);
void parse_protocols(std::string_view text, std::unordered_map<uint32_t, std::string>& out);
void parse_ethers(std::string_view text, std::unordered_map<uint64_t, std::string>& out);

}  // namespace netshoot::applet::capture

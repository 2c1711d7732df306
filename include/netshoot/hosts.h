// hosts(5): "address canonical_name [aliases...]", '#' comments, case-insensitive
// names, IPv4 and IPv6 lines. Lookups return matches in file order.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/dns.h"
#include "netshoot/result.h"

namespace netshoot::core::dns {

struct HostEntry {
  IpAddr addr;
  std::string canonical;             // first name on the line
  std::vector<std::string> aliases;  // the other names
};

class HostsFile {
 public:
  static HostsFile parse(std::string_view text);
  // A missing file is an empty table, not an error.
  static Result<HostsFile> load(const std::string& path = "/etc/hosts");

  // Entries whose canonical name or an alias equals `name` (case-insensitive),
  // restricted to `family` unless AF_UNSPEC.
  std::vector<HostEntry> lookup(std::string_view name, int family = AF_UNSPEC) const;
  // Canonical name of the first line with this address.
  std::optional<std::string> reverse(const IpAddr& addr) const;

  const std::vector<HostEntry>& entries() const { return entries_; }

 private:
  std::vector<HostEntry> entries_;
};

}  // namespace netshoot::core::dns

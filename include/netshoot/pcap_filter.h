// Name resolution inside pcap filter expressions, before libpcap compiles them:
// libpcap would call gethostbyname/getservbyname, which cannot work in a static
// binary without NSS. Used by every applet that takes a filter (tcpdump, iftop).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::core {

using FilterNameLookup = std::function<Result<std::string>(const std::string&)>;

std::vector<std::string> filter_tokens(const std::string& expr);
// "host db and port http" -> "host 10.0.0.5 and port 80". Names become the first
// address the resolver returns (IPv4 first).
Result<std::string> resolve_filter_names(const std::string& expr, const FilterNameLookup& lookup);
// The project resolver (/etc/hosts, then DNS per /etc/resolv.conf).
Result<std::string> filter_host_lookup(const std::string& name);

}  // namespace netshoot::core

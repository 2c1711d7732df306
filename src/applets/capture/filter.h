// Name resolution inside filter expressions, before libpcap compiles them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::applet::capture {

using NameLookup = std::function<core::Result<std::string>(const std::string&)>;

std::vector<std::string> filter_tokens(const std::string& expr);
// "host db and port http" -> "host 10.0.0.5 and port 80". Names become the first
// address the resolver returns (IPv4 first).
core::Result<std::string> resolve_filter_names(const std::string& expr, const NameLookup& lookup);
// The project resolver (/etc/hosts, then DNS per /etc/resolv.conf).
core::Result<std::string> resolver_lookup(const std::string& name);

}  // namespace netshoot::applet::capture

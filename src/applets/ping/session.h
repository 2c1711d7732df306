// The two schedulers over one prober: iputils ping's (one target, a probe per
// interval, linger, deadline) and fping's (many targets in flight at once, retries
// with backoff, per-host periods).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/applet.h"
#include "options.h"

namespace netshoot::applet::ping {

struct ResolvedTarget {
  std::string name;      // as given on the command line
  core::IpAddr addr;
  bool numeric = false;  // given as an address
  std::string error;     // non-empty: could not be resolved ("foo: Name or service not known")
};

// Resolves one target with the project's resolver (family: 0, AF_INET or AF_INET6).
ResolvedTarget resolve_target(const std::string& name, int family);
// Reverse name of a reply source, cached; nullopt when there is none.
std::optional<std::string> reverse_name(const core::IpAddr& addr);
// "name (addr)" unless numeric output is asked for or the name is the address.
std::string display_from(const core::IpAddr& addr, bool resolve);

bool running_as_root();

int run_ping_session(Context& ctx, const Options& o, const ResolvedTarget& target);
int run_fping_session(Context& ctx, const Options& o, std::vector<ResolvedTarget> targets);

}  // namespace netshoot::applet::ping

// `dns resolve NAME`: replays what glibc would send for NAME in this namespace and
// explains where the time went.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "netshoot/resolver.h"

namespace netshoot::applet::dns {

// Attempts sorted in the order they were sent.
std::vector<core::dns::QueryAttempt> in_send_order(std::vector<core::dns::QueryAttempt> attempts);

// One line (or "") explaining extra cost: NXDOMAIN search-list candidates, timeouts,
// truncation, SERVFAIL. `answered_name` is the candidate that produced the answer
// ("" when resolution failed).
std::string diagnose(std::string_view name, const core::dns::ResolvConf& conf,
                     const std::vector<core::dns::QueryAttempt>& attempts, std::string_view answered_name);

}  // namespace netshoot::applet::dns

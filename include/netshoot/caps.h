// Linux capabilities of this process, by raw capget/capset (no libcap needed).
// Raw-socket applets run as root or from a binary with file capabilities
// (cap_net_raw, cap_net_admin: Kubernetes runAsNonRoot pods, `--user 65532`);
// once their sockets are open they give those capabilities up for good.
#pragma once

#include <initializer_list>

namespace netshoot::core {

// Moves those of `caps` that are in the permitted set into the effective set. A
// binary with file capabilities "+p" (not "+ep": an exec with "+ep" fails outright
// when the container's bounding set lacks one of them) starts with them permitted
// only; the driver raises them before an applet runs.
void raise_permitted_capabilities(std::initializer_list<int> caps);

// True when `cap` (CAP_NET_RAW, ...) is in the effective set.
bool has_capability(int cap);

// Removes the capabilities from the effective, permitted and inheritable sets
// (and from the ambient set); the process cannot get them back. Returns false when
// the kernel refused (the process keeps what it had).
bool drop_capabilities(std::initializer_list<int> caps);

// The raw-socket applets' drop: CAP_NET_RAW and CAP_NET_ADMIN.
bool drop_network_capabilities();

}  // namespace netshoot::core

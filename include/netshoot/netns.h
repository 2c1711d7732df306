// Network namespace targets: a netns file path, a PID, or a container name/ID.
#pragma once

#include <string>
#include <string_view>

#include "netshoot/fd.h"
#include "netshoot/result.h"

namespace netshoot::core {

struct NetnsTarget {
  UniqueFd fd;              // open fd of the namespace file (O_RDONLY|O_CLOEXEC)
  std::string path;         // the file that was opened, e.g. /proc/1234/ns/net
  int pid = 0;              // the process it came from, when known
  std::string container;    // container name, when it came from the container API
};

// Resolves TARGET for namespace kind `ns` ("net", "mnt", "uts", ...):
//   - contains '/': a namespace file path (/run/netns/NAME, /var/run/docker/netns/ID);
//   - all digits: a PID (/proc/PID/ns/<ns>);
//   - else a name under /run/netns, then a container name or ID via the Docker
//     Engine API (docker.h).
Result<NetnsTarget> resolve_ns_target(std::string_view target, std::string_view ns = "net");

// setns() into a network namespace target. Must happen before any socket opens;
// affects only the calling thread, so call it before starting threads.
Status enter_netns(const NetnsTarget& target);

// Holds the current network namespace; returns to it when destroyed.
class NetnsGuard {
 public:
  static Result<NetnsGuard> enter(const NetnsTarget& target);
  NetnsGuard(NetnsGuard&&) = default;
  NetnsGuard& operator=(NetnsGuard&&) = default;
  ~NetnsGuard();

 private:
  explicit NetnsGuard(UniqueFd old) : old_(std::move(old)) {}
  UniqueFd old_;
};

}  // namespace netshoot::core

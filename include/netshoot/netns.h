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

// Resolves TARGET for namespace kind `ns` ("net", "mnt", "uts", "ipc", "pid",
// "user", "cgroup", "time"):
//   - contains '/': a namespace file path (/run/netns/NAME, /var/run/docker/netns/ID);
//   - all digits: a PID (/proc/PID/ns/<ns>);
//   - else (net only) a name under /run/netns, then a container name or ID via
//     the Docker Engine API (docker.h): /proc/<pid>/ns/<ns>, or its SandboxKey for net.
// Errors: "cannot open /proc/999999/ns/net: No such process",
// "cannot open /run/netns/x: No such file or directory", "container X is not running",
// "/etc/hosts is not a namespace file", "/proc/1/ns/mnt is a mnt namespace, not net".
Result<NetnsTarget> resolve_ns_target(std::string_view target, std::string_view ns = "net");

// Opens a namespace file and checks it is a namespace of kind `ns` (empty: any kind).
// `pid` (when > 0) is recorded and turns a vanished /proc/PID into ESRCH.
Result<NetnsTarget> open_ns_file(std::string path, std::string_view ns, int pid = 0);

// The namespace of kind `ns` of a container (name or ID) through the container API
// socket (docker.h; `socket_override` as for find_docker_socket).
Result<NetnsTarget> resolve_container_ns(std::string_view name_or_id, std::string_view ns = "net",
                                         std::string_view socket_override = {});

// CLONE_NEW* flag of a namespace kind name ("net" -> CLONE_NEWNET), 0 if unknown.
int ns_clone_flag(std::string_view ns);
// The kind name of a CLONE_NEW* flag ("net"), "" if unknown.
std::string_view ns_kind_name(int clone_flag);
// The kind of the namespace behind an open nsfs fd (CLONE_NEW* flag), via NS_GET_NSTYPE.
Result<int> ns_type_of(int fd);

// The netns id (as `ip netns list` shows "(id: N)") that the current network
// namespace has assigned to the network namespace behind `fd`; -1 when none is
// assigned. One RTM_GETNSID request over rtnetlink.
Result<int> netns_id(int fd);

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

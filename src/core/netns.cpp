#include "netshoot/netns.h"

#include <fcntl.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "netshoot/docker.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace netshoot::core {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

struct NsKind {
  std::string_view name;
  int flag;
};
constexpr NsKind kKinds[] = {
    {"net", CLONE_NEWNET},       {"mnt", CLONE_NEWNS},   {"uts", CLONE_NEWUTS},
    {"ipc", CLONE_NEWIPC},       {"pid", CLONE_NEWPID},  {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

bool path_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

}  // namespace

int ns_clone_flag(std::string_view ns) {
  for (const auto& k : kKinds)
    if (k.name == ns) return k.flag;
  return 0;
}

std::string_view ns_kind_name(int flag) {
  for (const auto& k : kKinds)
    if (k.flag == flag) return k.name;
  return {};
}

Result<int> ns_type_of(int fd) {
  int t = ::ioctl(fd, NS_GET_NSTYPE);
  if (t < 0) return os_error("ioctl(NS_GET_NSTYPE)");
  return t;
}

Result<int> netns_id(int ns_fd) {
  UniqueFd sock(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!sock) return os_error("socket(AF_NETLINK)");
  struct {
    nlmsghdr nh;
    rtgenmsg g;
    char pad[3];
    nlattr fd_attr;
    uint32_t fd;
  } req{};
  static_assert(sizeof(nlmsghdr) + NLMSG_ALIGN(sizeof(rtgenmsg)) + sizeof(nlattr) + 4 == sizeof(req));
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = RTM_GETNSID;
  req.nh.nlmsg_flags = NLM_F_REQUEST;
  req.nh.nlmsg_seq = 1;
  req.g.rtgen_family = AF_UNSPEC;
  req.fd_attr.nla_len = sizeof(nlattr) + 4;
  req.fd_attr.nla_type = NETNSA_FD;
  req.fd = static_cast<uint32_t>(ns_fd);
  if (::send(sock.get(), &req, sizeof req, 0) < 0) return os_error("RTM_GETNSID");
  alignas(nlmsghdr) char buf[4096];
  ssize_t n;
  do {
    n = ::recv(sock.get(), buf, sizeof buf, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return os_error("RTM_GETNSID");
  for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n));
       h = NLMSG_NEXT(h, n)) {
    if (h->nlmsg_type == NLMSG_ERROR) {
      auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
      errno = -err->error;
      return os_error("RTM_GETNSID");
    }
    if (h->nlmsg_type != RTM_NEWNSID) continue;
    int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(rtgenmsg)));
    auto* a = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(rtgenmsg)));
    while (len >= static_cast<int>(sizeof(nlattr)) && a->nla_len >= sizeof(nlattr) &&
           static_cast<int>(a->nla_len) <= len) {
      if ((a->nla_type & NLA_TYPE_MASK) == NETNSA_NSID && a->nla_len >= sizeof(nlattr) + 4) {
        int32_t id;
        std::memcpy(&id, reinterpret_cast<char*>(a) + NLA_HDRLEN, 4);
        return static_cast<int>(id);
      }
      int step = static_cast<int>(NLA_ALIGN(a->nla_len));
      len -= step;
      a = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(a) + step);
    }
    return -1;
  }
  return make_error("RTM_GETNSID: no answer");
}

Result<NetnsTarget> open_ns_file(std::string path, std::string_view ns, int pid) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    // /proc/PID/ns/X is missing because PID is gone: say so, as util-linux does.
    if (e == ENOENT && pid > 0 && !path_exists("/proc/" + std::to_string(pid))) e = ESRCH;
    errno = e;
    return os_error("cannot open " + path, "CAP_SYS_ADMIN");
  }
  NetnsTarget t;
  t.fd.reset(fd);
  t.path = std::move(path);
  t.pid = pid;
  int want = ns.empty() ? 0 : ns_clone_flag(ns);
  auto type = ns_type_of(fd);
  if (!type) {
    if (type.error().code == ENOTTY || type.error().code == EINVAL)
      return make_error(t.path + " is not a namespace file");
    // Old kernels without NS_GET_NSTYPE: let setns() judge it.
  } else if (want != 0 && *type != want) {
    std::string_view got = ns_kind_name(*type);
    return make_error(t.path + " is a " + std::string(got.empty() ? "different" : got) +
                      " namespace, not " + std::string(ns));
  }
  return t;
}

Result<NetnsTarget> resolve_container_ns(std::string_view name_or_id, std::string_view ns,
                                         std::string_view socket_override) {
  auto client = DockerClient::connect(socket_override);
  if (!client) return client.error();
  auto info = client->inspect(name_or_id);
  if (!info) return info.error();
  if (!info->running || info->pid <= 0)
    return make_error("container " + std::string(name_or_id) + " is not running" +
                      (info->state.empty() ? "" : " (" + info->state + ")"));
  Result<NetnsTarget> r = make_error("");
  // The SandboxKey names the network namespace even when its processes live in a
  // PID namespace we cannot see (netshoot itself in a container with the socket).
  if (ns == "net" && !info->netns_path.empty() && path_exists(info->netns_path)) {
    r = open_ns_file(info->netns_path, ns, 0);
    if (r) r->pid = info->pid;
  }
  if (!r) r = open_ns_file("/proc/" + std::to_string(info->pid) + "/ns/" + std::string(ns), ns, info->pid);
  if (!r) return r;
  r->container = info->name.empty() ? std::string(name_or_id) : info->name;
  return r;
}

Result<NetnsTarget> resolve_ns_target(std::string_view target, std::string_view ns) {
  if (target.empty()) return make_error("empty namespace target");
  if (ns_clone_flag(ns) == 0) return make_error("unknown namespace kind '" + std::string(ns) + "'");
  if (target.find('/') != std::string_view::npos) return open_ns_file(std::string(target), ns, 0);
  if (all_digits(target)) {
    if (target.size() > 9) return make_error("PID " + std::string(target) + " is out of range");
    int pid = std::stoi(std::string(target));
    return open_ns_file("/proc/" + std::string(target) + "/ns/" + std::string(ns), ns, pid);
  }
  std::string named = "/run/netns/" + std::string(target);
  if (ns == "net" && path_exists(named)) return open_ns_file(named, ns, 0);
  // Last: a container name or ID.
  auto c = resolve_container_ns(target, ns);
  if (c) return c;
  const std::string& why = c.error().message();
  if (why.rfind("no container API socket", 0) == 0 || why.rfind("no such container", 0) == 0 ||
      why.rfind("DOCKER_HOST", 0) == 0) {
    std::string kinds = ns == "net" ? "a path, a PID, a named netns (/run/netns/" + std::string(target) +
                                          ") or a container"
                                    : "a path, a PID or a container";
    return make_error("unknown namespace target '" + std::string(target) + "': not " + kinds + " (" +
                      why + ")");
  }
  return c;
}

Status enter_netns(const NetnsTarget& target) {
  if (::setns(target.fd.get(), CLONE_NEWNET) != 0)
    return os_error("setns " + target.path, "CAP_SYS_ADMIN");
  return {};
}

Result<NetnsGuard> NetnsGuard::enter(const NetnsTarget& target) {
  int old = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (old < 0) return os_error("open /proc/thread-self/ns/net");
  UniqueFd old_fd(old);
  if (auto st = enter_netns(target); !st) return st.error();
  return NetnsGuard(std::move(old_fd));
}

NetnsGuard::~NetnsGuard() {
  if (old_) (void)::setns(old_.get(), CLONE_NEWNET);
}

}  // namespace netshoot::core

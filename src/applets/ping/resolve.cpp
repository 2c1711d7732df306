// Name resolution for ping: the project's resolver only (no NSS in a static binary).
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>

#include "netshoot/resolver.h"
#include "session.h"

namespace netshoot::applet::ping {

ResolvedTarget resolve_target(const std::string& name, int family) {
  ResolvedTarget t;
  t.name = name;
  if (auto a = core::IpAddr::try_parse(name)) {
    t.numeric = true;
    if (family != 0 && a->family() != family) {
      t.error = name + ": Address family for hostname not supported";
      return t;
    }
    t.addr = *a;
    return t;
  }
  if (name.find('%') != std::string::npos) {  // fe80::1%eth0: a scope by interface name
    auto a = core::IpAddr::parse(name);
    if (a) {
      t.numeric = true;
      t.addr = *a;
      if (family != 0 && a->family() != family) t.error = name + ": Address family for hostname not supported";
      return t;
    }
  }
  auto r = core::dns::resolve_host(name, family == 0 ? AF_UNSPEC : family);
  if (!r || r->empty()) {
    t.error = r ? name + ": No address associated with hostname" : r.error().message();
    return t;
  }
  t.addr = r->front().addr;
  return t;
}

std::optional<std::string> reverse_name(const core::IpAddr& addr) {
  static std::map<core::IpAddr, std::optional<std::string>> cache;
  if (auto it = cache.find(addr); it != cache.end()) return it->second;
  core::dns::ResolverConfig cfg;
  cfg.timeout_ms = 1000;
  auto r = core::dns::reverse_lookup(addr, cfg);
  std::optional<std::string> name;
  if (r && !r->empty()) name = *r;
  cache[addr] = name;
  return name;
}

std::string display_from(const core::IpAddr& addr, bool resolve) {
  std::string a = addr.to_string();
  if (!resolve) return a;
  auto n = reverse_name(addr);
  if (!n || *n == a) return a;
  return *n + " (" + a + ")";
}

bool running_as_root() {
  if (::geteuid() == 0) return true;
  // CAP_NET_RAW without uid 0 (a file capability, a container's bounding set).
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &hdr, data) != 0) return false;
  return data[CAP_NET_RAW / 32].effective & (1u << (CAP_NET_RAW % 32));
}

}  // namespace netshoot::applet::ping

#include "netshoot/caps.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace netshoot::core {
namespace {

struct CapSets {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
};

bool get(CapSets& s) { return ::syscall(SYS_capget, &s.hdr, s.data) == 0; }

}  // namespace

bool has_capability(int cap) {
  CapSets s;
  if (cap < 0 || cap >= 64 || !get(s)) return false;
  return s.data[cap / 32].effective & (1u << (cap % 32));
}

bool drop_capabilities(std::initializer_list<int> caps) {
  CapSets s;
  if (!get(s)) return false;
  bool changed = false;
  for (int cap : caps) {
    if (cap < 0 || cap >= 64) continue;
    uint32_t bit = 1u << (cap % 32);
    auto& d = s.data[cap / 32];
    if ((d.effective | d.permitted | d.inheritable) & bit) changed = true;
    d.effective &= ~bit;
    d.permitted &= ~bit;
    d.inheritable &= ~bit;
    // An ambient capability would come back in a child; lowering it never fails.
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, cap, 0, 0);
  }
  if (!changed) return true;
  s.hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  return ::syscall(SYS_capset, &s.hdr, s.data) == 0;
}

void raise_permitted_capabilities(std::initializer_list<int> caps) {
  CapSets s;
  if (!get(s)) return;
  bool changed = false;
  for (int cap : caps) {
    if (cap < 0 || cap >= 64) continue;
    uint32_t bit = 1u << (cap % 32);
    auto& d = s.data[cap / 32];
    if ((d.permitted & bit) && !(d.effective & bit)) {
      d.effective |= bit;
      changed = true;
    }
  }
  if (!changed) return;
  s.hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  (void)::syscall(SYS_capset, &s.hdr, s.data);
}

bool drop_network_capabilities() { return drop_capabilities({CAP_NET_RAW, CAP_NET_ADMIN}); }

}  // namespace netshoot::core

// The pool of privileged sockets of a scan run (see probers.h): opened before the
// first probe so that the run can drop CAP_NET_RAW/CAP_NET_ADMIN, parked until the
// phase that uses them starts.
#include <linux/filter.h>
#include <sys/socket.h>

#include <cerrno>

#include "probers.h"

namespace netshoot::applet::scan {

namespace {

// A socket filter that drops every packet: a parked socket queues nothing. Attaching
// and removing a socket filter needs no capability.
void park(int fd) {
  sock_filter drop_all{BPF_RET | BPF_K, 0, 0, 0};
  sock_fprog prog{1, &drop_all};
  (void)::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

// Removes the filter, then discards whatever was queued before it was attached.
void unpark(int fd) {
  int unused = 0;
  (void)::setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused);
  uint8_t b[64];
  while (::recv(fd, b, sizeof b, MSG_DONTWAIT | MSG_TRUNC) >= 0 || errno == EINTR) {
  }
}

}  // namespace

void SocketPool::reserve(Use use, int family, Opener open) {
  auto fd = open(family);
  if (fd) park(fd->get());
  slots_.push_back({use, family, std::move(fd)});
}

core::Result<core::UniqueFd> SocketPool::take(Use use, int family, Opener open) {
  for (auto it = slots_.begin(); it != slots_.end(); ++it) {
    if (it->use != use || it->family != family) continue;
    core::Result<core::UniqueFd> fd = std::move(it->fd);
    slots_.erase(it);
    if (fd) unpark(fd->get());
    return fd;
  }
  return open(family);
}

}  // namespace netshoot::applet::scan

// ARP host discovery for directly connected IPv4 targets on Ethernet, as nmap does
// it: our own ARP requests on an AF_PACKET socket, broadcast on the interface the
// route points to; a reply whose sender is a target proves it up ("arp-response"),
// whatever its firewall drops. Routed targets keep the ICMP/TCP probes.
#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "netshoot/netlink.h"
#include "netshoot/socket.h"
#include "probers.h"

namespace netshoot::applet::scan {

using core::IpAddr;

std::optional<ArpRoute> arp_route(const IpAddr& dst) {
  if (!dst.is_v4() || dst.is_loopback()) return std::nullopt;
  auto r = core::route_get(dst);
  if (!r || r->gateway || r->type != RTN_UNICAST || r->oif <= 0 || !r->prefsrc) return std::nullopt;
  auto l = core::link_by_index(r->oif);
  if (!l || l->type != ARPHRD_ETHER || l->address.size() != 6 || (l->flags & IFF_NOARP)) return std::nullopt;
  return ArpRoute{r->oif, *r->prefsrc, l->address};
}

bool is_local_address(const IpAddr& dst) {
  if (dst.is_loopback()) return true;
  auto r = core::route_get(dst);
  return r && r->type == RTN_LOCAL;
}

namespace {

constexpr size_t kArpLen = 28;  // Ethernet/IPv4 ARP payload

// Creating an AF_PACKET socket needs CAP_NET_RAW; the 4 MiB buffer, CAP_NET_ADMIN.
core::Result<core::UniqueFd> open_arp_socket(int /*family*/) {
  int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (fd < 0) return core::os_error("socket(AF_PACKET, SOCK_DGRAM)");
  core::UniqueFd f(fd);
  (void)core::set_recv_buffer(f.get(), 4 << 20);
  return f;
}

class ArpProber : public Prober {
 public:
  ArpProber(const ScanSet& s, std::vector<ArpRoute> routes, std::vector<std::vector<uint8_t>>* macs)
      : s_(s), routes_(std::move(routes)), macs_(macs) {}

  core::Status open(SocketPool& pool) {
    auto fd = pool.take(SocketPool::Use::arp, AF_PACKET, open_arp_socket);
    if (!fd) return fd.error();
    fd_ = std::move(*fd);
    macs_->assign(s_.hosts.size(), {});
    return {};
  }

  int send(size_t item, int) override {
    const ArpRoute& rt = routes_[item];
    uint8_t p[kArpLen] = {};
    p[0] = 0, p[1] = 1;        // hardware: Ethernet
    p[2] = 0x08, p[3] = 0x00;  // protocol: IPv4
    p[4] = 6, p[5] = 4;
    p[6] = 0, p[7] = 1;        // request
    std::memcpy(p + 8, rt.mac.data(), 6);
    std::memcpy(p + 14, rt.src.bytes().data(), 4);
    std::memcpy(p + 24, s_.hosts[item].bytes().data(), 4);  // target MAC stays zero
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_ARP);
    ll.sll_ifindex = rt.ifindex;
    ll.sll_halen = 6;
    std::memset(ll.sll_addr, 0xff, 6);
    if (::sendto(fd_.get(), p, sizeof p, 0, reinterpret_cast<sockaddr*>(&ll), sizeof ll) < 0) return errno;
    return 0;
  }

  void fds(std::vector<pollfd>& out) override { out.push_back({fd_.get(), POLLIN, 0}); }

  void drain(Scheduler& s) override {
    uint8_t b[256];
    for (int k = 0; k < 4096; ++k) {
      sockaddr_ll from{};
      socklen_t fl = sizeof from;
      ssize_t n = ::recvfrom(fd_.get(), b, sizeof b, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl);
      if (n < 0) break;
      int64_t when = now_ns();
      if (size_t(n) < kArpLen || from.sll_pkttype == PACKET_OUTGOING) continue;
      if (b[0] != 0 || b[1] != 1 || b[2] != 0x08 || b[3] != 0 || b[4] != 6 || b[5] != 4) continue;
      if (b[6] != 0 || b[7] != 2) continue;  // replies only
      IpAddr sender = IpAddr::from_bytes(std::span<const uint8_t>(b + 14, 4));
      auto h = s_.host_index.find(sender);
      if (h == s_.host_index.end()) continue;
      const ArpRoute& rt = routes_[h->second];
      if (from.sll_ifindex != rt.ifindex || std::memcmp(b + 24, rt.src.bytes().data(), 4) != 0) continue;
      if (!s.result(h->second).done) (*macs_)[h->second].assign(b + 8, b + 14);
      s.answer(h->second, PortState::open, Reason::arp_response, -1, when);
    }
  }

 private:
  const ScanSet& s_;
  std::vector<ArpRoute> routes_;
  std::vector<std::vector<uint8_t>>* macs_;
  core::UniqueFd fd_;
};

}  // namespace

void reserve_arp_socket(SocketPool& pool) { pool.reserve(SocketPool::Use::arp, AF_PACKET, open_arp_socket); }

core::Result<std::unique_ptr<Prober>> make_arp_prober(const ScanSet& s, std::vector<ArpRoute> routes,
                                                       std::vector<std::vector<uint8_t>>* macs, SocketPool& pool) {
  auto p = std::make_unique<ArpProber>(s, std::move(routes), macs);
  if (auto st = p->open(pool); !st) return st.error();
  return std::unique_ptr<Prober>(std::move(p));
}

}  // namespace netshoot::applet::scan

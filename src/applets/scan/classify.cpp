// Port states and reasons as nmap defines them, from replies and connect() results.
#include <cerrno>

#include "netshoot/packet.h"
#include "scan.h"

namespace netshoot::applet::scan {

const char* state_name(PortState s) noexcept {
  switch (s) {
    case PortState::open: return "open";
    case PortState::closed: return "closed";
    case PortState::filtered: return "filtered";
    case PortState::unfiltered: return "unfiltered";
    case PortState::open_filtered: return "open|filtered";
    default: return "unknown";
  }
}

const char* reason_name(Reason r) noexcept {
  switch (r) {
    case Reason::syn_ack: return "syn-ack";
    case Reason::reset: return "reset";
    case Reason::conn_refused: return "conn-refused";
    case Reason::no_response: return "no-response";
    case Reason::port_unreach: return "port-unreach";
    case Reason::admin_prohibited: return "admin-prohibited";
    case Reason::host_unreach: return "host-unreach";
    case Reason::net_unreach: return "net-unreach";
    case Reason::proto_unreach: return "proto-unreach";
    case Reason::host_prohibited: return "host-prohibited";
    case Reason::net_prohibited: return "net-prohibited";
    case Reason::udp_response: return "udp-response";
    case Reason::echo_reply: return "echo-reply";
    case Reason::arp_response: return "arp-response";
    case Reason::localhost_response: return "localhost-response";
    case Reason::user_set: return "user-set";
    case Reason::time_exceeded: return "time-exceeded";
    case Reason::nd_response: return "nd-response";
    default: return "unknown";
  }
}

std::optional<std::pair<PortState, Reason>> classify_tcp_flags(uint8_t flags) noexcept {
  using namespace core::tcpflag;
  if (flags & rst) return std::pair{PortState::closed, Reason::reset};
  if ((flags & (syn | ack)) == (syn | ack)) return std::pair{PortState::open, Reason::syn_ack};
  // nmap also treats a bare SYN (simultaneous open) as open
  if ((flags & (syn | ack)) == syn) return std::pair{PortState::open, Reason::syn_ack};
  return std::nullopt;
}

std::pair<PortState, Reason> classify_icmp(bool v6, uint8_t type, uint8_t code, core::L4Proto proto) noexcept {
  const bool udp = proto == core::L4Proto::udp;
  if (!v6) {
    if (type == core::icmp4::time_exceeded) return {PortState::filtered, Reason::time_exceeded};
    if (type != core::icmp4::dest_unreach) return {PortState::filtered, Reason::none};
    switch (code) {
      case core::icmp4::port_unreach:
        return {udp ? PortState::closed : PortState::filtered, Reason::port_unreach};
      case core::icmp4::net_unreach: return {PortState::filtered, Reason::net_unreach};
      case core::icmp4::host_unreach: return {PortState::filtered, Reason::host_unreach};
      case core::icmp4::proto_unreach: return {PortState::filtered, Reason::proto_unreach};
      case core::icmp4::net_prohibited: return {PortState::filtered, Reason::net_prohibited};
      case core::icmp4::host_prohibited: return {PortState::filtered, Reason::host_prohibited};
      case core::icmp4::admin_prohibited: return {PortState::filtered, Reason::admin_prohibited};
      default: return {PortState::filtered, Reason::host_unreach};
    }
  }
  if (type == core::icmp6::time_exceeded) return {PortState::filtered, Reason::time_exceeded};
  if (type != core::icmp6::dest_unreach) return {PortState::filtered, Reason::none};
  switch (code) {
    case core::icmp6::port_unreach:
      return {udp ? PortState::closed : PortState::filtered, Reason::port_unreach};
    case core::icmp6::admin_prohibited: return {PortState::filtered, Reason::admin_prohibited};
    case core::icmp6::no_route: return {PortState::filtered, Reason::net_unreach};
    default: return {PortState::filtered, Reason::host_unreach};
  }
}

std::pair<PortState, Reason> classify_connect(int err) noexcept {
  switch (err) {
    case 0: return {PortState::open, Reason::syn_ack};
    case ECONNREFUSED: return {PortState::closed, Reason::conn_refused};
    case ENETUNREACH: return {PortState::filtered, Reason::net_unreach};
    case EHOSTUNREACH: return {PortState::filtered, Reason::host_unreach};
    case EACCES: case EPERM: return {PortState::filtered, Reason::admin_prohibited};
    default: return {PortState::filtered, Reason::no_response};
  }
}

int icmp_to_errno(bool v6, uint8_t type, uint8_t code) noexcept {
  if (!v6) {
    if (type != core::icmp4::dest_unreach) return EHOSTUNREACH;
    switch (code) {
      case 0: case 6: case 9: case 11: return ENETUNREACH;
      case 2: return ENOPROTOOPT;
      case 3: return ECONNREFUSED;
      default: return EHOSTUNREACH;
    }
  }
  if (type != core::icmp6::dest_unreach) return EHOSTUNREACH;
  switch (code) {
    case 0: return ENETUNREACH;
    case 1: case 5: case 6: return EACCES;
    case 4: return ECONNREFUSED;
    default: return EHOSTUNREACH;
  }
}

std::pair<PortState, Reason> no_response_state(Technique t) noexcept {
  if (t == Technique::udp) return {PortState::open_filtered, Reason::no_response};
  return {PortState::filtered, Reason::no_response};
}

}  // namespace netshoot::applet::scan

// The probe engines under both front ends: ICMP echo (raw socket, or the kernel's
// unprivileged ICMP datagram socket) and TCP connect. One prober serves every
// target at once: sequence numbers are global, and the prober maps each reply (or
// ICMP error quoting one of our probes) back to the target and probe number.
#pragma once

#include <time.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/event_loop.h"
#include "netshoot/result.h"
#include "netshoot/socket.h"

namespace netshoot::applet::ping {

enum class EventKind : uint8_t {
  reply,       // echo reply / TCP connected (open)
  refused,     // TCP: RST (port closed, host up)
  icmp_error,  // destination unreachable, time exceeded ... quoting our probe
  local_error, // the kernel refused or failed the probe locally (errno)
};

struct ProbeEvent {
  EventKind kind = EventKind::reply;
  uint32_t target = 0;     // index into the session's targets
  uint32_t probe = 0;      // the session's probe number for that target
  uint16_t seq = 0;        // on the wire
  bool duplicate = false;  // a second reply to the same probe
  int64_t rtt_ns = -1;     // -1: not measured (tiny payloads, errors)
  core::IpAddr from;       // reply source / ICMP error sender
  int ttl = -1;
  size_t bytes = 0;        // ICMP bytes of the reply (header + data)
  uint8_t icmp_type = 0, icmp_code = 0;  // icmp_error: as in the message (v4 or v6 numbering)
  bool v6 = false;
  uint32_t icmp_info = 0;  // e.g. next-hop MTU
  int err = 0;             // local_error / TCP: errno
  bool bad_checksum = false;
  bool truncated = false;
  int wrong_byte = -1;     // first payload byte that differs from what we sent
  uint8_t wrong_expected = 0, wrong_got = 0;
  timespec when{};         // receive time (CLOCK_REALTIME), for -D
};

struct ProberConfig {
  size_t size = 56;       // ICMP payload bytes
  std::vector<uint8_t> pattern;  // -p: repeated through the payload (empty: byte i = i)
  int ttl = -1;
  int tos = -1;
  std::string interface;  // name, or a source address
  std::optional<core::PmtuDisc> pmtu;
  uint16_t tcp_port = 0;
  uint16_t first_seq = 1;
  bool need_v4 = false, need_v6 = false;
};

struct Options;
// The probe settings both sessions take from the options; the caller sets
// first_seq and which families are needed.
ProberConfig prober_config(const Options& o);

class Prober {
 public:
  using Handler = std::function<void(const ProbeEvent&)>;
  virtual ~Prober() = default;

  // Sends one probe for target (index) to dst. Returns 0 and the sequence number
  // used, or an errno (ENOBUFS / EAGAIN: try again later; others: a local error).
  struct Sent {
    int err = 0;
    uint16_t seq = 0;
  };
  virtual Sent send(uint32_t target, uint32_t probe, const core::IpAddr& dst) = 0;
  // The session gave up on a probe (timeout): forget it (TCP: close the socket).
  virtual void forget(uint16_t seq) {}
  // "raw ICMP socket", "ICMP datagram socket (unprivileged, id 4242)", "TCP connect"
  virtual std::string describe() const = 0;
  // Whether an RTT is measured (ICMP: payload of at least 16 bytes, as iputils).
  virtual bool timed() const { return true; }
};

// Opens raw ICMP sockets (those families asked for), or falls back to ICMP
// datagram sockets when raw ones are not permitted. The error names both causes.
core::Result<std::unique_ptr<Prober>> open_icmp_prober(core::EventLoop& loop, const ProberConfig& cfg,
                                                       Prober::Handler handler);
core::Result<std::unique_ptr<Prober>> open_tcp_prober(core::EventLoop& loop, const ProberConfig& cfg,
                                                      Prober::Handler handler);

// Applies -I: SO_BINDTODEVICE for an interface name, bind() for a source address.
core::Status apply_interface(int fd, int family, const std::string& interface);

// The payload pattern: a struct timeval (when it fits) then byte i = i & 0xff.
void fill_payload(uint8_t* data, size_t size, const std::vector<uint8_t>& pattern = {});
// Index of the first byte (from 16 on, the timestamp is skipped) that differs, or -1.
int check_payload(const uint8_t* data, size_t size, uint8_t& expected, uint8_t& got,
                  const std::vector<uint8_t>& pattern = {});

}  // namespace netshoot::applet::ping

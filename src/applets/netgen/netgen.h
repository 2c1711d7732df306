// netgen: a traffic generator with a built-in listener (seq numbers, send
// timestamps → loss, duplicates, reordering, one-way delay per sender), and a
// packet crafter (`netgen craft`, `hping3`) that matches replies to probes.
#pragma once

#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/packet.h"
#include "netshoot/result.h"

namespace netshoot::applet::netgen {

// ---- the message every generated packet carries --------------------------------------
// 32 bytes, big-endian, then the payload pattern up to the message size:
//   0 magic "NGEN" | 4 version (1) | 5 flags (0) | 6 header length (32)
//   8 sender id | 12 total length | 16 sequence (u64) | 24 send time (ns, CLOCK_REALTIME)
inline constexpr uint32_t kMagic = 0x4e47454e;
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 32;
inline constexpr size_t kMaxMessage = 65507;  // the largest UDP payload over IPv4

struct MessageHeader {
  uint32_t sender = 0;
  uint32_t total_length = kHeaderSize;
  uint64_t seq = 0;
  int64_t sent_ns = 0;
};

// Writes header + pattern (repeated) up to `size` bytes (at least the header).
// Returns the length written, 0 when `out` is too small.
size_t encode_message(core::MutableBytes out, const MessageHeader& h, std::string_view pattern,
                      size_t size) noexcept;
// Only the header fields are rewritten (the pattern stays): the hot path.
void restamp_message(uint8_t* msg, uint64_t seq, int64_t sent_ns) noexcept;
// Parses the header; false when it is not a netgen message (magic, version, lengths).
// `data` may be one of several framed messages (TCP): total_length says how long.
bool decode_message(core::ConstBytes data, MessageHeader& out) noexcept;

// ---- per-sender accounting at the listener ---------------------------------------------
class SequenceTracker {
 public:
  enum class Verdict { in_order, reordered, duplicate };
  // seq as received; returns how it was counted.
  Verdict add(uint64_t seq) noexcept;

  uint64_t received() const noexcept { return unique_; }  // distinct sequence numbers
  uint64_t duplicates() const noexcept { return dups_; }
  uint64_t reordered() const noexcept { return reordered_; }
  // Sequence numbers between the lowest and highest seen that never arrived.
  uint64_t lost() const noexcept { return unique_ == 0 ? 0 : (max_ - min_ + 1) - unique_; }
  uint64_t first_seq() const noexcept { return min_; }
  uint64_t last_seq() const noexcept { return max_; }

 private:
  static constexpr uint64_t kWindow = 1u << 16;  // duplicates are detected this far back
  bool seen(uint64_t seq) const noexcept;
  void mark(uint64_t seq) noexcept;
  std::vector<uint64_t> bits_ = std::vector<uint64_t>(kWindow / 64);
  uint64_t unique_ = 0, dups_ = 0, reordered_ = 0;
  uint64_t min_ = 0, max_ = 0;
};

struct DelayStats {
  uint64_t count = 0;
  int64_t min_ns = 0, max_ns = 0;
  double sum_ns = 0;
  void add(int64_t ns) noexcept {
    if (count == 0 || ns < min_ns) min_ns = ns;
    if (count == 0 || ns > max_ns) max_ns = ns;
    sum_ns += double(ns);
    ++count;
  }
  double avg_ms() const noexcept { return count ? sum_ns / double(count) / 1e6 : 0; }
};

// ---- options ---------------------------------------------------------------------------
struct TrafficOptions {
  std::string host;           // empty: listen only
  uint16_t port = 0;
  bool tcp = false;
  bool listen = true;         // --no-listen: send only
  int family = 0;             // AF_UNSPEC, AF_INET, AF_INET6
  double interval_s = 10;
  std::optional<double> rate; // packets/s per target; infinity for --flood / --rate max
  uint64_t count = 0;         // per target, 0 = unlimited
  size_t size = 64;           // message bytes (UDP payload), >= kHeaderSize
  std::string pattern = "netgen ";
  double duration_s = 0;      // 0 = until Ctrl-C (or count done when send-only)
  double linger_s = 0;        // send-only: keep running this long after the last message
  bool quiet = false;
  bool verbose = false;       // a line per message even at high rates
};

enum class CraftMode { tcp, udp, icmp, rawip };

struct CraftOptions {
  bool hping = false;          // hping3 output
  bool nping = false;          // nping's output (the nping name): header, SENT/RCVD lines, footer
  std::vector<uint16_t> dst_ports;   // -p lists and ranges (nping/craft); probes go round-robin
  bool hide_sent = false;      // nping -H
  bool no_capture = false;     // nping -N: send only
  std::string interface;       // nping -e
  bool tcp_connect = false;    // nping --tcp-connect: connect() probes, no raw sockets
  std::string host;
  int family = 0;
  CraftMode mode = CraftMode::tcp;
  uint8_t ip_proto = 0;        // raw IP mode protocol (-H)
  std::string source;          // -a / --source-ip
  uint16_t dst_port = 0;
  std::optional<uint16_t> src_port;  // base source port (random when unset)
  bool keep_src_port = false;  // -k
  uint8_t tcp_flags = 0;
  bool flags_given = false;
  std::optional<uint32_t> tcp_seq, tcp_ack;
  uint16_t window = 64;        // hping3's default; craft: 1480 (nping's)
  uint8_t ttl = 64;
  uint8_t tos = 0;
  std::optional<uint16_t> ip_id;
  bool dont_fragment = false, more_fragments = false;
  uint16_t frag_offset = 0;    // bytes
  std::vector<uint8_t> payload;
  uint64_t count = 0;          // 0 = until Ctrl-C
  double interval_s = 1;
  bool flood = false;
  bool numeric = true;
  bool quiet = false;
  int verbose = 0;
  double wait_s = 1;           // after the last probe
};

// "SA", "S", "syn,ack", "SYN|ACK"; hping3's X / Y are ECE / CWR (craft also takes E / C).
core::Result<uint8_t> parse_tcp_flags(std::string_view s);
// hping3's order: R S A F P U X Y ("SA", "RA"); empty string when no flag is set.
std::string hping_flags(uint8_t flags);
// nping's order: F S R P A U E C ("SA", "RA", "PA").
std::string nping_flags(uint8_t flags);
// nping's port spec: "80", "80,443", "1-1024,3000" (0-65535), in the order given.
core::Result<std::vector<uint16_t>> parse_port_list(std::string_view spec);
// nping's <time>: seconds, or with a unit: 200ms, 1s, 0.5, 2m, 1h (>= 0).
core::Result<double> parse_nping_time(const std::string& what, const std::string& s);

// Each returns the options or a one-line error (the caller prints "NAME: error", exit 2).
// `help` is set for -h/--help.
core::Result<TrafficOptions> parse_traffic(const std::vector<std::string>& args, bool& help);
core::Result<CraftOptions> parse_craft(const std::vector<std::string>& args, bool& help);
core::Result<CraftOptions> parse_hping(const std::vector<std::string>& args, bool& help);
// The nping name: nping's flags (the craft set plus -H, -N, -e, -q/-v levels, --hop-limit ...);
// no mode given means ICMP echo, like nping run as root.
core::Result<CraftOptions> parse_nping(const std::vector<std::string>& args, bool& help);

// Payload bytes from a file (hping3 -E, craft --data-file), at most `max` bytes.
core::Result<std::vector<uint8_t>> read_payload_file(const std::string& path, size_t max);

std::string usage_netgen();
std::string usage_hping();
std::string usage_nping();

// Ctrl-C and SIGTERM set g_stop while a StopSignals lives; the senders and the
// listener poll it (and set it themselves to end early).
extern volatile sig_atomic_t g_stop;
class StopSignals {
 public:
  StopSignals();   // g_stop = 0, then SIGINT/SIGTERM set it
  ~StopSignals() { restore(); }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  void restore();  // the previous handlers again (idempotent)

 private:
  struct sigaction old_int_{}, old_term_{};
  bool active_ = false;
};

}  // namespace netshoot::applet::netgen

namespace netshoot { struct Context; }
namespace netshoot::applet::netgen {
int run_traffic(Context& ctx, const TrafficOptions& o);
int run_craft(Context& ctx, const CraftOptions& o);
int run_connect(Context& ctx, const CraftOptions& o);  // nping --tcp-connect
}  // namespace netshoot::applet::netgen

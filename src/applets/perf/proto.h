// perf: the iperf3 wire protocol as observed on the wire from iperf3 3.12 —
// the control connection's state bytes, the 37-byte cookie, the length-prefixed
// JSON parameter and result documents, the UDP stream handshake and the UDP
// payload header. Pure encoding/decoding (no sockets) so that unit tests and the
// fuzz harness reach all of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::applet::perf {

// One signed byte on the control connection.
enum State : int8_t {
  kTestStart = 1,
  kTestRunning = 2,
  kTestEnd = 4,
  kParamExchange = 9,
  kCreateStreams = 10,
  kServerTerminate = 11,
  kClientTerminate = 12,
  kExchangeResults = 13,
  kDisplayResults = 14,
  kIperfStart = 15,
  kIperfDone = 16,
  kAccessDenied = -1,
  kServerError = -2,
};
const char* state_name(int8_t s);

inline constexpr size_t kCookieSize = 37;  // 36 characters and a NUL
inline constexpr uint16_t kDefaultPort = 5201;
inline constexpr int kDefaultTcpLen = 128 * 1024;
inline constexpr uint32_t kMaxJsonLen = 16 * 1024 * 1024;  // refuse larger documents
// The UDP stream handshake: the client sends "9876", the server answers "6789".
inline constexpr std::string_view kUdpConnectMsg = "9876";
inline constexpr std::string_view kUdpConnectReply = "6789";
// What older iperf3 versions sent instead (the int 123456789 / 987654321 in host order).
inline constexpr uint32_t kUdpLegacyMsg = 123456789u;
inline constexpr uint32_t kUdpLegacyReply = 987654321u;

// 36 random characters from iperf3's alphabet (a-z, 2-7) and a NUL.
std::string make_cookie();
// A received cookie: exactly 37 bytes, NUL-terminated, printable before it.
bool valid_cookie(std::span<const uint8_t> bytes);

// The parameter document the client sends after PARAM_EXCHANGE.
struct TestParams {
  bool udp = false;            // "udp": true, else "tcp": true
  int omit = 0;                // -O seconds
  double time = 10;            // -t seconds (0 with -n/-k)
  uint64_t num = 0;            // -n bytes
  uint64_t blockcount = 0;     // -k blocks
  int parallel = 1;            // -P
  bool reverse = false;        // -R
  bool bidirectional = false;  // --bidir
  int len = kDefaultTcpLen;    // -l
  int window = 0;              // -w (0: not sent)
  uint64_t bandwidth = 0;      // -b bits/s (0: not sent / unlimited)
  int mss = 0;                 // -M
  bool nodelay = false;        // -N
  int tos = 0;                 // -S
  std::string congestion;      // -C
  std::string title;           // -T
  bool get_server_output = false;
  bool udp_counters_64bit = false;
  bool zerocopy = false;       // -Z (a sender-side option; sent for information)
  int pacing_timer = 1000;     // microseconds
  std::string client_version = "3.12";
};

std::string encode_params(const TestParams& p);
// Rejects what is not an object, the wrong types, and values out of range
// (parallel 1..128, len 1..128 MiB, time 0..86400).
core::Result<TestParams> decode_params(std::string_view json);

// Per-stream results of one side, exchanged after EXCHANGE_RESULTS.
struct StreamResult {
  int id = 1;
  uint64_t bytes = 0;
  int64_t retransmits = -1;   // -1: not known (sent as UINT64_MAX, as iperf3 does)
  double jitter = 0;          // seconds
  int64_t errors = 0;         // UDP: lost packets
  int64_t omitted_errors = 0;
  int64_t packets = 0;        // UDP
  int64_t omitted_packets = 0;
  double start_time = 0;
  double end_time = 0;
};

struct Results {
  double cpu_total = 0, cpu_user = 0, cpu_system = 0;  // percent
  int sender_has_retransmits = -1;  // 1, 0, or -1 (unknown)
  std::string congestion_used;
  std::vector<StreamResult> streams;
  std::string server_output_text;  // --get-server-output
};

std::string encode_results(const Results& r);
core::Result<Results> decode_results(std::string_view json);

// A length-prefixed JSON document on the control connection (4 bytes, network order).
std::string frame_json(std::string_view json);

// Incremental parser of what arrives on the control connection: state bytes
// and length-prefixed JSON documents, pulled by the caller who knows which one
// comes next.
class ControlReader {
 public:
  void feed(std::span<const uint8_t> bytes);
  // The next state byte, if one is buffered.
  std::optional<int8_t> take_state();
  // A complete JSON document, nullopt if incomplete; an error if the announced
  // length is 0 or above kMaxJsonLen.
  core::Result<std::optional<std::string>> take_json();
  // SERVER_ERROR is followed by two 32-bit values: iperf3's error number and errno.
  std::optional<std::pair<int32_t, int32_t>> take_error_codes();
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  void compact();
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
};

// The UDP payload header: sec, usec (sender's clock), packet number (32 or 64 bit).
struct UdpHeader {
  uint32_t sec = 0;
  uint32_t usec = 0;
  uint64_t seq = 0;
};
inline constexpr size_t udp_header_size(bool counters64) { return counters64 ? 16 : 12; }
// Writes the header into the start of `out` (which must hold udp_header_size bytes).
void write_udp_header(std::span<uint8_t> out, const UdpHeader& h, bool counters64);
std::optional<UdpHeader> parse_udp_header(std::span<const uint8_t> in, bool counters64);

// Receiver-side UDP statistics as iperf3 computes them: jitter per RFC 1889
// (smoothed |D| with gain 1/16), lost = gaps in the packet numbers minus late
// arrivals, out-of-order = packets numbered below the next expected one.
struct UdpRecvStats {
  int64_t packet_count = 0;    // highest packet number seen
  int64_t lost = 0;            // cnt_error
  int64_t out_of_order = 0;
  double jitter = 0;           // seconds
  double prev_transit = 0;
  bool have_transit = false;
  // One datagram: its header and our arrival time (seconds, same epoch kind as the sender's).
  void on_packet(const UdpHeader& h, double arrival);
};

// "1.60 GBytes" / " 754 MBytes" / "13.7 Gbits": iperf3's adaptive units (bytes:
// 1024-based, bits: 1000-based), 4 significant characters.
std::string format_bytes(double bytes);
std::string format_bits(double bits_per_sec);

// Parses -b/-w/-l/-n style numbers with K/M/G/T suffixes (1024-based for sizes,
// 1000-based for rates, as iperf3). Returns nullopt on nonsense.
std::optional<double> parse_size(std::string_view s, bool rate);

}  // namespace netshoot::applet::perf

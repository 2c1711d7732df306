// monitor flows / iftop: the accounting behind the view. Captured frames are
// counted per address pair (and port pair) in 2-second slots over the last 40 s,
// the way iftop 1.0 does it: averages over the last 2 s, 10 s and 40 s, cumulative
// totals, and the peak 2-second rate. No I/O here; the capture loop feeds frames
// and calls tick() every 2 s.
//
// Direction ("=>" sent / "<=" received), iftop's rule: a frame whose source MAC is
// the interface's is leaving, one addressed to the interface's MAC (or broadcast)
// is entering; (cooked captures: the kernel's packet type says it). Otherwise the
// IP layer decides: a source address of the interface means sent, a destination
// address of it means received. Traffic between two other hosts is ordered by
// address and counted as received.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace netshoot::applet::monitor::flows {

inline constexpr int kResolution = 2;        // seconds per history slot
inline constexpr int kHistoryLength = 20;    // slots kept: 40 s
inline constexpr int kDivisions = 3;         // the 2 s, 10 s and 40 s columns
inline constexpr int kHistoryDivs[kDivisions] = {1, 5, 20};

// One side of a pair is `src` (the side whose traffic is "sent"), the other `dst`.
struct FlowKey {
  std::array<uint8_t, 16> src{}, dst{};
  uint16_t src_port = 0, dst_port = 0;
  uint8_t family = 0;  // 4 or 6
  uint8_t proto = 0;   // IP protocol (0 once ports are aggregated away)
  bool operator==(const FlowKey& o) const noexcept;
};
struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const noexcept;
};

// What the interface is: its MAC (when it has one) and its addresses.
struct LocalAddrs {
  std::optional<std::array<uint8_t, 6>> mac;
  std::vector<std::array<uint8_t, 4>> v4;
  std::vector<std::array<uint8_t, 16>> v6;
  bool has_v4(const uint8_t* a) const noexcept;
  bool has_v6(const uint8_t* a) const noexcept;
};

struct History {
  uint64_t sent[kHistoryLength] = {}, recv[kHistoryLength] = {};
  uint64_t total_sent = 0, total_recv = 0;
  int last_write = 0;
};

enum class SortBy { two, ten, forty, source, destination };

// One line pair of the report: rates in bytes per second.
struct Line {
  FlowKey key;
  double sent[kDivisions] = {}, recv[kDivisions] = {};
  uint64_t total_sent = 0, total_recv = 0;
};

struct Report {
  std::vector<Line> lines;                                 // top talkers first
  double sent[kDivisions] = {}, recv[kDivisions] = {};     // totals, bytes/s
  double peak_sent = 0, peak_recv = 0, peak_total = 0;     // best 2 s slot in 40 s, bytes/s
  uint64_t cum_sent = 0, cum_recv = 0;                     // bytes since start
};

struct ReportOptions {
  bool ports = false;        // -P: one line per port pair
  SortBy sort = SortBy::ten;  // iftop's default: the 10 s column
};

class FlowTable {
 public:
  FlowTable(LocalAddrs local, int linktype);

  // Accounts one captured frame of the table's link type. False when the frame
  // carries no IP packet the table can read (it is ignored).
  bool add_frame(const uint8_t* data, size_t caplen) noexcept;
  // Accounts one IP packet; hw_dir: 1 leaving the interface, 0 entering, -1 unknown.
  bool add_ip(const uint8_t* ip, size_t caplen, int hw_dir) noexcept;

  // The report as of now (the current slot counts as the latest 2 s).
  Report analyse(const ReportOptions& opts) const;
  // Closes the current slot: call every kResolution seconds, after analyse().
  void rotate();

  // iftop leaves IPv6 link-local traffic (fe80::/10 either end) out unless -l.
  void set_count_link_local(bool on) noexcept { link_local_ = on; }

  uint64_t packets() const noexcept { return packets_; }
  size_t flow_count() const noexcept { return history_.size(); }
  int linktype() const noexcept { return linktype_; }

 private:
  void account(const FlowKey& key, bool packet_src_is_key_src, bool outgoing, uint64_t len) noexcept;

  LocalAddrs local_;
  int linktype_;
  std::unordered_map<FlowKey, History, FlowKeyHash> history_;
  History totals_;
  int pos_ = 0;
  int len_ = 1;  // slots of history so far (1..kHistoryLength)
  uint64_t packets_ = 0;
  bool link_local_ = false;
  FlowKey last_key_{};
  History* last_ = nullptr;  // one-entry cache: bulk flows hit the same pair
};

// Orders lines as analyse() does: by the chosen column (then the longer ones, then
// the cumulative total), or by address.
void sort_lines(std::vector<Line>& lines, SortBy sort);

// iftop's readable_size: "19.4Mb", "  592b", "13.2MB" (binary multiples, 1024).
// `bytes` false: n (bytes) is shown in bits.
std::string readable_size(double n, bool bytes);

// "10.0.0.1", "[2001:db8::1]:443" style host column of iftop's -t output, L wide.
std::string host_column(const std::string& host, uint16_t port, const std::string& service, bool v6, size_t width);

}  // namespace netshoot::applet::monitor::flows

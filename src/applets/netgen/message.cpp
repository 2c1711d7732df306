// The netgen message format, the listener's per-sender sequence accounting, and
// TCP flag strings.
#include <algorithm>
#include <cctype>
#include <string>

#include "netgen.h"

namespace netshoot::applet::netgen {

using core::load_be16;
using core::load_be32;
using core::store_be16;
using core::store_be32;

namespace {
void store_be64(uint8_t* p, uint64_t v) noexcept {
  store_be32(p, uint32_t(v >> 32));
  store_be32(p + 4, uint32_t(v));
}
uint64_t load_be64(const uint8_t* p) noexcept { return uint64_t(load_be32(p)) << 32 | load_be32(p + 4); }
}  // namespace

size_t encode_message(core::MutableBytes out, const MessageHeader& h, std::string_view pattern,
                      size_t size) noexcept {
  size = std::max(size, kHeaderSize);
  if (out.size() < size || size > 0xffffffffu) return 0;
  uint8_t* p = out.data();
  store_be32(p, kMagic);
  p[4] = kVersion;
  p[5] = 0;
  store_be16(p + 6, uint16_t(kHeaderSize));
  store_be32(p + 8, h.sender);
  store_be32(p + 12, uint32_t(size));
  store_be64(p + 16, h.seq);
  store_be64(p + 24, uint64_t(h.sent_ns));
  for (size_t i = kHeaderSize; i < size; ++i)
    p[i] = pattern.empty() ? uint8_t(0) : uint8_t(pattern[(i - kHeaderSize) % pattern.size()]);
  return size;
}

void restamp_message(uint8_t* msg, uint64_t seq, int64_t sent_ns) noexcept {
  store_be64(msg + 16, seq);
  store_be64(msg + 24, uint64_t(sent_ns));
}

bool decode_message(core::ConstBytes data, MessageHeader& out) noexcept {
  if (data.size() < kHeaderSize) return false;
  const uint8_t* p = data.data();
  if (load_be32(p) != kMagic || p[4] != kVersion || load_be16(p + 6) != kHeaderSize) return false;
  uint32_t total = load_be32(p + 12);
  if (total < kHeaderSize || total > kMaxMessage) return false;
  out.sender = load_be32(p + 8);
  out.total_length = total;
  out.seq = load_be64(p + 16);
  out.sent_ns = int64_t(load_be64(p + 24));
  return true;
}

// ---- SequenceTracker ---------------------------------------------------------------------

bool SequenceTracker::seen(uint64_t seq) const noexcept {
  uint64_t i = seq % kWindow;
  return bits_[i / 64] >> (i % 64) & 1;
}
void SequenceTracker::mark(uint64_t seq) noexcept {
  uint64_t i = seq % kWindow;
  bits_[i / 64] |= uint64_t(1) << (i % 64);
}

SequenceTracker::Verdict SequenceTracker::add(uint64_t seq) noexcept {
  if (unique_ == 0) {
    min_ = max_ = seq;
    unique_ = 1;
    mark(seq);
    return Verdict::in_order;
  }
  if (seq > max_) {
    // Forget the slots that the window slides over.
    uint64_t steps = seq - max_;
    if (steps >= kWindow) {
      std::fill(bits_.begin(), bits_.end(), 0);
    } else {
      for (uint64_t s = max_ + 1; s <= seq; ++s) {
        uint64_t i = s % kWindow;
        bits_[i / 64] &= ~(uint64_t(1) << (i % 64));
      }
    }
    max_ = seq;
    mark(seq);
    ++unique_;
    return Verdict::in_order;
  }
  // At or below the highest seen: a duplicate, or a late (reordered) arrival.
  bool in_window = max_ - seq < kWindow;
  if (in_window && seen(seq)) {
    ++dups_;
    return Verdict::duplicate;
  }
  if (seq < min_) {
    // Older than anything seen (the listener started late, or it was overtaken).
    min_ = seq;
  }
  if (in_window) mark(seq);
  ++unique_;
  ++reordered_;
  return Verdict::reordered;
}

// ---- TCP flags -----------------------------------------------------------------------------

core::Result<uint8_t> parse_tcp_flags(std::string_view s) {
  using namespace core::tcpflag;
  uint8_t f = 0;
  auto bad = [&](std::string what) {
    return core::make_error("bad TCP flags \"" + std::string(s) + "\": " + what +
                            " (letters F S R P A U E/X C/Y, or names fin,syn,rst,psh,ack,urg,ece,cwr)");
  };
  if (s.empty()) return bad("empty");
  bool names = s.find_first_of(",|") != std::string_view::npos || (s.size() > 3 && std::islower(uint8_t(s[0])));
  std::string lower;
  for (char c : s) lower += char(std::tolower(uint8_t(c)));
  if (lower == "none" || lower == "0") return uint8_t(0);
  if (lower == "all") return uint8_t(0xff);
  if (names || lower == "syn" || lower == "ack" || lower == "fin" || lower == "rst" || lower == "psh" ||
      lower == "urg" || lower == "ece" || lower == "cwr") {
    size_t pos = 0;
    while (pos <= lower.size()) {
      size_t end = lower.find_first_of(",|", pos);
      if (end == std::string::npos) end = lower.size();
      std::string n = lower.substr(pos, end - pos);
      if (n == "fin") f |= fin;
      else if (n == "syn") f |= syn;
      else if (n == "rst") f |= rst;
      else if (n == "psh" || n == "push") f |= psh;
      else if (n == "ack") f |= ack;
      else if (n == "urg") f |= urg;
      else if (n == "ece") f |= ece;
      else if (n == "cwr") f |= cwr;
      else return bad("unknown flag name '" + n + "'");
      pos = end + 1;
    }
    return f;
  }
  for (char c : s) {
    switch (std::toupper(uint8_t(c))) {
      case 'F': f |= fin; break;
      case 'S': f |= syn; break;
      case 'R': f |= rst; break;
      case 'P': f |= psh; break;
      case 'A': f |= ack; break;
      case 'U': f |= urg; break;
      case 'E': case 'X': f |= ece; break;
      case 'C': case 'Y': f |= cwr; break;
      default: return bad(std::string("unknown flag letter '") + c + "'");
    }
  }
  return f;
}

std::string hping_flags(uint8_t f) {
  using namespace core::tcpflag;
  std::string s;
  if (f & rst) s += 'R';
  if (f & syn) s += 'S';
  if (f & ack) s += 'A';
  if (f & fin) s += 'F';
  if (f & psh) s += 'P';
  if (f & urg) s += 'U';
  if (f & ece) s += 'X';
  if (f & cwr) s += 'Y';
  return s;
}

}  // namespace netshoot::applet::netgen

namespace netshoot::applet::netgen {

std::string nping_flags(uint8_t f) {
  static const char letters[] = "FSRPAUEC";  // bit 0 (FIN) up to bit 7 (CWR)
  std::string s;
  for (int b = 0; b < 8; ++b)
    if (f & (1u << b)) s += letters[b];
  return s;
}

}  // namespace netshoot::applet::netgen

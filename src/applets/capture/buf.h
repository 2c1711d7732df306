// A growable output buffer with allocation-free formatting helpers for the
// per-packet hot path (no fmt/printf per field).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace netshoot::applet::capture {

class Buf {
 public:
  Buf() { v_.resize(1 << 20); }
  const char* data() const { return v_.data(); }
  size_t size() const { return n_; }
  void clear() { n_ = 0; }
  void truncate(size_t n) { if (n < n_) n_ = n; }
  std::string_view view() const { return {v_.data(), n_}; }
  std::string_view view_from(size_t off) const { return {v_.data() + off, n_ - off}; }

  char* reserve(size_t k) {
    if (n_ + k > v_.size()) v_.resize((n_ + k) * 2);
    return v_.data() + n_;
  }
  void commit(size_t k) { n_ += k; }
  void put(char c) { *reserve(1) = c, ++n_; }
  void put(std::string_view s) {
    std::memcpy(reserve(s.size()), s.data(), s.size());
    n_ += s.size();
  }
  void spaces(size_t k) {
    std::memset(reserve(k), ' ', k);
    n_ += k;
  }
  void u(uint64_t v) {
    char tmp[20];
    int i = 20;
    do tmp[--i] = char('0' + v % 10), v /= 10; while (v);
    put(std::string_view(tmp + i, size_t(20 - i)));
  }
  void i(int64_t v) {
    if (v < 0) put('-'), v = -v;
    u(uint64_t(v));
  }
  // Zero-padded decimal of a fixed width.
  void u_pad(uint64_t v, int width) {
    char* p = reserve(size_t(width));
    for (int k = width - 1; k >= 0; --k) p[k] = char('0' + v % 10), v /= 10;
    n_ += size_t(width);
  }
  // Lowercase hex without leading zeros ("%x").
  void hex(uint64_t v) {
    char tmp[16];
    int i = 16;
    do tmp[--i] = kHex[v & 15], v >>= 4; while (v);
    put(std::string_view(tmp + i, size_t(16 - i)));
  }
  // Lowercase hex, fixed width ("%0Nx").
  void hex_pad(uint64_t v, int width) {
    char* p = reserve(size_t(width));
    for (int k = width - 1; k >= 0; --k) p[k] = kHex[v & 15], v >>= 4;
    n_ += size_t(width);
  }
  void byte_hex(uint8_t b) {
    char* p = reserve(2);
    p[0] = kHex[b >> 4], p[1] = kHex[b & 15];
    n_ += 2;
  }
  void ip4(const uint8_t* a) {
    for (int k = 0; k < 4; ++k) {
      if (k) put('.');
      u(a[k]);
    }
  }
  void ip6(const uint8_t* a);  // RFC 5952 text
  void mac(const uint8_t* a) {
    char* p = reserve(17);
    for (int k = 0; k < 6; ++k) {
      p[k * 3] = kHex[a[k] >> 4], p[k * 3 + 1] = kHex[a[k] & 15];
      if (k < 5) p[k * 3 + 2] = ':';
    }
    n_ += 17;
  }

  static constexpr char kHex[] = "0123456789abcdef";

 private:
  std::vector<char> v_;
  size_t n_ = 0;
};

}  // namespace netshoot::applet::capture

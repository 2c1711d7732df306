// Internals shared by dns.cpp and dns_rdata.cpp: a bounds-checked reader and a
// writer with name compression. Not a public header.
#pragma once

#include <map>
#include <string>

#include "netshoot/dns.h"

namespace netshoot::core::dns::detail {

Error malformed(std::string_view what, size_t offset);

// Reads names (with decompression) out of a whole message.
// Returns the presentation name and advances `pos` past the name's in-place bytes.
Result<std::string> read_name(std::span<const uint8_t> msg, size_t& pos, size_t limit);

class Reader {
 public:
  Reader(std::span<const uint8_t> msg, size_t pos, size_t end) : msg_(msg), pos_(pos), end_(end) {}
  size_t pos() const { return pos_; }
  size_t remaining() const { return end_ - pos_; }
  bool at_end() const { return pos_ >= end_; }

  bool u8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = msg_[pos_++];
    return true;
  }
  bool u16(uint16_t& v) {
    if (remaining() < 2) return false;
    v = static_cast<uint16_t>(msg_[pos_] << 8 | msg_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool u32(uint32_t& v) {
    if (remaining() < 4) return false;
    v = static_cast<uint32_t>(msg_[pos_]) << 24 | static_cast<uint32_t>(msg_[pos_ + 1]) << 16 |
        static_cast<uint32_t>(msg_[pos_ + 2]) << 8 | msg_[pos_ + 3];
    pos_ += 4;
    return true;
  }
  bool bytes(size_t n, std::vector<uint8_t>& out) {
    if (remaining() < n) return false;
    out.assign(msg_.begin() + pos_, msg_.begin() + pos_ + n);
    pos_ += n;
    return true;
  }
  bool rest(std::vector<uint8_t>& out) { return bytes(remaining(), out); }
  // <character-string>: length byte + bytes
  bool cstring(std::string& out) {
    uint8_t n;
    if (!u8(n) || remaining() < n) return false;
    out.assign(reinterpret_cast<const char*>(msg_.data()) + pos_, n);
    pos_ += n;
    return true;
  }
  Result<std::string> name() { return read_name(msg_, pos_, end_); }

 private:
  std::span<const uint8_t> msg_;
  size_t pos_, end_;
};

class Writer {
 public:
  explicit Writer(bool compress) : compress_(compress) {}
  std::vector<uint8_t>& buf() { return buf_; }
  size_t size() const { return buf_.size(); }
  void u8(uint8_t v) { buf_.push_back(v); }
  void u16(uint16_t v) {
    buf_.push_back(static_cast<uint8_t>(v >> 8));
    buf_.push_back(static_cast<uint8_t>(v));
  }
  void u32(uint32_t v) {
    u16(static_cast<uint16_t>(v >> 16));
    u16(static_cast<uint16_t>(v));
  }
  void bytes(std::span<const uint8_t> b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  void put16(size_t at, uint16_t v) {
    buf_[at] = static_cast<uint8_t>(v >> 8);
    buf_[at + 1] = static_cast<uint8_t>(v);
  }
  Status cstring(std::string_view s);
  // Writes a name, compressing against earlier names when allowed.
  Status name(std::string_view presentation, bool allow_compress = true);

 private:
  std::vector<uint8_t> buf_;
  bool compress_;
  std::map<std::string, uint16_t> suffixes_;  // lowercased wire suffix → offset
};

Status encode_rdata(Writer& w, const ResourceRecord& rr);

// Whole file as text; nullopt when it does not exist (ENOENT/ENOTDIR).
Result<std::optional<std::string>> read_text_file(const std::string& path);

}  // namespace netshoot::core::dns::detail

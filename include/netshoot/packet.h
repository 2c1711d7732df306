// Wire formats: a bounds-checked reader over untrusted bytes, zero-copy parse views
// for IPv4/IPv6/ICMP/ICMPv6/TCP/UDP, the internet checksum, and header builders for
// raw-socket probes.
//
// Hot-path rules: nothing here allocates or throws. Views point into the caller's
// buffer and are valid only as long as it is. Parsers report failure with a
// PacketError; they never read past the end of the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "netshoot/addr.h"

namespace netshoot::core {

using ConstBytes = std::span<const uint8_t>;
using MutableBytes = std::span<uint8_t>;

// ---------------------------------------------------------------------------------
// Byte access
// ---------------------------------------------------------------------------------

inline uint16_t load_be16(const uint8_t* p) noexcept { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) noexcept {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) noexcept { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
inline void store_be32(uint8_t* p, uint32_t v) noexcept {
  p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

// Sequential, bounds-checked reads. A failed read returns false, leaves the output
// and the position untouched.
class ByteReader {
 public:
  constexpr ByteReader() = default;
  constexpr ByteReader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  constexpr explicit ByteReader(ConstBytes b) : p_(b.data()), n_(b.size()) {}

  size_t size() const noexcept { return n_; }
  size_t offset() const noexcept { return off_; }
  size_t remaining() const noexcept { return n_ - off_; }
  bool empty() const noexcept { return off_ == n_; }
  bool has(size_t k) const noexcept { return k <= n_ - off_; }
  ConstBytes rest() const noexcept { return {p_ + off_, n_ - off_}; }

  bool u8(uint8_t& v) noexcept {
    if (!has(1)) return false;
    v = p_[off_++];
    return true;
  }
  bool u16be(uint16_t& v) noexcept {
    if (!has(2)) return false;
    v = load_be16(p_ + off_);
    off_ += 2;
    return true;
  }
  bool u32be(uint32_t& v) noexcept {
    if (!has(4)) return false;
    v = load_be32(p_ + off_);
    off_ += 4;
    return true;
  }
  bool skip(size_t k) noexcept {
    if (!has(k)) return false;
    off_ += k;
    return true;
  }
  bool bytes(size_t k, ConstBytes& out) noexcept {
    if (!has(k)) return false;
    out = {p_ + off_, k};
    off_ += k;
    return true;
  }
  bool copy(void* dst, size_t k) noexcept {
    if (!has(k)) return false;
    std::memcpy(dst, p_ + off_, k);
    off_ += k;
    return true;
  }
  // A reader over the next k bytes; advances this one past them.
  bool sub(size_t k, ByteReader& out) noexcept {
    if (!has(k)) return false;
    out = ByteReader(p_ + off_, k);
    off_ += k;
    return true;
  }
  bool peek_u8(uint8_t& v) const noexcept {
    if (!has(1)) return false;
    v = p_[off_];
    return true;
  }

 private:
  const uint8_t* p_ = nullptr;
  size_t n_ = 0;
  size_t off_ = 0;
};

// ---------------------------------------------------------------------------------
// Checksums (RFC 1071)
// ---------------------------------------------------------------------------------

// Partial ones'-complement sum of 16-bit big-endian words, folded to 16 bits. Chain
// calls by passing the previous result as `sum`; every chunk except the last must
// have even length. checksum_finish() gives the value to store in a header.
uint32_t checksum_partial(const void* data, size_t len, uint32_t sum = 0) noexcept;
inline uint32_t checksum_partial(ConstBytes b, uint32_t sum = 0) noexcept {
  return checksum_partial(b.data(), b.size(), sum);
}
inline uint16_t checksum_finish(uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}
inline uint16_t internet_checksum(ConstBytes b) noexcept { return checksum_finish(checksum_partial(b)); }
// Sum of the TCP/UDP/ICMPv6 pseudo-header (RFC 793 / RFC 8200 §8.1).
uint32_t pseudo_header_sum(const IpAddr& src, const IpAddr& dst, uint8_t protocol,
                           uint32_t l4_length) noexcept;
// RFC 1624 incremental update of a stored checksum when one 16-bit word changes.
uint16_t checksum_adjust(uint16_t checksum, uint16_t old_word, uint16_t new_word) noexcept;
uint16_t checksum_adjust32(uint16_t checksum, uint32_t old_value, uint32_t new_value) noexcept;

// ---------------------------------------------------------------------------------
// Parse results
// ---------------------------------------------------------------------------------

enum class PacketError : uint8_t {
  none = 0,
  truncated,       // input shorter than the header (or a declared length)
  bad_version,
  bad_header_length,
  bad_length,      // a length field inconsistent with the header
  bad_option,      // malformed options / extension header
  wrong_type,      // e.g. asking an ICMP view for an embedded packet of an echo
};
const char* to_string(PacketError e) noexcept;

namespace ipproto {
inline constexpr uint8_t hopopts = 0, icmp = 1, igmp = 2, tcp = 6, udp = 17, ipv6 = 41,
                         routing = 43, fragment = 44, gre = 47, esp = 50, ah = 51,
                         icmpv6 = 58, none = 59, dstopts = 60, sctp = 132, mobility = 135;
}

// ---------------------------------------------------------------------------------
// IPv4
// ---------------------------------------------------------------------------------

class Ipv4View {
 public:
  static constexpr size_t kMinHeader = 20;
  // Accepts input shorter than total_length (captures with a snap length, original
  // datagrams quoted in ICMP errors): payload() is then what is present and
  // payload_truncated() is true. The header itself must be complete.
  static PacketError parse(ConstBytes data, Ipv4View& out) noexcept;

  uint8_t version() const noexcept { return p_[0] >> 4; }
  size_t header_length() const noexcept { return hlen_; }
  uint8_t tos() const noexcept { return p_[1]; }
  uint8_t dscp() const noexcept { return p_[1] >> 2; }
  uint8_t ecn() const noexcept { return p_[1] & 3; }
  uint16_t total_length() const noexcept { return load_be16(p_ + 2); }
  uint16_t id() const noexcept { return load_be16(p_ + 4); }
  bool reserved_flag() const noexcept { return p_[6] & 0x80; }
  bool dont_fragment() const noexcept { return p_[6] & 0x40; }
  bool more_fragments() const noexcept { return p_[6] & 0x20; }
  uint16_t fragment_offset_units() const noexcept { return load_be16(p_ + 6) & 0x1fff; }
  uint32_t fragment_offset() const noexcept { return uint32_t(fragment_offset_units()) * 8; }  // bytes
  bool is_fragment() const noexcept { return more_fragments() || fragment_offset_units() != 0; }
  uint8_t ttl() const noexcept { return p_[8]; }
  uint8_t protocol() const noexcept { return p_[9]; }
  uint16_t checksum() const noexcept { return load_be16(p_ + 10); }
  bool checksum_ok() const noexcept;
  uint32_t src_host_order() const noexcept { return load_be32(p_ + 12); }
  uint32_t dst_host_order() const noexcept { return load_be32(p_ + 16); }
  IpAddr src() const noexcept { return IpAddr::v4(src_host_order()); }
  IpAddr dst() const noexcept { return IpAddr::v4(dst_host_order()); }
  ConstBytes header() const noexcept { return {p_, hlen_}; }
  ConstBytes options() const noexcept { return {p_ + kMinHeader, hlen_ - kMinHeader}; }
  ConstBytes payload() const noexcept { return payload_; }
  bool payload_truncated() const noexcept { return truncated_; }

 private:
  const uint8_t* p_ = nullptr;
  size_t hlen_ = 0;
  ConstBytes payload_;
  bool truncated_ = false;
};

// ---------------------------------------------------------------------------------
// IPv6 (fixed header + extension header walk)
// ---------------------------------------------------------------------------------

class Ipv6View {
 public:
  static constexpr size_t kHeader = 40;
  // Walks hop-by-hop, routing, fragment, destination options, AH (and mobility)
  // headers to the upper-layer protocol. ESP and "no next header" stop the walk.
  // Like Ipv4View, tolerates input shorter than the payload length, as long as
  // the extension headers themselves are present.
  static PacketError parse(ConstBytes data, Ipv6View& out) noexcept;

  uint8_t version() const noexcept { return p_[0] >> 4; }
  uint8_t traffic_class() const noexcept { return uint8_t((p_[0] & 0x0f) << 4 | p_[1] >> 4); }
  uint32_t flow_label() const noexcept { return (uint32_t(p_[1] & 0x0f) << 16) | load_be16(p_ + 2); }
  uint16_t payload_length() const noexcept { return load_be16(p_ + 4); }
  uint8_t next_header() const noexcept { return p_[6]; }  // first one, as in the fixed header
  uint8_t hop_limit() const noexcept { return p_[7]; }
  const uint8_t* src_bytes() const noexcept { return p_ + 8; }
  const uint8_t* dst_bytes() const noexcept { return p_ + 24; }
  IpAddr src() const noexcept { return IpAddr::from_bytes({p_ + 8, 16}); }
  IpAddr dst() const noexcept { return IpAddr::from_bytes({p_ + 24, 16}); }

  // After the extension-header walk:
  uint8_t upper_protocol() const noexcept { return upper_proto_; }
  size_t upper_offset() const noexcept { return upper_off_; }  // from the start of the IPv6 header
  ConstBytes payload() const noexcept { return payload_; }   // upper-layer bytes present
  bool payload_truncated() const noexcept { return truncated_; }
  uint8_t extension_count() const noexcept { return ext_count_; }
  bool has_fragment_header() const noexcept { return has_frag_; }
  uint16_t fragment_offset() const noexcept { return frag_off_; }  // bytes
  bool more_fragments() const noexcept { return frag_more_; }
  uint32_t fragment_id() const noexcept { return frag_id_; }
  // True when the upper layer cannot be parsed: a non-first fragment, or ESP.
  bool upper_layer_opaque() const noexcept {
    return (has_frag_ && frag_off_ != 0) || upper_proto_ == ipproto::esp || upper_proto_ == ipproto::none;
  }

 private:
  const uint8_t* p_ = nullptr;
  ConstBytes payload_;
  size_t upper_off_ = 0;
  uint32_t frag_id_ = 0;
  uint16_t frag_off_ = 0;
  uint8_t upper_proto_ = 0;
  uint8_t ext_count_ = 0;
  bool has_frag_ = false, frag_more_ = false, truncated_ = false;
};

// ---------------------------------------------------------------------------------
// ICMPv4
// ---------------------------------------------------------------------------------

namespace icmp4 {
inline constexpr uint8_t echo_reply = 0, dest_unreach = 3, source_quench = 4, redirect = 5,
                         echo_request = 8, router_advert = 9, router_solicit = 10,
                         time_exceeded = 11, param_problem = 12, timestamp = 13,
                         timestamp_reply = 14;
// dest_unreach codes
inline constexpr uint8_t net_unreach = 0, host_unreach = 1, proto_unreach = 2, port_unreach = 3,
                         frag_needed = 4, src_route_failed = 5, net_prohibited = 9,
                         host_prohibited = 10, admin_prohibited = 13;
}  // namespace icmp4

class IcmpView {
 public:
  static constexpr size_t kHeader = 8;
  static PacketError parse(ConstBytes data, IcmpView& out) noexcept;

  uint8_t type() const noexcept { return p_[0]; }
  uint8_t code() const noexcept { return p_[1]; }
  uint16_t checksum() const noexcept { return load_be16(p_ + 2); }
  bool checksum_ok() const noexcept { return internet_checksum(all_) == 0; }
  uint32_t rest_of_header() const noexcept { return load_be32(p_ + 4); }
  bool is_echo() const noexcept {
    return type() == icmp4::echo_request || type() == icmp4::echo_reply;
  }
  bool is_error() const noexcept;  // unreach, source quench, redirect, time exceeded, param problem
  uint16_t echo_id() const noexcept { return load_be16(p_ + 4); }
  uint16_t echo_seq() const noexcept { return load_be16(p_ + 6); }
  uint16_t next_hop_mtu() const noexcept { return load_be16(p_ + 6); }  // frag needed
  uint8_t pointer() const noexcept { return p_[4]; }                    // param problem
  IpAddr gateway() const noexcept { return IpAddr::v4(load_be32(p_ + 4)); }  // redirect
  // RFC 4884 length of the original datagram field in 32-bit words (0 = not used).
  uint8_t rfc4884_length() const noexcept { return p_[5]; }
  ConstBytes payload() const noexcept { return all_.subspan(kHeader); }  // after the 8 bytes
  ConstBytes bytes() const noexcept { return all_; }
  // For error messages: the quoted original datagram (usually truncated).
  PacketError embedded(Ipv4View& out) const noexcept;

 private:
  const uint8_t* p_ = nullptr;
  ConstBytes all_;
};

// ---------------------------------------------------------------------------------
// ICMPv6 (incl. NDP)
// ---------------------------------------------------------------------------------

namespace icmp6 {
inline constexpr uint8_t dest_unreach = 1, packet_too_big = 2, time_exceeded = 3,
                         param_problem = 4, echo_request = 128, echo_reply = 129,
                         mld_query = 130, mld_report = 131, mld_done = 132,
                         router_solicit = 133, router_advert = 134, neighbor_solicit = 135,
                         neighbor_advert = 136, redirect = 137, mld2_report = 143;
// dest_unreach codes
inline constexpr uint8_t no_route = 0, admin_prohibited = 1, beyond_scope = 2,
                         addr_unreach = 3, port_unreach = 4;
// NDP option types
inline constexpr uint8_t opt_source_lladdr = 1, opt_target_lladdr = 2, opt_prefix_info = 3,
                         opt_redirected = 4, opt_mtu = 5, opt_rdnss = 25;
}  // namespace icmp6

struct NdpOption {
  uint8_t type = 0;
  size_t length = 0;   // in bytes, including type and length
  ConstBytes data;     // after the 2-byte type/length
};

// Iterates NDP options (type, length in 8-octet units). A zero length or an
// option running past the end stops the iteration with error() == bad_option.
class NdpOptionIter {
 public:
  NdpOptionIter() = default;
  explicit NdpOptionIter(ConstBytes b) : r_(b) {}
  bool next(NdpOption& o) noexcept;
  PacketError error() const noexcept { return err_; }

 private:
  ByteReader r_;
  PacketError err_ = PacketError::none;
};

struct NdpPrefixInfo {
  uint8_t prefix_len = 0;
  bool on_link = false, autonomous = false;
  uint32_t valid_lifetime = 0, preferred_lifetime = 0;
  IpAddr prefix;
  static bool parse(const NdpOption& o, NdpPrefixInfo& out) noexcept;
};

class Icmpv6View {
 public:
  static constexpr size_t kHeader = 8;
  // Also checks the minimum length of NDP messages (RS 8, RA 16, NS/NA 24, redirect 40).
  static PacketError parse(ConstBytes data, Icmpv6View& out) noexcept;

  uint8_t type() const noexcept { return p_[0]; }
  uint8_t code() const noexcept { return p_[1]; }
  uint16_t checksum() const noexcept { return load_be16(p_ + 2); }
  bool checksum_ok(const IpAddr& src, const IpAddr& dst) const noexcept;
  bool is_error() const noexcept { return type() < 128; }
  bool is_echo() const noexcept {
    return type() == icmp6::echo_request || type() == icmp6::echo_reply;
  }
  uint16_t echo_id() const noexcept { return load_be16(p_ + 4); }
  uint16_t echo_seq() const noexcept { return load_be16(p_ + 6); }
  uint32_t mtu() const noexcept { return load_be32(p_ + 4); }      // packet too big
  uint32_t pointer() const noexcept { return load_be32(p_ + 4); }  // param problem
  ConstBytes payload() const noexcept { return all_.subspan(kHeader); }
  ConstBytes bytes() const noexcept { return all_; }
  PacketError embedded(Ipv6View& out) const noexcept;

  // NDP. target(): NS, NA and redirect. Flags: NA router/solicited/override.
  IpAddr target() const noexcept { return IpAddr::from_bytes({p_ + 8, 16}); }
  IpAddr redirect_destination() const noexcept { return IpAddr::from_bytes({p_ + 24, 16}); }
  bool na_router() const noexcept { return p_[4] & 0x80; }
  bool na_solicited() const noexcept { return p_[4] & 0x40; }
  bool na_override() const noexcept { return p_[4] & 0x20; }
  uint8_t ra_hop_limit() const noexcept { return p_[4]; }
  bool ra_managed() const noexcept { return p_[5] & 0x80; }
  bool ra_other() const noexcept { return p_[5] & 0x40; }
  uint16_t ra_router_lifetime() const noexcept { return load_be16(p_ + 6); }
  uint32_t ra_reachable_time() const noexcept { return load_be32(p_ + 8); }
  uint32_t ra_retrans_timer() const noexcept { return load_be32(p_ + 12); }
  // Options of an NDP message (empty iterator for other types).
  NdpOptionIter ndp_options() const noexcept;

 private:
  const uint8_t* p_ = nullptr;
  ConstBytes all_;
};

// ---------------------------------------------------------------------------------
// TCP
// ---------------------------------------------------------------------------------

namespace tcpflag {
inline constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20,
                         ece = 0x40, cwr = 0x80;
}
namespace tcpopt {
inline constexpr uint8_t eol = 0, nop = 1, mss = 2, wscale = 3, sack_permitted = 4, sack = 5,
                         timestamps = 8, mptcp = 30, fastopen = 34;
}

struct TcpOption {
  uint8_t kind = 0;
  uint8_t length = 0;  // total, incl. kind and length; 1 for eol/nop
  ConstBytes data;     // after kind/length
};

// Iterates raw TCP options; stops at EOL or the end. A malformed option (length < 2
// or past the end) stops the iteration with error() == bad_option.
class TcpOptionIter {
 public:
  TcpOptionIter() = default;
  explicit TcpOptionIter(ConstBytes b) : r_(b) {}
  bool next(TcpOption& o) noexcept;
  PacketError error() const noexcept { return err_; }

 private:
  ByteReader r_;
  PacketError err_ = PacketError::none;
};

struct SackBlock {
  uint32_t left = 0, right = 0;
};

// Decoded common options.
struct TcpOptions {
  uint16_t mss = 0;
  bool has_mss = false;
  uint8_t wscale = 0;
  bool has_wscale = false;
  bool sack_permitted = false;
  bool has_timestamps = false;
  uint32_t ts_val = 0, ts_ecr = 0;
  uint8_t sack_count = 0;
  SackBlock sack[4];
  PacketError error = PacketError::none;  // bad_option when malformed (fields parsed so far kept)

  static TcpOptions parse(ConstBytes options) noexcept;
};

class TcpView {
 public:
  static constexpr size_t kMinHeader = 20;
  static PacketError parse(ConstBytes data, TcpView& out) noexcept;
  // Only the first 8 bytes (ports, seq), as quoted in ICMP errors. header_length()
  // and the accessors past byte 8 must not be used on such a view.
  static PacketError parse_quoted(ConstBytes data, TcpView& out) noexcept;

  uint16_t src_port() const noexcept { return load_be16(p_); }
  uint16_t dst_port() const noexcept { return load_be16(p_ + 2); }
  uint32_t seq() const noexcept { return load_be32(p_ + 4); }
  uint32_t ack() const noexcept { return load_be32(p_ + 8); }
  size_t header_length() const noexcept { return hlen_; }
  uint8_t flags() const noexcept { return p_[13]; }
  bool ns_flag() const noexcept { return p_[12] & 1; }
  bool has(uint8_t flag_bits) const noexcept { return (p_[13] & flag_bits) == flag_bits; }
  uint16_t window() const noexcept { return load_be16(p_ + 14); }
  uint16_t checksum() const noexcept { return load_be16(p_ + 16); }
  uint16_t urgent_pointer() const noexcept { return load_be16(p_ + 18); }
  ConstBytes options_bytes() const noexcept { return {p_ + kMinHeader, hlen_ - kMinHeader}; }
  TcpOptionIter option_iter() const noexcept { return TcpOptionIter(options_bytes()); }
  TcpOptions options() const noexcept { return TcpOptions::parse(options_bytes()); }
  ConstBytes payload() const noexcept { return all_.subspan(hlen_); }
  ConstBytes bytes() const noexcept { return all_; }
  // Over the whole segment (which must be complete) with its pseudo-header.
  bool checksum_ok(const IpAddr& src, const IpAddr& dst) const noexcept;

 private:
  const uint8_t* p_ = nullptr;
  size_t hlen_ = 0;
  ConstBytes all_;
};

// tcpdump style, in bit order F S R P . (ack) U E W: SYN+ACK -> "S.", none -> "none".
// Returns the length written (NUL-terminated; 9 bytes always suffice).
size_t format_tcp_flags(uint8_t flags, char* out, size_t cap) noexcept;

// ---------------------------------------------------------------------------------
// UDP
// ---------------------------------------------------------------------------------

class UdpView {
 public:
  static constexpr size_t kHeader = 8;
  // payload() is bounded by the length field; input shorter than the length field
  // is accepted (payload_truncated()); a length field < 8 is bad_length.
  static PacketError parse(ConstBytes data, UdpView& out) noexcept;

  uint16_t src_port() const noexcept { return load_be16(p_); }
  uint16_t dst_port() const noexcept { return load_be16(p_ + 2); }
  uint16_t length() const noexcept { return load_be16(p_ + 4); }
  uint16_t checksum() const noexcept { return load_be16(p_ + 6); }
  ConstBytes payload() const noexcept { return payload_; }
  bool payload_truncated() const noexcept { return truncated_; }
  // A zero checksum (IPv4 only) counts as ok.
  bool checksum_ok(const IpAddr& src, const IpAddr& dst) const noexcept;

 private:
  const uint8_t* p_ = nullptr;
  ConstBytes payload_;
  bool truncated_ = false;
};

// ---------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------
// Each writer returns the number of bytes written (header + payload), or 0 when the
// buffer is too small or a field is invalid. Payload is copied after the header
// (memmove: it may already sit in `out` at its final place). Checksums are computed.

struct Ipv4Fields {
  IpAddr src, dst;
  uint8_t protocol = 0;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  bool reserved_flag = false;     // the "evil bit", for crafting
  uint16_t fragment_offset = 0;   // bytes, multiple of 8, < 65536
  ConstBytes options;             // raw, length multiple of 4, <= 40
  // 0: compute total length from the payload; otherwise write this value verbatim.
  uint16_t total_length_override = 0;
};
// Writes the header only (total length = header + payload_len).
size_t write_ipv4_header(MutableBytes out, const Ipv4Fields& f, size_t payload_len) noexcept;

struct Ipv6Fields {
  IpAddr src, dst;
  uint8_t next_header = 0;
  uint8_t hop_limit = 64;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;  // 20 bits
};
size_t write_ipv6_header(MutableBytes out, const Ipv6Fields& f, size_t payload_len) noexcept;
// IPv6 fragment extension header (8 bytes). offset in bytes, multiple of 8.
size_t write_ipv6_fragment_header(MutableBytes out, uint8_t next_header, uint16_t offset, bool more,
                                  uint32_t id) noexcept;

// ICMPv4: type, code, 32-bit rest-of-header (echo: id << 16 | seq), payload.
size_t write_icmp(MutableBytes out, uint8_t type, uint8_t code, uint32_t rest, ConstBytes payload) noexcept;
inline size_t write_icmp_echo(MutableBytes out, uint16_t id, uint16_t seq, ConstBytes payload,
                              bool reply = false) noexcept {
  return write_icmp(out, reply ? icmp4::echo_reply : icmp4::echo_request, 0,
                    uint32_t(id) << 16 | seq, payload);
}
// ICMPv6 with the pseudo-header checksum.
size_t write_icmpv6(MutableBytes out, const IpAddr& src, const IpAddr& dst, uint8_t type, uint8_t code,
                    uint32_t rest, ConstBytes payload) noexcept;
inline size_t write_icmpv6_echo(MutableBytes out, const IpAddr& src, const IpAddr& dst, uint16_t id,
                                uint16_t seq, ConstBytes payload, bool reply = false) noexcept {
  return write_icmpv6(out, src, dst, reply ? icmp6::echo_reply : icmp6::echo_request, 0,
                      uint32_t(id) << 16 | seq, payload);
}

struct TcpFields {
  uint16_t src_port = 0, dst_port = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t flags = tcpflag::syn;
  bool ns_flag = false;
  uint16_t window = 65535;
  uint16_t urgent_pointer = 0;
  ConstBytes options;  // raw; padded with NOP... EOL to a multiple of 4, <= 40
  bool bad_checksum = false;  // crafting: store a deliberately wrong checksum
};
// src/dst are needed for the pseudo-header.
size_t write_tcp(MutableBytes out, const IpAddr& src, const IpAddr& dst, const TcpFields& f,
                 ConstBytes payload) noexcept;

// Encodes common options in the order Linux uses for a SYN
// (MSS, SACK-permitted+timestamps or NOPs, NOP+wscale). Returns bytes written,
// always a multiple of 4, 0 if the buffer is too small. Unset fields are omitted.
struct TcpOptionSpec {
  uint16_t mss = 0;            // 0 = omit
  int wscale = -1;             // -1 = omit
  bool sack_permitted = false;
  bool timestamps = false;
  uint32_t ts_val = 0, ts_ecr = 0;
};
size_t write_tcp_options(MutableBytes out, const TcpOptionSpec& s) noexcept;

size_t write_udp(MutableBytes out, const IpAddr& src, const IpAddr& dst, uint16_t src_port,
                 uint16_t dst_port, ConstBytes payload) noexcept;

// Whole IP packets for raw sockets with IP_HDRINCL / IPv6 packet sockets.
// Family comes from ip.src. For IPv6, ttl/tos map to hop limit/traffic class and
// the fragment fields are ignored; ipv4 options are ignored.
struct IpFields {
  IpAddr src, dst;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;
  uint32_t flow_label = 0;
  ConstBytes ipv4_options;
};
size_t build_tcp_packet(MutableBytes out, const IpFields& ip, const TcpFields& tcp, ConstBytes payload) noexcept;
size_t build_udp_packet(MutableBytes out, const IpFields& ip, uint16_t src_port, uint16_t dst_port,
                        ConstBytes payload) noexcept;
// ICMP echo request (v4) or ICMPv6 echo request (v6).
size_t build_echo_packet(MutableBytes out, const IpFields& ip, uint16_t id, uint16_t seq,
                         ConstBytes payload) noexcept;

}  // namespace netshoot::core

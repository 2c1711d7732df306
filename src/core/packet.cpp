// Wire formats: checksums, parse views and header builders. No allocation here.
#include "netshoot/packet.h"

#include <bit>

namespace netshoot::core {

// ---- checksums ------------------------------------------------------------------

uint32_t checksum_partial(const void* data, size_t len, uint32_t sum) noexcept {
  const auto* p = static_cast<const uint8_t*>(data);
  // Sum native-order 64-bit words with end-around carry; the ones'-complement sum is
  // byte-order independent up to a final byte swap (RFC 1071 §2(B)).
  uint64_t acc = 0;
  while (len >= 32) {
    uint64_t w[4];
    std::memcpy(w, p, 32);
    for (uint64_t x : w) {
      acc += x;
      acc += (acc < x);
    }
    p += 32;
    len -= 32;
  }
  while (len >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc += w;
    acc += (acc < w);
    p += 8;
    len -= 8;
  }
  uint64_t tail = 0;
  if (len >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    tail += w;
    p += 4;
    len -= 4;
  }
  if (len >= 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    tail += w;
    p += 2;
    len -= 2;
  }
  if (len) {
    // The odd byte is the high-order byte of a zero-padded big-endian word.
    if constexpr (std::endian::native == std::endian::little) tail += p[0];
    else tail += uint64_t(p[0]) << 8;
  }
  acc += tail;
  acc += (acc < tail);
  // fold 64 -> 16
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  auto s16 = uint16_t(acc);
  if constexpr (std::endian::native == std::endian::little) s16 = uint16_t(s16 << 8 | s16 >> 8);
  uint32_t r = sum + s16;
  r = (r & 0xffff) + (r >> 16);
  r = (r & 0xffff) + (r >> 16);
  return r;
}

uint32_t pseudo_header_sum(const IpAddr& src, const IpAddr& dst, uint8_t protocol,
                           uint32_t l4_length) noexcept {
  uint32_t s = checksum_partial(src.data(), src.size());
  s = checksum_partial(dst.data(), dst.size(), s);
  uint64_t t = uint64_t(s) + protocol + (l4_length >> 16) + (l4_length & 0xffff);
  while (t >> 16) t = (t & 0xffff) + (t >> 16);
  return uint32_t(t);
}

uint16_t checksum_adjust(uint16_t checksum, uint16_t old_word, uint16_t new_word) noexcept {
  // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')
  uint32_t s = uint32_t(uint16_t(~checksum)) + uint16_t(~old_word) + new_word;
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return uint16_t(~s);
}

uint16_t checksum_adjust32(uint16_t checksum, uint32_t old_value, uint32_t new_value) noexcept {
  checksum = checksum_adjust(checksum, uint16_t(old_value >> 16), uint16_t(new_value >> 16));
  return checksum_adjust(checksum, uint16_t(old_value), uint16_t(new_value));
}

const char* to_string(PacketError e) noexcept {
  switch (e) {
    case PacketError::none: return "ok";
    case PacketError::truncated: return "truncated";
    case PacketError::bad_version: return "bad version";
    case PacketError::bad_header_length: return "bad header length";
    case PacketError::bad_length: return "bad length";
    case PacketError::bad_option: return "bad option";
    case PacketError::wrong_type: return "wrong type";
  }
  return "?";
}

// ---- IPv4 -----------------------------------------------------------------------

PacketError Ipv4View::parse(ConstBytes d, Ipv4View& out) noexcept {
  if (d.size() < kMinHeader) return PacketError::truncated;
  if (d[0] >> 4 != 4) return PacketError::bad_version;
  size_t hlen = size_t(d[0] & 0x0f) * 4;
  if (hlen < kMinHeader) return PacketError::bad_header_length;
  if (hlen > d.size()) return PacketError::truncated;
  size_t total = load_be16(d.data() + 2);
  if (total < hlen) return PacketError::bad_length;
  out.p_ = d.data();
  out.hlen_ = hlen;
  out.truncated_ = total > d.size();
  size_t end = out.truncated_ ? d.size() : total;
  out.payload_ = d.subspan(hlen, end - hlen);
  return PacketError::none;
}

bool Ipv4View::checksum_ok() const noexcept {
  return checksum_finish(checksum_partial(p_, hlen_)) == 0;
}

// ---- IPv6 -----------------------------------------------------------------------

PacketError Ipv6View::parse(ConstBytes d, Ipv6View& out) noexcept {
  if (d.size() < kHeader) return PacketError::truncated;
  if (d[0] >> 4 != 6) return PacketError::bad_version;
  const uint8_t* p = d.data();
  size_t plen = load_be16(p + 4);
  // A zero payload length (jumbogram, or a capture of a TSO super-packet): use
  // whatever is present.
  size_t end = plen == 0 ? d.size() : kHeader + plen;
  Ipv6View v;
  v.p_ = p;
  v.truncated_ = end > d.size();
  const size_t avail = v.truncated_ ? d.size() : end;
  auto need = [&](size_t off, size_t n) -> PacketError {
    if (off + n > end) return PacketError::bad_length;
    if (off + n > avail) return PacketError::truncated;
    return PacketError::none;
  };
  uint8_t nh = p[6];
  size_t off = kHeader;
  bool done = false;
  for (int guard = 0; !done && guard < 64; ++guard) {
    switch (nh) {
      case ipproto::hopopts:
      case ipproto::routing:
      case ipproto::dstopts:
      case ipproto::mobility: {
        if (nh == ipproto::hopopts && v.ext_count_ != 0) return PacketError::bad_option;
        if (auto e = need(off, 2); e != PacketError::none) return e;
        size_t len = (size_t(p[off + 1]) + 1) * 8;
        if (auto e = need(off, len); e != PacketError::none) return e;
        nh = p[off];
        off += len;
        ++v.ext_count_;
        break;
      }
      case ipproto::ah: {
        if (auto e = need(off, 2); e != PacketError::none) return e;
        size_t len = (size_t(p[off + 1]) + 2) * 4;
        if (auto e = need(off, len); e != PacketError::none) return e;
        nh = p[off];
        off += len;
        ++v.ext_count_;
        break;
      }
      case ipproto::fragment: {
        if (v.has_frag_) return PacketError::bad_option;
        if (auto e = need(off, 8); e != PacketError::none) return e;
        nh = p[off];
        uint16_t fo = load_be16(p + off + 2);
        v.has_frag_ = true;
        v.frag_off_ = uint16_t(fo & 0xfff8);
        v.frag_more_ = fo & 1;
        v.frag_id_ = load_be32(p + off + 4);
        off += 8;
        ++v.ext_count_;
        if (v.frag_off_ != 0) done = true;  // later fragment: no headers follow
        break;
      }
      default:
        done = true;
        break;
    }
  }
  if (!done) return PacketError::bad_option;
  v.upper_proto_ = nh;
  v.upper_off_ = off;
  v.payload_ = d.subspan(off, avail - off);
  out = v;
  return PacketError::none;
}

// ---- ICMPv4 ---------------------------------------------------------------------

PacketError IcmpView::parse(ConstBytes d, IcmpView& out) noexcept {
  if (d.size() < kHeader) return PacketError::truncated;
  out.p_ = d.data();
  out.all_ = d;
  return PacketError::none;
}

bool IcmpView::is_error() const noexcept {
  switch (type()) {
    case icmp4::dest_unreach:
    case icmp4::source_quench:
    case icmp4::redirect:
    case icmp4::time_exceeded:
    case icmp4::param_problem:
      return true;
    default:
      return false;
  }
}

PacketError IcmpView::embedded(Ipv4View& out) const noexcept {
  if (!is_error()) return PacketError::wrong_type;
  return Ipv4View::parse(payload(), out);
}

// ---- ICMPv6 ---------------------------------------------------------------------

namespace {
size_t ndp_fixed_length(uint8_t type) noexcept {
  switch (type) {
    case icmp6::router_solicit: return 8;
    case icmp6::router_advert: return 16;
    case icmp6::neighbor_solicit:
    case icmp6::neighbor_advert: return 24;
    case icmp6::redirect: return 40;
    default: return 0;
  }
}
}  // namespace

PacketError Icmpv6View::parse(ConstBytes d, Icmpv6View& out) noexcept {
  if (d.size() < kHeader) return PacketError::truncated;
  if (d.size() < ndp_fixed_length(d[0])) return PacketError::truncated;
  out.p_ = d.data();
  out.all_ = d;
  return PacketError::none;
}

bool Icmpv6View::checksum_ok(const IpAddr& src, const IpAddr& dst) const noexcept {
  uint32_t s = pseudo_header_sum(src, dst, ipproto::icmpv6, uint32_t(all_.size()));
  return checksum_finish(checksum_partial(all_, s)) == 0;
}

PacketError Icmpv6View::embedded(Ipv6View& out) const noexcept {
  if (!is_error()) return PacketError::wrong_type;
  return Ipv6View::parse(payload(), out);
}

NdpOptionIter Icmpv6View::ndp_options() const noexcept {
  size_t fixed = ndp_fixed_length(type());
  if (fixed == 0) return NdpOptionIter();
  return NdpOptionIter(all_.subspan(fixed));
}

bool NdpOptionIter::next(NdpOption& o) noexcept {
  if (err_ != PacketError::none || r_.empty()) return false;
  ConstBytes rest = r_.rest();
  if (rest.size() < 2 || rest[1] == 0 || size_t(rest[1]) * 8 > rest.size()) {
    err_ = PacketError::bad_option;
    return false;
  }
  size_t len = size_t(rest[1]) * 8;
  o.type = rest[0];
  o.length = len;
  o.data = rest.subspan(2, len - 2);
  r_.skip(len);
  return true;
}

bool NdpPrefixInfo::parse(const NdpOption& o, NdpPrefixInfo& out) noexcept {
  if (o.type != icmp6::opt_prefix_info || o.data.size() < 30) return false;
  const uint8_t* d = o.data.data();
  out.prefix_len = d[0];
  out.on_link = d[1] & 0x80;
  out.autonomous = d[1] & 0x40;
  out.valid_lifetime = load_be32(d + 2);
  out.preferred_lifetime = load_be32(d + 6);
  out.prefix = IpAddr::from_bytes({d + 14, 16});
  return true;
}

// ---- TCP ------------------------------------------------------------------------

PacketError TcpView::parse(ConstBytes d, TcpView& out) noexcept {
  if (d.size() < kMinHeader) return PacketError::truncated;
  size_t hlen = size_t(d[12] >> 4) * 4;
  if (hlen < kMinHeader) return PacketError::bad_header_length;
  if (hlen > d.size()) return PacketError::truncated;
  out.p_ = d.data();
  out.hlen_ = hlen;
  out.all_ = d;
  return PacketError::none;
}

PacketError TcpView::parse_quoted(ConstBytes d, TcpView& out) noexcept {
  if (d.size() < 8) return PacketError::truncated;
  out.p_ = d.data();
  out.hlen_ = 0;
  out.all_ = d;
  return PacketError::none;
}

bool TcpView::checksum_ok(const IpAddr& src, const IpAddr& dst) const noexcept {
  uint32_t s = pseudo_header_sum(src, dst, ipproto::tcp, uint32_t(all_.size()));
  return checksum_finish(checksum_partial(all_, s)) == 0;
}

bool TcpOptionIter::next(TcpOption& o) noexcept {
  if (err_ != PacketError::none) return false;
  uint8_t kind;
  if (!r_.peek_u8(kind) || kind == tcpopt::eol) return false;
  if (kind == tcpopt::nop) {
    r_.skip(1);
    o = TcpOption{kind, 1, {}};
    return true;
  }
  ConstBytes rest = r_.rest();
  if (rest.size() < 2 || rest[1] < 2 || rest[1] > rest.size()) {
    err_ = PacketError::bad_option;
    return false;
  }
  o.kind = kind;
  o.length = rest[1];
  o.data = rest.subspan(2, size_t(rest[1]) - 2);
  r_.skip(rest[1]);
  return true;
}

TcpOptions TcpOptions::parse(ConstBytes options) noexcept {
  TcpOptions t;
  TcpOptionIter it(options);
  TcpOption o;
  while (it.next(o)) {
    const uint8_t* d = o.data.data();
    switch (o.kind) {
      case tcpopt::mss:
        if (o.length != 4) { t.error = PacketError::bad_option; break; }
        t.mss = load_be16(d);
        t.has_mss = true;
        break;
      case tcpopt::wscale:
        if (o.length != 3) { t.error = PacketError::bad_option; break; }
        t.wscale = d[0];
        t.has_wscale = true;
        break;
      case tcpopt::sack_permitted:
        if (o.length != 2) { t.error = PacketError::bad_option; break; }
        t.sack_permitted = true;
        break;
      case tcpopt::timestamps:
        if (o.length != 10) { t.error = PacketError::bad_option; break; }
        t.has_timestamps = true;
        t.ts_val = load_be32(d);
        t.ts_ecr = load_be32(d + 4);
        break;
      case tcpopt::sack: {
        size_t n = o.data.size() / 8;
        if (o.data.size() % 8 != 0 || n == 0 || n > 4) { t.error = PacketError::bad_option; break; }
        for (size_t i = 0; i < n; ++i)
          t.sack[i] = SackBlock{load_be32(d + 8 * i), load_be32(d + 8 * i + 4)};
        t.sack_count = uint8_t(n);
        break;
      }
      default:
        break;
    }
  }
  if (it.error() != PacketError::none) t.error = it.error();
  return t;
}

size_t format_tcp_flags(uint8_t flags, char* out, size_t cap) noexcept {
  static constexpr char kChars[] = "FSRP.UEW";
  char buf[10];
  size_t n = 0;
  for (int i = 0; i < 8; ++i)
    if (flags & (1u << i)) buf[n++] = kChars[i];
  if (n == 0) std::memcpy(buf, "none", 4), n = 4;
  if (cap == 0) return 0;
  if (n > cap - 1) n = cap - 1;
  std::memcpy(out, buf, n);
  out[n] = '\0';
  return n;
}

// ---- UDP ------------------------------------------------------------------------

PacketError UdpView::parse(ConstBytes d, UdpView& out) noexcept {
  if (d.size() < kHeader) return PacketError::truncated;
  size_t len = load_be16(d.data() + 4);
  if (len < kHeader) return PacketError::bad_length;
  out.p_ = d.data();
  out.truncated_ = len > d.size();
  size_t end = out.truncated_ ? d.size() : len;
  out.payload_ = d.subspan(kHeader, end - kHeader);
  return PacketError::none;
}

bool UdpView::checksum_ok(const IpAddr& src, const IpAddr& dst) const noexcept {
  if (checksum() == 0) return src.is_v4();
  if (truncated_) return false;
  size_t len = length();
  uint32_t s = pseudo_header_sum(src, dst, ipproto::udp, uint32_t(len));
  return checksum_finish(checksum_partial(p_, len, s)) == 0;
}

// ---- builders -------------------------------------------------------------------

namespace {

// Places the payload at out[off..]; false if it does not fit.
bool place_payload(MutableBytes out, size_t off, ConstBytes payload) noexcept {
  if (off > out.size() || payload.size() > out.size() - off) return false;
  if (!payload.empty() && payload.data() != out.data() + off)
    std::memmove(out.data() + off, payload.data(), payload.size());
  return true;
}

}  // namespace

size_t write_ipv4_header(MutableBytes out, const Ipv4Fields& f, size_t payload_len) noexcept {
  if (!f.src.is_v4() || !f.dst.is_v4()) return 0;
  if (f.options.size() % 4 != 0 || f.options.size() > 40) return 0;
  if (f.fragment_offset % 8 != 0) return 0;
  size_t hlen = 20 + f.options.size();
  if (out.size() < hlen || hlen + payload_len > 65535) return 0;
  uint8_t* p = out.data();
  p[0] = uint8_t(0x40 | hlen / 4);
  p[1] = f.tos;
  store_be16(p + 2, f.total_length_override ? f.total_length_override : uint16_t(hlen + payload_len));
  store_be16(p + 4, f.id);
  uint16_t frag = uint16_t(f.fragment_offset / 8);
  if (f.reserved_flag) frag |= 0x8000;
  if (f.dont_fragment) frag |= 0x4000;
  if (f.more_fragments) frag |= 0x2000;
  store_be16(p + 6, frag);
  p[8] = f.ttl;
  p[9] = f.protocol;
  store_be16(p + 10, 0);
  std::memcpy(p + 12, f.src.data(), 4);
  std::memcpy(p + 16, f.dst.data(), 4);
  if (!f.options.empty()) std::memcpy(p + 20, f.options.data(), f.options.size());
  store_be16(p + 10, internet_checksum({p, hlen}));
  return hlen;
}

size_t write_ipv6_header(MutableBytes out, const Ipv6Fields& f, size_t payload_len) noexcept {
  if (!f.src.is_v6() || !f.dst.is_v6()) return 0;
  if (out.size() < Ipv6View::kHeader || payload_len > 65535) return 0;
  uint8_t* p = out.data();
  uint32_t w = 6u << 28 | uint32_t(f.traffic_class) << 20 | (f.flow_label & 0xfffff);
  store_be32(p, w);
  store_be16(p + 4, uint16_t(payload_len));
  p[6] = f.next_header;
  p[7] = f.hop_limit;
  std::memcpy(p + 8, f.src.data(), 16);
  std::memcpy(p + 24, f.dst.data(), 16);
  return Ipv6View::kHeader;
}

size_t write_ipv6_fragment_header(MutableBytes out, uint8_t next_header, uint16_t offset, bool more,
                                  uint32_t id) noexcept {
  if (out.size() < 8 || offset % 8 != 0) return 0;
  uint8_t* p = out.data();
  p[0] = next_header;
  p[1] = 0;
  store_be16(p + 2, uint16_t(offset | (more ? 1 : 0)));
  store_be32(p + 4, id);
  return 8;
}

size_t write_icmp(MutableBytes out, uint8_t type, uint8_t code, uint32_t rest, ConstBytes payload) noexcept {
  if (!place_payload(out, IcmpView::kHeader, payload)) return 0;
  uint8_t* p = out.data();
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be32(p + 4, rest);
  size_t n = IcmpView::kHeader + payload.size();
  store_be16(p + 2, internet_checksum({p, n}));
  return n;
}

size_t write_icmpv6(MutableBytes out, const IpAddr& src, const IpAddr& dst, uint8_t type, uint8_t code,
                    uint32_t rest, ConstBytes payload) noexcept {
  if (!place_payload(out, Icmpv6View::kHeader, payload)) return 0;
  uint8_t* p = out.data();
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be32(p + 4, rest);
  size_t n = Icmpv6View::kHeader + payload.size();
  uint32_t s = pseudo_header_sum(src, dst, ipproto::icmpv6, uint32_t(n));
  store_be16(p + 2, checksum_finish(checksum_partial(p, n, s)));
  return n;
}

size_t write_tcp(MutableBytes out, const IpAddr& src, const IpAddr& dst, const TcpFields& f,
                 ConstBytes payload) noexcept {
  size_t olen = (f.options.size() + 3) & ~size_t(3);
  if (olen > 40) return 0;
  size_t hlen = TcpView::kMinHeader + olen;
  size_t total = hlen + payload.size();
  if (total > 65535 || !place_payload(out, hlen, payload)) return 0;
  uint8_t* p = out.data();
  store_be16(p, f.src_port);
  store_be16(p + 2, f.dst_port);
  store_be32(p + 4, f.seq);
  store_be32(p + 8, f.ack);
  p[12] = uint8_t(hlen / 4 << 4 | (f.ns_flag ? 1 : 0));
  p[13] = f.flags;
  store_be16(p + 14, f.window);
  store_be16(p + 16, 0);
  store_be16(p + 18, f.urgent_pointer);
  if (!f.options.empty()) std::memcpy(p + 20, f.options.data(), f.options.size());
  std::memset(p + 20 + f.options.size(), tcpopt::eol, olen - f.options.size());
  uint32_t s = pseudo_header_sum(src, dst, ipproto::tcp, uint32_t(total));
  uint16_t c = checksum_finish(checksum_partial(p, total, s));
  if (f.bad_checksum) c ^= 0x5a5a;
  store_be16(p + 16, c);
  return total;
}

size_t write_tcp_options(MutableBytes out, const TcpOptionSpec& s) noexcept {
  uint8_t buf[40];
  size_t n = 0;
  if (s.mss) {
    buf[n++] = tcpopt::mss;
    buf[n++] = 4;
    store_be16(buf + n, s.mss);
    n += 2;
  }
  if (s.sack_permitted && s.timestamps) {
    buf[n++] = tcpopt::sack_permitted;
    buf[n++] = 2;
  } else if (s.sack_permitted) {
    buf[n++] = tcpopt::nop;
    buf[n++] = tcpopt::nop;
    buf[n++] = tcpopt::sack_permitted;
    buf[n++] = 2;
  } else if (s.timestamps) {
    buf[n++] = tcpopt::nop;
    buf[n++] = tcpopt::nop;
  }
  if (s.timestamps) {
    buf[n++] = tcpopt::timestamps;
    buf[n++] = 10;
    store_be32(buf + n, s.ts_val);
    store_be32(buf + n + 4, s.ts_ecr);
    n += 8;
  }
  if (s.wscale >= 0) {
    buf[n++] = tcpopt::nop;
    buf[n++] = tcpopt::wscale;
    buf[n++] = 3;
    buf[n++] = uint8_t(s.wscale);
  }
  while (n % 4) buf[n++] = tcpopt::eol;
  if (out.size() < n) return 0;
  std::memcpy(out.data(), buf, n);
  return n;
}

size_t write_udp(MutableBytes out, const IpAddr& src, const IpAddr& dst, uint16_t src_port,
                 uint16_t dst_port, ConstBytes payload) noexcept {
  size_t total = UdpView::kHeader + payload.size();
  if (total > 65535 || !place_payload(out, UdpView::kHeader, payload)) return 0;
  uint8_t* p = out.data();
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be16(p + 4, uint16_t(total));
  store_be16(p + 6, 0);
  uint32_t s = pseudo_header_sum(src, dst, ipproto::udp, uint32_t(total));
  uint16_t c = checksum_finish(checksum_partial(p, total, s));
  store_be16(p + 6, c == 0 ? 0xffff : c);
  return total;
}

namespace {

size_t ip_header_len(const IpFields& ip) noexcept {
  return ip.src.is_v4() ? 20 + ip.ipv4_options.size() : Ipv6View::kHeader;
}

// Writes the IP header in front of an already written L4 segment of l4_len bytes.
size_t finish_ip(MutableBytes out, const IpFields& ip, uint8_t proto, size_t l4_len) noexcept {
  if (l4_len == 0) return 0;
  size_t h;
  if (ip.src.is_v4()) {
    Ipv4Fields f;
    f.src = ip.src;
    f.dst = ip.dst;
    f.protocol = proto;
    f.ttl = ip.ttl;
    f.tos = ip.tos;
    f.id = ip.id;
    f.dont_fragment = ip.dont_fragment;
    f.more_fragments = ip.more_fragments;
    f.fragment_offset = ip.fragment_offset;
    f.options = ip.ipv4_options;
    h = write_ipv4_header(out, f, l4_len);
  } else {
    Ipv6Fields f;
    f.src = ip.src;
    f.dst = ip.dst;
    f.next_header = proto;
    f.hop_limit = ip.ttl;
    f.traffic_class = ip.tos;
    f.flow_label = ip.flow_label;
    h = write_ipv6_header(out, f, l4_len);
  }
  return h == 0 ? 0 : h + l4_len;
}

bool ip_fields_ok(const IpFields& ip, MutableBytes out) noexcept {
  return ip.src.family() == ip.dst.family() && out.size() >= ip_header_len(ip);
}

}  // namespace

size_t build_tcp_packet(MutableBytes out, const IpFields& ip, const TcpFields& tcp, ConstBytes payload) noexcept {
  if (!ip_fields_ok(ip, out)) return 0;
  size_t h = ip_header_len(ip);
  size_t n = write_tcp(out.subspan(h), ip.src, ip.dst, tcp, payload);
  return finish_ip(out, ip, ipproto::tcp, n);
}

size_t build_udp_packet(MutableBytes out, const IpFields& ip, uint16_t src_port, uint16_t dst_port,
                        ConstBytes payload) noexcept {
  if (!ip_fields_ok(ip, out)) return 0;
  size_t h = ip_header_len(ip);
  size_t n = write_udp(out.subspan(h), ip.src, ip.dst, src_port, dst_port, payload);
  return finish_ip(out, ip, ipproto::udp, n);
}

size_t build_echo_packet(MutableBytes out, const IpFields& ip, uint16_t id, uint16_t seq,
                         ConstBytes payload) noexcept {
  if (!ip_fields_ok(ip, out)) return 0;
  size_t h = ip_header_len(ip);
  if (ip.src.is_v4()) {
    size_t n = write_icmp_echo(out.subspan(h), id, seq, payload);
    return finish_ip(out, ip, ipproto::icmp, n);
  }
  size_t n = write_icmpv6_echo(out.subspan(h), ip.src, ip.dst, id, seq, payload);
  return finish_ip(out, ip, ipproto::icmpv6, n);
}

}  // namespace netshoot::core

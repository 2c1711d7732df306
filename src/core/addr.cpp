// IP addresses, endpoints, CIDR blocks, target specs and port sets.
#include "netshoot/addr.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <random>

namespace netshoot::core {

namespace {

using u128 = unsigned __int128;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decimal number without sign or leading zeros (except "0"), at most max.
bool parse_dec(std::string_view s, uint32_t max, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return false;
    v = v * 10 + uint32_t(c - '0');
  }
  if (v > max) return false;
  out = uint32_t(v);
  return true;
}

bool parse_v4(std::string_view s, uint8_t out[4]) {
  int part = 0;
  while (true) {
    size_t dot = s.find('.');
    std::string_view p = s.substr(0, dot);
    uint32_t v;
    if (part > 3 || !parse_dec(p, 255, v)) return false;
    out[part++] = uint8_t(v);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return part == 4;
}

bool parse_v6(std::string_view s, uint8_t out[16]) {
  uint16_t groups[8] = {};
  int n = 0, gap = -1;
  if (s.size() < 2) return false;
  if (s.substr(0, 2) == "::") {
    gap = 0;
    s.remove_prefix(2);
    if (s.empty()) {
      std::memset(out, 0, 16);
      return true;
    }
  } else if (s[0] == ':') {
    return false;
  }
  while (!s.empty()) {
    if (n >= 8) return false;
    size_t i = 0;
    while (i < s.size() && i < 5 && hex_val(s[i]) >= 0) ++i;
    if (i < s.size() && s[i] == '.') {  // trailing dotted quad
      uint8_t v4[4];
      if (n > 6 || !parse_v4(s, v4)) return false;
      groups[n++] = uint16_t(v4[0] << 8 | v4[1]);
      groups[n++] = uint16_t(v4[2] << 8 | v4[3]);
      s = {};
      break;
    }
    if (i == 0 || i > 4) return false;
    uint16_t g = 0;
    for (size_t k = 0; k < i; ++k) g = uint16_t(g << 4 | hex_val(s[k]));
    groups[n++] = g;
    s.remove_prefix(i);
    if (s.empty()) break;
    if (s[0] != ':') return false;
    s.remove_prefix(1);
    if (!s.empty() && s[0] == ':') {
      if (gap >= 0) return false;
      gap = n;
      s.remove_prefix(1);
    } else if (s.empty()) {
      return false;  // trailing single ':'
    }
  }
  uint16_t full[8] = {};
  if (gap >= 0) {
    if (n > 7) return false;
    int tail = n - gap;
    for (int i = 0; i < gap; ++i) full[i] = groups[i];
    for (int i = 0; i < tail; ++i) full[8 - tail + i] = groups[gap + i];
  } else {
    if (n != 8) return false;
    std::copy(groups, groups + 8, full);
  }
  for (int i = 0; i < 8; ++i) {
    out[2 * i] = uint8_t(full[i] >> 8);
    out[2 * i + 1] = uint8_t(full[i]);
  }
  return true;
}

u128 to_u128(const IpAddr& a) {
  u128 v = 0;
  for (uint8_t b : a.bytes()) v = v << 8 | b;
  return v;
}

IpAddr from_u128(u128 v, bool v6) {
  if (!v6) return IpAddr::v4(uint32_t(v));
  std::array<uint8_t, 16> b;
  for (int i = 15; i >= 0; --i) {
    b[size_t(i)] = uint8_t(v);
    v >>= 8;
  }
  return IpAddr::v6(b);
}

uint64_t saturate(u128 v) { return v > UINT64_MAX ? UINT64_MAX : uint64_t(v); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::string quoted(std::string_view s) {
  std::string q;
  q.reserve(s.size() + 2);
  q += '\'';
  q.append(s);
  q += '\'';
  return q;
}

}  // namespace

// ---- IpAddr ---------------------------------------------------------------------

IpAddr IpAddr::from_bytes(std::span<const uint8_t> b, uint32_t scope_id) {
  IpAddr a;
  if (b.size() == 4) {
    std::memcpy(a.bytes_.data(), b.data(), 4);
  } else if (b.size() == 16) {
    a.family_ = 6;
    std::memcpy(a.bytes_.data(), b.data(), 16);
    a.scope_ = scope_id;
  }
  return a;
}

IpAddr IpAddr::v6(const std::array<uint8_t, 16>& b, uint32_t scope_id) {
  IpAddr a;
  a.family_ = 6;
  a.bytes_ = b;
  a.scope_ = scope_id;
  return a;
}

IpAddr IpAddr::from_in(const in_addr& in) {
  IpAddr a;
  std::memcpy(a.bytes_.data(), &in, 4);
  return a;
}

IpAddr IpAddr::from_in6(const in6_addr& in, uint32_t scope_id) {
  IpAddr a;
  a.family_ = 6;
  std::memcpy(a.bytes_.data(), &in, 16);
  a.scope_ = scope_id;
  return a;
}

IpAddr IpAddr::any(int family) {
  IpAddr a;
  if (family == AF_INET6) a.family_ = 6;
  return a;
}

IpAddr IpAddr::loopback(int family) {
  if (family == AF_INET6) {
    IpAddr a = any(AF_INET6);
    a.bytes_[15] = 1;
    return a;
  }
  return v4(127, 0, 0, 1);
}

std::optional<IpAddr> IpAddr::try_parse(std::string_view s) noexcept {
  IpAddr a;
  if (s.find(':') == std::string_view::npos) {
    if (!parse_v4(s, a.bytes_.data())) return std::nullopt;
    return a;
  }
  a.family_ = 6;
  size_t pct = s.find('%');
  if (pct != std::string_view::npos) {
    uint32_t scope;
    std::string_view z = s.substr(pct + 1);
    // numeric zone only; leading zeros tolerated here
    while (z.size() > 1 && z[0] == '0') z.remove_prefix(1);
    if (!parse_dec(z, UINT32_MAX, scope)) return std::nullopt;
    a.scope_ = scope;
    s = s.substr(0, pct);
  }
  if (!parse_v6(s, a.bytes_.data())) return std::nullopt;
  return a;
}

Result<IpAddr> IpAddr::parse(std::string_view s) {
  std::string_view t = trim(s);
  size_t pct = t.find('%');
  if (pct != std::string_view::npos && t.find(':') != std::string_view::npos) {
    std::string_view zone = t.substr(pct + 1);
    if (zone.empty()) return make_error("invalid IPv6 address " + quoted(s) + ": empty scope");
    auto base = try_parse(t.substr(0, pct));
    if (!base || !base->is_v6()) return make_error("invalid IPv6 address " + quoted(s));
    uint32_t idx = 0;
    if (!parse_dec(zone, UINT32_MAX, idx)) {
      std::string name(zone);
      idx = if_nametoindex(name.c_str());
      if (idx == 0) return make_error("invalid IPv6 address " + quoted(s) + ": unknown interface " + quoted(zone));
    }
    return base->with_scope(idx);
  }
  auto a = try_parse(t);
  if (!a) return make_error("invalid IP address " + quoted(s));
  return *a;
}

IpAddr IpAddr::with_scope(uint32_t scope_id) const noexcept {
  IpAddr a = *this;
  if (a.is_v6()) a.scope_ = scope_id;
  return a;
}

in_addr IpAddr::to_in() const noexcept {
  in_addr in{};
  std::memcpy(&in, bytes_.data(), 4);
  return in;
}

in6_addr IpAddr::to_in6() const noexcept {
  in6_addr in{};
  if (is_v6()) return std::memcpy(&in, bytes_.data(), 16), in;
  return v4_mapped().to_in6();
}

bool IpAddr::is_unspecified() const noexcept {
  for (size_t i = 0; i < size(); ++i)
    if (bytes_[i]) return false;
  return true;
}

bool IpAddr::is_loopback() const noexcept {
  if (is_v4()) return bytes_[0] == 127;
  if (is_v4_mapped()) return bytes_[12] == 127;
  for (size_t i = 0; i < 15; ++i)
    if (bytes_[i]) return false;
  return bytes_[15] == 1;
}

bool IpAddr::is_multicast() const noexcept {
  return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

bool IpAddr::is_link_local() const noexcept {
  return is_v4() ? (bytes_[0] == 169 && bytes_[1] == 254)
                 : (bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80);
}

bool IpAddr::is_private() const noexcept {
  if (is_v6()) return (bytes_[0] & 0xfe) == 0xfc;
  return bytes_[0] == 10 || (bytes_[0] == 172 && (bytes_[1] & 0xf0) == 16) ||
         (bytes_[0] == 192 && bytes_[1] == 168) || (bytes_[0] == 100 && (bytes_[1] & 0xc0) == 64);
}

bool IpAddr::is_broadcast() const noexcept { return is_v4() && v4_host_order() == 0xffffffffu; }

bool IpAddr::is_v4_mapped() const noexcept {
  if (!is_v6()) return false;
  for (size_t i = 0; i < 10; ++i)
    if (bytes_[i]) return false;
  return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

IpAddr IpAddr::unmapped() const noexcept {
  if (!is_v4_mapped()) return *this;
  return from_bytes({bytes_.data() + 12, 4});
}

IpAddr IpAddr::v4_mapped() const noexcept {
  if (!is_v4()) return *this;
  std::array<uint8_t, 16> b{};
  b[10] = b[11] = 0xff;
  std::memcpy(b.data() + 12, bytes_.data(), 4);
  return v6(b);
}

IpAddr IpAddr::next() const noexcept {
  IpAddr a = *this;
  for (size_t i = size(); i-- > 0;)
    if (++a.bytes_[i] != 0) break;
  return a;
}

IpAddr IpAddr::prev() const noexcept {
  IpAddr a = *this;
  for (size_t i = size(); i-- > 0;)
    if (a.bytes_[i]-- != 0) break;
  return a;
}

size_t IpAddr::format(char* out, size_t cap) const noexcept {
  char buf[kMaxStringLen + 8];
  char* p = buf;
  auto put_dec = [&p](unsigned v) {
    char t[10];
    int n = 0;
    do t[n++] = char('0' + v % 10), v /= 10; while (v);
    while (n) *p++ = t[--n];
  };
  auto put_quad = [&](const uint8_t* b) {
    for (int i = 0; i < 4; ++i) {
      if (i) *p++ = '.';
      put_dec(b[i]);
    }
  };
  if (is_v4()) {
    put_quad(bytes_.data());
  } else if (is_v4_mapped()) {
    std::memcpy(p, "::ffff:", 7);
    p += 7;
    put_quad(bytes_.data() + 12);
  } else {
    uint16_t g[8];
    for (int i = 0; i < 8; ++i) g[i] = uint16_t(bytes_[2 * i] << 8 | bytes_[2 * i + 1]);
    int best = -1, best_len = 1;  // runs of length >= 2 only
    for (int i = 0; i < 8;) {
      if (g[i] != 0) { ++i; continue; }
      int j = i;
      while (j < 8 && g[j] == 0) ++j;
      if (j - i > best_len) best = i, best_len = j - i;
      i = j;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) {
      if (i == best) {
        *p++ = ':';
        if (i == 0) *p++ = ':';
        i += best_len - 1;
        continue;
      }
      bool lead = true;
      for (int sh = 12; sh >= 0; sh -= 4) {
        unsigned d = (g[i] >> sh) & 0xf;
        if (lead && d == 0 && sh != 0) continue;
        lead = false;
        *p++ = kHex[d];
      }
      if (i != 7) *p++ = ':';
    }
    if (scope_) {
      *p++ = '%';
      put_dec(scope_);
    }
  }
  size_t n = size_t(p - buf);
  if (cap == 0) return n;
  size_t w = std::min(n, cap - 1);
  std::memcpy(out, buf, w);
  out[w] = '\0';
  return w;
}

std::string IpAddr::to_string() const {
  char buf[kMaxStringLen + 8];
  IpAddr bare = *this;
  bare.scope_ = 0;
  size_t n = bare.format(buf, sizeof buf);
  std::string s(buf, n);
  if (is_v6() && scope_) {
    char name[IF_NAMESIZE];
    s += '%';
    if (if_indextoname(scope_, name)) s += name; else s += std::to_string(scope_);
  }
  return s;
}

socklen_t IpAddr::to_sockaddr(uint16_t port, sockaddr_storage& out) const noexcept {
  std::memset(&out, 0, sizeof out);
  if (is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr = to_in();
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  sin6->sin6_addr = to_in6();
  sin6->sin6_scope_id = scope_;
  return sizeof(sockaddr_in6);
}

size_t IpAddr::hash() const noexcept {
  // FNV-1a over family, bytes and scope.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 1099511628211ull; };
  mix(family_);
  for (size_t i = 0; i < size(); ++i) mix(bytes_[i]);
  for (int i = 0; i < 4; ++i) mix(uint8_t(scope_ >> (8 * i)));
  return size_t(h);
}

// ---- Endpoint -------------------------------------------------------------------

Result<Endpoint> Endpoint::parse(std::string_view s, std::optional<uint16_t> default_port) {
  std::string_view t = trim(s);
  std::string_view host = t, port_s;
  bool have_port = false;
  if (!t.empty() && t[0] == '[') {
    size_t close = t.find(']');
    if (close == std::string_view::npos) return make_error("invalid endpoint " + quoted(s) + ": missing ']'");
    host = t.substr(1, close - 1);
    std::string_view rest = t.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return make_error("invalid endpoint " + quoted(s));
      port_s = rest.substr(1);
      have_port = true;
    }
  } else {
    size_t colon = t.rfind(':');
    if (colon != std::string_view::npos && t.find(':') == colon) {  // exactly one ':'
      host = t.substr(0, colon);
      port_s = t.substr(colon + 1);
      have_port = true;
    }
  }
  auto addr = IpAddr::parse(host);
  if (!addr) return addr.error();
  Endpoint ep{*addr, 0};
  if (have_port) {
    uint32_t p;
    if (!parse_dec(port_s, 65535, p)) return make_error("invalid port " + quoted(port_s) + " in " + quoted(s));
    ep.port = uint16_t(p);
  } else if (default_port) {
    ep.port = *default_port;
  } else {
    return make_error("missing port in " + quoted(s));
  }
  return ep;
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) noexcept {
  if (!sa || len < socklen_t(sizeof(sa_family_t))) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= socklen_t(sizeof(sockaddr_in))) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    return Endpoint{IpAddr::from_in(sin.sin_addr), ntohs(sin.sin_port)};
  }
  if (sa->sa_family == AF_INET6 && len >= socklen_t(sizeof(sockaddr_in6))) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    return Endpoint{IpAddr::from_in6(sin6.sin6_addr, sin6.sin6_scope_id), ntohs(sin6.sin6_port)};
  }
  return std::nullopt;
}

std::string Endpoint::to_string() const {
  std::string a = addr.to_string();
  std::string p = std::to_string(port);
  if (addr.is_v6()) return "[" + a + "]:" + p;
  return a + ":" + p;
}

// ---- AddrRange / Cidr -----------------------------------------------------------

bool AddrRange::contains(const IpAddr& a) const noexcept {
  if (empty_ || a.family() != first_.family()) return false;
  u128 v = to_u128(a);
  return v >= to_u128(first_) && v <= to_u128(last_);
}

uint64_t AddrRange::size() const noexcept {
  if (empty_) return 0;
  u128 d = to_u128(last_) - to_u128(first_);
  if (d == ~u128(0)) return UINT64_MAX;
  return saturate(d + 1);
}

AddrRange::iterator AddrRange::begin() const {
  iterator it;
  if (empty_) return it;
  it.cur_ = first_;
  it.last_ = last_;
  it.done_ = false;
  return it;
}

Cidr::Cidr(IpAddr addr, uint8_t prefix_len) : addr_(addr) {
  uint8_t max = addr.is_v4() ? 32 : 128;
  prefix_ = prefix_len > max ? max : prefix_len;
}

Result<Cidr> Cidr::parse(std::string_view s) {
  std::string_view t = trim(s);
  size_t slash = t.find('/');
  auto addr = IpAddr::parse(t.substr(0, slash));
  if (!addr) return make_error("invalid network " + quoted(s) + ": " + addr.error().context);
  uint32_t max = addr->is_v4() ? 32 : 128;
  uint32_t pfx = max;
  if (slash != std::string_view::npos) {
    std::string_view ps = t.substr(slash + 1);
    if (!parse_dec(ps, max, pfx))
      return make_error("invalid prefix length " + quoted(ps) + " in " + quoted(s) + " (0-" +
                        std::to_string(max) + ")");
  }
  return Cidr(*addr, uint8_t(pfx));
}

IpAddr Cidr::netmask() const noexcept {
  bool v6 = addr_.is_v6();
  unsigned bits = v6 ? 128 : 32;
  u128 all = v6 ? ~u128(0) : u128(0xffffffffu);
  u128 mask = prefix_ == 0 ? 0 : (all << (bits - prefix_)) & all;
  return from_u128(mask, v6);
}

IpAddr Cidr::network() const noexcept {
  bool v6 = addr_.is_v6();
  return from_u128(to_u128(addr_) & to_u128(netmask()), v6).with_scope(addr_.scope_id());
}

IpAddr Cidr::broadcast() const noexcept {
  bool v6 = addr_.is_v6();
  u128 all = v6 ? ~u128(0) : u128(0xffffffffu);
  return from_u128(to_u128(addr_) | (~to_u128(netmask()) & all), v6).with_scope(addr_.scope_id());
}

bool Cidr::contains(const IpAddr& a) const noexcept {
  if (a.family() != addr_.family()) return false;
  u128 m = to_u128(netmask());
  return (to_u128(a) & m) == (to_u128(addr_) & m);
}

bool Cidr::contains(const Cidr& c) const noexcept {
  return c.family() == family() && c.prefix_ >= prefix_ && contains(c.addr_);
}

uint64_t Cidr::size() const noexcept {
  unsigned host_bits = (addr_.is_v4() ? 32u : 128u) - prefix_;
  return host_bits >= 64 ? UINT64_MAX : (uint64_t(1) << host_bits);
}

AddrRange Cidr::range() const noexcept { return AddrRange(network(), broadcast()); }

AddrRange Cidr::hosts() const noexcept {
  AddrRange r = range();
  if (addr_.is_v4() && prefix_ < 31) r = AddrRange(r.first().next(), r.last().prev());
  return r;
}

std::string Cidr::to_string() const { return network().to_string() + "/" + std::to_string(prefix_); }

// ---- TargetList -----------------------------------------------------------------

namespace {

using OctetSet = std::array<uint64_t, 4>;

void set_bits(OctetSet& s, unsigned lo, unsigned hi) {
  for (unsigned v = lo; v <= hi; ++v) s[v >> 6] |= uint64_t(1) << (v & 63);
}
bool has_bit(const OctetSet& s, unsigned v) { return s[v >> 6] >> (v & 63) & 1; }
unsigned popcount(const OctetSet& s) {
  unsigned n = 0;
  for (uint64_t w : s) n += unsigned(std::popcount(w));
  return n;
}
// Next set value >= from, or 256.
unsigned next_bit(const OctetSet& s, unsigned from) {
  for (unsigned v = from; v < 256; ++v)
    if (has_bit(s, v)) return v;
  return 256;
}

// One octet of an nmap pattern: "*", "N", "N-M", "-M", "N-", comma lists of those.
bool parse_octet(std::string_view s, OctetSet& out) {
  if (s.empty()) return false;
  while (true) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    if (item == "*") {
      set_bits(out, 0, 255);
    } else {
      size_t dash = item.find('-');
      uint32_t lo, hi;
      if (dash == std::string_view::npos) {
        if (!parse_dec(item, 255, lo)) return false;
        hi = lo;
      } else {
        std::string_view a = item.substr(0, dash), b = item.substr(dash + 1);
        if (a.empty()) lo = 0; else if (!parse_dec(a, 255, lo)) return false;
        if (b.empty()) hi = 255; else if (!parse_dec(b, 255, hi)) return false;
        if (a.empty() && b.empty()) return false;
        if (lo > hi) return false;
      }
      set_bits(out, lo, hi);
    }
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return true;
}

// Whole token as an octet pattern (exactly 4 dot-separated octet specs, at least one
// of them not a plain number — plain addresses are handled as ranges).
bool parse_octets(std::string_view s, std::array<OctetSet, 4>& out) {
  if (s.find_first_not_of("0123456789.,-*") != std::string_view::npos) return false;
  int part = 0;
  while (true) {
    size_t dot = s.find('.');
    if (part > 3 || !parse_octet(s.substr(0, dot), out[size_t(part)])) return false;
    ++part;
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  return part == 4;
}

bool valid_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  bool alpha = false;
  for (char c : s) {
    bool ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
              c == '.' || c == '_';
    if (!ok) return false;
    if (!is_digit(c) && c != '.') alpha = true;
  }
  return alpha && s.front() != '-' && s.front() != '.';
}

u128 octets_count(const std::array<OctetSet, 4>& o) {
  u128 n = 1;
  for (const auto& s : o) n *= popcount(s);
  return n;
}

}  // namespace

Result<TargetList> TargetList::parse(std::string_view spec, const TargetParseOptions& opt) {
  TargetList list;
  auto add_token = [&](std::string_view tok) -> Status {
    Element e;
    e.text = std::string(tok);
    // Full-address range "A-B" (both sides complete addresses of one family).
    size_t dash = tok.find('-');
    if (tok.find('/') != std::string_view::npos) {
      auto c = Cidr::parse(tok);
      if (!c) return c.error();
      e.range = c->range();
    } else if (auto a = IpAddr::try_parse(tok)) {
      e.range = AddrRange(*a, *a);
    } else if (std::array<OctetSet, 4> oct{}; parse_octets(tok, oct)) {
      e.kind = Element::Kind::octets;
      e.octets = oct;
    } else if (dash != std::string_view::npos && tok.find('-', dash + 1) == std::string_view::npos &&
               IpAddr::try_parse(tok.substr(0, dash)) && IpAddr::try_parse(tok.substr(dash + 1))) {
      IpAddr a = *IpAddr::try_parse(tok.substr(0, dash)), b = *IpAddr::try_parse(tok.substr(dash + 1));
      if (a.family() != b.family()) return make_error("invalid target range " + quoted(tok) + ": mixed address families");
      if (b < a) return make_error("invalid target range " + quoted(tok) + ": end is before start");
      e.range = AddrRange(a, b);
    } else if (tok.find(':') != std::string_view::npos || tok.find_first_not_of("0123456789.,-*") == std::string_view::npos) {
      return make_error("invalid target " + quoted(tok));
    } else if (opt.allow_names && valid_hostname(tok)) {
      e.kind = Element::Kind::name;
      e.name = std::string(tok);
    } else {
      return make_error("invalid target " + quoted(tok));
    }
    if (e.kind == Element::Kind::range && e.range.first().is_v6()) {
      u128 n = to_u128(e.range.last()) - to_u128(e.range.first());
      if (n >= opt.max_v6_addresses)
        return make_error("IPv6 target " + quoted(tok) + " is too large to expand (" +
                          (n >= UINT64_MAX ? std::string("more than 2^64") : std::to_string(uint64_t(n) + 1)) +
                          " addresses; limit " + std::to_string(opt.max_v6_addresses) +
                          "; use a longer prefix)");
    }
    list.elems_.push_back(std::move(e));
    return {};
  };

  std::string_view rest = spec;
  while (true) {
    size_t start = rest.find_first_not_of(" \t\n\r");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    size_t end = rest.find_first_of(" \t\n\r");
    std::string_view word = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    // Keep a whole word that is an nmap octet pattern (commas inside octets).
    std::array<OctetSet, 4> oct{};
    if (word.find(',') != std::string_view::npos && parse_octets(word, oct)) {
      if (auto st = add_token(word); !st) return st.error();
      continue;
    }
    while (!word.empty()) {
      size_t comma = word.find(',');
      std::string_view tok = word.substr(0, comma);
      if (!tok.empty())
        if (auto st = add_token(tok); !st) return st.error();
      if (comma == std::string_view::npos) break;
      word.remove_prefix(comma + 1);
    }
  }
  if (list.elems_.empty()) return make_error("no targets given");
  return list;
}

uint64_t TargetList::size() const noexcept {
  u128 n = 0;
  for (const auto& e : elems_) {
    switch (e.kind) {
      case Element::Kind::name: n += 1; break;
      case Element::Kind::octets: n += octets_count(e.octets); break;
      case Element::Kind::range: n += to_u128(e.range.last()) - to_u128(e.range.first()) + 1; break;
    }
    if (n > UINT64_MAX) return UINT64_MAX;
  }
  return uint64_t(n);
}

bool TargetList::contains(const IpAddr& a) const noexcept {
  for (const auto& e : elems_) {
    if (e.kind == Element::Kind::range && e.range.contains(a)) return true;
    if (e.kind == Element::Kind::octets && a.is_v4()) {
      bool all = true;
      for (size_t i = 0; i < 4 && all; ++i) all = has_bit(e.octets[i], a.data()[i]);
      if (all) return true;
    }
  }
  return false;
}

bool TargetList::Cursor::next(Target& out) {
  while (elem_ < list_->elems_.size()) {
    const Element& e = list_->elems_[elem_];
    switch (e.kind) {
      case Element::Kind::name:
        if (!started_) {
          started_ = true;
          out.addr = IpAddr();
          out.name = e.name;
          return true;
        }
        break;
      case Element::Kind::range:
        if (!started_) {
          started_ = true;
          cur_ = e.range.first();
        } else if (cur_ == e.range.last()) {
          break;
        } else {
          cur_ = cur_.next();
        }
        out.addr = cur_;
        out.name.clear();
        return true;
      case Element::Kind::octets: {
        bool ok;
        if (!started_) {
          started_ = true;
          ok = true;
          for (size_t i = 0; i < 4 && ok; ++i) {
            oct_[i] = uint16_t(next_bit(e.octets[i], 0));
            ok = oct_[i] < 256;
          }
        } else {
          ok = false;
          for (size_t i = 4; i-- > 0;) {  // odometer, last octet fastest
            unsigned n = next_bit(e.octets[i], oct_[i] + 1u);
            if (n < 256) {
              oct_[i] = uint16_t(n);
              for (size_t j = i + 1; j < 4; ++j) oct_[j] = uint16_t(next_bit(e.octets[j], 0));
              ok = true;
              break;
            }
          }
        }
        if (!ok) break;
        out.addr = IpAddr::v4(uint8_t(oct_[0]), uint8_t(oct_[1]), uint8_t(oct_[2]), uint8_t(oct_[3]));
        out.name.clear();
        return true;
      }
    }
    ++elem_;
    started_ = false;
  }
  return false;
}

Result<std::vector<Target>> TargetList::expand(size_t cap) const {
  uint64_t n = size();
  if (n > cap)
    return make_error("target list expands to " + (n == UINT64_MAX ? std::string("too many") : std::to_string(n)) +
                      " addresses, more than the limit of " + std::to_string(cap));
  std::vector<Target> v;
  v.reserve(size_t(n));
  Target t;
  auto c = cursor();
  while (c.next(t)) v.push_back(t);
  return v;
}

// ---- PortSet --------------------------------------------------------------------

std::string_view to_string(L4Proto p) noexcept {
  switch (p) {
    case L4Proto::tcp: return "tcp";
    case L4Proto::udp: return "udp";
    case L4Proto::sctp: return "sctp";
  }
  return "?";
}

void PortSet::add(L4Proto p, uint16_t first, uint16_t last) {
  if (first > last) std::swap(first, last);
  auto& v = r_[size_t(p)];
  auto it = std::lower_bound(v.begin(), v.end(), first,
                             [](const PortRange& r, uint16_t f) { return r.first < f; });
  it = v.insert(it, PortRange{first, last});
  // merge with the previous range if touching
  if (it != v.begin() && uint32_t(std::prev(it)->last) + 1 >= it->first) {
    auto pr = std::prev(it);
    pr->last = std::max(pr->last, it->last);
    it = v.erase(it);
    it = std::prev(it);
  }
  // merge following ranges
  auto nx = std::next(it);
  while (nx != v.end() && uint32_t(it->last) + 1 >= nx->first) {
    it->last = std::max(it->last, nx->last);
    nx = v.erase(nx);
  }
}

bool PortSet::contains(L4Proto p, uint16_t port) const noexcept {
  const auto& v = r_[size_t(p)];
  auto it = std::upper_bound(v.begin(), v.end(), port,
                             [](uint16_t x, const PortRange& r) { return x < r.first; });
  return it != v.begin() && std::prev(it)->last >= port;
}

size_t PortSet::count(L4Proto p) const noexcept {
  size_t n = 0;
  for (const auto& r : r_[size_t(p)]) n += size_t(r.last) - r.first + 1;
  return n;
}

bool PortSet::empty() const noexcept {
  return r_[0].empty() && r_[1].empty() && r_[2].empty();
}

std::vector<uint16_t> PortSet::ordered(L4Proto p) const {
  std::vector<uint16_t> v;
  v.reserve(count(p));
  for (const auto& r : r_[size_t(p)])
    for (uint32_t x = r.first; x <= r.last; ++x) v.push_back(uint16_t(x));
  return v;
}

std::vector<uint16_t> PortSet::shuffled(L4Proto p, uint64_t seed) const {
  std::vector<uint16_t> v = ordered(p);
  std::mt19937_64 rng(seed);
  for (size_t i = v.size(); i > 1; --i) {
    std::uniform_int_distribution<size_t> d(0, i - 1);
    std::swap(v[i - 1], v[d(rng)]);
  }
  return v;
}

std::string PortSet::to_string(L4Proto p) const {
  std::string s;
  for (const auto& r : r_[size_t(p)]) {
    if (!s.empty()) s += ',';
    s += std::to_string(r.first);
    if (r.last != r.first) s += '-' + std::to_string(r.last);
  }
  return s;
}

PortSet PortSet::top(L4Proto p, size_t n) {
  PortSet s;
  for (uint16_t port : top_ports(p, n)) s.add(p, port);
  return s;
}

Result<PortSet> PortSet::parse(std::string_view spec) {
  PortSet set;
  std::string_view t = trim(spec);
  if (t.empty()) return make_error("empty port list");
  // protocols the current items apply to: bit per L4Proto; 7 = unprefixed (all)
  unsigned protos = 7;
  auto add_all = [&](uint16_t a, uint16_t b) {
    for (unsigned i = 0; i < 3; ++i)
      if (protos & (1u << i)) set.add(L4Proto(i), a, b);
  };
  while (true) {
    size_t comma = t.find(',');
    std::string_view item = trim(t.substr(0, comma));
    if (item.size() >= 2 && item[1] == ':') {
      switch (item[0]) {
        case 'T': case 't': protos = 1; break;
        case 'U': case 'u': protos = 2; break;
        case 'S': case 's': protos = 4; break;
        default: return make_error("invalid protocol prefix " + quoted(item.substr(0, 2)) + " (use T:, U: or S:)");
      }
      item.remove_prefix(2);
    }
    if (item.empty()) return make_error("empty port in list " + quoted(spec));
    if (item == "-") {
      add_all(1, 65535);
    } else if (item.find_first_not_of("0123456789-") == std::string_view::npos) {
      size_t dash = item.find('-');
      uint32_t lo, hi;
      auto num = [&](std::string_view s, uint32_t& out) {
        while (s.size() > 1 && s[0] == '0') s.remove_prefix(1);  // "080" is fine for ports
        return parse_dec(s, 65535, out);
      };
      if (dash == std::string_view::npos) {
        if (!num(item, lo)) return make_error("invalid port " + quoted(item) + " (0-65535)");
        hi = lo;
      } else {
        std::string_view a = item.substr(0, dash), b = item.substr(dash + 1);
        if (b.find('-') != std::string_view::npos) return make_error("invalid port range " + quoted(item));
        if (a.empty()) lo = 1; else if (!num(a, lo)) return make_error("invalid port " + quoted(a) + " (0-65535)");
        if (b.empty()) hi = 65535; else if (!num(b, hi)) return make_error("invalid port " + quoted(b) + " (0-65535)");
        if (lo > hi) return make_error("invalid port range " + quoted(item) + " (start > end)");
      }
      add_all(uint16_t(lo), uint16_t(hi));
    } else {
      bool found = false;
      for (unsigned i = 0; i < 3; ++i) {
        if (!(protos & (1u << i))) continue;
        if (auto port = service_port(item, L4Proto(i))) {
          set.add(L4Proto(i), *port);
          found = true;
        }
      }
      if (!found) return make_error("invalid port " + quoted(item) + " (not a number or a known service name)");
    }
    if (comma == std::string_view::npos) break;
    t.remove_prefix(comma + 1);
  }
  return set;
}

}  // namespace netshoot::core

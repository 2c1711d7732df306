// IP addresses, endpoints, CIDR blocks, scanner target specs, port sets and the
// built-in service-name table.
//
// Everything here is a value type. Parsing of untrusted text returns Result<T>;
// the hot-path helpers (try_parse, format, contains) never allocate or throw.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::core {

// ---------------------------------------------------------------------------------
// IpAddr
// ---------------------------------------------------------------------------------

// An IPv4 or IPv6 address (IPv6 with an optional scope/zone index). The default
// value is 0.0.0.0. Ordering: every IPv4 address sorts before every IPv6 address,
// then bytes in network order, then scope.
class IpAddr {
 public:
  static constexpr size_t kMaxStringLen = INET6_ADDRSTRLEN + 1 + 16;  // "addr%ifname"

  constexpr IpAddr() = default;

  // IPv4 from a host-order integer (0x7f000001 == 127.0.0.1).
  static constexpr IpAddr v4(uint32_t host_order) {
    IpAddr a;
    a.family_ = 4;
    a.bytes_[0] = uint8_t(host_order >> 24);
    a.bytes_[1] = uint8_t(host_order >> 16);
    a.bytes_[2] = uint8_t(host_order >> 8);
    a.bytes_[3] = uint8_t(host_order);
    return a;
  }
  static constexpr IpAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return v4(uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | d);
  }
  // From network-order bytes: 4 bytes for IPv4, 16 for IPv6. Other sizes give 0.0.0.0.
  static IpAddr from_bytes(std::span<const uint8_t> b, uint32_t scope_id = 0);
  static IpAddr v6(const std::array<uint8_t, 16>& b, uint32_t scope_id = 0);
  static IpAddr from_in(const in_addr& a);
  static IpAddr from_in6(const in6_addr& a, uint32_t scope_id = 0);
  static IpAddr any(int family);       // 0.0.0.0 or ::
  static IpAddr loopback(int family);  // 127.0.0.1 or ::1

  // "192.0.2.1", "2001:db8::1", "fe80::1%eth0", "fe80::1%2". Scope names are
  // resolved with if_nametoindex (an unknown interface is an error).
  static Result<IpAddr> parse(std::string_view s);
  // Allocation-free; nullopt on any syntax error (scope must be numeric here).
  static std::optional<IpAddr> try_parse(std::string_view s) noexcept;

  int family() const noexcept { return family_ == 4 ? AF_INET : AF_INET6; }
  bool is_v4() const noexcept { return family_ == 4; }
  bool is_v6() const noexcept { return family_ == 6; }
  size_t size() const noexcept { return family_ == 4 ? 4 : 16; }  // byte length
  std::span<const uint8_t> bytes() const noexcept { return {bytes_.data(), size()}; }
  const uint8_t* data() const noexcept { return bytes_.data(); }
  uint32_t v4_host_order() const noexcept {  // only meaningful for IPv4
    return uint32_t(bytes_[0]) << 24 | uint32_t(bytes_[1]) << 16 | uint32_t(bytes_[2]) << 8 |
           bytes_[3];
  }
  uint32_t scope_id() const noexcept { return scope_; }
  IpAddr with_scope(uint32_t scope_id) const noexcept;
  in_addr to_in() const noexcept;
  in6_addr to_in6() const noexcept;  // IPv4 gives the v4-mapped form ::ffff:a.b.c.d

  bool is_unspecified() const noexcept;
  bool is_loopback() const noexcept;     // 127/8, ::1
  bool is_multicast() const noexcept;    // 224/4, ff00::/8
  bool is_link_local() const noexcept;   // 169.254/16, fe80::/10
  bool is_private() const noexcept;      // RFC 1918, 100.64/10 (CGN), fc00::/7 (ULA)
  bool is_broadcast() const noexcept;    // 255.255.255.255
  bool is_v4_mapped() const noexcept;    // ::ffff:0:0/96
  IpAddr unmapped() const noexcept;      // ::ffff:a.b.c.d -> a.b.c.d, else itself
  IpAddr v4_mapped() const noexcept;     // a.b.c.d -> ::ffff:a.b.c.d, else itself

  // Address arithmetic (wraps around inside the family).
  IpAddr next() const noexcept;
  IpAddr prev() const noexcept;

  // RFC 5952 text for IPv6 (lowercase, longest zero run compressed, first on ties,
  // a single zero group never compressed, ::ffff:a.b.c.d for mapped addresses),
  // dotted quad for IPv4. A scope prints as %ifname (or %index if unknown).
  std::string to_string() const;
  // Allocation-free variant; scope printed numerically. Returns the length written
  // (buffer of at least kMaxStringLen is always enough), NUL-terminated.
  size_t format(char* out, size_t cap) const noexcept;

  // sockaddr_in / sockaddr_in6 with `port` (host order). Returns the length.
  socklen_t to_sockaddr(uint16_t port, sockaddr_storage& out) const noexcept;

  size_t hash() const noexcept;

  friend constexpr bool operator==(const IpAddr&, const IpAddr&) = default;
  friend constexpr auto operator<=>(const IpAddr&, const IpAddr&) = default;

 private:
  uint8_t family_ = 4;  // 4 or 6; declared first so that v4 < v6
  std::array<uint8_t, 16> bytes_{};
  uint32_t scope_ = 0;
};

// An address and a port. "192.0.2.1:80", "[2001:db8::1]:443", "[fe80::1%eth0]:22".
struct Endpoint {
  IpAddr addr;
  uint16_t port = 0;

  // Accepts "a.b.c.d:port", "[v6]:port", or a bare address (port = default_port).
  static Result<Endpoint> parse(std::string_view s, std::optional<uint16_t> default_port = {});
  // sockaddr_in or sockaddr_in6; nullopt for other families or a short length.
  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len) noexcept;
  static std::optional<Endpoint> from_sockaddr(const sockaddr_storage& ss,
                                               socklen_t len = sizeof(sockaddr_storage)) noexcept {
    return from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  }
  socklen_t to_sockaddr(sockaddr_storage& out) const noexcept { return addr.to_sockaddr(port, out); }
  std::string to_string() const;

  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

// ---------------------------------------------------------------------------------
// Cidr
// ---------------------------------------------------------------------------------

// An inclusive range of addresses of one family, iterable (lazily).
class AddrRange {
 public:
  AddrRange() = default;
  AddrRange(IpAddr first, IpAddr last) : first_(first), last_(last) {}
  IpAddr first() const { return first_; }
  IpAddr last() const { return last_; }
  bool empty() const { return empty_; }
  bool contains(const IpAddr& a) const noexcept;
  // Number of addresses, saturating at UINT64_MAX (an IPv6 /64 is 2^64 -> saturated).
  uint64_t size() const noexcept;

  class iterator {
   public:
    using value_type = IpAddr;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    const IpAddr& operator*() const { return cur_; }
    const IpAddr* operator->() const { return &cur_; }
    iterator& operator++() {
      if (cur_ == last_) done_ = true; else cur_ = cur_.next();
      return *this;
    }
    iterator operator++(int) { auto t = *this; ++*this; return t; }
    friend bool operator==(const iterator& a, const iterator& b) {
      return a.done_ == b.done_ && (a.done_ || a.cur_ == b.cur_);
    }

   private:
    friend class AddrRange;
    IpAddr cur_, last_;
    bool done_ = true;
  };
  iterator begin() const;
  iterator end() const { return {}; }

 private:
  friend class Cidr;
  IpAddr first_, last_;
  bool empty_ = false;
};

class Cidr {
 public:
  Cidr() = default;
  // `addr` may have host bits set; network() masks them off.
  Cidr(IpAddr addr, uint8_t prefix_len);

  // "10.0.0.0/8", "2001:db8::/32", or a bare address (/32 or /128).
  static Result<Cidr> parse(std::string_view s);

  IpAddr address() const { return addr_; }  // as written
  uint8_t prefix_len() const { return prefix_; }
  int family() const { return addr_.family(); }
  IpAddr network() const noexcept;
  IpAddr netmask() const noexcept;
  IpAddr broadcast() const noexcept;   // last address of the block (IPv4 broadcast)
  bool contains(const IpAddr& a) const noexcept;
  bool contains(const Cidr& c) const noexcept;
  uint64_t size() const noexcept;      // saturating
  // All addresses of the block.
  AddrRange range() const noexcept;
  // Usable hosts: IPv4 blocks shorter than /31 exclude network and broadcast;
  // IPv6 and /31, /32 give every address.
  AddrRange hosts() const noexcept;
  std::string to_string() const;  // "network/prefix"

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  IpAddr addr_;
  uint8_t prefix_ = 32;
};

// ---------------------------------------------------------------------------------
// Target specs (scanners, sweepers)
// ---------------------------------------------------------------------------------

// One expanded target: an address, or a host name the resolver must handle.
struct Target {
  IpAddr addr;
  std::string name;  // non-empty: an unresolved name; addr is unset
  bool is_name() const { return !name.empty(); }
  friend bool operator==(const Target&, const Target&) = default;
};

struct TargetParseOptions {
  // Largest IPv6 block/range accepted; a larger one is an error naming this limit.
  uint64_t max_v6_addresses = 65536;
  bool allow_names = true;
};

// A parsed target list such as
//   "10.0.0.0/24, 10.0.0.1-20 10.0.1-3.1-254,192.0.2.*,2001:db8::/120,host.example"
// Elements are separated by commas and/or whitespace. An element that is a valid
// nmap-style octet pattern keeps its commas ("10.0.0.1,5,9" = three hosts).
// Forms: address, CIDR, nmap octet ranges (each octet: N, N-M, -M, N-, *, or a
// comma list of those), full range "A-B" (same family), host names (unresolved).
class TargetList {
 public:
  static Result<TargetList> parse(std::string_view spec, const TargetParseOptions& opt = {});

  // Total number of targets (names count as one), saturating at UINT64_MAX.
  uint64_t size() const noexcept;
  bool empty() const noexcept { return size() == 0; }
  // Whether an address is covered by some element (names never match).
  bool contains(const IpAddr& a) const noexcept;
  // All targets in order; error if there are more than `cap`.
  Result<std::vector<Target>> expand(size_t cap = 1u << 20) const;

  // Lazy iteration: while (it.next(t)) ...
  class Cursor {
   public:
    bool next(Target& out);
   private:
    friend class TargetList;
    explicit Cursor(const TargetList* l) : list_(l) {}
    const TargetList* list_;
    size_t elem_ = 0;
    bool started_ = false;
    IpAddr cur_;
    std::array<uint16_t, 4> oct_{};  // current octet values for octet patterns
  };
  Cursor cursor() const { return Cursor(this); }

  // Element representation (public for tests/diagnostics).
  struct Element {
    enum class Kind : uint8_t { range, octets, name } kind = Kind::range;
    AddrRange range;                          // kind == range (also CIDR, single address)
    std::array<std::array<uint64_t, 4>, 4> octets{};  // kind == octets: 256-bit set per octet
    std::string name;                         // kind == name
    std::string text;                         // the element as written
  };
  const std::vector<Element>& elements() const { return elems_; }

 private:
  std::vector<Element> elems_;
};

// ---------------------------------------------------------------------------------
// Ports and services
// ---------------------------------------------------------------------------------

enum class L4Proto : uint8_t { tcp = 0, udp = 1, sctp = 2 };
std::string_view to_string(L4Proto p) noexcept;

struct PortRange {
  uint16_t first = 0, last = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

// A set of ports per protocol. Parse syntax (nmap -p):
//   "22,80,1000-2000"   ranges; "-100" = 1-100; "60000-" = 60000-65535
//   "-"                  1-65535 (callers map "-p-" to "-")
//   "U:53,111,T:21-25,S:9"  a prefix applies until the next prefix
//   "http,ssh"           service names (looked up per protocol)
// Ports without a prefix go into every protocol. Port 0 is accepted only when
// written explicitly.
class PortSet {
 public:
  static Result<PortSet> parse(std::string_view spec);
  static PortSet top(L4Proto p, size_t n);  // the n most frequent ports (see top_ports)

  void add(L4Proto p, uint16_t first, uint16_t last);
  void add(L4Proto p, uint16_t port) { add(p, port, port); }
  bool contains(L4Proto p, uint16_t port) const noexcept;
  size_t count(L4Proto p) const noexcept;
  bool empty() const noexcept;
  const std::vector<PortRange>& ranges(L4Proto p) const { return r_[size_t(p)]; }
  // Ascending order.
  std::vector<uint16_t> ordered(L4Proto p) const;
  // A random permutation (deterministic for a given seed).
  std::vector<uint16_t> shuffled(L4Proto p, uint64_t seed) const;
  // "22,80,1000-2000"
  std::string to_string(L4Proto p) const;

 private:
  std::array<std::vector<PortRange>, 3> r_;  // sorted, merged
};

// Built-in service table (no /etc/services: a static binary cannot rely on NSS).
// "" when unknown.
std::string_view service_name(uint16_t port, L4Proto p = L4Proto::tcp) noexcept;
// The name Debian's netbase /etc/services (what getservbyport reads) gives a port,
// where it differs from the table above (nmap's names): 8080 is "http-alt" there,
// "http-proxy" here. Tools that imitate getservbyport users (nc) call this.
std::string_view netbase_service_name(uint16_t port, L4Proto p = L4Proto::tcp) noexcept;
// Case-insensitive lookup of a service name for protocol p.
std::optional<uint16_t> service_port(std::string_view name, L4Proto p = L4Proto::tcp) noexcept;
// Ports ordered by how often they are found open (most frequent first), like
// nmap --top-ports. tcp: 1000 entries, udp: 100 (n is clamped).
std::span<const uint16_t> top_ports(L4Proto p, size_t n = SIZE_MAX) noexcept;

struct ServiceEntry {
  const char* name;
  uint16_t port;
  uint8_t protos;  // bit 0 tcp, bit 1 udp, bit 2 sctp
};
// The whole table, sorted by port then name.
std::span<const ServiceEntry> service_table() noexcept;

}  // namespace netshoot::core

template <>
struct std::hash<netshoot::core::IpAddr> {
  size_t operator()(const netshoot::core::IpAddr& a) const noexcept { return a.hash(); }
};
template <>
struct std::hash<netshoot::core::Endpoint> {
  size_t operator()(const netshoot::core::Endpoint& e) const noexcept {
    return e.addr.hash() * 31u + e.port;
  }
};

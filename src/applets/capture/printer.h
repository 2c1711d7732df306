// tcpdump-style one-line packet printer: link, network, transport and a few
// application summaries, written into a reused buffer. Decoders are in decode_*.cpp.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>

#include "buf.h"
#include "netshoot/output.h"
#include "names.h"
#include "options.h"

namespace netshoot::applet::capture {

using Bytes = std::span<const uint8_t>;

struct PrintOptions {
  int numeric = 0;
  int verbose = 0;
  bool link_header = false;
  int hex = 0, hex_ascii = 0;
  bool ascii = false;
  bool quiet = false;
  TsMode ts = TsMode::clock;
  // Without -n (numeric == 0): host names from here (none: numeric hosts). Port,
  // protocol and MAC names come from the system files either way.
  HostNames* hosts = nullptr;
};

// Fields gathered while decoding, for --json and ngrep.
struct PacketSummary {
  const char* net = nullptr;   // "IP", "IP6", "ARP"
  const char* l4 = nullptr;    // "tcp", "udp", "icmp", "icmp6"
  uint8_t src[16]{}, dst[16]{};
  int family = 0;              // 4 or 6
  uint16_t sport = 0, dport = 0;
  uint8_t tcp_flags = 0;
  bool has_ports = false;
  Bytes payload;               // innermost application payload present
  const uint8_t* net_start = nullptr;
};

class Printer {
 public:
  Printer(const PrintOptions& o, int linktype);
  // One packet: timestamp, decoded line(s), optional hex/ASCII dump, newline.
  void packet(const pcap_pkthdr& h, const uint8_t* data, Buf& out);
  const PacketSummary& summary() const { return sum_; }
  // --json: collect the decoded layers of each packet (an array of objects, one per
  // protocol layer, outermost first; see capture.cpp for the schema).
  void collect_layers(bool on) { collect_ = on; }
  const core::Json& layers() const { return layers_; }
  // Decoding without timestamp/newline (tests, fuzzing): the summary line only.
  void decode_only(const uint8_t* data, uint32_t caplen, uint32_t wirelen, Buf& out);

  // Layer entry points (public for the unit tests).
  void link(Bytes p, uint32_t wirelen);
  void ether(Bytes p, uint32_t wirelen, bool inner);
  void ethertype(uint16_t type, Bytes p, bool inner);
  void arp(Bytes p);
  void ipv4(Bytes p);
  void ip_options(Bytes opt);
  void ipv6(Bytes p);
  void tcp(Bytes seg, uint32_t l4len, const uint8_t* src, const uint8_t* dst, int fam, bool frag);
  void udp(Bytes seg, uint32_t l4len, const uint8_t* src, const uint8_t* dst, int fam, bool frag);
  void icmp(Bytes p, uint32_t l4len);
  void icmp6(Bytes p, uint32_t l4len, const uint8_t* src, const uint8_t* dst);
  void gre(Bytes p, uint32_t l4len);
  // DNS summary ending in " (LEN)", or " [|domain]" where the data runs out.
  void dns(Bytes p, uint32_t len, bool mdns);
  void http(Bytes p, uint32_t len);
  void vxlan(Bytes p);
  void geneve(Bytes p);

 private:
  void timestamp(const pcap_pkthdr& h);
  void sll(Bytes p, uint32_t wirelen);
  void sll2(Bytes p, uint32_t wirelen);
  void endpoint(const uint8_t* a, int fam, int port, bool udp);
  static std::string_view service_name(uint16_t port, bool udp);
  // An address as tcpdump's ipaddr_string/ip6addr_string prints it (a name without -n).
  void addr(const uint8_t* a, int fam) {
    if (o_.numeric == 0 && o_.hosts) return out_->put(o_.hosts->name(a, fam));
    fam == 4 ? out_->ip4(a) : out_->ip6(a);
  }
  void host4(const uint8_t* a) { addr(a, 4); }
  void host6(const uint8_t* a) { addr(a, 6); }
  // A MAC as etheraddr_string prints it: without -n, an ethers(5) name or "(oui ...)".
  void mac(const uint8_t* m);
  // IP protocol: "ip-proto-N", or its protocols(5) name without -n.
  void ip_proto(uint8_t p);
  void trunc(const char* what) { out_->put(" [|"), out_->put(what), out_->put(']'); }
  void dump(const pcap_pkthdr& h, const uint8_t* data);
  size_t text_line(Bytes p, size_t i, uint32_t len, std::string_view prefix);
  // Entering a tunnel: the inner packet's addresses and ports describe the packet.
  void inner_summary() {
    const uint8_t* ns = sum_.net_start;
    sum_ = PacketSummary{};
    sum_.net_start = ns;
  }

  static std::string ip_text(const uint8_t* a, int fam);
  static std::string mac_text(const uint8_t* m);
  // A new layer object when collecting ("layer": name), else null. The pointer is
  // valid until the next layer() call.
  core::Json* layer(const char* name) {
    if (!collect_) return nullptr;
    layers_.push_back(core::Json{{"layer", name}});
    return &layers_.back();
  }

  PrintOptions o_;
  int linktype_;
  bool collect_ = false;
  core::Json layers_ = core::Json::array();
  Buf* out_ = nullptr;
  PacketSummary sum_;
  int depth_ = 0;  // tunnel nesting
  bool frag_ = false;  // current IPv4 datagram is a first fragment
  uint32_t wire_extra_ = 0;  // wire length - captured length (for "length N" fields)
  uint32_t remaining(Bytes p) const { return uint32_t(p.size()) + wire_extra_; }
  std::unordered_map<uint32_t, std::string> ifnames_;
  // -ttt / -ttttt state
  bool have_prev_ = false;
  timeval prev_{}, first_{};
  // cached "HH:MM:SS." for the current second
  time_t cached_sec_ = -1;
  char cached_clock_[32]{};
  size_t cached_len_ = 0;
  // TCP relative sequence numbers: per connection, the initial seq of each side.
  struct TcpKey {
    uint8_t a[16], b[16];
    uint16_t pa, pb;
    uint8_t fam;
    bool operator==(const TcpKey& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
  };
  struct TcpKeyHash {
    size_t operator()(const TcpKey& k) const noexcept;
  };
  struct TcpSeqs {
    uint32_t isn_a = 0, isn_b = 0;
  };
  std::unordered_map<TcpKey, TcpSeqs, TcpKeyHash> tcp_seq_;
};

// The value a checksum field should hold, given the ones'-complement sum with the
// stored value replaced: tcpdump shows 0xffff (not 0x0000) for a zero result.
inline uint16_t should_be(uint16_t v) { return v == 0 ? 0xffff : v; }

// Hex (and ASCII) dump lines as tcpdump -x / -X print them: "\n\t0x0000:  4500 ...".
void hex_dump(Buf& out, Bytes data, bool with_ascii, std::string_view prefix = "\n\t");
// -A: the bytes as text, non-printables as '.'.
void ascii_dump(Buf& out, Bytes data);
// libpcap link-type name and description ("EN10MB", "Ethernet").
std::string linktype_banner(int linktype);

}  // namespace netshoot::applet::capture

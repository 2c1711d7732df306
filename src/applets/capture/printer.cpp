// Printer: timestamps, the per-link-type entry, hex/ASCII dumps.
#include "printer.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <ctime>

#include "netshoot/addr.h"

namespace netshoot::applet::capture {

void Buf::ip6(const uint8_t* a) {
  char* p = reserve(INET6_ADDRSTRLEN);
  if (inet_ntop(AF_INET6, a, p, INET6_ADDRSTRLEN)) n_ += std::strlen(p);
}

std::string Printer::ip_text(const uint8_t* a, int fam) {
  return core::IpAddr::from_bytes({a, fam == 4 ? 4u : 16u}).to_string();
}

std::string Printer::mac_text(const uint8_t* m) {
  Buf b;
  b.mac(m);
  return std::string(b.view());
}

size_t Printer::TcpKeyHash::operator()(const TcpKey& k) const noexcept {
  uint64_t h = 1469598103934665603ULL;
  const auto* b = reinterpret_cast<const uint8_t*>(&k);
  for (size_t i = 0; i < sizeof k; ++i) h = (h ^ b[i]) * 1099511628211ULL;
  return size_t(h);
}

Printer::Printer(const PrintOptions& o, int linktype) : o_(o), linktype_(linktype) {
  tcp_seq_.reserve(1024);
}

void Printer::timestamp(const pcap_pkthdr& h) {
  Buf& b = *out_;
  auto usec = uint64_t(h.ts.tv_usec);
  switch (o_.ts) {
    case TsMode::none: return;
    case TsMode::epoch:
      b.u(uint64_t(h.ts.tv_sec)), b.put('.'), b.u_pad(usec, 6), b.put(' ');
      return;
    case TsMode::delta:
    case TsMode::since_first: {
      timeval base = o_.ts == TsMode::delta ? prev_ : first_;
      if (!have_prev_) base = h.ts, first_ = h.ts;
      int64_t d = (int64_t(h.ts.tv_sec) - base.tv_sec) * 1000000 + (h.ts.tv_usec - base.tv_usec);
      if (d < 0) b.put('-'), d = -d;
      else b.put(' ');
      int64_t s = d / 1000000;
      b.u_pad(uint64_t(s / 3600), 2), b.put(':'), b.u_pad(uint64_t(s / 60 % 60), 2), b.put(':');
      b.u_pad(uint64_t(s % 60), 2), b.put('.'), b.u_pad(uint64_t(d % 1000000), 6), b.put(' ');
      prev_ = h.ts, have_prev_ = true;
      return;
    }
    case TsMode::clock:
    case TsMode::date:
      if (h.ts.tv_sec != cached_sec_) {
        time_t t = h.ts.tv_sec;
        tm tmv{};
        localtime_r(&t, &tmv);
        cached_len_ = std::strftime(cached_clock_, sizeof cached_clock_,
                                    o_.ts == TsMode::date ? "%Y-%m-%d %H:%M:%S." : "%H:%M:%S.", &tmv);
        cached_sec_ = h.ts.tv_sec;
      }
      b.put(std::string_view(cached_clock_, cached_len_)), b.u_pad(usec, 6), b.put(' ');
      return;
  }
}

void Printer::packet(const pcap_pkthdr& h, const uint8_t* data, Buf& out) {
  out_ = &out;
  timestamp(h);
  decode_only(data, h.caplen, h.len, out);
  if (o_.hex || o_.hex_ascii || o_.ascii) dump(h, data);
  out.put('\n');
}

void Printer::decode_only(const uint8_t* data, uint32_t caplen, uint32_t wirelen, Buf& out) {
  out_ = &out;
  sum_ = PacketSummary{};
  depth_ = 0;
  wire_extra_ = wirelen > caplen ? wirelen - caplen : 0;
  if (collect_) layers_ = core::Json::array();
  link(Bytes(data, caplen), wirelen);
}

void Printer::link(Bytes p, uint32_t wirelen) {
  switch (linktype_) {
    case DLT_EN10MB: ether(p, wirelen, false); break;
    case DLT_LINUX_SLL: sll(p, wirelen); break;
    case DLT_LINUX_SLL2: sll2(p, wirelen); break;
    case DLT_RAW:
    case 101:  // LINKTYPE_RAW
      sum_.net_start = p.data();
      if (!p.empty() && (p[0] >> 4) == 6) ipv6(p);
      else ipv4(p);
      break;
    case DLT_IPV4: sum_.net_start = p.data(), ipv4(p); break;
    case DLT_IPV6: sum_.net_start = p.data(), ipv6(p); break;
    default:
      out_->put("unsupported link type ");
      out_->u(uint64_t(linktype_));
      break;
  }
}

// -x / -X / -A: from the network layer (-xx / -XX: the whole frame).
void Printer::dump(const pcap_pkthdr& h, const uint8_t* data) {
  const uint8_t* start = data;
  bool whole = o_.hex >= 2 || o_.hex_ascii >= 2;
  if (!whole && sum_.net_start && sum_.net_start >= data && sum_.net_start <= data + h.caplen) start = sum_.net_start;
  Bytes b(start, size_t(data + h.caplen - start));
  if (o_.hex_ascii) hex_dump(*out_, b, true);
  else if (o_.hex) hex_dump(*out_, b, false);
  else ascii_dump(*out_, b);
}

void hex_dump(Buf& out, Bytes d, bool with_ascii, std::string_view prefix) {
  for (size_t off = 0; off < d.size(); off += 16) {
    size_t n = std::min<size_t>(16, d.size() - off);
    out.put(prefix), out.put("0x"), out.hex_pad(off, 4), out.put(": ");
    size_t start = out.size();
    for (size_t k = 0; k < n; ++k) {
      if (k % 2 == 0) out.put(' ');
      out.byte_hex(d[off + k]);
    }
    if (with_ascii) {
      size_t used = out.size() - start;
      out.spaces(40 - used + 2);
      for (size_t k = 0; k < n; ++k) {
        uint8_t c = d[off + k];
        out.put(c > 0x20 && c < 0x7f ? char(c) : '.');
      }
    }
  }
}

void ascii_dump(Buf& out, Bytes d) {
  out.put('\n');
  for (size_t k = 0; k < d.size(); ++k) {
    uint8_t c = d[k];
    if (c == '\r') {
      // tcpdump drops a CR before LF and also one among the last two bytes
      // (it tests "more than one byte left"); elsewhere a CR is a '.'.
      if (d.size() - k - 1 > 1 && d[k + 1] != '\n') out.put('.');
    } else if ((c >= 0x21 && c < 0x7f) || c == '\t' || c == ' ' || c == '\n') {
      out.put(char(c));
    } else {
      out.put('.');
    }
  }
}

std::string linktype_banner(int linktype) {
  const char* name = pcap_datalink_val_to_name(linktype);
  const char* desc = pcap_datalink_val_to_description(linktype);
  std::string s = name ? name : ("DLT_" + std::to_string(linktype));
  if (desc) s += std::string(" (") + desc + ")";
  return s;
}

}  // namespace netshoot::applet::capture

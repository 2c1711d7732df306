// TCP: flags, relative sequence numbers (tcpdump's rule: the first segment of a
// connection carrying ACK sets both bases and prints absolute), options, checksum.
#include <cstdio>
#include <string>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/packet.h"
#include "printer.h"

namespace netshoot::applet::capture {

using core::load_be16;
using core::load_be32;

void Printer::endpoint(const uint8_t* a, int fam, int port, bool udp) {
  addr(a, fam);
  if (port < 0) return;
  out_->put('.');
  if (o_.numeric < 1) {
    auto name = service_name(uint16_t(port), udp);
    if (!name.empty()) return out_->put(name);
  }
  out_->u(uint64_t(port));
}

namespace {

// Port names as tcpdump shows them: the host's /etc/services (what tcpdump's
// getservent sees), else netshoot's built-in table when the file is missing.
struct ServiceNames {
  std::vector<std::string> tcp, udp;
  bool from_file = false;
  ServiceNames() {
    FILE* f = std::fopen("/etc/services", "re");
    if (!f) return;
    from_file = true;
    tcp.resize(65536), udp.resize(65536);
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
      char name[128], pp[64];
      if (line[0] == '#' || std::sscanf(line, "%127s %63s", name, pp) != 2) continue;
      unsigned port = 0;
      char proto[16];
      if (std::sscanf(pp, "%u/%15s", &port, proto) != 2 || port > 65535) continue;
      std::string_view pr(proto);
      if (pr != "udp" && pr != "tcp") continue;
      auto& t = pr == "udp" ? udp : tcp;
      if (t[port].empty()) t[port] = name;
    }
    std::fclose(f);
  }
};

}  // namespace

std::string_view Printer::service_name(uint16_t port, bool udp) {
  static const ServiceNames names;
  if (!names.from_file) return core::service_name(port, udp ? core::L4Proto::udp : core::L4Proto::tcp);
  return udp ? names.udp[port] : names.tcp[port];
}

namespace {

// Ones'-complement verification: returns 0 when the sum is right, else the value
// the checksum field should hold.
uint16_t l4_should_be(Bytes seg, const uint8_t* src, const uint8_t* dst, int fam, uint8_t proto,
                      size_t cksum_off, bool& ok) {
  size_t alen = fam == 4 ? 4 : 16;
  uint32_t s = core::checksum_partial(src, alen);
  s = core::checksum_partial(dst, alen, s);
  uint8_t tail[8] = {0, 0, 0, 0, 0, 0, 0, proto};
  uint32_t len = uint32_t(seg.size());
  if (fam == 4) {
    tail[6] = 0, tail[7] = proto;
    uint8_t t4[4] = {0, proto, uint8_t(len >> 8), uint8_t(len)};
    s = core::checksum_partial(t4, 4, s);
  } else {
    core::store_be32(tail, len);
    s = core::checksum_partial(tail, 8, s);
  }
  s = core::checksum_partial(seg.data(), seg.size(), s);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  ok = core::checksum_finish(s) == 0;
  uint16_t stored = load_be16(seg.data() + cksum_off);
  return should_be(core::checksum_finish(s + uint16_t(~stored)));
}

}  // namespace

void Printer::tcp(Bytes seg, uint32_t l4len, const uint8_t* src, const uint8_t* dst, int fam, bool frag) {
  Buf& b = *out_;
  sum_.l4 = "tcp";
  if (seg.size() < 4) {
    endpoint(src, fam, -1, false), b.put(" > "), endpoint(dst, fam, -1, false), b.put(":"), trunc("tcp");
    return;
  }
  uint16_t sport = load_be16(seg.data()), dport = load_be16(seg.data() + 2);
  sum_.sport = sport, sum_.dport = dport, sum_.has_ports = true;
  endpoint(src, fam, sport, false), b.put(" > "), endpoint(dst, fam, dport, false), b.put(": ");
  if (seg.size() < 20) {
    b.put("[|tcp]");
    return;
  }
  size_t hlen = size_t(seg[12] >> 4) * 4;
  if (hlen < 20) {
    b.put("tcp [bad hdr length "), b.u(hlen), b.put(" - too short, < 20]");
    return;
  }
  uint8_t flags = seg[13];
  sum_.tcp_flags = flags;
  uint32_t seq = load_be32(seg.data() + 4), ack = load_be32(seg.data() + 8);
  uint16_t win = load_be16(seg.data() + 14);
  uint32_t length = l4len >= hlen ? l4len - uint32_t(hlen) : 0;
  if (seg.size() > hlen) sum_.payload = seg.subspan(hlen);
  if (o_.quiet) {
    b.put("tcp "), b.u(length);
    return;
  }
  char fl[16];
  core::format_tcp_flags(flags, fl, sizeof fl);
  b.put("Flags ["), b.put(fl), b.put(']');
  if (o_.verbose && !frag && seg.size() >= l4len && l4len >= hlen) {
    bool ok = false;
    uint16_t should = l4_should_be(seg.first(l4len), src, dst, fam, 6, 16, ok);
    b.put(", cksum 0x"), b.hex_pad(load_be16(seg.data() + 16), 4);
    if (ok) b.put(" (correct)");
    else b.put(" (incorrect -> 0x"), b.hex_pad(should, 4), b.put(')');
  }
  // Relative numbering.
  uint32_t ack_base = 0;
  if (flags & core::tcpflag::ack) {
    TcpKey k{};
    size_t alen = fam == 4 ? 4 : 16;
    bool fwd = std::memcmp(src, dst, alen) < 0 || (std::memcmp(src, dst, alen) == 0 && sport <= dport);
    std::memcpy(k.a, fwd ? src : dst, alen), std::memcpy(k.b, fwd ? dst : src, alen);
    k.pa = fwd ? sport : dport, k.pb = fwd ? dport : sport, k.fam = uint8_t(fam);
    auto it = tcp_seq_.find(k);
    if (it == tcp_seq_.end() || (flags & core::tcpflag::syn)) {
      TcpSeqs s;
      (fwd ? s.isn_a : s.isn_b) = seq;
      (fwd ? s.isn_b : s.isn_a) = ack - 1;
      tcp_seq_[k] = s;
    } else {
      uint32_t mine = fwd ? it->second.isn_a : it->second.isn_b;
      uint32_t theirs = fwd ? it->second.isn_b : it->second.isn_a;
      seq -= mine, ack -= theirs, ack_base = theirs;
    }
  }
  if (length > 0 || o_.verbose >= 2 || (flags & (core::tcpflag::syn | core::tcpflag::fin | core::tcpflag::rst))) {
    b.put(", seq "), b.u(seq);
    if (length > 0) b.put(':'), b.u(uint32_t(seq + length));
  }
  if (flags & core::tcpflag::ack) b.put(", ack "), b.u(ack);
  b.put(", win "), b.u(win);
  if (flags & core::tcpflag::urg) b.put(", urg "), b.u(load_be16(seg.data() + 18));
  if (hlen > 20) {
    if (seg.size() < hlen) {
      b.put(", options ["), b.put("|tcp]]");
      return;
    }
    b.put(", options [");
    Bytes opt = seg.subspan(20, hlen - 20);
    bool first = true;
    for (size_t k = 0; k < opt.size();) {
      uint8_t kind = opt[k];
      if (!first) b.put(',');
      first = false;
      if (kind == 0) {
        b.put("eol");
        break;
      }
      if (kind == 1) {
        b.put("nop"), ++k;
        continue;
      }
      if (k + 1 >= opt.size() || opt[k + 1] < 2 || k + opt[k + 1] > opt.size()) {
        b.put("bad opt");
        break;
      }
      uint8_t len = opt[k + 1];
      const uint8_t* d = opt.data() + k + 2;
      size_t dl = len - 2u;
      switch (kind) {
        case 2:
          if (dl == 2) b.put("mss "), b.u(load_be16(d));
          else b.put("mss [bad opt]");
          break;
        case 3:
          if (dl == 1) b.put("wscale "), b.u(d[0]);
          else b.put("wscale [bad opt]");
          break;
        case 4: b.put("sackOK"); break;
        case 5:
          b.put("sack "), b.u(dl / 8), b.put(' ');
          for (size_t s = 0; s + 8 <= dl; s += 8) {
            b.put('{'), b.u(uint32_t(load_be32(d + s) - ack_base)), b.put(':');
            b.u(uint32_t(load_be32(d + s + 4) - ack_base)), b.put('}');
          }
          break;
        case 8:
          if (dl == 8) b.put("TS val "), b.u(load_be32(d)), b.put(" ecr "), b.u(load_be32(d + 4));
          else b.put("TS [bad opt]");
          break;
        case 30: b.put("mptcp"); break;
        case 34:
          if (dl == 0) b.put("tfo cookiereq");
          else {
            b.put("tfo cookie ");
            for (size_t i = 0; i < dl; ++i) b.byte_hex(d[i]);
          }
          break;
        default:
          b.put("unknown-"), b.u(kind);
          if (dl) {
            b.put(" 0x");
            for (size_t i = 0; i < dl; ++i) b.byte_hex(d[i]);
          }
          break;
      }
      k += len;
    }
    b.put(']');
  }
  b.put(", length "), b.u(length);
  if (seg.size() > hlen) sum_.payload = seg.subspan(hlen);
  if (length > 0 && (sport == 80 || dport == 80 || sport == 8080 || dport == 8080)) http(seg.subspan(std::min(hlen, seg.size())));
}

// tcpdump's one-line HTTP summary: ": HTTP: <request or status line>", or ": HTTP".
void Printer::http(Bytes p) {
  Buf& b = *out_;
  static const std::string_view kStarts[] = {"GET ", "PUT ", "POST ", "HEAD ", "DELETE ", "OPTIONS ", "TRACE ",
                                             "CONNECT ", "PATCH ", "HTTP/"};
  std::string_view s(reinterpret_cast<const char*>(p.data()), p.size());
  bool known = false;
  for (auto k : kStarts) known |= s.starts_with(k);
  b.put(": HTTP");
  if (!known) return;
  size_t eol = s.find("\r\n");
  if (eol == std::string_view::npos) {
    b.put(": "), b.put(s.substr(0, std::min<size_t>(s.size(), 300))), trunc("http");
    return;
  }
  b.put(": ");
  for (char c : s.substr(0, eol)) b.put((c >= 0x20 && c < 0x7f) ? c : '.');
}

}  // namespace netshoot::applet::capture

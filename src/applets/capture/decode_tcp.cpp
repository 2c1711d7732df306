// TCP: flags, relative sequence numbers (tcpdump's rule: the first segment of a
// connection carrying ACK sets both bases and prints absolute), options, checksum.
#include <strings.h>

#include <cctype>
#include <string>

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

std::string_view Printer::service_name(uint16_t port, bool udp) { return port_name(port, udp); }

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
  if (auto* L = layer("tcp")) {
    auto& j = *L;
    char fl[16];
    core::format_tcp_flags(flags, fl, sizeof fl);
    j["sport"] = sport, j["dport"] = dport, j["seq"] = seq, j["ack"] = ack, j["flags"] = fl;
    j["window"] = win, j["header_length"] = hlen, j["payload_length"] = length;
    if (flags & core::tcpflag::urg) j["urgent"] = load_be16(seg.data() + 18);
    if (hlen > 20 && seg.size() >= hlen) {
      core::Json opts = core::Json::array();
      Bytes o = seg.subspan(20, hlen - 20);
      for (size_t k = 0; k < o.size();) {
        uint8_t kind = o[k];
        if (kind == 0) break;
        if (kind == 1) { ++k; continue; }
        if (k + 1 >= o.size() || o[k + 1] < 2 || k + o[k + 1] > o.size()) break;
        const uint8_t* d = o.data() + k + 2;
        size_t dl = o[k + 1] - 2u;
        if (kind == 2 && dl == 2) opts.push_back({{"mss", load_be16(d)}});
        else if (kind == 3 && dl == 1) opts.push_back({{"wscale", d[0]}});
        else if (kind == 4) opts.push_back("sackOK");
        else if (kind == 8 && dl == 8) opts.push_back({{"ts_val", load_be32(d)}, {"ts_ecr", load_be32(d + 4)}});
        else if (kind == 5) {
          core::Json blocks = core::Json::array();
          for (size_t i = 0; i + 8 <= dl; i += 8) blocks.push_back({load_be32(d + i), load_be32(d + i + 4)});
          opts.push_back({{"sack", blocks}});
        } else opts.push_back({{"kind", kind}, {"length", dl + 2}});
        k += o[k + 1];
      }
      j["options"] = opts;
    }
  }
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
  if (length > 0 && (sport == 80 || dport == 80 || sport == 8080 || dport == 8080))
    http(seg.subspan(std::min(hlen, seg.size())), length);
}

namespace {

// A request method or response code token as tcpdump's text-protocol printer reads
// it: printable ASCII up to a blank or line end, then blanks skipped. Returns the
// index after it, or 0 when there is no usable token.
size_t http_token(Bytes p, size_t i, std::string& tok) {
  tok.clear();
  for (; i < p.size(); ++i) {
    uint8_t c = p[i];
    if (c >= 0x80) return 0;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') break;
    if (c < 0x20 || c == 0x7f || tok.size() + 2 > 129) return 0;
    tok += char(c);
  }
  if (tok.empty()) return 0;
  while (i < p.size() && p[i] == ' ') ++i;
  return i;
}

bool http_method(const std::string& t) {
  static const char* const kMethods[] = {
      "GET", "PUT", "COPY", "HEAD", "LOCK", "MOVE", "POLL", "POST", "BCOPY", "BMOVE", "MKCOL", "TRACE", "LABEL",
      "MERGE", "DELETE", "SEARCH", "UNLOCK", "REPORT", "UPDATE", "NOTIFY", "BDELETE", "CONNECT", "OPTIONS",
      "CHECKIN", "PROPFIND", "CHECKOUT", "CCM_POST", "SUBSCRIBE", "PROPPATCH", "BPROPFIND", "BPROPPATCH",
      "UNCHECKOUT", "MKACTIVITY", "MKWORKSPACE", "UNSUBSCRIBE", "RPC_CONNECT", "VERSION-CONTROL", "BASELINE-CONTROL"};
  for (const char* m : kMethods)
    if (strcasecmp(m, t.c_str()) == 0) return true;
  return false;
}

}  // namespace

// One text line from i: prefix + the line, returning the index after its end of line;
// 0 when the line holds binary data, a bare CR, or runs past the captured bytes. A
// printable tail without an end of line prints with tcpdump's " [|http]".
size_t Printer::text_line(Bytes p, size_t i, uint32_t len, std::string_view prefix) {
  Buf& b = *out_;
  size_t start = i;
  for (; i < len; ++i) {
    if (i >= p.size()) {  // beyond the snapshot
      trunc("http");
      return 0;
    }
    uint8_t c = p[i];
    size_t end = 0;
    if (c == '\n') {
      end = i + 1;
    } else if (c == '\r') {
      if (i + 1 >= len) return 0;
      if (i + 1 >= p.size()) return trunc("http"), 0;
      if (p[i + 1] != '\n') return 0;
      end = i + 2;
    } else if ((c < 0x20 && c != '\t') || c >= 0x7f) {
      return 0;
    }
    if (end) {
      b.put(prefix), b.put(std::string_view(reinterpret_cast<const char*>(p.data()) + start, i - start));
      return end;
    }
  }
  b.put(prefix), b.put(std::string_view(reinterpret_cast<const char*>(p.data()) + start, i - start));
  trunc("http");
  return 0;
}

// HTTP as tcpdump prints it: the request or status line (all lines with -v) when the
// first token is a known method or the second a 3-digit code; else just "HTTP".
void Printer::http(Bytes p, uint32_t len) {
  Buf& b = *out_;
  b.put(": HTTP");
  std::string tok;
  bool show = false;
  size_t i = http_token(p, 0, tok);
  if (i != 0) {
    show = http_method(tok);
    i = http_token(p, i, tok);
    if (i != 0 && tok.size() == 3 && std::isdigit(static_cast<unsigned char>(tok[0])) &&
        std::isdigit(static_cast<unsigned char>(tok[1])) && std::isdigit(static_cast<unsigned char>(tok[2])))
      show = true;
  }
  if (auto* L = layer("http")) {
    std::string first;
    for (uint8_t c : p) {
      if (c == '\r' || c == '\n' || first.size() >= 1024) break;
      first += (c >= 0x20 && c < 0x7f) ? char(c) : '.';
    }
    (*L)["length"] = len, (*L)["line"] = first, (*L)["recognized"] = show;
  }
  if (!show) return;
  if (!o_.verbose) {
    text_line(p, 0, len, ": ");
    return;
  }
  b.put(", length: "), b.u(len);
  for (size_t k = 0; k < len;) {
    size_t next = text_line(p, k, len, "\n\t");
    if (next == 0) break;
    k = next;
  }
}

}  // namespace netshoot::applet::capture

// DNS and mDNS as tcpdump summarises them: "12345+ [1au] A? example.com. (40)" for
// a query, "12345* 2/0/1 A 192.0.2.1, ... (56)" for a response; -v adds record
// owners and SOA details, -vv the question of a response and the authority and
// additional sections (EDNS options), -vvv the TTLs.
#include <variant>

#include "netshoot/dns.h"
#include "netshoot/packet.h"
#include "printer.h"

namespace netshoot::applet::capture {

using core::load_be16;
namespace dns = core::dns;

namespace {

// The record types tcpdump 4.99 knows by name; others print as "TypeN".
const char* const kTypes1[] = {nullptr, "A", "NS", "MD", "MF", "CNAME", "SOA", "MB", "MG", "MR", "NULL", "WKS",
                               "PTR", "HINFO", "MINFO", "MX", "TXT", "RP", "AFSDB", "X25", "ISDN", "RT", "NSAP",
                               "NSAP_PTR", "SIG", "KEY", "PX", "GPOS", "AAAA", "LOC", "NXT", "EID", "NIMLOC",
                               "SRV", "ATMA", "NAPTR", "KX", "CERT", "A6", "DNAME", "SINK", "OPT", "APL", "DS",
                               "SSHFP", "IPSECKEY", "RRSIG", "NSEC", "DNSKEY"};
const char* const kTypes99[] = {"SPF", "UINFO", "UID", "GID", "UNSPEC", "UNSPECA"};
const char* const kTypes249[] = {"TKEY", "TSIG", "IXFR", "AXFR", "MAILB", "MAILA", "ANY", "URI"};

void put_type(Buf& b, uint16_t t) {
  const char* n = nullptr;
  if (t >= 1 && t <= 48) n = kTypes1[t];
  else if (t >= 99 && t <= 104) n = kTypes99[t - 99];
  else if (t >= 249 && t <= 256) n = kTypes249[t - 249];
  if (n) return b.put(n);
  b.put("Type"), b.u(t);
}

void put_class(Buf& b, uint16_t c) {
  switch (c) {
    case 1: b.put("IN"); return;
    case 3: b.put("CHAOS"); return;
    case 4: b.put("HS"); return;
    case 255: b.put("ANY"); return;
    default: b.put("(Class "), b.u(c), b.put(')'); return;
  }
}

// A character-string as tcpdump shows it: M- for the high bit, ^X for controls.
void put_chars(Buf& b, std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) b.put("M-"), c &= 0x7f;
    if (c < 0x20 || c == 0x7f) b.put('^'), b.put(char(c ^ 0x40));
    else b.put(char(c));
  }
}

void put_hex(Buf& b, std::span<const uint8_t> d) {
  for (uint8_t x : d) b.byte_hex(x);
}

// "1d1h1m1s", "5m", "0s" (tcpdump's relative time).
void put_relts(Buf& b, uint32_t secs) {
  if (secs == 0) return b.put("0s");
  static const struct { uint32_t n; char c; } kUnits[] = {{31536000, 'y'}, {604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto u : kUnits)
    if (secs >= u.n) b.u(secs / u.n), b.put(u.c), secs %= u.n;
}

void put_edns_option(Buf& b, const dns::EdnsOption& o) {
  const auto& d = o.data;
  switch (o.code) {
    case 3:
      b.put("NSID");
      if (!d.empty()) b.put(' '), put_hex(b, d);
      return;
    case 8:  // client subnet: family, source and scope prefix lengths, address prefix
      b.put("ECS");
      if (d.size() >= 4 && (load_be16(d.data()) == 1 || load_be16(d.data()) == 2)) {
        bool v4 = load_be16(d.data()) == 1;
        uint8_t a[16] = {};
        std::memcpy(a, d.data() + 4, std::min<size_t>(d.size() - 4, v4 ? 4 : 16));
        b.put(' ');
        if (v4) b.ip4(a);
        else b.ip6(a);
        b.put('/'), b.u(d[2]), b.put('/'), b.u(d[3]);
      }
      return;
    case 9:
      b.put("EXPIRE");
      if (d.size() == 4) b.put(' '), b.u(core::load_be32(d.data())), b.put(" sec");
      return;
    case 10:
      b.put("COOKIE");
      if (!d.empty()) b.put(' '), put_hex(b, std::span(d).first(std::min<size_t>(8, d.size())));
      if (d.size() > 8) b.put(' '), put_hex(b, std::span(d).subspan(8));
      return;
    case 11:
      b.put("KEEPALIVE");
      if (d.size() == 2) b.put(' '), b.u(load_be16(d.data()) / 10), b.put('.'), b.u(load_be16(d.data()) % 10), b.put(" sec");
      return;
    case 12: b.put("PADDING ("), b.u(d.size()), b.put(')'); return;
    default:
      b.put("Opt"), b.u(o.code);
      if (!d.empty()) b.put(' '), put_hex(b, d);
      return;
  }
}

// Walks the message bytes the way tcpdump's printer does, printing as it goes, so a
// message cut short (a snapshot length, an ICMP error quoting it) prints every
// record that is there. Any read past the data ends the walk with " [|domain]".
class DnsWalker {
 public:
  DnsWalker(Buf& b, Bytes p, int verbose, bool mdns) : b_(b), p_(p), v_(verbose), mdns_(mdns) {}

  // The name at `off` printed as "a.b." ("." for the root); returns the offset after
  // it in the record, or 0 when it runs out of data or loops.
  size_t name(size_t off, bool print) {
    size_t end = 0;
    int jumps = 0;
    bool any = false;
    while (true) {
      if (off >= p_.size()) return 0;
      uint8_t l = p_[off];
      if ((l & 0xc0) == 0xc0) {
        if (off + 1 >= p_.size() || ++jumps > 64) return 0;
        if (!end) end = off + 2;
        off = size_t(l & 0x3f) << 8 | p_[off + 1];
        continue;
      }
      if (l & 0xc0) return 0;  // extended label types: not printed here
      if (l == 0) {
        if (print && !any) b_.put('.');
        return end ? end : off + 1;
      }
      if (off + 1 + l > p_.size()) return 0;
      if (print) put_chars(b_, std::string_view(reinterpret_cast<const char*>(p_.data()) + off + 1, l)), b_.put('.');
      any = true;
      off += 1 + size_t(l);
    }
  }

  // " TYPE? name." Returns the offset after the question, 0 when short.
  size_t question(size_t off) {
    size_t n = name(off, false);
    if (!n || n + 4 > p_.size()) return 0;
    uint16_t type = load_be16(p_.data() + n), cls = load_be16(p_.data() + n + 2);
    b_.put(' '), put_type(b_, type);
    uint16_t c = mdns_ ? uint16_t(cls & 0x7fff) : cls;
    if (c != 1) b_.put(' '), put_class(b_, c);
    if (mdns_) b_.put(cls & 0x8000 ? " (QU)" : " (QM)");
    b_.put("? ");
    name(off, true);
    return n + 4;
  }

  // One resource record. Returns the offset after it; p_.size() when the fixed part
  // is cut (tcpdump then ends the section quietly); 0 when short otherwise.
  size_t record(size_t off) {
    size_t n;
    if (v_) {
      b_.put(' ');
      n = name(off, true);
    } else {
      n = name(off, false);
    }
    if (!n) return 0;
    if (n + 10 > p_.size()) return p_.size();
    const uint8_t* h = p_.data() + n;
    uint16_t type = load_be16(h), cls_raw = load_be16(h + 2);
    uint32_t ttl = core::load_be32(h + 4);
    uint16_t rdlen = load_be16(h + 8);
    uint16_t cls = mdns_ && type != 41 ? uint16_t(cls_raw & 0x7fff) : cls_raw;
    if (type != 41) {
      if (cls != 1) b_.put(' '), put_class(b_, cls);
      if (mdns_ && (cls_raw & 0x8000)) b_.put(" (Cache flush)");
      if (v_ > 2) b_.put(" ["), put_relts(b_, ttl), b_.put(']');
    }
    b_.put(' '), put_type(b_, type);
    size_t rd = n + 10, end = rd + rdlen;
    if (end > p_.size()) return 0;
    const uint8_t* d = p_.data() + rd;
    switch (type) {
      case 1:
        if (rdlen < 4) return 0;
        b_.put(' '), b_.ip4(d);
        break;
      case 28:
        if (rdlen < 16) return 0;
        b_.put(' '), b_.ip6(d);
        break;
      case 2: case 5: case 12: case 39:
        b_.put(' ');
        if (!name(rd, true)) return 0;
        break;
      case 15:
        if (rdlen < 2) return 0;
        b_.put(' ');
        if (!name(rd + 2, true)) return 0;
        b_.put(' '), b_.u(load_be16(d));
        break;
      case 33:
        if (rdlen < 6) return 0;
        b_.put(' ');
        if (!name(rd + 6, true)) return 0;
        b_.put(':'), b_.u(load_be16(d + 4)), b_.put(' '), b_.u(load_be16(d)), b_.put(' '), b_.u(load_be16(d + 2));
        break;
      case 6: {
        if (!v_) break;
        b_.put(' ');
        size_t k = name(rd, true);
        if (!k) return 0;
        b_.put(' ');
        k = name(k, true);
        if (!k || k + 20 > p_.size()) return 0;
        for (int i = 0; i < 5; ++i) b_.put(' '), b_.u(core::load_be32(p_.data() + k + 4 * size_t(i)));
        break;
      }
      case 16:
        for (size_t k = rd; k < end;) {
          size_t l = p_[k];
          if (k + 1 + l > p_.size()) return 0;
          b_.put(" \""), put_chars(b_, std::string_view(reinterpret_cast<const char*>(p_.data()) + k + 1, l)), b_.put('"');
          k += 1 + l;
        }
        break;
      case 41: {
        b_.put(" UDPsize="), b_.u(cls_raw);
        if (ttl & 0x8000) b_.put(" DO");
        if (rdlen == 0) break;
        b_.put(" [");
        for (size_t k = rd; k < end;) {
          if (k + 4 > end) return 0;
          dns::EdnsOption o;
          o.code = load_be16(p_.data() + k);
          size_t ol = load_be16(p_.data() + k + 2);
          if (k + 4 + ol > end) return 0;
          o.data.assign(p_.data() + k + 4, p_.data() + k + 4 + ol);
          if (k != rd) b_.put(',');
          put_edns_option(b_, o);
          k += 4 + ol;
        }
        b_.put(']');
        break;
      }
      default: break;
    }
    return end;
  }

  // " label rr, rr, ..." for `count` records from off; returns the offset after them,
  // 0 when short. `label` is printed before the first one (nullptr: none).
  size_t records(size_t off, uint16_t count, const char* label) {
    if (count == 0) return off;
    if (off >= p_.size()) return 0;
    if (label) b_.put(label);
    if (!(off = record(off))) return 0;
    for (--count; off < p_.size() && count; --count) {
      b_.put(',');
      if (!(off = record(off))) return 0;
    }
    return count ? 0 : off;
  }

 private:
  Buf& b_;
  Bytes p_;
  int v_;
  bool mdns_;
};

// JSON names are written without the root's trailing dot ("example.com").
std::string bare(const std::string& n) { return !n.empty() && n.back() == '.' && n.size() > 1 ? n.substr(0, n.size() - 1) : n; }

core::Json rr_json(const dns::ResourceRecord& rr) {
  return core::Json{{"name", bare(rr.name)}, {"type", dns::type_to_string(rr.type)},
                    {"class", dns::class_to_string(rr.rclass)}, {"ttl", rr.ttl}, {"data", dns::format_rdata(rr)}};
}

}  // namespace

void Printer::dns(Bytes p, uint32_t len, bool mdns) {
  Buf& b = *out_;
  if (p.size() < 12) {
    trunc("domain");
    return;
  }
  uint16_t id = load_be16(p.data());
  uint8_t f1 = p[2], f2 = p[3];
  bool qr = f1 & 0x80;
  uint8_t opcode = (f1 >> 3) & 15;
  uint16_t qd = load_be16(p.data() + 4), an = load_be16(p.data() + 6), ns = load_be16(p.data() + 8),
           ar = load_be16(p.data() + 10);
  static const char* kOps[16] = {"", " inv_q", " stat", " op3", " notify", " update", " op6", " op7",
                                 " op8", " updateA", " updateD", " updateDA", " updateM", " updateMA",
                                 " zoneInit", " zoneRef"};
  b.u(id), b.put(kOps[opcode]);
  if (auto* L = layer("dns")) {
    auto msg = dns::parse_message(p);
    auto& j = *L;
    j["id"] = id, j["qr"] = qr, j["opcode"] = opcode, j["rcode"] = f2 & 15;
    core::Json fl = core::Json::array();
    if (f1 & 0x04) fl.push_back("aa");
    if (f1 & 0x02) fl.push_back("tc");
    if (f1 & 0x01) fl.push_back("rd");
    if (f2 & 0x80) fl.push_back("ra");
    if (f2 & 0x20) fl.push_back("ad");
    if (f2 & 0x10) fl.push_back("cd");
    j["flags"] = fl;
    j["counts"] = {qd, an, ns, ar};
    if (msg) {
      core::Json qs = core::Json::array();
      for (const auto& q : msg->questions)
        qs.push_back({{"name", bare(q.name)}, {"type", dns::type_to_string(q.qtype)}, {"class", dns::class_to_string(q.qclass)}});
      j["questions"] = qs;
      for (auto [key, sec] : {std::pair{"answers", &msg->answers}, {"authority", &msg->authority}, {"additional", &msg->additional}}) {
        core::Json a = core::Json::array();
        for (const auto& rr : *sec) a.push_back(rr_json(rr));
        j[key] = a;
      }
      if (msg->edns) j["edns"] = {{"udp_size", msg->edns->udp_size}, {"do", msg->edns->dnssec_ok}};
    } else {
      j["error"] = msg.error().message();
    }
  }
  DnsWalker w(b, p, o_.verbose, mdns);
  size_t off = 12;
  auto short_data = [&] { trunc("domain"); };
  if (qr) {
    uint16_t rc = f2 & 15;
    static const char* kRcodes[16] = {"", " FormErr", " ServFail", " NXDomain", " NotImp", " Refused", " YXDomain",
                                      " YXRRSet", " NXRRSet", " NotAuth", " NotZone", " Resp11", " Resp12",
                                      " Resp13", " Resp14", " NoChange"};
    b.put(kRcodes[rc]);
    if (f1 & 0x04) b.put('*');
    if (!(f2 & 0x80)) b.put('-');
    if (f1 & 0x02) b.put('|');
    if (f2 & 0x20) b.put('$');
    if (qd != 1) b.put(" ["), b.u(qd), b.put("q]");
    for (uint16_t i = 0; i < qd; ++i) {
      if (o_.verbose >= 2) {
        if (i) b.put(',');
        b.put(" q:");
        off = w.question(off);
      } else {
        off = w.name(off, false);
        off = off && off + 4 <= p.size() ? off + 4 : 0;
      }
      if (!off) return short_data();
    }
    b.put(' '), b.u(an), b.put('/'), b.u(ns), b.put('/'), b.u(ar);
    if (!(off = w.records(off, an, nullptr))) return short_data();
    if (o_.verbose >= 2) {
      if (!(off = w.records(off, ns, " ns:"))) return short_data();
      if (!(off = w.records(off, ar, " ar:"))) return short_data();
    }
  } else {
    if (f1 & 0x01) b.put('+');
    if (f2 & 0x10) b.put('%');
    // Header bits a query should not have set (AA, TC, RA, Z, rcode): the whole word.
    uint16_t word = uint16_t(f1 << 8 | f2);
    if (word & 0x6cf) b.put(" [b2&3=0x"), b.hex(word), b.put(']');
    if (opcode == 1) {
      if (qd) b.put(" ["), b.u(qd), b.put("q]");
      if (an != 1) b.put(" ["), b.u(an), b.put("a]");
    } else {
      if (an) b.put(" ["), b.u(an), b.put("a]");
      if (qd != 1) b.put(" ["), b.u(qd), b.put("q]");
    }
    if (ns) b.put(" ["), b.u(ns), b.put("n]");
    if (ar) b.put(" ["), b.u(ar), b.put("au]");
    for (uint16_t i = 0; i < qd; ++i) {
      if (i && off >= p.size()) return short_data();
      if (!(off = w.question(off))) return short_data();
    }
    if (o_.verbose >= 2) {
      if (!(off = w.records(off, an, " an:"))) return short_data();
      if (!(off = w.records(off, ns, " ns:"))) return short_data();
      if (!(off = w.records(off, ar, " ar:"))) return short_data();
    }
  }
  b.put(" ("), b.u(len), b.put(')');
}

}  // namespace netshoot::applet::capture

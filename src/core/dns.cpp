// DNS wire format: names, numbers ↔ names, addresses, header/message parse and build,
// EDNS helpers. RDATA lives in dns_rdata.cpp.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

#include "dns_internal.h"
#include "netshoot/dns.h"

namespace netshoot::core::dns {

// ---- numbers ↔ names -------------------------------------------------------------
namespace {

struct CodeName {
  uint16_t code;
  const char* name;
};

constexpr CodeName kTypes[] = {
    {1, "A"},          {2, "NS"},         {3, "MD"},        {4, "MF"},
    {5, "CNAME"},      {6, "SOA"},        {7, "MB"},        {8, "MG"},
    {9, "MR"},         {10, "NULL"},      {11, "WKS"},      {12, "PTR"},
    {13, "HINFO"},     {14, "MINFO"},     {15, "MX"},       {16, "TXT"},
    {17, "RP"},        {18, "AFSDB"},     {19, "X25"},      {20, "ISDN"},
    {21, "RT"},        {22, "NSAP"},      {23, "NSAP-PTR"}, {24, "SIG"},
    {25, "KEY"},       {26, "PX"},        {27, "GPOS"},     {28, "AAAA"},
    {29, "LOC"},       {30, "NXT"},       {33, "SRV"},      {35, "NAPTR"},
    {36, "KX"},        {37, "CERT"},      {38, "A6"},       {39, "DNAME"},
    {41, "OPT"},       {42, "APL"},       {43, "DS"},       {44, "SSHFP"},
    {45, "IPSECKEY"},  {46, "RRSIG"},     {47, "NSEC"},     {48, "DNSKEY"},
    {49, "DHCID"},     {50, "NSEC3"},     {51, "NSEC3PARAM"}, {52, "TLSA"},
    {53, "SMIMEA"},    {55, "HIP"},       {59, "CDS"},      {60, "CDNSKEY"},
    {61, "OPENPGPKEY"}, {62, "CSYNC"},    {63, "ZONEMD"},   {64, "SVCB"},
    {65, "HTTPS"},     {99, "SPF"},       {104, "NID"},     {105, "L32"},
    {106, "L64"},      {107, "LP"},       {108, "EUI48"},   {109, "EUI64"},
    {249, "TKEY"},     {250, "TSIG"},     {251, "IXFR"},    {252, "AXFR"},
    {253, "MAILB"},    {254, "MAILA"},    {255, "ANY"},     {256, "URI"},
    {257, "CAA"},      {258, "AVC"},      {259, "DOA"},     {260, "AMTRELAY"},
    {32768, "TA"},     {32769, "DLV"},
};

constexpr CodeName kClasses[] = {{1, "IN"}, {3, "CH"}, {4, "HS"}, {254, "NONE"}, {255, "ANY"}};

constexpr CodeName kRcodes[] = {
    {0, "NOERROR"},  {1, "FORMERR"},  {2, "SERVFAIL"}, {3, "NXDOMAIN"},  {4, "NOTIMP"},
    {5, "REFUSED"},  {6, "YXDOMAIN"}, {7, "YXRRSET"},  {8, "NXRRSET"},   {9, "NOTAUTH"},
    {10, "NOTZONE"}, {16, "BADVERS"}, {17, "BADKEY"},  {18, "BADTIME"},  {19, "BADMODE"},
    {20, "BADNAME"}, {21, "BADALG"},  {22, "BADTRUNC"}, {23, "BADCOOKIE"},
};

constexpr CodeName kOpcodes[] = {
    {0, "QUERY"}, {1, "IQUERY"}, {2, "STATUS"}, {4, "NOTIFY"}, {5, "UPDATE"}};

constexpr CodeName kEdnsOptions[] = {
    {3, "NSID"},     {5, "DAU"},     {6, "DHU"},     {7, "N3U"},    {8, "CLIENT-SUBNET"},
    {9, "EXPIRE"},   {10, "COOKIE"}, {11, "KEEPALIVE"}, {12, "PADDING"}, {13, "CHAIN"},
    {14, "KEY-TAG"}, {15, "EDE"},
};

template <size_t N>
const char* find_name(const CodeName (&table)[N], uint16_t code) {
  for (const auto& e : table)
    if (e.code == code) return e.name;
  return nullptr;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

template <size_t N>
std::optional<uint16_t> find_code(const CodeName (&table)[N], std::string_view s,
                                  std::string_view generic_prefix) {
  for (const auto& e : table)
    if (iequals(e.name, s)) return e.code;
  if (s.size() > generic_prefix.size() && iequals(s.substr(0, generic_prefix.size()), generic_prefix)) {
    auto digits = s.substr(generic_prefix.size());
    unsigned v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec == std::errc() && p == digits.data() + digits.size() && v <= 0xFFFF)
      return static_cast<uint16_t>(v);
  }
  return std::nullopt;
}

}  // namespace

std::string type_to_string(uint16_t t) {
  if (const char* n = find_name(kTypes, t)) return n;
  return "TYPE" + std::to_string(t);
}
std::optional<uint16_t> type_from_string(std::string_view s) { return find_code(kTypes, s, "TYPE"); }
std::string class_to_string(uint16_t c) {
  if (const char* n = find_name(kClasses, c)) return n;
  return "CLASS" + std::to_string(c);
}
std::optional<uint16_t> class_from_string(std::string_view s) {
  if (iequals(s, "CHAOS")) return rclass::CH;
  if (iequals(s, "HESIOD")) return rclass::HS;
  return find_code(kClasses, s, "CLASS");
}
std::string rcode_to_string(uint16_t rc) {
  if (const char* n = find_name(kRcodes, rc)) return n;
  return "RCODE" + std::to_string(rc);
}
std::string opcode_to_string(uint8_t op) {
  if (const char* n = find_name(kOpcodes, op)) return n;
  return "OPCODE" + std::to_string(op);
}
std::string edns_option_name(uint16_t code) {
  if (const char* n = find_name(kEdnsOptions, code)) return n;
  return "OPT" + std::to_string(code);
}

// ---- addresses -------------------------------------------------------------------
std::string reverse_name(const IpAddr& addr) {
  std::string out;
  auto b = addr.bytes();
  if (addr.is_v4()) {
    for (int i = 3; i >= 0; --i) out += std::to_string(b[size_t(i)]) + ".";
    return out + "in-addr.arpa.";
  }
  static const char* hex = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out += hex[b[size_t(i)] & 0xF];
    out += '.';
    out += hex[b[size_t(i)] >> 4];
    out += '.';
  }
  return out + "ip6.arpa.";
}

Result<std::string> reverse_name(std::string_view ip_text) {
  auto a = IpAddr::parse(ip_text);  // numeric; "fe80::1%eth0" scopes allowed
  if (!a) return make_error("reverse name: not an IP address: " + std::string(ip_text));
  return reverse_name(*a);
}

// ---- names -----------------------------------------------------------------------
namespace {

// Presentation → list of raw labels.
Result<std::vector<std::string>> split_labels(std::string_view name) {
  std::vector<std::string> labels;
  if (name.empty() || name == ".") return labels;
  std::string cur;
  size_t i = 0;
  auto bad = [&](const std::string& why) {
    return make_error("invalid domain name '" + std::string(name) + "': " + why);
  };
  while (i < name.size()) {
    char c = name[i];
    if (c == '\\') {
      if (i + 1 >= name.size()) return bad("trailing backslash");
      if (std::isdigit(static_cast<unsigned char>(name[i + 1]))) {
        if (i + 4 > name.size()) return bad("short \\DDD escape");
        int v = 0;
        for (int k = 1; k <= 3; ++k) {
          char d = name[i + k];
          if (!std::isdigit(static_cast<unsigned char>(d))) return bad("bad \\DDD escape");
          v = v * 10 + (d - '0');
        }
        if (v > 255) return bad("\\DDD escape above 255");
        cur += static_cast<char>(v);
        i += 4;
      } else {
        cur += name[i + 1];
        i += 2;
      }
      continue;
    }
    if (c == '.') {
      if (cur.empty()) return bad("empty label");
      labels.push_back(std::move(cur));
      cur.clear();
      ++i;
      if (i == name.size()) return labels;  // trailing dot
      continue;
    }
    cur += c;
    ++i;
  }
  if (!cur.empty()) labels.push_back(std::move(cur));
  return labels;
}

}  // namespace

Result<std::vector<uint8_t>> encode_name(std::string_view name) {
  auto labels = split_labels(name);
  if (!labels) return labels.error();
  std::vector<uint8_t> out;
  for (const auto& l : *labels) {
    if (l.size() > 63)
      return make_error("invalid domain name '" + std::string(name) + "': label longer than 63");
    out.push_back(static_cast<uint8_t>(l.size()));
    out.insert(out.end(), l.begin(), l.end());
  }
  out.push_back(0);
  if (out.size() > 255)
    return make_error("invalid domain name '" + std::string(name) + "': longer than 255");
  return out;
}

std::string absolute_name(std::string_view name) {
  if (name.empty()) return ".";
  std::string s(name);
  // a trailing dot that is not escaped ("a\." is a label ending in '.')
  size_t bs = 0;
  for (size_t i = s.size() - 1; i > 0 && s[i - 1] == '\\'; --i) ++bs;
  if (s.back() != '.' || bs % 2 == 1) s += '.';
  return s;
}

bool names_equal(std::string_view a, std::string_view b) {
  auto strip = [](std::string_view s) {
    if (s.size() > 1 && s.back() == '.') s.remove_suffix(1);
    return s;
  };
  return iequals(strip(a), strip(b));
}

std::string escape_label(std::span<const uint8_t> label) {
  std::string out;
  for (uint8_t c : label) {
    switch (c) {
      case '.': case ';': case '\\': case '(': case ')': case '@': case '$': case '"':
        out += '\\';
        out += static_cast<char>(c);
        break;
      default:
        if (c < 0x21 || c > 0x7e) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%03u", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

namespace detail {

Error malformed(std::string_view what, size_t offset) {
  return make_error("malformed DNS message: " + std::string(what) + " at offset " +
                    std::to_string(offset));
}

Result<std::string> read_name(std::span<const uint8_t> msg, size_t& pos, size_t limit) {
  std::string out;
  size_t p = pos;
  size_t bound = std::min(limit, msg.size());
  size_t run_start = pos;  // every pointer must go strictly before the current run
  size_t wire_len = 1;
  bool jumped = false;
  for (int hops = 0;; ) {
    if (p >= bound) return malformed("truncated name", p);
    uint8_t len = msg[p];
    if ((len & 0xC0) == 0xC0) {
      if (p + 1 >= bound) return malformed("truncated compression pointer", p);
      size_t target = static_cast<size_t>(len & 0x3F) << 8 | msg[p + 1];
      if (target >= run_start) return malformed("compression pointer loop or forward reference", p);
      if (++hops > 127) return malformed("too many compression pointers", p);
      if (!jumped) pos = p + 2;
      jumped = true;
      bound = msg.size();
      run_start = target;
      p = target;
      continue;
    }
    if ((len & 0xC0) != 0) return malformed("bad label type", p);
    if (len == 0) {
      if (!jumped) pos = p + 1;
      break;
    }
    if (p + 1 + len > bound) return malformed("truncated label", p);
    wire_len += len + 1u;
    if (wire_len > 255) return malformed("name longer than 255", p);
    out += escape_label(msg.subspan(p + 1, len));
    out += '.';
    p += 1 + len;
  }
  if (out.empty()) out = ".";
  return out;
}

Status Writer::cstring(std::string_view s) {
  if (s.size() > 255) return make_error("character-string longer than 255");
  u8(static_cast<uint8_t>(s.size()));
  buf_.insert(buf_.end(), s.begin(), s.end());
  return {};
}

Status Writer::name(std::string_view presentation, bool allow_compress) {
  auto wire = encode_name(presentation);
  if (!wire) return wire.error();
  const auto& w = *wire;
  size_t i = 0;
  while (w[i] != 0) {
    std::string key;
    for (size_t k = i; k < w.size(); ++k)
      key += static_cast<char>(std::tolower(w[k]));
    if (compress_ && allow_compress) {
      auto it = suffixes_.find(key);
      if (it != suffixes_.end()) {
        u16(static_cast<uint16_t>(0xC000 | it->second));
        return {};
      }
    }
    if (buf_.size() < 0x3FFF) suffixes_.emplace(key, static_cast<uint16_t>(buf_.size()));
    buf_.insert(buf_.end(), w.begin() + static_cast<long>(i), w.begin() + static_cast<long>(i) + 1 + w[i]);
    i += 1 + w[i];
  }
  u8(0);
  return {};
}

}  // namespace detail

// ---- EDNS ------------------------------------------------------------------------
EdnsOption make_nsid_option() { return EdnsOption{edns_option::NSID, {}}; }

Result<EdnsOption> make_cookie_option(std::span<const uint8_t> client,
                                      std::span<const uint8_t> server) {
  if (client.size() != 8) return make_error("EDNS cookie: client cookie must be 8 bytes");
  if (!server.empty() && (server.size() < 8 || server.size() > 32))
    return make_error("EDNS cookie: server cookie must be 8 to 32 bytes");
  EdnsOption o{edns_option::COOKIE, {client.begin(), client.end()}};
  o.data.insert(o.data.end(), server.begin(), server.end());
  return o;
}

Result<EdnsOption> make_client_subnet_option(std::string_view cidr) {
  std::string addr_text(cidr);
  int prefix = -1;
  if (auto slash = addr_text.find('/'); slash != std::string::npos) {
    auto digits = std::string_view(addr_text).substr(slash + 1);
    int v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || p != digits.data() + digits.size())
      return make_error("client subnet: bad prefix in '" + std::string(cidr) + "'");
    prefix = v;
    addr_text.resize(slash);
  }
  auto a = IpAddr::parse(addr_text);
  if (!a || a->scope_id()) return make_error("client subnet: bad address '" + std::string(cidr) + "'");
  int max = a->is_v4() ? 32 : 128;
  if (prefix < 0) prefix = a->is_v4() ? 24 : 56;
  if (prefix > max) return make_error("client subnet: prefix too long in '" + std::string(cidr) + "'");
  EdnsOption o{edns_option::CLIENT_SUBNET, {}};
  uint16_t fam = a->is_v4() ? 1 : 2;
  o.data = {static_cast<uint8_t>(fam >> 8), static_cast<uint8_t>(fam), static_cast<uint8_t>(prefix), 0};
  size_t nbytes = (static_cast<size_t>(prefix) + 7) / 8;
  for (size_t i = 0; i < nbytes; ++i) {
    uint8_t b = a->bytes()[i];
    int bits_here = prefix - static_cast<int>(i * 8);
    if (bits_here < 8) b &= static_cast<uint8_t>(0xFF << (8 - bits_here));
    o.data.push_back(b);
  }
  return o;
}

std::string format_edns_option(const EdnsOption& opt) {
  std::string out = edns_option_name(opt.code) + ":";
  const auto& d = opt.data;
  switch (opt.code) {
    case edns_option::NSID: {
      std::string ascii;
      for (uint8_t c : d) {
        char buf[4];
        std::snprintf(buf, sizeof buf, " %02x", c);
        out += buf;
        ascii += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
      }
      if (!d.empty()) out += " (\"" + ascii + "\")";
      return out;
    }
    case edns_option::COOKIE:
      return out + " " + to_hex(d, false);
    case edns_option::CLIENT_SUBNET: {
      if (d.size() >= 4) {
        uint16_t fam = static_cast<uint16_t>(d[0] << 8 | d[1]);
        size_t alen = fam == 1 ? 4 : fam == 2 ? 16 : 0;
        if (alen && d.size() - 4 <= alen) {
          std::array<uint8_t, 16> raw{};
          std::copy(d.begin() + 4, d.end(), raw.begin());
          IpAddr a = IpAddr::from_bytes({raw.data(), alen});
          return out + " " + a.to_string() + "/" + std::to_string(d[2]) + "/" + std::to_string(d[3]);
        }
      }
      break;
    }
    case edns_option::EXPIRE:
    case edns_option::KEEPALIVE:
      if (d.size() == 4 || d.size() == 2) {
        uint32_t v = 0;
        for (uint8_t c : d) v = v << 8 | c;
        return out + " " + std::to_string(v);
      }
      break;
    case edns_option::EDE:
      if (d.size() >= 2) {
        out += " " + std::to_string(d[0] << 8 | d[1]);
        if (d.size() > 2) out += " (" + std::string(d.begin() + 2, d.end()) + ")";
        return out;
      }
      break;
    default:
      break;
  }
  if (!d.empty()) out += " " + to_hex(d, false);
  return out;
}

std::string format_edns(const Edns& e) {
  std::string out = "version: " + std::to_string(e.version) + ", flags:";
  if (e.dnssec_ok) out += " do";
  out += "; ";
  if (e.z) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "MBZ: 0x%04x, ", e.z);
    out += buf;
  }
  out += "udp: " + std::to_string(e.udp_size);
  return out;
}

// ---- messages --------------------------------------------------------------------
using detail::malformed;
using detail::Reader;
using detail::Writer;

Result<Header> parse_header(std::span<const uint8_t> wire) {
  if (wire.size() < 12) return malformed("truncated header", 0);
  Header h;
  Reader r(wire, 0, 12);
  uint16_t flags = 0;
  (void)(r.u16(h.id) && r.u16(flags) && r.u16(h.qdcount) && r.u16(h.ancount) &&
         r.u16(h.nscount) && r.u16(h.arcount));
  h.qr = flags & 0x8000;
  h.opcode = static_cast<uint8_t>((flags >> 11) & 0xF);
  h.aa = flags & 0x0400;
  h.tc = flags & 0x0200;
  h.rd = flags & 0x0100;
  h.ra = flags & 0x0080;
  h.z = flags & 0x0040;
  h.ad = flags & 0x0020;
  h.cd = flags & 0x0010;
  h.rcode = flags & 0xF;
  return h;
}

Result<Message> parse_message(std::span<const uint8_t> wire) {
  auto h = parse_header(wire);
  if (!h) return h.error();
  Message m;
  m.header = *h;
  Reader r(wire, 12, wire.size());
  for (unsigned i = 0; i < h->qdcount; ++i) {
    size_t at = r.pos();
    auto name = r.name();
    if (!name) return name.error();
    Question q;
    q.name = std::move(*name);
    if (!r.u16(q.qtype) || !r.u16(q.qclass)) return malformed("truncated question", at);
    m.questions.push_back(std::move(q));
  }
  std::vector<ResourceRecord>* sections[3] = {&m.answers, &m.authority, &m.additional};
  const uint16_t counts[3] = {h->ancount, h->nscount, h->arcount};
  for (int s = 0; s < 3; ++s) {
    for (unsigned i = 0; i < counts[s]; ++i) {
      size_t at = r.pos();
      auto name = r.name();
      if (!name) return name.error();
      ResourceRecord rr;
      rr.name = std::move(*name);
      uint16_t rdlen = 0;
      if (!r.u16(rr.type) || !r.u16(rr.rclass) || !r.u32(rr.ttl) || !r.u16(rdlen))
        return malformed("truncated RR", at);
      size_t rd_at = r.pos();
      if (!r.bytes(rdlen, rr.rdata)) return malformed("truncated RR", at);
      auto data = parse_rdata(rr.type, wire, rd_at, rdlen);
      if (!data) return data.error();
      rr.data = std::move(*data);
      if (rr.type == type::OPT && s == 2) {
        if (m.edns) return malformed("more than one OPT record", at);
        if (rr.name != ".") return malformed("OPT record with non-root owner", at);
        Edns e;
        e.udp_size = rr.rclass;
        e.extended_rcode = static_cast<uint8_t>(rr.ttl >> 24);
        e.version = static_cast<uint8_t>(rr.ttl >> 16);
        e.dnssec_ok = rr.ttl & 0x8000;
        e.z = static_cast<uint16_t>(rr.ttl & 0x7FFF);
        e.options = std::get<RdataOpt>(rr.data).options;
        m.header.rcode = static_cast<uint16_t>(e.extended_rcode << 4 | (m.header.rcode & 0xF));
        m.edns = std::move(e);
        continue;
      }
      sections[s]->push_back(std::move(rr));
    }
  }
  return m;
}

namespace {

Status write_header(Writer& w, const Header& h, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
  uint16_t flags = static_cast<uint16_t>((h.qr ? 0x8000 : 0) | (h.opcode & 0xF) << 11 |
                                         (h.aa ? 0x0400 : 0) | (h.tc ? 0x0200 : 0) |
                                         (h.rd ? 0x0100 : 0) | (h.ra ? 0x0080 : 0) |
                                         (h.z ? 0x0040 : 0) | (h.ad ? 0x0020 : 0) |
                                         (h.cd ? 0x0010 : 0) | (h.rcode & 0xF));
  w.u16(h.id);
  w.u16(flags);
  w.u16(qd);
  w.u16(an);
  w.u16(ns);
  w.u16(ar);
  return {};
}

Status write_rr(Writer& w, const ResourceRecord& rr) {
  if (auto s = w.name(rr.name); !s) return s;
  w.u16(rr.type);
  w.u16(rr.rclass);
  w.u32(rr.ttl);
  size_t len_at = w.size();
  w.u16(0);
  size_t start = w.size();
  if (auto s = detail::encode_rdata(w, rr); !s) return s;
  size_t len = w.size() - start;
  if (len > 0xFFFF) return make_error("RDATA longer than 65535 for " + rr.name);
  w.put16(len_at, static_cast<uint16_t>(len));
  return {};
}

}  // namespace

Result<std::vector<uint8_t>> build_message(const Message& msg, bool compress) {
  size_t ar = msg.additional.size() + (msg.edns ? 1 : 0);
  if (msg.questions.size() > 0xFFFF || msg.answers.size() > 0xFFFF ||
      msg.authority.size() > 0xFFFF || ar > 0xFFFF)
    return make_error("DNS message: too many records");
  Writer w(compress);
  Header h = msg.header;
  (void)write_header(w, h, static_cast<uint16_t>(msg.questions.size()),
                     static_cast<uint16_t>(msg.answers.size()),
                     static_cast<uint16_t>(msg.authority.size()), static_cast<uint16_t>(ar));
  for (const auto& q : msg.questions) {
    if (auto s = w.name(q.name); !s) return s.error();
    w.u16(q.qtype);
    w.u16(q.qclass);
  }
  for (const auto* sec : {&msg.answers, &msg.authority, &msg.additional})
    for (const auto& rr : *sec)
      if (auto s = write_rr(w, rr); !s) return s.error();
  if (msg.edns) {
    const Edns& e = *msg.edns;
    w.u8(0);  // root
    w.u16(type::OPT);
    w.u16(e.udp_size);
    uint8_t ext = static_cast<uint8_t>(msg.header.rcode >> 4);
    if (!ext) ext = e.extended_rcode;
    w.u32(static_cast<uint32_t>(ext) << 24 | static_cast<uint32_t>(e.version) << 16 |
          (e.dnssec_ok ? 0x8000u : 0u) | (e.z & 0x7FFFu));
    size_t len = 0;
    for (const auto& o : e.options) len += 4 + o.data.size();
    if (len > 0xFFFF) return make_error("EDNS options longer than 65535");
    w.u16(static_cast<uint16_t>(len));
    for (const auto& o : e.options) {
      if (o.data.size() > 0xFFFF) return make_error("EDNS option too long");
      w.u16(o.code);
      w.u16(static_cast<uint16_t>(o.data.size()));
      w.bytes(o.data);
    }
  }
  return std::move(w.buf());
}

Result<std::vector<uint8_t>> build_query(const QuerySpec& q) {
  Message m;
  m.header.id = q.id;
  m.header.opcode = q.opcode;
  m.header.rd = q.rd;
  m.header.cd = q.cd;
  m.header.ad = q.ad;
  m.questions.push_back(Question{q.name, q.qtype, q.qclass});
  m.edns = q.edns;
  return build_message(m, false);
}

std::string format_question(const Question& q) {
  return q.name + "\t\t" + class_to_string(q.qclass) + "\t" + type_to_string(q.qtype);
}

std::string format_record(const ResourceRecord& rr) {
  return rr.name + "\t" + std::to_string(rr.ttl) + "\t" + class_to_string(rr.rclass) + "\t" +
         type_to_string(rr.type) + "\t" + format_rdata(rr);
}

}  // namespace netshoot::core::dns

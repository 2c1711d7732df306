// RDATA: parse (bounds-checked), presentation as dig prints it, and encoding.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "dns_internal.h"
#include "netshoot/dns.h"

namespace netshoot::core::dns {

using detail::malformed;
using detail::Reader;
using detail::Writer;

// ---- encodings -------------------------------------------------------------------
std::string to_hex(std::span<const uint8_t> data, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (uint8_t b : data) {
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  return out;
}

std::string to_base64(std::span<const uint8_t> data) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = static_cast<uint32_t>(data[i]) << 16 | data[i + 1] << 8 | data[i + 2];
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest) {
    uint32_t v = static_cast<uint32_t>(data[i]) << 16 | (rest == 2 ? data[i + 1] << 8 : 0);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += rest == 2 ? tbl[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string to_base32hex(std::span<const uint8_t> data) {
  static const char* tbl = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
  std::string out;
  uint64_t acc = 0;
  int bits = 0;
  for (uint8_t b : data) {
    acc = acc << 8 | b;
    bits += 8;
    while (bits >= 5) {
      out += tbl[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += tbl[(acc << (5 - bits)) & 31];
  return out;
}

namespace {

// dig splits long base64/hex fields in 56-character chunks separated by spaces.
std::string chunked(const std::string& s, size_t n = 56) {
  std::string out;
  for (size_t i = 0; i < s.size(); i += n) {
    if (i) out += ' ';
    out += s.substr(i, n);
  }
  return out;
}

// A <character-string> in quotes, with \" \\ and \DDD escapes.
std::string quoted(std::string_view s, bool escape_comma = false) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\' || (escape_comma && c == ',')) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03u", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string rrsig_time(uint32_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool is_name_type(uint16_t t) {
  return t == type::CNAME || t == type::NS || t == type::PTR || t == type::DNAME || t == 3 ||
         t == 4 || t == 7 || t == 8 || t == 9;  // MD MF MB MG MR
}
bool compressible(uint16_t t) {  // RFC 3597 §4: only the RFC 1035 types
  return t == type::CNAME || t == type::NS || t == type::PTR || t == type::MX || t == type::SOA ||
         (t >= 3 && t <= 9);
}

Result<std::vector<uint16_t>> read_bitmap(Reader& r) {
  std::vector<uint16_t> types;
  int last_window = -1;
  while (!r.at_end()) {
    size_t at = r.pos();
    uint8_t window = 0, len = 0;
    if (!r.u8(window) || !r.u8(len)) return malformed("truncated type bitmap", at);
    if (len == 0 || len > 32) return malformed("bad type bitmap length", at);
    if (window <= last_window) return malformed("type bitmap windows out of order", at);
    last_window = window;
    std::vector<uint8_t> bits;
    if (!r.bytes(len, bits)) return malformed("truncated type bitmap", at);
    for (size_t i = 0; i < bits.size(); ++i)
      for (int b = 0; b < 8; ++b)
        if (bits[i] & (0x80 >> b))
          types.push_back(static_cast<uint16_t>(window * 256 + i * 8 + b));
  }
  return types;
}

void write_bitmap(Writer& w, std::vector<uint16_t> types) {
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  size_t i = 0;
  while (i < types.size()) {
    int window = types[i] >> 8;
    uint8_t bits[32] = {};
    int maxbyte = 0;
    for (; i < types.size() && (types[i] >> 8) == window; ++i) {
      int low = types[i] & 0xFF;
      bits[low / 8] |= static_cast<uint8_t>(0x80 >> (low % 8));
      maxbyte = low / 8;
    }
    w.u8(static_cast<uint8_t>(window));
    w.u8(static_cast<uint8_t>(maxbyte + 1));
    w.bytes(std::span<const uint8_t>(bits, static_cast<size_t>(maxbyte + 1)));
  }
}

template <typename T>
Result<Rdata> done(Reader& r, size_t start, T value) {
  if (!r.at_end()) return malformed("trailing bytes in RDATA", start);
  return Rdata(std::move(value));
}

}  // namespace

std::string format_type_bitmap(const std::vector<uint16_t>& types) {
  std::string out;
  for (uint16_t t : types) {
    if (!out.empty()) out += ' ';
    out += type_to_string(t);
  }
  return out;
}

// ---- parse -----------------------------------------------------------------------
Result<Rdata> parse_rdata(uint16_t t, std::span<const uint8_t> msg, size_t offset, size_t len) {
  if (offset > msg.size() || len > msg.size() - offset) return malformed("truncated RDATA", offset);
  Reader r(msg, offset, offset + len);
  auto trunc = [&] { return malformed("truncated " + type_to_string(t) + " RDATA", offset); };
  switch (t) {
    case type::A:
    case type::AAAA: {
      size_t want = t == type::A ? 4 : 16;
      if (len != want) return malformed("bad " + type_to_string(t) + " RDATA length " + std::to_string(len), offset);
      return Rdata(RdataAddress{IpAddr::from_bytes(msg.subspan(offset, want))});
    }
    case type::MX: {
      RdataMx v;
      if (!r.u16(v.preference)) return trunc();
      auto n = r.name();
      if (!n) return n.error();
      v.exchange = std::move(*n);
      return done(r, offset, std::move(v));
    }
    case type::SOA: {
      RdataSoa v;
      auto m = r.name();
      if (!m) return m.error();
      auto rn = r.name();
      if (!rn) return rn.error();
      v.mname = std::move(*m);
      v.rname = std::move(*rn);
      if (!r.u32(v.serial) || !r.u32(v.refresh) || !r.u32(v.retry) || !r.u32(v.expire) || !r.u32(v.minimum))
        return trunc();
      return done(r, offset, std::move(v));
    }
    case type::SRV: {
      RdataSrv v;
      if (!r.u16(v.priority) || !r.u16(v.weight) || !r.u16(v.port)) return trunc();
      auto n = r.name();
      if (!n) return n.error();
      v.target = std::move(*n);
      return done(r, offset, std::move(v));
    }
    case type::TXT:
    case type::SPF:
    case type::HINFO: {
      RdataTxt v;
      while (!r.at_end()) {
        std::string s;
        if (!r.cstring(s)) return trunc();
        v.strings.push_back(std::move(s));
      }
      if (t == type::HINFO && v.strings.size() != 2) return malformed("bad HINFO RDATA", offset);
      return Rdata(std::move(v));
    }
    case type::CAA: {
      RdataCaa v;
      std::vector<uint8_t> value;
      if (!r.u8(v.flags) || !r.cstring(v.tag) || v.tag.empty()) return trunc();
      (void)r.rest(value);
      v.value.assign(value.begin(), value.end());
      return Rdata(std::move(v));
    }
    case type::NAPTR: {
      RdataNaptr v;
      if (!r.u16(v.order) || !r.u16(v.preference) || !r.cstring(v.flags) || !r.cstring(v.services) ||
          !r.cstring(v.regexp))
        return trunc();
      auto n = r.name();
      if (!n) return n.error();
      v.replacement = std::move(*n);
      return done(r, offset, std::move(v));
    }
    case type::DS:
    case type::CDS: {
      RdataDs v;
      if (!r.u16(v.key_tag) || !r.u8(v.algorithm) || !r.u8(v.digest_type)) return trunc();
      (void)r.rest(v.digest);
      return Rdata(std::move(v));
    }
    case type::DNSKEY:
    case type::CDNSKEY: {
      RdataDnskey v;
      if (!r.u16(v.flags) || !r.u8(v.protocol) || !r.u8(v.algorithm)) return trunc();
      (void)r.rest(v.public_key);
      return Rdata(std::move(v));
    }
    case type::RRSIG: {
      RdataRrsig v;
      if (!r.u16(v.type_covered) || !r.u8(v.algorithm) || !r.u8(v.labels) || !r.u32(v.original_ttl) ||
          !r.u32(v.expiration) || !r.u32(v.inception) || !r.u16(v.key_tag))
        return trunc();
      auto n = r.name();
      if (!n) return n.error();
      v.signer = std::move(*n);
      (void)r.rest(v.signature);
      return Rdata(std::move(v));
    }
    case type::NSEC: {
      RdataNsec v;
      auto n = r.name();
      if (!n) return n.error();
      v.next = std::move(*n);
      auto types = read_bitmap(r);
      if (!types) return types.error();
      v.types = std::move(*types);
      return Rdata(std::move(v));
    }
    case type::NSEC3:
    case type::NSEC3PARAM: {
      RdataNsec3 v;
      uint8_t salt_len = 0;
      if (!r.u8(v.hash_algorithm) || !r.u8(v.flags) || !r.u16(v.iterations) || !r.u8(salt_len) ||
          !r.bytes(salt_len, v.salt))
        return trunc();
      if (t == type::NSEC3PARAM) return done(r, offset, std::move(v));
      uint8_t hash_len = 0;
      if (!r.u8(hash_len) || hash_len == 0 || !r.bytes(hash_len, v.next_hashed)) return trunc();
      auto types = read_bitmap(r);
      if (!types) return types.error();
      v.types = std::move(*types);
      return Rdata(std::move(v));
    }
    case type::SVCB:
    case type::HTTPS: {
      RdataSvcb v;
      if (!r.u16(v.priority)) return trunc();
      auto n = r.name();
      if (!n) return n.error();
      v.target = std::move(*n);
      while (!r.at_end()) {
        size_t at = r.pos();
        SvcParam p;
        uint16_t plen = 0;
        if (!r.u16(p.key) || !r.u16(plen) || !r.bytes(plen, p.value)) return malformed("truncated SvcParam", at);
        if (!v.params.empty() && p.key <= v.params.back().key)
          return malformed("SvcParam keys not in increasing order", at);
        v.params.push_back(std::move(p));
      }
      return Rdata(std::move(v));
    }
    case type::OPT: {
      RdataOpt v;
      while (!r.at_end()) {
        size_t at = r.pos();
        EdnsOption o;
        uint16_t olen = 0;
        if (!r.u16(o.code) || !r.u16(olen) || !r.bytes(olen, o.data)) return malformed("truncated EDNS option", at);
        v.options.push_back(std::move(o));
      }
      return Rdata(std::move(v));
    }
    default:
      if (is_name_type(t)) {
        auto n = r.name();
        if (!n) return n.error();
        return done(r, offset, RdataName{std::move(*n)});
      }
      return Rdata(RdataUnknown{});
  }
}

// ---- presentation ----------------------------------------------------------------
namespace {

std::string svc_key_name(uint16_t key) {
  static const char* names[] = {"mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint", "dohpath"};
  if (key < 8) return names[key];
  return "key" + std::to_string(key);
}

std::string format_svc_param(const SvcParam& p) {
  const auto& v = p.value;
  std::string k = svc_key_name(p.key);
  auto generic = [&] {
    if (v.empty()) return k;
    return k + "=" + quoted(std::string(v.begin(), v.end()));
  };
  switch (p.key) {
    case 0: {  // mandatory
      if (v.empty() || v.size() % 2) return generic();
      std::string out = k + "=";
      for (size_t i = 0; i < v.size(); i += 2) {
        if (i) out += ',';
        out += svc_key_name(static_cast<uint16_t>(v[i] << 8 | v[i + 1]));
      }
      return out;
    }
    case 1: {  // alpn
      std::string joined;
      size_t i = 0;
      while (i < v.size()) {
        size_t n = v[i];
        if (n == 0 || i + 1 + n > v.size()) return generic();
        std::string id(v.begin() + static_cast<long>(i) + 1, v.begin() + static_cast<long>(i + 1 + n));
        if (!joined.empty()) joined += ',';
        for (char c : id) {
          if (c == ',' || c == '\\') joined += '\\';
          joined += c;
        }
        i += 1 + n;
      }
      if (joined.empty()) return generic();
      // the comma separators stay bare; escape the rest as a quoted string
      std::string out = k + "=\"";
      for (unsigned char c : joined) {
        if (c == '"') out += "\\\"";
        else if (c < 0x20 || c > 0x7e) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%03u", c);
          out += buf;
        } else out += static_cast<char>(c);
      }
      return out + "\"";
    }
    case 2:
      return v.empty() ? k : generic();
    case 3:
      if (v.size() != 2) return generic();
      return k + "=" + std::to_string(v[0] << 8 | v[1]);
    case 4:
    case 6: {
      size_t step = p.key == 4 ? 4 : 16;
      if (v.empty() || v.size() % step) return generic();
      std::string out = k + "=";
      for (size_t i = 0; i < v.size(); i += step) {
        if (i) out += ',';
        out += IpAddr::from_bytes({v.data() + i, step}).to_string();
      }
      return out;
    }
    case 5:
      return k + "=" + to_base64(v);
    default:
      return generic();
  }
}

std::string format_known(const ResourceRecord& rr) {
  return std::visit(
      [&](const auto& d) -> std::string {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, RdataUnknown>) {
          return "";
        } else if constexpr (std::is_same_v<T, RdataAddress>) {
          return d.address.to_string();
        } else if constexpr (std::is_same_v<T, RdataName>) {
          return d.target;
        } else if constexpr (std::is_same_v<T, RdataMx>) {
          return std::to_string(d.preference) + " " + d.exchange;
        } else if constexpr (std::is_same_v<T, RdataSoa>) {
          return d.mname + " " + d.rname + " " + std::to_string(d.serial) + " " +
                 std::to_string(d.refresh) + " " + std::to_string(d.retry) + " " +
                 std::to_string(d.expire) + " " + std::to_string(d.minimum);
        } else if constexpr (std::is_same_v<T, RdataSrv>) {
          return std::to_string(d.priority) + " " + std::to_string(d.weight) + " " +
                 std::to_string(d.port) + " " + d.target;
        } else if constexpr (std::is_same_v<T, RdataTxt>) {
          std::string out;
          for (const auto& s : d.strings) {
            if (!out.empty()) out += ' ';
            out += quoted(s);
          }
          return out;
        } else if constexpr (std::is_same_v<T, RdataCaa>) {
          return std::to_string(d.flags) + " " + d.tag + " " + quoted(d.value);
        } else if constexpr (std::is_same_v<T, RdataNaptr>) {
          return std::to_string(d.order) + " " + std::to_string(d.preference) + " " +
                 quoted(d.flags) + " " + quoted(d.services) + " " + quoted(d.regexp) + " " +
                 d.replacement;
        } else if constexpr (std::is_same_v<T, RdataDs>) {
          std::string out = std::to_string(d.key_tag) + " " + std::to_string(d.algorithm) + " " +
                            std::to_string(d.digest_type);
          if (!d.digest.empty()) out += " " + chunked(to_hex(d.digest));
          return out;
        } else if constexpr (std::is_same_v<T, RdataDnskey>) {
          std::string out = std::to_string(d.flags) + " " + std::to_string(d.protocol) + " " +
                            std::to_string(d.algorithm);
          if (!d.public_key.empty()) out += " " + chunked(to_base64(d.public_key));
          return out;
        } else if constexpr (std::is_same_v<T, RdataRrsig>) {
          std::string out = type_to_string(d.type_covered) + " " + std::to_string(d.algorithm) + " " +
                            std::to_string(d.labels) + " " + std::to_string(d.original_ttl) + " " +
                            rrsig_time(d.expiration) + " " + rrsig_time(d.inception) + " " +
                            std::to_string(d.key_tag) + " " + d.signer;
          if (!d.signature.empty()) out += " " + chunked(to_base64(d.signature));
          return out;
        } else if constexpr (std::is_same_v<T, RdataNsec>) {
          std::string out = d.next;
          if (!d.types.empty()) out += " " + format_type_bitmap(d.types);
          return out;
        } else if constexpr (std::is_same_v<T, RdataNsec3>) {
          std::string out = std::to_string(d.hash_algorithm) + " " + std::to_string(d.flags) + " " +
                            std::to_string(d.iterations) + " " +
                            (d.salt.empty() ? std::string("-") : to_hex(d.salt));
          if (rr.type == type::NSEC3) {
            out += " " + to_base32hex(d.next_hashed);
            if (!d.types.empty()) out += " " + format_type_bitmap(d.types);
          }
          return out;
        } else if constexpr (std::is_same_v<T, RdataSvcb>) {
          std::string out = std::to_string(d.priority) + " " + d.target;
          for (const auto& p : d.params) out += " " + format_svc_param(p);
          return out;
        } else if constexpr (std::is_same_v<T, RdataOpt>) {
          std::string out;
          for (const auto& o : d.options) {
            if (!out.empty()) out += "; ";
            out += format_edns_option(o);
          }
          return out;
        }
      },
      rr.data);
}

}  // namespace

std::string format_rdata(const ResourceRecord& rr) {
  if (!std::holds_alternative<RdataUnknown>(rr.data)) return format_known(rr);
  // Fixed fields then a hex blob: SSHFP (RFC 4255), TLSA/SMIMEA (RFC 6698, 8162).
  const auto& d = rr.rdata;
  size_t fixed = rr.type == 44 ? 2 : (rr.type == 52 || rr.type == 53) ? 3 : 0;
  if (fixed && d.size() > fixed) {
    std::string out;
    for (size_t i = 0; i < fixed; ++i) out += std::to_string(d[i]) + " ";
    return out + chunked(to_hex(std::span<const uint8_t>(d).subspan(fixed)));
  }
  std::string out = "\\# " + std::to_string(rr.rdata.size());
  if (!rr.rdata.empty()) out += " " + to_hex(rr.rdata);
  return out;
}

// ---- encode ----------------------------------------------------------------------
namespace detail {

Status encode_rdata(Writer& w, const ResourceRecord& rr) {
  bool comp = compressible(rr.type);
  return std::visit(
      [&](const auto& d) -> Status {
        using T = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<T, RdataUnknown>) {
          w.bytes(rr.rdata);
        } else if constexpr (std::is_same_v<T, RdataAddress>) {
          if ((rr.type == type::A && !d.address.is_v4()) ||
              (rr.type == type::AAAA && !d.address.is_v6()))
            return make_error("address family does not match " + type_to_string(rr.type));
          w.bytes(d.address.bytes());
        } else if constexpr (std::is_same_v<T, RdataName>) {
          return w.name(d.target, comp);
        } else if constexpr (std::is_same_v<T, RdataMx>) {
          w.u16(d.preference);
          return w.name(d.exchange, comp);
        } else if constexpr (std::is_same_v<T, RdataSoa>) {
          if (auto s = w.name(d.mname, comp); !s) return s;
          if (auto s = w.name(d.rname, comp); !s) return s;
          for (uint32_t v : {d.serial, d.refresh, d.retry, d.expire, d.minimum}) w.u32(v);
        } else if constexpr (std::is_same_v<T, RdataSrv>) {
          w.u16(d.priority);
          w.u16(d.weight);
          w.u16(d.port);
          return w.name(d.target, false);
        } else if constexpr (std::is_same_v<T, RdataTxt>) {
          for (const auto& s : d.strings)
            if (auto st = w.cstring(s); !st) return st;
        } else if constexpr (std::is_same_v<T, RdataCaa>) {
          w.u8(d.flags);
          if (auto st = w.cstring(d.tag); !st) return st;
          w.bytes(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(d.value.data()), d.value.size()));
        } else if constexpr (std::is_same_v<T, RdataNaptr>) {
          w.u16(d.order);
          w.u16(d.preference);
          for (const auto* s : {&d.flags, &d.services, &d.regexp})
            if (auto st = w.cstring(*s); !st) return st;
          return w.name(d.replacement, false);
        } else if constexpr (std::is_same_v<T, RdataDs>) {
          w.u16(d.key_tag);
          w.u8(d.algorithm);
          w.u8(d.digest_type);
          w.bytes(d.digest);
        } else if constexpr (std::is_same_v<T, RdataDnskey>) {
          w.u16(d.flags);
          w.u8(d.protocol);
          w.u8(d.algorithm);
          w.bytes(d.public_key);
        } else if constexpr (std::is_same_v<T, RdataRrsig>) {
          w.u16(d.type_covered);
          w.u8(d.algorithm);
          w.u8(d.labels);
          w.u32(d.original_ttl);
          w.u32(d.expiration);
          w.u32(d.inception);
          w.u16(d.key_tag);
          if (auto st = w.name(d.signer, false); !st) return st;
          w.bytes(d.signature);
        } else if constexpr (std::is_same_v<T, RdataNsec>) {
          if (auto st = w.name(d.next, false); !st) return st;
          write_bitmap(w, d.types);
        } else if constexpr (std::is_same_v<T, RdataNsec3>) {
          if (d.salt.size() > 255 || d.next_hashed.size() > 255) return make_error("NSEC3 field too long");
          w.u8(d.hash_algorithm);
          w.u8(d.flags);
          w.u16(d.iterations);
          w.u8(static_cast<uint8_t>(d.salt.size()));
          w.bytes(d.salt);
          if (rr.type == type::NSEC3) {
            w.u8(static_cast<uint8_t>(d.next_hashed.size()));
            w.bytes(d.next_hashed);
            write_bitmap(w, d.types);
          }
        } else if constexpr (std::is_same_v<T, RdataSvcb>) {
          w.u16(d.priority);
          if (auto st = w.name(d.target, false); !st) return st;
          for (const auto& p : d.params) {
            if (p.value.size() > 0xFFFF) return make_error("SvcParam too long");
            w.u16(p.key);
            w.u16(static_cast<uint16_t>(p.value.size()));
            w.bytes(p.value);
          }
        } else if constexpr (std::is_same_v<T, RdataOpt>) {
          for (const auto& o : d.options) {
            if (o.data.size() > 0xFFFF) return make_error("EDNS option too long");
            w.u16(o.code);
            w.u16(static_cast<uint16_t>(o.data.size()));
            w.bytes(o.data);
          }
        }
        return {};
      },
      rr.data);
}

}  // namespace detail
}  // namespace netshoot::core::dns

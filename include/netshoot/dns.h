// DNS wire format (RFC 1035 and friends): building queries and whole messages,
// a bounds-checked parser for untrusted bytes, RDATA in parsed and presentation
// form (as dig prints it), type/class/rcode/opcode names, reverse names.
//
// Names are always in presentation form, absolute, with a trailing dot
// ("example.com.", the root is "."), with dig's escapes (\. \\ \DDD).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/result.h"

namespace netshoot::core::dns {

// ---- numbers ---------------------------------------------------------------------
namespace type {
inline constexpr uint16_t A = 1, NS = 2, CNAME = 5, SOA = 6, NULL_ = 10, PTR = 12, HINFO = 13,
                          MX = 15, TXT = 16, AAAA = 28, SRV = 33, NAPTR = 35, DNAME = 39,
                          OPT = 41, DS = 43, SSHFP = 44, RRSIG = 46, NSEC = 47, DNSKEY = 48,
                          NSEC3 = 50, NSEC3PARAM = 51, TLSA = 52, CDS = 59, CDNSKEY = 60,
                          SVCB = 64, HTTPS = 65, SPF = 99, IXFR = 251, AXFR = 252, ANY = 255,
                          CAA = 257;
}
namespace rclass {
inline constexpr uint16_t IN = 1, CH = 3, HS = 4, NONE = 254, ANY = 255;
}
namespace rcode {
inline constexpr uint16_t NOERROR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4,
                          REFUSED = 5, YXDOMAIN = 6, YXRRSET = 7, NXRRSET = 8, NOTAUTH = 9,
                          NOTZONE = 10, BADVERS = 16, BADCOOKIE = 23;
}
namespace opcode {
inline constexpr uint8_t QUERY = 0, IQUERY = 1, STATUS = 2, NOTIFY = 4, UPDATE = 5;
}
namespace edns_option {
inline constexpr uint16_t NSID = 3, CLIENT_SUBNET = 8, EXPIRE = 9, COOKIE = 10, KEEPALIVE = 11,
                          PADDING = 12, EDE = 15;
}

// "A", "TYPE65534"; the parse direction accepts both spellings, case-insensitive.
std::string type_to_string(uint16_t t);
std::optional<uint16_t> type_from_string(std::string_view s);
// "IN", "CH", "CLASS3"-style for unknown.
std::string class_to_string(uint16_t c);
std::optional<uint16_t> class_from_string(std::string_view s);
// "NOERROR", "NXDOMAIN", "BADVERS", "RCODE42" for unknown (12-bit extended rcodes).
std::string rcode_to_string(uint16_t rc);
std::string opcode_to_string(uint8_t op);  // "QUERY", "NOTIFY", "OPCODE3"
std::string edns_option_name(uint16_t code);  // "NSID", "COOKIE", "OPT65001"

// ---- addresses -------------------------------------------------------------------
// Addresses are core::IpAddr (netshoot/addr.h).

// "1.2.0.192.in-addr.arpa." / nibble form under "ip6.arpa.".
std::string reverse_name(const IpAddr& addr);
Result<std::string> reverse_name(std::string_view ip_text);

// ---- names -----------------------------------------------------------------------
// Presentation → wire (uncompressed). Validates labels ≤63 octets, name ≤255 octets.
// A missing trailing dot is treated as absolute. "" and "." are the root.
Result<std::vector<uint8_t>> encode_name(std::string_view name);
// Canonicalise to absolute presentation form ("Example.COM" → "Example.COM.").
std::string absolute_name(std::string_view name);
// Case-insensitive comparison of presentation names, ignoring a trailing dot.
bool names_equal(std::string_view a, std::string_view b);
// One label → presentation text with dig's escapes.
std::string escape_label(std::span<const uint8_t> label);

// ---- EDNS ------------------------------------------------------------------------
struct EdnsOption {
  uint16_t code = 0;
  std::vector<uint8_t> data;
};

struct Edns {
  uint16_t udp_size = 1232;
  uint8_t extended_rcode = 0;  // upper 8 bits of the 12-bit rcode (as on the wire)
  uint8_t version = 0;
  bool dnssec_ok = false;      // DO bit
  uint16_t z = 0;              // remaining 15 flag bits (without DO)
  std::vector<EdnsOption> options;
};

EdnsOption make_nsid_option();  // empty NSID request
// Client cookie (8 bytes), optionally with a server cookie (8..32 bytes).
Result<EdnsOption> make_cookie_option(std::span<const uint8_t> client,
                                      std::span<const uint8_t> server = {});
// "192.0.2.0/24", "2001:db8::/56" (prefix defaults to 24 / 56); address bits beyond
// the prefix are zeroed and trailing octets dropped (RFC 7871).
Result<EdnsOption> make_client_subnet_option(std::string_view cidr);
// "NSID: 6e7331 (\"ns1\")", "COOKIE: <hex>", "CLIENT-SUBNET: 192.0.2.0/24/0".
std::string format_edns_option(const EdnsOption& opt);
// One-line summary as dig: "version: 0, flags: do; udp: 1232".
std::string format_edns(const Edns& e);

// ---- RDATA -----------------------------------------------------------------------
struct RdataUnknown {};  // only the raw bytes (RFC 3597 "\# len hex")
struct RdataAddress {    // A, AAAA
  IpAddr address;
};
struct RdataName {  // CNAME, NS, PTR, DNAME
  std::string target;
};
struct RdataMx {
  uint16_t preference = 0;
  std::string exchange;
};
struct RdataSoa {
  std::string mname, rname;
  uint32_t serial = 0, refresh = 0, retry = 0, expire = 0, minimum = 0;
};
struct RdataSrv {
  uint16_t priority = 0, weight = 0, port = 0;
  std::string target;
};
struct RdataTxt {  // TXT, SPF, HINFO: character-strings (raw bytes, unescaped)
  std::vector<std::string> strings;
};
struct RdataCaa {
  uint8_t flags = 0;
  std::string tag, value;
};
struct RdataNaptr {
  uint16_t order = 0, preference = 0;
  std::string flags, services, regexp;  // raw character-strings
  std::string replacement;
};
struct RdataDs {  // DS, CDS
  uint16_t key_tag = 0;
  uint8_t algorithm = 0, digest_type = 0;
  std::vector<uint8_t> digest;
};
struct RdataDnskey {  // DNSKEY, CDNSKEY
  uint16_t flags = 0;
  uint8_t protocol = 0, algorithm = 0;
  std::vector<uint8_t> public_key;
};
struct RdataRrsig {
  uint16_t type_covered = 0;
  uint8_t algorithm = 0, labels = 0;
  uint32_t original_ttl = 0, expiration = 0, inception = 0;
  uint16_t key_tag = 0;
  std::string signer;
  std::vector<uint8_t> signature;
};
struct RdataNsec {
  std::string next;
  std::vector<uint16_t> types;
};
struct RdataNsec3 {  // NSEC3; NSEC3PARAM uses the first four fields only
  uint8_t hash_algorithm = 0, flags = 0;
  uint16_t iterations = 0;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> next_hashed;
  std::vector<uint16_t> types;
};
struct SvcParam {
  uint16_t key = 0;  // 0 mandatory, 1 alpn, 2 no-default-alpn, 3 port, 4 ipv4hint, 5 ech, 6 ipv6hint
  std::vector<uint8_t> value;
};
struct RdataSvcb {  // SVCB, HTTPS
  uint16_t priority = 0;
  std::string target;
  std::vector<SvcParam> params;
};
struct RdataOpt {
  std::vector<EdnsOption> options;
};

using Rdata = std::variant<RdataUnknown, RdataAddress, RdataName, RdataMx, RdataSoa, RdataSrv,
                           RdataTxt, RdataCaa, RdataNaptr, RdataDs, RdataDnskey, RdataRrsig,
                           RdataNsec, RdataNsec3, RdataSvcb, RdataOpt>;

// ---- messages --------------------------------------------------------------------
struct Header {
  uint16_t id = 0;
  bool qr = false, aa = false, tc = false, rd = false, ra = false, z = false, ad = false,
       cd = false;
  uint8_t opcode = 0;
  uint16_t rcode = 0;  // after parsing: 12-bit extended rcode when an OPT record is present
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;  // as on the wire
};

struct Question {
  std::string name;
  uint16_t qtype = type::A;
  uint16_t qclass = rclass::IN;
};

struct ResourceRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t rclass = rclass::IN;
  uint32_t ttl = 0;
  // RDATA exactly as in the message. For types whose RDATA holds names (NS, CNAME,
  // SOA, MX...) these bytes may contain compression pointers into the message; use
  // `data` for those. When building, `data` is encoded when it is not RdataUnknown,
  // else these bytes are copied verbatim.
  std::vector<uint8_t> rdata;
  Rdata data;
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<ResourceRecord> answers, authority, additional;  // OPT is not in additional
  std::optional<Edns> edns;                                    // the OPT pseudo-record
};

// Untrusted bytes → Message. Every read is bounds-checked; compression pointers
// must point strictly backwards (no loops, no forward references). Errors read
// "malformed DNS message: <what> at offset <n>".
Result<Message> parse_message(std::span<const uint8_t> wire);
// Parses only the 12-byte header.
Result<Header> parse_header(std::span<const uint8_t> wire);

// Message → bytes. Counts are computed from the sections (header counts ignored);
// the OPT record is appended to the additional section when edns is set, with the
// upper rcode bits taken from header.rcode. Names are compressed when `compress`.
Result<std::vector<uint8_t>> build_message(const Message& msg, bool compress = true);

struct QuerySpec {
  uint16_t id = 0;
  std::string name;
  uint16_t qtype = type::A;
  uint16_t qclass = rclass::IN;
  uint8_t opcode = opcode::QUERY;
  bool rd = true, cd = false, ad = false;
  std::optional<Edns> edns;
};
Result<std::vector<uint8_t>> build_query(const QuerySpec& q);

// Presentation of RDATA as dig prints it ("10 mail.example.com.", "\# 3 0A0B0C").
std::string format_rdata(const ResourceRecord& rr);
// "example.com.\t300\tIN\tA\t192.0.2.1"
std::string format_record(const ResourceRecord& rr);
// "example.com.\t\tIN\tA"
std::string format_question(const Question& q);

// Parses the RDATA at [offset, offset+len) of `msg` for type `t`. Names may use
// compression pointers into `msg`.
Result<Rdata> parse_rdata(uint16_t t, std::span<const uint8_t> msg, size_t offset, size_t len);

// Helpers used by presentation and tests.
std::string to_base64(std::span<const uint8_t> data);
std::string to_base32hex(std::span<const uint8_t> data);  // uppercase, no padding
std::string to_hex(std::span<const uint8_t> data, bool upper = true);
std::string format_type_bitmap(const std::vector<uint16_t>& types);

}  // namespace netshoot::core::dns

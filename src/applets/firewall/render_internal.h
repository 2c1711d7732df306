// Internals of the firewall applet's nft rendering shared by its files: nft's
// value types and their formatting (values.cpp), set elements, header fields.
// decode.cpp turns rule expressions into statements; listing.cpp prints tables.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netshoot/nftables.h"
#include "netshoot/output.h"

namespace netshoot::applet::firewall::detail {

using core::Json;
using core::nft::Ruleset;
using core::nft::Set;
using Bytes = std::vector<uint8_t>;

// nft's datatypes, by the ids nft stores as set key types.
enum class T {
  invalid = 0, verdict = 1, nfproto = 2, bitmask = 3, integer = 4, string = 5, lladdr = 6,
  ipv4 = 7, ipv6 = 8, ether = 9, ether_type = 10, arp_op = 11, inet_proto = 12,
  inet_service = 13, icmp_type = 14, tcp_flag = 15, mark = 19, ifindex = 20, uid = 24,
  gid = 25, ct_state = 26, ct_dir = 27, ct_status = 28, icmpv6_type = 29, pkttype = 31,
  fib_addr = 38, boolean = 39, ifname = 41,
  be_integer = 1000,  // ours: an integer field in network byte order (payload fields)
};

const char* type_name(uint32_t t);          // "ipv4_addr", ... (nullptr if unknown)
bool host_order(T t);                       // stored in host byte order
uint64_t to_uint(const Bytes& b, bool host);
std::string hex(uint64_t v, int width);
std::string time_text(uint64_t ms);         // nft's "1d2h3m4s500ms"
std::string bytes_text(uint64_t v);         // "100 mbytes"
const char* proto_name(unsigned p);         // "tcp", ... (nullptr if unknown)

using FlagNames = std::vector<std::pair<uint32_t, const char*>>;
const FlagNames* flag_names(T t);            // ct state/status, tcp flags; else nullptr

// A value as nft prints it in text (symbols, quoted strings) and JSON.
struct Val {
  std::string text;
  Json json;
};
Val format_value(T t, const Bytes& b);

// A protocol header field nft names ("ip saddr"): offset and length in bytes.
struct Field {
  const char* name;
  uint32_t off, len;  // bytes
  T type;
};
const std::vector<Field>* header_fields(const std::string& proto);
const char* l4_header(unsigned p);          // header name after `meta l4proto N`

std::string verdict_name(int32_t v);
Val verdict_value(int32_t v, const std::string& chain);

std::vector<T> key_types(uint32_t key_type);  // concatenations split
uint32_t type_len(T t);
Val format_key(const std::vector<T>& types, const Bytes& key);
int prefix_len(const Bytes& mask);            // leading ones of a prefix mask, else -1
Val format_range(T t, const Bytes& lo, const Bytes& hi);

struct ElemVal {
  Bytes sort_key;
  bool host = false;
  Val key;
  std::optional<Val> data;
};
std::vector<ElemVal> set_elements(const Set& s);
Val elem_text_json(const ElemVal& e);
std::string elements_text(const Set& s, const std::vector<ElemVal>& elems, bool anonymous);
const Set* find_set(const Ruleset& rs, uint32_t family, const std::string& table, const std::string& name);

}  // namespace netshoot::applet::firewall::detail

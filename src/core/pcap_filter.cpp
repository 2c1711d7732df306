// Filter expressions: host and port names are resolved here (our resolver, our
// services table) so libpcap never calls gethostbyname/getservbyname.
#include "netshoot/pcap_filter.h"

#include <cctype>
#include <set>

#include "netshoot/addr.h"
#include "netshoot/resolver.h"

namespace netshoot::core {

namespace {

const std::set<std::string, std::less<>> kKeywords = {
    "host", "net", "port", "portrange", "src", "dst", "gateway", "and", "or", "not", "proto",
    "ether", "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "broadcast", "multicast",
    "less", "greater", "vlan", "mpls", "len", "inbound", "outbound", "sctp", "igmp", "link",
    "ifname", "on", "dir", "wlan", "type", "subtype", "addr1", "addr2", "addr3", "addr4", "ra",
    "ta", "pppoed", "pppoes", "geneve", "mask", "protochain", "any"};

bool needs_name_lookup(std::string_view tok) {
  if (tok.empty() || kKeywords.count(tok)) return false;
  if (IpAddr::try_parse(tok)) return false;
  bool alpha = false;
  for (char c : tok) {
    if (c == ':' || c == '/' || c == '[' || c == '\\' || c == '(' || c == ')') return false;
    if (std::isalpha(static_cast<unsigned char>(c))) alpha = true;
  }
  return alpha;
}

}  // namespace

std::vector<std::string> filter_tokens(const std::string& expr) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : expr) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')') {
      if (!cur.empty()) out.push_back(cur), cur.clear();
      if (c == '(' || c == ')') out.emplace_back(1, c);
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

Result<std::string> resolve_filter_names(const std::string& expr, const FilterNameLookup& lookup) {
  auto toks = filter_tokens(expr);
  std::string prev, proto;
  for (auto& t : toks) {
    if (t == "tcp" || t == "udp") proto = t;
    bool host_ctx = prev == "host" || prev == "src" || prev == "dst" || prev == "gateway";
    bool port_ctx = prev == "port";
    if (host_ctx && prev != "gateway" && prev != "host" && kKeywords.count(t)) {
      // "src host x", "dst port 80": the qualifier keyword comes next
    } else if (host_ctx && needs_name_lookup(t)) {
      auto a = lookup(t);
      if (!a) return a.error();
      t = *a;
    } else if (port_ctx && needs_name_lookup(t)) {
      auto p = service_port(t, proto == "udp" ? L4Proto::udp : L4Proto::tcp);
      if (!p) p = service_port(t, proto == "udp" ? L4Proto::tcp : L4Proto::udp);
      if (!p) return make_error("unknown port '" + t + "'");
      t = std::to_string(*p);
    }
    prev = t;
  }
  std::string out;
  for (const auto& t : toks) {
    if (!out.empty() && out.back() != '(' && t != ")") out += ' ';
    out += t;
  }
  return out;
}

Result<std::string> filter_host_lookup(const std::string& name) {
  auto r = dns::resolve_host(name, AF_UNSPEC);
  if (!r) return make_error("unknown host '" + name + "'");
  if (r->empty()) return make_error("unknown host '" + name + "'");
  return r->front().addr.to_string();
}

}  // namespace netshoot::core

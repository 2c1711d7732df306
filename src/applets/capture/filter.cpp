// Filter expressions: host and port names are resolved here (our resolver, our
// services table) so libpcap never calls gethostbyname/getservbyname, which
// cannot work in a static binary without NSS.
#include "filter.h"

#include <cctype>
#include <set>

#include "netshoot/addr.h"
#include "netshoot/resolver.h"

namespace netshoot::applet::capture {

namespace {

const std::set<std::string, std::less<>> kKeywords = {
    "host", "net", "port", "portrange", "src", "dst", "gateway", "and", "or", "not", "proto",
    "ether", "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "broadcast", "multicast",
    "less", "greater", "vlan", "mpls", "len", "inbound", "outbound", "sctp", "igmp", "link",
    "ifname", "on", "dir", "wlan", "type", "subtype", "addr1", "addr2", "addr3", "addr4", "ra",
    "ta", "pppoed", "pppoes", "geneve", "mask", "protochain", "any"};

bool needs_name_lookup(std::string_view tok) {
  if (tok.empty() || kKeywords.count(tok)) return false;
  if (core::IpAddr::try_parse(tok)) return false;
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

core::Result<std::string> resolve_filter_names(const std::string& expr, const NameLookup& lookup) {
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
      auto p = core::service_port(t, proto == "udp" ? core::L4Proto::udp : core::L4Proto::tcp);
      if (!p) p = core::service_port(t, proto == "udp" ? core::L4Proto::tcp : core::L4Proto::udp);
      if (!p) return core::make_error("unknown port '" + t + "'");
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

core::Result<std::string> resolver_lookup(const std::string& name) {
  auto r = core::dns::resolve_host(name, AF_UNSPEC);
  if (!r) return core::make_error("unknown host '" + name + "'");
  if (r->empty()) return core::make_error("unknown host '" + name + "'");
  return r->front().addr.to_string();
}

}  // namespace netshoot::applet::capture

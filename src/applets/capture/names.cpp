// Host, port, protocol and MAC names for output without -n (see names.h).
#include "names.h"

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

#include "netshoot/addr.h"
#include "netshoot/resolver.h"

namespace netshoot::applet::capture {

namespace {

std::string read_text(const char* path) {
  std::ifstream f(path);
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Calls fn(fields) for each non-comment line, fields split on blanks.
template <typename Fn>
void for_each_line(std::string_view text, Fn fn) {
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (auto h = line.find('#'); h != std::string_view::npos) line = line.substr(0, h);
    std::string_view f[3];
    int n = 0;
    size_t k = 0;
    while (n < 3) {
      while (k < line.size() && std::isspace(static_cast<unsigned char>(line[k]))) ++k;
      if (k >= line.size()) break;
      size_t s = k;
      while (k < line.size() && !std::isspace(static_cast<unsigned char>(line[k]))) ++k;
      f[n++] = line.substr(s, k - s);
    }
    if (n >= 2) fn(f[0], f[1]);
  }
}

bool parse_uint(std::string_view s, uint32_t max, uint32_t& v) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    x = x * 10 + uint64_t(c - '0');
  }
  if (x > max) return false;
  v = uint32_t(x);
  return true;
}

std::optional<uint64_t> parse_mac(std::string_view s) {
  uint64_t v = 0;
  int parts = 0;
  while (!s.empty() && parts < 6) {
    size_t c = s.find(':');
    std::string_view p = s.substr(0, c);
    if (p.empty() || p.size() > 2) return std::nullopt;
    uint32_t b = 0;
    for (char ch : p) {
      int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
            : std::isxdigit(static_cast<unsigned char>(ch)) ? (std::tolower(ch) - 'a' + 10)
                                                             : -1;
      if (d < 0) return std::nullopt;
      b = b * 16 + uint32_t(d);
    }
    v = v << 8 | b;
    ++parts;
    s = c == std::string_view::npos ? std::string_view{} : s.substr(c + 1);
  }
  if (parts != 6 || !s.empty()) return std::nullopt;
  return v;
}

uint64_t mac_key(const uint8_t* m) {
  uint64_t v = 0;
  for (int k = 0; k < 6; ++k) v = v << 8 | m[k];
  return v;
}

struct Services {
  std::unordered_map<uint32_t, std::string> names;
  bool from_file = false;
  Services() {
    std::string t = read_text("/etc/services");
    from_file = !t.empty();
    parse_services(t, names);
  }
};

struct Protocols {
  std::unordered_map<uint32_t, std::string> names;
  Protocols() { parse_protocols(read_text("/etc/protocols"), names); }
};

struct Ethers {
  std::unordered_map<uint64_t, std::string> names;
  Ethers() { parse_ethers(read_text("/etc/ethers"), names); }
};

}  // namespace

void parse_services(std::string_view text, std::unordered_map<uint32_t, std::string>& out) {
  for_each_line(text, [&](std::string_view name, std::string_view pp) {
    size_t sl = pp.find('/');
    if (sl == std::string_view::npos) return;
    uint32_t port = 0;
    if (!parse_uint(pp.substr(0, sl), 65535, port)) return;
    std::string_view proto = pp.substr(sl + 1);
    if (proto != "tcp" && proto != "udp") return;
    out.emplace(port | (proto == "udp" ? 0x10000u : 0u), std::string(name));  // first one wins
  });
}

void parse_protocols(std::string_view text, std::unordered_map<uint32_t, std::string>& out) {
  for_each_line(text, [&](std::string_view name, std::string_view num) {
    uint32_t p = 0;
    if (parse_uint(num, 255, p)) out.emplace(p, std::string(name));
  });
}

void parse_ethers(std::string_view text, std::unordered_map<uint64_t, std::string>& out) {
  for_each_line(text, [&](std::string_view mac, std::string_view name) {
    if (auto m = parse_mac(mac)) out.emplace(*m, std::string(name));
  });
}

std::string_view port_name(uint16_t port, bool udp) {
  static const Services s;
  if (!s.from_file) return core::netbase_service_name(port, udp ? core::L4Proto::udp : core::L4Proto::tcp);
  auto it = s.names.find(port | (udp ? 0x10000u : 0u));
  return it == s.names.end() ? std::string_view{} : std::string_view(it->second);
}

std::string_view ip_proto_name(uint8_t proto) {
  static const Protocols p;
  auto it = p.names.find(proto);
  return it == p.names.end() ? std::string_view{} : std::string_view(it->second);
}

std::string_view mac_name(const uint8_t* mac) {
  static const Ethers e;
  uint64_t k = mac_key(mac);
  if (auto it = e.names.find(k); it != e.names.end()) return it->second;
  if (k == 0xffffffffffffULL) return "Broadcast";
  return {};
}

HostNames::HostNames(Config c) : cfg_(std::move(c)), dns_(cfg_.dns) {
  if (auto h = core::dns::HostsFile::load(cfg_.hosts_path)) hosts_ = std::move(*h);
  if (!dns_) return;
  if (cfg_.resolv_conf) {
    conf_ = *cfg_.resolv_conf;
  } else if (auto r = core::dns::load_resolv_conf(cfg_.resolv_conf_path)) {
    conf_ = std::move(*r);
  } else {
    dns_ = false;
    return;
  }
  conf_->attempts = 1;
}

std::string_view HostNames::name(const uint8_t* a, int family) {
  size_t n = family == 4 ? 4 : 16;
  std::string key(reinterpret_cast<const char*>(a), n);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  core::IpAddr addr = core::IpAddr::from_bytes({a, n});
  std::string name;
  if (auto h = hosts_.reverse(addr)) {
    name = *h;
  } else if (dns_) {
    core::dns::ResolverConfig rc;
    rc.use_hosts = false;
    rc.use_env = false;
    rc.resolv_conf = conf_;
    rc.timeout_ms = cfg_.timeout_ms;
    ++dns_queries_;
    auto t0 = std::chrono::steady_clock::now();
    auto r = core::dns::reverse_lookup(addr, rc);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (r && !r->empty()) {
      name = *r;
    } else if (!r && ms >= cfg_.timeout_ms / 2) {
      // A slow failure (no server answered in time): a few of these and DNS is off,
      // so a dead server costs at most max_dns_failures × timeout in total.
      if (++failures_ >= cfg_.max_dns_failures) dns_ = false;
    }
  }
  if (name.empty()) {
    name = addr.to_string();
  } else if (cfg_.strip_domain) {
    if (auto dot = name.find('.'); dot != std::string::npos) name.resize(dot);
  }
  return cache_.emplace(std::move(key), std::move(name)).first->second;
}

}  // namespace netshoot::applet::capture

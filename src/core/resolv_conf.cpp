// resolv.conf parsing with glibc's rules.
#include "netshoot/resolv_conf.h"

#include "dns_internal.h"
#include "netshoot/fd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace netshoot::core::dns {

std::optional<NameServer> NameServer::parse(std::string_view text, uint16_t port) {
  auto a = IpAddr::parse(text);
  if (!a) return std::nullopt;
  return NameServer{*a, port};
}

socklen_t NameServer::to_sockaddr(sockaddr_storage& ss) const { return addr.to_sockaddr(port, ss); }

std::string NameServer::to_string() const {
  return addr.with_scope(0).to_string() + "#" + std::to_string(port);  // dig: no zone
}

std::vector<NameServer> ResolvConf::servers() const {
  if (!nameservers.empty()) return nameservers;
  return {*NameServer::parse("127.0.0.1")};
}

namespace {

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size()) break;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool parse_int(std::string_view s, int& out) {
  // glibc uses atoi: leading digits, garbage after is ignored
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p == s.data() || v < 0) return false;
  out = v;
  return true;
}

void set_search(ResolvConf& c, const std::vector<std::string_view>& domains) {
  c.search.clear();
  for (auto d : domains) {
    if (c.search.size() >= ResolvConf::kMaxSearch) break;
    std::string s(d);
    while (s.size() > 1 && s.back() == '.') s.pop_back();
    if (s.empty() || s == ".") continue;
    c.search.push_back(std::move(s));
  }
}

}  // namespace

void apply_resolv_options(ResolvConf& c, std::string_view options) {
  for (auto w : words(options)) {
    auto opt_value = [&](std::string_view name, int& field, int cap) {
      if (w.size() > name.size() && w.substr(0, name.size()) == name) {
        int v;
        if (parse_int(w.substr(name.size()), v)) field = std::min(v, cap);
        return true;
      }
      return false;
    };
    if (opt_value("ndots:", c.ndots, 15)) continue;
    if (opt_value("timeout:", c.timeout, 30)) {
      if (c.timeout < 1) c.timeout = 1;
      continue;
    }
    if (opt_value("attempts:", c.attempts, 5)) {
      if (c.attempts < 1) c.attempts = 1;
      continue;
    }
    if (w == "rotate") c.rotate = true;
    else if (w == "single-request") c.single_request = true;
    else if (w == "single-request-reopen") c.single_request_reopen = true;
    else if (w == "use-vc") c.use_vc = true;
    else if (w == "edns0") c.edns0 = true;
    else if (w == "trust-ad") c.trust_ad = true;
    else if (w == "no-aaaa") c.no_aaaa = true;
    else if (w == "no-tld-query") c.no_tld_query = true;
    // debug, inet6, ip6-*, no-check-names, no-reload: accepted and ignored
  }
}

ResolvConf parse_resolv_conf(std::string_view text) {
  ResolvConf c;
  size_t lineno = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    // inline comments after whitespace
    for (size_t i = 1; i < line.size(); ++i)
      if ((line[i] == '#' || line[i] == ';') && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line = line.substr(0, i);
        break;
      }
    auto w = words(line);
    if (w.empty()) continue;
    // glibc: the keyword must start the line
    if (line[0] == ' ' || line[0] == '\t') continue;
    auto key = w[0];
    std::vector<std::string_view> args(w.begin() + 1, w.end());
    if (key == "nameserver") {
      if (args.empty()) continue;
      if (c.nameservers.size() >= ResolvConf::kMaxNameservers) continue;
      if (auto ns = NameServer::parse(args[0])) c.nameservers.push_back(*ns);
      else c.warnings.push_back("line " + std::to_string(lineno) + ": bad nameserver '" + std::string(args[0]) + "'");
    } else if (key == "search") {
      set_search(c, args);
    } else if (key == "domain") {
      if (!args.empty()) set_search(c, {args[0]});
    } else if (key == "options") {
      std::string joined;
      for (auto a : args) joined += std::string(a) + " ";
      apply_resolv_options(c, joined);
    }
    if (nl == text.size()) break;
  }
  return c;
}

namespace detail {

Result<std::optional<std::string>> read_text_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return os_error("open " + path);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return os_error("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (16u << 20)) return make_error("read " + path + ": file too large");
  }
  return std::optional<std::string>(std::move(out));
}

}  // namespace detail

Result<ResolvConf> load_resolv_conf(const std::string& path, bool use_env) {
  ResolvConf c;
  auto text = detail::read_text_file(path);
  if (!text) return text.error();
  if (*text) {
    c = parse_resolv_conf(**text);
    c.from_file = true;
  }
  c.path = path;
  if (use_env) {
    if (const char* ld = std::getenv("LOCALDOMAIN")) {
      auto w = words(ld);
      set_search(c, w);
    }
    if (const char* ro = std::getenv("RES_OPTIONS")) apply_resolv_options(c, ro);
  }
  return c;
}

}  // namespace netshoot::core::dns

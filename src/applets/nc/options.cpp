// nc option parsing (getopt-style, no global state) and message formatting.
#include "options.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <string_view>

#include "netshoot/addr.h"

namespace netshoot::applet::nc {

using core::make_error;
using core::Result;

std::string usage() {
  return "usage: nc [-46dklNnuvz] [-p source_port] [-q seconds] [-s sourceaddr] [-w timeout]\n"
         "\t  [destination] [port]\n"
         "Connect to or listen on TCP/UDP ports and relay stdin/stdout (netcat-openbsd compatible).\n\n"
         "  -4 / -6   IPv4 / IPv6 only            -l        listen for a connection\n"
         "  -d        do not read stdin\n"
         "  -k        keep listening (with -l)    -u        UDP\n"
         "  -N        shutdown(SHUT_WR) on stdin EOF   -q SECS  quit SECS after stdin EOF\n"
         "  -n        no name or service lookups  -v        verbose\n"
         "  -p PORT   local port                  -s ADDR   local address\n"
         "  -w SECS   connect / idle timeout      -z        scan: connect only, no data\n\n"
         "Examples:\n"
         "  nc -l 8080                   # print what a client sends\n"
         "  nc -vz service-a 8080        # is the port reachable?\n"
         "  nc -zv 10.0.0.2 20-25        # which of these ports accept connections?\n"
         "  nc -N host 9000 < file       # send a file and close\n";
}

// netcat-openbsd names services through getservbyport(), i.e. /etc/services
// ("http-alt" for 8080, where nmap's table says "http-proxy"). Read the file when
// the host has one (a plain file, no NSS), else fall back to the built-in table.
namespace {
struct ServicesFile {
  std::unordered_map<uint32_t, std::string> by_port;       // port << 1 | udp
  std::unordered_map<std::string, uint16_t> by_name[2];
  bool loaded = false;
};
const ServicesFile& services_file() {
  static ServicesFile f = [] {
    ServicesFile s;
    std::ifstream in("/etc/services");
    std::string line;
    while (std::getline(in, line)) {
      if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
      std::istringstream ls(line);
      std::string name, pp;
      if (!(ls >> name >> pp)) continue;
      auto slash = pp.find('/');
      if (slash == std::string::npos) continue;
      int udp = pp.substr(slash + 1) == "udp" ? 1 : pp.substr(slash + 1) == "tcp" ? 0 : -1;
      if (udp < 0) continue;
      uint32_t port = uint32_t(std::strtoul(pp.c_str(), nullptr, 10));
      if (port > 65535) continue;
      s.by_port.emplace(port << 1 | uint32_t(udp), name);
      s.by_name[udp].emplace(name, uint16_t(port));
      std::string alias;
      while (ls >> alias) s.by_name[udp].emplace(alias, uint16_t(port));
      s.loaded = true;
    }
    return s;
  }();
  return f;
}
}  // namespace

std::string service_for_port(uint16_t port, bool udp) {
  const auto& f = services_file();
  if (f.loaded) {
    auto it = f.by_port.find(uint32_t(port) << 1 | (udp ? 1u : 0u));
    return it == f.by_port.end() ? std::string() : it->second;
  }
  // No /etc/services (a scratch image): the built-in table, with netbase's names.
  return std::string(core::netbase_service_name(port, udp ? core::L4Proto::udp : core::L4Proto::tcp));
}

std::optional<uint16_t> port_for_service(const std::string& name, bool udp) {
  const auto& f = services_file();
  if (f.loaded) {
    auto it = f.by_name[udp ? 1 : 0].find(name);
    if (it != f.by_name[udp ? 1 : 0].end()) return it->second;
    return std::nullopt;
  }
  return core::service_port(name, udp ? core::L4Proto::udp : core::L4Proto::tcp);
}

namespace {

Result<int> parse_int(std::string_view s, const char* what, int lo, int hi) {
  if (s.empty()) return make_error(std::string(what) + " is invalid: " + std::string(s));
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return make_error(std::string(what) + " is invalid: " + std::string(s));
    v = v * 10 + (c - '0');
    if (v > 1000000000) break;
  }
  if (v < lo) return make_error(std::string(what) + " too small: " + std::string(s));
  if (v > hi) return make_error(std::string(what) + " too large: " + std::string(s));
  return int(v);
}

// One port: a number or (unless -n) a service name.
Result<uint16_t> parse_port(std::string_view s, bool udp, bool numeric) {
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    auto v = parse_int(s, "port number", 0, 65535);
    if (!v) return v.error();
    return uint16_t(*v);
  }
  if (!numeric) {
    if (auto p = port_for_service(std::string(s), udp)) return *p;
  }
  return make_error("service \"" + std::string(s) + "\" unknown");
}

}  // namespace

Result<Options> parse_options(int argc, char** argv) {
  Options o;
  std::vector<std::string> pos;
  bool only_pos = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (only_pos || a.size() < 2 || a[0] != '-') {
      pos.emplace_back(a);
      continue;
    }
    if (a == "--") { only_pos = true; continue; }
    if (a == "--help") { o.help = true; return o; }
    for (size_t j = 1; j < a.size(); ++j) {
      char c = a[j];
      auto arg = [&]() -> Result<std::string> {
        if (j + 1 < a.size()) {
          std::string v(a.substr(j + 1));
          j = a.size();
          return v;
        }
        if (i + 1 >= argc) return make_error(std::string("option requires an argument -- '") + c + "'");
        j = a.size();
        return std::string(argv[++i]);
      };
      switch (c) {
        case '4': o.family = AF_INET; break;
        case '6': o.family = AF_INET6; break;
        case 'l': o.listen = true; break;
        case 'k': o.keep = true; break;
        case 'u': o.udp = true; break;
        case 'v': o.verbose++; break;
        case 'z': o.zero_io = true; break;
        case 'n': o.numeric = true; break;
        case 'N': o.shutdown_on_eof = true; break;
        case 'h': o.help = true; return o;
        case 'd': o.no_stdin = true; break;
        case 'w': case 'q': case 'p': case 's': {
          auto v = arg();
          if (!v) return v.error();
          if (c == 's') { o.source = *v; break; }
          if (c == 'p') {
            auto p = parse_port(*v, false, true);
            if (!p) return p.error();
            o.source_port = *p;
            break;
          }
          if (c == 'q') {
            // negative: wait forever
            if (!v->empty() && (*v)[0] == '-') { o.quit_s = -1; break; }
            auto n = parse_int(*v, "quit timer", 0, 1 << 30);
            if (!n) return n.error();
            o.quit_s = *n;
            break;
          }
          auto n = parse_int(*v, "timeout", 0, 100000000);
          if (!n) return make_error("timeout " + n.error().context.substr(n.error().context.find(' ') + 1));
          o.wait_s = *n;
          break;
        }
        default:
          return make_error(std::string("invalid option -- '") + c + "'");
      }
    }
  }
  if (o.keep && !o.listen) return make_error("must use -l with -k");
  if (o.listen) {
    // nc -l [addr] port, or nc -l -p port [addr]
    if (pos.size() == 2) { o.host = pos[0]; pos.erase(pos.begin()); }
    else if (pos.size() == 1 && o.source_port >= 0) { o.host = pos[0]; pos.clear(); }
    if (pos.size() > 1) return make_error("cannot use -p and a port argument together"); 
    if (pos.empty()) {
      if (o.source_port < 0) return make_error("missing port number");
      o.ports.push_back(uint16_t(o.source_port));
      o.port_text.push_back(std::to_string(o.source_port));
      o.source_port = -1;
    } else {
      auto p = parse_port(pos[0], o.udp, o.numeric);
      if (!p) return p.error();
      o.ports.push_back(*p);
      o.port_text.push_back(std::to_string(*p));
    }
    if (o.host.empty() && !o.source.empty()) o.host = o.source;
    return o;
  }
  if (pos.empty()) return make_error("usage");
  o.host = pos[0];
  if (pos.size() < 2) return make_error("missing port number");
  for (size_t k = 1; k < pos.size(); ++k) {
    std::string_view s = pos[k];
    auto dash = s.find('-');
    if (dash != std::string_view::npos && dash > 0) {
      auto lo = parse_int(s.substr(0, dash), "port number", 0, 65535);
      if (!lo) return lo.error();
      auto hi = parse_int(s.substr(dash + 1), "port number", 0, 65535);
      if (!hi) return hi.error();
      int a = *lo, b = *hi;
      if (a > b) std::swap(a, b);
      for (int p = a; p <= b; ++p) {
        o.ports.push_back(uint16_t(p));
        o.port_text.push_back(std::to_string(p));
      }
    } else {
      auto p = parse_port(s, o.udp, o.numeric);
      if (!p) return p.error();
      o.ports.push_back(*p);
      o.port_text.push_back(std::to_string(*p));
    }
  }
  return o;
}

std::string success_message(const std::string& host, const std::string& ip, uint16_t port, bool udp,
                            bool numeric) {
  std::string m = "Connection to " + host;
  if (!numeric && host != ip) m += " (" + ip + ")";
  std::string sv = numeric ? std::string() : service_for_port(port, udp);
  m += " " + std::to_string(port) + " port [" + (udp ? "udp/" : "tcp/") + (sv.empty() ? "*" : sv) +
       "] succeeded!";
  return m;
}

std::string failure_message(const std::string& host, const std::string& ip, uint16_t port, bool udp,
                            bool numeric, int err) {
  std::string m = "connect to " + host;
  if (!numeric && host != ip) m += " (" + ip + ")";
  m += " port " + std::to_string(port) + (udp ? " (udp)" : " (tcp)");
  // openbsd's timeout_connect() reports its own poll timeout this way
  if (err == ETIMEDOUT) m += " timed out: Operation now in progress";
  else m += std::string(" failed: ") + std::strerror(err < 0 ? -err : err);
  return m;
}

}  // namespace netshoot::applet::nc

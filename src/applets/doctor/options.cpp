// doctor's command line: TARGET[:PORT] or a URL, and the few knobs of the checks.
#include <sys/socket.h>

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

#include "applets/doctor/doctor.h"

namespace netshoot::applet::doctor {
namespace {

using core::make_error;

struct SchemePort {
  std::string_view scheme;
  uint16_t port;
  bool udp;
};
// The schemes people paste from configs and runbooks.
constexpr SchemePort kSchemes[] = {
    {"http", 80, false},   {"https", 443, false}, {"ws", 80, false},     {"wss", 443, false},
    {"tcp", 0, false},     {"udp", 0, true},      {"dns", 53, true},     {"ftp", 21, false},
    {"ssh", 22, false},    {"smtp", 25, false},   {"redis", 6379, false}, {"postgres", 5432, false},
    {"postgresql", 5432, false}, {"mysql", 3306, false}, {"mongodb", 27017, false},
    {"amqp", 5672, false}, {"grpc", 443, false}, {"ldap", 389, false},   {"nats", 4222, false},
};

core::Result<uint16_t> parse_port(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535)
    return make_error("invalid port \"" + std::string(s) + "\" (1-65535)");
  return static_cast<uint16_t>(v);
}

bool all_hex_or_colon(std::string_view s) {
  for (char c : s)
    if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.' || c == '%')) return false;
  return true;
}

}  // namespace

core::Result<Target> parse_target(std::string_view text) {
  Target t;
  std::string_view rest = text;
  if (auto pos = rest.find("://"); pos != std::string_view::npos) {
    std::string scheme(rest.substr(0, pos));
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const SchemePort* known = nullptr;
    for (const auto& s : kSchemes)
      if (s.scheme == scheme) known = &s;
    if (!known) return make_error("unknown URL scheme \"" + scheme + "\" in " + std::string(text));
    t.scheme = scheme;
    if (known->port) t.port = known->port;
    rest.remove_prefix(pos + 3);
    // authority ends at the path, query or fragment; drop any user info
    size_t end = rest.find_first_of("/?#");
    if (end != std::string_view::npos) rest = rest.substr(0, end);
    if (auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  }
  if (rest.empty()) return make_error("no host in \"" + std::string(text) + "\"");
  if (rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return make_error("missing ']' in " + std::string(text));
    t.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error("unexpected text after ']' in " + std::string(text));
      auto p = parse_port(after.substr(1));
      if (!p) return p.error();
      t.port = *p;
    }
  } else if (rest.find(':') != rest.rfind(':') && all_hex_or_colon(rest)) {
    t.host = std::string(rest);  // a bare IPv6 address
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    t.host = std::string(rest.substr(0, colon));
    auto p = parse_port(rest.substr(colon + 1));
    if (!p) return p.error();
    t.port = *p;
  } else {
    t.host = std::string(rest);
  }
  if (t.host.empty()) return make_error("no host in \"" + std::string(text) + "\"");
  for (char c : t.host)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/')
      return make_error("invalid host \"" + t.host + "\"");
  return t;
}

std::string usage() {
  return "Usage: doctor [options] TARGET[:PORT]\n"
         "Finds which layer of the network is broken on the way to TARGET and shows the evidence:\n"
         "  1 resolver      resolv.conf in effect, every query glibc would send, the answers\n"
         "  2 route         the route the kernel picks (ip route get), source, interface, rules\n"
         "  3 neighbour     the next hop's ARP/ND state and a fresh ARP request\n"
         "  4 reachability  ICMP echo RTT and loss; TCP connect (or --udp probe) to the port\n"
         "  5 path          the hops, where loss starts, path MTU against the interface MTU\n"
         "  6 policy        nftables rules here that match the flow (counters), conntrack entries\n"
         "and a verdict line naming the first failing layer. Exit 0 only when all layers pass.\n\n"
         "TARGET: a name, an address, [IPv6]:PORT or a URL (http://web:8080/x, https://api/).\n\n"
         "Options:\n"
         "  -p, --port N        port to connect to (also TARGET:PORT)\n"
         "  -u, --udp           UDP probe instead of a TCP connect\n"
         "  -4, -6              use IPv4 / IPv6 addresses only\n"
         "  -t, --timeout SEC   TCP connect, UDP probe and per-nameserver wait (default 3)\n"
         "  -c, --count N       echo probes per target and hop (default 20)\n"
         "  -m, --max-hops N    path length limit (default 16)\n"
         "  --resolv-conf FILE  resolver configuration (default /etc/resolv.conf)\n"
         "  --hosts FILE        hosts file (default /etc/hosts)\n"
         "  --json              one JSON object with every check and the verdict\n"
         "  --netns TARGET      run in a netns path, a PID's or a container's namespace\n\n"
         "Examples:\n"
         "  doctor web.prod:8080\n"
         "  doctor http://api.default.svc.cluster.local/healthz\n"
         "  doctor --udp kube-dns.kube-system:53\n";
}

core::Result<Options> parse_options(int argc, char** argv) {
  Options o;
  bool have_target = false;
  std::optional<uint16_t> port_opt;
  auto value = [&](int& i, std::string_view name) -> core::Result<std::string> {
    std::string_view a = argv[i];
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string_view::npos)
      return std::string(a.substr(eq + 1));
    if (i + 1 >= argc) return make_error(std::string(name) + " needs a value");
    return std::string(argv[++i]);
  };
  auto number = [](const std::string& s, std::string_view name, double lo, double hi) -> core::Result<double> {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v >= lo && v <= hi))
      return make_error(std::string(name) + ": invalid value \"" + s + "\"");
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string_view key = a.substr(0, a.find('='));
    if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (a == "-u" || a == "--udp") {
      o.udp = true;
    } else if (a == "--tcp") {
      o.udp = false;
    } else if (a == "-4") {
      o.family = AF_INET;
    } else if (a == "-6") {
      o.family = AF_INET6;
    } else if (key == "-p" || key == "--port") {
      auto v = value(i, "--port");
      if (!v) return v.error();
      auto p = parse_port(*v);
      if (!p) return p.error();
      port_opt = *p;
    } else if (key == "-t" || key == "--timeout") {
      auto v = value(i, "--timeout");
      if (!v) return v.error();
      auto n = number(*v, "--timeout", 0.05, 120);
      if (!n) return n.error();
      o.timeout_s = *n;
    } else if (key == "-c" || key == "--count") {
      auto v = value(i, "--count");
      if (!v) return v.error();
      auto n = number(*v, "--count", 1, 1000);
      if (!n) return n.error();
      o.count = static_cast<int>(*n);
    } else if (key == "-m" || key == "--max-hops") {
      auto v = value(i, "--max-hops");
      if (!v) return v.error();
      auto n = number(*v, "--max-hops", 1, 64);
      if (!n) return n.error();
      o.max_hops = static_cast<int>(*n);
    } else if (key == "--resolv-conf") {
      auto v = value(i, "--resolv-conf");
      if (!v) return v.error();
      o.resolv_conf = *v;
    } else if (key == "--hosts") {
      auto v = value(i, "--hosts");
      if (!v) return v.error();
      o.hosts = *v;
    } else if (a.size() > 1 && a[0] == '-') {
      return make_error("unknown option " + std::string(a) + " (see doctor --help)");
    } else if (have_target) {
      return make_error("more than one TARGET (" + o.target.host + ", " + std::string(a) + ")");
    } else {
      auto t = parse_target(a);
      if (!t) return t.error();
      o.target = std::move(*t);
      have_target = true;
      if (o.target.scheme == "udp" || o.target.scheme == "dns") o.udp = true;
    }
  }
  if (o.help) return o;
  if (!have_target) return make_error("missing TARGET (see doctor --help)");
  if (port_opt) o.target.port = port_opt;
  return o;
}

}  // namespace netshoot::applet::doctor

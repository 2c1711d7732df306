// Command lines: `netgen [options] HOST PORT` / `netgen -l PORT`, `netgen craft`
// (nping's craft flags) and `hping3` (hping3's flags).
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>

#include "netgen.h"

namespace netshoot::applet::netgen {

using core::make_error;
using core::Result;
using core::Status;

namespace {

// Walks argv: "-c 3", "-c3", "--count 3", "--count=3".
class Args {
 public:
  explicit Args(const std::vector<std::string>& a) : a_(a) {}
  bool done() const { return i_ >= a_.size(); }
  const std::string& peek() const { return a_[i_]; }
  std::string next() { return a_[i_++]; }
  // The value of option `opt` (already consumed as `tok`): attached or the next argument.
  Result<std::string> value(const std::string& tok, const std::string& opt) {
    if (tok.size() > opt.size()) {
      if (tok[opt.size()] == '=') return tok.substr(opt.size() + 1);
      return tok.substr(opt.size());  // -c3
    }
    if (done()) return make_error("option " + opt + " needs a value");
    return next();
  }

 private:
  const std::vector<std::string>& a_;
  size_t i_ = 0;
};

// Does token `tok` name option `opt` (exactly, "--opt=v", or "-cVALUE" for short ones)?
bool is(const std::string& tok, const char* opt, bool takes_value) {
  size_t n = std::strlen(opt);
  if (tok.compare(0, n, opt) != 0) return false;
  if (tok.size() == n) return true;
  if (!takes_value) return false;
  if (tok[n] == '=') return true;
  return opt[1] != '-' && n == 2;  // -c3
}

template <typename T>
Result<T> integer(const std::string& what, const std::string& s, T lo, T hi, int base = 10) {
  T v{};
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (base == 0) {
    base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) b += 2, base = 16;
  }
  auto [p, ec] = std::from_chars(b, e, v, base);
  if (ec != std::errc() || p != e || s.empty())
    return make_error("invalid " + what + " '" + s + "'");
  if (v < lo || v > hi)
    return make_error(what + " " + s + " out of range (" + std::to_string(lo) + "-" + std::to_string(hi) + ")");
  return v;
}

Result<double> positive_seconds(const std::string& what, const std::string& s, bool allow_zero = false) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || errno != 0 || !std::isfinite(v))
    return make_error("invalid " + what + " '" + s + "'");
  if (v < 0 || (!allow_zero && v == 0)) return make_error(what + " must be " + (allow_zero ? "at least 0" : "greater than 0") + ": '" + s + "'");
  return v;
}

Result<double> rate_value(const std::string& s) {
  if (s == "max" || s == "flood") return std::numeric_limits<double>::infinity();
  auto r = positive_seconds("rate", s);
  if (!r) return make_error("rate must be a positive number of packets per second or 'max': '" + s + "'");
  return *r;
}

Status check_frag(uint32_t off) {
  if (off > 65528) return make_error("fragment offset " + std::to_string(off) + " is past 65528 (the largest the 13-bit field holds)");
  if (off % 8) return make_error("fragment offset " + std::to_string(off) + " is not a multiple of 8");
  return {};
}

// -v, -v3, -q, -q2: nping's verbosity levels.
bool level_flag(const std::string& t, char c, int& level, int sign) {
  if (t.size() < 2 || t[0] != '-' || t[1] != c) return false;
  if (t.size() == 2) { level += sign; return true; }
  if (t.find_first_not_of(c, 1) == std::string::npos) { level += sign * int(t.size() - 1); return true; }  // -vvv
  if (t.size() == 3 && std::isdigit(uint8_t(t[2]))) { level += sign * (t[2] - '0'); return true; }
  return false;
}

// Hex ("0x0a0b..") or text payload.
std::vector<uint8_t> text_bytes(const std::string& s) { return {s.begin(), s.end()}; }

Result<std::vector<uint8_t>> hex_bytes(std::string s) {
  if (s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0) s = s.substr(2);
  std::string clean;
  for (char c : s)
    if (c != ':' && c != ' ' && c != '\\' && c != 'x') clean += c;
  if (clean.size() % 2) return make_error("hex payload has an odd number of digits");
  std::vector<uint8_t> out;
  for (size_t i = 0; i < clean.size(); i += 2) {
    auto b = integer<uint8_t>("hex payload", clean.substr(i, 2), 0, 255, 16);
    if (!b) return b.error();
    out.push_back(*b);
  }
  return out;
}

std::vector<uint8_t> filler(size_t n) {
  // hping3 fills -d bytes with 'X'; nping's --data-length uses random bytes. A fixed
  // byte keeps captures comparable run to run.
  return std::vector<uint8_t>(n, 'X');
}

}  // namespace

Result<std::vector<uint8_t>> read_payload_file(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::Error{errno ? errno : ENOENT, "payload file " + path, {}};
  std::vector<uint8_t> out;
  char buf[4096];
  while (in && out.size() < max) {
    in.read(buf, std::streamsize(std::min(sizeof buf, max - out.size())));
    out.insert(out.end(), buf, buf + in.gcount());
  }
  return out;
}

Result<std::vector<uint16_t>> parse_port_list(std::string_view spec) {
  std::vector<uint16_t> out;
  std::string s(spec);
  if (s.empty()) return make_error("empty port list");
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(pos, end - pos);
    if (item.empty()) return make_error("invalid port list '" + s + "' (e.g. 80, 80,443, 1-1024)");
    size_t dash = item.find('-');
    if (dash == std::string::npos) {
      auto p = integer<uint32_t>("destination port", item, 0, 65535);
      if (!p) return p.error();
      out.push_back(uint16_t(*p));
    } else {
      auto lo = integer<uint32_t>("destination port", item.substr(0, dash), 0, 65535);
      if (!lo) return lo.error();
      auto hi = integer<uint32_t>("destination port", item.substr(dash + 1), 0, 65535);
      if (!hi) return hi.error();
      if (*hi < *lo) return make_error("invalid port range '" + item + "' (the first port is larger)");
      if (out.size() + (*hi - *lo + 1) > 65536 * 4) return make_error("port list '" + s + "' is too long");
      for (uint32_t p = *lo; p <= *hi; ++p) out.push_back(uint16_t(p));
    }
    pos = end + 1;
  }
  return out;
}

Result<double> parse_nping_time(const std::string& what, const std::string& s) {
  std::string num = s;
  double mul = 1;
  auto ends = [&](const char* suf) {
    size_t n = std::strlen(suf);
    return num.size() > n && num.compare(num.size() - n, n, suf) == 0;
  };
  if (ends("ms")) mul = 1e-3, num.resize(num.size() - 2);
  else if (ends("s")) num.pop_back();
  else if (ends("m")) mul = 60, num.pop_back();
  else if (ends("h")) mul = 3600, num.pop_back();
  char* end = nullptr;
  errno = 0;
  double v = num.empty() ? 0 : std::strtod(num.c_str(), &end);
  if (num.empty() || !(std::isdigit(uint8_t(num[0])) || num[0] == '.') || *end != '\0' || errno != 0 ||
      !std::isfinite(v))
    return make_error("invalid " + what + " '" + s + "' (seconds, or with a unit: 0.5, 200ms, 1s, 2m, 1h)");
  return v * mul;
}

// ---- netgen HOST PORT -------------------------------------------------------------------

Result<TrafficOptions> parse_traffic(const std::vector<std::string>& argv, bool& help) {
  TrafficOptions o;
  Args a(argv);
  std::vector<std::string> pos;
  std::optional<uint16_t> listen_port;
  bool interval_given = false;
  while (!a.done()) {
    std::string t = a.next();
    auto need = [&](const char* opt) { return a.value(t, opt); };
    if (t == "-h" || t == "--help") { help = true; return o; }
    else if (t == "--") { while (!a.done()) pos.push_back(a.next()); }
    else if (t == "-u" || t == "--udp") o.tcp = false;
    else if (t == "-t" || t == "--tcp") o.tcp = true;
    else if (t == "-4") o.family = AF_INET;
    else if (t == "-6") o.family = AF_INET6;
    else if (t == "-q" || t == "--quiet") o.quiet = true;
    else if (t == "-v" || t == "--verbose") o.verbose = true;
    else if (t == "--no-listen" || t == "--send-only") o.listen = false;
    else if (t == "--flood") o.rate = std::numeric_limits<double>::infinity();
    else if (is(t, "-l", true) || is(t, "--listen", true)) {
      auto v = need(t.rfind("--", 0) == 0 ? "--listen" : "-l");
      if (!v) return v.error();
      auto p = integer<uint16_t>("port", *v, 1, 65535);
      if (!p) return p.error();
      listen_port = *p;
    } else if (is(t, "-i", true) || is(t, "--interval", true)) {
      auto v = need(t.rfind("--", 0) == 0 ? "--interval" : "-i");
      if (!v) return v.error();
      auto s = positive_seconds("interval", *v);
      if (!s) return s.error();
      o.interval_s = *s;
      interval_given = true;
    } else if (is(t, "-c", true) || is(t, "--count", true)) {
      auto v = need(t.rfind("--", 0) == 0 ? "--count" : "-c");
      if (!v) return v.error();
      auto c = integer<uint64_t>("count", *v, 1, uint64_t(1) << 48);
      if (!c) return c.error();
      o.count = *c;
    } else if (is(t, "-s", true) || is(t, "--size", true)) {
      auto v = need(t.rfind("--", 0) == 0 ? "--size" : "-s");
      if (!v) return v.error();
      auto s = integer<size_t>("size", *v, kHeaderSize, kMaxMessage);
      if (!s) return make_error(s.error().context + " (a message carries a " + std::to_string(kHeaderSize) + "-byte header)");
      o.size = *s;
    } else if (is(t, "-r", true) || is(t, "--rate", true)) {
      auto v = need(t.rfind("--", 0) == 0 ? "--rate" : "-r");
      if (!v) return v.error();
      auto r = rate_value(*v);
      if (!r) return r.error();
      o.rate = *r;
    } else if (is(t, "--pattern", true)) {
      auto v = need("--pattern");
      if (!v) return v.error();
      if (v->rfind("0x", 0) == 0) {
        auto b = hex_bytes(*v);
        if (!b) return b.error();
        o.pattern.assign(b->begin(), b->end());
      } else {
        o.pattern = *v;
      }
      if (o.pattern.empty()) return make_error("empty --pattern");
    } else if (is(t, "-d", true) || is(t, "--duration", true)) {
      auto v = need(t.rfind("--", 0) == 0 ? "--duration" : "-d");
      if (!v) return v.error();
      auto s = positive_seconds("duration", *v);
      if (!s) return s.error();
      o.duration_s = *s;
    } else if (is(t, "--linger", true)) {
      auto v = need("--linger");
      if (!v) return v.error();
      auto s = positive_seconds("linger", *v, true);
      if (!s) return s.error();
      o.linger_s = *s;
    } else if (t.size() > 1 && t[0] == '-') {
      return make_error("unknown option '" + t + "' (see netgen --help)");
    } else {
      pos.push_back(t);
    }
  }
  (void)interval_given;
  if (listen_port) {
    if (!pos.empty()) return make_error("-l PORT listens only; no HOST/PORT arguments");
    o.port = *listen_port;
    o.listen = true;
    return o;
  }
  if (pos.size() != 2) return make_error("usage: netgen [options] HOST PORT, or netgen -l PORT (see --help)");
  o.host = pos[0];
  auto p = integer<uint16_t>("port", pos[1], 1, 65535);
  if (!p) return p.error();
  o.port = *p;
  return o;
}

// ---- netgen craft (nping-style flags) -----------------------------------------------------

namespace {

Result<CraftOptions> parse_craft_impl(const std::vector<std::string>& argv, bool& help, bool nping) {
  CraftOptions o;
  o.nping = nping;
  const std::string see = nping ? "nping --help" : "netgen craft --help";
  int level = 0;
  o.window = 1480;
  o.count = 5;
  o.interval_s = 1;
  Args a(argv);
  std::vector<std::string> pos;
  bool mode_given = false;
  auto set_mode = [&](CraftMode m) -> Status {
    if ((mode_given && o.mode != m) || o.tcp_connect)
      return make_error(nping ? "choose one of --tcp-connect, --tcp, --udp, --icmp"
                              : "choose one of --tcp, --udp, --icmp, --raw");
    mode_given = true;
    o.mode = m;
    return {};
  };
  while (!a.done()) {
    std::string t = a.next();
    auto need = [&](const char* opt) { return a.value(t, opt); };
#define NG_VALUE(opt)         \
  auto v = need(opt);         \
  if (!v) return v.error();
    if (t == "-h" || t == "--help") { help = true; return o; }
    else if (t == "--tcp") { if (auto s = set_mode(CraftMode::tcp); !s) return s.error(); }
    else if (t == "--udp") { if (auto s = set_mode(CraftMode::udp); !s) return s.error(); }
    else if (t == "--icmp") { if (auto s = set_mode(CraftMode::icmp); !s) return s.error(); }
    else if (nping && t == "--tcp-connect") {
      if (mode_given) return make_error("choose one of --tcp-connect, --tcp, --udp, --icmp");
      (void)set_mode(CraftMode::tcp);
      o.tcp_connect = true;
    }
    else if (nping && (t == "--arp" || t == "--tr" || t == "--traceroute" || is(t, "--echo-client", true) ||
                       is(t, "--echo-server", true)))
      return make_error(t + " is not supported; nping here does --tcp, --udp and --icmp probes (see nping --help)");
    else if (nping && (t == "-V" || t == "--version")) { help = true; o.verbose = -1; return o; }
    else if (nping && (t == "-H" || t == "--hide-sent")) o.hide_sent = true;
    else if (nping && (t == "-N" || t == "--no-capture")) o.no_capture = true;
    else if (nping && (t == "--privileged" || t == "--send-ip")) {}
    else if (nping && t == "--quiet") level = -9;
    else if (nping && (level_flag(t, 'v', level, 1) || level_flag(t, 'q', level, -1) ||
                       level_flag(t, 'd', o.verbose, 0))) {}
    else if (nping && (is(t, "-e", true) || is(t, "--interface", true))) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--interface" : "-e");
      if (v->empty()) return make_error("empty interface name");
      o.interface = *v;
    } else if (nping && (is(t, "--hop-limit", true))) {
      NG_VALUE("--hop-limit");
      auto n = integer<uint8_t>("hop limit", *v, 0, 255);
      if (!n) return n.error();
      o.ttl = *n;
    } else if (nping && is(t, "--dest-ip", true)) {
      NG_VALUE("--dest-ip");
      pos.push_back(*v);
    }
    else if (!nping && (is(t, "--raw", true) || is(t, "--ip-proto", true))) {
      if (auto s = set_mode(CraftMode::rawip); !s) return s.error();
      if (t != "--raw") {
        NG_VALUE(t.rfind("--raw", 0) == 0 ? "--raw" : "--ip-proto");
        auto p = integer<uint8_t>("IP protocol", *v, 0, 255);
        if (!p) return p.error();
        o.ip_proto = *p;
      } else if (!a.done() && std::isdigit(uint8_t(a.peek()[0])) && a.peek().find('.') == std::string::npos &&
                 a.peek().find(':') == std::string::npos) {
        auto p = integer<uint8_t>("IP protocol", a.next(), 0, 255);
        if (!p) return p.error();
        o.ip_proto = *p;
      }
    }
    else if (t == "-4") o.family = AF_INET;
    else if (t == "-6" || t == "--ipv6" || t == "--IPv6") o.family = AF_INET6;
    else if (!nping && t == "-q") o.quiet = true;
    else if (!nping && t == "-v") ++o.verbose;
    else if (t == "--df") o.dont_fragment = true;
    else if (t == "--mf") o.more_fragments = true;
    else if (t == "--flood") o.flood = true;
    else if (is(t, "-p", true) || is(t, "--dest-port", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--dest-port" : "-p");
      auto p = parse_port_list(*v);
      if (!p) return p.error();
      o.dst_ports = *p;
      o.dst_port = o.dst_ports[0];
    } else if (is(t, "-g", true) || is(t, "--source-port", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--source-port" : "-g");
      auto p = integer<uint16_t>("source port", *v, 0, 65535);
      if (!p) return p.error();
      o.src_port = *p;
      o.keep_src_port = true;  // nping keeps a given source port
    } else if (is(t, "-S", true) || is(t, "--source-ip", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--source-ip" : "-S");
      o.source = *v;
    } else if (is(t, "--flags", true)) {
      NG_VALUE("--flags");
      auto f = parse_tcp_flags(*v);
      if (!f) return f.error();
      o.tcp_flags = *f;
      o.flags_given = true;
    } else if (is(t, "--seq", true)) {
      NG_VALUE("--seq");
      auto n = integer<uint32_t>("sequence number", *v, 0, UINT32_MAX, 0);
      if (!n) return n.error();
      o.tcp_seq = *n;
    } else if (is(t, "--ack", true)) {
      NG_VALUE("--ack");
      auto n = integer<uint32_t>("acknowledgment number", *v, 0, UINT32_MAX, 0);
      if (!n) return n.error();
      o.tcp_ack = *n;
    } else if (is(t, "--win", true) || is(t, "--window", true)) {
      NG_VALUE(t.rfind("--window", 0) == 0 ? "--window" : "--win");
      auto n = integer<uint16_t>("window", *v, 0, 65535, 0);
      if (!n) return n.error();
      o.window = *n;
    } else if (is(t, "--ttl", true)) {
      NG_VALUE("--ttl");
      auto n = integer<uint8_t>("TTL", *v, 0, 255);
      if (!n) return n.error();
      o.ttl = *n;
    } else if (is(t, "--tos", true) || is(t, "--traffic-class", true)) {
      NG_VALUE(t.rfind("--tos", 0) == 0 ? "--tos" : "--traffic-class");
      auto n = integer<uint8_t>("TOS", *v, 0, 255, 0);
      if (!n) return n.error();
      o.tos = *n;
    } else if (is(t, "--id", true)) {
      NG_VALUE("--id");
      auto n = integer<uint16_t>("IP id", *v, 0, 65535, 0);
      if (!n) return n.error();
      o.ip_id = *n;
    } else if (is(t, "--frag-off", true) || is(t, "--fragoff", true)) {
      NG_VALUE(t.rfind("--frag-off", 0) == 0 ? "--frag-off" : "--fragoff");
      auto n = integer<uint32_t>("fragment offset", *v, 0, UINT32_MAX);
      if (!n) return n.error();
      if (auto c = check_frag(*n); !c) return c.error();
      o.frag_offset = uint16_t(*n);
    } else if (is(t, "--data", true)) {
      NG_VALUE("--data");
      auto b = hex_bytes(*v);
      if (!b) return b.error();
      o.payload = *b;
    } else if (is(t, "--data-string", true)) {
      NG_VALUE("--data-string");
      o.payload = text_bytes(*v);
    } else if (is(t, "--data-length", true)) {
      NG_VALUE("--data-length");
      auto n = integer<size_t>("data length", *v, 0, 65400);
      if (!n) return n.error();
      o.payload = filler(*n);
    } else if (is(t, "--data-file", true)) {
      NG_VALUE("--data-file");
      auto b = read_payload_file(*v, 65400);
      if (!b) return b.error();
      o.payload = *b;
    } else if (is(t, "-c", true) || is(t, "--count", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--count" : "-c");
      auto n = integer<uint64_t>("count", *v, 0, uint64_t(1) << 48);
      if (!n) return n.error();
      o.count = *n;
    } else if (is(t, "--rate", true)) {
      NG_VALUE("--rate");
      auto r = rate_value(*v);
      if (!r) return r.error();
      if (std::isinf(*r)) o.flood = true;
      else o.interval_s = 1.0 / *r;
    } else if (is(t, "--delay", true)) {
      NG_VALUE("--delay");
      auto d = parse_nping_time("delay", *v);
      if (!d) return d.error();
      o.interval_s = *d;
    } else if (t.size() > 1 && t[0] == '-') {
      return make_error("unknown option '" + t + "' (see " + see + ")");
    } else {
      pos.push_back(t);
    }
#undef NG_VALUE
  }
  if (pos.empty())
    return make_error(nping ? "no target given: nping [--tcp|--udp|--icmp] [options] HOST (see nping --help)"
                            : "usage: netgen craft [options] HOST (see netgen craft --help)");
  if (pos.size() != 1)
    return make_error(nping ? "one target at a time: got '" + pos[0] + "' and '" + pos[1] + "'"
                            : "usage: netgen craft [options] HOST (see netgen craft --help)");
  o.host = pos[0];
  if (nping) {
    if (!mode_given) o.mode = CraftMode::icmp;  // nping run as root: ICMP echo
    o.quiet = level < 0;
    o.verbose = std::max(0, level);
    o.keep_src_port = true;  // nping: one source port for every probe
    if (o.mode == CraftMode::udp && !o.src_port) o.src_port = 53;  // nping's UDP default
  }
  if (!o.flags_given) o.tcp_flags = core::tcpflag::syn;
  if ((o.mode == CraftMode::tcp || o.mode == CraftMode::udp) && o.dst_ports.empty())
    o.dst_port = o.mode == CraftMode::tcp ? 80 : 40125;  // nping's defaults
  if (o.dst_ports.empty()) o.dst_ports = {o.dst_port};
  if (o.mode == CraftMode::rawip && o.ip_proto == 0) o.ip_proto = 255;
  return o;
}

}  // namespace

Result<CraftOptions> parse_craft(const std::vector<std::string>& argv, bool& help) {
  return parse_craft_impl(argv, help, false);
}

Result<CraftOptions> parse_nping(const std::vector<std::string>& argv, bool& help) {
  return parse_craft_impl(argv, help, true);
}

// ---- hping3 --------------------------------------------------------------------------------

Result<CraftOptions> parse_hping(const std::vector<std::string>& argv, bool& help) {
  CraftOptions o;
  o.hping = true;
  o.window = 64;
  o.count = 0;
  o.interval_s = 1;
  Args a(argv);
  std::vector<std::string> pos;
  int modes = 0;
  while (!a.done()) {
    std::string t = a.next();
    auto need = [&](const char* opt) { return a.value(t, opt); };
#define NG_VALUE(opt)         \
  auto v = need(opt);         \
  if (!v) return v.error();
    if (t == "-h" || t == "--help") { help = true; return o; }
    else if (t == "-0" || t == "--rawip") { o.mode = CraftMode::rawip; ++modes; }
    else if (t == "-1" || t == "--icmp") { o.mode = CraftMode::icmp; ++modes; }
    else if (t == "-2" || t == "--udp") { o.mode = CraftMode::udp; ++modes; }
    else if (t == "--flood") o.flood = true;
    else if (t == "--fast") o.interval_s = 0.1;
    else if (t == "--faster") o.interval_s = 1e-6;
    else if (t == "-q" || t == "--quiet") o.quiet = true;
    else if (t == "-V" || t == "--verbose") ++o.verbose;
    else if (t == "-n" || t == "--numeric") o.numeric = true;
    else if (t == "-k" || t == "--keep") o.keep_src_port = true;
    else if (t == "-x" || t == "--morefrag") o.more_fragments = true;
    else if (t == "-y" || t == "--dontfrag") o.dont_fragment = true;
    else if (t == "-6" || t == "--ipv6") o.family = AF_INET6;
    else if (is(t, "-c", true) || is(t, "--count", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--count" : "-c");
      auto n = integer<uint64_t>("count", *v, 1, uint64_t(1) << 48);
      if (!n) return n.error();
      o.count = *n;
    } else if (is(t, "-i", true) || is(t, "--interval", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--interval" : "-i");
      std::string s = *v;
      if (!s.empty() && s[0] == 'u') {
        auto us = integer<uint64_t>("interval", s.substr(1), 1, uint64_t(1) << 40);
        if (!us) return make_error("invalid interval '" + s + "' (u1000 = 1000 microseconds)");
        o.interval_s = double(*us) / 1e6;
      } else {
        auto sec = integer<uint64_t>("interval", s, 1, 1u << 30);
        if (!sec) return make_error("invalid interval '" + s + "' (seconds, or uN microseconds)");
        o.interval_s = double(*sec);
      }
    } else if (is(t, "-d", true) || is(t, "--data", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--data" : "-d");
      auto n = integer<size_t>("data size", *v, 0, 65400);
      if (!n) return n.error();
      size_t keep = o.payload.size();
      if (keep == 0 || keep != *n) o.payload = filler(*n);
    } else if (is(t, "-E", true) || is(t, "--file", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--file" : "-E");
      auto b = read_payload_file(*v, 65400);
      if (!b) return b.error();
      o.payload = *b;
    } else if (is(t, "-H", true) || is(t, "--ipproto", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--ipproto" : "-H");
      auto n = integer<uint8_t>("IP protocol", *v, 0, 255);
      if (!n) return n.error();
      o.ip_proto = *n;
    } else if (is(t, "-a", true) || is(t, "--spoof", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--spoof" : "-a");
      o.source = *v;
    } else if (is(t, "-t", true) || is(t, "--ttl", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--ttl" : "-t");
      auto n = integer<uint8_t>("ttl", *v, 0, 255);
      if (!n) return n.error();
      o.ttl = *n;
    } else if (is(t, "-N", true) || is(t, "--id", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--id" : "-N");
      auto n = integer<uint16_t>("id", *v, 0, 65535);
      if (!n) return n.error();
      o.ip_id = *n;
    } else if (is(t, "-o", true) || is(t, "--tos", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--tos" : "-o");
      auto n = integer<uint8_t>("tos", *v, 0, 255, 16);  // hping3 takes hex
      if (!n) return n.error();
      o.tos = *n;
    } else if (is(t, "-g", true) || is(t, "--fragoff", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--fragoff" : "-g");
      auto n = integer<uint32_t>("fragment offset", *v, 0, UINT32_MAX);
      if (!n) return n.error();
      if (auto c = check_frag(*n); !c) return c.error();
      o.frag_offset = uint16_t(*n);
    } else if (is(t, "-s", true) || is(t, "--baseport", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--baseport" : "-s");
      auto n = integer<uint16_t>("source port", *v, 0, 65535);
      if (!n) return n.error();
      o.src_port = *n;
    } else if (is(t, "-p", true) || is(t, "--destport", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--destport" : "-p");
      std::string s = *v;
      if (!s.empty() && s[0] == '+') return make_error("incrementing destination ports (-p +N) are not supported");
      auto n = integer<uint16_t>("destination port", s, 0, 65535);
      if (!n) return n.error();
      o.dst_port = *n;
    } else if (is(t, "-M", true) || is(t, "--setseq", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--setseq" : "-M");
      auto n = integer<uint32_t>("sequence number", *v, 0, UINT32_MAX);
      if (!n) return n.error();
      o.tcp_seq = *n;
    } else if (is(t, "-L", true) || is(t, "--setack", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--setack" : "-L");
      auto n = integer<uint32_t>("ack number", *v, 0, UINT32_MAX);
      if (!n) return n.error();
      o.tcp_ack = *n;
    } else if (is(t, "-w", true) || is(t, "--win", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--win" : "-w");
      auto n = integer<uint16_t>("window", *v, 0, 65535);
      if (!n) return n.error();
      o.window = *n;
    } else if (t == "--fin") o.tcp_flags |= core::tcpflag::fin;
    else if (t == "--syn") o.tcp_flags |= core::tcpflag::syn;
    else if (t == "--rst") o.tcp_flags |= core::tcpflag::rst;
    else if (t == "--push") o.tcp_flags |= core::tcpflag::psh;
    else if (t == "--ack") o.tcp_flags |= core::tcpflag::ack;
    else if (t == "--urg") o.tcp_flags |= core::tcpflag::urg;
    else if (t == "--xmas") o.tcp_flags |= core::tcpflag::ece;
    else if (t == "--ymas") o.tcp_flags |= core::tcpflag::cwr;
    else if (t.size() > 1 && t[0] == '-' && t[1] != '-' &&
             t.find_first_not_of("FSRPAUXY", 1) == std::string::npos) {
      auto f = parse_tcp_flags(t.substr(1));  // -S, -SA, -FPU ...
      if (!f) return f.error();
      o.tcp_flags |= *f;
    } else if (is(t, "-I", true) || is(t, "--interface", true)) {
      NG_VALUE(t.rfind("--", 0) == 0 ? "--interface" : "-I");  // the route decides; accepted for compatibility
    } else if (t.size() > 1 && t[0] == '-') {
      return make_error("unknown option '" + t + "' (see hping3 --help)");
    } else {
      pos.push_back(t);
    }
#undef NG_VALUE
  }
  if (modes > 1) return make_error("choose one mode: -0 raw IP, -1 ICMP, -2 UDP (default TCP)");
  if (pos.size() != 1) return make_error("usage: hping3 [options] HOST (see --help)");
  o.host = pos[0];
  if (o.mode == CraftMode::rawip && o.ip_proto == 0) o.ip_proto = 0;  // hping3 -0 sends protocol 0
  o.flags_given = true;
  return o;
}

}  // namespace netshoot::applet::netgen

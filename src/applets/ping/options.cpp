// The two front ends: iputils `ping`/`ping6` flags and `fping` flags, both filling
// the one Options struct. A small getopt-like scanner (no global state, so the
// tests can call the parsers repeatedly): short options cluster (-qc3), values may
// be attached or separate, operands and options mix (GNU order), "--" ends options.
#include "options.h"

#include <sys/socket.h>

#include <cmath>
#include <cstdlib>
#include <string_view>

#include "netshoot/addr.h"

namespace netshoot::applet::ping {
namespace {

struct Item {
  char opt = 0;            // short option, 0 for long options and operands
  std::string long_name;   // "tcp", "help"
  std::string value;       // the option's value or the operand
  bool operand = false;
};

// `with_value`: short options taking a value; `flags`: those taking none.
// Long options: --help, --version, --tcp PORT / --tcp=PORT.
std::optional<ParseError> scan(const std::vector<std::string>& args, std::string_view with_value,
                               std::string_view flags, std::vector<Item>& out, int usage_code) {
  bool only_operands = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_operands || a.size() < 2 || a[0] != '-') {
      out.push_back({0, {}, a, true});
      continue;
    }
    if (a == "--") {
      only_operands = true;
      continue;
    }
    if (a[1] == '-') {
      std::string name = a.substr(2), value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1), name = name.substr(0, eq), has_value = true;
      }
      if (name == "help" || name == "version") {
        out.push_back({0, name, {}, false});
      } else if (name == "tcp") {
        if (!has_value) {
          if (i + 1 >= args.size()) return ParseError{"option '--tcp' requires a PORT", usage_code};
          value = args[++i];
        }
        out.push_back({0, name, value, false});
      } else {
        return ParseError{"unrecognized option '" + a + "'", usage_code};
      }
      continue;
    }
    for (size_t k = 1; k < a.size(); ++k) {
      char c = a[k];
      if (with_value.find(c) != std::string_view::npos) {
        std::string value;
        if (k + 1 < a.size()) {
          value = a.substr(k + 1);
        } else if (i + 1 < args.size()) {
          value = args[++i];
        } else {
          return ParseError{std::string("option requires an argument -- '") + c + "'", usage_code};
        }
        out.push_back({c, {}, value, false});
        break;
      }
      if (flags.find(c) == std::string_view::npos)
        return ParseError{std::string("invalid option -- '") + c + "'", usage_code};
      out.push_back({c, {}, {}, false});
    }
  }
  return std::nullopt;
}

ParseError invalid(const std::string& v, const std::string& why = {}, int code = 2) {
  return ParseError{"invalid argument: '" + v + "'" + (why.empty() ? "" : ": " + why), code};
}

std::optional<ParseError> int_in(const std::string& v, long long lo, long long hi, long long& out, int code = 2) {
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE) return invalid(v, {}, code);
  if (n < lo || n > hi)
    return invalid(v, "out of range: " + std::to_string(lo) + " <= value <= " + std::to_string(hi), code);
  out = n;
  return std::nullopt;
}

std::optional<ParseError> number_in(const std::string& v, double lo, double hi, double& out, int code = 2) {
  auto n = parse_number(v);
  if (!n) return invalid(v, {}, code);
  if (*n < lo || *n > hi) return invalid(v, "out of range", code);
  out = *n;
  return std::nullopt;
}

std::optional<ParseError> parse_port(const std::string& v, Options& o, int code) {
  long long port = 0;
  if (auto e = int_in(v, 1, 65535, port, code)) {
    if (auto p = core::service_port(v)) {
      o.tcp_port = *p;
    } else {
      return e;
    }
  } else {
    o.tcp_port = uint16_t(port);
  }
  o.probe = Probe::tcp;
  return std::nullopt;
}

// Operands and long options mean the same to both front ends. Returns true when
// `it` was one of them (handled, or failed into `err`).
bool take_common(const Item& it, Options& o, int usage_code, std::optional<ParseError>& err) {
  if (it.operand) {
    o.targets.push_back(it.value);
    return true;
  }
  if (it.long_name.empty()) return false;
  if (it.long_name == "help") o.help = true;
  else if (it.long_name == "version") o.version = true;
  else if (it.long_name == "tcp") err = parse_port(it.value, o, usage_code);
  return true;
}

}  // namespace

std::optional<double> parse_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::string t = s;
  for (char& c : t)
    if (c == ',') c = '.';  // iputils accepts the decimal comma of some locales
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

// ---- iputils ping ---------------------------------------------------------------

ParseResult parse_ping_args(const std::vector<std::string>& args, const std::string& invoked, bool is_root) {
  ParseResult r;
  Options& o = r.options;
  o.frontend = Frontend::ping;
  if (invoked == "ping6") o.family = AF_INET6;
  std::vector<Item> items;
  if (auto e = scan(args, "ciIlMpQsStwW", "46aAbBdDfhLnOqrRUvV", items, 2)) {
    r.error = e;
    return r;
  }
  auto fail = [&](ParseError e) {
    r.error = std::move(e);
    return r;
  };
  for (const Item& it : items) {
    std::optional<ParseError> err;
    if (take_common(it, o, 2, err)) {
      if (err) return fail(*err);
      continue;
    }
    long long n = 0;
    double d = 0;
    switch (it.opt) {
      case '4': o.family = AF_INET; break;
      case '6': o.family = AF_INET6; break;
      case 'c':
        if (auto e = int_in(it.value, 1, INT64_MAX, n)) return fail(*e);
        o.count = uint64_t(n);
        break;
      case 'i':
        if (auto e = number_in(it.value, 0, 2147483.0, d)) return fail(*e);
        o.interval_s = d, o.interval_set = true;
        break;
      case 'I': o.interface = it.value; break;
      case 'l':
        if (auto e = int_in(it.value, 1, 65536, n)) return fail(*e);
        o.preload = int(n);
        break;
      case 'M':
        if (it.value == "do") o.pmtu = core::PmtuDisc::do_;
        else if (it.value == "dont") o.pmtu = core::PmtuDisc::dont;
        else if (it.value == "want") o.pmtu = core::PmtuDisc::want;
        else if (it.value == "probe") o.pmtu = core::PmtuDisc::probe;
        else return fail({"invalid -M argument: '" + it.value + "' (do, dont, want or probe)", 2});
        break;
      case 'p': {  // payload pattern: hex digits, up to 16 bytes, as iputils
        const std::string& hex = it.value;
        if (hex.empty() || hex.size() > 32 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
          return fail({"patterns must be specified as hex digits (at most 16 bytes): '" + hex + "'", 2});
        o.pattern.clear();
        for (size_t i = 0; i < hex.size(); i += 2)
          o.pattern.push_back(uint8_t(std::stoul(hex.substr(i, 2), nullptr, 16)));
        break;
      }
      case 'Q':
        if (auto e = int_in(it.value, 0, 255, n)) return fail(*e);
        o.tos = int(n);
        break;
      case 's':
        if (auto e = int_in(it.value, 0, 65507, n)) return fail(*e);
        o.size = size_t(n);
        break;
      case 'S': break;  // sndbuf: accepted, ignored
      case 't':
        if (auto e = int_in(it.value, 1, 255, n)) return fail(*e);
        o.ttl = int(n);
        break;
      case 'w':
        if (auto e = number_in(it.value, 0, 2147483.0, d)) return fail(*e);
        o.deadline_s = d;
        break;
      case 'W':
        if (auto e = number_in(it.value, 0, 2147483.0, d)) return fail(*e);
        o.linger_s = d, o.linger_set = true;
        break;
      case 'D': o.timestamps = true; break;
      case 'f': o.flood = true; break;
      case 'h': o.help = true; break;
      case 'n': o.numeric = true; break;
      case 'O': o.report_outstanding = true; break;
      case 'q': o.quiet = true; break;
      case 'v': ++o.verbose; break;
      case 'V': o.version = true; break;
      default: break;  // -a -A -b -B -d -L -r -R -U: accepted, no effect here
    }
  }
  if (o.help || o.version) return r;
  if (o.flood && !is_root) return fail({"cannot flood; minimal interval allowed for user is 200ms", 2});
  if (o.interval_set && o.interval_s < 0.2 && !is_root)
    return fail({"cannot flood; minimal interval allowed for user is 200ms", 2});
  if (o.flood && !o.interval_set) o.interval_s = 0;
  if (o.targets.empty()) return fail({"usage error: Destination address required", 2});
  if (o.targets.size() > 1)
    return fail({"only one destination is supported (use fping for several: fping " + o.targets[0] + " " +
                     o.targets[1] + " ...)",
                 2});
  return r;
}

// ---- fping ----------------------------------------------------------------------

ParseResult parse_fping_args(const std::vector<std::string>& args, bool is_root) {
  ParseResult r;
  Options& o = r.options;
  o.frontend = Frontend::fping;
  o.interval_s = 0.001;  // fping's default is 10 ms; sweeps here pace at 1 ms (see -i)
  std::vector<Item> items;
  constexpr int kUsage = 3;  // fping: 3 = invalid command line arguments
  if (auto e = scan(args, "bBcCHiIOpQrtf", "46aAdDeghlMnNqsuvx", items, kUsage)) {
    r.error = e;
    return r;
  }
  auto fail = [&](ParseError e) {
    r.error = std::move(e);
    return r;
  };
  for (const Item& it : items) {
    std::optional<ParseError> err;
    if (take_common(it, o, kUsage, err)) {
      if (err) return fail(*err);
      continue;
    }
    long long n = 0;
    double d = 0;
    switch (it.opt) {
      case '4': o.family = AF_INET; break;
      case '6': o.family = AF_INET6; break;
      case 'a': o.alive_only = true; break;
      case 'A': o.show_addr = true; break;
      case 'b':
        if (auto e = int_in(it.value, 0, 65507, n, kUsage)) return fail(*e);
        o.size = size_t(n);
        break;
      case 'B':
        if (auto e = number_in(it.value, 1, 5, d, kUsage)) return fail(*e);
        o.backoff = d;
        break;
      case 'c':
      case 'C':
        if (auto e = int_in(it.value, 1, 1000000, n, kUsage)) return fail(*e);
        o.count = uint64_t(n);
        o.per_probe_summary = it.opt == 'C';
        break;
      case 'd':
      case 'n': o.reverse_names = true; break;
      case 'D': o.timestamps = true; break;
      case 'e': o.elapsed = true; break;
      case 'g': o.generate = true; break;
      case 'H':
        if (auto e = int_in(it.value, 1, 255, n, kUsage)) return fail(*e);
        o.ttl = int(n);
        break;
      case 'i':
        if (auto e = number_in(it.value, 0, 1e7, d, kUsage)) return fail(*e);
        o.interval_s = d / 1000.0, o.interval_set = true;
        break;
      case 'I': o.interface = it.value; break;
      case 'l': o.loop = true; break;
      case 'M': o.pmtu = core::PmtuDisc::do_; break;
      case 'O':
        if (auto e = int_in(it.value, 0, 255, n, kUsage)) return fail(*e);
        o.tos = int(n);
        break;
      case 'p':
        if (auto e = number_in(it.value, 0, 1e7, d, kUsage)) return fail(*e);
        o.period_ms = d;
        break;
      case 'q': o.quiet = true; break;
      case 'r':
        if (auto e = int_in(it.value, 0, 100, n, kUsage)) return fail(*e);
        o.retries = int(n);
        break;
      case 's': o.stats = true; break;
      case 't':
        if (auto e = number_in(it.value, 1, 1e7, d, kUsage)) return fail(*e);
        o.fping_timeout_ms = d, o.fping_timeout_set = true;
        break;
      case 'u': o.unreach_only = true; break;
      case 'v': o.version = true; break;
      case 'h': o.help = true; break;
      case 'f': return fail({"-f FILE is not supported; pass the targets as arguments", kUsage});
      default: break;  // -N -x -Q: accepted, no effect
    }
  }
  if (o.help || o.version) return r;
  if (!is_root && ((o.interval_set && o.interval_s < 0.001) || o.period_ms < 10))
    return fail({"these options are too risky for mere mortals.\nYou need -i >= 1 and -p >= 10", kUsage});
  if (o.targets.empty()) return fail({"no targets (fping -h shows the usage)", kUsage});
  // -c/-C/-l keep to one probe per host per period; the timeout then defaults to
  // the period when that is shorter (as fping does).
  if ((o.count || o.loop) && !o.fping_timeout_set && o.period_ms < o.fping_timeout_ms)
    o.fping_timeout_ms = o.period_ms;
  if (o.generate) {
    auto hosts = expand_generate(o.targets);
    if (!hosts) return fail({hosts.error().message(), kUsage});
    o.targets = std::move(*hosts);
  }
  return r;
}

core::Result<std::vector<std::string>> expand_generate(const std::vector<std::string>& operands) {
  constexpr uint64_t kMax = 1u << 17;
  std::vector<std::string> out;
  core::AddrRange range;
  if (operands.size() == 1) {
    auto cidr = core::Cidr::parse(operands[0]);
    if (!cidr) return core::make_error("-g " + operands[0] + ": " + cidr.error().message());
    range = cidr->hosts();
  } else if (operands.size() == 2) {
    auto a = core::IpAddr::parse(operands[0]);
    auto b = core::IpAddr::parse(operands[1]);
    if (!a || !b || a->family() != b->family() || *b < *a)
      return core::make_error("-g " + operands[0] + " " + operands[1] + ": need a start and an end address");
    range = core::AddrRange(*a, *b);
  } else {
    return core::make_error("-g takes a CIDR block or a start and an end address");
  }
  if (range.size() > kMax) return core::make_error("-g: too many addresses (at most " + std::to_string(kMax) + ")");
  for (const auto& a : range) out.push_back(a.to_string());
  return out;
}

}  // namespace netshoot::applet::ping

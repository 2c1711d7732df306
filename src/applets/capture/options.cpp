// tcpdump and ngrep command lines → Options. Hand-rolled to accept tcpdump's
// clustered short flags (-nnvvX, -c1, -s0, -Xvv) and options after the filter.
#include "options.h"

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace netshoot::applet::capture {

namespace {

bool parse_long(const char* s, long& out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  out = v;
  return true;
}

// Flags of tcpdump that take an argument.
bool takes_arg(char c) { return std::strchr("icswrCGWQEFyBTMVzZ", c) != nullptr; }

ParseResult apply_short(char c, const char* arg, Options& o) {
  long v = 0;
  switch (c) {
    case 'i': o.iface = arg; break;
    case 'c':
      if (!parse_long(arg, v) || v <= 0) return {false, "invalid packet count " + std::string(arg)};
      o.count = v;
      break;
    case 's':
      if (!parse_long(arg, v) || v < 0 || v > 262144) return {false, "invalid snaplen " + std::string(arg)};
      o.snaplen = v == 0 ? 262144 : int(v);
      break;
    case 'w': o.write_file = arg; break;
    case 'r': o.read_file = arg; break;
    case 'C':
      if (!parse_long(arg, v) || v <= 0) return {false, "invalid file size " + std::string(arg)};
      o.rotate_mbytes = v;
      break;
    case 'G':
      if (!parse_long(arg, v) || v <= 0) return {false, "invalid rotate seconds " + std::string(arg)};
      o.rotate_seconds = int(v);
      break;
    case 'W':
      if (!parse_long(arg, v) || v <= 0) return {false, "invalid number of output files " + std::string(arg)};
      o.file_limit = int(v);
      break;
    case 'Q':
      if (std::strcmp(arg, "in") && std::strcmp(arg, "out") && std::strcmp(arg, "inout"))
        return {false, "unknown capture direction '" + std::string(arg) + "'"};
      o.direction = arg;
      break;
    case 'n': ++o.numeric; break;
    case 'N': o.strip_domain = true; break;
    case 'B':
      if (!parse_long(arg, v) || v <= 0 || v > 1024 * 1024) return {false, "invalid buffer size " + std::string(arg)};
      o.buffer_kib = v;
      break;
    case 'v': ++o.verbose; break;
    case 'e': o.link_header = true; break;
    case 'x': ++o.hex; break;
    case 'X': ++o.hex_ascii; break;
    case 'A': o.ascii = true; break;
    case 'U': o.packet_buffered = true; break;
    case 'l': o.line_buffered = true; break;
    case 'q': o.quiet = true; break;
    case 'p': o.promisc = false; break;
    case 'D': o.list_ifaces = true; break;
    case 't':
      o.ts = o.ts == TsMode::clock ? TsMode::none
           : o.ts == TsMode::none  ? TsMode::epoch
           : o.ts == TsMode::epoch ? TsMode::delta
           : o.ts == TsMode::delta ? TsMode::date
                                   : TsMode::since_first;
      break;
    case 'h': o.help = true; break;
    case 'K': case 'O': case 'S': case 'I': case 'L': case 'u': case 'Z': break;  // accepted, ignored
    default:
      if (takes_arg(c)) break;  // -E -F -y -T -M -V -z -Z: accepted, ignored
      return {false, std::string("invalid option -- '") + c + "'"};
  }
  return {};
}

}  // namespace

ParseResult parse_tcpdump_args(int argc, char** argv, Options& o) {
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) filter += (filter.empty() ? "" : " ") + std::string(argv[i]);
      break;
    }
    if (a.starts_with("--")) {
      std::string_view name = a.substr(2), val;
      bool has_val = false;
      if (auto eq = name.find('='); eq != std::string_view::npos) val = name.substr(eq + 1), name = name.substr(0, eq), has_val = true;
      auto need = [&]() -> const char* {
        if (has_val) return val.data();
        return i + 1 < argc ? argv[++i] : nullptr;
      };
      if (name == "immediate-mode") o.immediate = true;
      else if (name == "help") o.help = true;
      else if (name == "json") o.json = true;
      else if (name == "grep") {
        const char* v = need();
        if (!v) return {false, "option --grep requires an argument"};
        o.grep = v;
      } else if (name == "interface") {
        const char* v = need();
        if (!v) return {false, "option --interface requires an argument"};
        o.iface = v;
      } else if (name == "list-interfaces") o.list_ifaces = true;
      else if (name == "direction") {
        const char* v = need();
        if (!v) return {false, "option --direction requires an argument"};
        auto r = apply_short('Q', v, o);
        if (!r.ok) return r;
      } else if (name == "number") o.numeric = 2;
      else if (name == "no-promiscuous-mode") o.promisc = false;
      else if (name == "packet-buffered") o.packet_buffered = true;
      else if (name == "buffer-size") {
        const char* v = need();
        if (!v) return {false, "option --buffer-size requires an argument"};
        auto r = apply_short('B', v, o);
        if (!r.ok) return r;
      }
      else return {false, "unrecognized option '" + std::string(a) + "'"};
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      for (size_t k = 1; k < a.size(); ++k) {
        char c = a[k];
        if (takes_arg(c)) {
          const char* arg = nullptr;
          if (k + 1 < a.size()) arg = argv[i] + k + 1;
          else if (i + 1 < argc) arg = argv[++i];
          else return {false, std::string("option requires an argument -- '") + c + "'"};
          auto r = apply_short(c, arg, o);
          if (!r.ok) return r;
          break;
        }
        auto r = apply_short(c, nullptr, o);
        if (!r.ok) return r;
      }
      continue;
    }
    filter += (filter.empty() ? "" : " ") + std::string(a);
  }
  o.filter = filter;
  return {};
}

// ngrep [-d IFACE] [-q] [-i] [-W byline] [-n COUNT] [-I FILE] [-O FILE] [-x] PATTERN [FILTER...]
ParseResult parse_ngrep_args(int argc, char** argv, Options& o) {
  o.ngrep = true;
  o.numeric = 2;
  bool have_pattern = false;
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "-h" || a == "--help") { o.help = true; continue; }
    if (a == "-q") { o.quiet = true; continue; }
    if (a == "-i") { o.grep_icase = true; continue; }
    if (a == "-x") { o.hex_ascii = 1; continue; }
    if (a == "-t" || a == "-T" || a == "-p" || a == "-l" || a == "-e") continue;
    if (a == "-d" || a == "-W" || a == "-n" || a == "-I" || a == "-O" || a == "-s") {
      const char* v = next();
      if (!v) return {false, "option " + std::string(a) + " requires an argument"};
      long n = 0;
      if (a == "-d") o.iface = v;
      else if (a == "-W") o.ngrep_byline = std::string_view(v) == "byline";
      else if (a == "-n") {
        if (!parse_long(v, n) || n <= 0) return {false, "invalid count " + std::string(v)};
        o.count = n;
      } else if (a == "-I") o.read_file = v;
      else if (a == "-O") o.write_file = v;
      else if (a == "-s") {
        if (!parse_long(v, n) || n < 0) return {false, "invalid snaplen " + std::string(v)};
        o.snaplen = n == 0 ? 262144 : int(n);
      }
      continue;
    }
    if (a.size() > 1 && a[0] == '-') return {false, "unknown option " + std::string(a)};
    if (!have_pattern) {
      o.grep = a;
      have_pattern = true;
    } else {
      filter += (filter.empty() ? "" : " ") + std::string(a);
    }
  }
  o.filter = filter;
  return {};
}

}  // namespace netshoot::applet::capture

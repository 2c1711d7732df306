// drill, nslookup, host and the native `dns` command lines.
#include <cstdlib>
#include <string_view>

#include "netshoot/addr.h"
#include "options.h"

namespace netshoot::applet::dns {

using core::make_error;

namespace {

bool is_address(std::string_view s) { return core::IpAddr::try_parse(s).has_value(); }

// Positional words shared by drill and host: a type, a class, else the name.
bool take_type(std::string_view a, Lookup& l) {
  if (l.type_given) return false;
  auto t = wire::type_from_string(a);
  if (!t) return false;
  l.qtype = *t;
  l.type_given = true;
  return true;
}

core::Result<int> int_value(int& i, int argc, char** argv, std::string_view opt, uint64_t max) {
  std::string_view v;
  if (opt.size() > 2) v = opt.substr(2);
  else if (i + 1 < argc) v = argv[++i];
  else return make_error("option " + std::string(opt.substr(0, 2)) + " needs a number");
  uint64_t n = 0;
  if (!parse_uint(v, max, n)) return make_error("option " + std::string(opt.substr(0, 2)) + ": bad number '" + std::string(v) + "'");
  return static_cast<int>(n);
}

core::Result<std::string> str_value(int& i, int argc, char** argv, std::string_view opt) {
  if (opt.size() > 2) return std::string(opt.substr(2));
  if (i + 1 < argc) return std::string(argv[++i]);
  return make_error("option " + std::string(opt.substr(0, 2)) + " needs a value");
}

}  // namespace

core::Result<Options> parse_drill(int argc, char** argv) {
  Options o;
  o.style = Style::Drill;
  o.query.edns = false;  // drill sends EDNS only with -D or -b
  o.query.cookie = false;
  o.query.timeout_ms = 5000;
  o.query.tries = 3;
  o.display.opt = false;
  Lookup l;
  bool reverse = false;
  std::string name;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.empty()) continue;
    if (a == "-h" || a == "--help") { o.mode = Mode::Help; return o; }
    if (a == "-v") { o.mode = Mode::Version; return o; }
    if (a[0] == '@') { o.server = std::string(a.substr(1)); continue; }
    if (a[0] == '-' && a.size() >= 2) {
      char c = a[1];
      switch (c) {
        case 'V': { auto v = int_value(i, argc, argv, a, 10); if (!v) return v.error(); o.display.verbosity = *v; break; }
        case 'T': o.trace = true; break;
        case 't': o.query.tcp = true; break;
        case 'u': o.query.tcp = false; break;
        case 'x': reverse = true; break;
        case '4': o.family = AF_INET; break;
        case '6': o.family = AF_INET6; break;
        case 'D': o.query.dnssec = true; o.query.edns = true; o.query.bufsize = 4096; break;
        case 'p': { auto v = int_value(i, argc, argv, a, 65535); if (!v) return v.error(); o.port = static_cast<uint16_t>(*v); break; }
        case 'b': { auto v = int_value(i, argc, argv, a, 65535); if (!v) return v.error(); o.query.bufsize = static_cast<uint16_t>(*v); o.query.edns = true; break; }
        case 'r': { auto v = str_value(i, argc, argv, a); if (!v) return v.error(); o.root_hints = *v; break; }
        case 'c': { auto v = str_value(i, argc, argv, a); if (!v) return v.error(); o.resolv_conf = *v; break; }
        case 'o': {
          auto v = str_value(i, argc, argv, a);
          if (!v) return v.error();
          // -o flags: "rd", "RD,CD", a lowercase flag clears it
          std::string_view f = *v;
          while (!f.empty()) {
            size_t comma = f.find(',');
            std::string_view tok = f.substr(0, comma);
            bool on = !tok.empty() && std::isupper(static_cast<unsigned char>(tok[0]));
            std::string low(tok);
            for (auto& ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            if (low == "rd") o.query.rd = on;
            else if (low == "cd") o.query.cd = on;
            else if (low == "ad") o.query.ad = on;
            if (comma == std::string_view::npos) break;
            f.remove_prefix(comma + 1);
          }
          break;
        }
        case 'w': case 'q': case 'k': case 'I': case 's': case 'S': case 'a': case 'f': case 'i': case 'y': case 'z':
          return make_error("option " + std::string(a) + " is not supported");
        default:
          return make_error("invalid option: " + std::string(a));
      }
      continue;
    }
    if (!name.empty() || reverse) {
      if (take_type(a, l)) continue;
      if (auto k = wire::class_from_string(a)) { l.qclass = *k; continue; }
    } else if (take_type(a, l)) {
      continue;
    }
    if (!name.empty()) return make_error("more than one name given: '" + name + "' and '" + std::string(a) + "'");
    name = std::string(a);
  }
  if (name.empty()) name = ".";
  if (reverse) {
    if (!make_reverse(name, l)) return make_error("invalid IP address: " + name);
  } else {
    l.name = name;
  }
  o.lookups.push_back(l);
  return o;
}

namespace {
// nslookup and host: "NAME [SERVER]"; an address NAME without -t means a reverse lookup.
core::Result<Options> finish_name_server(Options o, Lookup l, const std::vector<std::string>& words) {
  if (words.size() > 2) return make_error("too many arguments (NAME [SERVER])");
  if (words.size() == 2) o.server = words[1];
  if (is_address(words[0]) && !l.type_given) {
    make_reverse(words[0], l);
  } else {
    l.name = words[0];
  }
  o.lookups.push_back(std::move(l));
  return o;
}
}  // namespace

core::Result<Options> parse_nslookup(int argc, char** argv) {
  Options o;
  o.style = Style::Nslookup;
  o.search = true;
  o.query.edns = false;
  o.query.cookie = false;
  o.query.timeout_ms = 2000;  // nslookup: 2 s, 3 tries (bind's defaults for it)
  o.query.tries = 3;
  Lookup l;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") { o.mode = Mode::Help; return o; }
    if (a == "-version" || a == "--version") { o.mode = Mode::Version; return o; }
    if (a.size() > 1 && a[0] == '-') {
      std::string_view opt = a.substr(1);
      std::string_view val;
      if (size_t eq = opt.find('='); eq != std::string_view::npos) {
        val = opt.substr(eq + 1);
        opt = opt.substr(0, eq);
      }
      auto is = [&](std::string_view full, size_t min) { return opt.size() >= min && full.substr(0, opt.size()) == opt; };
      uint64_t n = 0;
      if (is("type", 1) || is("querytype", 1)) {
        auto t = wire::type_from_string(val);
        if (!t) return make_error("invalid type: " + std::string(val));
        l.qtype = *t;
        l.type_given = true;
      } else if (is("class", 2)) {
        auto k = wire::class_from_string(val);
        if (!k) return make_error("invalid class: " + std::string(val));
        l.qclass = *k;
      } else if (is("port", 2)) {
        if (!parse_uint(val, 65535, n) || !n) return make_error("invalid port: " + std::string(val));
        o.port = static_cast<uint16_t>(n);
      } else if (is("timeout", 2)) {
        if (!parse_uint(val, 3600, n) || !n) return make_error("invalid timeout: " + std::string(val));
        o.query.timeout_ms = static_cast<int>(n * 1000);
        o.timeout_given = true;
      } else if (is("retry", 3)) {
        if (!parse_uint(val, 100, n) || !n) return make_error("invalid retry: " + std::string(val));
        o.query.tries = static_cast<int>(n);
        o.retry_given = true;
      } else if (opt == "vc") {
        o.query.tcp = true;
      } else if (opt == "novc") {
        o.query.tcp = false;
      } else if (is("norecurse", 3)) {
        o.query.rd = false;
      } else if (is("recurse", 3)) {
        o.query.rd = true;
      } else if (is("nosearch", 3)) {
        o.search = false;
      } else if (is("search", 3) || is("debug", 1) || is("nodebug", 3) || is("d2", 2) || is("fail", 3)) {
        // accepted; the output stays the short one
      } else {
        return make_error("invalid option: " + std::string(a));
      }
      continue;
    }
    words.emplace_back(a);
  }
  if (words.empty()) return make_error("interactive mode is not supported: give a NAME");
  return finish_name_server(std::move(o), std::move(l), words);
}

core::Result<Options> parse_host(int argc, char** argv) {
  Options o;
  o.style = Style::Host;
  o.search = true;
  o.query.edns = false;
  o.query.cookie = false;
  o.query.timeout_ms = 5000;
  o.query.tries = 2;  // host: one retry
  o.display.short_form = true;
  Lookup l;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-h" || a == "--help") { o.mode = Mode::Help; return o; }
    if (a == "-V") { o.mode = Mode::Version; return o; }
    if (a.size() > 1 && a[0] == '-') {
      for (size_t k = 1; k < a.size(); ++k) {
        char c = a[k];
        if (c == 't' || c == 'c' || c == 'W' || c == 'R' || c == 'N' || c == 'm' || c == 'p') {
          std::string v;
          if (k + 1 < a.size()) v = std::string(a.substr(k + 1));
          else if (i + 1 < argc) v = argv[++i];
          else return make_error(std::string("option -") + c + " needs a value");
          uint64_t n = 0;
          if (c == 't') {
            auto t = wire::type_from_string(v);
            if (!t) return make_error("invalid type: " + v);
            if (*t == wire::type::AXFR || *t == wire::type::IXFR) return make_error("zone transfers are not supported");
            l.qtype = *t;
            l.type_given = true;
          } else if (c == 'c') {
            auto cl = wire::class_from_string(v);
            if (!cl) return make_error("invalid class: " + v);
            l.qclass = *cl;
          } else if (c == 'W') {
            if (!parse_uint(v, 3600, n) || !n) return make_error("invalid wait: " + v);
            o.query.timeout_ms = static_cast<int>(n * 1000);
            o.timeout_given = true;
          } else if (c == 'R') {
            if (!parse_uint(v, 100, n)) return make_error("invalid retries: " + v);
            o.query.tries = static_cast<int>(std::max<uint64_t>(n, 1));
            o.retry_given = true;
          } else if (c == 'p') {
            if (!parse_uint(v, 65535, n) || !n) return make_error("invalid port: " + v);
            o.port = static_cast<uint16_t>(n);
          }
          break;  // the value used the rest of this argument
        }
        switch (c) {
          case 'T': o.query.tcp = true; break;
          case 'U': o.query.tcp = false; break;
          case 'r': o.query.rd = false; break;
          case '4': o.family = AF_INET; break;
          case '6': o.family = AF_INET6; break;
          case 'v': case 'd': o.display.short_form = false; o.display.verbosity = 1; break;
          case 'a': l.qtype = wire::type::ANY; l.type_given = true; o.display.short_form = false; o.display.verbosity = 1; break;
          case 'w': o.query.timeout_ms = 3600 * 1000; o.timeout_given = true; break;
          case 's': case 'C': case 'l': case 'i': break;
          default: return make_error(std::string("invalid option: -") + c);
        }
      }
      continue;
    }
    words.emplace_back(a);
  }
  if (words.empty()) return make_error("missing NAME (host [-t TYPE] NAME [SERVER])");
  return finish_name_server(std::move(o), std::move(l), words);
}

core::Result<Options> parse_native(int argc, char** argv) {
  std::string_view sub = argc > 1 ? argv[1] : "";
  if (sub == "resolve") {
    Options o;
    o.mode = Mode::Resolve;
    o.style = Style::Dig;
    for (int i = 2; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "-h" || a == "--help") { o.mode = Mode::Help; return o; }
      if (a == "-4") { o.family = AF_INET; continue; }
      if (a == "-6") { o.family = AF_INET6; continue; }
      if (a == "--resolv-conf" || a == "--hosts-file" || a == "--timeout") {
        if (i + 1 >= argc) return make_error(std::string(a) + " needs a value");
        std::string v = argv[++i];
        if (a == "--resolv-conf") o.resolv_conf = v;
        else if (a == "--hosts-file") o.hosts_file = v;
        else {
          uint64_t n = 0;
          if (!parse_uint(v, 3600000, n) || !n) return make_error("--timeout needs milliseconds");
          o.query.timeout_ms = static_cast<int>(n);
          o.timeout_given = true;
        }
        continue;
      }
      if (!a.empty() && a[0] == '-') return make_error("invalid option: " + std::string(a));
      if (!o.lookups.empty()) return make_error("dns resolve takes one NAME");
      Lookup l;
      l.name = std::string(a);
      o.lookups.push_back(l);
    }
    if (o.lookups.empty() && o.mode != Mode::Help) return make_error("dns resolve needs a NAME");
    return o;
  }
  if (sub == "bench") {
    Options o;
    o.mode = Mode::Bench;
    o.query.edns = false;
    o.query.cookie = false;
    auto& b = o.bench;
    for (int i = 2; i < argc; ++i) {
      std::string_view a = argv[i];
      if (a == "-h" || a == "--help") { o.mode = Mode::Help; return o; }
      if (a == "-4") { o.family = AF_INET; continue; }
      if (a == "-6") { o.family = AF_INET6; continue; }
      if (a == "-e") { o.query.edns = true; continue; }
      if (a == "-D") { o.query.edns = o.query.dnssec = true; continue; }
      if (a.size() >= 2 && a[0] == '-' && std::string_view("sdplnQcTt").find(a[1]) != std::string_view::npos) {
        auto v = str_value(i, argc, argv, a);
        if (!v) return v.error();
        uint64_t n = 0;
        char c = a[1];
        if (c == 's') { o.server = *v; continue; }
        if (c == 'd') { b.data_file = *v; continue; }
        if (c == 'l' || c == 'Q') {
          char* end = nullptr;
          double d = std::strtod(v->c_str(), &end);
          if (!end || *end || d < 0) return make_error(std::string("option -") + c + ": bad number '" + *v + "'");
          (c == 'l' ? b.seconds : b.max_qps) = d;
          continue;
        }
        uint64_t max = c == 'p' ? 65535 : c == 'n' ? UINT64_MAX / 2 : c == 't' ? 3600000 : 100000;
        if (!parse_uint(*v, max, n)) return make_error(std::string("option -") + c + ": bad number '" + *v + "'");
        if (c == 'p') o.port = static_cast<uint16_t>(n);
        else if (c == 'n') b.count = n;
        else if (c == 'c') b.concurrency = static_cast<int>(std::max<uint64_t>(n, 1));
        else if (c == 'T') b.sockets = static_cast<int>(std::clamp<uint64_t>(n, 1, 256));
        else if (c == 't') b.timeout_ms = static_cast<int>(std::max<uint64_t>(n, 1));
        continue;
      }
      return make_error("invalid option: " + std::string(a));
    }
    if (b.data_file.empty()) return make_error("dns bench needs -d FILE (lines \"name type\")");
    return o;
  }
  if (sub == "trace") {
    // `dns trace NAME [TYPE]` is dig +trace.
    auto o = parse_dig(argc - 1, argv + 1);
    if (o) o->trace = true;
    return o;
  }
  return parse_dig(argc, argv);
}

}  // namespace netshoot::applet::dns

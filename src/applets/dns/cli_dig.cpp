// dig's command line: [@server] [-p port] [-t type] [-c class] [-q name] [-x addr]
// [-4|-6] [-f file] name [type] [class] [+[no]option[=value]]...
// +options may be abbreviated to any unique prefix, as dig allows (+norec, +ans).
#include <charconv>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string_view>

#include "options.h"

namespace netshoot::applet::dns {

using core::make_error;

bool parse_uint(std::string_view s, uint64_t max, uint64_t& out) {
  if (s.empty()) return false;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return false;
  out = v;
  return true;
}

std::string join_args(int argc, char** argv, int from) {
  std::string s;
  for (int i = from; i < argc; ++i) {
    if (!s.empty()) s += ' ';
    s += argv[i];
  }
  return s;
}

bool make_reverse(std::string_view addr, Lookup& l) {
  auto r = wire::reverse_name(addr);
  if (!r) return false;
  l.name = *r;
  l.qtype = wire::type::PTR;
  l.type_given = true;
  l.reverse = true;
  return true;
}

namespace {

struct PlusOption {
  const char* name;
  // value: text after '=', or nullptr when absent. Returns an error message or "".
  std::function<std::string(Options&, bool on, const char* value)> apply;
};

std::string need_uint(const char* value, const char* what, uint64_t max, uint64_t& out) {
  if (!value || !parse_uint(value, max, out)) return std::string("+") + what + " needs a number (0-" + std::to_string(max) + ")";
  return "";
}

std::vector<PlusOption> plus_options() {
  auto flag = [](bool Display::*m) {
    return [m](Options& o, bool on, const char*) { o.display.*m = on; return std::string(); };
  };
  return {
      {"aaflag", [](Options&, bool, const char*) { return std::string(); }},
      {"additional", flag(&Display::additional)},
      {"adflag", [](Options& o, bool on, const char*) { o.query.ad = on; return std::string(); }},
      {"all", [](Options& o, bool on, const char*) {
         auto& d = o.display;
         d.cmd = d.comments = d.question = d.answer = d.authority = d.additional = d.stats = d.opt = on;
         return std::string();
       }},
      {"answer", flag(&Display::answer)},
      {"authority", flag(&Display::authority)},
      {"bufsize", [](Options& o, bool on, const char* v) {
         uint64_t n = 1232;
         if (on) {
           if (auto e = need_uint(v, "bufsize", 65535, n); !e.empty()) return e;
         }
         o.query.bufsize = static_cast<uint16_t>(n);
         o.query.edns = true;
         return std::string();
       }},
      {"cdflag", [](Options& o, bool on, const char*) { o.query.cd = on; return std::string(); }},
      {"class", [](Options&, bool, const char*) { return std::string(); }},
      {"cmd", flag(&Display::cmd)},
      {"comments", [](Options& o, bool on, const char*) {
         o.display.comments = on;
         o.display.opt = on;
         return std::string();
       }},
      {"cookie", [](Options& o, bool on, const char* v) {
         o.query.cookie = on;
         o.query.cookie_value.clear();
         if (on && v) {
           std::string_view hex = v;
           if (hex.size() % 2 || hex.size() < 16 || hex.size() > 80) return std::string("+cookie=HEX needs 8 to 40 bytes of hex");
           for (size_t i = 0; i < hex.size(); i += 2) {
             unsigned b = 0;
             auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, b, 16);
             if (ec != std::errc() || p != hex.data() + i + 2) return std::string("+cookie: bad hex");
             o.query.cookie_value.push_back(static_cast<uint8_t>(b));
           }
         }
         return std::string();
       }},
      {"crypto", [](Options&, bool, const char*) { return std::string(); }},
      {"defname", [](Options& o, bool on, const char*) { o.search = on; return std::string(); }},
      {"dnssec", [](Options& o, bool on, const char*) { o.query.dnssec = on; return std::string(); }},
      {"edns", [](Options& o, bool on, const char* v) {
         uint64_t ver = 0;
         if (on && v && !parse_uint(v, 255, ver)) return std::string("+edns=VERSION needs a number");
         if (ver != 0) return std::string("+edns: only version 0 is supported");
         o.query.edns = on;
         return std::string();
       }},
      {"fail", [](Options&, bool, const char*) { return std::string(); }},
      {"identify", flag(&Display::identify)},
      {"ignore", [](Options& o, bool on, const char*) { o.query.ignore_tc = on; return std::string(); }},
      {"keepopen", [](Options&, bool, const char*) { return std::string(); }},
      {"multiline", [](Options&, bool, const char*) { return std::string(); }},
      {"ndots", [](Options&, bool, const char* v) {
         uint64_t n = 0;
         return need_uint(v, "ndots", 15, n);
       }},
      {"nsid", [](Options& o, bool on, const char*) { o.query.nsid = on; return std::string(); }},
      {"opcode", [](Options& o, bool on, const char* v) {
         uint64_t n = 0;
         if (on && v && parse_uint(v, 15, n)) { o.query.opcode = static_cast<uint8_t>(n); return std::string(); }
         if (on && v && std::string_view(v) == "query") { o.query.opcode = 0; return std::string(); }
         if (!on) { o.query.opcode = 0; return std::string(); }
         return std::string("+opcode needs a number (0-15)");
       }},
      {"qr", flag(&Display::print_query)},
      {"question", flag(&Display::question)},
      {"recurse", [](Options& o, bool on, const char*) { o.query.rd = on; return std::string(); }},
      {"retry", [](Options& o, bool, const char* v) {
         uint64_t n = 0;
         if (auto e = need_uint(v, "retry", 100, n); !e.empty()) return e;
         o.query.tries = static_cast<int>(n) + 1;
         o.retry_given = true;
         return std::string();
       }},
      {"rrcomments", [](Options&, bool, const char*) { return std::string(); }},
      {"search", [](Options& o, bool on, const char*) { o.search = on; return std::string(); }},
      {"short", [](Options& o, bool on, const char*) { o.display.short_form = on; return std::string(); }},
      {"showsearch", [](Options& o, bool on, const char*) { o.search = on; return std::string(); }},
      {"stats", flag(&Display::stats)},
      {"subnet", [](Options& o, bool on, const char* v) {
         if (!on) { o.query.client_subnet.clear(); return std::string(); }
         if (!v || !*v) return std::string("+subnet needs ADDR/PREFIX");
         if (!wire::make_client_subnet_option(v)) return std::string("+subnet: bad address '") + v + "'";
         o.query.client_subnet = v;
         return std::string();
       }},
      {"tcp", [](Options& o, bool on, const char*) { o.query.tcp = on; o.tcp_given = true; return std::string(); }},
      {"timeout", [](Options& o, bool, const char* v) {
         uint64_t n = 0;
         if (auto e = need_uint(v, "timeout", 3600, n); !e.empty()) return e;
         o.query.timeout_ms = static_cast<int>(std::max<uint64_t>(n, 1) * 1000);
         o.timeout_given = true;
         return std::string();
       }},
      {"trace", [](Options& o, bool on, const char*) { o.trace = on; return std::string(); }},
      {"tries", [](Options& o, bool, const char* v) {
         uint64_t n = 0;
         if (auto e = need_uint(v, "tries", 100, n); !e.empty()) return e;
         o.query.tries = static_cast<int>(std::max<uint64_t>(n, 1));
         o.retry_given = true;
         return std::string();
       }},
      {"ttlid", [](Options&, bool, const char*) { return std::string(); }},
      {"vc", [](Options& o, bool on, const char*) { o.query.tcp = on; o.tcp_given = true; return std::string(); }},
  };
}

// dig's own short spellings that a plain prefix match would find ambiguous.
std::string_view alias_of(std::string_view key) {
  if (key == "ad") return "adflag";
  if (key == "cd") return "cdflag";
  if (key == "rec" || key == "recu") return "recurse";
  if (key == "tc") return "tcp";
  if (key == "tr" || key == "trac") return "trace";
  if (key == "qu") return "question";
  if (key == "co") return "comments";
  return key;
}

std::string apply_plus(Options& o, std::string_view arg) {
  std::string_view body = arg.substr(1);
  bool on = true;
  const char* value = nullptr;
  std::string key(body);
  if (size_t eq = key.find('='); eq != std::string::npos) {
    value = arg.data() + 1 + eq + 1;
    key.resize(eq);
  }
  static const auto table = plus_options();
  auto find = [&](std::string_view k) -> const PlusOption* {
    k = alias_of(k);
    const PlusOption* hit = nullptr;
    int hits = 0;
    for (const auto& p : table) {
      std::string_view n = p.name;
      if (n == k) return &p;
      if (!k.empty() && n.substr(0, k.size()) == k) {
        hit = &p;
        ++hits;
      }
    }
    return hits == 1 ? hit : nullptr;
  };
  const PlusOption* opt = find(key);
  if (!opt && key.size() > 2 && key.compare(0, 2, "no") == 0) {
    opt = find(std::string_view(key).substr(2));
    on = false;
  }
  if (!opt) return "invalid option: " + std::string(arg);
  return opt->apply(o, on, value);
}

}  // namespace

core::Result<Options> parse_dig_args(Options o, int argc, char** argv, int first) {
  o.cmdline = join_args(argc, argv, first);
  Lookup current;
  bool have_name = false, have_type = false, have_class = false;
  std::optional<uint16_t> default_type, default_class;
  auto push_current = [&] {
    if (have_name) o.lookups.push_back(current);
    current = Lookup{};
    if (default_type) current.qtype = *default_type;
    if (default_class) current.qclass = *default_class;
    have_name = have_type = have_class = false;
  };
  auto value_of = [&](int& i, std::string_view a, const char* what) -> core::Result<std::string> {
    if (a.size() > 2) return std::string(a.substr(2));
    if (i + 1 >= argc) return make_error(std::string("option ") + std::string(a) + " needs " + what);
    return std::string(argv[++i]);
  };
  for (int i = first; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.empty()) continue;
    if (a == "-h" || a == "--help") {
      o.mode = Mode::Help;
      return o;
    }
    if (a == "-v" || a == "--version") {
      o.mode = Mode::Version;
      return o;
    }
    if (a == "--root-hints" || a == "--resolv-conf" || a == "--parallel" || a == "--hosts-file") {
      if (i + 1 >= argc) return make_error(std::string(a) + " needs a value");
      std::string v = argv[++i];
      if (a == "--root-hints") o.root_hints = v;
      else if (a == "--resolv-conf") o.resolv_conf = v;
      else if (a == "--hosts-file") o.hosts_file = v;
      else {
        uint64_t n = 0;
        if (!parse_uint(v, 10000, n) || n == 0) return make_error("--parallel needs a number (1-10000)");
        o.batch_concurrency = static_cast<int>(n);
      }
      continue;
    }
    if (a[0] == '@') {
      if (a.size() == 1) return make_error("@ needs a server");
      o.server = std::string(a.substr(1));
      continue;
    }
    if (a[0] == '+') {
      if (auto err = apply_plus(o, a); !err.empty()) return make_error(err);
      continue;
    }
    if (a[0] == '-' && a.size() >= 2) {
      char c = a[1];
      if (c == '4' || c == '6') {
        o.family = c == '4' ? AF_INET : AF_INET6;
        continue;
      }
      if (c == 'p' || c == 't' || c == 'c' || c == 'q' || c == 'x' || c == 'f' || c == 'b') {
        auto v = value_of(i, a, c == 'p' ? "a port" : c == 't' ? "a type" : c == 'c' ? "a class"
                                 : c == 'x' ? "an address" : c == 'f' ? "a file" : c == 'b' ? "an address" : "a name");
        if (!v) return v.error();
        if (c == 'p') {
          uint64_t port = 0;
          if (!parse_uint(*v, 65535, port) || port == 0) return make_error("invalid port '" + *v + "'");
          o.port = static_cast<uint16_t>(port);
        } else if (c == 't') {
          auto t = wire::type_from_string(*v);
          if (!t) return make_error("invalid type: " + *v);
          if (*t == wire::type::AXFR || *t == wire::type::IXFR) return make_error("zone transfers are not supported");
          current.qtype = *t;
          current.type_given = have_type = true;
          if (!have_name) default_type = *t;
        } else if (c == 'c') {
          auto k = wire::class_from_string(*v);
          if (!k) return make_error("invalid class: " + *v);
          current.qclass = *k;
          have_class = true;
          if (!have_name) default_class = *k;
        } else if (c == 'q') {
          if (have_name) push_current();
          current.name = *v;
          have_name = true;
        } else if (c == 'x') {
          if (have_name) push_current();
          if (!make_reverse(*v, current)) return make_error("invalid IP address: " + *v);
          have_name = have_type = true;
        } else if (c == 'f') {
          o.batch_file = *v;
        } else {
          // -b: the source address is chosen by the kernel's routing; accepted for compatibility.
        }
        continue;
      }
      if (c == 'k' || c == 'y') return make_error("TSIG (-k, -y) is not supported");
      return make_error("invalid option: " + std::string(a));
    }
    // A positional word: a type, a class, or a name (dig's own order of guesses).
    if (!have_type) {
      if (auto t = wire::type_from_string(a)) {
        if (*t == wire::type::AXFR || *t == wire::type::IXFR) return make_error("zone transfers are not supported");
        current.qtype = *t;
        current.type_given = have_type = true;
        continue;
      }
    }
    if (!have_class) {
      if (auto k = wire::class_from_string(a)) {
        current.qclass = *k;
        have_class = true;
        continue;
      }
    }
    if (have_name) push_current();
    current.name = std::string(a);
    have_name = true;
  }
  if (have_name) {
    o.lookups.push_back(current);
  } else if (o.lookups.empty() && o.batch_file.empty()) {
    // No name: dig asks for the root's NS records.
    current.name.assign(1, '.');
    if (!have_type) current.qtype = wire::type::NS;
    o.lookups.push_back(current);
  }
  if (o.query.dnssec || o.query.nsid || !o.query.client_subnet.empty()) o.query.edns = true;
  if (!o.query.edns) {  // +noedns: no OPT record at all, so no cookie either
    o.query.cookie = false;
    o.query.cookie_value.clear();
  }
  return o;
}

core::Result<Options> parse_dig(int argc, char** argv) {
  Options o;
  o.style = Style::Dig;
  o.query.edns = true;
  o.query.bufsize = 1232;
  o.query.cookie = true;  // dig 9.18 sends a client cookie by default
  o.query.ad = true;      // and sets AD in queries (+adflag)
  o.query.timeout_ms = 5000;
  o.query.tries = 3;
  if (const char* env = std::getenv("NETSHOOT_ROOT_HINTS")) o.root_hints = env;
  return parse_dig_args(std::move(o), argc, argv, 1);
}

}  // namespace netshoot::applet::dns

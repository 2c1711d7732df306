// Front ends: traceroute (Linux traceroute 2.x flags), tcptraceroute (host [port],
// -p = source port) and mtr (report and live modes) all fill one Options struct;
// run() resolves the target with the project's resolver and picks the driver.
#include <getopt.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "engine.h"
#include "netshoot/log.h"
#include "netshoot/resolver.h"

namespace netshoot::applet::trace {

namespace {

constexpr const char* kTracerouteHelp =
    "Usage: %s [-46IT] [-n] [-f first_ttl] [-m max_ttl] [-q nqueries] [-w MAX[,HERE,NEAR]]\n"
    "       [-p port] [-s src_addr] [-i iface] [-N squeries] [-t tos] [-F] [--mtu]\n"
    "       [--ecmp N] [--classic] [--json] host [packetlen]\n\n"
    "The path to a host. Every hop is probed at once and answers are matched by probe id,\n"
    "so a trace costs about one round trip plus the wait for silent hops.\n\n"
    "  -4, -6           force IPv4 / IPv6\n"
    "  -I, --icmp       ICMP echo probes\n"
    "  -T, --tcp        TCP SYN probes (default port 80); [open]/[closed] with tcptraceroute\n"
    "  -U, --udp        UDP to one port (default 53)\n"
    "  -p PORT          UDP: destination port (default 33434); TCP: destination port\n"
    "  -f N, -m N       first TTL (1), max TTL (30, at most 255)\n"
    "  -q N             probes per hop (3, at most 10)\n"
    "  -w MAX,HERE,NEAR wait at most MAX s (5); no more than HERE (3) times a reply from\n"
    "                   the same hop or NEAR (10) times one from a later hop\n"
    "  -N N             probes in flight at once (default: all of them)\n"
    "  -n               no reverse lookups\n"
    "  -s ADDR, -i IF   source address, outgoing interface\n"
    "  -t TOS, -F       type of service; set don't-fragment\n"
    "  --mtu            discover the path MTU (F=<mtu> where it drops, then 'pmtu N')\n"
    "  --ecmp N         trace N flows (distinct 5-tuples) to see load-balanced paths\n"
    "  --classic        UDP: new destination port per probe (33434, 33435, ...) as Linux\n"
    "                   traceroute; by default a trace keeps one 5-tuple per flow (Paris\n"
    "                   traceroute) and carries the probe id in the UDP checksum\n"
    "  --json           one JSON object per hop, then a summary\n\n"
    "Annotations: !H !N !P host/net/protocol unreachable, !X administratively prohibited,\n"
    "!S source route failed, !F-<mtu> fragmentation needed, * no answer in time.\n\n"
    "Examples:\n"
    "  traceroute -n 10.96.0.1\n"
    "  traceroute -T -p 443 api.example.com        TCP SYN to 443 (firewalls often pass it)\n"
    "  traceroute --mtu 10.200.8.2                 where does the MTU drop?\n"
    "  traceroute --ecmp 4 -n 10.200.8.2           paths of 4 flows through ECMP routers\n"
    "  netshoot --netns web traceroute -I db       from inside container web's netns\n";

constexpr const char* kTcptracerouteHelp =
    "Usage: tcptraceroute [-n] [-i iface] [-f first_ttl] [-m max_ttl] [-q nqueries] [-w wait]\n"
    "       [-s src_addr] [-p src_port] [-t tos] [-F] [--json] host [dst_port] [packetlen]\n\n"
    "traceroute with TCP SYN probes to dst_port (default 80, names like 'https' accepted).\n"
    "The last hop shows [open] (SYN-ACK) or [closed] (RST).\n\n"
    "Examples:\n"
    "  tcptraceroute 10.200.8.2 443\n"
    "  tcptraceroute -n -q 1 db.default.svc.cluster.local postgresql\n";

constexpr const char* kMtrHelp =
    "Usage: mtr [-46] [-r] [-w] [-c COUNT] [-i SECONDS] [-n] [-u|-T] [-P PORT] [-f N] [-m N]\n"
    "       [-s SIZE] [-a ADDR] [-I IFACE] [-G SECONDS] [-b] [--json] host\n\n"
    "mtr: per-hop loss and latency over repeated cycles. On a terminal without -r it shows\n"
    "a live view (q quits, r resets the statistics); -r prints one report at the end.\n\n"
    "  -r, --report         report mode: COUNT cycles, then the table\n"
    "  -w, --report-wide    report mode without truncating host names\n"
    "  -c, --report-cycles  cycles (10)\n"
    "  -i, --interval       seconds between cycles (1)\n"
    "  -n, --no-dns         no reverse lookups\n"
    "  -u, --udp / -T, --tcp  UDP or TCP SYN probes instead of ICMP echo\n"
    "  -P, --port           destination port (UDP 33434, TCP 80)\n"
    "  -G, --gracetime      longest wait for an answer, seconds (2)\n"
    "  --json               one JSON object per hop, then a summary\n\n"
    "Examples:\n"
    "  mtr -r -c 10 -n 10.96.0.10\n"
    "  mtr --report-wide -c 100 -i 0.1 gateway.example.com\n"
    "  mtr -T -P 443 api.example.com\n";

struct ParseState {
  Options& o;
  const char* prog;
  int usage_rc;
};

int bad(const ParseState& s, const std::string& msg) {
  std::fprintf(stderr, "%s: %s\n", s.prog, msg.c_str());
  return s.usage_rc;
}

bool to_int(const char* s, int& out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  long v = std::strtol(s, &end, 0);
  if (*end || v < -1000000 || v > 1000000) return false;
  out = int(v);
  return true;
}

bool to_double(const char* s, double& out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  out = std::strtod(s, &end);
  return *end == '\0';
}

// -w MAX[,HERE,NEAR] (also "MAX/HERE/NEAR" in old versions).
bool parse_wait(const char* s, Options& o) {
  std::string v = s;
  for (char& c : v)
    if (c == '/') c = ',';
  double parts[3] = {o.wait_max, o.wait_here, o.wait_near};
  size_t start = 0;
  for (int i = 0; i < 3 && start <= v.size(); ++i) {
    size_t comma = v.find(',', start);
    std::string tok = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!tok.empty() && (!to_double(tok.c_str(), parts[i]) || parts[i] < 0)) return false;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  o.wait_max = parts[0], o.wait_here = parts[1], o.wait_near = parts[2];
  return true;
}

enum LongOnly { opt_mtu = 1000, opt_ecmp, opt_classic, opt_paris, opt_sport, opt_back, opt_help };

std::optional<int> parse_traceroute(ParseState& s, int argc, char** argv) {
  Options& o = s.o;
  static const option longs[] = {
      {"icmp", no_argument, nullptr, 'I'},      {"tcp", no_argument, nullptr, 'T'},
      {"udp", no_argument, nullptr, 'U'},       {"port", required_argument, nullptr, 'p'},
      {"first", required_argument, nullptr, 'f'}, {"max-hops", required_argument, nullptr, 'm'},
      {"queries", required_argument, nullptr, 'q'}, {"wait", required_argument, nullptr, 'w'},
      {"sim-queries", required_argument, nullptr, 'N'}, {"interface", required_argument, nullptr, 'i'},
      {"source", required_argument, nullptr, 's'}, {"tos", required_argument, nullptr, 't'},
      {"dont-fragment", no_argument, nullptr, 'F'}, {"mtu", no_argument, nullptr, opt_mtu},
      {"ecmp", required_argument, nullptr, opt_ecmp}, {"classic", no_argument, nullptr, opt_classic},
      {"paris", no_argument, nullptr, opt_paris}, {"sport", required_argument, nullptr, opt_sport},
      {"back", no_argument, nullptr, opt_back}, {"help", no_argument, nullptr, opt_help},
      {nullptr, 0, nullptr, 0}};
  int c, v;
  while ((c = getopt_long(argc, argv, "46IUTdFnreAf:m:q:w:N:p:i:s:t:z:M:O:l:g:P:hV", longs, nullptr)) != -1) {
    switch (c) {
      case '4': o.family = AF_INET; break;
      case '6': o.family = AF_INET6; break;
      case 'I': o.method = Method::icmp; break;
      case 'T': o.method = Method::tcp; break;
      case 'U': o.method = Method::udp; if (o.port < 0) o.port = 53; break;
      case 'F': o.dont_fragment = true; break;
      case 'n': o.numeric = true; break;
      case 'd': case 'r': case 'e': case 'A': case opt_back: case opt_paris: break;  // accepted, no effect
      case 'f':
        if (!to_int(optarg, o.first_ttl)) return bad(s, "bad first TTL '" + std::string(optarg) + "'");
        break;
      case 'm':
        if (!to_int(optarg, o.max_ttl)) return bad(s, "bad max TTL '" + std::string(optarg) + "'");
        break;
      case 'q':
        if (!to_int(optarg, o.queries) || o.queries < 1 || o.queries > 10)
          return bad(s, "no more than 10 probes per hop (and at least 1)");
        break;
      case 'w':
        if (!parse_wait(optarg, o)) return bad(s, "bad wait specifications '" + std::string(optarg) + "'");
        break;
      case 'N':
        if (!to_int(optarg, o.sim_queries) || o.sim_queries < 1) return bad(s, "bad -N value");
        break;
      case 'p':
        if (!to_int(optarg, v) || v < 0 || v > 65535) return bad(s, "bad port '" + std::string(optarg) + "'");
        o.port = v;
        break;
      case opt_sport:
        if (!to_int(optarg, v) || v < 0 || v > 65535) return bad(s, "bad source port");
        o.src_port = v;
        break;
      case 'i': o.interface = optarg; break;
      case 's': o.source = optarg; break;
      case 't':
        if (!to_int(optarg, o.tos) || o.tos < 0 || o.tos > 255) return bad(s, "bad TOS value");
        break;
      case 'z': case 'O': case 'l': break;
      case 'g': return bad(s, "-g (source routing) is not supported");
      case 'P': return bad(s, "-P (raw protocol probes) is not supported; use -I, -T or UDP");
      case 'M': {
        std::string_view m = optarg;
        if (m == "icmp") o.method = Method::icmp;
        else if (m == "tcp" || m == "tcpconn") o.method = Method::tcp;
        else if (m == "udp") { o.method = Method::udp; if (o.port < 0) o.port = 53; }
        else if (m == "default") o.method = Method::udp;
        else return bad(s, "unknown method '" + std::string(m) + "' (default, icmp, tcp, udp)");
        break;
      }
      case opt_mtu: o.mtu = true; break;
      case opt_ecmp:
        if (!to_int(optarg, o.ecmp) || o.ecmp < 1 || o.ecmp > 64) return bad(s, "--ecmp takes 1 to 64 flows");
        break;
      case opt_classic: o.classic = true; break;
      case 'h': case opt_help: std::printf(kTracerouteHelp, s.prog); return 0;
      case 'V': std::printf("%s (netshoot %s)\n", s.prog, NETSHOOT_VERSION); return 0;
      default:
        return bad(s, std::string("unknown or incomplete option '") + argv[optind - 1] + "' (see --help)");
    }
  }
  if (optind >= argc) return bad(s, "missing host argument (see --help)");
  o.host = argv[optind++];
  if (optind < argc) {
    if (!to_int(argv[optind], o.packet_len) || o.packet_len < 0 || o.packet_len > 65000)
      return bad(s, "bad packet length '" + std::string(argv[optind]) + "'");
    ++optind;
  }
  if (optind < argc) return bad(s, std::string("extra argument '") + argv[optind] + "'");
  return std::nullopt;
}

std::optional<int> parse_tcptraceroute(ParseState& s, int argc, char** argv) {
  Options& o = s.o;
  static const option longs[] = {{"help", no_argument, nullptr, opt_help}, {nullptr, 0, nullptr, 0}};
  o.method = Method::tcp;
  o.wait_max = 3.0;
  int c, v;
  while ((c = getopt_long(argc, argv, "46nNFSAEdi:f:l:q:t:m:p:s:w:hv", longs, nullptr)) != -1) {
    switch (c) {
      case '4': o.family = AF_INET; break;
      case '6': o.family = AF_INET6; break;
      case 'n': o.numeric = true; break;
      case 'F': o.dont_fragment = true; break;
      case 'N': case 'S': case 'A': case 'E': case 'd': break;
      case 'i': o.interface = optarg; break;
      case 's': o.source = optarg; break;
      case 'f':
        if (!to_int(optarg, o.first_ttl)) return bad(s, "bad first TTL");
        break;
      case 'm':
        if (!to_int(optarg, o.max_ttl)) return bad(s, "bad max TTL");
        break;
      case 'q':
        if (!to_int(optarg, o.queries) || o.queries < 1 || o.queries > 10) return bad(s, "bad number of queries");
        break;
      case 't':
        if (!to_int(optarg, o.tos) || o.tos < 0 || o.tos > 255) return bad(s, "bad TOS value");
        break;
      case 'l':
        if (!to_int(optarg, o.packet_len) || o.packet_len < 0) return bad(s, "bad packet length");
        break;
      case 'p':
        if (!to_int(optarg, v) || v < 1 || v > 65535) return bad(s, "bad source port");
        o.src_port = v;
        break;
      case 'w':
        if (!to_double(optarg, o.wait_max) || o.wait_max < 0) return bad(s, "bad wait time");
        break;
      case 'h': case opt_help: std::printf("%s", kTcptracerouteHelp); return 0;
      case 'v': std::printf("tcptraceroute (netshoot %s)\n", NETSHOOT_VERSION); return 0;
      default: return bad(s, std::string("unknown or incomplete option '") + argv[optind - 1] + "'");
    }
  }
  if (optind >= argc) return bad(s, "missing host argument (see --help)");
  o.host = argv[optind++];
  if (optind < argc) {
    if (to_int(argv[optind], v) && v > 0 && v < 65536) o.port = v;
    else if (auto p = core::service_port(argv[optind], core::L4Proto::tcp)) o.port = *p;
    else return bad(s, std::string("bad destination port '") + argv[optind] + "'");
    ++optind;
  }
  if (optind < argc) {
    if (!to_int(argv[optind], o.packet_len) || o.packet_len < 0) return bad(s, "bad packet length");
    ++optind;
  }
  if (optind < argc) return bad(s, std::string("extra argument '") + argv[optind] + "'");
  if (o.port < 0) o.port = 80;
  return std::nullopt;
}

std::optional<int> parse_mtr(ParseState& s, int argc, char** argv) {
  Options& o = s.o;
  static const option longs[] = {
      {"report", no_argument, nullptr, 'r'},       {"report-wide", no_argument, nullptr, 'w'},
      {"report-cycles", required_argument, nullptr, 'c'}, {"interval", required_argument, nullptr, 'i'},
      {"no-dns", no_argument, nullptr, 'n'},       {"udp", no_argument, nullptr, 'u'},
      {"tcp", no_argument, nullptr, 'T'},          {"port", required_argument, nullptr, 'P'},
      {"max-ttl", required_argument, nullptr, 'm'}, {"first-ttl", required_argument, nullptr, 'f'},
      {"psize", required_argument, nullptr, 's'},  {"address", required_argument, nullptr, 'a'},
      {"interface", required_argument, nullptr, 'I'}, {"tos", required_argument, nullptr, 'Q'},
      {"gracetime", required_argument, nullptr, 'G'}, {"timeout", required_argument, nullptr, 'Z'},
      {"show-ips", no_argument, nullptr, 'b'},     {"curses", no_argument, nullptr, 't'},
      {"ecmp", required_argument, nullptr, opt_ecmp}, {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'v'},      {nullptr, 0, nullptr, 0}};
  o.method = Method::icmp;
  o.queries = 1;
  int c, v;
  bool curses = false;
  while ((c = getopt_long(argc, argv, "46rwc:i:nuTP:m:f:s:a:I:Q:G:Z:btjhv", longs, nullptr)) != -1) {
    switch (c) {
      case '4': o.family = AF_INET; break;
      case '6': o.family = AF_INET6; break;
      case 'r': o.report = true; break;
      case 'w': o.report = o.wide = true; break;
      case 'c':
        if (!to_int(optarg, o.cycles) || o.cycles < 1) return bad(s, "bad cycle count '" + std::string(optarg) + "'");
        break;
      case 'i':
        if (!to_double(optarg, o.interval) || o.interval < 0.001) return bad(s, "bad interval '" + std::string(optarg) + "'");
        break;
      case 'n': o.numeric = true; break;
      case 'u': o.method = Method::udp; break;
      case 'T': o.method = Method::tcp; break;
      case 'P':
        if (!to_int(optarg, v) || v < 1 || v > 65535) return bad(s, "bad port '" + std::string(optarg) + "'");
        o.port = v;
        break;
      case 'm':
        if (!to_int(optarg, o.max_ttl)) return bad(s, "bad max ttl");
        break;
      case 'f':
        if (!to_int(optarg, o.first_ttl)) return bad(s, "bad first ttl");
        break;
      case 's':
        if (!to_int(optarg, o.packet_len) || o.packet_len < 0) return bad(s, "bad packet size");
        break;
      case 'a': o.source = optarg; break;
      case 'I': o.interface = optarg; break;
      case 'Q':
        if (!to_int(optarg, o.tos) || o.tos < 0 || o.tos > 255) return bad(s, "bad tos");
        break;
      case 'G': case 'Z':
        if (!to_double(optarg, o.timeout) || o.timeout <= 0) return bad(s, "bad time value");
        break;
      case 'b': break;
      case 't': curses = true; break;
      case 'j': o.json = true; break;
      case opt_ecmp:
        if (!to_int(optarg, o.ecmp) || o.ecmp < 1 || o.ecmp > 64) return bad(s, "--ecmp takes 1 to 64 flows");
        break;
      case 'h': std::printf("%s", kMtrHelp); return 0;
      case 'v': std::printf("mtr (netshoot %s)\n", NETSHOOT_VERSION); return 0;
      default: return bad(s, std::string("unknown or incomplete option '") + argv[optind - 1] + "'");
    }
  }
  if (optind >= argc) return bad(s, "missing host argument (see --help)");
  o.host = argv[optind++];
  if (optind < argc) return bad(s, std::string("extra argument '") + argv[optind] + "'");
  if (o.max_ttl < 1 || o.max_ttl > 255) return bad(s, "max ttl must be between 1 and 255");
  if (o.first_ttl < 1 || o.first_ttl > o.max_ttl) return bad(s, "first ttl must be between 1 and max ttl");
  o.live = !o.report && !o.json && (curses || ::isatty(STDOUT_FILENO));
  if (!o.live) o.report = true;
  return std::nullopt;
}

}  // namespace

std::optional<int> parse_options(int argc, char** argv, Options& o) {
  std::string_view name = argc > 0 && argv[0] ? argv[0] : "traceroute";
  if (auto slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
  o.program = std::string(name);
  ParseState s{o, o.program.c_str(), 2};
  optind = 0;  // full getopt reset (several parses per process in tests)
  opterr = 0;
  std::optional<int> rc;
  if (name == "mtr") {
    o.front = Front::mtr;
    s.usage_rc = 1;
    rc = parse_mtr(s, argc, argv);
  } else if (name == "tcptraceroute") {
    o.front = Front::tcptraceroute;
    rc = parse_tcptraceroute(s, argc, argv);
  } else {
    o.front = Front::traceroute;
    if (name == "traceroute6") o.family = AF_INET6;
    rc = parse_traceroute(s, argc, argv);
  }
  if (rc) return rc;
  if (o.front != Front::mtr) {
    if (o.max_ttl > 255) return bad(s, "max hops cannot be more than 255");
    if (o.first_ttl < 1 || o.first_ttl > o.max_ttl) return bad(s, "first hop out of range");
  }
  if (o.mtu) o.dont_fragment = true;
  return std::nullopt;
}

namespace {

// The target: a literal address, else the resolver (hosts, then DNS).
core::Result<Target> resolve_target(const Options& o) {
  Target t{o.host, {}};
  if (auto a = core::IpAddr::try_parse(o.host)) {
    if (o.family != AF_UNSPEC && a->family() != o.family)
      return core::make_error(o.host + ": Address family for hostname not supported");
    t.addr = *a;
    return t;
  }
  auto r = core::dns::resolve_host(o.host, o.family);
  if (!r) return core::make_error(r.error().message());
  if (r->empty()) return core::make_error(o.host + ": No address associated with hostname");
  t.addr = r->front().addr;
  return t;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  Options o;
  if (auto rc = parse_options(argc, argv, o)) return *rc;
  o.json = o.json || ctx.json;
  ctx.json = o.json;
  const int fail = o.front == Front::mtr ? 1 : 2;
  auto t = resolve_target(o);
  if (!t) {
    spdlog::error("{}", t.error().message());
    return fail;
  }
  if (o.front == Front::mtr) return o.live ? run_mtr_live(ctx, o, *t) : run_mtr(ctx, o, *t);
  return run_traceroute(ctx, o, *t);
}

}  // namespace netshoot::applet::trace

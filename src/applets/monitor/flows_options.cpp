// iftop's command line (see flows_options.h).
#include "flows_options.h"

#include <cstring>

namespace netshoot::applet::monitor::flows {

namespace {

bool parse_count(const std::string& s, long max, long& v) {
  if (s.empty() || s.size() > 9) return false;
  long x = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    x = x * 10 + (c - '0');
  }
  if (x > max) return false;
  v = x;
  return true;
}

}  // namespace

ParseOutcome parse_flow_args(int argc, char** argv, FlowOptions& o) {
  auto fail = [](std::string m) { return ParseOutcome{false, std::move(m)}; };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (a == "--help") {
      o.help = true;
      continue;
    }
    if (a.size() < 2 || a[0] != '-' || a[1] == '-') return fail("unexpected argument '" + a + "'");
    for (size_t k = 1; k < a.size(); ++k) {
      char c = a[k];
      if (std::strchr("ifsLomcFG", c)) {
        std::string v;
        if (k + 1 < a.size()) v = a.substr(k + 1);
        else if (i + 1 < argc) v = argv[++i];
        else return fail(std::string("option -") + c + " needs a value");
        long n = 0;
        switch (c) {
          case 'i':
            if (v.empty()) return fail("-i: empty interface name");
            o.iface = v;
            break;
          case 'f': o.filter = v; break;
          case 's':
            if (!parse_count(v, 86400 * 365, n) || n == 0)
              return fail("-s: expected a positive number of seconds, got '" + v + "'");
            o.seconds = int(n);
            break;
          case 'L':
            if (!parse_count(v, 1000000, n) || n == 0) return fail("-L: expected a positive number of lines, got '" + v + "'");
            o.max_lines = size_t(n);
            break;
          case 'o':
            if (v == "2s") o.sort = SortBy::two;
            else if (v == "10s") o.sort = SortBy::ten;
            else if (v == "40s") o.sort = SortBy::forty;
            else if (v == "source") o.sort = SortBy::source;
            else if (v == "destination") o.sort = SortBy::destination;
            else return fail("-o: expected 2s, 10s, 40s, source or destination, got '" + v + "'");
            break;
          case 'm': break;  // bar scale limit: the bars here scale to the busiest pair
          case 'c': return fail("-c: configuration files are not supported");
          default: return fail(std::string("-") + c + ": network filters are not supported; use -f 'net ...'");
        }
        break;  // the value used the rest of this word
      }
      switch (c) {
        case 'h': o.help = true; break;
        case 'n': o.numeric = true; break;
        case 'N': o.no_services = true; break;
        case 'p': o.promisc = true; break;
        case 'b': o.no_bars = true; break;
        case 'B': o.bytes = true; break;
        case 'P': o.ports = true; break;
        case 'l': o.link_local = true; break;
        case 't': o.text = true; break;
        default: return fail(std::string("unknown option -") + c);
      }
    }
  }
  return {};
}

std::string flows_usage(const std::string& prog) {
  return "Usage: " + prog + " [-nNpbBPlt] [-i IFACE] [-f FILTER] [-s SECONDS] [-L LINES] [-o ORDER] [--json]\n"
         "Bandwidth by host pair (with -P by port pair) from captured packets: averages over\n"
         "the last 2 s, 10 s and 40 s, cumulative totals and the peak. '=>' is traffic the\n"
         "interface sent, '<=' what it received.\n"
         "  -i IFACE   interface to capture on (default: the first one up; 'any' for all)\n"
         "  -f FILTER  pcap filter selecting the packets to count (only IP is counted)\n"
         "  -n         no host name lookups       -N  port numbers, not service names\n"
         "  -P         one line per port pair     -p  promiscuous mode\n"
         "  -B         rates in bytes             -b  no bars in the live view\n"
         "  -l         count IPv6 link-local traffic too\n"
         "  -t         text output (iftop -t), every 2 s; also when stdout is not a terminal\n"
         "  -s N       one report after N seconds, then exit (implies -t)\n"
         "  -L N       at most N lines           -o 2s|10s|40s|source|destination  sort order\n"
         "  --json     one JSON object per report\n"
         "Live view keys: q quit, p ports, n names, N services, 1/2/3 sort by column,\n"
         "< / > sort by source / destination, b bars, B bytes, P pause.\n"
         "Examples:\n"
         "  " + prog + " -i eth0                 live view\n"
         "  " + prog + " -t -s 5 -n -i eth0      one report after 5 s\n"
         "  " + prog + " -P -f 'tcp port 443' -i eth0 --json -s 10\n";
}

}  // namespace netshoot::applet::monitor::flows

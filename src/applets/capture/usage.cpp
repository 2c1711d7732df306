#include <string>

#include "options.h"

namespace netshoot::applet::capture {

std::string usage_text(const std::string& invoked) {
  if (invoked == "ngrep")
    return "Usage: ngrep [-qi] [-d IFACE] [-W byline] [-n COUNT] [-I FILE] [-O FILE] PATTERN [FILTER]\n"
           "Print packets whose payload matches the extended regular expression PATTERN.\n\n"
           "  -d IFACE   capture on IFACE (any: all)     -I FILE   read a pcap/pcapng file\n"
           "  -i         ignore case                      -O FILE   also write matching packets\n"
           "  -q         quiet (no '#' for non-matches)   -n COUNT  stop after COUNT matches\n"
           "  -W byline  keep line breaks in payloads\n\n"
           "Example: ngrep -d eth0 -W byline 'GET|POST' port 80\n";
  return "Usage: " + invoked + " [-AenNpqUxX] [-B KiB] [-c COUNT] [-i IFACE|any] [-r FILE] [-w FILE] [-s SNAPLEN]\n"
         "       [-C MBYTES] [-G SECONDS] [-W FILES] [-Q in|out|inout] [-t...] [-v...] [--immediate-mode]\n"
         "       [--grep REGEX] [--json] [EXPRESSION]\n"
         "tcpdump-compatible capture: libpcap with kernel BPF filters, our own bounds-checked decoders.\n\n"
         "  -i IFACE   interface (any: all, SLL2 with interface names)   -D   list interfaces\n"
         "  -c N       stop after N packets          -s N   snapshot length (0 = 262144)\n"
         "  -w FILE    write pcap (- = stdout)       -r FILE  read pcap or pcapng (- = stdin)\n"
         "  -n         numeric hosts and ports       -e   link-level header\n"
         "  -N         host names without domain     -B KiB  kernel capture buffer size\n"
         "  -v[vv]     IP header, checksums          -q   quick output\n"
         "  -x -xx -X -XX -A   hex / hex+ASCII / ASCII dump (doubled: from the link header)\n"
         "  -t -tt -ttt -tttt -ttttt   timestamp formats      -l -U  line / packet buffered\n"
         "  -C MB -G SEC -W N  rotate -w files (tcpdump's names; -G takes strftime patterns)\n"
         "  -Q DIR     in, out or inout              -p   not promiscuous\n"
         "  --grep RE  only packets whose payload matches the extended regex RE\n"
         "  --json     one JSON object per packet (decoded layers and the text summary)\n\n"
         "Names: host and port names in the filter are resolved by netshoot's resolver (/etc/hosts,\n"
         "/etc/resolv.conf) before libpcap compiles it. Without -n, addresses print as names as\n"
         "tcpdump prints them: /etc/hosts, then a PTR query to the resolv.conf servers (cached; one\n"
         "try of 0.7 s per server, and no more DNS after three unanswered lookups), ports as\n"
         "/etc/services names, MACs (-e) with /etc/ethers names.\n\n"
         "Examples:\n"
         "  tcpdump -i eth0 -nn port 53\n"
         "  tcpdump -i any -w /tmp/x.pcap -C 100 -W 5 host db.default.svc.cluster.local\n"
         "  tcpdump -nn -r /tmp/x.pcap -vv tcp\n"
         "  ngrep -d any -W byline 'HTTP/1.[01]' port 8080\n\n"
         "On SIGINT/SIGTERM the -w file is flushed and complete; counts are printed on stderr.\n";
}

}  // namespace netshoot::applet::capture

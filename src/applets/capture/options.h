// capture (tcpdump / ngrep): the options struct both front ends fill.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netshoot::applet::capture {

enum class TsMode : uint8_t { clock, none, epoch, delta, date, since_first };

struct Options {
  std::string iface;            // -i / -d ("" = first usable device, like tcpdump)
  std::string read_file;        // -r
  std::string write_file;       // -w
  std::string filter;           // remaining args, as given
  long count = -1;              // -c
  int snaplen = 262144;         // -s (0 = 262144)
  int numeric = 0;              // -n count: any = numeric hosts and ports (tcpdump 4.99)
  bool strip_domain = false;    // -N: host names without their domain
  long buffer_kib = 0;          // -B: kernel capture buffer in KiB (0 = default)
  int verbose = 0;              // -v count
  bool link_header = false;     // -e
  int hex = 0;                  // -x count (2: include link header)
  int hex_ascii = 0;            // -X count
  bool ascii = false;           // -A
  bool packet_buffered = false; // -U
  bool line_buffered = false;   // -l
  bool quiet = false;           // -q
  bool promisc = true;          // -p clears
  bool list_ifaces = false;     // -D
  bool immediate = false;       // --immediate-mode
  TsMode ts = TsMode::clock;    // -t family
  int rotate_seconds = 0;       // -G
  long rotate_mbytes = 0;       // -C (millions of bytes)
  int file_limit = 0;           // -W
  std::string direction;        // -Q in|out|inout
  std::string grep;             // --grep REGEX / ngrep pattern
  bool grep_icase = false;      // ngrep -i
  bool ngrep = false;           // ngrep output style
  bool ngrep_byline = false;    // ngrep -W byline
  bool json = false;            // --json
  bool help = false;
};

struct ParseResult {
  bool ok = true;
  std::string error;  // usage error
};

// tcpdump front end (also used by "capture"); ngrep front end.
ParseResult parse_tcpdump_args(int argc, char** argv, Options& o);
ParseResult parse_ngrep_args(int argc, char** argv, Options& o);
std::string usage_text(const std::string& invoked);

}  // namespace netshoot::applet::capture

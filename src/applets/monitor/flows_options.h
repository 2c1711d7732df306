// monitor flows / iftop: command line (iftop 1.0's flags, plus --json).
#pragma once

#include <cstddef>
#include <string>

#include "flows_table.h"

namespace netshoot::applet::monitor::flows {

struct FlowOptions {
  std::string iface;         // -i ("any" for every interface)
  std::string filter;        // -f: pcap filter, "and (ip or ip6)" is added
  bool numeric = false;      // -n: no host name lookups
  bool no_services = false;  // -N: port numbers, not service names
  bool promisc = false;      // -p
  bool no_bars = false;      // -b
  bool bytes = false;        // -B: rates in bytes
  bool ports = false;        // -P: per port pair
  bool link_local = false;   // -l: count IPv6 link-local traffic too
  bool text = false;         // -t: text output for scripts
  int seconds = 0;           // -s N: one report after N seconds, then exit
  size_t max_lines = 0;      // -L N
  SortBy sort = SortBy::ten;  // -o 2s|10s|40s|source|destination
  bool json = false;         // --json
  bool help = false;
};

struct ParseOutcome {
  bool ok = true;
  std::string error;  // one line, without the program name
};

// argv[0] is the program name. Short flags combine ("-nNP"), values attach or
// follow ("-ieth0", "-i eth0").
ParseOutcome parse_flow_args(int argc, char** argv, FlowOptions& o);
std::string flows_usage(const std::string& prog);

}  // namespace netshoot::applet::monitor::flows

// doctor: the checks an expert runs, layer by layer (resolver, route, neighbour,
// reachability, path, local policy), and one verdict naming the first layer that
// fails with its evidence. Every probe is the project's own (core sockets,
// netlink, nftables, conntrack); nothing here calls another applet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/output.h"
#include "netshoot/result.h"

namespace netshoot::applet::doctor {

using core::IpAddr;
using core::Json;

// ---- command line ------------------------------------------------------------------

struct Target {
  std::string host;                // name or numeric address, brackets removed
  std::optional<uint16_t> port;    // from HOST:PORT, [v6]:PORT or the URL
  std::string scheme;              // "http", "https", ... ("" when not a URL)
};

// "web", "web:8080", "10.0.0.1:53", "[2001:db8::1]:443", "2001:db8::1",
// "http://web:8080/path", "https://web/" (443). Unknown schemes and bad ports are errors.
core::Result<Target> parse_target(std::string_view text);

struct Options {
  Target target;
  bool udp = false;
  int family = 0;             // 0 any, AF_INET, AF_INET6
  double timeout_s = 3.0;     // TCP connect, UDP probe and per-nameserver wait
  int count = 20;             // echo probes to the target (and to each hop when sampling)
  int max_hops = 16;
  std::string resolv_conf = "/etc/resolv.conf";
  std::string hosts = "/etc/hosts";
  bool help = false;
};

core::Result<Options> parse_options(int argc, char** argv);
std::string usage();

// ---- findings ----------------------------------------------------------------------

enum class Status { pass, warn, fail, skip };
const char* status_name(Status s);

struct Check {
  std::string layer;               // resolver, route, neighbour, reachability, path, policy
  Status status = Status::skip;
  std::string summary;             // one line
  std::vector<std::string> details;  // evidence lines (text output, indented)
  Json data = Json::object();
  std::string fault;               // stable id when failing (see verdict)
  std::string message;             // the verdict message when this check decides it
};

struct Verdict {
  bool ok = true;
  std::string layer, fault, message;
};

// The first failing check in layer order decides; a local-policy finding that
// explains a reachability failure takes precedence over the symptom.
Verdict decide(const std::vector<Check>& checks);

// ---- nftables flow matching (policy.cpp) -------------------------------------------

struct Flow {
  IpAddr src, dst;
  uint8_t proto = 6;      // IPPROTO_TCP / UDP / ICMP
  uint16_t sport = 0, dport = 0;
};

}  // namespace netshoot::applet::doctor

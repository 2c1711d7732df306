// The stages of a scan run, shared by scan.cpp (targets, port scans, reports) and
// discover.cpp (host discovery), with nmap's -v phase and progress lines (phase.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine.h"
#include "netshoot/result.h"
#include "scan.h"

namespace netshoot::applet::scan {

std::string now_text(const char* fmt);  // strftime of the local time now
void set_run_start(int64_t ns);         // for "Stats: H:MM:SS elapsed"
const char* technique_name(Technique t);  // "SYN Stealth Scan", "Connect Scan", ...

// One technique over a host group. At -v: "Initiating X at HH:MM", "Scanning HOST [N
// ports]" on construction, "Completed X at HH:MM, 1.23s elapsed (N total ports)" on
// destruction. attach() wires --stats-every (and -v's 30 s timing lines) into `s`.
class Phase {
 public:
  Phase(const Options& o, std::string name, size_t hosts, size_t per_host, const char* unit, std::string one_host);
  ~Phase();
  Phase(const Phase&) = delete;
  Phase& operator=(const Phase&) = delete;
  void attach(Scheduler& s, const std::function<size_t()>& up_count);

 private:
  void line(const std::string& l) const;
  const Options& o_;
  std::string name_;
  size_t hosts_, per_host_;
  int64_t t0_;
};

class SocketPool;

// Port scan of `hosts` (one family) with one technique; fills their ports and up state.
// Privileged sockets come from `pool` (see probers.h).
core::Status scan_ports(const Options& o, SocketPool& pool, std::vector<HostResult*>& hosts, core::L4Proto proto,
                        Technique tech);
// Host discovery (-sn, and before port scans of several hosts or of one on-link host):
// our address -> localhost-response; on-link IPv4 over Ethernet -> ARP; the rest ->
// ICMP echo + SYN 443 + ACK 80 (connect() to 80/443 without raw sockets).
core::Status discover(const Options& o, SocketPool& pool, std::vector<HostResult*>& hosts, bool raw);

}  // namespace netshoot::applet::scan

// trace: the path to a host, every hop probed at once. One engine behind the
// traceroute, traceroute6, tcptraceroute and mtr command lines (options.cpp fills
// one Options struct from any of them).
//
//   options.cpp  front ends (traceroute / tcptraceroute / mtr flags), help, run()
//   match.cpp    probe ids on the wire and reply classification (pure, unit tested)
//   prober.cpp   sockets: send a probe, read replies (raw ICMP or IP_RECVERR)
//   engine.cpp   traceroute scheduling (all TTLs at once, adaptive waits), mtr cycles
//   report.cpp   hop lines, mtr report, statistics, JSON
//   live.cpp     the interactive mtr view (plain ANSI escapes)
#pragma once

#include <sys/socket.h>
#include <time.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/applet.h"
#include "netshoot/output.h"
#include "netshoot/packet.h"
#include "netshoot/result.h"

namespace netshoot::applet::trace {

enum class Method : uint8_t { udp, icmp, tcp };
enum class Front : uint8_t { traceroute, tcptraceroute, mtr };
const char* method_name(Method m);

inline constexpr uint16_t kUdpBasePort = 33434;

struct Options {
  Front front = Front::traceroute;
  std::string program = "traceroute";  // name for messages
  std::string host;
  int family = AF_UNSPEC;  // -4 / -6 / traceroute6
  Method method = Method::udp;
  int port = -1;           // -p: UDP base port / TCP destination port; -1 = method default
  int src_port = 0;        // tcptraceroute -p, traceroute --sport
  int queries = 3;         // -q
  double wait_max = 5.0;   // -w MAX[,HERE,NEAR] (Linux traceroute semantics)
  double wait_here = 3.0;
  double wait_near = 10.0;
  int first_ttl = 1;       // -f
  int max_ttl = 30;        // -m
  int sim_queries = 0;     // -N: probes in flight at once; 0 = all of them
  bool numeric = false;    // -n
  std::string source;      // -s
  std::string interface;   // -i
  int tos = 0;             // -t
  int packet_len = -1;     // total IP packet length; -1 = default (60 v4, 80 v6)
  bool dont_fragment = false;  // -F
  bool mtu = false;        // --mtu: discover the path MTU (implies -F)
  bool classic = false;    // --classic: UDP port incremented per probe (Linux traceroute)
  int ecmp = 1;            // --ecmp N: trace N flows (distinct 5-tuples)
  // mtr
  bool report = false;     // -r
  bool wide = false;       // -w (mtr) / --report-wide
  bool live = false;       // mtr without -r on a terminal
  int cycles = 10;         // -c
  double interval = 1.0;   // -i (mtr): seconds between cycles
  double timeout = 2.0;    // mtr: seconds to wait for a cycle's replies (grace)
  bool json = false;       // --json
};

// Fills `o` from argv for the front end named by argv[0] (traceroute, traceroute6,
// tcptraceroute, mtr, trace). Returns nullopt when parsing succeeded; otherwise the
// exit code to return (after printing help or a one-line error to stderr/stdout).
std::optional<int> parse_options(int argc, char** argv, Options& o);

// ---- wire identity of probes and classification of replies (match.cpp) ----------

// What a probe looks like on the wire; enough to recognise it again inside an ICMP
// error's quoted datagram or in a direct reply.
struct ProbeWire {
  Method method = Method::udp;
  core::IpAddr src, dst;
  uint16_t src_port = 0;   // UDP/TCP source port (flow 0); ICMP: the echo id (flow 0)
  uint16_t dst_port = 0;   // UDP base port / TCP port
  bool classic = false;    // UDP: id in the destination port instead of the checksum
  uint16_t tcp_seq_hi = 0; // TCP: upper 16 bits of every probe's sequence number
  int flows = 1;
};

// A decoded answer to one probe.
struct Reply {
  enum class Kind : uint8_t { none, time_exceeded, reached, unreachable } kind = Kind::none;
  uint16_t probe_id = 0;
  uint16_t flow = 0;
  core::IpAddr from;
  uint8_t icmp_type = 0, icmp_code = 0;
  int mtu = 0;             // frag needed / packet too big
  bool tcp = false;        // a TCP segment from the target (not ICMP)
  bool tcp_open = false;   // TCP reached: SYN-ACK (open) or RST (closed)
  char note[12] = {};      // "!H", "!N", "!F-1400", ... empty when none
};

// ICMP error classification into annotations as traceroute prints them; `from_target`
// tells whether a port unreachable means "reached".
void classify_unreach(bool v6, uint8_t type, uint8_t code, int mtu, Reply& r);

// Matches an ICMP/ICMPv6 message (as read from a raw socket: IPv4 with its IP header,
// IPv6 without) against our probes. Returns false if it is not an answer to us.
bool match_icmp(const ProbeWire& w, core::ConstBytes packet, const core::IpAddr& from, Reply& out);
// Matches a TCP segment (IPv4 with header / IPv6 without) from the target: SYN-ACK or RST.
bool match_tcp(const ProbeWire& w, core::ConstBytes packet, const core::IpAddr& from, Reply& out);

// Builders of the probe's layer-4 part (what the probing socket sends, without the
// IP header). Return the length written (0 on a too-small buffer).
size_t build_udp_payload(const ProbeWire& w, uint16_t id, uint16_t flow, size_t len, uint8_t* out);
size_t build_icmp_probe(const ProbeWire& w, uint16_t id, uint16_t flow, size_t len, uint8_t* out);
size_t build_tcp_probe(const ProbeWire& w, uint16_t id, uint16_t flow, uint8_t* out, size_t cap);
// The UDP destination port of probe `id` of `flow`.
uint16_t udp_dst_port(const ProbeWire& w, uint16_t id, uint16_t flow);

// ---- hops and statistics (report.cpp) ---------------------------------------------

struct ProbeResult {
  int ttl = 0;
  int flow = 0;
  bool answered = false;
  double rtt_ms = 0;
  Reply reply;
  int size = 0;            // packet length sent (for --mtu)
  bool mtu_changed = false;  // first answer at a new (smaller) size: "F=<mtu>"
};

// mtr's per-hop statistics (Welford running mean/variance like mtr's own).
struct HopStats {
  int sent = 0, received = 0;
  double last = 0, best = 0, worst = 0, avg = 0, m2 = 0;
  std::vector<core::IpAddr> addrs;  // every address seen at this hop, first first
  void add_sent() { ++sent; }
  void add_reply(double ms, const core::IpAddr& from);
  double loss_pct() const { return sent ? 100.0 * (sent - received) / sent : 0.0; }
  double stdev() const;
};

using NameFn = std::function<std::string(const core::IpAddr&)>;

// " 1  10.200.1.2  0.047 ms  0.006 ms  0.004 ms" (with names: "host (addr)").
std::string format_hop_line(int ttl, const std::vector<ProbeResult>& probes, bool numeric,
                            const NameFn& name, bool tcp_markers);
std::string format_traceroute_header(const Options& o, const std::string& host,
                                     const core::IpAddr& addr, int packet_len);
// The whole mtr report (Start:, HOST: header, one line per hop).
std::string format_mtr_report(const Options& o, const std::string& local_host, time_t start,
                              const std::vector<HopStats>& hops, const NameFn& name);
core::Json hop_json(int ttl, const std::vector<ProbeResult>& probes, const NameFn& name, bool numeric);
core::Json mtr_hop_json(int ttl, const HopStats& h, const NameFn& name, bool numeric);

// ---- the engine (engine.cpp, prober.cpp) -------------------------------------------

struct Target {
  std::string host;      // as given
  core::IpAddr addr;
};

int run_traceroute(const Context& ctx, const Options& o, const Target& t);
int run_mtr(const Context& ctx, const Options& o, const Target& t);
int run_mtr_live(const Context& ctx, const Options& o, const Target& t);

// Reverse lookups, cached (the project's resolver; "" when none).
class NameCache {
 public:
  explicit NameCache(bool numeric) : numeric_(numeric) {}
  std::string name(const core::IpAddr& a);
 private:
  bool numeric_;
  std::vector<std::pair<core::IpAddr, std::string>> cache_;
};

}  // namespace netshoot::applet::trace

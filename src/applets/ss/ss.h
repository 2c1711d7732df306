// ss / netstat: socket listing through sock_diag. Shared types: the filter
// (states plus an expression over ports and addresses, as iproute2's ss takes it),
// the socket-inode -> process map, and the row model both front ends print.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/addr.h"
#include "netshoot/applet.h"
#include "netshoot/netlink.h"
#include "netshoot/result.h"

namespace netshoot::applet::ss {

// ---- filter ----------------------------------------------------------------------------

// One socket as the filter sees it.
struct SockView {
  uint8_t state = 0;
  core::IpAddr local, remote;
  uint16_t local_port = 0, remote_port = 0;
};

struct Expr {
  enum class Kind { kAnd, kOr, kNot, kPort, kAddr } kind = Kind::kPort;
  enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe } cmp = Cmp::kEq;
  bool dst = false;                // dport/dst (peer) instead of sport/src (local)
  std::optional<uint16_t> port;    // kPort, or the port part of kAddr
  std::optional<core::Cidr> cidr;  // kAddr ("*" = any address)
  std::unique_ptr<Expr> a, b;
  bool match(const SockView& s) const;
};

struct Filter {
  uint32_t states = 0;  // mask of core::state_bit(); 0 = the caller's default
  std::unique_ptr<Expr> expr;
  bool match(const SockView& s) const;
};

// States by ss's names: established, syn-sent, syn-recv, fin-wait-1, fin-wait-2,
// time-wait, closed, close-wait, last-ack, listening, closing, all, connected,
// synchronized, bucket, big. 0 when unknown.
uint32_t parse_state_name(std::string_view name);

// `state established '( dport = :443 or sport = :80 )'`, `sport = :80`, `dst 10.0.0.0/8`.
// args are joined with spaces first, so quoted and split forms both work.
// Errors: one line, as "ss: unknown state 'foo'".
core::Result<Filter> parse_filter(const std::vector<std::string>& args);

// ---- processes -------------------------------------------------------------------------

struct ProcRef {
  int pid = 0;
  int fd = 0;
  std::string comm;     // /proc/PID/comm
  std::string program;  // basename of argv[0] (net-tools' "Program name")
};

// socket inode -> processes holding it (scans /proc/*/fd).
using ProcMap = std::multimap<uint32_t, ProcRef>;
ProcMap scan_processes();

// users:(("python3",pid=23432,fd=3),...) ; "" when none.
std::string users_column(const ProcMap& procs, uint32_t inode);

// ---- formatting ------------------------------------------------------------------------

// "127.0.0.1:80", "[::1]:22", "*:8443" (v6 wildcard), "0.0.0.0:*" (port 0),
// "127.0.0.53%lo:53" (bound to a device). Split in the two halves ss aligns.
std::pair<std::string, std::string> ss_endpoint(const core::IpAddr& a, uint16_t port, const std::string& dev,
                                                bool numeric, bool udp);
// net-tools: "0.0.0.0:8080", ":::8443", "::1:22".
std::string netstat_endpoint(const core::IpAddr& a, uint16_t port);
// net-tools' state names: ESTABLISHED, SYN_SENT, ..., LISTEN; "" for UDP's CLOSE.
std::string netstat_state(uint8_t state, bool udp);

// Pads a table of columns the way ss aligns it (numbers and addresses to the
// right, ports and names to the left). align per column: 'l', 'r', or 'R' (right,
// then ':' and the next column: "Address:Port"); the last column is never padded.
std::string render_table(const std::vector<std::vector<std::string>>& rows, const std::string& align);

}  // namespace netshoot::applet::ss

namespace netshoot::applet::ss {

// TCP/UDP/RAW sockets of the current netns: IPv4 then IPv6 (either may be off),
// the kernel filtering by `states`. A missing diag module (raw) is an empty list.
core::Result<std::vector<core::InetSocket>> dump_inet(int protocol, bool v4, bool v6, uint32_t states,
                                                      bool tcp_details = false);

// One network namespace of the host, for --all-netns.
struct HostNetns {
  std::string path;       // a file that opens it (/run/netns/X, /proc/PID/ns/net)
  std::string label;      // container name, else netns name, else "PID/comm"
  std::string container;  // "" when no container owns it
  bool current = false;
};
std::vector<HostNetns> host_namespaces();

int run_netstat(Context& ctx, int argc, char** argv);

}  // namespace netshoot::applet::ss

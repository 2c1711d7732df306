// ss / netstat: socket listing through sock_diag. Shared types: the filter
// (states plus an expression over ports and addresses, as iproute2's ss takes it),
// the socket-inode -> process map, and the row model both front ends print.
#pragma once

#include <cstdint>
#include <functional>
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
                                                bool numeric, bool udp, bool v6only = false);
// net-tools: "0.0.0.0:8080", ":::8443", "::1:22".
std::string netstat_endpoint(const core::IpAddr& a, uint16_t port);
// net-tools' state names: ESTABLISHED, SYN_SENT, ..., LISTEN; "" for UDP's CLOSE.
std::string netstat_state(uint8_t state, bool udp);

// The host half of an ss endpoint into buf (>= 96 bytes): "127.0.0.1", "[::1]",
// "*" (the v6 wildcard of a dual-stack socket; "[::]" when v6only),
// "127.0.0.53%lo" (bound to a device). Returns the length.
size_t ss_host(char* buf, const core::IpAddr& a, std::string_view dev, bool v6only = false);
// The port half: "*" for 0, the service name unless numeric, else the number.
size_t ss_port(char* buf, uint16_t port, bool numeric, bool udp);

// A table laid out the way ss lays out its columns: each column padded to its
// widest cell (the header included), right- or left-aligned, then its glue
// character. Rows are kept as text in large blocks (no allocation per row or
// cell), so 100,000 sockets cost a few megabytes, and the widths are taken when
// rendering. Rows marked alt use each column's alt_glue (ss's unix sockets:
// "* 1574" where inet has "*:1574").
class Table {
 public:
  struct Column {
    bool right = false;
    char glue = ' ';      // after the cell; '\0' = none; never after the last column
    char alt_glue = ' ';
    uint16_t min_width = 0;
  };
  explicit Table(std::vector<Column> cols);
  Table(Table&&) noexcept = default;
  Table& operator=(Table&&) noexcept = default;

  // A row: row(), then one cell() per column, then at most one note().
  void row(bool alt = false);
  void cell(std::string_view text);
  void note(std::string_view line);  // printed unaligned on its own line under the row (ss -i)
  size_t rows() const { return rows_; }
  // Appends other's rows (same columns).
  void append(const Table& other);

  // Where the table ends now, to drop a partial dump that has to start over.
  struct Mark {
    size_t blocks = 0, used = 0, rows = 0;
  };
  Mark mark() const;
  void rollback(const Mark& m);

  // Renders the tables with shared column widths (they must have the same
  // columns), in order, passing the text to sink in chunks of about 64 KiB.
  static void render(const std::vector<const Table*>& tables, const std::function<void(std::string_view)>& sink);
  std::string render() const;

 private:
  static constexpr size_t kBlock = 1 << 20;
  char* reserve(size_t n);
  template <typename F>
  void for_each_row(F&& f) const;

  std::vector<Column> cols_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<size_t> used_;
  size_t rows_ = 0;
  size_t flags_block_ = 0, flags_off_ = 0;  // the current row's flag byte
};

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

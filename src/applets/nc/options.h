// nc (netcat-openbsd 1.219 behaviour): options and the messages it prints, apart
// from the socket code so that unit tests can check both.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::applet::nc {

struct Options {
  bool listen = false;        // -l
  bool keep = false;          // -k
  bool udp = false;           // -u
  int verbose = 0;            // -v
  bool zero_io = false;       // -z
  bool numeric = false;       // -n
  bool shutdown_on_eof = false;  // -N
  bool no_stdin = false;      // -d
  int wait_s = -1;            // -w: connect and idle timeout, -1 none
  int quit_s = -1;            // -q: after stdin EOF wait this long, -1 forever
  int family = AF_UNSPEC;     // -4 / -6
  std::string source;         // -s
  int source_port = -1;       // -p
  std::string host;
  std::vector<uint16_t> ports;   // expanded, in order
  std::vector<std::string> port_text;  // as printed (number), parallel to ports
  bool help = false;
};

// Parses argv[1..]; errors carry the message nc prints after "nc: ".
core::Result<Options> parse_options(int argc, char** argv);
std::string usage();

// Service names as netcat-openbsd sees them: /etc/services when the host has it,
// else the built-in table.
std::string service_for_port(uint16_t port, bool udp);

// "Connection to HOST (IP) PORT port [tcp/SERVICE] succeeded!"
std::string success_message(const std::string& host, const std::string& ip, uint16_t port, bool udp,
                            bool numeric);
// "connect to HOST (IP) port PORT (tcp) failed: REASON" (without the "nc: " prefix).
// err == ETIMEDOUT is our -w timeout ("timed out: Operation now in progress", as
// openbsd's timeout_connect); -ETIMEDOUT the kernel's ("failed: Connection timed out").
std::string failure_message(const std::string& host, const std::string& ip, uint16_t port, bool udp,
                            bool numeric, int err);

}  // namespace netshoot::applet::nc

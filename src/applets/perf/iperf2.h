// perf called as `iperf`: iperf 2's command line and text output (2.1.8 observed),
// plain TCP streams that interoperate with the real iperf 2 both ways.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace netshoot::applet::perf::iperf2 {

inline constexpr const char* kDashes = "------------------------------------------------------------";
inline constexpr const char* kHeader = "[ ID] Interval       Transfer     Bandwidth";

// "[  1]" / "[SUM]"
std::string label(int id);
// "[  1] 0.0000-2.0156 sec  3.20 GBytes  13.6 Gbits/sec"
std::string report_line(const std::string& label, double start, double end, double bytes);
// "TCP window size: 16.0 KByte (default)"
std::string window_line(int bytes, bool is_default);
// "[  1] local A port P connected with B port Q" plus " (icwnd/mss/irtt=C/M/R)" when known.
struct TcpInit {
  unsigned cwnd, mss, rtt_us;
};
std::string connected_line(int id, const std::string& local, int lport, const std::string& peer,
                           int pport, std::optional<TcpInit> init);

// The addresses of a host through the project's resolver (no NSS), numeric first;
// an error message as iperf 2 words it when none.
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
};
std::vector<SockAddr> resolve(const std::string& host, int port, int family, std::string* error);
// The address as iperf 2 prints it (an IPv4-mapped one as IPv4), its port into `port`.
std::string addr_port(const sockaddr_storage& ss, int& port);

struct Opts {
  bool server = false;
  std::string host;
  int port = 5001;
  double time = 10;
  double interval = 0;
  int parallel = 1;
  int len = 128 * 1024;
  int window = 0;
  std::string bind;
  uint64_t bytes = 0;
  bool nodelay = false;
  bool udp = false;
  int family = AF_UNSPEC;
  double rate = 1024 * 1024;  // -b bits/s (UDP; iperf 2 suffixes are 1024-based)
};

// "[ ID] Interval       Transfer     Bandwidth        Jitter   Lost/Total Datagrams"
inline constexpr const char* kUdpHeader =
    "[ ID] Interval       Transfer     Bandwidth        Jitter   Lost/Total Datagrams";
// report_line plus "   0.002 ms 0/1787 (0%)"
std::string udp_report_line(const std::string& label, double start, double end, double bytes,
                            double jitter_ms, int64_t lost, int64_t total);

// shared by the TCP and UDP halves
extern std::atomic<bool> g_stop;
void emit(const std::string& line);  // one line to stdout, whole and flushed
int udp_client(const Opts& o);
int udp_server(const Opts& o);
// The server socket for TCP (SOCK_STREAM, listening) or UDP; -1 after printing why.
int open_listener(const Opts& o, int type);

// Runs `iperf ARGS` (argv[0] is the name); returns the exit code.
int run(int argc, char** argv);

}  // namespace netshoot::applet::perf::iperf2

// perf: what the client and server sides of an iperf3-protocol test share — the
// control connection, the streams, and one test (setup apart, which client.cpp and
// server.cpp do): the data phase (stream_io.cpp) and its reports (report.cpp).
#pragma once

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "netshoot/addr.h"
#include "netshoot/event_loop.h"
#include "netshoot/fd.h"
#include "netshoot/result.h"
#include "options.h"
#include "proto.h"

namespace netshoot::applet::perf {

using core::EventLoop;
using core::IpAddr;
using core::UniqueFd;
using Json = nlohmann::ordered_json;

inline constexpr int kSetupTimeoutMs = 10000;   // each step of the setup / results exchange
inline constexpr double kEndGraceS = 30;        // a test this long past its end is abandoned

inline double mono() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time used so far: the process's (iperf3's measure), or with `thread` only the
// calling thread's, which is one test's on a server running several at once.
struct Cpu {
  double wall = 0, user = 0, sys = 0;
  static Cpu now(bool thread = false) {
    rusage ru{};
    ::getrusage(thread ? RUSAGE_THREAD : RUSAGE_SELF, &ru);
    Cpu c;
    c.wall = mono();
    c.user = double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6;
    c.sys = double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6;
    return c;
  }
};

std::string errno_text(int e);

// --json-stream (iperf3 3.17's spelling): {"event":"start"|"interval"|"end"|"error","data":...}
// and a newline.
inline std::string json_event_line(const char* event, const Json& data) {
  Json j;
  j["event"] = event;
  j["data"] = data;
  return j.dump() + "\n";
}

// ---- the control connection ------------------------------------------------------------

class Control {
 public:
  UniqueFd fd;
  ControlReader rd;
  bool eof = false;
  // Set by the server when it is told to stop: waits end early.
  const std::atomic<bool>* abort = nullptr;
  bool aborted() const { return abort && abort->load(); }

  // Reads what is there without blocking; false once the peer has gone.
  bool pump();
  bool wait_readable(int ms);
  core::Result<int8_t> state(int timeout_ms);
  core::Result<std::string> json(int timeout_ms);
  bool send_all(const void* d, size_t n);
  bool send_state(int8_t s) { return send_all(&s, 1); }
  // State bytes must not wait for Nagle: the peer starts its clock on them.
  void nodelay();
  bool send_json(const std::string& j);
};

// ---- streams ---------------------------------------------------------------------------

struct Stream {
  int id = 1;                 // protocol stream id (1, 3, 4, 5 ... as iperf3 numbers them)
  UniqueFd fd;
  bool sender = false;
  bool udp = false;
  IpAddr local, remote;
  uint16_t lport = 0, rport = 0;
  uint64_t bytes = 0, blocks = 0;
  size_t off = 0;             // TCP: bytes of the current block already sent
  uint64_t iv_bytes = 0;
  // TCP (sender side)
  int64_t retr_base = 0, iv_retr = 0, retr = 0;
  uint32_t max_cwnd = 0, max_snd_wnd = 0, max_rtt = 0, min_rtt = UINT32_MAX;
  uint64_t rtt_sum = 0, rtt_n = 0;
  // UDP
  uint64_t packets = 0;       // sent, or received datagrams (since the -O warm-up)
  uint64_t seq = 0;           // UDP: the last packet number sent (never reset)
  int64_t pc_base = 0, lost_base = 0, ooo_base = 0;  // receiver counts at the end of -O
  int64_t iv_packets = 0;
  UdpRecvStats rs;
  int64_t iv_pc = 0, iv_lost = 0;
  bool stopped = false;
  const char* role = nullptr;  // "TX-C" ... with --bidir
  // TCP receiver: SO_RCVLOWAT follows the rate (see Test::tune_lowat)
  uint64_t rx_mark = 0;
  int lowat = 1;
  uint64_t rx_pmark = 0;       // UDP receiver: datagrams at the last watchdog tick
};

inline int stream_id_for(size_t index) { return index == 0 ? 1 : int(index) + 2; }

struct TcpInfo {
  bool ok = false;
  int64_t retrans = 0;
  uint32_t cwnd = 0, snd_wnd = 0, rtt = 0, rttvar = 0, pmtu = 0;
};

TcpInfo tcp_info(int fd);
std::string congestion_of(int fd);
core::Status apply_socket_options(int fd, const TestParams& p, bool before_connect);
void endpoints(int fd, IpAddr& local, uint16_t& lport, IpAddr& remote, uint16_t& rport);
// Nonblocking connect with a timeout (ms, < 0: the kernel's). Returns 0 or errno.
int connect_timeout(int fd, const IpAddr& a, uint16_t port, int timeout_ms);
std::string iso_time_now(time_t* secs);
std::string system_info();

// ---- one test --------------------------------------------------------------------------

class Test {
 public:
  Test(bool server, const Options& o, EventLoop& loop) : server_(server), o_(o), loop_(loop) {
    json_ = o.json;
    if (!o.title.empty()) title_ = o.title + ":  ";
  }
  ~Test() { detach(); }

  bool server_;
  Options o_;
  EventLoop& loop_;
  TestParams p_;
  std::string cookie_;
  Control ctl_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<char> sbuf_;
  std::vector<uint8_t> rbuf_;
  bool json_ = false;
  std::string title_;
  std::string text_copy_;      // our text, for --get-server-output
  bool copy_text_ = false;
  double t_start_ = 0, t_stop_ = 0, iv_start_ = 0;
  Cpu cpu0_, cpu1_;
  Json jstart_ = Json::object();
  Json jintervals_ = Json::array();
  std::string error_;
  bool data_done_ = false;     // senders stopped (client: TEST_END sent)
  bool exchange_ = false;      // client: EXCHANGE_RESULTS arrived; server: TEST_END arrived
  bool interrupted_ = false;
  bool peer_terminated_ = false;
  double last_rx_ = 0;
  std::vector<EventLoop::TimerId> timers_;
  bool header_printed_ = false;
  bool last_sep_ = false;
  bool omitting_ = false;      // -O: inside the warm-up
  EventLoop::TimerId iv_timer_ = 0;

  // Whether this side sends in direction `dir` (0: the client's forward one).
  bool we_send_dir(int dir) const;

  // ---- output ----
  void emit(const std::string& line);
  void flush() { std::fflush(stdout); }

  bool bidir() const { return p_.bidirectional; }
  bool any_sender() const;
  bool any_receiver() const;

  void prepare_buffers();

  Stream& add_stream(UniqueFd fd, bool sender);

  void print_connected();

  void print_interval_header();

  // ---- data phase ----
  bool rate_limited() const { return p_.bandwidth > 0; }

  void start_data(const std::function<void()>& on_end);

  void arm_interval_timer();

  // -O: the warm-up is over; everything counts from zero again.
  void end_omit();

  void detach();

  void fail(const std::string& msg);
  void finish_loop();

  uint64_t total_sent() const;
  uint64_t total_received() const;
  uint64_t total_blocks() const;

  // Client with -n/-k: the test ends once the count is reached by the side that
  // measures here (what we send; with -R what we receive).
  void check_counts();

  bool send_one(Stream& s);
  // n bytes of the block from s.off: send(), or sendfile() from zc_fd_ with -Z.
  ssize_t send_block(Stream& s, size_t n);
  UniqueFd zc_fd_;

  // The rest of every half-sent block, all streams at once (the peer may be
  // blocked reading one of them until its block is whole), for up to 5 s.
  void complete_blocks();

  // false: stop sending for now (EAGAIN) or for good (an error, reported).
  bool handle_send_error(Stream& s);

  void on_writable(Stream& s, uint32_t ev);
  int senders_ = 0;            // streams this side sends on

  void send_udp_batch(Stream& s);

  void pace();

  void on_readable(Stream& s, uint32_t ev);

  void read_udp(Stream& s);
  int udp_gap_us_ = 0;
  // An unpaced UDP test (-b 0) whose receiver keeps up wakes that receiver once
  // per datagram, and each wakeup costs the sending side (its softirq queues the
  // datagram and must wake us: an IPI to the other CPU each time). Over a veth
  // pair iperf3's client sent 0.6x as fast into our server as into its own,
  // whose receiver is too busy to sleep. Above 20k datagrams/s such a test's
  // loop busy-polls instead (never sleeps) until the data stops or the test ends,
  // and after each drain spins (pause) a short gap that lets the queue fill a
  // little: fewer, fuller recvmmsg calls, and the socket's cache lines stay on
  // the sender's CPU meanwhile. Over the veth pair this moved ours-to-ours from
  // about 390k to 470-560k datagrams/s. Not with -b: a paced sender has the time
  // to spare. Sleeping on a timer instead of spinning did as well when it woke
  // on time, but on this VM a timer wakeup of an idle CPU came 100 ms late
  // about once a second, and the receive buffer overflowed each time.
  void tune_udp_reads();

  // TCP receivers wake for about 10 ms of data at the rate of the last 200 ms
  // (SO_RCVLOWAT, at most 128 KiB) instead of for every segment: the sending
  // side's softirq then queues to a socket whose reader is busy instead of waking
  // it once per packet, which on a veth pair halved what -P 4 moved. Slow streams
  // keep a low mark, so interval reports stay as fine as before.
  void tune_lowat();
  // Up to max_reads reads until EAGAIN; false when a read error failed the test.
  bool read_tcp(Stream& s, int max_reads);

  void on_control();

  void watchdog();

  // Senders stop; the final partial interval is reported.
  void stop_data();

  // Client: the test is over on our side.
  void end_data();

  // ---- reports ----
  Json interval_stream_json(const Stream& s, double start, double end, uint64_t bytes, const TcpInfo* ti, int64_t retr, int64_t pkts, int64_t lost, int64_t total);

  void interval_report(double now);

  Results local_results();

  const StreamResult* peer_stream(const Results* peer, size_t index, int id) const;

  // The end-of-test summary (text and the JSON "end" object). `peer` is null when
  // the exchange did not happen (interrupted): only our own side is printed.
  Json summary(const Results* peer);

  Json test_start_json() const;

  void print_json(const Json& end);
  // -V: "Starting Test: ..."; --json-stream: the "start" event.
  void print_start();
  // --json-stream: one line {"event":EVENT,"data":DATA}, flushed.
  void emit_event(const char* event, const Json& data);
  bool start_sent_ = false;

 private:
  std::function<void()> on_end_;
};

void fill_start_json(Test& t, const std::string& host, uint16_t port);
void print_error(const Options& o, const std::string& msg);

}  // namespace netshoot::applet::perf

// The live flows view (see flows_screen.h).
#include "flows_screen.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace netshoot::applet::monitor::flows {

namespace {

constexpr const char* kEnter = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
constexpr const char* kLeave = "\x1b[0m\x1b[?25h\x1b[?1049l";

const char* sort_name(SortBy s) {
  switch (s) {
    case SortBy::two: return "2s";
    case SortBy::ten: return "10s";
    case SortBy::forty: return "40s";
    case SortBy::source: return "source";
    case SortBy::destination: return "destination";
  }
  return "";
}

std::string fit(std::string s, size_t w) {
  s.resize(w, ' ');
  return s;
}

std::string rate(double v, bool bytes) {
  std::string s = readable_size(v, bytes);
  char b[16];
  std::snprintf(b, sizeof b, "%7s", s.c_str());
  return b;
}

// A row of exactly `cols` characters, the first `bar` of them in reverse video.
std::string row(const std::string& text, int cols, int bar) {
  std::string t = fit(text, size_t(cols));
  bar = std::clamp(bar, 0, cols);
  if (bar == 0) return t + "\x1b[K\r\n";
  return "\x1b[7m" + t.substr(0, size_t(bar)) + "\x1b[0m" + t.substr(size_t(bar)) + "\x1b[K\r\n";
}

std::string host(const Line& l, bool src, const Labels& labels, size_t w) {
  core::IpAddr a = key_addr(l.key, src);
  uint16_t port = src ? l.key.src_port : l.key.dst_port;
  std::string service = port && labels.service ? labels.service(port, l.key.proto) : std::string();
  std::string name = labels.host ? labels.host(a) : a.to_string();
  std::string s = name;
  if (port) s = (l.key.family == 6 ? "[" + name + "]" : name) + ":" + (service.empty() ? std::to_string(port) : service);
  if (s.size() > w) s = s.substr(0, w);
  return s;
}

struct termios g_saved;
bool g_saved_ok = false;
volatile sig_atomic_t g_active = 0;

void restore_raw() {
  if (!g_active) return;
  g_active = 0;
  ssize_t k = ::write(STDOUT_FILENO, kLeave, std::strlen(kLeave));
  (void)k;
  if (g_saved_ok) tcsetattr(STDIN_FILENO, TCSANOW, &g_saved);
}

void on_fatal(int sig) {
  restore_raw();
  signal(sig, SIG_DFL);
  raise(sig);
}

}  // namespace

std::string render_screen(const Report& r, const Labels& labels, const ScreenOptions& o, int rows, int cols) {
  rows = std::max(rows, 6);
  cols = std::max(cols, 40);
  std::string out = "\x1b[H";
  std::string head = " iftop: " + o.iface + "   sort: " + sort_name(o.sort) + "   ports: " + (o.ports ? "on" : "off") +
                     "   names: " + (o.names ? "on" : "off") + (o.paused ? "   PAUSED" : "");
  if (!o.status.empty()) head += "   " + o.status;
  std::string keys = "q quit  p ports  n names  1/2/3 sort  </> by host  b bars  B bytes  P pause ";
  if (head.size() + keys.size() < size_t(cols)) head = fit(head, size_t(cols) - keys.size()) + keys;
  out += row(head, cols, cols);
  const int rate_w = 3 * 8;  // three " %7s" columns
  size_t host_w = size_t(std::max(8, (cols - rate_w - 4) / 2));
  int body = rows - 1 - 4;  // header; rule + TX/RX/TOTAL
  double top = 0;
  for (const auto& l : r.lines) top = std::max({top, l.sent[1], l.recv[1]});
  int used = 0;
  for (const auto& l : r.lines) {
    if (used + 2 > body) break;
    std::string a = fit(host(l, true, labels, host_w), host_w), b = fit(host(l, false, labels, host_w), host_w);
    std::string pad(size_t(std::max(0, cols - rate_w - 4 - int(2 * host_w))), ' ');
    std::string s1 = a + " => " + b + pad;
    std::string s2 = std::string(host_w, ' ') + " <= " + std::string(host_w, ' ') + pad;
    for (double v : l.sent) s1.append(1, ' ').append(rate(v, o.bytes));
    for (double v : l.recv) s2.append(1, ' ').append(rate(v, o.bytes));
    int bar1 = o.bars && top > 0 ? int(double(cols) * l.sent[1] / top) : 0;
    int bar2 = o.bars && top > 0 ? int(double(cols) * l.recv[1] / top) : 0;
    out += row(s1, cols, bar1);
    out += row(s2, cols, bar2);
    used += 2;
  }
  for (; used < body; ++used) out += "\x1b[K\r\n";
  out += row(std::string(size_t(cols), '-'), cols, 0);
  auto totals = [&](const char* label, double cum, double peak, const double* v2, const double* v1) {
    std::string s = fit(label, 8) + "cum: " + rate(cum, true) + "   peak: " + rate(peak, o.bytes) + "   rates:";
    for (int d = 0; d < kDivisions; ++d) s.append(1, ' ').append(rate(v2 ? v2[d] + v1[d] : v1[d], o.bytes));
    return s;
  };
  out += row(totals("TX:", double(r.cum_sent), r.peak_sent, nullptr, r.sent), cols, 0);
  out += row(totals("RX:", double(r.cum_recv), r.peak_recv, nullptr, r.recv), cols, 0);
  std::string last = totals("TOTAL:", double(r.cum_sent + r.cum_recv), r.peak_total, r.sent, r.recv);
  out += fit(last, size_t(cols)) + "\x1b[K";  // no newline: the last row must not scroll
  return out;
}

LiveTerminal::LiveTerminal() {
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &g_saved) == 0) {
    g_saved_ok = true;
    struct termios t = g_saved;
    t.c_lflag &= tcflag_t(~(ICANON | ECHO));
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
  }
  g_active = 1;
  draw(kEnter);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) signal(sig, on_fatal);
}

LiveTerminal::~LiveTerminal() { restore_raw(); }

void LiveTerminal::size(int& rows, int& cols) {
  struct winsize ws {};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    rows = ws.ws_row, cols = ws.ws_col;
  } else {
    rows = 24, cols = 80;
  }
}

void LiveTerminal::draw(const std::string& frame) {
  const char* p = frame.data();
  size_t n = frame.size();
  while (n > 0) {
    ssize_t k = ::write(STDOUT_FILENO, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += k, n -= size_t(k);
  }
}

int LiveTerminal::read_key() {
  if (!g_saved_ok) return -1;
  struct pollfd pfd {STDIN_FILENO, POLLIN, 0};
  if (poll(&pfd, 1, 0) <= 0) return -1;
  unsigned char c;
  if (::read(STDIN_FILENO, &c, 1) != 1) return -1;
  return c;
}

}  // namespace netshoot::applet::monitor::flows

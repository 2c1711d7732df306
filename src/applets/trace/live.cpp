// mtr's live view on a terminal, with plain ANSI escapes (no terminfo, no ncurses):
// the table is redrawn in place on the alternate screen; q quits, r resets the
// statistics. The terminal is restored on q, Ctrl-C/TERM/HUP and every error path.
#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <string>

#include "engine.h"
#include "netshoot/log.h"

namespace netshoot::applet::trace {

std::string local_hostname();

namespace {

void write_all(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    off += size_t(n);
  }
}

// Raw-ish terminal for the lifetime of the object: no echo, no line buffering;
// alternate screen, hidden cursor. Signals (ISIG) stay on so Ctrl-C arrives as SIGINT.
class TerminalMode {
 public:
  TerminalMode() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios t = saved_;
      t.c_lflag &= ~tcflag_t(ICANON | ECHO);
      t.c_cc[VMIN] = 0;
      t.c_cc[VTIME] = 0;
      have_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
    write_all("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
  }
  ~TerminalMode() {
    write_all("\x1b[?25h\x1b[?1049l");
    if (have_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  TerminalMode(const TerminalMode&) = delete;
  TerminalMode& operator=(const TerminalMode&) = delete;

 private:
  termios saved_{};
  bool have_ = false;
};

std::string draw(const Options& o, const Target& t, time_t start, MtrRun& run, NameCache& names) {
  NameFn name = [&](const core::IpAddr& a) { return names.name(a); };
  std::string body = format_mtr_report(o, local_hostname(), start, run.hops(), name);
  body.erase(0, body.find('\n') + 1);  // "Start: ..." goes into the title instead
  char tbuf[64];
  std::tm tm{};
  ::localtime_r(&start, &tm);
  std::strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S%z", &tm);
  std::string s = "\x1b[H";
  auto line = [&](const std::string& l) { s += l + "\x1b[K\n"; };
  line(std::string("                             My traceroute  [netshoot ") + NETSHOOT_VERSION + "]");
  line(local_hostname() + " -> " + t.host + " (" + t.addr.to_string() + ")   " + tbuf +
       "   cycles: " + std::to_string(run.cycles_sent()));
  line("Keys:  q)uit  r)eset statistics");
  line("");
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    line(body.substr(pos, nl - pos));
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  s += "\x1b[J";
  return s;
}

}  // namespace

int run_mtr_live(const Context& ctx, const Options& opts, const Target& t) {
  Options o = opts;
  o.cycles = 0;  // until q
  MtrRun run(o, t.addr);
  if (auto st = run.start(); !st) {
    spdlog::error("{}", st.error().message());
    return 1;
  }
  bool quit = false, dirty = true;
  auto& loop = run.loop();
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
    (void)loop.add_signal(sig, [&](const signalfd_siginfo&) { quit = true; });
  (void)loop.add_signal(SIGWINCH, [&](const signalfd_siginfo&) { dirty = true; });
  (void)loop.add_fd(STDIN_FILENO, EPOLLIN, [&](uint32_t ev) {
    char buf[64];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n == 0 || (ev & (EPOLLHUP | EPOLLERR))) quit = true;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == 'q' || buf[i] == 'Q' || buf[i] == 3) quit = true;
      if (buf[i] == 'r' || buf[i] == 'R') {
        run.reset();
        dirty = true;
      }
    }
  });
  TerminalMode term;  // restored by its destructor on every way out of here
  NameCache names(o.numeric);
  time_t start = ::time(nullptr);
  auto next_draw = Clock::now();
  int drawn_cycles = -1;
  while (!quit) {
    run.step(std::min(next_draw, Clock::now() + std::chrono::milliseconds(200)));
    if (quit) break;
    auto now = Clock::now();
    if (dirty || run.cycles_sent() != drawn_cycles || now >= next_draw) {
      write_all(draw(o, t, start, run, names));
      drawn_cycles = run.cycles_sent();
      dirty = false;
      next_draw = now + std::chrono::milliseconds(500);
    }
  }
  (void)ctx;
  return 0;
}

}  // namespace netshoot::applet::trace

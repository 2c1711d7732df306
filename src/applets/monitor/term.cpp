// Terminal handling for the live views. Signal handlers only use async-signal-safe
// calls (write, tcsetattr, sigaction, raise) on state prepared beforehand.
#include "term.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace netshoot::applet::monitor::term {
namespace {

constexpr char kEnter[] = "\x1b[?1049h\x1b[?7l\x1b[?25l\x1b[H\x1b[2J";
constexpr char kLeave[] = "\x1b[0m\x1b[?25h\x1b[?7h\x1b[?1049l";

// Process-wide state the signal handlers read (one Terminal at a time).
termios g_saved{};
volatile sig_atomic_t g_active = 0;   // raw mode and alternate screen are on
bool g_have_termios = false;
int g_pipe[2] = {-1, -1};             // SIGWINCH / SIGCONT wake the poll loop

const int kFatal[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction g_old[sizeof kFatal / sizeof kFatal[0]];
struct sigaction g_old_winch, g_old_tstp, g_old_cont;

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += w;
    n -= size_t(w);
  }
}

void leave_screen() {
  if (!g_active) return;
  g_active = 0;
  write_all(STDOUT_FILENO, kLeave, sizeof kLeave - 1);
  if (g_have_termios) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved);
}

bool enter_screen() {
  if (g_have_termios) {
    termios t = g_saved;
    t.c_lflag &= ~tcflag_t(ICANON | ECHO | IEXTEN);
    t.c_iflag &= ~tcflag_t(IXON | ICRNL);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (::tcsetattr(STDIN_FILENO, TCSANOW, &t) != 0) return false;
  }
  write_all(STDOUT_FILENO, kEnter, sizeof kEnter - 1);
  g_active = 1;
  return true;
}

void wake() {
  if (g_pipe[1] >= 0) {
    int saved = errno;
    char c = 1;
    (void)!::write(g_pipe[1], &c, 1);
    errno = saved;
  }
}

// Terminates by the same signal after restoring the terminal: the exit status
// (and a core dump for crashes) stays what it would have been.
void on_fatal(int sig) {
  leave_screen();
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  ::sigprocmask(SIG_UNBLOCK, &s, nullptr);
  ::raise(sig);
}

void on_winch(int) { wake(); }

void on_tstp(int) {
  bool was = g_active;
  leave_screen();
  struct sigaction dfl {}, mine {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGTSTP, &dfl, &mine);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGTSTP);
  ::sigprocmask(SIG_UNBLOCK, &s, nullptr);
  ::raise(SIGTSTP);  // stops here until SIGCONT
  ::sigaction(SIGTSTP, &mine, nullptr);
  if (was) {
    if (g_have_termios) ::tcgetattr(STDIN_FILENO, &g_saved);
    enter_screen();
  }
  wake();  // redraw everything
}

void install(int sig, void (*fn)(int), struct sigaction* old) {
  struct sigaction sa {};
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(sig, &sa, old);
}

void terminate_handler() {
  leave_screen();
  std::abort();
}

}  // namespace

std::vector<KeyEvent> decode_keys(const std::string& b) {
  std::vector<KeyEvent> out;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(b[i]);
    if (c == 0x1b) {
      if (i + 1 >= b.size() || (b[i + 1] != '[' && b[i + 1] != 'O')) {
        out.push_back({Key::kEsc, 0});
        continue;
      }
      size_t j = i + 2;
      std::string params;
      while (j < b.size() && !(b[j] >= 0x40 && b[j] <= 0x7e)) params += b[j++];
      if (j >= b.size()) {  // truncated: treat as Esc and drop the rest
        out.push_back({Key::kEsc, 0});
        break;
      }
      char fin = b[j];
      i = j;
      switch (fin) {
        case 'A': out.push_back({Key::kUp, 0}); break;
        case 'B': out.push_back({Key::kDown, 0}); break;
        case 'C': out.push_back({Key::kRight, 0}); break;
        case 'D': out.push_back({Key::kLeft, 0}); break;
        case 'H': out.push_back({Key::kHome, 0}); break;
        case 'F': out.push_back({Key::kEnd, 0}); break;
        case '~': {
          int n = std::atoi(params.c_str());
          if (n == 5) out.push_back({Key::kPageUp, 0});
          else if (n == 6) out.push_back({Key::kPageDown, 0});
          else if (n == 1 || n == 7) out.push_back({Key::kHome, 0});
          else if (n == 4 || n == 8) out.push_back({Key::kEnd, 0});
          break;
        }
        default: break;  // unknown sequence: ignored
      }
      continue;
    }
    if (c == '\r' || c == '\n') out.push_back({Key::kEnter, 0});
    else if (c == 0x7f || c == 0x08) out.push_back({Key::kBackspace, 0});
    else if (c == '\t') out.push_back({Key::kTab, 0});
    else if (c >= 0x20 && c < 0x7f) out.push_back({Key::kChar, static_cast<char>(c)});
    else if (c == 0x04) out.push_back({Key::kEof, 0});  // Ctrl-D
  }
  return out;
}

size_t visible_width(const std::string& s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string frame_bytes(const std::vector<std::string>& lines, const Size& size) {
  std::string out = "\x1b[H";
  int row = 0;
  for (const auto& l : lines) {
    if (row >= size.height) break;
    out += "\x1b[" + std::to_string(row + 1) + ";1H\x1b[0m" + l;
    // Erasing at the last column would eat its character: only short lines.
    if (visible_width(l) < size_t(size.width)) out += "\x1b[0m\x1b[K";
    ++row;
  }
  if (row < size.height) out += "\x1b[" + std::to_string(row + 1) + ";1H\x1b[0m\x1b[J";
  return out;
}

core::Result<std::unique_ptr<Terminal>> Terminal::open() {
  if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO))
    return core::make_error("the live view needs a terminal (use --once, --count N or --json for scripts)");
  if (g_active) return core::make_error("terminal already in use");
  g_have_termios = ::tcgetattr(STDIN_FILENO, &g_saved) == 0;
  if (g_pipe[0] < 0 && ::pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) != 0) return core::os_error("pipe2");
  for (size_t i = 0; i < sizeof kFatal / sizeof kFatal[0]; ++i) install(kFatal[i], on_fatal, &g_old[i]);
  install(SIGWINCH, on_winch, &g_old_winch);
  install(SIGCONT, on_winch, &g_old_cont);
  install(SIGTSTP, on_tstp, &g_old_tstp);
  std::set_terminate(terminate_handler);
  if (!enter_screen()) {
    auto e = core::os_error("tcsetattr");
    for (size_t i = 0; i < sizeof kFatal / sizeof kFatal[0]; ++i) ::sigaction(kFatal[i], &g_old[i], nullptr);
    return e;
  }
  return std::unique_ptr<Terminal>(new Terminal());
}

Terminal::~Terminal() { restore(); }

void Terminal::restore() {
  leave_screen();
  for (size_t i = 0; i < sizeof kFatal / sizeof kFatal[0]; ++i) ::sigaction(kFatal[i], &g_old[i], nullptr);
  ::sigaction(SIGWINCH, &g_old_winch, nullptr);
  ::sigaction(SIGCONT, &g_old_cont, nullptr);
  ::sigaction(SIGTSTP, &g_old_tstp, nullptr);
}

Size Terminal::size() const {
  Size s;
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    s.width = ws.ws_col;
    s.height = ws.ws_row;
    return s;
  }
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) s.width = std::atoi(c);
  if (const char* l = std::getenv("LINES"); l && std::atoi(l) > 0) s.height = std::atoi(l);
  return s;
}

std::vector<KeyEvent> Terminal::wait(int timeout_ms, bool& resized) {
  resized = false;
  pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {g_pipe[0], POLLIN, 0}};
  int n = ::poll(p, 2, timeout_ms < 0 ? 0 : timeout_ms);
  if (n <= 0) return {};
  if (p[1].revents & POLLIN) {
    char buf[64];
    while (::read(g_pipe[0], buf, sizeof buf) > 0) {
    }
    resized = true;
  }
  std::vector<KeyEvent> keys;
  if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    char buf[256];
    ssize_t r = ::read(STDIN_FILENO, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
      if (p[0].revents & (POLLHUP | POLLERR) || r == 0) keys.push_back({Key::kEof, 0});
    } else if (r > 0) {
      keys = decode_keys(std::string(buf, size_t(r)));
    }
  }
  return keys;
}

void Terminal::draw(const std::vector<std::string>& lines) {
  std::string f = frame_bytes(lines, size());
  write_all(STDOUT_FILENO, f.data(), f.size());
}

}  // namespace netshoot::applet::monitor::term

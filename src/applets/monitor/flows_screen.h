// monitor flows / iftop: the live full-screen view. Plain ANSI/VT100 sequences
// (alternate screen, cursor home, erase, reverse video), so no terminfo is needed:
// xterm, the linux console, screen and tmux all understand them.
#pragma once

#include <string>

#include "flows_report.h"

namespace netshoot::applet::monitor::flows {

struct ScreenOptions {
  std::string iface;
  bool ports = false;
  bool names = true;
  bool bytes = false;
  bool bars = true;
  bool paused = false;
  SortBy sort = SortBy::ten;
  std::string status;  // one-off message in the header ("DNS resolution is OFF")
};

// One frame: starts at the top-left corner, every row erased to its end, nothing
// written past `rows` x `cols`.
std::string render_screen(const Report& r, const Labels& labels, const ScreenOptions& o, int rows, int cols);

// The terminal in the live view's mode: alternate screen, hidden cursor, keys read
// one at a time without echo. Restored by the destructor, and by the fatal-signal
// path (a crash must not leave the user's terminal unusable).
class LiveTerminal {
 public:
  LiveTerminal();
  ~LiveTerminal();
  LiveTerminal(const LiveTerminal&) = delete;
  LiveTerminal& operator=(const LiveTerminal&) = delete;

  // Rows and columns of stdout's terminal (24x80 when unknown).
  static void size(int& rows, int& cols);
  // Writes a frame in one go.
  static void draw(const std::string& frame);
  // A key if one is waiting on stdin (-1 when none).
  static int read_key();
};

}  // namespace netshoot::applet::monitor::flows

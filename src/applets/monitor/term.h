// Full-screen terminal for the live views, with plain ANSI/VT100 sequences that
// xterm, the linux console, screen and tmux all understand (no terminfo, no
// ncurses): alternate screen, hidden cursor, no autowrap, raw-ish input (no echo,
// no line buffering; Ctrl-C still raises SIGINT). The terminal is restored when
// the Terminal is destroyed, on SIGINT/SIGTERM/SIGHUP/SIGQUIT, on a crash signal
// (SEGV, BUS, FPE, ILL, ABRT: the signal is then re-raised) and around Ctrl-Z.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::applet::monitor::term {

enum class Key { kChar, kUp, kDown, kLeft, kRight, kEnter, kEsc, kBackspace, kPageUp, kPageDown, kHome, kEnd, kTab, kEof };

struct KeyEvent {
  Key key = Key::kChar;
  char ch = 0;  // for kChar
  bool operator==(const KeyEvent& o) const { return key == o.key && ch == o.ch; }
};

// Decodes the bytes read in one go from the terminal (escape sequences arrive
// whole). A lone ESC is the Esc key; unknown sequences are dropped.
std::vector<KeyEvent> decode_keys(const std::string& bytes);

struct Size {
  int width = 80, height = 24;
};

// Visible width of a frame line (ANSI sequences excluded).
size_t visible_width(const std::string& line);

// The bytes that draw `lines` over a screen of `height` rows: every line at its
// own row (absolute positioning, so nothing scrolls), the rest cleared.
std::string frame_bytes(const std::vector<std::string>& lines, const Size& size);

class Terminal {
 public:
  // Fails (with a clear message) when stdin or stdout is not a terminal.
  static core::Result<std::unique_ptr<Terminal>> open();
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  Size size() const;
  // Waits up to timeout_ms for keys or a resize (resized is set); returns the keys.
  // The terminal going away (EOF on stdin) yields Key::kEof.
  std::vector<KeyEvent> wait(int timeout_ms, bool& resized);
  void draw(const std::vector<std::string>& lines);
  // Leaves the alternate screen and restores the saved modes (idempotent).
  void restore();

 private:
  Terminal() = default;
};

}  // namespace netshoot::applet::monitor::term

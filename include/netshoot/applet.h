// What every applet receives from the multi-call driver.
#pragma once

#include <string>

namespace netshoot {

namespace core { class Output; }

struct Context {
  std::string applet;      // canonical applet name, e.g. "trace"
  std::string invoked_as;  // the name it was called by, e.g. "mtr" or "traceroute"
  std::string netns;       // --netns TARGET as given (already entered when non-empty)
  bool json = false;       // --json
  int verbose = 0;         // --verbose (applets add their own -v counting)
  bool quiet = false;      // --quiet
};

// Every applet exposes `int netshoot::applet::NAME::run(Context&, int argc, char** argv)`:
// argv[0] is the name it was invoked by; global options are already removed.
using AppletRun = int (*)(Context&, int, char**);

// Exit codes used where no familiar tool dictates others.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

}  // namespace netshoot

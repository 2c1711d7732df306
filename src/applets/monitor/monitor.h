// monitor: the two live views behind one applet. `monitor [containers]` / ctop shows
// per-container CPU, memory, network and I/O; `monitor flows` / iftop shows bandwidth
// by host pair from captured packets.
#pragma once

#include "netshoot/applet.h"

namespace netshoot::applet::monitor {

// argv[0] is the name the view was invoked by ("ctop", "iftop", "monitor containers", ...).
int run_containers(Context& ctx, int argc, char** argv);
int run_flows(Context& ctx, int argc, char** argv);

}  // namespace netshoot::applet::monitor

// perf: one test (client or server side) over the iperf3 control protocol.
#pragma once

#include <cstdio>
#include <string>

#include "options.h"

namespace netshoot::applet::perf {

// Runs the client; returns the exit code (0 ok, 1 error as iperf3).
int run_client(const Options& o);
// Runs the server until -1 is done or a signal ends it.
int run_server(const Options& o);

}  // namespace netshoot::applet::perf

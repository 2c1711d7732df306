// perf / iperf3: throughput tests over iperf3's control protocol, so that either end
// may be the real iperf3 (3.12 observed on the wire). Text and -J output follow
// iperf3's.
#include <cstdio>

#include "engine.h"
#include "iperf2.h"
#include "netshoot/applet.h"
#include "options.h"

namespace netshoot::applet::perf {

int run(Context& ctx, int argc, char** argv) {
  // called as `iperf`: iperf 2's command line and output (iperf2.cpp)
  if (ctx.invoked_as == "iperf") return iperf2::run(argc, argv);
  auto o = parse_options(argc, argv);
  if (!o) {
    std::fprintf(stderr, "iperf3: %s\n\n%s", o.error().message().c_str(), usage().c_str());
    return 1;
  }
  if (o->help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (o->version) {
    std::printf("netshoot perf %s (iperf 3.12 protocol compatible)\n", NETSHOOT_VERSION);
    return 0;
  }
  if (ctx.json) o->json = true;
  return o->server ? run_server(*o) : run_client(*o);
}

}  // namespace netshoot::applet::perf

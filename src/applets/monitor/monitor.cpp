// monitor / ctop / iftop: picks the view by the name it was called by, or by the
// first word after `monitor` (containers is the default view).
#include "monitor.h"

#include <cstring>

namespace netshoot::applet::monitor {

int run(Context& ctx, int argc, char** argv) {
  if (ctx.invoked_as == "iftop") return run_flows(ctx, argc, argv);
  if (ctx.invoked_as == "ctop") return run_containers(ctx, argc, argv);
  if (argc > 1 && (std::strcmp(argv[1], "flows") == 0 || std::strcmp(argv[1], "containers") == 0)) {
    bool flows = std::strcmp(argv[1], "flows") == 0;
    return flows ? run_flows(ctx, argc - 1, argv + 1) : run_containers(ctx, argc - 1, argv + 1);
  }
  return run_containers(ctx, argc, argv);
}

}  // namespace netshoot::applet::monitor

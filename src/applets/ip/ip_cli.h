// ip: the parts of the ip applet shared between its files.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "applets/ip/ip_format.h"
#include "netshoot/applet.h"

namespace netshoot::applet::ip {

struct Options {
  int family = AF_UNSPEC;
  bool brief = false;
  bool json = false;     // -j: iproute2's JSON array
  bool pretty = false;
  int stats = 0;
  bool details = false;
  bool oneline = false;
};

// Each prints its object; `out` is the --json sink (one object per line) or null.
int run_addr(const Options& o, const std::vector<std::string_view>& args, core::Output* out, bool link_cmd);
int run_route_cmd(const Options& o, const std::vector<std::string_view>& args, core::Output* out);
int run_neigh(const Options& o, const std::vector<std::string_view>& args, core::Output* out);
int run_rule(const Options& o, const std::vector<std::string_view>& args, core::Output* out);

int run_ifconfig(Context& ctx, int argc, char** argv);
int run_route(Context& ctx, int argc, char** argv);

void print_json(const Json& arr, const Options& o);
std::string oneline(std::string s);

// Names of every link in the current netns.
Names link_names(const std::vector<core::Link>& links);

}  // namespace netshoot::applet::ip

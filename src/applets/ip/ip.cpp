// ip: read-only iproute2 `ip` for 3 a.m.: addr, link, route (show/get), neigh, rule,
// netns list; -4/-6, -br, -j (iproute2's JSON), -s, -d, -o, -n NETNS. Also the entry
// point for the ifconfig and route aliases (ifconfig.cpp).
#include <dirent.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "applets/ip/ip_cli.h"
#include "netshoot/applet.h"
#include "netshoot/log.h"
#include "netshoot/netns.h"

namespace netshoot::applet::ip {
namespace {

constexpr const char* kUsage =
    "Usage: ip [OPTIONS] OBJECT [COMMAND [ARGS]]\n"
    "  OBJECT  := link | addr | route | neigh | rule | netns\n"
    "  OPTIONS := -4 | -6 | -br[ief] | -j[son] | -p[retty] | -s[tats] | -d[etails] | -o[neline]\n"
    "             -n[etns] NAME\n\n"
    "  ip [-br] addr show [dev IFNAME] [up]\n"
    "  ip [-br] [-s] link show [dev IFNAME] [up] [master BRIDGE]\n"
    "  ip route show [table main|local|all|ID] [dev IFNAME] [PREFIX]\n"
    "  ip route get ADDRESS [from ADDRESS] [iif IFNAME] [oif IFNAME] [mark MARK] [fibmatch]\n"
    "  ip neigh show [dev IFNAME] [ADDRESS]\n"
    "  ip rule show\n"
    "  ip netns list\n\n"
    "Read-only: changing state (add, del, set, flush) is left to the real iproute2.\n"
    "Examples:\n"
    "  ip -br a            ip -j route | jq .      ip -n web route get 10.0.0.1\n";

bool matches(std::string_view arg, std::string_view full, size_t min_len = 1) {
  return arg.size() >= min_len && arg.size() <= full.size() && full.substr(0, arg.size()) == arg;
}

int run_netns_list(const Options& o, core::Output* out) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir("/run/netns")) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  Json arr = Json::array();
  std::string text;
  for (const auto& n : names) {
    int fd = ::open(("/run/netns/" + n).c_str(), O_RDONLY | O_CLOEXEC);
    int id = -1;
    if (fd >= 0) {
      if (auto r = core::netns_id(fd)) id = *r;
      ::close(fd);
    }
    Json j{{"name", n}};
    if (id >= 0) j["id"] = id;
    if (out) out->record("netns", j, "");
    arr.push_back(j);
    text += n;
    if (id >= 0) text += " (id: " + std::to_string(id) + ")";
    text += "\n";
  }
  if (out) return kExitOk;
  if (o.json) print_json(arr, o);
  else std::fputs(text.c_str(), stdout);
  return kExitOk;
}

}  // namespace

void print_json(const Json& arr, const Options& o) {
  std::string s = o.pretty ? arr.dump(4) : arr.dump();
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), stdout);
}

std::string oneline(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) out += c == '\n' ? '\\' : c;
  return out;
}

int run(Context& ctx, int argc, char** argv) {
  std::string_view self = argv[0];
  if (size_t sl = self.rfind('/'); sl != std::string_view::npos) self.remove_prefix(sl + 1);
  if (self == "ifconfig") return run_ifconfig(ctx, argc, argv);
  if (self == "route") return run_route(ctx, argc, argv);

  Options o;
  std::string netns;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.size() < 2 || a[0] != '-') break;
    if (a.rfind("--", 0) == 0) a.remove_prefix(1);
    if (a == "-4") o.family = AF_INET;
    else if (a == "-6") o.family = AF_INET6;
    else if (a == "-0") o.family = AF_PACKET;
    else if (a == "-h" || a == "-help") { std::fputs(kUsage, stdout); return kExitOk; }
    else if (matches(a, "-brief", 3)) o.brief = true;
    else if (matches(a, "-json", 2)) o.json = true;
    else if (matches(a, "-pretty", 2)) o.pretty = true;
    else if (matches(a, "-stats", 2) || matches(a, "-statistics", 3)) ++o.stats;
    else if (matches(a, "-details", 2)) o.details = true;
    else if (matches(a, "-oneline", 2)) o.oneline = true;
    else if (matches(a, "-color", 2) || matches(a, "-resolve", 2)) {}  // accepted, no effect
    else if (a == "-n" || matches(a, "-netns", 3)) {
      if (i + 1 >= argc) { std::fprintf(stderr, "Option \"%s\" requires an argument\n", argv[i]); return kExitUsage; }
      netns = argv[++i];
    } else {
      std::fprintf(stderr, "Option \"%s\" is unknown, try \"ip -help\".\n", argv[i]);
      return kExitUsage;
    }
  }
  if (i >= argc) { std::fputs(kUsage, stderr); return kExitUsage; }
  std::unique_ptr<core::Output> out;
  if (ctx.json) out = core::Output::make(true);

  if (!netns.empty()) {
    auto target = core::resolve_ns_target(netns, "net");
    if (!target) {
      std::fprintf(stderr, "Cannot open network namespace \"%s\": %s\n", netns.c_str(),
                   target.error().message().c_str());
      return kExitFailure;
    }
    if (auto st = core::enter_netns(*target); !st) {
      std::fprintf(stderr, "setting the network namespace \"%s\" failed: %s\n", netns.c_str(),
                   st.error().message().c_str());
      return kExitFailure;
    }
  }

  std::string_view obj = argv[i++];
  std::vector<std::string_view> args(argv + i, argv + argc);
  int rc;
  if (matches(obj, "address") || obj == "addr") rc = run_addr(o, args, out.get(), false);
  else if (matches(obj, "link")) rc = run_addr(o, args, out.get(), true);
  else if (matches(obj, "route")) rc = run_route_cmd(o, args, out.get());
  else if (matches(obj, "neighbour") || matches(obj, "neighbor", 2)) rc = run_neigh(o, args, out.get());
  else if (matches(obj, "rule", 2)) rc = run_rule(o, args, out.get());
  else if (matches(obj, "netns", 3)) {
    if (!args.empty() && !(args[0] == "list" || args[0] == "ls" || args[0] == "show")) {
      std::fprintf(stderr, "ip netns %.*s: not supported (read-only; use the real iproute2)\n",
                   static_cast<int>(args[0].size()), args[0].data());
      return kExitUsage;
    }
    rc = run_netns_list(o, out.get());
  } else if (obj == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  } else {
    std::fprintf(stderr, "Object \"%.*s\" is unknown, try \"ip help\".\n", static_cast<int>(obj.size()), obj.data());
    return kExitUsage;
  }
  if (out) out->flush();
  std::fflush(stdout);
  return rc;
}

}  // namespace netshoot::applet::ip

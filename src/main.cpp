// The multi-call driver: dispatch on argv[0] or on the first argument, strip the
// global options, enter the target network namespace, run the applet.
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "netshoot/applet.h"
#include "netshoot/caps.h"
#include "netshoot/log.h"
#include "netshoot/netns.h"

#define APPLET_OWN_GLOBALS 1

// Declarations of every applet's entry point.
#define APPLET(name, aliases, flags, summary) \
  namespace netshoot::applet::name { int run(Context&, int, char**); }
#include "applets/applets.def"
#undef APPLET

namespace netshoot {
namespace {

struct AppletInfo {
  std::string_view name;
  std::string_view aliases;  // space separated
  int flags;
  std::string_view summary;
  AppletRun run;
};

constexpr AppletInfo kApplets[] = {
#define APPLET(name, aliases, flags, summary) {#name, aliases, flags, summary, &applet::name::run},
#include "applets/applets.def"
#undef APPLET
};

std::vector<std::string_view> split_aliases(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t sp = s.find(' ');
    std::string_view tok = s.substr(0, sp);
    if (!tok.empty()) out.push_back(tok);
    if (sp == std::string_view::npos) break;
    s.remove_prefix(sp + 1);
  }
  return out;
}

const AppletInfo* find_applet(std::string_view name) {
  for (const auto& a : kApplets) {
    if (a.name == name) return &a;
    for (auto alias : split_aliases(a.aliases))
      if (alias == name) return &a;
  }
  return nullptr;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string_view closest_name(std::string_view name) {
  std::string_view best;
  size_t best_d = 3;  // suggest only near misses
  auto consider = [&](std::string_view cand) {
    size_t d = edit_distance(name, cand);
    if (d < best_d || (cand.rfind(name, 0) == 0 && best.empty())) best_d = d, best = cand;
  };
  for (const auto& a : kApplets) {
    consider(a.name);
    for (auto alias : split_aliases(a.aliases)) consider(alias);
  }
  return best;
}

void print_list() {
  std::printf("netshoot %s: a network troubleshooting toolbox in one static binary\n\n", NETSHOOT_VERSION);
  std::printf("Usage: netshoot APPLET [--netns TARGET] [--json] [ARGS...]\n"
              "   or: APPLET [ARGS...]          (through a symlink, see --install)\n\n"
              "Applets:\n");
  for (const auto& a : kApplets) {
    std::string names(a.name);
    for (auto alias : split_aliases(a.aliases))
      if (alias != a.name) names += ", " + std::string(alias);
    std::printf("  %-24s %.*s\n", names.c_str(), static_cast<int>(a.summary.size()), a.summary.data());
  }
  std::printf("\nGlobal options (every applet):\n"
              "  --netns TARGET   run inside a network namespace: a netns file path\n"
              "                   (/run/netns/NAME, /var/run/docker/netns/ID), a PID,\n"
              "                   or a container name or ID (Docker Engine API / podman socket)\n"
              "  --json           one JSON object per line instead of text\n"
              "  --verbose, --quiet\n\n"
              "  netshoot --install [-s] [--force] DIR   create a symlink per applet name in DIR\n"
              "  netshoot APPLET --help                  usage and examples\n");
}

// The running binary: /proc/self/exe, or argv[0] when /proc is not mounted (a bare chroot).
std::string self_exe(const char* argv0) {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    return buf;
  }
  if (argv0 && std::strchr(argv0, '/') && ::realpath(argv0, buf) != nullptr) return buf;
  return {};
}

int install_links(const char* argv0, int argc, char** argv) {
  bool force = false;
  std::string dir;
  for (int i = 0; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "-s") continue;  // symlinks are the only kind we make (busybox: -s)
    if (a == "--force" || a == "-f") {
      force = true;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "netshoot: --install: unknown option '%s'\n", argv[i]);
      return kExitUsage;
    } else if (dir.empty()) {
      dir = a;
    } else {
      std::fprintf(stderr, "netshoot: --install takes one directory\n");
      return kExitUsage;
    }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "netshoot: usage: netshoot --install [-s] [--force] DIR\n");
    return kExitUsage;
  }
  std::string exe = self_exe(argv0);
  if (exe.empty()) {
    std::fprintf(stderr, "netshoot: --install: cannot find the binary (/proc/self/exe: %s)\n", std::strerror(errno));
    return kExitFailure;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    std::fprintf(stderr, "netshoot: --install: %s: not a directory\n", dir.c_str());
    return kExitFailure;
  }
  // Links made next to the binary point to its bare name, so the directory can be
  // copied elsewhere (an image build stage) and the links still resolve.
  std::string target = exe;
  {
    char real_dir[4096];
    if (::realpath(dir.c_str(), real_dir) != nullptr) {
      size_t slash = exe.rfind('/');
      if (slash != std::string::npos && exe.substr(0, slash) == real_dir) target = exe.substr(slash + 1);
    }
  }
  int made = 0, kept = 0, failed = 0;
  auto link_one = [&](std::string_view name) {
    std::string path = dir + "/" + std::string(name);
    if (path == exe || name == "netshoot") return;  // never replace ourselves
    char cur[4096];
    ssize_t n = ::readlink(path.c_str(), cur, sizeof cur - 1);
    if (n > 0) {
      cur[n] = '\0';
      if (target == cur || exe == cur) { ++kept; return; }
    }
    struct stat lst {};
    if (::lstat(path.c_str(), &lst) == 0) {
      if (!force) {
        std::fprintf(stderr, "netshoot: --install: %s exists (use --force to replace it)\n", path.c_str());
        ++failed;
        return;
      }
      if (::unlink(path.c_str()) != 0) {
        std::fprintf(stderr, "netshoot: --install: unlink %s: %s\n", path.c_str(), std::strerror(errno));
        ++failed;
        return;
      }
    }
    if (::symlink(target.c_str(), path.c_str()) != 0) {
      std::fprintf(stderr, "netshoot: --install: symlink %s: %s\n", path.c_str(), std::strerror(errno));
      ++failed;
      return;
    }
    ++made;
  };
  for (const auto& a : kApplets) {
    link_one(a.name);
    for (auto alias : split_aliases(a.aliases))
      if (alias != a.name) link_one(alias);
  }
  std::fprintf(stderr, "netshoot: %d links created, %d already in place, %d failed in %s\n", made, kept,
               failed, dir.c_str());
  return failed ? kExitFailure : kExitOk;
}

// Removes --netns/--json/--verbose/--quiet (before any "--") and fills ctx.
bool strip_globals(Context& ctx, std::vector<char*>& args) {
  std::vector<char*> out{args[0]};
  bool passthrough = false;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (passthrough) { out.push_back(args[i]); continue; }
    if (a == "--") { passthrough = true; out.push_back(args[i]); continue; }
    if (a == "--netns") {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "%s: --netns needs a TARGET (netns path, PID or container)\n", ctx.invoked_as.c_str());
        return false;
      }
      ctx.netns = args[++i];
    } else if (a.rfind("--netns=", 0) == 0) {
      ctx.netns = std::string(a.substr(8));
    } else if (a == "--json") {
      ctx.json = true;
    } else if (a == "--verbose") {
      ++ctx.verbose;
    } else if (a == "--quiet") {
      ctx.quiet = true;
    } else {
      out.push_back(args[i]);
    }
  }
  args = std::move(out);
  return true;
}

int run_applet(const AppletInfo& info, std::string_view invoked, int argc, char** argv) {
  Context ctx;
  ctx.applet = std::string(info.name);
  ctx.invoked_as = std::string(invoked);
  std::vector<char*> args(argv, argv + argc);
  if (!(info.flags & APPLET_OWN_GLOBALS)) {
    if (!strip_globals(ctx, args)) return kExitUsage;
  }
  core::init_logging(ctx.invoked_as, ctx.verbose, ctx.quiet);
  // File capabilities "+p" (the image's non-root user): make them effective.
  core::raise_permitted_capabilities({CAP_NET_RAW, CAP_NET_ADMIN});
  if (!ctx.netns.empty()) {
    auto target = core::resolve_ns_target(ctx.netns, "net");
    if (!target) {
      spdlog::error("--netns {}: {}", ctx.netns, target.error().message());
      return kExitFailure;
    }
    if (auto st = core::enter_netns(*target); !st) {
      spdlog::error("--netns {}: {}", ctx.netns, st.error().message());
      return kExitFailure;
    }
  }
  args.push_back(nullptr);
  return info.run(ctx, static_cast<int>(args.size()) - 1, args.data());
}

bool is_global_option(std::string_view a) {
  return a == "--json" || a == "--verbose" || a == "--quiet" || a == "--netns" || a.rfind("--netns=", 0) == 0;
}

int multicall_main(int argc, char** argv) {
  // Global options may also come before the applet name: `netshoot --netns web ping x`.
  // Move them behind the applet name, where every applet's driver looks for them.
  std::vector<char*> reordered;
  if (argc >= 2 && is_global_option(argv[1])) {
    std::vector<char*> globals;
    int i = 1;
    while (i < argc && is_global_option(argv[i])) {
      globals.push_back(argv[i]);
      if (std::string_view(argv[i]) == "--netns" && i + 1 < argc) globals.push_back(argv[++i]);
      ++i;
    }
    if (i < argc) {
      reordered.push_back(argv[0]);
      reordered.push_back(argv[i]);
      reordered.insert(reordered.end(), globals.begin(), globals.end());
      reordered.insert(reordered.end(), argv + i + 1, argv + argc);
      argc = static_cast<int>(reordered.size());
      reordered.push_back(nullptr);
      argv = reordered.data();
    }
  }
  if (argc < 2) {
    print_list();
    return kExitOk;
  }
  std::string_view cmd = argv[1];
  if (cmd == "--list" || cmd == "-l" || cmd == "list") {
    print_list();
    return kExitOk;
  }
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    if (cmd == "help" && argc > 2) {
      if (const AppletInfo* a = find_applet(argv[2])) {
        char help[] = "--help";
        char* av[] = {argv[2], help, nullptr};
        return run_applet(*a, argv[2], 2, av);
      }
    }
    print_list();
    return kExitOk;
  }
  if (cmd == "--version" || cmd == "-V" || cmd == "version") {
    std::printf("netshoot %s\n", NETSHOOT_VERSION);
    return kExitOk;
  }
  if (cmd == "--install") return install_links(argv[0], argc - 2, argv + 2);
  if (const AppletInfo* a = find_applet(cmd)) return run_applet(*a, cmd, argc - 1, argv + 1);
  if (!cmd.empty() && cmd[0] == '-') {
    std::fprintf(stderr, "netshoot: unknown option '%s' (see netshoot --help)\n", argv[1]);
    return kExitUsage;
  }
  std::string_view near = closest_name(cmd);
  if (!near.empty())
    std::fprintf(stderr, "netshoot: unknown applet '%s'; did you mean '%.*s'?\n", argv[1],
                 static_cast<int>(near.size()), near.data());
  else
    std::fprintf(stderr, "netshoot: unknown applet '%s' (netshoot --list shows them)\n", argv[1]);
  return kExitUsage;
}

}  // namespace
}  // namespace netshoot

int main(int argc, char** argv) {
  std::string_view self = argc > 0 && argv[0] ? argv[0] : "netshoot";
  if (size_t slash = self.rfind('/'); slash != std::string_view::npos) self.remove_prefix(slash + 1);
  if (self != "netshoot") {
    if (const auto* a = netshoot::find_applet(self)) return netshoot::run_applet(*a, self, argc, argv);
  }
  return netshoot::multicall_main(argc, argv);
}

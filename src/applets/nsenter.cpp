// nsenter: run a program in the namespaces of another process, of namespace files,
// or of a container. Option syntax and behaviour follow util-linux nsenter(1): an
// optional FILE/DIR is only taken when attached (--net=FILE, -nFILE), option
// parsing stops at the command, -p forks so that the command is in the new PID
// namespace, and the exit status is the command's (128+N for signal N, 127 when
// it cannot be found). netshoot adds --container NAME and --netns TARGET.
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "netshoot/applet.h"
#include "netshoot/docker.h"
#include "netshoot/log.h"
#include "netshoot/netns.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace netshoot::applet::nsenter {
namespace {

using core::NetnsTarget;

constexpr int kExitNotFound = 127;
constexpr int kExitNotExecutable = 126;

// setns order: the user namespace first (it may grant the rights for the others),
// the mount namespace late (it changes what paths mean), as util-linux does.
// Failed joins are retried after the others, so either order of user/other works.
constexpr const char* kOrder[] = {"user", "cgroup", "ipc", "uts", "net", "pid", "mnt", "time"};

struct NsWant {
  bool wanted = false;
  std::optional<std::string> file;  // set: this file; unset: the target's /proc/PID/ns/<kind>
};

struct Options {
  int target_pid = 0;
  NsWant ns[std::size(kOrder)];
  bool all = false;
  bool root = false;
  std::optional<std::string> root_dir;
  bool wd = false;
  std::optional<std::string> wd_dir;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  bool no_fork = false;
  bool preserve_credentials = false;
  std::string container;
  std::string netns;  // --netns TARGET
  std::vector<char*> command;
};

int kind_index(std::string_view kind) {
  for (size_t i = 0; i < std::size(kOrder); ++i)
    if (kind == kOrder[i]) return static_cast<int>(i);
  return -1;
}

void usage(std::FILE* f, const char* prog) {
  std::fprintf(f,
      "Usage: %s [options] [COMMAND [ARGS...]]\n"
      "\n"
      "Run COMMAND ($SHELL or /bin/sh when omitted) in the namespaces of another process,\n"
      "of namespace files, or of a container. util-linux compatible: an optional FILE or\n"
      "DIR is only taken when attached (--net=FILE, -nFILE); -n alone means the target's.\n"
      "\n"
      "Options:\n"
      "  -t, --target PID           target process for namespaces, root and working dir\n"
      "  -a, --all                  enter all namespaces of the target (those not ours)\n"
      "  -m, --mount[=FILE]         enter the mount namespace\n"
      "  -u, --uts[=FILE]           enter the UTS namespace (hostname)\n"
      "  -i, --ipc[=FILE]           enter the IPC namespace\n"
      "  -n, --net[=FILE]           enter the network namespace\n"
      "  -p, --pid[=FILE]           enter the PID namespace (forks, see -F)\n"
      "  -C, --cgroup[=FILE]        enter the cgroup namespace\n"
      "  -U, --user[=FILE]          enter the user namespace (sets uid/gid 0, see -S/-G)\n"
      "  -T, --time[=FILE]          enter the time namespace\n"
      "  -S, --setuid UID           set the uid in the entered namespaces\n"
      "  -G, --setgid GID           set the gid in the entered namespaces\n"
      "      --preserve-credentials do not change uid/gid after entering a user namespace\n"
      "  -r, --root[=DIR]           set the root directory (default: the target's)\n"
      "  -w, --wd[=DIR]             set the working directory (default: the target's)\n"
      "  -F, --no-fork              do not fork before running COMMAND\n"
      "      --container NAME       target a container by name or ID (Docker Engine API or\n"
      "                             podman socket; DOCKER_HOST=unix://PATH); enters its\n"
      "                             network namespace unless other namespaces are chosen\n"
      "      --netns TARGET         enter the network namespace of TARGET: a netns file, a\n"
      "                             PID, a /run/netns name or a container\n"
      "  -h, --help                 this help\n"
      "  -V, --version              version\n"
      "\n"
      "Examples:\n"
      "  nsenter --net=/var/run/docker/netns/1-9tp0f348do sh   a shell in a docker netns\n"
      "  nsenter --net=/run/netns/blue ip -o addr              addresses in 'ip netns' blue\n"
      "  nsenter -t 4242 -n ss -tlnp                           listeners of PID 4242's netns\n"
      "  nsenter -t 4242 -a ps aux                             all of PID 4242's namespaces\n"
      "  nsenter --container web ip route                      routes seen by container web\n"
      "  nsenter --container web -m -u -n hostname             its hostname, from its own files\n"
      "  nsenter --netns blue -- tcpdump -ni any               capture inside netns blue\n"
      "\n"
      "Exit status: COMMAND's, 128+N when it died of signal N, 127 when not found,\n"
      "126 when not executable, 1 when nsenter itself fails.\n",
      prog);
}

bool parse_id(const char* s, unsigned long& out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > 0xfffffffeUL) return false;
  out = v;
  return true;
}

// Returns -1 to continue, else an exit code.
int parse_args(int argc, char** argv, Options& o) {
  enum { kOptPreserve = 1000, kOptContainer, kOptNetns };
  static const option kLong[] = {
      {"help", no_argument, nullptr, 'h'},
      {"version", no_argument, nullptr, 'V'},
      {"all", no_argument, nullptr, 'a'},
      {"target", required_argument, nullptr, 't'},
      {"mount", optional_argument, nullptr, 'm'},
      {"uts", optional_argument, nullptr, 'u'},
      {"ipc", optional_argument, nullptr, 'i'},
      {"net", optional_argument, nullptr, 'n'},
      {"pid", optional_argument, nullptr, 'p'},
      {"user", optional_argument, nullptr, 'U'},
      {"cgroup", optional_argument, nullptr, 'C'},
      {"time", optional_argument, nullptr, 'T'},
      {"setuid", required_argument, nullptr, 'S'},
      {"setgid", required_argument, nullptr, 'G'},
      {"root", optional_argument, nullptr, 'r'},
      {"wd", optional_argument, nullptr, 'w'},
      {"no-fork", no_argument, nullptr, 'F'},
      {"preserve-credentials", no_argument, nullptr, kOptPreserve},
      {"container", required_argument, nullptr, kOptContainer},
      {"netns", required_argument, nullptr, kOptNetns},
      {nullptr, 0, nullptr, 0},
  };
  // '+': stop at the first non-option, the command, whose flags are its own.
  static const char kShort[] = "+:hVat:m::u::i::n::p::U::C::T::S:G:r::w::F";
  const char* prog = argv[0];
  optind = 0;  // full reset of getopt's state (we may run more than once in tests)
  opterr = 0;
  auto want = [&](const char* kind) {
    NsWant& w = o.ns[kind_index(kind)];
    w.wanted = true;
    if (optarg) w.file = optarg;
  };
  for (;;) {
    int c = getopt_long(argc, argv, kShort, kLong, nullptr);
    if (c == -1) break;
    switch (c) {
      case 'h': usage(stdout, prog); return kExitOk;
      case 'V': std::printf("nsenter from netshoot %s\n", NETSHOOT_VERSION); return kExitOk;
      case 'a': o.all = true; break;
      case 't': {
        unsigned long v;
        if (!parse_id(optarg, v) || v == 0 || v > 0x3fffffff) {
          spdlog::error("invalid target PID '{}'", optarg);
          return kExitFailure;
        }
        o.target_pid = static_cast<int>(v);
        break;
      }
      case 'm': want("mnt"); break;
      case 'u': want("uts"); break;
      case 'i': want("ipc"); break;
      case 'n': want("net"); break;
      case 'p': want("pid"); break;
      case 'U': want("user"); break;
      case 'C': want("cgroup"); break;
      case 'T': want("time"); break;
      case 'S': {
        unsigned long v;
        if (!parse_id(optarg, v)) { spdlog::error("invalid uid '{}'", optarg); return kExitFailure; }
        o.uid = static_cast<uid_t>(v);
        break;
      }
      case 'G': {
        unsigned long v;
        if (!parse_id(optarg, v)) { spdlog::error("invalid gid '{}'", optarg); return kExitFailure; }
        o.gid = static_cast<gid_t>(v);
        break;
      }
      case 'r': o.root = true; if (optarg) o.root_dir = optarg; break;
      case 'w': o.wd = true; if (optarg) o.wd_dir = optarg; break;
      case 'F': o.no_fork = true; break;
      case kOptPreserve: o.preserve_credentials = true; break;
      case kOptContainer: o.container = optarg; break;
      case kOptNetns: o.netns = optarg; break;
      case ':':
        spdlog::error("option '{}' requires an argument", argv[optind - 1]);
        std::fprintf(stderr, "Try '%s --help' for more information.\n", prog);
        return kExitFailure;
      case '?':
      default:
        if (optopt) spdlog::error("invalid option -- '{}'", static_cast<char>(optopt));
        else spdlog::error("unrecognized option '{}'", argv[optind - 1]);
        std::fprintf(stderr, "Try '%s --help' for more information.\n", prog);
        return kExitFailure;
    }
  }
  for (int i = optind; i < argc; ++i) o.command.push_back(argv[i]);
  return -1;
}

struct Entry {
  const char* kind;
  int flag;
  NetnsTarget target;
};

bool same_ns(const char* kind, int fd) {
  struct stat a {}, b {};
  std::string self = std::string("/proc/self/ns/") + kind;
  return ::fstat(fd, &a) == 0 && ::stat(self.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
         a.st_dev == b.st_dev;
}

core::Result<core::UniqueFd> open_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return core::os_error("cannot open " + path);
  return core::UniqueFd(fd);
}

volatile sig_atomic_t g_child = 0;

void forward_signal(int sig) {
  if (g_child > 0) ::kill(g_child, sig);
}

[[noreturn]] void exec_command(std::vector<char*>& command) {
  std::string shell;
  if (command.empty()) {
    const char* s = std::getenv("SHELL");
    shell = s && *s ? s : "/bin/sh";
    command.push_back(shell.data());
  }
  command.push_back(nullptr);
  ::execvp(command[0], command.data());
  int e = errno;
  spdlog::error("failed to execute {}: {}", command[0], std::strerror(e));
  std::fflush(stderr);
  ::_exit(e == ENOENT ? kExitNotFound : kExitNotExecutable);
}

int wait_child(pid_t child) {
  g_child = child;
  struct sigaction ign {}, fwd {};
  ign.sa_handler = SIG_IGN;
  fwd.sa_handler = forward_signal;
  sigemptyset(&fwd.sa_mask);
  // The terminal sends ^C and ^\ to the child too; the parent just waits for it.
  ::sigaction(SIGINT, &ign, nullptr);
  ::sigaction(SIGQUIT, &ign, nullptr);
  ::sigaction(SIGTERM, &fwd, nullptr);
  ::sigaction(SIGHUP, &fwd, nullptr);
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(child, &status, 0);
    if (r == child) break;
    if (r < 0 && errno != EINTR) {
      spdlog::error("waitpid: {}", std::strerror(errno));
      return kExitFailure;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitFailure;
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  Options o;
  if (int rc = parse_args(argc, argv, o); rc >= 0) return rc;

  // --container: the target PID (and the SandboxKey for the network namespace).
  std::optional<core::ContainerInfo> container;
  if (!o.container.empty()) {
    auto client = core::DockerClient::connect();
    if (!client) {
      spdlog::error("--container {}: {}", o.container, client.error().message());
      return kExitFailure;
    }
    auto info = client->inspect(o.container);
    if (!info) {
      spdlog::error("{}", info.error().message());
      return kExitFailure;
    }
    if (!info->running || info->pid <= 0) {
      spdlog::error("container {} is not running{}", o.container,
                    info->state.empty() ? "" : " (" + info->state + ")");
      return kExitFailure;
    }
    if (o.target_pid && o.target_pid != info->pid) {
      spdlog::error("--container {} and --target {} name different processes", o.container, o.target_pid);
      return kExitFailure;
    }
    o.target_pid = info->pid;
    bool any = o.all;
    for (const auto& w : o.ns) any = any || w.wanted;
    if (!any) o.ns[kind_index("net")].wanted = true;  // netshoot's default: the network view
    container = std::move(*info);
  }

  // Open every namespace file before joining any: after setns(mnt) the paths
  // would mean something else.
  std::vector<Entry> entries;
  for (size_t i = 0; i < std::size(kOrder); ++i) {
    const char* kind = kOrder[i];
    const NsWant& w = o.ns[i];
    bool from_netns = std::string_view(kind) == "net" && !o.netns.empty() && !w.file;
    if (!w.wanted && !o.all && !from_netns) continue;
    core::Result<NetnsTarget> t = core::make_error("");
    if (w.file) {
      t = core::open_ns_file(*w.file, kind);
    } else if (from_netns) {
      t = core::resolve_ns_target(o.netns, "net");
      if (!t) {
        spdlog::error("--netns {}: {}", o.netns, t.error().message());
        return kExitFailure;
      }
    } else if (o.target_pid > 0) {
      std::string proc = "/proc/" + std::to_string(o.target_pid) + "/ns/" + kind;
      if (container && std::string_view(kind) == "net" && !container->netns_path.empty()) {
        t = core::open_ns_file(container->netns_path, kind);
        if (!t) t = core::open_ns_file(proc, kind, o.target_pid);
      } else {
        struct stat st {};
        // -a: skip kinds the kernel does not have (time before 5.6, cgroup before 4.6).
        if (o.all && !w.wanted && ::stat(("/proc/self/ns/" + std::string(kind)).c_str(), &st) != 0)
          continue;
        t = core::open_ns_file(proc, kind, o.target_pid);
      }
    } else {
      spdlog::error("neither filename nor target pid supplied for ns/{}", kind);
      return kExitFailure;
    }
    if (!t) {
      spdlog::error("{}", t.error().message());
      return kExitFailure;
    }
    // -a joins only namespaces that differ from ours (joining our own user
    // namespace is an error, the others would be no-ops).
    if (o.all && !w.wanted && !from_netns && same_ns(kind, t->fd.get())) continue;
    entries.push_back(Entry{kind, core::ns_clone_flag(kind), std::move(*t)});
  }

  core::UniqueFd root_fd, wd_fd;
  auto proc_dir = [&](const char* what) -> std::optional<std::string> {
    if (o.target_pid <= 0) {
      spdlog::error("neither filename nor target pid supplied for {}", what);
      return std::nullopt;
    }
    return "/proc/" + std::to_string(o.target_pid) + "/" + what;
  };
  if (o.root) {
    auto path = o.root_dir ? o.root_dir : proc_dir("root");
    if (!path) return kExitFailure;
    auto fd = open_dir(*path);
    if (!fd) { spdlog::error("{}", fd.error().message()); return kExitFailure; }
    root_fd = std::move(*fd);
  }
  if (o.wd) {
    auto path = o.wd_dir ? o.wd_dir : proc_dir("cwd");
    if (!path) return kExitFailure;
    auto fd = open_dir(*path);
    if (!fd) { spdlog::error("{}", fd.error().message()); return kExitFailure; }
    wd_fd = std::move(*fd);
  }

  // Join: passes over the remaining namespaces until all are joined or a pass
  // makes no progress (then the first failure is reported).
  bool entered_user = false, entered_pid = false;
  std::vector<Entry*> pending;
  for (auto& e : entries) pending.push_back(&e);
  while (!pending.empty()) {
    std::vector<Entry*> failed;
    int first_errno = 0;
    Entry* first = nullptr;
    for (Entry* e : pending) {
      if (::setns(e->target.fd.get(), e->flag) == 0) {
        if (e->flag == CLONE_NEWUSER) entered_user = true;
        if (e->flag == CLONE_NEWPID) entered_pid = true;
        spdlog::debug("joined ns/{} from {}", e->kind, e->target.path);
        continue;
      }
      if (!first) first = e, first_errno = errno;
      failed.push_back(e);
    }
    if (failed.size() == pending.size()) {
      errno = first_errno;
      auto err = core::os_error(std::string("reassociate to namespace 'ns/") + first->kind + "' failed",
                                "CAP_SYS_ADMIN");
      if (first_errno == EINVAL) err.hint = first->target.path + " is not a usable " + first->kind + " namespace";
      spdlog::error("{}", err.message());
      return kExitFailure;
    }
    pending = std::move(failed);
  }

  if (root_fd) {
    if (::fchdir(root_fd.get()) != 0 || ::chroot(".") != 0) {
      auto err = core::os_error("cannot change root directory", "CAP_SYS_CHROOT");
      spdlog::error("{}", err.message());
      return kExitFailure;
    }
  }
  if (wd_fd) {
    if (::fchdir(wd_fd.get()) != 0) {
      spdlog::error("cannot change directory: {}", std::strerror(errno));
      return kExitFailure;
    }
  } else if (root_fd) {
    if (::chdir("/") != 0) {
      spdlog::error("cannot change directory to /: {}", std::strerror(errno));
      return kExitFailure;
    }
  }
  root_fd.reset();
  wd_fd.reset();
  entries.clear();  // close the namespace fds before running the command

  // Credentials: a fresh user namespace makes us root in it unless told otherwise.
  std::optional<uid_t> uid = o.uid;
  std::optional<gid_t> gid = o.gid;
  if (entered_user && !o.preserve_credentials) {
    if (!uid) uid = 0;
    if (!gid) gid = 0;
  }
  if (gid) {
    if (::setgroups(0, nullptr) != 0 && errno != EPERM) {
      spdlog::error("setgroups: {}", std::strerror(errno));
      return kExitFailure;
    }
    if (::setgid(*gid) != 0) {
      auto err = core::os_error("setgid " + std::to_string(*gid), "CAP_SETGID");
      spdlog::error("{}", err.message());
      return kExitFailure;
    }
  }
  if (uid && ::setuid(*uid) != 0) {
    auto err = core::os_error("setuid " + std::to_string(*uid), "CAP_SETUID");
    spdlog::error("{}", err.message());
    return kExitFailure;
  }

  (void)ctx;
  // setns(CLONE_NEWPID) moves only our future children into the namespace.
  if (entered_pid && !o.no_fork) {
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t child = ::fork();
    if (child < 0) {
      spdlog::error("fork: {}", std::strerror(errno));
      return kExitFailure;
    }
    if (child == 0) exec_command(o.command);
    return wait_child(child);
  }
  exec_command(o.command);
}

}  // namespace netshoot::applet::nsenter

// ping / ping6 / fping: the applet's entry point. Picks the front end by the name
// it was invoked as, resolves the targets, and runs one of the two sessions.
#include <cstdio>

#include "netshoot/applet.h"
#include "netshoot/log.h"
#include "options.h"
#include "session.h"

namespace netshoot::applet::ping {

std::string ping_usage(const std::string& invoked) {
  return "Usage: " + invoked + " [options] DESTINATION\n"
         "ICMP echo (or TCP connect) probes, iputils-compatible.\n\n"
         "  -c COUNT      stop after COUNT probes          -i SECONDS   interval (default 1; < 0.2 needs root)\n"
         "  -W SECONDS    wait for a reply when none came  -w SECONDS   deadline: stop after SECONDS\n"
         "  -s SIZE       payload bytes (default 56)       -t TTL       time to live (1-255)\n"
         "  -I IFACE|ADDR interface or source address      -4 / -6      IPv4 / IPv6 only\n"
         "  -M do|dont|want|probe  path MTU discovery      -Q TOS       type of service / traffic class\n"
         "  -q            only the header and summary      -n           no reverse lookups of reply sources\n"
         "  -D            print UNIX timestamps            -O           report outstanding replies\n"
         "  -f            flood (root)                     -l PRELOAD   send PRELOAD probes at once\n"
         "  -v            verbose (says which socket kind is used)\n"
         "  --tcp PORT    TCP connect probes instead of ICMP: open / refused (RST) / timeout\n"
         "  --json        one JSON object per line        --netns NS   run in a namespace or container\n\n"
         "Sockets: a raw ICMP socket when CAP_NET_RAW is there, else an unprivileged ICMP datagram\n"
         "socket (net.ipv4.ping_group_range must include your group). RTTs use kernel receive times.\n\n"
         "Examples:\n"
         "  ping -c 3 10.0.1.4\n"
         "  ping -c 5 -i 0.2 -W 1 db.default.svc.cluster.local\n"
         "  ping -M do -s 1472 -c 1 10.0.0.1        # does a 1500-byte packet pass?\n"
         "  ping --tcp 443 -c 3 api.example.com      # where ICMP is filtered\n"
         "  netshoot --netns web ping --json -c 2 10.0.0.1\n\n"
         "Exit status: 0 replies received, 1 no reply (or fewer than -c by the -w deadline), 2 error.\n\n"
         "JSON (--json), one object per line:\n"
         "  {\"type\":\"start\",\"target\",\"addr\",\"bytes\",\"probe\":\"icmp|tcp\",\"socket\":\"raw|dgram|tcp\"}\n"
         "  {\"type\":\"reply\",\"target\",\"addr\",\"from\",\"seq\",\"bytes\",\"ttl\",\"rtt_ms\",\"dup\",\"time\"}"
         " (--tcp: \"state\":\"open|refused\")\n"
         "  {\"type\":\"error\",\"target\",\"addr\",\"from\",\"seq\",\"error\",\"icmp_type\",\"icmp_code\",\"time\"}\n"
         "  {\"type\":\"timeout\",\"target\",\"addr\",\"seq\"}\n"
         "  {\"type\":\"summary\",\"target\",\"addr\",\"transmitted\",\"received\",\"duplicates\",\"errors\",\n"
         "   \"loss_pct\",\"time_ms\",\"rtt_min_ms\",\"rtt_avg_ms\",\"rtt_max_ms\",\"rtt_mdev_ms\"} (rtt_* null without replies)\n";
}

std::string fping_usage() {
  return "Usage: fping [options] [targets...]\n"
         "Probe many hosts at once (fping-compatible): one socket, every target in flight.\n\n"
         "  -a            show alive targets only          -u           show unreachable targets only\n"
         "  -g            generate targets: fping -g 10.0.0.0/24, or fping -g 10.0.0.1 10.0.0.50\n"
         "  -c N          N probes per target, then xmt/rcv/%loss lines   -C N  same, per-probe times\n"
         "  -l            loop until interrupted           -p MS        period per target (default 1000)\n"
         "  -i MS         interval between any two sends (default 1; fping's is 10)\n"
         "  -t MS         first timeout (default 500)      -r N         retries (default 3)\n"
         "  -B F          timeout backoff factor (1.5)     -b BYTES     payload (default 56)\n"
         "  -e            show elapsed time on replies     -s           print statistics at the end\n"
         "  -q            no per-probe lines               -A / -d      show addresses / reverse names\n"
         "  -H TTL  -O TOS  -I IFACE  -M (don't fragment)  -4 / -6  -D (timestamps)\n"
         "  --tcp PORT    TCP connect probes instead of ICMP\n"
         "  --json        one JSON object per line (\"host\", \"reply\", \"error\", \"timeout\", \"summary\";\n"
         "                see ping --help for the fields; \"host\" has \"alive\" and \"rtt_ms\")\n\n"
         "An ICMP error for a target (e.g. the kernel's own \"host unreachable\" after ARP fails)\n"
         "ends its retries at once.\n\n"
         "Examples:\n"
         "  fping -a -g 10.0.1.0/24                  # which hosts are up\n"
         "  fping -c 3 -q h1 h2 h3                   # loss and RTT per host\n"
         "  fping -u -r 1 -t 200 10.0.0.1 10.0.0.2\n\n"
         "Exit status: 0 all alive, 1 some unreachable, 2 unknown host, 3 bad arguments, 4 system error.\n";
}

int run(Context& ctx, int argc, char** argv) {
  std::string invoked = ctx.invoked_as.empty() ? std::string(argv[0]) : ctx.invoked_as;
  if (auto slash = invoked.rfind('/'); slash != std::string::npos) invoked = invoked.substr(slash + 1);
  const bool fping = invoked == "fping";
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool root = running_as_root();
  ParseResult pr = fping ? parse_fping_args(args, root) : parse_ping_args(args, invoked, root);
  if (!pr.ok()) {
    spdlog::error("{}", pr.error->message);
    if (pr.error->message.find("option") != std::string::npos)
      std::fprintf(stderr, "Try '%s --help' for more information.\n", invoked.c_str());
    return pr.error->exit_code;
  }
  Options& o = pr.options;
  o.json = ctx.json;
  if (ctx.quiet) o.quiet = true;
  o.verbose += ctx.verbose;
  if (o.help) {
    std::fputs((fping ? fping_usage() : ping_usage(invoked)).c_str(), stdout);
    return 0;
  }
  if (o.version) {
    std::printf("%s from netshoot %s\n", invoked.c_str(), NETSHOOT_VERSION);
    return 0;
  }

  if (!fping) {
    ResolvedTarget t = resolve_target(o.targets[0], o.family);
    if (!t.error.empty()) {
      spdlog::error("{}", t.error);
      return 2;
    }
    return run_ping_session(ctx, o, t);
  }
  std::vector<ResolvedTarget> targets;
  targets.reserve(o.targets.size());
  for (const auto& name : o.targets) {
    targets.push_back(resolve_target(name, o.family));
    if (!targets.back().error.empty()) std::fprintf(stderr, "%s\n", targets.back().error.c_str());
  }
  return run_fping_session(ctx, o, std::move(targets));
}

}  // namespace netshoot::applet::ping

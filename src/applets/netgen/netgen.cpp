// netgen / hping3: the applet's entry point. `netgen craft ...` and the hping3
// name craft packets; everything else generates and receives message traffic.
#include <cstdio>
#include <string>
#include <vector>

#include "netgen.h"
#include "netshoot/applet.h"

namespace netshoot::applet::netgen {

volatile sig_atomic_t g_stop = 0;

namespace {
void on_stop_signal(int) { g_stop = 1; }
}  // namespace

StopSignals::StopSignals() {
  g_stop = 0;
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
  active_ = true;
}

void StopSignals::restore() {
  if (!active_) return;
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
  active_ = false;
}

std::string usage_netgen() {
  return "Usage: netgen [options] HOST PORT     send messages to every address of HOST and listen on PORT\n"
         "       netgen [options] -l PORT       listen only\n"
         "       netgen craft [options] HOST    hand-built packets, replies matched to probes (nping's flags)\n"
         "Traffic generator with a built-in listener: messages carry a sender id, a sequence number and\n"
         "the send time, so the listener reports per sender what was received, lost, duplicated and\n"
         "reordered, and the one-way delay (meaningful when both ends share a clock, e.g. one host).\n\n"
         "  -u, --udp           UDP messages (default)      -t, --tcp        one TCP stream per target\n"
         "  -i, --interval S    seconds between messages (default 10)\n"
         "  -r, --rate PPS      messages per second per target; 'max' (or --flood): as fast as possible\n"
         "  -c, --count N       stop sending after N messages per target\n"
         "  -s, --size BYTES    message size, 32-65507 (default 64; the first 32 bytes are the header)\n"
         "  --pattern TEXT|0xHEX  payload filler after the header (default \"netgen \")\n"
         "  -d, --duration S    stop after S seconds (else Ctrl-C; send-only runs end after --count)\n"
         "  --no-listen         send only                   -4 / -6          address family\n"
         "  -q                  statistics only             -v               a line per message at any rate\n"
         "  --json              one JSON object per line    --netns NS       run in a namespace or container\n\n"
         "Ctrl-C (or SIGTERM) prints the statistics so far. A name with several addresses (replicas of\n"
         "a service) gets traffic on each of them.\n\n"
         "Examples:\n"
         "  netgen c1 5000                       # the classic: listen on 5000, a message to c1 every 10 s\n"
         "  netgen srvc 5000                     # in each of 3 replicas: everyone hears everyone\n"
         "  netgen -l 5000 -q                    # a receiver; Ctrl-C for loss/reordering/delay per sender\n"
         "  netgen --no-listen -r 10000 -c 50000 10.0.0.2 5000\n"
         "  netgen craft --tcp -p 80 --flags SA --ttl 3 -c 1 10.0.0.2\n\n"
         "craft options (nping-style):\n"
         "  --tcp | --udp | --icmp | --raw [PROTO]   mode (default TCP)   -6   IPv6\n"
         "  -p, --dest-port N   -g, --source-port N   -S, --source-ip ADDR (spoofed source)\n"
         "  --flags F          TCP flags: letters FSRPAUEC (SA) or names (syn,ack)\n"
         "  --seq N  --ack N  --win N   TCP fields     --ttl N  --tos N  --id N  --df  --mf  --frag-off BYTES\n"
         "  --data HEX  --data-string TEXT  --data-length N  --data-file PATH       payload\n"
         "  -c, --count N (default 5)  --rate PPS | --delay S[ms]  --flood   -q   -v\n\n"
         "Exit status: 0 ok, 1 nothing sent (traffic) or no reply (craft), 2 bad usage or setup error.\n\n"
         "JSON (--json), one object per line, \"type\" first:\n"
         "  traffic: listening{port,protocol}  sending{target,addresses,port,protocol,size,sender,interval_s,\n"
         "    rate_pps,count}  sent{target,address,port,seq,sent}  received{from,port,sender,seq,bytes,\n"
         "    delay_ms,duplicate,reordered}  send_error{target,address,port,error}\n"
         "    sender_summary{target,address,port,protocol,sent,errors,refused,bytes,seconds,pps}\n"
         "    receiver_summary{from,port,sender,received,lost,loss_pct,duplicated,reordered,first_seq,\n"
         "    last_seq,bytes,pps,delay_min_ms,delay_avg_ms,delay_max_ms}\n"
         "  craft/hping3: start{target,address,source,interface,mode,header_bytes,data_bytes,flags}\n"
         "    probe{seq,time_s,src,dst,protocol,bytes,ttl,ip_id,...}  reply{seq,from,len,ttl,ip_id,df,\n"
         "    protocol,sport,dport,flags,tcp_seq,tcp_ack,win | icmp_type,icmp_code,error, rtt_ms}\n"
         "    summary{target,address,transmitted,received,loss_pct,bytes_sent,bytes_received,seconds,pps,\n"
         "    rtt_min_ms,rtt_avg_ms,rtt_max_ms}\n";
}

std::string usage_hping() {
  return "Usage: hping3 [options] HOST\n"
         "hping3-compatible packet crafter: TCP (default), -2 UDP, -1 ICMP, -0 raw IP; replies matched to\n"
         "probes, hping3's reply lines, and its statistics on stderr at the end (or on Ctrl-C).\n\n"
         "  -c COUNT   packets to send (default: until Ctrl-C)   -i uN / N   interval: N microseconds / seconds\n"
         "  --fast (10/s)  --faster  --flood (as fast as possible, no replies shown)\n"
         "  -p PORT    destination port     -s PORT  base source port (+1 per packet)   -k  keep it\n"
         "  -F -S -R -P -A -U -X -Y   TCP flags FIN SYN RST PUSH ACK URG ECE(X) CWR(Y)\n"
         "  -M SEQ  -L ACK  -w WIN   TCP sequence, acknowledgment, window (default 64)\n"
         "  -a ADDR    spoofed source       -t TTL   -o TOS (hex)   -N ID   -y DF   -x MF   -g FRAGOFF\n"
         "  -d SIZE    data bytes           -E FILE  data from a file   -H PROTO  raw IP protocol (-0)\n"
         "  -6         IPv6 (an extension) -V       verbose (seq/ack of TCP replies)   -q  quiet\n"
         "  --json     one JSON object per line (see netgen --help)\n\n"
         "Examples:\n"
         "  hping3 -S -p 80 -c 3 10.0.0.2          # SYN: open ports answer SA, closed ones RA\n"
         "  hping3 -2 -p 53 -c 1 10.0.0.2          # UDP: ICMP port unreachable when closed\n"
         "  hping3 -1 --flood 10.0.0.2              # ICMP echo as fast as possible\n";
}

std::string usage_nping() {
  return "Usage: nping [--tcp | --udp | --icmp | --tcp-connect] [options] HOST\n"
         "nping-compatible probes (TCP, UDP, ICMP echo, TCP connect; the default is ICMP echo, as for nping run\n"
         "as root):\n"
         "nping's SENT/RCVD lines, replies matched to probes, and its statistics at the end (or on Ctrl-C).\n\n"
         "  -p, --dest-port SPEC   ports: 80 | 80,443 | 1-1024 (probes go round-robin; TCP default 80, UDP 40125)\n"
         "  -g, --source-port N    source port (default random; UDP 53)   -S, --source-ip ADDR (spoofed source)\n"
         "  --flags F              TCP flags: syn,ack | SA | all | none (default SYN)\n"
         "  --seq N  --ack N  --win N               TCP fields (win default 1480)\n"
         "  --ttl N (--hop-limit)  --tos N (--traffic-class)  --id N  --df  --mf   IP fields\n"
         "  --data HEX  --data-string TEXT  --data-length N                        payload\n"
         "  -c, --count N          rounds (default 5; 0 = until Ctrl-C); a round probes every port once\n"
         "  --delay TIME           between probes: 1 (s), 0.5, 200ms, 2s, 1m (default 1s)   --rate N  probes/s\n"
         "  -H, --hide-sent        no SENT lines         -N, --no-capture   send only, no replies\n"
         "  -e, --interface NAME   send (and listen) on this interface   -6, --ipv6   IPv6\n"
         "  -q  statistics only    -v  accepted (more detail is not implemented)   --json (see netgen --help)\n"
         "  --tcp-connect          unprivileged: one connect() per probe (-p, -g, -S, --ttl, -e, -c, --delay)\n"
         "Not supported: --arp, --traceroute, echo client/server, --icmp-type and friends, -v's detail.\n\n"
         "Examples:\n"
         "  nping --tcp -p 80,443 --flags syn -c 3 10.0.0.2   # open ports answer SA, closed ones RA\n"
         "  nping --udp -p 53 10.0.0.2                         # closed: ICMP Port unreachable\n"
         "  nping --icmp --delay 200ms -c 10 10.0.0.2\n"
         "Exit status: 0 probes sent (replies or not, like nping), 2 bad usage or setup error.\n";
}

int run(Context& ctx, int argc, char** argv) {
  std::string invoked = ctx.invoked_as.empty() ? (argc > 0 ? argv[0] : "netgen") : ctx.invoked_as;
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  bool help = false;
  if (invoked == "hping3" || invoked == "hping") {
    auto o = parse_hping(args, help);
    if (help) {
      std::fputs(usage_hping().c_str(), stdout);
      return kExitOk;
    }
    if (!o) {
      std::fprintf(stderr, "hping3: %s\n", o.error().message().c_str());
      return kExitUsage;
    }
    CraftOptions c = *o;
    if (ctx.quiet) c.quiet = true;
    c.verbose += ctx.verbose;
    return run_craft(ctx, c);
  }
  if (invoked == "nping") {
    auto o = parse_nping(args, help);
    if (help) {
      if (o && o->verbose == -1) std::fputs("\nNping version 0.7.93 (netshoot's nping-compatible prober)\n", stdout);
      else std::fputs(usage_nping().c_str(), stdout);
      return kExitOk;
    }
    if (!o) {
      std::fprintf(stderr, "nping: %s\n", o.error().message().c_str());
      return kExitUsage;
    }
    CraftOptions c = *o;
    if (ctx.quiet) c.quiet = true;
    c.verbose += ctx.verbose;
    return c.tcp_connect ? run_connect(ctx, c) : run_craft(ctx, c);
  }
  if (!args.empty() && args[0] == "craft") {
    args.erase(args.begin());
    auto o = parse_craft(args, help);
    if (help) {
      std::fputs(usage_netgen().c_str(), stdout);
      return kExitOk;
    }
    if (!o) {
      std::fprintf(stderr, "netgen: %s\n", o.error().message().c_str());
      return kExitUsage;
    }
    CraftOptions c = *o;
    if (ctx.quiet) c.quiet = true;
    c.verbose += ctx.verbose;
    return run_craft(ctx, c);
  }
  auto o = parse_traffic(args, help);
  if (help) {
    std::fputs(usage_netgen().c_str(), stdout);
    return kExitOk;
  }
  if (!o) {
    std::fprintf(stderr, "netgen: %s\n", o.error().message().c_str());
    return kExitUsage;
  }
  TrafficOptions t = *o;
  if (ctx.quiet) t.quiet = true;
  if (ctx.verbose) t.verbose = true;
  return run_traffic(ctx, t);
}

}  // namespace netshoot::applet::netgen

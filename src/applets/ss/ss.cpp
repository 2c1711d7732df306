// ss: iproute2's ss through sock_diag: -t -u -w -x -l -a -n -p -e -i -4 -6 -s -H,
// state/port/address filters, -N NETNS, and --all-netns (every namespace of the
// host, labelled with its container). netstat is the other front end (netstat.cpp).
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "applets/ss/ss.h"
#include "netshoot/log.h"
#include "netshoot/netns.h"
#include "netshoot/output.h"

namespace netshoot::applet::ss {
namespace {

using core::Json;
using core::state_bit;
using core::TcpState;

constexpr const char* kUsage =
    "Usage: ss [-tuwxlanpeis46H] [-N NETNS] [--all-netns] [FILTER]\n"
    "  -t tcp  -u udp  -w raw  -x unix   -l listening  -a all   -n numeric ports\n"
    "  -p processes  -e uid/inode  -i tcp info  -s summary  -H no header  -4/-6\n"
    "  -N NETNS      run in a named netns (or any --netns TARGET)\n"
    "  --all-netns   sockets of every network namespace, labelled with its container\n"
    "  FILTER := [state STATE]... [exclude STATE]... [EXPR]\n"
    "  EXPR   := sport|dport OP :PORT | src|dst ADDR[/LEN][:PORT] | not EXPR | EXPR and|or EXPR | ( EXPR )\n"
    "Examples:\n"
    "  ss -tulpna       ss -tn state established '( dport = :443 or sport = :80 )'\n"
    "  ss -s            ss --all-netns -tlnp\n";

struct Options {
  bool tcp = false, udp = false, raw = false, unix_ = false;
  bool listening = false, all = false, numeric = false, procs = false, ext = false, info = false;
  bool summary = false, no_header = false, v4 = false, v6 = false, all_netns = false;
  bool json = false;  // --json: build the JSON objects (skipped for text: 40k rows)
  std::string netns;
  std::vector<std::string> filter_args;
};

const uint32_t kAllStates = 0x1ffe;
const uint32_t kConnStates = kAllStates & ~(state_bit(TcpState::listen) | state_bit(TcpState::close) |
                                            state_bit(TcpState::time_wait) | state_bit(TcpState::syn_recv));

struct Row {
  std::string netns, netid, state;
  uint32_t rq = 0, wq = 0;
  std::string lhost, lport, phost, pport, process;
  std::string extra;  // -i second line
  Json json;
};

std::string tcp_info_line(const core::InetSocket& s) {
  if (!s.tcp_info) return {};
  const auto& t = *s.tcp_info;
  std::string l = "\t ";
  if (!s.congestion.empty()) l += s.congestion + " ";
  l += fmt::format("rto:{:g} rtt:{:g}/{:g} mss:{} rcvmss:{} cwnd:{}", t.rto_us / 1000.0, t.rtt_us / 1000.0,
                   t.rttvar_us / 1000.0, t.snd_mss, t.rcv_mss, t.snd_cwnd);
  if (t.snd_ssthresh < 0xffff) l += fmt::format(" ssthresh:{}", t.snd_ssthresh);
  if (t.bytes_acked) l += fmt::format(" bytes_acked:{}", t.bytes_acked);
  if (t.bytes_received) l += fmt::format(" bytes_received:{}", t.bytes_received);
  if (t.unacked) l += fmt::format(" unacked:{}", t.unacked);
  if (t.total_retrans) l += fmt::format(" retrans:{}/{}", t.retransmits, t.total_retrans);
  if (t.lost) l += fmt::format(" lost:{}", t.lost);
  if (t.delivery_rate) l += fmt::format(" delivery_rate:{}bps", t.delivery_rate * 8);
  return l;
}

// The sockets of the current netns, as rows.
core::Status collect(const Options& o, const Filter& f, uint32_t states, const ProcMap& procs,
                     const HostNetns* ns, std::vector<Row>& rows, std::vector<Row>& unix_rows) {
  bool v4 = o.v4 || !o.v6, v6 = o.v6 || !o.v4;
  std::map<int, std::string> devs;
  auto dev_name = [&](int idx) -> std::string {
    if (idx == 0) return {};
    auto it = devs.find(idx);
    if (it != devs.end()) return it->second;
    auto l = core::link_by_index(idx);
    return devs[idx] = l ? l->name : std::to_string(idx);
  };
  if (o.unix_) {
    auto us = core::dump_unix_sockets(states);
    if (!us) return us.error();
    for (const auto& u : *us) {
      if (!(states & (1u << u.state))) continue;
      if (f.expr) continue;  // port/address expressions select inet sockets only
      Row r;
      r.netns = ns ? ns->label : "";
      r.netid = u.type == SOCK_STREAM ? "u_str" : u.type == SOCK_DGRAM ? "u_dgr" : "u_seq";
      r.state = core::socket_state_name(u.state);
      r.rq = u.rqueue;
      r.wq = u.wqueue;
      r.lhost = u.path.empty() ? "*" : u.path;
      r.lport = std::to_string(u.inode);
      r.phost = "*";
      r.pport = std::to_string(u.peer_inode);
      if (o.procs) r.process = users_column(procs, u.inode);
      r.json = Json{{"netid", r.netid}, {"state", r.state}, {"recv_q", r.rq}, {"send_q", r.wq},
                    {"local", u.path}, {"inode", u.inode}, {"peer_inode", u.peer_inode}};
      unix_rows.push_back(std::move(r));
    }
  }
  struct Proto { bool on; int proto; const char* name; };
  const Proto protos[] = {{o.raw, IPPROTO_RAW, "raw"}, {o.udp, IPPROTO_UDP, "udp"}, {o.tcp, IPPROTO_TCP, "tcp"}};
  for (const auto& p : protos) {
    if (!p.on) continue;
    auto socks = dump_inet(p.proto, v4, v6, states, o.info);
    if (!socks) return socks.error();
    for (const auto& s : *socks) {
      SockView v{s.state, s.local, s.remote, s.local_port, s.remote_port};
      if (!f.match(v)) continue;
      if (!(states & (1u << s.state))) continue;
      Row r;
      r.netns = ns ? ns->label : "";
      r.netid = p.name;
      r.state = core::socket_state_name(s.state);
      r.rq = s.rqueue;
      r.wq = s.wqueue;
      bool udp = p.proto == IPPROTO_UDP;
      std::tie(r.lhost, r.lport) = ss_endpoint(s.local, s.local_port, dev_name(s.ifindex), o.numeric, udp);
      std::tie(r.phost, r.pport) = ss_endpoint(s.remote, s.remote_port, "", o.numeric, udp);
      Json pj = Json::array();
      if (o.procs) {
        r.process = users_column(procs, s.inode);
        auto [b, e] = procs.equal_range(s.inode);
        for (auto it = b; it != e; ++it)
          pj.push_back(Json{{"name", it->second.comm}, {"pid", it->second.pid}, {"fd", it->second.fd}});
      }
      if (o.ext) {
        if (!r.process.empty()) r.process += " ";
        r.process += fmt::format("uid:{} ino:{} sk:{:x}", s.uid, s.inode, s.cookie);
      }
      if (o.info) r.extra = tcp_info_line(s);
      if (o.json) {
        r.json = Json{{"netid", r.netid}, {"state", r.state}, {"recv_q", r.rq}, {"send_q", r.wq},
                      {"local", s.local.to_string()}, {"local_port", s.local_port},
                      {"peer", s.remote.to_string()}, {"peer_port", s.remote_port}};
        if (s.ifindex) r.json["dev"] = dev_name(s.ifindex);
        if (o.procs) r.json["process"] = pj;
        r.json["uid"] = s.uid;
        r.json["inode"] = s.inode;
      }
      rows.push_back(std::move(r));
    }
  }
  return {};
}

// /proc/net/sockstat{,6}: "TCP: inuse 3 orphan 0 tw 0 alloc 26 mem 31".
std::map<std::string, std::map<std::string, long>> read_sockstat() {
  std::map<std::string, std::map<std::string, long>> m;
  for (const char* path : {"/proc/net/sockstat", "/proc/net/sockstat6"}) {
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
      std::istringstream ls(line);
      std::string proto, key;
      long v;
      ls >> proto;
      if (!proto.empty() && proto.back() == ':') proto.pop_back();
      while (ls >> key >> v) m[proto][key] = v;
    }
  }
  return m;
}

int print_summary(const Options& o, core::Output& out) {
  auto st = read_sockstat();
  auto estab = dump_inet(IPPROTO_TCP, true, true, state_bit(TcpState::established));
  size_t n_estab = estab ? estab->size() : 0;
  long tcp_alloc = st["TCP"]["alloc"], tw = st["TCP"]["tw"];
  long tcp4 = st["TCP"]["inuse"], tcp6 = st["TCP6"]["inuse"];
  long udp4 = st["UDP"]["inuse"], udp6 = st["UDP6"]["inuse"];
  long raw4 = st["RAW"]["inuse"], raw6 = st["RAW6"]["inuse"];
  long frag4 = st["FRAG"]["inuse"], frag6 = st["FRAG6"]["inuse"];
  long closed = tcp_alloc - (tcp4 + tcp6 - tw);
  (void)o;
  std::string t = fmt::format("Total: {}\n", st["sockets"]["used"]);
  t += fmt::format("TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})\n\n", tcp_alloc, n_estab, closed,
                   st["TCP"]["orphan"], tw);
  t += "Transport Total     IP        IPv6\n";
  auto row = [&](const char* name, long a, long b) {
    t += fmt::format("{}\t  {:<9} {:<9} {:<9}\n", name, a + b, a, b);
  };
  row("RAW", raw4, raw6);
  row("UDP", udp4, udp6);
  row("TCP", tcp4 - tw, tcp6);
  row("INET", raw4 + udp4 + tcp4 - tw, raw6 + udp6 + tcp6);
  row("FRAG", frag4, frag6);
  Json j{{"total", st["sockets"]["used"]},
         {"tcp", Json{{"total", tcp_alloc}, {"estab", n_estab}, {"closed", closed}, {"orphaned", st["TCP"]["orphan"]},
                      {"timewait", tw}}},
         {"raw", Json{{"ip", raw4}, {"ipv6", raw6}}}, {"udp", Json{{"ip", udp4}, {"ipv6", udp6}}},
         {"tcp_inuse", Json{{"ip", tcp4 - tw}, {"ipv6", tcp6}}}, {"frag", Json{{"ip", frag4}, {"ipv6", frag6}}}};
  t.pop_back();
  out.record("summary", j, t + "\n");
  return kExitOk;
}

void print_rows(const Options& o, bool show_state, bool show_netid, std::vector<Row>& rows, bool unix_block,
                core::Output& out, bool header) {
  if (out.json()) {
    for (auto& r : rows) {
      if (o.all_netns) r.json["netns"] = r.netns;
      out.record("socket", r.json, "");
    }
    return;
  }
  std::vector<std::vector<std::string>> table;
  std::string align;
  if (o.all_netns) align += 'l';
  if (show_netid) align += 'l';
  if (show_state) align += 'l';
  align += unix_block ? "llrlrll" : "llRlRll";
  auto push = [&](std::vector<std::string> cells) { table.push_back(std::move(cells)); };
  if (header) {
    std::vector<std::string> h;
    if (o.all_netns) h.emplace_back("Netns");
    if (show_netid) h.emplace_back("Netid");
    if (show_state) h.emplace_back("State");
    for (const char* c : {"Recv-Q", "Send-Q", "Local Address", "Port", "Peer Address", "Port", "Process"})
      h.emplace_back(c);
    if (unix_block) h[h.size() - 5] = "Local Address:Port", h[h.size() - 4] = "", h[h.size() - 3] = "Peer Address:Port", h[h.size() - 2] = "";
    push(std::move(h));
  }
  for (auto& r : rows) {
    std::vector<std::string> c;
    if (o.all_netns) c.push_back(r.netns);
    if (show_netid) c.push_back(r.netid);
    if (show_state) c.push_back(r.state);
    c.push_back(std::to_string(r.rq));
    c.push_back(std::to_string(r.wq));
    c.push_back(std::move(r.lhost));
    c.push_back(std::move(r.lport));
    c.push_back(std::move(r.phost));
    c.push_back(std::move(r.pport));
    c.push_back(std::move(r.process));
    push(std::move(c));
  }
  std::string text = render_table(table, align);
  if (o.info) {  // second lines go under their rows
    std::string with;
    size_t pos = 0, i = header ? 0 : 0;
    size_t row = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      with.append(text, pos, nl - pos + 1);
      if (!(header && i == 0) && row < rows.size() && !rows[row].extra.empty()) with += rows[row].extra + "\n";
      if (!(header && i == 0)) ++row;
      ++i;
      pos = nl + 1;
    }
    text = std::move(with);
  }
  out.raw(text);
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  std::string_view self = argv[0];
  if (size_t sl = self.rfind('/'); sl != std::string_view::npos) self.remove_prefix(sl + 1);
  if (self == "netstat") return run_netstat(ctx, argc, argv);

  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--all-netns") o.all_netns = true;
    else if (a == "-N" || a == "--net") {
      if (i + 1 >= argc) { std::fprintf(stderr, "ss: %s needs a namespace name\n", argv[i]); return kExitUsage; }
      o.netns = argv[++i];
    } else if (a.rfind("--net=", 0) == 0) o.netns = std::string(a.substr(6));
    else if (a == "-h" || a == "--help") { std::fputs(kUsage, stdout); return kExitOk; }
    else if (a == "--tcp") o.tcp = true;
    else if (a == "--udp") o.udp = true;
    else if (a == "--listening") o.listening = true;
    else if (a == "--all") o.all = true;
    else if (a == "--numeric") o.numeric = true;
    else if (a == "--processes") o.procs = true;
    else if (a == "--summary") o.summary = true;
    else if (a == "--no-header") o.no_header = true;
    else if (a.size() > 1 && a[0] == '-' && a[1] != '-') {
      for (char c : a.substr(1)) {
        switch (c) {
          case 't': o.tcp = true; break;
          case 'u': o.udp = true; break;
          case 'w': o.raw = true; break;
          case 'x': o.unix_ = true; break;
          case 'l': o.listening = true; break;
          case 'a': o.all = true; break;
          case 'n': o.numeric = true; break;
          case 'p': o.procs = true; break;
          case 'e': o.ext = true; break;
          case 'i': o.info = true; break;
          case 's': o.summary = true; break;
          case 'H': o.no_header = true; break;
          case '4': o.v4 = true; break;
          case '6': o.v6 = true; break;
          case 'r': case 'o': case 'm': break;  // accepted, no effect
          default:
            std::fprintf(stderr, "ss: invalid option -- '%c'\n%s", c, kUsage);
            return kExitUsage;
        }
      }
    } else if (a.rfind("--", 0) == 0) {
      std::fprintf(stderr, "ss: unrecognized option '%s'\n", argv[i]);
      return kExitUsage;
    } else {
      o.filter_args.emplace_back(a);
    }
  }
  o.json = ctx.json;
  auto filter = parse_filter(o.filter_args);
  if (!filter) {
    std::fprintf(stderr, "%s\n", filter.error().message().c_str());
    return kExitUsage;
  }
  if (!o.tcp && !o.udp && !o.raw && !o.unix_) {
    o.tcp = o.udp = true;
    o.raw = true;
    if (!o.v4 && !o.v6 && !filter->expr) o.unix_ = true;
  }
  uint32_t states = filter->states ? filter->states
                    : o.all        ? kAllStates
                    : o.listening  ? (state_bit(TcpState::listen) | state_bit(TcpState::close))
                                   : kConnStates;
  if (!o.netns.empty()) {
    auto t = core::resolve_ns_target(o.netns, "net");
    if (!t) { std::fprintf(stderr, "ss: %s\n", t.error().message().c_str()); return kExitFailure; }
    if (auto st = core::enter_netns(*t); !st) {
      std::fprintf(stderr, "ss: %s\n", st.error().message().c_str());
      return kExitFailure;
    }
  }
  auto out = core::Output::make(ctx.json);
  out->set_batch(true);
  if (o.summary) {
    int rc = print_summary(o, *out);
    out->flush();
    return rc;
  }
  ProcMap procs;
  if (o.procs) procs = scan_processes();
  std::vector<Row> rows, unix_rows;
  if (o.all_netns) {
    for (const auto& ns : host_namespaces()) {
      auto t = core::open_ns_file(ns.path, "net");
      if (!t) { spdlog::debug("{}: {}", ns.path, t.error().message()); continue; }
      auto guard = core::NetnsGuard::enter(*t);
      if (!guard) { spdlog::warn("{}: {}", ns.label, guard.error().message()); continue; }
      if (auto st = collect(o, *filter, states, procs, &ns, rows, unix_rows); !st)
        spdlog::warn("{}: {}", ns.label, st.error().message());
    }
  } else if (auto st = collect(o, *filter, states, procs, nullptr, rows, unix_rows); !st) {
    std::fprintf(stderr, "ss: %s\n", st.error().message().c_str());
    return kExitFailure;
  }
  int kinds = o.tcp + o.udp + o.raw + o.unix_;
  bool show_netid = kinds > 1;
  bool show_state = __builtin_popcount(states) != 1;
  bool header = !o.no_header;
  if (!unix_rows.empty() || (o.unix_ && rows.empty())) {
    print_rows(o, show_state, show_netid, unix_rows, true, *out, header);
    header = false;
  }
  if (!rows.empty() || header) print_rows(o, show_state, show_netid, rows, false, *out, header);
  out->flush();
  return kExitOk;
}

}  // namespace netshoot::applet::ss

// ss: iproute2's ss through sock_diag: -t -u -w -x -l -a -n -p -e -i -4 -6 -s -H,
// state/port/address filters, -N NETNS, and --all-netns (every namespace of the
// host, labelled with its container). netstat is the other front end (netstat.cpp).
#include <linux/inet_diag.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
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
  bool json = false;  // --json: JSON objects per socket (text rows go to a Table instead)
  std::string netns;
  std::vector<std::string> filter_args;
};

const uint32_t kAllStates = 0x1ffe;
const uint32_t kConnStates = kAllStates & ~(state_bit(TcpState::listen) | state_bit(TcpState::close) |
                                            state_bit(TcpState::time_wait) | state_bit(TcpState::syn_recv));

// Where collect() puts the sockets: text rows (unix first, as ss prints them), or
// JSON objects.
struct Sink {
  Table unix_rows, inet_rows;
  std::vector<Json> unix_json, inet_json;
  bool show_netns = false, show_netid = false, show_state = false;
};

// ss's columns: [Netns] [Netid] [State] Recv-Q Send-Q Local Address:Port Peer Address:Port Process.
// Addresses are right-aligned and glued to their port by ':' (unix sockets: ' ');
// the peer's port runs straight into Process, whose cells start with a space.
Table make_table(const Sink& k) {
  std::vector<Table::Column> cols;
  for (bool on : {k.show_netns, k.show_netid, k.show_state})
    if (on) cols.push_back({});
  cols.push_back({false, ' ', ' ', 6});  // Recv-Q
  cols.push_back({false, ' ', ' ', 6});  // Send-Q
  cols.push_back({true, ':', ' ', 0});   // Local Address
  cols.push_back({false, ' ', ' ', 0});  // Port
  cols.push_back({true, ':', ' ', 0});   // Peer Address
  cols.push_back({false, '\0', '\0', 0});  // Port
  cols.push_back({});                    // Process
  return Table(std::move(cols));
}

void add_header(Table& t, const Sink& k) {
  t.row();
  if (k.show_netns) t.cell("Netns");
  if (k.show_netid) t.cell("Netid");
  if (k.show_state) t.cell("State");
  for (const char* c : {"Recv-Q", "Send-Q", "Local Address", "Port", "Peer Address", "Port", "Process"}) t.cell(c);
}

// Decimal into buf (>= 24 bytes).
std::string_view dec(char* buf, uint64_t v) {
  return {buf, static_cast<size_t>(std::to_chars(buf, buf + 24, v).ptr - buf)};
}

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

// The sockets of the current netns, into the sink.
core::Status collect(const Options& o, const Filter& f, uint32_t states, const ProcMap& procs,
                     const HostNetns* ns, Sink& k) {
  bool v4 = o.v4 || !o.v6, v6 = o.v6 || !o.v4;
  std::map<int, std::string> devs;
  auto dev_name = [&](int idx) -> const std::string& {
    static const std::string none;
    if (idx == 0) return none;
    auto it = devs.find(idx);
    if (it != devs.end()) return it->second;
    auto l = core::link_by_index(idx);
    return devs[idx] = l ? l->name : std::to_string(idx);
  };
  const std::string label = ns ? ns->label : "";
  std::string process;
  char b1[128], b2[128];
  if (o.unix_) {
    auto us = core::dump_unix_sockets(states);
    if (!us) return us.error();
    for (const auto& u : *us) {
      if (!(states & (1u << u.state))) continue;
      if (f.expr) continue;  // port/address expressions select inet sockets only
      const char* netid = u.type == SOCK_STREAM ? "u_str" : u.type == SOCK_DGRAM ? "u_dgr" : "u_seq";
      std::string state = core::socket_state_name(u.state);
      if (o.json) {
        Json j{{"netid", netid}, {"state", state}, {"recv_q", u.rqueue}, {"send_q", u.wqueue},
               {"local", u.path}, {"inode", u.inode}, {"peer_inode", u.peer_inode}};
        if (o.all_netns) j["netns"] = label;
        k.unix_json.push_back(std::move(j));
        continue;
      }
      Table& t = k.unix_rows;
      t.row(true);
      if (k.show_netns) t.cell(label);
      if (k.show_netid) t.cell(netid);
      if (k.show_state) t.cell(state);
      t.cell(dec(b1, u.rqueue));
      t.cell(dec(b2, u.wqueue));
      t.cell(u.path.empty() ? "*" : u.path);
      t.cell(dec(b1, u.inode));
      t.cell("*");
      t.cell(dec(b2, u.peer_inode));
      process.clear();
      if (o.procs) {
        if (std::string users = users_column(procs, u.inode); !users.empty()) process = " " + users;
      }
      t.cell(process);
    }
  }
  struct Proto { bool on; int proto; const char* name; };
  const Proto protos[] = {{o.raw, IPPROTO_RAW, "raw"}, {o.udp, IPPROTO_UDP, "udp"}, {o.tcp, IPPROTO_TCP, "tcp"}};
  for (const auto& p : protos) {
    if (!p.on) continue;
    const bool udp = p.proto == IPPROTO_UDP;
    // v6 sockets go to these while a TCP dump brings both families at once.
    Table* rows6 = &k.inet_rows;
    std::vector<Json>* json6 = &k.inet_json;
    auto on_socket = [&](const core::InetSocket& s) {
      if (!(states & (1u << s.state))) return;
      if (f.expr && !f.match(SockView{s.state, s.local, s.remote, s.local_port, s.remote_port})) return;
      if (o.json) {
        Json j{{"netid", p.name}, {"state", core::socket_state_name(s.state)}, {"recv_q", s.rqueue},
               {"send_q", s.wqueue}, {"local", s.local.to_string()}, {"local_port", s.local_port},
               {"peer", s.remote.to_string()}, {"peer_port", s.remote_port}};
        if (s.ifindex) j["dev"] = dev_name(s.ifindex);
        if (o.procs) {
          Json pj = Json::array();
          auto [b, e] = procs.equal_range(s.inode);
          for (auto it = b; it != e; ++it)
            pj.push_back(Json{{"name", it->second.comm}, {"pid", it->second.pid}, {"fd", it->second.fd}});
          j["process"] = std::move(pj);
        }
        j["uid"] = s.uid;
        j["inode"] = s.inode;
        if (o.all_netns) j["netns"] = label;
        (s.family == AF_INET6 ? *json6 : k.inet_json).push_back(std::move(j));
        return;
      }
      Table& t = s.family == AF_INET6 ? *rows6 : k.inet_rows;
      t.row();
      if (k.show_netns) t.cell(label);
      if (k.show_netid) t.cell(p.name);
      if (k.show_state) t.cell(core::socket_state_name(s.state));
      t.cell(dec(b1, s.rqueue));
      t.cell(dec(b2, s.wqueue));
      t.cell({b1, ss_host(b1, s.local, dev_name(s.ifindex), s.v6only)});
      t.cell({b2, ss_port(b2, s.local_port, o.numeric, udp)});
      t.cell({b1, ss_host(b1, s.remote, {}, s.v6only)});
      t.cell({b2, ss_port(b2, s.remote_port, o.numeric, udp)});
      process.clear();
      if (o.procs) {
        if (std::string users = users_column(procs, s.inode); !users.empty()) process = " " + users;
      }
      if (o.ext) process += fmt::format(" uid:{} ino:{} sk:{:x}", s.uid, s.inode, s.cookie);
      t.cell(process);
      if (o.info) {
        if (std::string l = tcp_info_line(s); !l.empty()) t.note(l);
      }
    };
    // One dump; on EINTR (the table changed under it) drop its rows and redo it.
    auto dump = [&](int family) -> core::Status {
      for (int attempt = 0;; ++attempt) {
        auto mark = k.inet_rows.mark(), mark6 = rows6->mark();
        size_t njson = k.inet_json.size(), njson6 = json6->size();
        auto st = core::for_each_inet_socket(family, p.proto, states, o.info, on_socket);
        if (st) return st;
        k.inet_rows.rollback(mark);
        rows6->rollback(mark6);
        k.inet_json.resize(njson);
        json6->resize(njson6);
        if (st.error().code != EINTR || attempt >= 3) return st;
      }
    };
    if (p.proto == IPPROTO_TCP && v4 && v6) {
      // Both families in one walk of the kernel's table (a whole walk saved), the v6
      // rows set aside so the listing keeps ss's order: all IPv4, then all IPv6.
      Table tmp6 = make_table(k);
      std::vector<Json> tmp_json6;
      rows6 = &tmp6;
      json6 = &tmp_json6;
      auto st = dump(AF_UNSPEC);
      rows6 = &k.inet_rows;
      json6 = &k.inet_json;
      if (st) {
        k.inet_rows.append(tmp6);
        for (auto& j : tmp_json6) k.inet_json.push_back(std::move(j));
        continue;
      }
      spdlog::debug("ss: TCPDIAG_GETSOCK: {}; one dump per family", st.error().message());
    }
    for (int family : {AF_INET, AF_INET6}) {
      if ((family == AF_INET && !v4) || (family == AF_INET6 && !v6)) continue;
      auto st = dump(family);
      if (!st && !(p.proto == IPPROTO_RAW && st.error().code == ENOENT)) return st.error();  // ENOENT: no raw_diag
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
  int kinds = o.tcp + o.udp + o.raw + (o.unix_ ? 2 : 0);  // u_str, u_dgr, u_seq
  Sink k{Table({}), Table({}), {}, {}, o.all_netns, kinds > 1, __builtin_popcount(states) != 1};
  k.unix_rows = make_table(k);
  k.inet_rows = make_table(k);
  if (!o.no_header) add_header(k.unix_rows, k);
  if (o.all_netns) {
    for (const auto& ns : host_namespaces()) {
      auto t = core::open_ns_file(ns.path, "net");
      if (!t) { spdlog::debug("{}: {}", ns.path, t.error().message()); continue; }
      auto guard = core::NetnsGuard::enter(*t);
      if (!guard) { spdlog::warn("{}: {}", ns.label, guard.error().message()); continue; }
      if (auto st = collect(o, *filter, states, procs, &ns, k); !st)
        spdlog::warn("{}: {}", ns.label, st.error().message());
    }
  } else if (auto st = collect(o, *filter, states, procs, nullptr, k); !st) {
    std::fprintf(stderr, "ss: %s\n", st.error().message().c_str());
    return kExitFailure;
  }
  if (out->json()) {
    for (const auto* v : {&k.unix_json, &k.inet_json})
      for (const auto& j : *v) out->record("socket", j, "");
  } else {
    Table::render({&k.unix_rows, &k.inet_rows}, [&](std::string_view chunk) { out->raw(chunk); });
  }
  out->flush();
  return kExitOk;
}

}  // namespace netshoot::applet::ss

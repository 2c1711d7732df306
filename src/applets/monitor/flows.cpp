// monitor flows / iftop: bandwidth by host pair from captured packets. Opens a live
// capture, feeds every frame to a FlowTable, and every 2 s (iftop's resolution)
// prints a report (-t, --json) or redraws the live view. Host names come from a
// worker thread, so the capture loop never waits for DNS.
#include <ifaddrs.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "flows_names.h"
#include "flows_options.h"
#include "flows_report.h"
#include "flows_screen.h"
#include "flows_table.h"
#include "monitor.h"
#include "netshoot/addr.h"
#include "netshoot/output.h"
#include "netshoot/pcap.h"
#include "netshoot/pcap_filter.h"

namespace netshoot::applet::monitor {

namespace {

using namespace flows;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
std::atomic<bool> g_winch{false};

void on_stop(int) { g_stop.store(true); }
void on_winch(int) { g_winch.store(true); }

void install_signals(bool live) {
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  if (live) {
    struct sigaction sw {};
    sw.sa_handler = on_winch;
    sigemptyset(&sw.sa_mask);
    sigaction(SIGWINCH, &sw, nullptr);
  }
}

bool write_all(int fd, const std::string& s) {
  const char* p = s.data();
  size_t n = s.size();
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += k, n -= size_t(k);
  }
  return true;
}

// The interface's MAC and addresses ("any": every interface's addresses, no MAC).
LocalAddrs local_addrs(const std::string& iface) {
  LocalAddrs l;
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return l;
  bool any = iface == "any";
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || (!any && iface != i->ifa_name)) continue;
    int fam = i->ifa_addr->sa_family;
    if (fam == AF_INET) {
      std::array<uint8_t, 4> a;
      std::memcpy(a.data(), &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
      l.v4.push_back(a);
    } else if (fam == AF_INET6) {
      std::array<uint8_t, 16> a;
      std::memcpy(a.data(), &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, 16);
      l.v6.push_back(a);
    } else if (fam == AF_PACKET && !any) {
      auto* ll = reinterpret_cast<sockaddr_ll*>(i->ifa_addr);
      if (ll->sll_halen == 6) {
        std::array<uint8_t, 6> m;
        std::memcpy(m.data(), ll->sll_addr, 6);
        l.mac = m;
      }
    }
  }
  freeifaddrs(list);
  return l;
}

std::string default_device() {
  auto devs = core::list_devices();
  if (!devs) return {};
  for (const auto& d : *devs)
    if (d.up && !d.loopback && d.name != "any" && if_nametoindex(d.name.c_str()) != 0) return d.name;
  return {};
}

void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* data) {
  reinterpret_cast<FlowTable*>(user)->add_frame(data, h->caplen);
}

enum class Mode { text, json, live };

}  // namespace

int run_flows(Context& ctx, int argc, char** argv) {
  std::string prog = ctx.invoked_as == "iftop" ? "iftop" : "monitor flows";
  FlowOptions o;
  if (auto p = parse_flow_args(argc, argv, o); !p.ok) {
    std::fprintf(stderr, "%s: %s (see '%s --help')\n", prog.c_str(), p.error.c_str(), prog.c_str());
    return kExitUsage;
  }
  if (o.help) {
    std::fputs(flows_usage(prog).c_str(), stdout);
    return kExitOk;
  }
  if (ctx.json) o.json = true;
  Mode mode = o.json ? Mode::json : (o.text || o.seconds > 0 || !isatty(STDOUT_FILENO)) ? Mode::text : Mode::live;

  if (o.iface.empty()) o.iface = default_device();
  if (o.iface.empty()) {
    std::fprintf(stderr, "%s: no interface to listen on (give one with -i)\n", prog.c_str());
    return kExitFailure;
  }
  if (o.iface != "any" && if_nametoindex(o.iface.c_str()) == 0) {
    std::fprintf(stderr, "%s: unknown interface '%s'\n", prog.c_str(), o.iface.c_str());
    return kExitFailure;
  }
  LocalAddrs local = local_addrs(o.iface);

  core::LiveOptions lo;
  lo.snaplen = 128;  // link header, IPv6 with extension headers, the port numbers
  lo.promisc = o.promisc;
  lo.timeout_ms = 100;
  lo.buffer_bytes = 8 << 20;
  auto h = core::open_live(o.iface, lo);
  if (!h) {
    std::fprintf(stderr, "%s: %s\n", prog.c_str(), h.error().message().c_str());
    return kExitFailure;
  }
  core::PcapHandle handle = std::move(*h);
  if (o.iface == "any") (void)core::set_datalink(handle.get(), DLT_LINUX_SLL2);
  // Host and port names through our resolver and services table (no NSS here).
  std::string filter = o.filter;
  if (!filter.empty()) {
    auto f = core::resolve_filter_names(filter, core::filter_host_lookup);
    if (!f) {
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), f.error().message().c_str());
      return kExitFailure;
    }
    filter = *f;
  }
  std::string expr = filter.empty() ? "ip or ip6" : "(" + filter + ") and (ip or ip6)";
  if (auto st = core::set_filter(handle.get(), expr); !st) {
    std::string m = st.error().message();
    if (auto p = m.find("': "); p != std::string::npos) m = m.substr(p + 3);
    std::fprintf(stderr, "%s: bad filter '%s': %s\n", prog.c_str(), o.filter.c_str(), m.c_str());
    return kExitFailure;
  }
  char errbuf[PCAP_ERRBUF_SIZE];
  if (pcap_setnonblock(handle.get(), 1, errbuf) != 0) {
    std::fprintf(stderr, "%s: %s\n", prog.c_str(), errbuf);
    return kExitFailure;
  }
  int pfd = pcap_get_selectable_fd(handle.get());

  FlowTable table(local, pcap_datalink(handle.get()));
  table.set_count_link_local(o.link_local);

  std::unique_ptr<AsyncNames> names;
  bool show_names = !o.numeric, show_services = !o.no_services;
  Labels labels;
  labels.host = [&](const core::IpAddr& a) {
    if (!show_names) return a.to_string();
    if (!names) names = std::make_unique<AsyncNames>();
    return names->name(a);
  };
  labels.service = [&](uint16_t port, uint8_t proto) -> std::string {
    if (!show_services || (proto != 6 && proto != 17)) return {};
    return std::string(core::netbase_service_name(port, proto == 17 ? core::L4Proto::udp : core::L4Proto::tcp));
  };

  if (mode == Mode::text && !ctx.quiet) {
    std::string banner = "interface: " + o.iface + "\n";
    if (!local.v4.empty() && o.iface != "any")
      banner += "IP address is: " + core::IpAddr::from_bytes({local.v4[0].data(), 4}).to_string() + "\n";
    for (const auto& a : local.v6) {
      if (o.iface == "any") break;
      if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) continue;
      banner += "IPv6 address is: " + core::IpAddr::from_bytes({a.data(), 16}).to_string() + "\n";
      break;
    }
    if (local.mac) {
      char m[32];
      const auto& x = *local.mac;
      std::snprintf(m, sizeof m, "%02x:%02x:%02x:%02x:%02x:%02x", x[0], x[1], x[2], x[3], x[4], x[5]);
      banner += std::string("MAC address is: ") + m + "\n";
    }
    write_all(STDERR_FILENO, banner);
  }
  if (mode == Mode::text) write_all(STDOUT_FILENO, "Listening on " + o.iface + "\n");

  std::unique_ptr<LiveTerminal> term;
  ScreenOptions so;
  so.iface = o.iface, so.ports = o.ports, so.names = show_names, so.bytes = o.bytes, so.bars = !o.no_bars;
  so.sort = o.sort;
  if (mode == Mode::live) term = std::make_unique<LiveTerminal>();

  g_stop.store(false);
  install_signals(mode == Mode::live);
  auto start = Clock::now();
  auto next_tick = start + std::chrono::seconds(kResolution);
  int ticks = 0;
  int rc = kExitOk;
  Report last, by_host, by_port;  // live view: what is shown, and the last slot's two aggregations
  bool redraw = mode == Mode::live;
  auto draw = [&] {
    int rows, cols;
    LiveTerminal::size(rows, cols);
    so.names = show_names, so.bytes = o.bytes;
    LiveTerminal::draw(render_screen(last, labels, so, rows, cols));
    so.status.clear();
  };

  while (!g_stop.load()) {
    auto now = Clock::now();
    if (now >= next_tick) {
      ++ticks;
      ReportOptions ro;
      ro.ports = mode == Mode::live ? so.ports : o.ports;
      ro.sort = mode == Mode::live ? so.sort : o.sort;
      Report r = table.analyse(ro);
      int elapsed = ticks * kResolution;
      bool due = o.seconds == 0 || elapsed >= o.seconds;
      if (!due && show_names) {
        // Ask for the names now, so that they are known when the report is due.
        size_t k = 0;
        for (const auto& l : r.lines) {
          if (++k > 200) break;
          labels.host(key_addr(l.key, true)), labels.host(key_addr(l.key, false));
        }
      }
      if (mode == Mode::text && due) {
        TextOptions to;
        to.bytes = o.bytes, to.max_lines = o.max_lines;
        if (!write_all(STDOUT_FILENO, text_report(r, labels, to))) break;
      } else if (mode == Mode::json && due) {
        // One object per report, in the JSON sink's shape ({"type":"flows",...}), written
        // here so that a closed pipe (iftop --json | head -1) ends the program.
        core::Json j;
        j["type"] = "flows";
        j["interface"] = o.iface;
        j["elapsed"] = elapsed;
        core::Json body = json_report(r, labels, o.ports, show_names, o.max_lines);
        for (auto it = body.begin(); it != body.end(); ++it) j[it.key()] = std::move(it.value());
        j["packets"] = table.packets();
        pcap_stat st{};
        if (pcap_stats(handle.get(), &st) == 0) j["kernel_drops"] = st.ps_drop;
        if (!write_all(STDOUT_FILENO, j.dump(-1, ' ', false, core::Json::error_handler_t::replace) + "\n")) break;
      } else if (mode == Mode::live && !so.paused) {
        // Both aggregations of this slot, so that 'p' switches without a half-filled slot.
        ReportOptions other = ro;
        other.ports = !ro.ports;
        (so.ports ? by_port : by_host) = std::move(r);
        (so.ports ? by_host : by_port) = table.analyse(other);
        last = so.ports ? by_port : by_host;
        redraw = true;
      }
      table.rotate();
      next_tick += std::chrono::seconds(kResolution);
      if (o.seconds > 0 && due) break;
      continue;
    }
    if (mode == Mode::live) {
      for (int key; (key = LiveTerminal::read_key()) >= 0;) {
        switch (key) {
          case 'q': g_stop.store(true); break;
          case 'p': so.ports = !so.ports, so.status = so.ports ? "ports shown" : "ports hidden"; break;
          case 'n': show_names = !show_names, so.status = show_names ? "DNS resolution is ON" : "DNS resolution is OFF"; break;
          case 'N': show_services = !show_services; break;
          case 'b': so.bars = !so.bars; break;
          case 'B': o.bytes = !o.bytes; break;
          case 'P': so.paused = !so.paused; break;
          case '1': so.sort = SortBy::two; break;
          case '2': so.sort = SortBy::ten; break;
          case '3': so.sort = SortBy::forty; break;
          case '<': so.sort = SortBy::source; break;
          case '>': so.sort = SortBy::destination; break;
          default: continue;
        }
        if (key != 'q') {
          if (key == 'p') last = so.ports ? by_port : by_host;
          sort_lines(last.lines, so.sort);
          redraw = true;
        }
      }
      if (g_winch.exchange(false)) redraw = true;
      if (redraw && !g_stop.load()) draw(), redraw = false;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now()).count();
    if (wait < 0) wait = 0;
    if (wait > 200) wait = 200;
    struct pollfd fds[2] = {{pfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int nfds = mode == Mode::live && isatty(STDIN_FILENO) ? 2 : 1;  // keys only from a terminal
    if (pfd >= 0) (void)poll(fds, nfds_t(nfds), int(wait));
    else (void)poll(fds + 1, nfds_t(nfds - 1), int(wait));
    int n = pcap_dispatch(handle.get(), -1, on_packet, reinterpret_cast<u_char*>(&table));
    if (n == PCAP_ERROR) {
      term.reset();
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), pcap_geterr(handle.get()));
      rc = kExitFailure;
      break;
    }
  }
  term.reset();
  return rc;
}

}  // namespace netshoot::applet::monitor

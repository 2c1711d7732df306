// capture / tcpdump / ngrep: entry point. Opens the source (live or file),
// resolves names in the filter, runs the packet loop, writes and prints, and on
// SIGINT/SIGTERM leaves a complete file and prints tcpdump's closing counts.
#include <net/if.h>
#include <regex.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <memory>

#include "netshoot/applet.h"
#include "netshoot/caps.h"
#include "netshoot/output.h"
#include "netshoot/packet.h"
#include "netshoot/pcap.h"
#include "netshoot/pcap_filter.h"
#include "options.h"
#include "printer.h"
#include "writer.h"

namespace netshoot::applet::capture {

namespace {

pcap_t* g_handle = nullptr;
std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop.store(true);
  if (g_handle) pcap_breakloop(g_handle);
}

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool write_fd(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t k = ::write(fd, s.data(), s.size());
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    s.remove_prefix(size_t(k));
  }
  return true;
}

struct Session {
  const Options* o = nullptr;
  std::string prog;
  Printer* printer = nullptr;
  Buf out;
  Buf line;  // scratch for --json / --grep
  std::unique_ptr<RotatingWriter> writer;
  std::unique_ptr<core::Output> json;
  regex_t re{};
  bool have_re = false;
  long captured = 0;  // packets accepted (printed or written)
  long seen = 0;      // packets the filter let through (ngrep numbering)
  bool live = false;
  bool failed = false;
  bool print = true;
  std::string error;

  void flush_out() {
    if (!out.size()) return;
    if (!write_fd(STDOUT_FILENO, out.view()) && errno == EPIPE) {
      // The reader went away (tcpdump ... | head): stop like tcpdump does.
      g_stop.store(true);
      if (g_handle) pcap_breakloop(g_handle);
    }
    out.clear();
  }

  bool grep_match(Bytes payload) {
    if (!have_re) return true;
    regmatch_t m[1];
    m[0].rm_so = 0, m[0].rm_eo = regoff_t(payload.size());
    static const char kEmpty[1] = {0};
    const char* s = payload.empty() ? kEmpty : reinterpret_cast<const char*>(payload.data());
    return regexec(&re, s, 1, m, REG_STARTEND) == 0;
  }

  void ngrep_print(const Printer& p) {
    const PacketSummary& s = p.summary();
    char kind = s.l4 && s.l4[0] == 't' ? 'T' : s.l4 && s.l4[0] == 'u' ? 'U' : s.l4 ? 'I' : '?';
    out.put('\n'), out.put(kind), out.put(' ');
    auto ep = [&](const uint8_t* a, uint16_t port) {
      if (s.family == 4) out.ip4(a);
      else if (s.family == 6) out.ip6(a);
      if (s.has_ports) out.put(':'), out.u(port);
    };
    ep(s.src, s.sport), out.put(" -> "), ep(s.dst, s.dport);
    if (kind == 'T') {
      out.put(" [");
      static const struct { uint8_t bit; char c; } kF[] = {{0x20, 'U'}, {0x10, 'A'}, {0x08, 'P'}, {0x04, 'R'}, {0x02, 'S'}, {0x01, 'F'}};
      for (auto f : kF)
        if (s.tcp_flags & f.bit) out.put(f.c);
      out.put(']');
    }
    out.put(" #"), out.u(uint64_t(seen)), out.put('\n');
    if (o->ngrep_byline) {
      for (uint8_t c : s.payload) out.put(c == '\n' ? '\n' : (c >= 0x20 && c < 0x7f) ? char(c) : '.');
      out.put('\n');
    } else {
      out.put("  ");
      for (uint8_t c : s.payload) out.put((c >= 0x20 && c < 0x7f) ? char(c) : '.');
      out.put('\n');
    }
  }

  // --json: one object per packet.
  //   {"type":"packet","time":1700000000.123456,"caplen":98,"len":98,
  //    "layers":[{"layer":"ethernet",...},{"layer":"ipv4",...},{"layer":"icmp",...}],
  //    "payload_length":56,"summary":"IP 10.0.0.1 > 10.0.0.2: ICMP echo request, ..."}
  // Layers are outermost first; a tunnel's inner frame follows its vxlan/geneve/gre
  // layer; an ICMP error's quoted datagram is the icmp layer's "quoted" array.
  void json_print(const pcap_pkthdr& h, const Printer& p, std::string_view text) {
    core::Json j;
    char ts[32];
    std::snprintf(ts, sizeof ts, "%lld.%06ld", static_cast<long long>(h.ts.tv_sec), static_cast<long>(h.ts.tv_usec));
    j["time"] = core::Json::parse(ts);
    j["caplen"] = h.caplen;
    j["len"] = h.len;
    j["layers"] = p.layers();
    j["payload_length"] = p.summary().payload.size();
    j["summary"] = std::string(text);
    json->record("packet", j, text);
  }

  // Returns false to stop the loop.
  bool handle(const pcap_pkthdr& h, const uint8_t* data) {
    ++seen;
    bool need_decode = print || have_re || json;
    size_t mark = out.size();
    if (need_decode) {
      if (json || o->ngrep) {
        line.clear();
        printer->decode_only(data, h.caplen, h.len, line);
      } else {
        printer->packet(h, data, out);
      }
      if (!grep_match(printer->summary().payload)) {
        out.truncate(mark);
        return true;
      }
      if (json) json_print(h, *printer, line.view());
      else if (o->ngrep && print) ngrep_print(*printer);
      else if (!print) out.truncate(mark);
    }
    if (writer) {
      bool done = false;
      auto st = writer->write(h, data, done);
      if (!st) {
        error = st.error().message(), failed = true;
        return false;
      }
      if (done) return false;
      if (o->packet_buffered) {
        if (auto f = writer->flush(); !f) {
          error = f.error().message(), failed = true;
          return false;
        }
      }
    }
    ++captured;
    if (o->line_buffered || o->packet_buffered || out.size() > 65536) flush_out();
    if (g_stop.load()) return false;
    if (json && (o->line_buffered || o->packet_buffered)) json->flush();
    return !(o->count > 0 && captured >= o->count);
  }
};

void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* data) {
  auto* s = reinterpret_cast<Session*>(user);
  if (!s->handle(*h, data)) pcap_breakloop(g_handle);
}

std::string plural(long n, const char* what) {
  return std::to_string(n) + " packet" + (n == 1 ? "" : "s") + " " + what + "\n";
}

int list_interfaces(const std::string& prog) {
  auto devs = core::list_devices();
  if (!devs) {
    std::fprintf(stderr, "%s: %s\n", prog.c_str(), devs.error().message().c_str());
    return 1;
  }
  int i = 0;
  std::string out;
  for (const auto& d : *devs) {
    out += std::to_string(++i) + "." + d.name;
    if (!d.description.empty()) out += " (" + d.description + ")";
    std::string f;
    if (d.up) f += "Up";
    if (d.running) f += std::string(f.empty() ? "" : ", ") + "Running";
    if (d.loopback) f += std::string(f.empty() ? "" : ", ") + "Loopback";
    out += " [" + (f.empty() ? std::string("none") : f) + "]\n";
  }
  write_fd(STDOUT_FILENO, out);
  return 0;
}

std::string default_device() {
  auto devs = core::list_devices();
  if (!devs) return {};
  for (const auto& d : *devs)
    if (d.up && !d.loopback && d.name != "any" && if_nametoindex(d.name.c_str()) != 0) return d.name;
  return {};
}

}  // namespace

int run(Context& ctx, int argc, char** argv) {
  Options o;
  std::string invoked = argc > 0 ? std::string(argv[0]) : "tcpdump";
  if (auto sl = invoked.rfind('/'); sl != std::string::npos) invoked = invoked.substr(sl + 1);
  bool ngrep = invoked == "ngrep";
  std::string prog = ngrep ? "ngrep" : "tcpdump";
  ParseResult pr = ngrep ? parse_ngrep_args(argc, argv, o) : parse_tcpdump_args(argc, argv, o);
  if (!pr.ok) {
    std::fprintf(stderr, "%s: %s\n%s", prog.c_str(), pr.error.c_str(), usage_text(invoked).c_str());
    return kExitUsage;
  }
  if (o.help) {
    std::fputs(usage_text(invoked).c_str(), stdout);
    return 0;
  }
  if (ctx.json) o.json = true;
  if (o.list_ifaces) return list_interfaces(prog);

  // Filter: resolve host and port names with our resolver first.
  std::string filter = o.filter;
  if (!filter.empty()) {
    auto f = core::resolve_filter_names(filter, core::filter_host_lookup);
    if (!f) {
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), f.error().message().c_str());
      return 1;
    }
    filter = *f;
  }

  core::PcapHandle handle;
  bool live = o.read_file.empty();
  if (live) {
    if (o.iface.empty()) o.iface = default_device();
    if (o.iface.empty()) {
      std::fprintf(stderr, "%s: no suitable device found\n", prog.c_str());
      return 1;
    }
    if (o.iface != "any" && if_nametoindex(o.iface.c_str()) == 0) {
      std::fprintf(stderr, "%s: %s: No such device exists\n(No such device exists)\n", prog.c_str(), o.iface.c_str());
      return 1;
    }
    core::LiveOptions lo;
    lo.snaplen = o.snaplen;
    lo.promisc = o.promisc;
    lo.immediate = o.immediate || ngrep;
    lo.timeout_ms = 100;
    lo.buffer_bytes = o.buffer_kib > 0 ? int(o.buffer_kib * 1024) : 4 * 1024 * 1024;
    auto h = core::open_live(o.iface, lo);
    if (!h) {
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), h.error().message().c_str());
      return 1;
    }
    handle = std::move(*h);
    if (o.iface == "any") (void)core::set_datalink(handle.get(), DLT_LINUX_SLL2);  // tcpdump's choice
    if (!o.direction.empty()) {
      if (auto st = core::set_direction(handle.get(), o.direction); !st) {
        std::fprintf(stderr, "%s: %s\n", prog.c_str(), st.error().message().c_str());
        return 1;
      }
    }
  } else {
    auto h = core::open_offline(o.read_file);
    if (!h) {
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), h.error().message().c_str());
      return 1;
    }
    handle = std::move(*h);
  }
  int linktype = pcap_datalink(handle.get());
  int snaplen = pcap_snapshot(handle.get());
  if (!filter.empty()) {
    if (auto st = core::set_filter(handle.get(), filter); !st) {
      std::string m = st.error().message();
      if (auto p = m.find("': "); p != std::string::npos) m = m.substr(p + 3);
      std::fprintf(stderr, "%s: can't parse filter expression: %s\n", prog.c_str(), m.c_str());
      return 1;
    }
  }
  // The capture socket is open and filtered: no further need for CAP_NET_RAW/NET_ADMIN.
  if (live) core::drop_network_capabilities();

  Session s;
  s.o = &o;
  s.prog = prog;
  s.live = live;
  s.print = o.write_file.empty() || (!o.grep.empty() && ngrep);
  if (!o.grep.empty()) {
    int flags = REG_EXTENDED | REG_NOSUB | (o.grep_icase ? REG_ICASE : 0);
    if (int rc = regcomp(&s.re, o.grep.c_str(), flags); rc != 0) {
      char msg[256];
      regerror(rc, &s.re, msg, sizeof msg);
      std::fprintf(stderr, "%s: bad regex '%s': %s\n", prog.c_str(), o.grep.c_str(), msg);
      return kExitUsage;
    }
    s.have_re = true;
  }
  PrintOptions po;
  po.numeric = o.numeric;
  std::unique_ptr<HostNames> host_names;
  if (o.numeric == 0 && (s.print || o.json)) {
    HostNames::Config hc;
    hc.strip_domain = o.strip_domain;
    host_names = std::make_unique<HostNames>(hc);
    po.hosts = host_names.get();
  }
  po.verbose = o.verbose;
  po.link_header = o.link_header;
  po.hex = o.hex, po.hex_ascii = o.hex_ascii, po.ascii = o.ascii;
  po.quiet = o.quiet && !o.ngrep;
  po.ts = o.ts;
  Printer printer(po, linktype);
  printer.collect_layers(o.json);
  s.printer = &printer;
  if (o.json) {
    s.json = core::Output::make(true, stdout);
    s.json->set_batch(!(o.line_buffered || o.packet_buffered));
  }
  if (!o.write_file.empty()) {
    s.writer = std::make_unique<RotatingWriter>();
    RotatingWriter::Config wc;
    wc.base = o.write_file, wc.linktype = linktype, wc.snaplen = snaplen;
    wc.rotate_mbytes = o.rotate_mbytes, wc.rotate_seconds = o.rotate_seconds, wc.file_limit = o.file_limit;
    if (auto st = s.writer->open(wc, ::time(nullptr)); !st) {
      std::fprintf(stderr, "%s: %s\n", prog.c_str(), st.error().message().c_str());
      return 1;
    }
  }

  // Banners on stderr, as tcpdump prints them.
  std::string lt = linktype_banner(linktype);
  if (!ctx.quiet) {
    std::string banner;
    if (live) {
      if (ngrep) {
        banner = "interface: " + o.iface + "\n";
        if (!filter.empty()) banner += "filter: ( " + filter + " )\n";
        if (!o.grep.empty()) banner += "match: " + o.grep + "\n";
      } else {
        if (o.write_file.empty() && !o.verbose && !o.json)
          banner = prog + ": verbose output suppressed, use -v[v]... for full protocol decode\n";
        banner += (o.write_file.empty() ? "" : prog + ": ") + "listening on " + o.iface + ", link-type " + lt +
                  ", snapshot length " + std::to_string(snaplen) + " bytes\n";
      }
    } else if (!ngrep) {
      banner = "reading from file " + o.read_file + ", link-type " + lt + ", snapshot length " + std::to_string(snaplen) + "\n";
      if (linktype == DLT_LINUX_SLL2) banner += "Warning: interface names might be incorrect\n";
    }
    write_fd(STDERR_FILENO, banner);
  }

  g_handle = handle.get();
  install_signals();
  int rc = 0;
  while (!g_stop.load()) {
    int n = pcap_dispatch(handle.get(), -1, on_packet, reinterpret_cast<u_char*>(&s));
    if (s.failed || (o.count > 0 && s.captured >= o.count)) break;
    if (n == PCAP_ERROR_BREAK) break;
    if (n == PCAP_ERROR) {
      s.flush_out();
      std::fprintf(stderr, "%s: pcap_loop: %s\n", prog.c_str(), pcap_geterr(handle.get()));
      rc = 1;
      break;
    }
    if (n == 0 && !live) break;  // end of file
    if (live) s.flush_out();
  }
  // Interrupted: packets the kernel already accepted still sit in the ring (a block
  // is handed over after the 100 ms timeout); take them too, so the file holds what
  // "received by filter" counts.
  if (live && g_stop.load() && !s.failed && !(o.count > 0 && s.captured >= o.count)) {
    char eb[PCAP_ERRBUF_SIZE];
    if (pcap_setnonblock(handle.get(), 1, eb) == 0) {
      for (int round = 0; round < 25; ++round) {
        int n = pcap_dispatch(handle.get(), -1, on_packet, reinterpret_cast<u_char*>(&s));
        if (n < 0 || s.failed || (o.count > 0 && s.captured >= o.count)) break;
        pcap_stat st{};
        if (pcap_stats(handle.get(), &st) == 0 && long(st.ps_recv) <= s.seen) break;
        usleep(10000);
      }
    }
  }
  s.flush_out();
  if (s.json) s.json->flush();
  if (s.writer) {
    auto st = s.writer->close();
    if (!st && !s.failed) s.failed = true, s.error = st.error().message();
  }
  if (s.failed) {
    std::fprintf(stderr, "%s: %s\n", prog.c_str(), s.error.c_str());
    rc = 1;
  }
  if (live && !ngrep) {
    pcap_stat st{};
    std::string counts = plural(s.captured, "captured");
    if (pcap_stats(handle.get(), &st) == 0) {
      counts += plural(long(st.ps_recv), "received by filter");
      counts += plural(long(st.ps_drop), "dropped by kernel");
    }
    write_fd(STDERR_FILENO, counts);
  }
  g_handle = nullptr;
  if (s.have_re) regfree(&s.re);
  return rc;
}

}  // namespace netshoot::applet::capture

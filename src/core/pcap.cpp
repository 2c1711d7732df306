#include "netshoot/pcap.h"

#include <cstdio>

namespace netshoot::core {

namespace {
Error pcap_err(std::string context, const char* msg) {
  Error e = make_error(std::move(context) + ": " + msg);
  return e;
}
}  // namespace

Result<PcapHandle> open_live(const std::string& iface, const LiveOptions& opts) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle p(pcap_create(iface.c_str(), errbuf));
  if (!p) return pcap_err(iface, errbuf);
  pcap_set_snaplen(p.get(), opts.snaplen);
  pcap_set_promisc(p.get(), opts.promisc ? 1 : 0);
  pcap_set_timeout(p.get(), opts.timeout_ms);
  if (opts.immediate) pcap_set_immediate_mode(p.get(), 1);
  if (opts.buffer_bytes > 0) pcap_set_buffer_size(p.get(), opts.buffer_bytes);
  int rc = pcap_activate(p.get());
  if (rc < 0) {
    Error e = make_error(iface + ": " + pcap_geterr(p.get()));
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) e.context = "unknown interface '" + iface + "'";
    if (rc == PCAP_ERROR_PERM_DENIED) {
      e.context = iface + ": permission denied";
      e.hint = "needs CAP_NET_RAW";
    }
    return e;
  }
  return p;
}

Result<PcapHandle> open_offline(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  PcapHandle p(pcap_open_offline(path.c_str(), errbuf));
  if (!p) return pcap_err(path, errbuf);
  return p;
}

Result<PcapHandle> open_dead(int linktype, int snaplen) {
  PcapHandle p(pcap_open_dead(linktype, snaplen));
  if (!p) return make_error("pcap_open_dead: out of memory");
  return p;
}

Status set_filter(pcap_t* p, const std::string& expr, bool optimize) {
  if (expr.empty()) return {};
  bpf_program prog{};
  if (pcap_compile(p, &prog, expr.c_str(), optimize ? 1 : 0, PCAP_NETMASK_UNKNOWN) != 0)
    return make_error("bad filter expression '" + expr + "': " + pcap_geterr(p));
  int rc = pcap_setfilter(p, &prog);
  pcap_freecode(&prog);
  if (rc != 0) return make_error(std::string("cannot install filter: ") + pcap_geterr(p));
  return {};
}

Status validate_filter(pcap_t* p, const std::string& expr) {
  bpf_program prog{};
  if (pcap_compile(p, &prog, expr.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0)
    return make_error("bad filter expression '" + expr + "': " + pcap_geterr(p));
  pcap_freecode(&prog);
  return {};
}

Result<PcapDumper> open_dumper(pcap_t* p, const std::string& path) {
  PcapDumper d(pcap_dump_open(p, path.c_str()));
  if (!d) return make_error(path + ": " + pcap_geterr(p));
  return d;
}

Status flush_dumper(pcap_dumper_t* d) {
  if (pcap_dump_flush(d) != 0) return os_error("flush pcap file");
  return {};
}

Result<std::vector<PcapDevice>> list_devices() {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_if_t* all = nullptr;
  if (pcap_findalldevs(&all, errbuf) != 0) return pcap_err("pcap_findalldevs", errbuf);
  std::vector<PcapDevice> out;
  for (pcap_if_t* d = all; d; d = d->next) {
    PcapDevice dev;
    dev.name = d->name;
    if (d->description) dev.description = d->description;
    dev.up = d->flags & PCAP_IF_UP;
    dev.running = d->flags & PCAP_IF_RUNNING;
    dev.loopback = d->flags & PCAP_IF_LOOPBACK;
    out.push_back(std::move(dev));
  }
  pcap_freealldevs(all);
  return out;
}

Status set_direction(pcap_t* p, const std::string& dir) {
  pcap_direction_t d = dir == "in" ? PCAP_D_IN : dir == "out" ? PCAP_D_OUT : PCAP_D_INOUT;
  if (pcap_setdirection(p, d) != 0) return make_error(std::string("pcap_setdirection: ") + pcap_geterr(p));
  return {};
}

Status set_datalink(pcap_t* p, int dlt) {
  if (pcap_set_datalink(p, dlt) != 0) return make_error(std::string("pcap_set_datalink: ") + pcap_geterr(p));
  return {};
}

}  // namespace netshoot::core

// libpcap handles that own themselves. Applets reach libpcap only through here.
#pragma once

#include <pcap/pcap.h>

#include <memory>
#include <string>
#include <vector>

#include "netshoot/result.h"

namespace netshoot::core {

struct PcapCloser {
  void operator()(pcap_t* p) const noexcept { if (p) pcap_close(p); }
};
struct PcapDumperCloser {
  // pcap_dump_close flushes the stdio buffer and closes the file.
  void operator()(pcap_dumper_t* d) const noexcept { if (d) pcap_dump_close(d); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;
using PcapDumper = std::unique_ptr<pcap_dumper_t, PcapDumperCloser>;

struct LiveOptions {
  int snaplen = 262144;
  bool promisc = true;
  bool immediate = false;
  int timeout_ms = 100;
  int buffer_bytes = 0;  // 0: libpcap's default
};

// Open a live capture on IFACE ("any" for every interface). Unknown interfaces and
// missing privilege come back as one-line errors naming the cause.
Result<PcapHandle> open_live(const std::string& iface, const LiveOptions& opts);
// Read a pcap or pcapng file ("-" for stdin).
Result<PcapHandle> open_offline(const std::string& path);
// A handle for compiling filters and writing files without an interface.
Result<PcapHandle> open_dead(int linktype, int snaplen);
// Compile and install a BPF filter expression (empty: no filter).
Status set_filter(pcap_t* p, const std::string& expr, bool optimize = true);
// Compile only (works on a dead handle): is EXPR a valid filter for p's link type?
Status validate_filter(pcap_t* p, const std::string& expr);
// Open a dump file for p's link type and snaplen ("-" for stdout).
Result<PcapDumper> open_dumper(pcap_t* p, const std::string& path);
// Flush a dumper to the kernel (stdio buffer and file). Used on -U and on signals.
Status flush_dumper(pcap_dumper_t* d);

struct PcapDevice {
  std::string name;
  std::string description;
  bool up = false, running = false, loopback = false;
};
Result<std::vector<PcapDevice>> list_devices();

// Capture direction of a live handle: "in", "out" or "inout" (tcpdump -Q).
Status set_direction(pcap_t* p, const std::string& dir);
// Switch the link-layer header type (e.g. "any" to LINUX_SLL2, as tcpdump does).
Status set_datalink(pcap_t* p, int dlt);

}  // namespace netshoot::core

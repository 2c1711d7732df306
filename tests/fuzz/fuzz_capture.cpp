// Decodes and prints arbitrary frames through the capture applet's decoders, for
// every link type it handles. Byte 0 picks the link type (and, above the six link
// types, whether the --json layers are collected too), byte 1 the print flags
// (-v levels, -e, -x/-X/-A, -n); the rest is the captured frame, with the wire
// length claimed to be larger than captured when byte 1's top bit is set.
//
// The fuzz targets link only netshoot_core, so the decoder sources are compiled in
// here (CMake: linking netshoot_applets into tests/fuzz would remove the need).
#include <cstddef>
#include <cstdint>

#include "applets/capture/printer.h"

using namespace netshoot::applet::capture;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const int kLinks[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4, DLT_IPV6};
  int dlt = kLinks[data[0] % 6];
  uint8_t f = data[1];
  PrintOptions o;
  o.verbose = f & 3;
  o.link_header = f & 4;
  o.hex = (f >> 3) & 1;
  o.hex_ascii = (f >> 4) & 1;
  o.ascii = (f >> 5) & 1;
  o.numeric = (f >> 6) & 1 ? 2 : 0;
  static Buf out;
  out.clear();
  Printer p(o, dlt);
  p.collect_layers((data[0] / 6) & 1);
  pcap_pkthdr h{};
  h.caplen = uint32_t(size - 2);
  h.len = h.caplen + ((f & 0x80) ? 1000 : 0);
  // Twice: the second run sees the TCP sequence state the first one left.
  p.packet(h, data + 2, out);
  p.packet(h, data + 2, out);
  return 0;
}

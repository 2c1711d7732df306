// monitor flows / iftop: a Report as text (iftop 1.0's -t output, byte for byte in
// its layout) and as one JSON object.
#pragma once

#include <functional>
#include <string>

#include "flows_table.h"
#include "netshoot/addr.h"
#include "netshoot/output.h"

namespace netshoot::applet::monitor::flows {

struct Labels {
  // Host column text for an address (numeric, or a resolved name).
  std::function<std::string(const core::IpAddr&)> host;
  // Service name of a port ("" for the number), used with -P unless -N.
  std::function<std::string(uint16_t port, uint8_t proto)> service;
};

struct TextOptions {
  bool bytes = false;  // -B: rates in bytes
  size_t max_lines = 0;  // -L: 0 = all
};

core::IpAddr key_addr(const FlowKey& k, bool src);

// The -t block: heading, line pairs, totals, peak and cumulative, "=" rule, blank line.
std::string text_report(const Report& r, const Labels& labels, const TextOptions& opts);

// {"interface":..., "flows":[...], "totals":{...}, "peak_bps":{...}, "cumulative_bytes":{...}}
// Rates in bits per second, sizes in bytes, addresses numeric (names under "src_name"/"dst_name").
core::Json json_report(const Report& r, const Labels& labels, bool ports, bool names, size_t max_lines);

}  // namespace netshoot::applet::monitor::flows

// Parses arbitrary bytes as a DNS message and formats everything in it; a parsed
// message must also re-encode and parse again.
#include <cstddef>
#include <cstdint>
#include <string>

#include "netshoot/dns.h"

using namespace netshoot::core::dns;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  (void)parse_header(in);
  auto m = parse_message(in);
  if (!m) {
    (void)m.error().message();
    return 0;
  }
  size_t total = 0;
  for (const auto& q : m->questions) total += format_question(q).size();
  for (const auto* sec : {&m->answers, &m->authority, &m->additional})
    for (const auto& rr : *sec) {
      total += format_record(rr).size();
      ResourceRecord raw = rr;  // RFC 3597 form of the same bytes
      raw.data = RdataUnknown{};
      total += format_rdata(raw).size();
    }
  if (m->edns) {
    total += format_edns(*m->edns).size();
    for (const auto& o : m->edns->options) total += format_edns_option(o).size();
  }
  total += rcode_to_string(m->header.rcode).size() + opcode_to_string(m->header.opcode).size();
  // Re-encode: names that came out of the parser must encode again, and what we
  // build must parse.
  auto again = build_message(*m);
  if (again) {
    auto back = parse_message(*again);
    if (!back) __builtin_trap();
    if (back->answers.size() != m->answers.size() || back->questions.size() != m->questions.size())
      __builtin_trap();
  }
  return total == 0xFFFFFFFF;  // keep `total` alive
}
